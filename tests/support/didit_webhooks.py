"""Signs Didit webhooks the way Didit documents it (docs/vendors/didit.md, Webhooks and signature),
written independently of the adapter so a wrong verifier cannot agree with a wrong signer."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any


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
        v2 = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    else:
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        v2 = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "x-timestamp": str(timestamp),
        "x-signature": hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest(),
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
