"""UIP webhook verification (docs/vendors/uip.md, Webhooks and signature). Verification only:
the sandbox signs on
its own, so a bug here cannot be hidden by the same bug in a shared signer.

`X-UIP-Signature` = hex(HMAC-SHA256(webhook_secret, "{X-UIP-Timestamp}.{raw_body}")), the
timestamp in unix seconds and within the tolerance (past or future). Computed over the raw
bytes, compared in constant time, before the body is parsed.
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

SIGNATURE_HEADER = "x-uip-signature"
TIMESTAMP_HEADER = "x-uip-timestamp"
EVENT_HEADER = "x-uip-event"
DELIVERY_ID_HEADER = "x-uip-delivery-id"

_UNIX_SECONDS = re.compile(r"\d{1,12}")


def _reject(reason: WebhookRejectReason, detail: str) -> WebhookRejected:
    return WebhookRejected(reason, detail)


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def expected_signature(raw: bytes, timestamp: str, secret: str) -> str:
    message = timestamp.encode("ascii") + b"." + raw
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    now: datetime,
    tolerance_s: int,
) -> int:
    """Raise `WebhookRejected` unless `raw` is authentic and fresh; return the signed time."""
    lower = lower_headers(headers)
    signature = (lower.get(SIGNATURE_HEADER) or "").strip()
    if not signature:
        raise _reject(WebhookRejectReason.SIGNATURE, "missing X-UIP-Signature")
    if not secret:  # an empty key would let anyone sign
        raise _reject(WebhookRejectReason.SIGNATURE, "no webhook secret configured")
    timestamp = (lower.get(TIMESTAMP_HEADER) or "").strip()
    if not timestamp:
        raise _reject(WebhookRejectReason.TIMESTAMP, "missing X-UIP-Timestamp")
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise _reject(WebhookRejectReason.TIMESTAMP, "X-UIP-Timestamp is not unix seconds")
    expected = expected_signature(raw, timestamp, secret).encode("ascii")
    given = signature.lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise _reject(WebhookRejectReason.SIGNATURE, "signature mismatch")
    if abs(now.timestamp() - int(timestamp)) > tolerance_s:
        raise _reject(WebhookRejectReason.TIMESTAMP, "X-UIP-Timestamp outside tolerance")
    return int(timestamp)


def verify_webhook(
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    now: datetime,
    tolerance_s: int,
) -> dict[str, Any]:
    """Verify, then parse: SIGNATURE / TIMESTAMP before MALFORMED, so unauthenticated bytes
    are never interpreted."""
    verify_signature(raw, headers, secret=secret, now=now, tolerance_s=tolerance_s)
    return parse_json_object(raw)
