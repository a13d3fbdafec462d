"""The delivery benchmark's receiver: an integrator's endpoint doing the least an honest one
does. Each `POST /hooks` is verified with the `standardwebhooks` library (signature and
timestamp, then the JSON parse), counted by its `webhook-id` and answered 204; a bad
signature is counted and answered 400. Both sides of `bench/delivery.py` post to this one
process, so each request costs the receiver the same in both runs.

`GET /progress` (accepted, rejected, distinct ids), `GET /stats` (the count per id, the
first and last arrival on the system-wide monotonic clock, body bytes) and `POST /reset`
serve the benchmark. Plain ASGI on uvicorn, as `kyc-gateway serve` runs. The secret comes
from `KYCGW_BENCH_RECEIVER_SECRET`, never the command line.
Run: `python -m bench.receiver_app PORT`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

SECRET_ENV = "KYCGW_BENCH_RECEIVER_SECRET"
PATH = "/hooks"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Receiver:
    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, int] = {}
        self.accepted = 0
        self.rejected = 0
        self.body_bytes = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    def accept(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            self.webhook.verify(body, headers)
        except WebhookVerificationError:
            self.rejected += 1
            return 400
        now = time.monotonic()
        webhook_id = headers["webhook-id"]
        self.counts[webhook_id] = self.counts.get(webhook_id, 0) + 1
        self.accepted += 1
        self.body_bytes += len(body)
        self.first_at = now if self.first_at is None else self.first_at
        self.last_at = now
        return 204

    def progress(self) -> dict[str, int]:
        return {"accepted": self.accepted, "rejected": self.rejected, "ids": len(self.counts)}

    def stats(self) -> dict[str, Any]:
        return {
            **self.progress(),
            "counts": self.counts,
            "body_bytes": self.body_bytes,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _body(receive)
        route = (scope["method"], scope["path"])
        if route == ("POST", PATH):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            await _answer(send, self.accept(body, headers))
        elif route == ("GET", "/progress"):
            await _answer(send, 200, self.progress())
        elif route == ("GET", "/stats"):
            await _answer(send, 200, self.stats())
        elif route == ("POST", "/reset"):
            self.reset()
            await _answer(send, 204)
        elif route == ("GET", "/healthz"):
            await _answer(send, 200, {"status": "ok"})
        else:
            await _answer(send, 404)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, payload: dict[str, Any] | None = None) -> None:
    body = b"" if payload is None else json.dumps(payload).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    if payload is not None:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str]) -> None:
    import gc

    import uvicorn

    app = Receiver(os.environ[SECRET_ENV])
    gc.freeze()  # as `kyc-gateway serve` does
    uvicorn.run(
        app, host="127.0.0.1", port=int(argv[0]), log_config=None, access_log=False, lifespan="off"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
