"""`/healthz`, `/readyz` and `/metrics`: what load balancers, orchestrators and Prometheus call.

The probes stay open (they reveal nothing but liveness). `/metrics` is open in dev mode
unless `KYCGW_METRICS_TOKEN` is set; with API keys configured it needs that token
(`Authorization: Bearer <token>`, for a scraper) or an API key with the stats:read scope."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway import metrics
from gateway.auth import Authenticator, PrincipalKind, Scope
from gateway.bus.events import InProcessBus
from gateway.bus.redis_bus import RedisBus
from gateway.vendors.providers import Providers
from gateway.web.readiness import DatabaseProbe

CHALLENGE = {"www-authenticate": 'Bearer realm="metrics"'}


def metrics_access(
    headers: Mapping[str, str], auth: Authenticator, token: str | None
) -> int | None:
    """None when the caller may read `/metrics`, else the status to answer (401/403)."""
    authorization = headers.get("authorization", "")
    if token and authorization[:7].lower() == "bearer ":
        if hmac.compare_digest(authorization[7:].strip().encode(), token.encode()):
            return None
    if auth.dev_mode:
        # Every dev-mode caller is the all-scopes DEV principal: only the token can count.
        return 401 if token else None
    principal = auth.from_headers(headers)
    if principal.kind is PrincipalKind.API_KEY and principal.has(Scope.STATS_READ):
        return None
    return 403 if principal.authenticated else 401


def ops_router(
    *,
    providers: Providers,
    database: DatabaseProbe,
    bus: InProcessBus | RedisBus,
    is_leader: Callable[[], bool],
    auth: Authenticator,
    metrics_token: str | None,
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, object]:
        """Liveness: the process answers (and which vendors it serves, in which mode)."""
        return {
            "status": "ok",
            "providers": {n: providers.entries[n].environment.value for n in providers.names()},
        }

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        """Readiness: the database takes a write and the broker answers."""
        checks: dict[str, bool] = {"database": await database.writable()}
        if isinstance(bus, RedisBus):
            checks["broker"] = await bus.ping()
        ready = all(checks.values())
        return JSONResponse(
            {"ready": ready, "checks": checks, "reconciler": is_leader()},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics")
    async def prometheus(request: Request) -> Response:
        refused = metrics_access(request.headers, auth, metrics_token)
        if refused is not None:
            return JSONResponse(
                {"error": "send the metrics token or an API key with the stats:read scope"},
                status_code=refused,
                headers=CHALLENGE if refused == 401 else None,
            )
        return PlainTextResponse(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
