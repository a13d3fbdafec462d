"""Signs Didit webhooks (docs/vendors/didit.md, Webhooks and signature): X-Signature over the
raw body, X-Signature-V2 over the canonical JSON (sorted keys, compact, whole floats as ints),
X-Signature-Simple over a few fields; X-Timestamp is not signed. Also the v3 envelopes the
gateway tests post (`didit_body`, `signed_request`) and Didit's documented example."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
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


# -- envelopes ---------------------------------------------------------------------------------
def didit_body(
    session_id: str,
    status: str,
    timestamp: int,
    *,
    event_id: str | None = None,
    vendor_data: str | None = None,
    webhook_type: str = "status.updated",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A v3 `status.updated` envelope (docs/vendors/didit.md, Webhooks and signature)."""
    body: dict[str, Any] = {
        "event_id": event_id or str(uuid.uuid4()),
        "webhook_type": webhook_type,
        "timestamp": timestamp,
        "created_at": timestamp,
        "application_id": "00000000-0000-4000-8000-000000000001",
        "environment": "sandbox",
        "session_id": session_id,
        "status": status,
        "workflow_id": "00000000-0000-4000-8000-0000000000aa",
        "workflow_version": 1,
        "vendor_data": vendor_data,
        "metadata": None,
    }
    body.update(extra or {})
    return body


def signed_request(
    body: dict[str, Any] | bytes, secret: str, timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """Raw bytes + headers carrying both X-Signature (raw) and X-Signature-V2 (canonical)."""
    if isinstance(body, bytes):
        raw = body
        v2 = hmac_hex(secret, raw)
    else:
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        v2 = hmac_hex(secret, canonical.encode())
    headers = {
        "content-type": "application/json",
        "x-timestamp": str(timestamp),
        "x-signature": hmac_hex(secret, raw),
        "x-signature-v2": v2,
    }
    return raw, headers


#: The v3 session envelope Didit documents (docs/vendors/didit.md, Webhooks and signature):
#: `timestamp` is the dispatch time, `created_at` when the status changed.
DOC_TIMESTAMP = 1774970000
DOC_CREATED_AT = 1774969994
DOC_SESSION_ID = "11111111-2222-3333-4444-555555555555"


def documented_envelope(**overrides: Any) -> dict[str, Any]:
    """Didit's documented `status.updated` envelope, with real-looking ids where the page
    shows the placeholder "uuid"."""
    body: dict[str, Any] = {
        "event_id": "0b7e6a52-0000-4000-8000-000000000001",
        "webhook_type": "status.updated",
        "timestamp": DOC_TIMESTAMP,
        "created_at": DOC_CREATED_AT,
        "application_id": "0b7e6a52-0000-4000-8000-0000000000aa",
        "session_id": DOC_SESSION_ID,
        "status": "Approved",
        "workflow_id": "0b7e6a52-0000-4000-8000-0000000000bb",
        "workflow_version": 4,
        "vendor_data": "internal-user-id",
        "metadata": {"any": "json"},
    }
    body.update(overrides)
    return body


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)
