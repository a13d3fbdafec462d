"""Which `Host` names the gateway answers to (HTTP and websockets).

Binding to loopback does not stop DNS rebinding: a page on evil.example whose name is rebound
to 127.0.0.1 talks to the gateway as its own origin (`Host` and `Origin` both evil.example), so
CORS and the websocket origin check both pass. Refusing foreign host names stops it
(docs/security.md). Starlette's `TrustedHostMiddleware` does the matching."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.settings import Settings

#: Names a browser uses for this machine; a rebound name is never one of them.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::"})
#: Load balancers and orchestrators probe a replica by its address (`Host: 10.0.0.5:8000`);
#: these answers carry nothing a rebinding page could use.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class HostGuard:
    """`TrustedHostMiddleware` for everything but the health probes."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts(settings))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
        else:
            await self.checked(scope, receive, send)


def allowed_hosts(settings: Settings) -> list[str]:
    """Loopback names, the host of the gateway's own public URL, the address it binds to (when
    a specific one) and `KYCGW_ALLOWED_HOSTS` (`*`, `*.example.com` patterns allowed)."""
    if "*" in settings.allowed_hosts:
        return ["*"]
    hosts = [*LOOPBACK_NAMES, *settings.allowed_hosts]
    public = urlsplit(settings.public_url or "").hostname
    if public:
        hosts.append(public)
    if settings.host not in _WILDCARD_ADDRESSES:
        hosts.append(settings.host)
    # Starlette compares IPv6 hosts as the header writes them: in brackets.
    return list(dict.fromkeys(_bracketed(host.lower()) for host in hosts))


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
