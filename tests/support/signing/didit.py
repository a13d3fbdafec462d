"""Signs Didit webhooks (docs/vendors/didit.md, Webhooks and signature): X-Signature over the
raw body, X-Signature-V2 over the canonical JSON (sorted keys, compact, whole floats as ints),
X-Signature-Simple over a few fields; X-Timestamp is not signed."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

SECRET = "test-webhook-secret"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _whole_floats_to_int(value: Any) -> Any:
    if isinstance(value, float) and value == int(value):
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_floats_to_int(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_floats_to_int(v) for v in value]
    return value


def sign_webhook(
    body: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    scheme: str = "v2",
    ensure_ascii: bool = False,
) -> tuple[bytes, dict[str, str]]:
    """`scheme` is "v2" (canonical JSON), "raw" (X-Signature over the bytes) or "simple".
    X-Timestamp is the body's `timestamp`, as Didit sends it, unless `timestamp` says else."""
    if timestamp is None:
        timestamp = body["timestamp"] if isinstance(body.get("timestamp"), int) else TS
    raw = json.dumps(body, ensure_ascii=ensure_ascii).encode()  # deliberately non-canonical
    headers = {"X-Timestamp": str(timestamp), "Content-Type": "application/json"}
    if scheme == "v2":
        canonical = json.dumps(
            _whole_floats_to_int(body),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=ensure_ascii,
        )
        headers["X-Signature-V2"] = hmac_hex(secret, canonical.encode())
    elif scheme == "raw":
        headers["X-Signature"] = hmac_hex(secret, raw)
    elif scheme == "simple":
        msg = f"{timestamp}:{body.get('session_id')}:{body.get('status')}:{body['webhook_type']}"
        headers["X-Signature-Simple"] = hmac_hex(secret, msg.encode())
    return raw, headers


def sign_raw(
    raw: bytes, *, secret: str = SECRET, timestamp: int = TS
) -> tuple[bytes, dict[str, str]]:
    """Bytes that need not be JSON, signed with X-Signature (the raw-body scheme)."""
    return raw, {"X-Timestamp": str(timestamp), "X-Signature": hmac_hex(secret, raw)}
