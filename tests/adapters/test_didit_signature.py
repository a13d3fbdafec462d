"""Didit webhook verification (docs/vendors/didit.md, Webhooks and signature;
https://docs.didit.me/integration/webhooks: X-Signature over the raw body, X-Signature-V2 over
the canonical JSON, X-Signature-Simple over a few fields, X-Timestamp unsigned). What every
vendor shares is in `webhook_conformance`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

import adapters.didit.signature as didit_signature
from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.didit.signature import DiditScheme, canonical_json, shorten_floats
from tests.adapters.webhook_conformance import ReplayWindowConformance, Signed, Verifier
from tests.support.signing.didit import (
    DOC_CREATED_AT,
    DOC_TIMESTAMP,
    NOW,
    SECRET,
    TS,
    at,
    documented_envelope,
    sign_raw,
    sign_webhook,
)


def event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": "0f5b7c1e-7c1a-4d7e-9e2f-3a4b5c6d7e8f",
        "webhook_type": "status.updated",
        "timestamp": TS,
        "created_at": TS - 6,
        "session_id": "11111111-2222-3333-4444-555555555555",
        "status": "Approved",
        "vendor_data": "user-123",
        "metadata": {"user_type": "premium"},
        "environment": "live",
        "decision": {"id_verifications": [{"node_id": "n1", "status": "Approved", "score": 97.0}]},
    }
    body.update(overrides)
    return body


verify = Verifier(DiditScheme(), SECRET, NOW)


def rejected(raw: bytes, headers: dict[str, str], now: datetime = NOW) -> WebhookRejectReason:
    return verify.rejected(raw, headers, now=now).reason


class TestDiditWebhookVerification(ReplayWindowConformance):
    module = didit_signature
    verifier = verify
    signer = staticmethod(sign_webhook)
    signature_header = "X-Signature-V2"
    bytes_signature_header = "X-Signature"
    tamper = (b'"Approved"', b'"Declined"')
    event = staticmethod(event)

    def sign_bytes(self, raw: bytes, *, secret: str) -> Signed:
        return sign_raw(raw, secret=secret)

    def sign_at(self, offset_s: int, *, secret: str | None = None) -> Signed:
        """Didit's signed time is the body's `timestamp` (X-Timestamp repeats it)."""
        return sign_webhook(event(timestamp=TS + offset_s), secret=secret or SECRET)


# -- accepted ---------------------------------------------------------------------------------
@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["unescaped", "ascii-escaped"])
def test_v2_with_unicode_name_accepted_in_both_escaping_variants(ensure_ascii: bool) -> None:
    body = event(decision={"id_verifications": [{"first_name": "Carmen", "last_name": "Española"}]})
    raw, headers = sign_webhook(body, ensure_ascii=ensure_ascii)
    assert verify(raw, headers)["decision"]["id_verifications"][0]["last_name"] == "Española"


def test_v2_signed_over_canonical_form_not_raw_bytes() -> None:
    body = event()
    _, headers = sign_webhook(body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
    assert verify(reordered, headers)["session_id"] == body["session_id"]


def test_raw_x_signature_accepted() -> None:
    raw, headers = sign_webhook(event(), scheme="raw")
    assert "X-Signature-V2" not in headers
    assert verify(raw, headers)["status"] == "Approved"


def test_raw_x_signature_accepted_when_v2_is_wrong() -> None:
    raw, headers = sign_webhook(event(), scheme="raw")
    headers["X-Signature-V2"] = "0" * 64
    assert verify(raw, headers)["status"] == "Approved"


def test_whole_floats_are_shortened_before_signing() -> None:
    body = event(decision={"liveness_checks": [{"score": 97.0, "age": 35.5}]})
    raw, headers = sign_webhook(body)
    assert b"97.0" in raw  # the wire form keeps the float ...
    assert verify(raw, headers)  # ... but the signature is over 97
    assert canonical_json({"b": 2.0, "a": [1.5, 3.0]}, ensure_ascii=True) == b'{"a":[1.5,3],"b":2}'


def test_shorten_floats_keeps_bools_and_fractions() -> None:
    assert shorten_floats({"x": True, "y": [2.0, 2.5, {"z": 0.0}]}) == {
        "x": True,
        "y": [2, 2.5, {"z": 0}],
    }
    assert shorten_floats(True) is True


def test_header_lookup_is_case_insensitive_and_hex_case_tolerant() -> None:
    raw, headers = sign_webhook(event())
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered["x-signature-v2"] = lowered["x-signature-v2"].upper()
    assert verify(raw, lowered)["event_id"]


# -- rejected ---------------------------------------------------------------------------------
def test_tampered_raw_body_rejected_as_signature() -> None:
    raw, headers = sign_webhook(event(), scheme="raw")
    assert rejected(raw + b" ", headers) is WebhookRejectReason.SIGNATURE


def test_simple_signature_alone_is_not_enough() -> None:
    raw, headers = sign_webhook(event(), scheme="simple")
    with pytest.raises(WebhookRejected) as info:
        verify(raw, headers)
    assert info.value.reason is WebhookRejectReason.SIGNATURE
    assert "Simple" in info.value.detail


def test_missing_timestamp_rejected() -> None:
    raw, headers = sign_webhook(event())
    del headers["X-Timestamp"]
    assert rejected(raw, headers) is WebhookRejectReason.TIMESTAMP


@pytest.mark.parametrize("value", ["", "abc", "1.5e9", "-1768478400", "1_768_478_400"])
def test_malformed_timestamp_rejected(value: str) -> None:
    raw, headers = sign_webhook(event())
    headers["X-Timestamp"] = value
    assert rejected(raw, headers) is WebhookRejectReason.TIMESTAMP


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe", b'{"a": NaN}']
)
def test_unsigned_garbage_under_v2_is_a_signature_failure(raw: bytes) -> None:
    """V2 covers the parsed body, so its check parses (the documented exception); what does
    not parse cannot match, and is refused for its signature, not as MALFORMED."""
    headers = {"X-Timestamp": str(TS), "X-Signature-V2": "0" * 64}
    assert rejected(raw, headers) is WebhookRejectReason.SIGNATURE


def test_timestamp_checked_before_body() -> None:
    assert rejected(b"not json", {"X-Signature": "00"}) is WebhookRejectReason.TIMESTAMP
    headers = {"X-Timestamp": str(TS - 1000), "X-Signature": "00"}
    assert rejected(b"not json", headers) is WebhookRejectReason.TIMESTAMP


# -- the replay window is judged on signed data (issue 13, item 5) ----------------------------


@pytest.mark.parametrize("scheme", ["v2", "raw"])
def test_the_documented_envelope_is_accepted_when_fresh(scheme: str) -> None:
    raw, headers = sign_webhook(documented_envelope(), scheme=scheme)
    assert headers["X-Timestamp"] == str(DOC_TIMESTAMP)
    assert verify(raw, headers, now=at(DOC_TIMESTAMP + 5))["created_at"] == DOC_CREATED_AT


@pytest.mark.parametrize("scheme", ["v2", "raw"])
def test_a_captured_body_re_sent_later_with_a_fresh_header_is_refused(scheme: str) -> None:
    """The header is not signed: an hour-old body with the signature it came with and a
    new X-Timestamp passes the header check, and must still be refused."""
    raw, headers = sign_webhook(documented_envelope(), scheme=scheme)
    later = DOC_TIMESTAMP + 3600
    replayed = {**headers, "X-Timestamp": str(later)}
    with pytest.raises(WebhookRejected) as info:
        verify(raw, replayed, now=at(later))
    assert info.value.reason is WebhookRejectReason.TIMESTAMP
    assert "signed" in info.value.detail


def test_a_fresh_header_one_second_off_is_refused_too() -> None:
    raw, headers = sign_webhook(documented_envelope())
    headers["X-Timestamp"] = str(DOC_TIMESTAMP + 1)
    assert rejected(raw, headers, now=at(DOC_TIMESTAMP)) is WebhookRejectReason.TIMESTAMP


@pytest.mark.parametrize(
    "value", [None, "1774970000", 1774970000.5, True], ids=["missing", "text", "float", "bool"]
)
def test_a_signed_body_without_unix_seconds_is_refused(value: Any) -> None:
    body = documented_envelope(timestamp=value)
    if value is None:
        del body["timestamp"]
    raw, headers = sign_webhook(body, timestamp=DOC_TIMESTAMP)
    assert rejected(raw, headers, now=at(DOC_TIMESTAMP)) is WebhookRejectReason.TIMESTAMP


def test_the_signature_is_checked_before_the_signed_time() -> None:
    """A forged body claiming the header's time is a signature failure, not a time one."""
    raw, headers = sign_webhook(documented_envelope(), secret="forger")
    assert rejected(raw, headers, now=at(DOC_TIMESTAMP)) is WebhookRejectReason.SIGNATURE
