"""UIP webhook verification (https://docs.uip.digital/core-concepts/webhooks): X-UIP-Signature
over "{X-UIP-Timestamp}.{raw body}", the tolerance window both ways, header shapes, and which
reason each failure gets."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.uip.signature import verify_signature, verify_webhook

SECRET = "placeholder-signing-key"
NOW = datetime(2026, 6, 7, 12, 5, tzinfo=UTC)
TS = int(NOW.timestamp())


def sign_webhook(
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | str = TS,
    event: str | None = None,
    delivery_id: str | None = "dlv_0001",
) -> tuple[bytes, dict[str, str]]:
    """Sign like UIP, independently of the module under test (no shared helper):
    X-UIP-Signature = hex(HMAC-SHA256(secret, f"{timestamp}.{raw}"))."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    message = str(timestamp).encode() + b"." + raw
    headers = {
        "Content-Type": "application/json",
        "X-UIP-Timestamp": str(timestamp),
        "X-UIP-Signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
    }
    if event is None and isinstance(body, dict):
        event = body.get("event")
    if event:
        headers["X-UIP-Event"] = event
    if delivery_id is not None:
        headers["X-UIP-Delivery-Id"] = delivery_id
    return raw, headers


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


# -- accepted ---------------------------------------------------------------------------------
def test_valid_signature_parses_the_body() -> None:
    assert verify(*sign_webhook(event())) == event()


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


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_edges_of_the_window_are_accepted(offset: int) -> None:
    assert verify(*sign_webhook(event(), timestamp=TS + offset)) == event()


def test_raw_bytes_are_signed_not_the_reserialised_json() -> None:
    raw = b'{ "event" : "session.completed",  "data": {"session_id": "sess_abc123"} }'
    assert verify(*sign_webhook(raw))["data"]["session_id"] == "sess_abc123"


# -- rejected ---------------------------------------------------------------------------------
def test_tampered_body_is_a_signature_failure() -> None:
    raw, headers = sign_webhook(event())
    tampered = raw.replace(b"completed", b"stopped")
    assert rejected(tampered, headers).reason is WebhookRejectReason.SIGNATURE


def test_tampered_timestamp_is_a_signature_failure() -> None:
    raw, headers = sign_webhook(event())
    headers["X-UIP-Timestamp"] = str(TS + 1)
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


def test_wrong_secret_is_a_signature_failure() -> None:
    raw, headers = sign_webhook(event(), secret="another-signing-key")
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 86_400])
def test_stale_or_future_timestamps_are_rejected(offset: int) -> None:
    raw, headers = sign_webhook(event(), timestamp=TS + offset)
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


def test_tolerance_is_the_callers() -> None:
    raw, headers = sign_webhook(event(), timestamp=TS - 60)
    assert rejected(raw, headers, tolerance_s=30).reason is WebhookRejectReason.TIMESTAMP
    assert verify(raw, headers, tolerance_s=60) == event()


def test_milliseconds_are_not_seconds() -> None:
    raw, headers = sign_webhook(event(), timestamp=TS * 1000)
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


@pytest.mark.parametrize("value", ["", "  ", "abc", "-5", "1.5", "12e3", "0x10"])
def test_malformed_timestamps_are_rejected(value: str) -> None:
    raw, headers = sign_webhook(event())
    headers["X-UIP-Timestamp"] = value
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


def test_missing_signature_header() -> None:
    raw, headers = sign_webhook(event())
    del headers["X-UIP-Signature"]
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


def test_blank_signature_header() -> None:
    raw, headers = sign_webhook(event())
    headers["X-UIP-Signature"] = "  "
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


def test_missing_timestamp_header() -> None:
    raw, headers = sign_webhook(event())
    del headers["X-UIP-Timestamp"]
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


def test_no_headers_at_all_is_a_signature_failure() -> None:
    raw, _ = sign_webhook(event())
    assert rejected(raw, {}).reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize("value", ["sha256=abc", "not-hex", "ab" * 31, "ab" * 33, "é" * 64])
def test_malformed_signatures_are_signature_failures(value: str) -> None:
    raw, headers = sign_webhook(event())
    headers["X-UIP-Signature"] = value
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


def test_an_empty_secret_never_verifies() -> None:
    raw, headers = sign_webhook(event(), secret="")
    assert rejected(raw, headers, secret="").reason is WebhookRejectReason.SIGNATURE


def test_signature_is_checked_before_the_body_is_parsed() -> None:
    raw, headers = sign_webhook(b"not json")
    headers["X-UIP-Signature"] = "00" * 32
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'"text"', b'{"a": NaN}', b"\xff\xfe", b""]
)
def test_signed_garbage_is_malformed(raw: bytes) -> None:
    assert rejected(*sign_webhook(raw)).reason is WebhookRejectReason.MALFORMED


def test_rejection_details_never_echo_the_body_or_secret() -> None:
    raw, headers = sign_webhook(event(first_name="Jane"))
    headers["X-UIP-Signature"] = "00" * 32
    error = rejected(raw, headers)
    assert "Jane" not in error.detail and SECRET not in error.detail
