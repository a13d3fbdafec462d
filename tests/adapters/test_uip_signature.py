"""UIP webhook verification (https://docs.uip.digital/core-concepts/webhooks): X-UIP-Signature
over "{X-UIP-Timestamp}.{raw body}", the tolerance window both ways, header shapes, and which
reason each failure gets. What every vendor shares is in `webhook_conformance`."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

import pytest

import adapters.uip.signature as uip_signature
from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.uip.signature import verify_signature, verify_webhook
from tests.adapters.webhook_conformance import ReplayWindowConformance, Signed
from tests.support.signing.uip import NOW, SECRET, TS, sign_webhook


def event(**data: Any) -> dict[str, Any]:
    return {
        "event": "session.completed",
        "data": {"session_id": "sess_abc123", "status": "completed", **data},
    }


def verify(
    raw: bytes,
    headers: dict[str, str],
    *,
    now: datetime = NOW,
    tolerance_s: int = 300,
    secret: str = SECRET,
) -> dict[str, Any]:
    return verify_webhook(raw, headers, secret=secret, now=now, tolerance_s=tolerance_s)


def rejected(raw: bytes, headers: dict[str, str], **kwargs: Any) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as info:
        verify(raw, headers, **kwargs)
    return info.value


class TestUipWebhookVerification(ReplayWindowConformance):
    module = uip_signature
    secret = SECRET
    now = NOW
    signature_header = "X-UIP-Signature"
    tamper = (b"completed", b"stopped")

    def event(self) -> dict[str, Any]:
        return event(first_name="Jane")

    def sign(self, body: dict[str, Any], *, secret: str) -> Signed:
        return sign_webhook(body, secret=secret)

    def sign_bytes(self, raw: bytes, *, secret: str) -> Signed:
        return sign_webhook(raw, secret=secret)

    def sign_at(self, offset_s: int, *, secret: str | None = None) -> Signed:
        return sign_webhook(self.event(), secret=secret or SECRET, timestamp=TS + offset_s)

    def verify(self, raw: bytes, headers: dict[str, str], **options: Any) -> dict[str, Any]:
        return uip_signature.verify_delivery(raw, headers, **options)[0]


# -- accepted ---------------------------------------------------------------------------------
def test_documented_algorithm_by_hand() -> None:
    """The doc's Python check, step by step, on a fixed body."""
    raw = b'{"event":"session.stopped","data":{"session_id":"sess_abc123","status":"stopped"}}'
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"X-UIP-Timestamp": str(TS), "X-UIP-Signature": expected}
    assert verify(raw, headers)["event"] == "session.stopped"
    assert verify_signature(raw, headers, secret=SECRET, now=NOW, tolerance_s=300) == TS


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
