"""Signs Verifa webhooks (docs/vendors/verifa.md, Webhooks and signature):
`X-Verifa-Signature: t=<unix>,v1=<hex>` with v1 = hex(HMAC-SHA256(secret, f"{t}.{raw}")), or the
legacy bare hex(HMAC-SHA256(secret, raw))."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

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
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if legacy:
        header = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    else:
        message = str(timestamp).encode() + b"." + raw
        header = (
            f"t={timestamp},v1={hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"
        )
    return raw, {"X-Verifa-Signature": header, "Content-Type": "application/json"}
