"""Verifa webhook verification (docs/vendors/verifa.md, Webhooks and signature). Verification
only: the sandbox signs on its own, so a bug here cannot be hidden by the same bug in a shared
signer.

Accepted: `X-Verifa-Signature: t=<unix>,v1=<hex>` with v1 = HMAC-SHA256(secret, "{t}.{body}")
over the raw bytes, `t` within the tolerance; and, while allowed, the legacy form (the header
is the bare hex HMAC of the raw body, no timestamp). Several `v1=` values (a secret being
rotated) are each tried. The signature is checked before the body is parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.common.webhook_body import parse_json_object

SIGNATURE_HEADER = "x-verifa-signature"
#: Sent with every delivery but not signed: never used to dedupe (a replay may change it).
DELIVERY_ID_HEADER = "x-verifa-delivery-id"
TIMESTAMP_KEY = "t"
SIGNATURE_KEY = "v1"

_UNIX_SECONDS = re.compile(r"\d{1,12}")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _reject(reason: WebhookRejectReason, detail: str) -> WebhookRejected:
    return WebhookRejected(reason, detail)


def _hmac_hex(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha256).hexdigest().encode("ascii")


def _same(expected: bytes, given: str) -> bool:
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def _parts(header: str) -> tuple[str | None, list[str]]:
    """(`t` value, every `v1` value) of a `t=…,v1=…` header; unknown keys are ignored."""
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == TIMESTAMP_KEY:
            timestamp = value.strip()
        elif key == SIGNATURE_KEY:
            signatures.append(value.strip())
    return timestamp, signatures


def _check_timestamp(value: str, now: datetime, tolerance_s: int) -> None:
    if not _UNIX_SECONDS.fullmatch(value):
        raise _reject(WebhookRejectReason.TIMESTAMP, "signature timestamp is not unix seconds")
    if abs(now.timestamp() - int(value)) > tolerance_s:
        raise _reject(WebhookRejectReason.TIMESTAMP, "signature timestamp outside tolerance")


def verify_signature(
    raw: bytes,
    header: str | None,
    *,
    secret: str,
    now: datetime,
    tolerance_s: int,
    accept_legacy: bool,
) -> int | None:
    """Raise `WebhookRejected` unless `raw` is authentic (and fresh, when timestamped).
    Returns the signed timestamp, or None for a legacy signature."""
    if header is None or not header.strip():
        raise _reject(WebhookRejectReason.SIGNATURE, "missing X-Verifa-Signature")
    if not secret:  # an empty key would let anyone sign
        raise _reject(WebhookRejectReason.SIGNATURE, "no webhook secret configured")
    key = secret.encode("utf-8")  # `whsec_…` is used as a UTF-8 string, not decoded
    header = header.strip()

    if _HEX_SHA256.fullmatch(header):
        if not accept_legacy:
            raise _reject(WebhookRejectReason.SIGNATURE, "legacy signatures are not accepted")
        if _same(_hmac_hex(key, raw), header):
            return None
        raise _reject(WebhookRejectReason.SIGNATURE, "signature mismatch")

    timestamp, signatures = _parts(header)
    if timestamp is None:
        if signatures:
            raise _reject(WebhookRejectReason.TIMESTAMP, "signature without t=")
        raise _reject(WebhookRejectReason.SIGNATURE, "malformed X-Verifa-Signature")
    _check_timestamp(timestamp, now, tolerance_s)
    if not signatures:
        raise _reject(WebhookRejectReason.SIGNATURE, "signature without v1=")
    expected = _hmac_hex(key, timestamp.encode("ascii") + b"." + raw)
    if any(_same(expected, signature) for signature in signatures):
        return int(timestamp)
    raise _reject(WebhookRejectReason.SIGNATURE, "signature mismatch")


def parse_body(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or `WebhookRejected(MALFORMED)`."""
    return parse_json_object(raw)


def verify_webhook(
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    now: datetime,
    tolerance_s: int,
    accept_legacy: bool,
) -> dict[str, Any]:
    """Verify, then parse: SIGNATURE / TIMESTAMP before MALFORMED, so unauthenticated bytes
    are never interpreted."""
    lower = {k.lower(): v for k, v in headers.items()}
    verify_signature(
        raw,
        lower.get(SIGNATURE_HEADER),
        secret=secret,
        now=now,
        tolerance_s=tolerance_s,
        accept_legacy=accept_legacy,
    )
    return parse_body(raw)
