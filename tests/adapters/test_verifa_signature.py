"""Verifa webhook verification (docs/vendors/verifa.md, Webhooks and signature): `t=…,v1=…`
(https://docs.withverifa.com/tutorials/receiving-webhooks-validating-signatures) and the legacy
bare hex form (https://docs.withverifa.com/api-details/webhooks), tolerance, header shapes, and
which reason each failure gets. What every vendor shares is in `webhook_conformance`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import adapters.verifa.signature as verifa_signature
from adapters.base import WebhookRejectReason
from adapters.verifa.signature import VerifaScheme
from tests.adapters.webhook_conformance import ReplayWindowConformance, Verifier
from tests.support.signing.verifa import NOW, SECRET, TS, sign_webhook


def event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": "session.approved",
        "idempotency_key": "idk_0001",
        "session_id": "session_abc123",
        "external_ref": "user_456",
        "status": "approved",
        "is_sandbox": False,
    }
    body.update(overrides)
    return body


verify = Verifier(VerifaScheme(accept_legacy=True), SECRET, NOW)
rejected = verify.rejected
strict = Verifier(VerifaScheme(accept_legacy=False), SECRET, NOW)


class TestVerifaWebhookVerification(ReplayWindowConformance):
    module = verifa_signature
    verifier = verify
    signer = staticmethod(sign_webhook)
    signature_header = "X-Verifa-Signature"
    tamper = (b"approved", b"declined")
    event = staticmethod(event)


# -- accepted ---------------------------------------------------------------------------------
def test_legacy_bare_hex_accepted() -> None:
    raw, headers = sign_webhook(event(), legacy=True)
    assert "t=" not in headers["X-Verifa-Signature"]
    assert verify(raw, headers)["event"] == "session.approved"


def test_legacy_accepted_whatever_the_clock_says() -> None:
    raw, headers = sign_webhook(event(), legacy=True)  # it has no timestamp to check
    assert verify(raw, headers, now=datetime(2030, 1, 1, tzinfo=UTC))


def test_signature_is_over_the_raw_bytes() -> None:
    raw = json.dumps(event(), indent=2, ensure_ascii=False).encode()
    raw, headers = sign_webhook(raw)
    assert verify(raw, headers)["external_ref"] == "user_456"


def test_unicode_body_verified_on_its_bytes() -> None:
    raw, headers = sign_webhook(json.dumps(event(external_ref="usér")).encode("utf-8"))
    assert verify(raw, headers)["external_ref"] == "usér"


def test_header_name_is_case_insensitive_and_hex_case_tolerant() -> None:
    raw, headers = sign_webhook(event())
    value = headers.pop("X-Verifa-Signature")
    t, v1 = value.split(",")
    assert verify(raw, {"x-verifa-signature": f"{t},v1={v1.removeprefix('v1=').upper()}"})


def test_spaces_and_unknown_keys_in_the_header_are_tolerated() -> None:
    raw, headers = sign_webhook(event())
    t, v1 = headers["X-Verifa-Signature"].split(",")
    headers["X-Verifa-Signature"] = f" {t} , v0=ignored , {v1} "
    assert verify(raw, headers)


def test_any_of_several_v1_values_may_match() -> None:
    """A secret rotation signs with both secrets (the Stripe-style header Verifa follows)."""
    raw, headers = sign_webhook(event())
    headers["X-Verifa-Signature"] = headers["X-Verifa-Signature"].replace(
        "v1=", "v1=" + "0" * 64 + ",v1="
    )
    assert verify(raw, headers)


# -- rejected ---------------------------------------------------------------------------------
def test_tampered_legacy_body_rejected_as_signature() -> None:
    raw, headers = sign_webhook(event(), legacy=True)
    assert rejected(raw + b" ", headers).reason is WebhookRejectReason.SIGNATURE


def test_replayed_signature_with_a_new_timestamp_rejected() -> None:
    raw, headers = sign_webhook(event(), timestamp=TS - 1000)
    v1 = headers["X-Verifa-Signature"].split(",")[1]
    headers["X-Verifa-Signature"] = f"t={TS},{v1}"  # fresh t, old signature
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


def test_other_vendors_headers_are_not_enough() -> None:
    raw, headers = sign_webhook(event())
    value = headers.pop("X-Verifa-Signature")
    headers["X-Signature"] = value
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("garbage", WebhookRejectReason.SIGNATURE),
        ("sha256=abc", WebhookRejectReason.SIGNATURE),
        ("0" * 63, WebhookRejectReason.SIGNATURE),  # not a whole hex digest
        ("v1=" + "0" * 64, WebhookRejectReason.TIMESTAMP),  # t= missing
        (f"t={TS}", WebhookRejectReason.SIGNATURE),  # v1= missing
        (f"t={TS},v1=", WebhookRejectReason.SIGNATURE),
        ("t=,v1=" + "0" * 64, WebhookRejectReason.TIMESTAMP),
        ("t=abc,v1=" + "0" * 64, WebhookRejectReason.TIMESTAMP),
        ("t=1.7e9,v1=" + "0" * 64, WebhookRejectReason.TIMESTAMP),
        (f"t=-{TS},v1=" + "0" * 64, WebhookRejectReason.TIMESTAMP),
        ("t=" + "9" * 40 + ",v1=" + "0" * 64, WebhookRejectReason.TIMESTAMP),
        (f"t={TS},v1=" + "é" * 64, WebhookRejectReason.SIGNATURE),
    ],
)
def test_malformed_header_rejected(value: str, reason: WebhookRejectReason) -> None:
    raw, _ = sign_webhook(event())
    assert rejected(raw, {"X-Verifa-Signature": value}).reason is reason


def test_legacy_can_be_refused() -> None:
    raw, headers = sign_webhook(event(), legacy=True)
    error = strict.rejected(raw, headers)
    assert error.reason is WebhookRejectReason.SIGNATURE
    raw, headers = sign_webhook(event())
    assert strict(raw, headers)  # the timestamped form still works


def test_an_empty_secret_never_verifies_a_legacy_signature_either() -> None:
    raw, headers = sign_webhook(event(), secret="", legacy=True)
    assert rejected(raw, headers, secret="").reason is WebhookRejectReason.SIGNATURE
