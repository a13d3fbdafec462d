"""Signs Beltic webhooks (docs/vendors/beltic.md, Webhooks and signature): the
X-Webhook-Signature "is generated using an HMAC-SHA256 of the request body signed with your
webhook secret", and X-Webhook-Token is sent as configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

SECRET = "test-webhook-secret"
TOKEN = "test-webhook-token"


def sign_webhook(
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    encoding: str = "hex",
    token: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """HMAC-SHA256 of the raw body in `X-Webhook-Signature` ("hex", "HEX", "base64" or
    "prefixed" = `sha256=<hex>`)."""
    raw = body if isinstance(body, bytes) else json.dumps(body, indent=1).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    value = {
        "hex": digest.hex(),
        "HEX": digest.hex().upper(),
        "base64": base64.b64encode(digest).decode(),
        "prefixed": "sha256=" + digest.hex(),
    }[encoding]
    headers = {"Content-Type": "application/json", "X-Webhook-Signature": value}
    if token is not None:
        headers["X-Webhook-Token"] = token
    return raw, headers
