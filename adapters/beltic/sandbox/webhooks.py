"""Document-status webhooks of the Beltic emulator (docs/vendors/beltic.md, Webhooks and
signature).

Beltic documents **no session webhooks**: a session's status changes are never pushed, the
gateway learns them by polling. What Beltic does push is a JSON:API document resource when a
document's status changes to one the webhook config subscribes to; the sandbox has one
implicit config (`resource_type: document`, `subscribed_statuses: ["processed", "failed"]`,
the doc's example) pointing at `SandboxConfig.webhook_url`.

Own signing code, written from the vendor docs, not shared with the adapter:
`X-Webhook-Signature` = hex HMAC-SHA256 of the raw body with the webhook secret (inferred
encoding: the guide's Node example is cut off; no timestamp), `X-Webhook-Token` = a static
token.
Non-2xx answers are retried: 5 attempts at most (documented), after the configured delays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from adapters.base import SandboxConfig
from adapters.common.sandbox.webhooks import DeliveryJob, DeliveryResult, SignedWebhooks

JSON = dict[str, Any]
USER_AGENT = "Beltic-Webhooks/1.0 (sandbox)"  # inferred
MAX_ATTEMPTS = 5  # documented: "After 5 failed attempts, the delivery is marked as failed"
DELIVERY_TIMEOUT_S = 10.0  # inferred


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class DocumentWebhooks(SignedWebhooks):
    """Every failed attempt is retried, up to Beltic's documented cap; the caller awaits the
    first attempt, retries run behind (in order, per session)."""

    name = "beltic"
    timeout_s = DELIVERY_TIMEOUT_S
    max_attempts = MAX_ATTEMPTS

    def __init__(self, config: SandboxConfig, secret: str, token: str) -> None:
        self._token = token
        super().__init__(config, secret)

    async def send(self, session_id: str, payload: JSON) -> DeliveryResult:
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        return await self._enqueue(session_id, {"raw": raw}, "document")

    def _build(self, job: DeliveryJob, attempt: int) -> tuple[bytes, dict[str, str]]:
        body = job.payload["raw"].encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Token": self._token,
            "X-Webhook-Signature": signature(self._secret, body),
        }
        return body, headers
