"""Keeps a mounted sandbox's tooling (faults, simulate, redeliver, settings) for credentials
with the `sandbox:control` scope. Without it, a browser holding only its client token could
approve its own session (issue 14); in dev mode every caller has every scope."""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.base import SandboxHandle
from gateway.auth import Authenticator
from gateway.auth import Scope as AuthScope


class SandboxGuard:
    """ASGI wrapper around one mounted sandbox; the adapter's own calls bypass it (they go
    to the sandbox in-process, not through the mount)."""

    def __init__(self, app: ASGIApp, sandbox: SandboxHandle, auth: Authenticator) -> None:
        self.app = app
        self.sandbox = sandbox
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_control(scope):
            await self.app(scope, receive, send)
            return
        principal = self.auth.from_headers(Headers(scope=scope))
        if principal.has(AuthScope.SANDBOX_CONTROL):
            await self.app(scope, receive, send)
            return
        if not principal.authenticated:
            status, message = 401, principal.problem or "credentials required"
        else:
            status, message = 403, "this credential lacks the sandbox:control scope"
        body = json.dumps({"error": message}).encode()
        headers = [(b"content-type", b"application/json")]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _is_control(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return self.sandbox.is_control_path(path)
