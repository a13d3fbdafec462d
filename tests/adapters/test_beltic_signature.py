"""Beltic webhook verification (docs/vendors/beltic.md, Webhooks and signature): the
X-Webhook-Signature "is generated using an HMAC-SHA256 of the request body signed with your
webhook secret", and X-Webhook-Token is compared
(https://docs.beltic.com/guides/managing-webhooks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.beltic.signature import canonical_json, parse_object, verify_webhook

SECRET = "test-webhook-secret"
TOKEN = "test-webhook-token"
SESSION_ID = "9b2e4f6a-1c3d-4e5f-8a7b-0c1d2e3f4a5b"


def _digest(secret: str, raw: bytes) -> bytes:
    return hmac.new(secret.encode(), raw, hashlib.sha256).digest()


def sign_webhook(
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    encoding: str = "hex",
    token: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Sign like Beltic, independently of the module under test: HMAC-SHA256 of the raw body
    in `X-Webhook-Signature` ("hex", "HEX", "base64" or "prefixed" = `sha256=<hex>`)."""
    raw = body if isinstance(body, bytes) else json.dumps(body, indent=1).encode()
    digest = _digest(secret, raw)
    value = {
        "hex": digest.hex(),
        "HEX": digest.hex().upper(),
        "base64": base64.b64encode(digest).decode(),
        "prefixed": "sha256=" + digest.hex(),
    }[encoding]
    headers = {"Content-Type": "application/json", "X-Webhook-Signature": value}
    if token is not None:
        headers["X-Webhook-Token"] = token
    return raw, headers


def document_event(**attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "document/idv",
            "id": "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a",
            "attributes": {"status": "processed", **attributes},
            "relationships": {"session": {"data": {"type": "session", "id": SESSION_ID}}},
        }
    }


def verify(raw: bytes, headers: dict[str, str], token: str | None = None) -> dict[str, Any]:
    return verify_webhook(raw, headers, secret=SECRET, token=token)


def rejected(
    raw: bytes, headers: dict[str, str], *, secret: str = SECRET, token: str | None = None
) -> WebhookRejectReason:
    with pytest.raises(WebhookRejected) as info:
        verify_webhook(raw, headers, secret=secret, token=token)
    return info.value.reason


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
def test_wrong_secret_rejected() -> None:
    raw, headers = sign_webhook(document_event(), secret="another-secret")
    assert rejected(raw, headers) is WebhookRejectReason.SIGNATURE


def test_tampered_body_rejected() -> None:
    raw, headers = sign_webhook(document_event())
    tampered = raw.replace(b"processed", b"failed")
    assert rejected(tampered, headers) is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize("value", [None, "", "   ", "0" * 64, "zz" * 32, "é" * 64, "sha256="])
def test_missing_or_bad_signature_rejected(value: str | None) -> None:
    raw, headers = sign_webhook(document_event())
    if value is None:
        del headers["X-Webhook-Signature"]
    else:
        headers["X-Webhook-Signature"] = value
    assert rejected(raw, headers) is WebhookRejectReason.SIGNATURE


def test_truncated_signature_rejected() -> None:
    raw, headers = sign_webhook(document_event())
    headers["X-Webhook-Signature"] = headers["X-Webhook-Signature"][:32]
    assert rejected(raw, headers) is WebhookRejectReason.SIGNATURE


def test_empty_secret_never_verifies() -> None:
    raw, headers = sign_webhook(document_event(), secret="")
    with pytest.raises(WebhookRejected) as info:
        verify_webhook(raw, headers, secret="")
    assert info.value.reason is WebhookRejectReason.SIGNATURE
    assert "secret" in info.value.detail


@pytest.mark.parametrize("given", [None, "", "wrong-token", "test-webhook-token-2"])
def test_wrong_or_missing_token_rejected(given: str | None) -> None:
    raw, headers = sign_webhook(document_event(), token=given)
    assert rejected(raw, headers, token=TOKEN) is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe", b'{"a": NaN}', b"null"]
)
def test_body_that_is_not_a_json_object_is_malformed(raw: bytes) -> None:
    _, headers = sign_webhook(raw)
    assert rejected(raw, headers) is WebhookRejectReason.MALFORMED


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"", b"\xff\xfe", b"[" * 100_000])
def test_signature_is_checked_before_the_body_is_parsed(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing unsigned is read: a body that is not even JSON is refused for its signature
    (SIGNATURE, not MALFORMED), and the parser never sees it."""
    import adapters.beltic.signature as module

    parsed: list[bytes] = []
    real = module.parse_object
    monkeypatch.setattr(module, "parse_object", lambda b: parsed.append(b) or real(b))
    _, headers = sign_webhook(raw, secret="someone-else")
    assert rejected(raw, headers) is WebhookRejectReason.SIGNATURE
    del headers["X-Webhook-Signature"]
    assert rejected(raw, headers) is WebhookRejectReason.SIGNATURE
    raw_ok, good = sign_webhook(document_event(), token="other")
    assert rejected(raw_ok, good, token=TOKEN) is WebhookRejectReason.SIGNATURE
    assert parsed == []


def test_deeply_nested_body_is_malformed_not_a_crash() -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    assert parse_object(raw) is None


def test_canonical_json_ignores_key_order_and_spacing() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == canonical_json(json.loads('{"a":"é", "b": 1}'))
    assert canonical_json({"a": "é"}) == b'{"a":"\\u00e9"}'


def test_verification_module_has_no_signing_helper() -> None:
    import adapters.beltic.signature as module

    assert not [name for name in vars(module) if name.startswith("sign")]
