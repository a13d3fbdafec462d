"""Signed `session.*` deliveries of the Verifa emulator (docs/vendors/verifa.md, Webhooks and
signature).

Own signing code, written from the vendor docs, not shared with the adapter: if the adapter's
verification is wrong, the sandbox's webhooks fail it.

- `X-Verifa-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{raw body}")>` (current), or
  the legacy bare hex HMAC of the raw body (still accepted "during the deprecation window");
- `X-Verifa-Delivery-Id` and the flat payload's `idempotency_key`: one per delivery, the same
  on every retry; the body is byte-identical on retries, `t` and the signature are fresh;
- any non-2xx answer, or none within 30 s, is retried after each `webhook_retry_delays_s`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from adapters.base import SandboxConfig
from adapters.common.sandbox.webhooks import (
    DeliveryJob,
    DeliveryResult,
    SignedWebhooks,
)
from adapters.verifa.sandbox.model import WEBHOOK_TIMEOUT_S, Event, SandboxSession, iso
from adapters.verifa.sandbox.payloads import inflect, webhook_payload

USER_AGENT = "Verifa-Webhooks/1.0"  # [INFERRED]
SIGNATURE_FORMATS = ("v1", "legacy")
PAYLOAD_SHAPES = ("flat", "nested")


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, raw: bytes, timestamp: int, signature_format: str) -> str:
    if signature_format == "legacy":
        return hmac_hex(secret, raw)
    return f"t={timestamp},v1={hmac_hex(secret, str(timestamp).encode('ascii') + b'.' + raw)}"


@dataclass
class WebhookSettings:
    """Per-endpoint choices Verifa leaves to the integrator (or its deprecation window)."""

    signature_format: str = "v1"
    payload_shape: str = "flat"
    payload_inflection: str = "snake"


class VerifaWebhooks(SignedWebhooks):
    """Every non-2xx is retried ("non-2xx … → exponential backoff")."""

    name = "verifa"
    timeout_s = WEBHOOK_TIMEOUT_S

    def __init__(self, config: SandboxConfig, secret: str, settings: WebhookSettings) -> None:
        self.settings = settings
        super().__init__(config, secret)

    def send(
        self,
        event: Event,
        session: SandboxSession,
        *,
        minimal: bool = False,
        at: datetime | None = None,
    ) -> asyncio.Future[DeliveryResult]:
        """Queue `event` about `session` as it is now (the event time is `at`, default now);
        the future resolves after the first delivery attempt."""
        settings = self.settings
        idempotency_key = "idk_" + secrets.token_hex(16)
        payload = webhook_payload(
            event,
            session,
            shape=settings.payload_shape,
            idempotency_key=idempotency_key,
            created_at=iso(at or self._clock()),
            minimal=minimal,
        )
        raw = json.dumps(
            inflect(payload, settings.payload_inflection),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        job = {
            "raw": raw,
            "delivery_id": "whdel_" + secrets.token_hex(12),
            "signature_format": settings.signature_format,
        }
        return self._enqueue(session.id, job, event.value)

    def _build(self, job: DeliveryJob, attempt: int) -> tuple[bytes, dict[str, str]]:
        raw, timestamp = self._stamped(job)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Verifa-Signature": signature_header(
                self._secret, raw, timestamp, job.payload["signature_format"]
            ),
            "X-Verifa-Delivery-Id": job.payload["delivery_id"],
        }
        return raw, headers
