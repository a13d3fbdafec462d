"""Counts and times HTTP responses by route and status class, as plain ASGI middleware.

Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) runs every request through an
extra task and memory stream; on a webhook that cost more than the signature check.

The route label is a route *template*, never a path a caller chose: each label value is a
Prometheus series kept for the life of the process, so a label taken from the request path
let anyone grow `/metrics` without bound (issue 14)."""

from __future__ import annotations

import time

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
    """`kycgw_http_requests_total` and `kycgw_http_request_duration_seconds`, one bounded route
    label for both. The duration runs until the first body chunk has been sent: the whole
    response for an ordinary one, the time to first chunk for a stream (a subscription over
    HTTP would otherwise count its whole life as latency)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._labels: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()
        elapsed: float | None = None

        async def send_counting(message: Message) -> None:
            nonlocal status, elapsed
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if elapsed is None and message["type"] == "http.response.body":
                elapsed = time.perf_counter() - started

        try:
            await self.app(scope, receive, send_counting)
        finally:
            label = self._bounded(route_label(scope, status))
            status_class = f"{status // 100}xx"
            metrics.http_requests_total.labels(label, status_class).inc()
            if elapsed is None:  # no body sent (the app failed, or the client left)
                elapsed = time.perf_counter() - started
            metrics.http_request_seconds.labels(label, status_class).observe(elapsed)

    def _bounded(self, label: str) -> str:
        if label not in self._labels:
            if len(self._labels) >= MAX_ROUTE_LABELS:
                return OTHER
            self._labels.add(label)
        return label
