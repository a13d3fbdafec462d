"""Counts HTTP responses by route and status class, as plain ASGI middleware.

Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) runs every request through an
extra task and memory stream; on a webhook that cost more than the signature check.

The route label is a route *template*, never a path a caller chose: each label value is a
Prometheus series kept for the life of the process, so a label taken from the request path
let anyone grow `/metrics` without bound (issue 14)."""

from __future__ import annotations

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics

#: Every request no route template matched (including a mount with nothing inside it).
UNMATCHED = "<unmatched>"
#: Label for templates beyond `MAX_ROUTE_LABELS` (templates are finite; this is a backstop
#: against a mount whose own path has parameters).
OTHER = "<other>"
MAX_ROUTE_LABELS = 200


def route_label(scope: Scope, status: int) -> str:
    """The matched route's template, with the prefix of the mounts it sits in.

    Starlette's router leaves the innermost matched route in `scope["route"]` and the mount
    prefixes it consumed in `scope["root_path"]` (beyond the server's own `app_root_path`).
    A `Mount` left there means the mounted app routed nothing itself: a 404 from it is
    unmatched; any other answer (an ASGI app without routes) is labelled with the mount."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    prefix = scope.get("root_path", "")[len(scope.get("app_root_path", "")) :]
    if isinstance(route, Mount):
        if status == 404:
            return UNMATCHED
        return prefix or path
    return prefix + path


class RequestCounter:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._labels: set[str] = set()

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
            label = route_label(scope, status)
            if label not in self._labels:
                if len(self._labels) >= MAX_ROUTE_LABELS:
                    label = OTHER
                else:
                    self._labels.add(label)
            metrics.http_requests_total.labels(label, f"{status // 100}xx").inc()
