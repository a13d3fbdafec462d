"""Standard Webhooks signatures (the `standardwebhooks` library): `v1,<base64 HMAC-SHA256>`
over `{webhook-id}.{webhook-timestamp}.{body}`. After a rotation the old secret signs beside
the new one for a grace period, so a receiver can switch secrets without losing a delivery."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

from gateway.webhook_config import SECRET_PREFIX

SECRET_BYTES = 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_secrets(
    secret: str, previous: str | None, previous_until: datetime | None, now: datetime
) -> list[str]:
    """The current secret, and the previous one while its grace period lasts."""
    keys = [secret]
    if previous and previous_until is not None and now < previous_until:
        keys.append(previous)
    return keys


def signature(keys: Sequence[str], message_id: str, timestamp: datetime, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,…` per key, space-separated (the spec's way of
    carrying several)."""
    return " ".join(Webhook(key).sign(message_id, timestamp, body) for key in keys)


def headers(
    keys: Sequence[str], message_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature(keys, message_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "kyc-gateway-webhooks/1",
    }
