"""The uqudo emulator's global webhook (docs/vendors/uqudo.md, Webhooks and signature).

- `POST` to the account's one URL, JSON body `{"jwsResult": "<JWS>"}`, once per completed
  session;
- caller authentication is a static portal-configured header (here
  `Authorization: Bearer <token>`): there is no HMAC, the JWS itself is the proof;
- "undelivered messages are retried every 5 minutes for up to 2 hours": any answer other than
  2xx, or none, is retried after each of the gateway's `webhook_retry_delays_s`, with the same
  body; a session's deliveries go out in order (adapters/common/sandbox/webhooks.py).
"""

from __future__ import annotations

import asyncio
import json

from adapters.common.sandbox.webhooks import DeliveryJob, DeliveryResult, SignedWebhooks
from adapters.uqudo.sandbox.model import WEBHOOK_AUTH_HEADER, WEBHOOK_TIMEOUT_S


class UqudoWebhooks(SignedWebhooks):
    """Not signed: the portal's caller authentication, a static header (`_secret` is its
    value). "Undelivered messages are retried": every non-2xx."""

    name = "uqudo"
    timeout_s = WEBHOOK_TIMEOUT_S

    def send(self, session_id: str, jws: str) -> asyncio.Future[DeliveryResult]:
        """Queue the `jwsResult` of one session; resolves after the first attempt."""
        raw = json.dumps({"jwsResult": jws}, separators=(",", ":"))
        return self._enqueue(session_id, {"raw": raw}, "jwsResult")

    def _build(self, job: DeliveryJob, attempt: int) -> tuple[bytes, dict[str, str]]:
        headers = {"Content-Type": "application/json", WEBHOOK_AUTH_HEADER: self._secret}
        return job.payload["raw"].encode("utf-8"), headers
