"""The ASGI application: GraphQL, webhook ingress, vendor sandboxes, health and metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from adapters.base import Clock, utc_now
from gateway.auth import Authenticator
from gateway.bus.events import InProcessBus
from gateway.bus.redis_bus import RedisBus
from gateway.errors import ConfigError
from gateway.logs import SCRUBBER, failure
from gateway.outbound.service import OutboundWebhooks, build_outbound
from gateway.sessions.leader import Leadership
from gateway.sessions.polling import effective_policies
from gateway.sessions.reconcile import Reconciler
from gateway.sessions.service import SessionService
from gateway.sessions.streams import StreamFollower
from gateway.sessions.validation import Limits
from gateway.settings import Settings
from gateway.store.db import make_engine, make_session_factory
from gateway.store.migrate import upgrade
from gateway.vendors.breakers import Breakers
from gateway.vendors.providers import Providers, build_providers
from gateway.vendors.routing import Router
from gateway.web.graphql.context import Context
from gateway.web.graphql.router import PREFLIGHT_HEADERS, GatewayGraphQLRouter
from gateway.web.graphql.schema import build_schema
from gateway.web.graphql.ws_reset import WebSocketReset
from gateway.web.hosts import HostGuard
from gateway.web.http_metrics import RequestCounter
from gateway.web.ops_routes import ops_router
from gateway.web.pages import pages_router
from gateway.web.readiness import DatabaseProbe
from gateway.web.reports import report_router
from gateway.web.sandbox_guard import SandboxGuard
from gateway.web.webhooks import webhook_routes

log = logging.getLogger(__name__)


@dataclass
class Gateway:
    """Handles tests and the CLI need besides the ASGI app."""

    app: FastAPI
    service: SessionService
    providers: Providers
    bus: InProcessBus | RedisBus
    reconciler: Reconciler
    follower: StreamFollower
    outbound: OutboundWebhooks


LOOPBACK_HOSTS = frozenset({"localhost", "::1"})


def check_exposure(settings: Settings) -> None:
    """Without API keys the gateway is open: refuse to listen beyond this machine."""
    host = settings.host
    if settings.dev_mode and not (host in LOOPBACK_HOSTS or host.startswith("127.")):
        raise ConfigError(
            f"refusing to listen on {host} without API keys: set KYCGW_API_KEYS (see "
            "`kyc-gateway new-api-key`) or bind to 127.0.0.1"
        )


def create_gateway(
    settings: Settings,
    *,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    sandbox_retry_delays_s: tuple[float, ...] | None = None,
    clock: Clock = utc_now,
    run_migrations: bool = True,
    outbound_transport: httpx.AsyncBaseTransport | None = None,
) -> Gateway:
    """Wire the gateway from settings: the core (store, bus, service, background work), the
    HTTP surface on top of it, and the middleware around everything."""
    assert settings.database_url is not None
    check_exposure(settings)
    providers = build_providers(
        settings,
        webhook_transport=webhook_transport,
        webhook_retry_delays_s=sandbox_retry_delays_s,
    )
    register_secrets(settings, providers)
    core = build_core(settings, providers, clock, outbound_transport)
    auth = build_authenticator(settings, clock)
    app = FastAPI(
        title="kyc-gateway",
        lifespan=lifespan(settings, core, run_migrations),
        docs_url=None,
        redoc_url=None,
        # Webhooks cap their own bodies (and say 413); this is the outer bound for all.
        max_body_size=max(
            settings.webhook_max_body_bytes, settings.max_request_bytes, settings.max_upload_bytes
        ),
    )
    mount_surface(app, settings, core, auth)
    add_middleware(app, settings)
    app.state.leadership = core.leadership
    return Gateway(
        app=app,
        service=core.service,
        providers=providers,
        bus=core.bus,
        reconciler=core.reconciler,
        follower=core.follower,
        outbound=core.outbound,
    )


@dataclass
class Core:
    """What lives as long as the process, whatever serves it."""

    providers: Providers
    engine: AsyncEngine
    write_engine: AsyncEngine
    bus: InProcessBus | RedisBus
    leadership: Leadership
    service: SessionService
    follower: StreamFollower
    reconciler: Reconciler
    outbound: OutboundWebhooks


def register_secrets(settings: Settings, providers: Providers) -> None:
    """Every secret the process holds is scrubbed from its logs (gateway/logs.py)."""
    for entry in providers.entries.values():
        if entry.adapter is not None:
            SCRUBBER.secrets.update(
                v for v in (entry.adapter.config.api_key, entry.adapter.config.webhook_secret) if v
            )
            SCRUBBER.secrets.update(entry.adapter.config.secrets_to_scrub)
    if settings.client_token_secret:
        SCRUBBER.secrets.add(settings.client_token_secret.get_secret_value())
    SCRUBBER.secrets.update(s.get_secret_value() for s in settings.client_token_previous_secrets)
    if settings.metrics_token:
        SCRUBBER.secrets.add(settings.metrics_token.get_secret_value())
    SCRUBBER.secrets.update(e.secret.get_secret_value() for e in settings.webhook_endpoints)


def build_core(
    settings: Settings,
    providers: Providers,
    clock: Clock,
    outbound_transport: httpx.AsyncBaseTransport | None = None,
) -> Core:
    assert settings.database_url is not None
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    write_engine = (
        make_engine(settings.database_url, immediate=True)
        if engine.dialect.name == "sqlite"
        else engine
    )
    bus: InProcessBus | RedisBus = (
        RedisBus(settings.broker_url, queue_size=settings.subscriber_queue_size)
        if settings.broker_url
        else InProcessBus(queue_size=settings.subscriber_queue_size)
    )
    leadership = Leadership(engine, retry_s=settings.leader_retry_s)
    policies = effective_policies(settings, providers)
    router = Router(
        settings.routing,
        providers.default,
        providers.names(),
        providers.capabilities,
    )
    unknown = sorted(router.known_vendors() - set(providers.names()))
    if unknown:
        raise ConfigError(f"KYCGW_ROUTING names vendors that are not enabled: {', '.join(unknown)}")
    read_factory = make_session_factory(engine)
    write_factory = make_session_factory(write_engine)
    service = SessionService(
        read_factory,
        providers,
        bus,
        default_provider=providers.default,
        limits=Limits.of(settings),
        policies=policies,
        write_factory=write_factory,
        router=router,
        breakers=Breakers(settings.breaker_threshold, settings.breaker_cooldown_s),
        read_cache_ttl_s=settings.vendor_read_cache_ttl_s,
        clock=clock,
        adopt_unknown=frozenset(
            name for name in providers.names() if settings.vendor_flag(name, "ADOPT_UNKNOWN")
        ),
    )
    follower = StreamFollower(service)
    service.created_hooks.append(follower.follow)
    reconciler = Reconciler(
        service,
        policies,
        tick_s=settings.reconcile_tick_s,
        concurrency=settings.reconcile_concurrency,
        is_leader=lambda: leadership.is_leader,
    )
    outbound = build_outbound(
        settings,
        read_factory,
        write_factory,
        providers.names(),
        clock,
        transport=outbound_transport,
    )
    service.committed_hooks.append(outbound.wake)
    return Core(
        providers, engine, write_engine, bus, leadership, service, follower, reconciler, outbound
    )


def lifespan(
    settings: Settings, core: Core, run_migrations: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up (migrations, warnings, vendors, bus, leadership, reconciler, vendor
    channels) and shutdown, in reverse."""
    providers = core.providers

    @asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            await asyncio.to_thread(upgrade, settings.database_url)
        mounted = [n for n in providers.names() if providers.entries[n].sandbox is not None]
        if mounted and not settings.dev_mode:
            log.warning(
                "SANDBOXES MOUNTED in a keyed deployment (KYCGW_SANDBOXES): sessions at these "
                "vendors are emulated and can be driven by any API key with the "
                "sandbox:control scope; do not use them for real verifications",
                extra={"providers": ",".join(mounted)},
            )
        if settings.dev_mode:
            log.warning(
                "DEV MODE: no API keys configured, the API is open to anyone who can reach "
                "it; listening on loopback only. Set KYCGW_API_KEYS before exposing it.",
                extra={"host": settings.host},
            )
        log.info(
            "gateway started",
            extra={
                "providers": ",".join(
                    f"{n}:{providers.entries[n].environment.value}" for n in providers.names()
                )
            },
        )
        for name in providers.names():
            adapter = providers.adapter(name)
            if adapter is not None:
                try:
                    await adapter.start()
                except Exception as error:  # a vendor that is down must not stop the gateway
                    log.exception(
                        "provider start failed", extra={"provider": name, **failure(error)}
                    )
        if isinstance(core.bus, RedisBus):
            await core.bus.start()
        core.leadership.start()
        if settings.reconcile_enabled:
            core.reconciler.start()
        await core.follower.resume_all()
        await core.outbound.start()
        try:
            yield
        finally:
            await core.outbound.stop()
            await core.follower.stop()
            await core.reconciler.stop()
            await core.leadership.stop()
            await core.bus.aclose()
            await providers.aclose()
            await core.engine.dispose()
            if core.write_engine is not core.engine:
                await core.write_engine.dispose()

    return run


