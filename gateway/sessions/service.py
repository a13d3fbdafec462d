"""The normalized session service: every entry point (GraphQL, webhooks, the reconciler, the
stream follower) goes through this one object, so deduplication, persistence and publishing
happen in one place. It only assembles the jobs, each in its own module:

- reads and queries: `gateway/sessions/queries.py`
- create (routing, failover, persisting): `gateway/sessions/create.py`, with the idempotency
  claims in `gateway/sessions/idempotency.py`
- vendor actions, refresh, metadata, redaction: `gateway/sessions/mutations.py`
- the vendor's report of a session (a PDF): `gateway/sessions/reports.py`
- webhook ingest (group commit, dedupe, outcomes): `gateway/sessions/ingest.py`
- adopting a vendor session made elsewhere: `gateway/sessions/adopt.py`

How a vendor snapshot changes a stored session is `gateway/sessions/applier.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import (
    JSON,
    AuditEntry,
    Capability,
    Clock,
    CreateSessionRequest,
    DecisionAction,
    DecisionOptions,
    SessionReport,
    SessionSnapshot,
    WebhookEvent,
    utc_now,
)
from gateway.bus.events import EventBus, StatusChanged, StatusSource
from gateway.routing_rules import RoutingConfig
from gateway.sessions.actions import SessionAction
from gateway.sessions.adopt import SessionAdoption
from gateway.sessions.core import SessionCore
from gateway.sessions.create import SessionCreator
from gateway.sessions.idempotency import IdempotencyClaims
from gateway.sessions.ingest import IngestOutcome, IngestResult, WebhookIngest
from gateway.sessions.mutations import Redaction, SessionMutations
from gateway.sessions.polling import EffectivePolicy
from gateway.sessions.queries import Page, ProviderView, SessionFilter, SessionQueries
from gateway.sessions.reports import SessionReports
from gateway.sessions.stats import GroupBy, StatsRow
from gateway.sessions.validation import Limits
from gateway.sessions.watch import WatchFilter
from gateway.store.models import SessionRow, StatusChangeRow
from gateway.vendors.breakers import Breakers
from gateway.vendors.input_support import IgnoredInput
from gateway.vendors.providers import Providers
from gateway.vendors.reads import VendorReadCache
from gateway.vendors.routing import Router

__all__ = [
    "IngestOutcome",
    "IngestResult",
    "Page",
    "ProviderView",
    "Redaction",
    "SessionFilter",
    "SessionService",
    "StatusSource",
    "WatchFilter",
]


class SessionService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        providers: Providers,
        bus: EventBus,
        *,
        default_provider: str,
        limits: Limits,
        policies: Mapping[str, EffectivePolicy],
        write_factory: async_sessionmaker[AsyncSession] | None = None,
        router: Router | None = None,
        breakers: Breakers | None = None,
        read_cache_ttl_s: float = 2.0,
        clock: Clock = utc_now,
        adopt_unknown: frozenset[str] = frozenset(),
    ) -> None:
        self.core = SessionCore(
            db=session_factory,
            write=write_factory or session_factory,
            providers=providers,
            bus=bus,
            limits=limits,
            policies=policies,
            router=router
            or Router(RoutingConfig(), default_provider, providers.names(), providers.capabilities),
            breakers=breakers or Breakers(),
            reads=VendorReadCache(read_cache_ttl_s),
            clock=clock,
        )
        self.queries = SessionQueries(self.core)
        self.creator = SessionCreator(self.core, IdempotencyClaims(self.core))
        self.mutations = SessionMutations(self.core)
        self.reports = SessionReports(self.core)
        self.ingest = WebhookIngest(self.core)
        self.adoption = SessionAdoption(self.core, adopt_unknown)

    @property
    def clock(self) -> Clock:
        return self.core.clock

    @property
    def policies(self) -> Mapping[str, EffectivePolicy]:
        return self.core.policies

    @property
    def db_factory(self) -> async_sessionmaker[AsyncSession]:
        """Read sessions of the service's database (for tools and tests that read rows)."""
        return self.core.db

    @property
    def created_hooks(self) -> list[Callable[[SessionRow], None]]:
        """Called with each newly created session (e.g. to follow its vendor channel)."""
        return self.creator.created_hooks

    @property
    def committed_hooks(self) -> list[Callable[[], None]]:
        """Called after each commit that recorded status changes."""
        return self.core.committed_hooks

    # -- adoption of sessions made elsewhere (gateway/sessions/adopt.py) -------------------
    def adopts(self, provider: str) -> bool:
        return self.adoption.adopts(provider)

    async def adopt(
        self, provider: str, provider_session_id: str, seen_at: datetime | None = None
    ) -> str:
        return await self.adoption.adopt(provider, provider_session_id, seen_at)

    # -- reads (gateway/sessions/queries.py) ----------------------------------------------
    async def get(self, session_id: str) -> SessionRow | None:
        return await self.queries.get(session_id)

    async def audit(self, session_id: str) -> tuple[AuditEntry, ...] | None:
        return await self.queries.audit(session_id)

    async def history(self, session_id: str) -> list[StatusChangeRow]:
        return await self.queries.history(session_id)

    async def histories(self, session_ids: Sequence[str]) -> list[list[StatusChangeRow]]:
        return await self.queries.histories(session_ids)

    async def list(
        self, where: SessionFilter, first: int, after: tuple[datetime, str] | None
    ) -> Page:
        return await self.queries.list(where, first, after)

    async def stats(
        self, start: datetime, end: datetime, group_by: list[GroupBy]
    ) -> list[StatsRow]:
        return await self.queries.stats(start, end, group_by)

    async def provider_views(self) -> list[ProviderView]:
        return await self.queries.provider_views()

    def routing_view(self) -> tuple[str, RoutingConfig]:
        return self.queries.routing_view()

    def ignored_inputs(self, provider: str, request: CreateSessionRequest) -> list[IgnoredInput]:
        return self.queries.ignored_inputs(provider, request)

    def capabilities(self, row: SessionRow) -> frozenset[Capability]:
        return self.queries.capabilities(row)

    def is_configured(self, provider: str) -> bool:
        return self.queries.is_configured(provider)

    def providers_with(self, capability: Capability) -> list[str]:
        return self.queries.providers_with(capability)

    def watch(self, where: WatchFilter, after: int | None) -> AsyncIterator[StatusChanged]:
        return self.queries.watch(where, after)

    async def open_sessions(self, providers: list[str]) -> list[SessionRow]:
        return await self.queries.open_sessions(providers)

    async def due_for_poll(self, provider: str, limit: int) -> list[str]:
        return await self.queries.due_for_poll(provider, limit)

    async def postpone_poll(self, session_id: str, seconds: float) -> None:
        await self.queries.postpone_poll(session_id, seconds)

    # -- create (gateway/sessions/create.py) ----------------------------------------------
    async def create_session(
        self, provider: str | None, request: CreateSessionRequest
    ) -> SessionRow:
        return await self.creator.create_session(provider, request)

    # -- vendor actions (gateway/sessions/mutations.py) -----------------------------------
    async def refresh(self, session_id: str, *, fresh: bool = False) -> SessionRow:
        return await self.mutations.refresh(session_id, fresh=fresh)

    async def poll(self, session_id: str, *, fresh: bool = False) -> tuple[SessionRow, bool]:
        return await self.mutations.poll(session_id, fresh=fresh)

    async def act(self, session_id: str, action: SessionAction, *args: object) -> SessionRow:
        return await self.mutations.act(session_id, action, *args)

    async def decide(
        self,
        session_id: str,
        action: DecisionAction,
        reason: str | None,
        options: DecisionOptions,
    ) -> SessionRow:
        return await self.mutations.decide(session_id, action, reason, options)

    async def report(self, session_id: str) -> SessionReport:
        return await self.reports.report(session_id)

    async def update_metadata(self, session_id: str, metadata: JSON) -> SessionRow:
        return await self.mutations.update_metadata(session_id, metadata)

    async def redact(self, session_id: str) -> Redaction:
        return await self.mutations.redact(session_id)

    # -- vendor events (gateway/sessions/ingest.py) ---------------------------------------
    def parse_webhook(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> list[WebhookEvent] | None:
        return self.ingest.parse_webhook(provider, body, headers)

    async def ingest_webhook(self, provider: str, event: WebhookEvent) -> IngestResult:
        return await self.ingest.ingest_webhook(provider, event)

    def channel(self, row: SessionRow) -> Callable[[], AsyncIterator[SessionSnapshot]]:
        return self.ingest.channel(row)

    async def apply_pushed(self, session_id: str, snapshot: SessionSnapshot) -> SessionRow:
        return await self.ingest.apply_pushed(session_id, snapshot)
