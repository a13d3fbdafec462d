"""Signed `status.updated` deliveries of the Didit emulator (docs/vendors/didit.md,
Webhooks and signature).

Own signing code, written from the vendor docs, not shared with the adapter: if the adapter's
verification is wrong, the sandbox's webhooks fail it. Deliveries for one session go out
strictly in order; a failed attempt is retried in the background before the next one starts
(the queue itself is the vendor-neutral `adapters.common.sandbox.webhooks`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

from adapters.common.sandbox.webhooks import (
    NOT_SENT,
    DeliveryJob,
    DeliveryResult,
    SignedWebhooks,
)
from adapters.didit.sandbox.payloads import new_event_id
from adapters.didit.signature import canonical_json

JSON = dict[str, Any]
USER_AGENT = "DiditWebhook/2.0 +https://didit.me"
#: Didit expects a 2xx within 5 s (docs/vendors/didit.md, Webhooks and signature).
DELIVERY_TIMEOUT_S = 5.0


def raw_body(payload: JSON) -> bytes:
    """The bytes Didit sends: sorted keys, compact, ASCII-escaped."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, payload: JSON, raw: bytes) -> dict[str, str]:
    """Didit's three signatures. X-Signature-V2's canonical form is said once, in the
    adapter's `canonical_json`; the sandbox tests sign with a copy of their own, so the form
    is still checked apart from both."""
    timestamp = str(payload["timestamp"])
    simple = f"{timestamp}:{payload['session_id']}:{payload['status']}:{payload['webhook_type']}"
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Timestamp": timestamp,
        "X-Signature": hmac_hex(secret, raw),
        "X-Signature-V2": hmac_hex(secret, canonical_json(payload, ensure_ascii=False)),
        "X-Signature-Simple": hmac_hex(secret, simple.encode("utf-8")),
    }


__all__ = ["NOT_SENT", "DeliveryResult", "WebhookDispatcher"]


class WebhookDispatcher(SignedWebhooks):
    """One ordered queue per session; callers await the first attempt of their own event."""

    name = "didit"
    timeout_s = DELIVERY_TIMEOUT_S

    def should_retry(self, status_code: int) -> bool:
        """5xx and 404 are retried; 3xx and other 4xx are not."""
        return status_code >= 500 or status_code == 404

    def enqueue(self, session_id: str, envelope: JSON) -> asyncio.Future[DeliveryResult]:
        """Queue one event; the future resolves after its first delivery attempt."""
        return self._enqueue(session_id, envelope, str(envelope.get("status")))

    def _build(self, job: DeliveryJob, attempt: int) -> tuple[bytes, dict[str, str]]:
        """One attempt, signed afresh: its own event_id and a new `timestamp` (= X-Timestamp),
        while `created_at`, when the status changed, stays the event's (docs/vendors/didit.md,
        Webhooks and signature). Retries and redeliveries alike go through here."""
        payload = {
            **job.payload,
            "event_id": new_event_id(),
            "timestamp": int(self._clock().timestamp()),
        }
        raw = raw_body(payload)
        return raw, signed_headers(self._secret, payload, raw)
