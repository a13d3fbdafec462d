"""Didit webhook verification (docs/vendors/didit.md, Webhooks and signature). Verification
only: the sandbox signs on its own, so a bug here cannot be hidden by the same bug in a shared
signer.

Accepted: `X-Signature` (HMAC over the raw bytes, checked before anything is parsed) or
`X-Signature-V2` (HMAC over canonical JSON, tried with unescaped and with ASCII-escaped
Unicode because Didit's pages disagree). `X-Signature-Simple` alone is refused: it does not
cover `decision`. The replay window is judged on signed data: X-Timestamp is not signed, so
the body's own `timestamp` must equal it.
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
from adapters.didit.inferred import SIGNED_TIMESTAMP_KEY

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


def _header_timestamp(value: str | None, now: datetime, tolerance_s: int) -> int:
    """X-Timestamp as unix seconds inside the window: a cheap first filter, never trusted
    on its own (the signed body must repeat it)."""
    if value is None or not value.strip():
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, "missing X-Timestamp")
    value = value.strip()
    if not _UNIX_SECONDS.fullmatch(value):
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, "X-Timestamp is not unix seconds")
    if abs(now.timestamp() - int(value)) > tolerance_s:
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, "X-Timestamp outside tolerance")
    return int(value)


def _check_signed_timestamp(body: dict[str, Any], header: int) -> None:
    """The body's `timestamp` (signed) must be the header's: a captured body re-sent later
    with a fresh X-Timestamp is a replay, whatever the header says."""
    signed = body.get(SIGNED_TIMESTAMP_KEY)
    if isinstance(signed, bool) or not isinstance(signed, int):
        raise WebhookRejected(
            WebhookRejectReason.TIMESTAMP, "the signed body carries no unix-seconds timestamp"
        )
    if signed != header:
        raise WebhookRejected(
            WebhookRejectReason.TIMESTAMP, "X-Timestamp differs from the signed timestamp"
        )


def _matches(secret: bytes, message: bytes, signature: str) -> bool:
    expected = hmac.new(secret, message, hashlib.sha256).hexdigest().encode("ascii")
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)


def _authentic_body(raw: bytes, lower: Mapping[str, str], key: bytes) -> dict[str, Any]:
    """The body, once a signature over it verifies; MALFORMED only for signed garbage."""
    raw_signature = lower.get(SIGNATURE_HEADER)
    if raw_signature and _matches(key, raw, raw_signature):
        body = json_object_or_none(raw)
        if body is None:
            raise WebhookRejected(WebhookRejectReason.MALFORMED, "body is not a JSON object")
        return body
    v2 = lower.get(SIGNATURE_V2_HEADER)
    if v2:
        # V2 covers the parsed body, so it has to be parsed to be checked; nothing of it is
        # used unless the signature matches.
        parsed = json_object_or_none(raw)
        if parsed is not None:
            for ensure_ascii in (False, True):
                if _matches(key, canonical_json(parsed, ensure_ascii=ensure_ascii), v2):
                    return parsed
    if not v2 and not raw_signature and lower.get(SIGNATURE_SIMPLE_HEADER):
        detail = "X-Signature-Simple alone is not accepted (it does not cover the decision)"
    elif not v2 and not raw_signature:
        detail = "missing signature"
    else:
        detail = "signature mismatch"
    raise WebhookRejected(WebhookRejectReason.SIGNATURE, detail)


def verify_webhook(
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    now: datetime,
    tolerance_s: int,
) -> dict[str, Any]:
    """Return the parsed body if the delivery is authentic and fresh, else raise
    `WebhookRejected`: TIMESTAMP (header) first, then SIGNATURE (MALFORMED for a signed body
    that is not a JSON object), then TIMESTAMP again for a signed time that is not the
    header's."""
    lower = {k.lower(): v for k, v in headers.items()}
    header_ts = _header_timestamp(lower.get(TIMESTAMP_HEADER), now, tolerance_s)
    if not secret:  # an empty key would let anyone sign
        raise WebhookRejected(WebhookRejectReason.SIGNATURE, "no webhook secret configured")
    # The secret is used as a UTF-8 string, not base64-decoded.
    body = _authentic_body(raw, lower, secret.encode("utf-8"))
    _check_signed_timestamp(body, header_ts)
    return body
