"""Verifa webhook verification (docs/vendors/verifa.md, Webhooks and signature): `t=…,v1=…`
(https://docs.withverifa.com/tutorials/receiving-webhooks-validating-signatures) and the legacy
bare hex form (https://docs.withverifa.com/api-details/webhooks), tolerance, header shapes, and
which reason each failure gets."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.verifa.signature import verify_webhook

SECRET = "placeholder-signing-key"
NOW = datetime(2026, 2, 1, 12, 5, tzinfo=UTC)
TS = int(NOW.timestamp())


def sign_webhook(
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int = TS,
    legacy: bool = False,
) -> tuple[bytes, dict[str, str]]:
    """Sign like Verifa, independently of the module under test (no shared helper):
    v1 = hex(HMAC-SHA256(secret, f"{t}.{raw}")); legacy = hex(HMAC-SHA256(secret, raw))."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if legacy:
        header = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    else:
        message = str(timestamp).encode() + b"." + raw
        header = (
            f"t={timestamp},v1={hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"
        )
    return raw, {"X-Verifa-Signature": header, "Content-Type": "application/json"}


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


def verify(
    raw: bytes,
    headers: dict[str, str],
    *,
    now: datetime = NOW,
    tolerance_s: int = 300,
    accept_legacy: bool = True,
    secret: str = SECRET,
) -> dict[str, Any]:
    return verify_webhook(
        raw,
        headers,
        secret=secret,
        now=now,
        tolerance_s=tolerance_s,
        accept_legacy=accept_legacy,
    )


def rejected(raw: bytes, headers: dict[str, str], **kwargs: Any) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as info:
        verify(raw, headers, **kwargs)
    return info.value


# -- accepted ---------------------------------------------------------------------------------
def test_timestamped_signature_accepted() -> None:
    raw, headers = sign_webhook(event())
    assert verify(raw, headers)["session_id"] == "session_abc123"


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


@pytest.mark.parametrize("skew", [-300, -299, 0, 299, 300])
def test_timestamp_inside_tolerance_accepted(skew: int) -> None:
    raw, headers = sign_webhook(event(), timestamp=TS + skew)
    assert verify(raw, headers)


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
def test_wrong_secret_rejected_as_signature() -> None:
    raw, headers = sign_webhook(event(), secret="another-secret")
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


def test_tampered_body_rejected_as_signature() -> None:
    raw, headers = sign_webhook(event(status="declined", event="session.declined"))
    tampered = raw.replace(b"declined", b"approved")
    assert rejected(tampered, headers).reason is WebhookRejectReason.SIGNATURE


def test_tampered_legacy_body_rejected_as_signature() -> None:
    raw, headers = sign_webhook(event(), legacy=True)
    assert rejected(raw + b" ", headers).reason is WebhookRejectReason.SIGNATURE


def test_replayed_signature_with_a_new_timestamp_rejected() -> None:
    raw, headers = sign_webhook(event(), timestamp=TS - 1000)
    v1 = headers["X-Verifa-Signature"].split(",")[1]
    headers["X-Verifa-Signature"] = f"t={TS},{v1}"  # fresh t, old signature
    assert rejected(raw, headers).reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize(
    "skew", [-301, 301, -86_400, 86_400], ids=["past", "future", "day-old", "day-ahead"]
)
def test_stale_timestamp_rejected(skew: int) -> None:
    raw, headers = sign_webhook(event(), timestamp=TS + skew)
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


def test_stale_is_checked_before_the_signature() -> None:
    raw, headers = sign_webhook(event(), timestamp=TS - 1000, secret="wrong")
    assert rejected(raw, headers).reason is WebhookRejectReason.TIMESTAMP


def test_tolerance_comes_from_the_caller() -> None:
    raw, headers = sign_webhook(event(), timestamp=TS - 100)
    assert rejected(raw, headers, tolerance_s=60).reason is WebhookRejectReason.TIMESTAMP


@pytest.mark.parametrize("headers", [{}, {"X-Verifa-Signature": ""}, {"X-Verifa-Signature": " "}])
def test_missing_header_rejected_as_signature(headers: dict[str, str]) -> None:
    raw, _ = sign_webhook(event())
    error = rejected(raw, headers)
    assert error.reason is WebhookRejectReason.SIGNATURE
    assert "missing" in error.detail


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
    error = rejected(raw, headers, accept_legacy=False)
    assert error.reason is WebhookRejectReason.SIGNATURE
    raw, headers = sign_webhook(event())
    assert verify(raw, headers, accept_legacy=False)  # the timestamped form still works


def test_empty_secret_never_verifies() -> None:
    raw, headers = sign_webhook(event(), secret="")
    assert rejected(raw, headers, secret="").reason is WebhookRejectReason.SIGNATURE
    raw, headers = sign_webhook(event(), secret="", legacy=True)
    assert rejected(raw, headers, secret="").reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe", b'{"a": NaN}', b"{" * 5000]
)
def test_signed_body_that_is_not_a_json_object_is_malformed(raw: bytes) -> None:
    raw, headers = sign_webhook(raw)
    assert rejected(raw, headers).reason is WebhookRejectReason.MALFORMED


def test_unsigned_garbage_is_a_signature_failure_not_parsed() -> None:
    """The signature is checked before the body is interpreted."""
    headers = {"X-Verifa-Signature": f"t={TS},v1=" + "0" * 64}
    assert rejected(b"not json", headers).reason is WebhookRejectReason.SIGNATURE


def test_verification_module_has_no_signing_helper() -> None:
    import adapters.verifa.signature as module

    assert not [name for name in vars(module) if name.startswith("sign")]
