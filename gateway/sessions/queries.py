"""Reads and queries: sessions, their histories, lists, figures, what the API shows of each
vendor, and what the reconciler and the stream follower ask for. Nothing here calls a
vendor but `audit` (read on demand, never stored); writes are limited to the reconciler's
poll bookkeeping."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from adapters.base import (
    AuditEntry,
    Capability,
    CreateSessionRequest,
    Environment,
    InputDeclaration,
    SessionStatus,
    UnsupportedByProvider,
)
from adapters.registry import adapter_class
from gateway.bus.events import StatusChanged
from gateway.routing_rules import RoutingConfig
from gateway.sessions.core import SessionCore
from gateway.sessions.stats import GroupBy, StatsRow, provider_stats
from gateway.sessions.watch import WatchFilter, watch
from gateway.store.models import SessionRow, StatusChangeRow
from gateway.vendors.breakers import BreakerState
from gateway.vendors.input_support import IgnoredInput, ignored_inputs

_FINALS = [s.value for s in SessionStatus if s.is_final]


@dataclass(frozen=True)
class SessionFilter:
    provider: str | None = None
    status: SessionStatus | None = None
    client_reference: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class Page:
    rows: list[SessionRow]
    has_next: bool
    total: int


@dataclass(frozen=True)
class ProviderView:
    """What the API shows of one vendor (`providers`), without reaching into the providers."""

    name: str
    environment: Environment
    configured: bool
    capabilities: frozenset[Capability]
    breaker: BreakerState
    input_support: Mapping[str, InputDeclaration]
    person_flow: str | None


class SessionQueries:
    def __init__(self, core: SessionCore) -> None:
        self._core = core

    async def get(self, session_id: str) -> SessionRow | None:
        return await self._core.get(session_id)

    async def audit(self, session_id: str) -> tuple[AuditEntry, ...] | None:
        """The vendor's audit of the session, read now (None: the vendor keeps none). A
        vendor failure is a ServiceError, like any vendor call."""
        row, adapter = await self._core.load(session_id)

        async def fetch_audit() -> tuple[AuditEntry, ...] | None:
            try:
                return await adapter.fetch_audit(row.provider_session_id)
            except UnsupportedByProvider:
                return None

        return await self._core.call(row.provider, fetch_audit())

    async def history(self, session_id: str) -> list[StatusChangeRow]:
        return (await self.histories([session_id]))[0]

    async def histories(self, session_ids: Sequence[str]) -> list[list[StatusChangeRow]]:
        """Each session's history, in order, with one query for all of them."""
        async with self._core.db() as db:
            rows = await db.exec(
                select(StatusChangeRow)
                .where(col(StatusChangeRow.session_id).in_(set(session_ids)))
                .order_by(col(StatusChangeRow.session_id), col(StatusChangeRow.sequence))
            )
            by_session: defaultdict[str, list[StatusChangeRow]] = defaultdict(list)
            for row in rows.all():
                by_session[row.session_id].append(row)
        return [by_session.get(session_id, []) for session_id in session_ids]

    async def list(
        self, where: SessionFilter, first: int, after: tuple[datetime, str] | None
    ) -> Page:
        conditions = []
        if where.provider:
            conditions.append(SessionRow.provider == where.provider)
        if where.status:
            conditions.append(SessionRow.status == where.status.value)
        if where.client_reference is not None:
            conditions.append(SessionRow.client_reference == where.client_reference)
        if where.created_after:
            conditions.append(col(SessionRow.created_at) >= where.created_after)
        if where.created_before:
            conditions.append(col(SessionRow.created_at) < where.created_before)
        async with self._core.db() as db:
            total = (
                await db.exec(select(func.count()).select_from(SessionRow).where(*conditions))
            ).one()
            query = select(SessionRow).where(*conditions)
            if after is not None:
                created, last_id = after
                query = query.where(
                    (col(SessionRow.created_at) < created)
                    | ((col(SessionRow.created_at) == created) & (col(SessionRow.id) < last_id))
                )
            query = query.order_by(
                col(SessionRow.created_at).desc(), col(SessionRow.id).desc()
            ).limit(first + 1)
            rows = list((await db.exec(query)).all())
        return Page(rows=rows[:first], has_next=len(rows) > first, total=int(total))

    async def stats(
        self, start: datetime, end: datetime, group_by: list[GroupBy]
    ) -> list[StatsRow]:
        """`providerStats` figures for sessions created in `[start, end)`
        (gateway/sessions/stats.py)."""
        return await provider_stats(self._core.db, start, end, group_by)

    async def provider_views(self) -> list[ProviderView]:
        """Every enabled vendor as callers see it: mode, capabilities, breaker, inputs."""
        views = []
        for name in self._core.providers.names():
            entry = self._core.providers.entries[name]
            cls = adapter_class(name)
            views.append(
                ProviderView(
                    name=name,
                    environment=entry.environment,
                    configured=entry.configured,
                    capabilities=entry.capabilities,
                    breaker=await self._core.breakers.state(name),
                    input_support=cls.input_support,
                    person_flow=cls.person_flow_note,
                )
            )
        return views

    def routing_view(self) -> tuple[str, RoutingConfig]:
        """The default vendor and the routing rules `createSession` follows."""
        return self._core.router.default, self._core.router.config

    def ignored_inputs(self, provider: str, request: CreateSessionRequest) -> list[IgnoredInput]:
        """The fields of `request` that `provider` cannot honour (reported, never dropped
        silently): the same answer for a first create and its idempotent replay."""
        adapter = self._core.providers.adapter(provider)
        if adapter is None:
            return []
        return ignored_inputs(provider, adapter.input_support, request)

    def capabilities(self, row: SessionRow) -> frozenset[Capability]:
        """What may be done to this session in its current vendor status."""
        adapter = self._core.providers.adapter(row.provider)
        return adapter.session_capabilities(row.provider_status) if adapter else frozenset()

    def is_configured(self, provider: str) -> bool:
        """Whether this gateway has a working adapter for `provider` (live or sandbox)."""
        return self._core.providers.adapter(provider) is not None

    def providers_with(self, capability: Capability) -> list[str]:
        """The enabled vendors that declare `capability`, e.g. those that push progress."""
        return [
            name
            for name in self._core.providers.names()
            if capability in self._core.providers.capabilities(name)
        ]

    def watch(self, where: WatchFilter, after: int | None) -> AsyncIterator[StatusChanged]:
        return watch(self._core.db, self._core.bus, where, after)

    async def open_sessions(self, providers: list[str]) -> list[SessionRow]:
        """The non-final sessions of these vendors (followed again after a start)."""
        if not providers:
            return []
        async with self._core.db() as db:
            rows = await db.exec(
                select(SessionRow).where(
                    col(SessionRow.provider).in_(providers),
                    col(SessionRow.status).not_in(_FINALS),
                )
            )
            return list(rows.all())

    async def due_for_poll(self, provider: str, limit: int) -> list[str]:
        """Ids of non-final sessions of `provider` whose next poll time has come, oldest first."""
        async with self._core.db() as db:
            rows = await db.exec(
                select(SessionRow.id)
                .where(
                    SessionRow.provider == provider,
                    col(SessionRow.next_poll_at).is_not(None),
                    col(SessionRow.next_poll_at) <= self._core.clock(),
                    col(SessionRow.status).not_in(_FINALS),
                )
                .order_by(col(SessionRow.next_poll_at))
                .limit(limit)
            )
            return list(rows.all())

    async def postpone_poll(self, session_id: str, seconds: float) -> None:
        """After a failed read: try this session again later, not at every tick."""
        async with self._core.write() as db, db.begin():
            row = await db.get(SessionRow, session_id, with_for_update=True)
            if row is not None and row.next_poll_at is not None:
                row.next_poll_at = self._core.clock() + timedelta(seconds=seconds)
                db.add(row)