def build_authenticator(settings: Settings, clock: Clock) -> Authenticator:
    return Authenticator(
        settings.api_keys,
        settings.client_token_secret.get_secret_value() if settings.client_token_secret else None,
        clock=clock,
        max_token_ttl_s=settings.client_token_max_ttl_s,
        previous_token_secrets=[
            s.get_secret_value() for s in settings.client_token_previous_secrets
        ],
    )


def graphql_router(
    settings: Settings, service: SessionService, auth: Authenticator, outbound: OutboundWebhooks
) -> GatewayGraphQLRouter:
    protocols = [GRAPHQL_TRANSPORT_WS_PROTOCOL]
    if settings.enable_legacy_graphql_ws:
        protocols.append(GRAPHQL_WS_PROTOCOL)
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_fields=settings.max_query_fields,
        max_json_depth=settings.max_json_depth,
        introspection=settings.introspection,
        public_schema=settings.public_schema,
        field_suggestions=settings.dev_mode
        if settings.field_suggestions is None
        else settings.field_suggestions,
    )

    async def get_context(connection: HTTPConnection) -> Context:
        return Context(service, auth, auth.from_headers(connection.headers), outbound)

    return GatewayGraphQLRouter(
        schema,
        path="/graphql",
        graphql_ide="graphiql" if settings.graphiql else None,
        context_getter=get_context,
        subscription_protocols=protocols,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout_s),
        allowed_origins=settings.cors_origins,
        subscriber_queue_size=settings.subscriber_queue_size,
        subscriber_queue_bytes=settings.subscriber_queue_bytes,
        subscriber_send_timeout_s=settings.subscriber_send_timeout_s,
        multipart_uploads_enabled=True,
        max_request_bytes=settings.max_request_bytes,
        public_schema=settings.public_schema,
    )


