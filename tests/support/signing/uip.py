"""Signs UIP webhooks (docs/vendors/uip.md, Webhooks and signature):
X-UIP-Signature = hex(HMAC-SHA256(secret, f"{X-UIP-Timestamp}.{raw body}"))."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

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
    """Raw bytes and headers, with `X-UIP-Event` (the body's `event` unless given) and
    `X-UIP-Delivery-Id` (unsigned, as UIP sends it)."""
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
