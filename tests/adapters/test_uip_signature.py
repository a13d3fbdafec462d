"""UIP webhook verification (https://docs.uip.digital/core-concepts/webhooks): X-UIP-Signature
over "{X-UIP-Timestamp}.{raw body}", the tolerance window both ways, header shapes, and which
reason each failure gets. What every vendor shares is in `webhook_conformance`."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

import adapters.uip.signature as uip_signature
from adapters.base import WebhookRejectReason
from adapters.uip.signature import UipScheme
from tests.adapters.webhook_conformance import ReplayWindowConformance, Verifier
from tests.support.signing.uip import NOW, SECRET, TS, sign_webhook


def event(**data: Any) -> dict[str, Any]:
    return {
        "event": "session.completed",
        "data": {"session_id": "sess_abc123", "status": "completed", **data},
    }


verify = Verifier(UipScheme(), SECRET, NOW)
rejected = verify.rejected


class TestUipWebhookVerification(ReplayWindowConformance):
    module = uip_signature
    verifier = verify
    signer = staticmethod(sign_webhook)
    signature_header = "X-UIP-Signature"
    tamper = (b"completed", b"stopped")
    event = staticmethod(lambda: event(first_name="Jane"))


# -- accepted ---------------------------------------------------------------------------------
def test_documented_algorithm_by_hand() -> None:
    """The doc's Python check, step by step, on a fixed body."""
    raw = b'{"event":"session.stopped","data":{"session_id":"sess_abc123","status":"stopped"}}'
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"X-UIP-Timestamp": str(TS), "X-UIP-Signature": expected}
    assert verify(raw, headers)["event"] == "session.stopped"
    assert UipScheme().verify(raw, headers, secret=SECRET, now=NOW, tolerance_s=300).signed_at == TS


def test_header_names_are_case_insensitive_and_hex_case_ignored() -> None:
    raw, headers = sign_webhook(event())
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered["x-uip-signature"] = lowered["x-uip-signature"].upper()
    assert verify(raw, lowered) == event()


def test_surrounding_whitespace_in_headers_is_tolerated() -> None:
    raw, headers = sign_webhook(event())
    headers["X-UIP-Signature"] = f"  {headers['X-UIP-Signature']} "
    headers["X-UIP-Timestamp"] = f" {headers['X-UIP-Timestamp']}  "
    assert verify(raw, headers) == event()


def test_raw_bytes_are_signed_not_the_reserialised_json() -> None:
    raw = b'{ "event" : "session.completed",  "data": {"session_id": "sess_abc123"} }'
    assert verify(*sign_webhook(raw))["data"]["session_id"] == "sess_abc123"


# -- rejected ---------------------------------------------------------------------------------
def test_tampered_timestamp_is_a_signature_failure() -> None:
    raw, headers = sign_webhook(event())
    headers["X-UIP-Timestamp"] = str(TS + 1)
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


def test_milliseconds_are_not_seconds() -> None:
    raw, headers = sign_webhook(event(), timestamp=TS * 1000)
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


@pytest.mark.parametrize("value", ["", "  ", "abc", "-5", "1.5", "12e3", "0x10"])
def test_malformed_timestamps_are_rejected(value: str) -> None:
    raw, headers = sign_webhook(event())
    headers["X-UIP-Timestamp"] = value
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


def test_missing_timestamp_header() -> None:
    raw, headers = sign_webhook(event())
    del headers["X-UIP-Timestamp"]
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


def test_no_headers_at_all_is_a_signature_failure() -> None:
    raw, _ = sign_webhook(event())
    assert rejected(raw, {}).reason is WebhookRejectReason.SIGNATURE
