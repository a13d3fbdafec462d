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

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

import httpx

from adapters.common.sandbox.webhooks import NOT_SENT, DeliveryResult

log = logging.getLogger(__name__)

JSON = dict[str, Any]
USER_AGENT = "Beltic-Webhooks/1.0 (sandbox)"  # inferred
MAX_ATTEMPTS = 5  # documented: "After 5 failed attempts, the delivery is marked as failed"
DELIVERY_TIMEOUT_S = 10.0  # inferred


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class DocumentWebhooks:
    """Sends one event at a time; the caller awaits the first attempt, retries run behind."""

    def __init__(
        self,
        url: str,
        secret: str,
        token: str,
        transport: httpx.AsyncBaseTransport | None,
        retry_delays_s: tuple[float, ...],
    ) -> None:
        self._url = url
        self._secret = secret
        self._token = token
        self._transport = transport
        self._delays = tuple(retry_delays_s)[: MAX_ATTEMPTS - 1]
        self._client: httpx.AsyncClient | None = None
        self._retries: set[asyncio.Task[None]] = set()

    async def send(self, payload: JSON) -> DeliveryResult:
        if not self._url:
            return NOT_SENT
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        result = await self._attempt(body, 1)
        if not result.delivered and self._delays:
            task = asyncio.create_task(self._retry(body))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)
        return result

    async def aclose(self) -> None:
        tasks = list(self._retries)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _retry(self, body: bytes) -> None:
        attempt = 1
        for delay in self._delays:
            await asyncio.sleep(delay)
            attempt += 1
            if (await self._attempt(body, attempt)).delivered:
                return
        log.warning("beltic sandbox document webhook given up after %d attempts", attempt)

    async def _attempt(self, body: bytes, attempt: int) -> DeliveryResult:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Token": self._token,
            "X-Webhook-Signature": signature(self._secret, body),
        }
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=DELIVERY_TIMEOUT_S, follow_redirects=False
            )
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("beltic sandbox document webhook transport error: %s", type(exc).__name__)
            return NOT_SENT
        code = response.status_code
        log.info("beltic sandbox document webhook attempt=%d -> %d", attempt, code)
        return DeliveryResult(200 <= code < 300, code)
