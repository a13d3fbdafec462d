"""Signed webhook deliveries of the UIP emulator (https://docs.uip.digital/core-concepts/webhooks).

Own signing code, written from the vendor docs, not shared with the adapter: if the adapter's
verification is wrong, the sandbox's webhooks fail it.

- headers `X-UIP-Event`, `X-UIP-Timestamp` (Unix seconds when signed),
  `X-UIP-Signature` = hex HMAC-SHA256(webhook secret, "{timestamp}.{raw body}"),
  `X-UIP-Delivery-Id` (stable per event: the same on every retry);
- the body is serialised once and is byte-identical on retries; timestamp and signature are
  fresh per attempt;
- per-session order (the shared dispatcher): `step.completed` in stage order, then the
  terminal `session.*` event; "retried with backoff until it succeeds" — any non-2xx or no
  answer, after each of the configured delays (UIP publishes no schedule or cap).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets

from adapters.common.sandbox.webhooks import (
    DeliveryJob,
    DeliveryResult,
    SignedWebhooks,
)
from adapters.uip.sandbox.model import JSON, USER_AGENT, WEBHOOK_TIMEOUT_S


def uip_signature(secret: str, timestamp: int, raw: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + raw
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class UipWebhooks(SignedWebhooks):
    """Every non-2xx is "retried with backoff until it succeeds"."""

    name = "uip"
    timeout_s = WEBHOOK_TIMEOUT_S

    def send(self, session_id: str, payload: JSON) -> asyncio.Future[DeliveryResult]:
        """Queue one `{event, data}` envelope; resolves after its first delivery attempt."""
        job = {
            "raw": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            "event": payload["event"],
            "delivery_id": "dlv_" + secrets.token_hex(12),
        }
        return self._enqueue(session_id, job, payload["event"])

    def _build(self, job: DeliveryJob, attempt: int) -> tuple[bytes, dict[str, str]]:
        raw, timestamp = self._stamped(job)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-UIP-Event": job.payload["event"],
            "X-UIP-Timestamp": str(timestamp),
            "X-UIP-Signature": uip_signature(self._secret, timestamp, raw),
            "X-UIP-Delivery-Id": job.payload["delivery_id"],
        }
        return raw, headers
