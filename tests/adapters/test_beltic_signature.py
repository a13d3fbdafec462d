"""Beltic webhook verification (docs/vendors/beltic.md, Webhooks and signature): the
X-Webhook-Signature "is generated using an HMAC-SHA256 of the request body signed with your
webhook secret", and X-Webhook-Token is compared
(https://docs.beltic.com/guides/managing-webhooks). What every vendor shares is in
`webhook_conformance`."""

from __future__ import annotations

import json
from typing import Any

import pytest

import adapters.beltic.signature as beltic_signature
from adapters.base import WebhookRejectReason
from adapters.beltic.signature import BelticScheme, canonical_json
from tests.adapters.webhook_conformance import (
    UNSIGNED,
    Verifier,
    WebhookVerificationConformance,
    spy_on_parsing,
)
from tests.support.signing.beltic import SECRET, TOKEN, sign_webhook

SESSION_ID = "9b2e4f6a-1c3d-4e5f-8a7b-0c1d2e3f4a5b"


def document_event(**attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "document/idv",
            "id": "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a",
            "attributes": {"status": "processed", **attributes},
            "relationships": {"session": {"data": {"type": "session", "id": SESSION_ID}}},
        }
    }


def verifier(token: str | None = None) -> Verifier:
    return Verifier(BelticScheme(token=token), SECRET)


def verify(raw: bytes, headers: dict[str, str], token: str | None = None) -> dict[str, Any]:
    return verifier(token)(raw, headers)


def rejected(
    raw: bytes, headers: dict[str, str], *, secret: str = SECRET, token: str | None = None
) -> WebhookRejectReason:
    return verifier(token).rejected(raw, headers, secret=secret).reason


class TestBelticWebhookVerification(WebhookVerificationConformance):
    module = beltic_signature
    verifier = verifier()
    signer = staticmethod(sign_webhook)
    signature_header = "X-Webhook-Signature"
    tamper = (b"processed", b"failed")
    event = staticmethod(document_event)


# -- accepted -----------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["hex", "HEX", "base64", "prefixed"])
def test_signature_encodings_accepted(encoding: str) -> None:
    raw, headers = sign_webhook(document_event(), encoding=encoding)
    assert verify(raw, headers)["data"]["attributes"]["status"] == "processed"


def test_signature_is_over_the_raw_bytes() -> None:
    body = document_event()
    raw, headers = sign_webhook(body)
    assert verify(raw, headers)
    reserialized = json.dumps(body, separators=(",", ":")).encode()
    assert reserialized != raw
    assert rejected(reserialized, headers) is WebhookRejectReason.SIGNATURE


def test_header_names_are_case_insensitive() -> None:
    raw, headers = sign_webhook(document_event(), token=TOKEN)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verify(raw, lowered, token=TOKEN)
    upper = {k.upper(): v for k, v in headers.items()}
    assert verify(raw, upper, token=TOKEN)


def test_unicode_body_verifies() -> None:
    body = document_event(note="Española")
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    raw, headers = sign_webhook(raw)
    assert verify(raw, headers)["data"]["attributes"]["note"] == "Española"


def test_token_checked_only_when_configured() -> None:
    raw, headers = sign_webhook(document_event())  # no X-Webhook-Token header
    assert verify(raw, headers, token=None)
    raw, headers = sign_webhook(document_event(), token=TOKEN)
    assert verify(raw, headers, token=TOKEN)


# -- rejected -----------------------------------------------------------------------------------
@pytest.mark.parametrize("given", [None, "", "wrong-token", "test-webhook-token-2"])
def test_wrong_or_missing_token_rejected(given: str | None) -> None:
    raw, headers = sign_webhook(document_event(), token=given)
    assert rejected(raw, headers, token=TOKEN) is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize("raw", UNSIGNED)
def test_a_wrong_token_is_refused_before_the_body_is_parsed(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token is checked on the headers alone: a validly signed body with the wrong token
    is refused (SIGNATURE) and the parser never sees it."""
    reads = spy_on_parsing(monkeypatch)
    signed, good = sign_webhook(raw, token="other")
    assert rejected(signed, good, token=TOKEN) is WebhookRejectReason.SIGNATURE
    raw_ok, good = sign_webhook(document_event(), token="other")
    assert rejected(raw_ok, good, token=TOKEN) is WebhookRejectReason.SIGNATURE
    assert reads == []


def test_canonical_json_ignores_key_order_and_spacing() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == canonical_json(json.loads('{"a":"é", "b": 1}'))
    assert canonical_json({"a": "é"}) == b'{"a":"\\u00e9"}'
