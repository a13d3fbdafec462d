"""Didit webhook verification (providers/didit.md §A4.3). Verification only: the sandbox
signs on its own, so a bug here cannot be hidden by the same bug in a shared signer.

Accepted: `X-Signature-V2` (HMAC over canonical JSON, tried with unescaped and with
ASCII-escaped Unicode because the docs disagree) or `X-Signature` (HMAC over the raw bytes).
`X-Signature-Simple` alone is refused: it does not cover `decision`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.common.validation import json_object_or_none

TIMESTAMP_HEADER = "x-timestamp"
SIGNATURE_HEADER = "x-signature"
SIGNATURE_V2_HEADER = "x-signature-v2"
SIGNATURE_SIMPLE_HEADER = "x-signature-simple"

_UNIX_SECONDS = re.compile(r"\d{1,12}")


def shorten_floats(value: Any) -> Any:
    """Whole floats become ints (2.0 → 2), recursively, as Didit does before signing."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [shorten_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: shorten_floats(v) for k, v in value.items()}
    return value


def canonical_json(body: Any, *, ensure_ascii: bool) -> bytes:
    """sort_keys + compact separators + shortened floats, UTF-8 encoded."""
    text = json.dumps(
        shorten_floats(body), sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii
    )
    return text.encode("utf-8")


def _check_timestamp(value: str | None, now: datetime, tolerance_s: int) -> None:
    if value is None or not value.strip():
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, "missing X-Timestamp")
    value = value.strip()
    if not _UNIX_SECONDS.fullmatch(value):
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, "X-Timestamp is not unix seconds")
    if abs(now.timestamp() - int(value)) > tolerance_s:
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, "X-Timestamp outside tolerance")


def _matches(secret: bytes, message: bytes, signature: str) -> bool:
    expected = hmac.new(secret, message, hashlib.sha256).hexdigest().encode("ascii")
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)


def verify_webhook(
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    now: datetime,
    tolerance_s: int,
) -> dict[str, Any]:
    """Return the parsed body if the delivery is authentic and fresh, else raise
    `WebhookRejected` (TIMESTAMP before anything else, then MALFORMED, then SIGNATURE)."""
    lower = {k.lower(): v for k, v in headers.items()}
    _check_timestamp(lower.get(TIMESTAMP_HEADER), now, tolerance_s)

    body = json_object_or_none(raw)
    if body is None:
        raise WebhookRejected(WebhookRejectReason.MALFORMED, "body is not a JSON object")

    if not secret:  # an empty key would let anyone sign
        raise WebhookRejected(WebhookRejectReason.SIGNATURE, "no webhook secret configured")
    key = secret.encode("utf-8")  # the secret is used as a UTF-8 string, not base64-decoded
    v2 = lower.get(SIGNATURE_V2_HEADER)
    if v2:
        for ensure_ascii in (False, True):
            if _matches(key, canonical_json(body, ensure_ascii=ensure_ascii), v2):
                return body
    raw_signature = lower.get(SIGNATURE_HEADER)
    if raw_signature and _matches(key, raw, raw_signature):
        return body

    if not v2 and not raw_signature and lower.get(SIGNATURE_SIMPLE_HEADER):
        detail = "X-Signature-Simple alone is not accepted (it does not cover the decision)"
    elif not v2 and not raw_signature:
        detail = "missing signature"
    else:
        detail = "signature mismatch"
    raise WebhookRejected(WebhookRejectReason.SIGNATURE, detail)