def mount_surface(app: FastAPI, settings: Settings, core: Core, auth: Authenticator) -> None:
    """GraphQL, webhooks, pages, sandboxes and the ops endpoints."""
    app.include_router(
        graphql_router(settings, core.service, auth, core.outbound),
        # Multipart requests may carry a file; JSON bodies are held to max_request_bytes by
        # the router itself.
        max_body_size=max(settings.max_request_bytes, settings.max_upload_bytes),
    )
    app.router.routes.append(webhook_routes(core.service, settings.webhook_max_body_bytes))
    app.include_router(pages_router(core.service, auth, settings))
    app.include_router(report_router(core.service, auth))
    providers = core.providers
    for name in providers.names():
        entry = providers.entries[name]
        if entry.sandbox_app is not None and entry.sandbox is not None:
            app.mount(f"/sandbox/{name}", SandboxGuard(entry.sandbox_app, entry.sandbox, auth))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/graphql")

    leadership = core.leadership
    app.include_router(
        ops_router(
            providers=providers,
            database=DatabaseProbe(core.write_engine),
            bus=core.bus,
            is_leader=lambda: leadership.is_leader,
            auth=auth,
            metrics_token=settings.metrics_token.get_secret_value()
            if settings.metrics_token
            else None,
        )
    )


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """Innermost first: each one added wraps those before it."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-api-key", *PREFLIGHT_HEADERS],
        )
    # Lets the websocket handler drop a peer that stopped reading (gateway/web/graphql/ws_reset.py).
    app.add_middleware(WebSocketReset)
    app.add_middleware(RequestCounter)
    # Outermost: a foreign Host name (DNS rebinding) is refused before anything else runs.
    app.add_middleware(HostGuard, settings=settings)
