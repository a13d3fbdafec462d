"""Counts HTTP responses by route and status class, as plain ASGI middleware.

Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) runs every request through an
extra task and memory stream; on a webhook that cost more than the signature check."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics


class RequestCounter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            # The router leaves the matched route in the scope it was given.
            route = scope.get("route")
            path = getattr(route, "path", None) or scope["path"].split("/")[1][:32]
            metrics.http_requests_total.labels(path, f"{status // 100}xx").inc()
