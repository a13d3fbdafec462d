"""What every session job shares (reads, create, vendor actions, webhook ingest): the
database, the vendors this gateway runs, the bus, the clock and the one snapshot path. Each
job is its own module and takes a `SessionCore`; none reaches into another's internals."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import (
    Clock,
    ErrorCode,
    KnownSession,
    ProviderAdapter,
    ProviderError,
    SessionSnapshot,
)
from gateway import metrics
from gateway.bus.events import EventBus, StatusChanged, StatusSource
from gateway.errors import ServiceError
from gateway.sessions.applier import SnapshotApplier
from gateway.sessions.polling import EffectivePolicy
from gateway.sessions.validation import Limits
from gateway.store.models import SessionRow
from gateway.vendors.breakers import Breakers
from gateway.vendors.providers import Providers
from gateway.vendors.reads import VendorReadCache
from gateway.vendors.routing import Router

T = TypeVar("T")


def restore(adapter: ProviderAdapter, row: SessionRow) -> None:
    """Hand the adapter what we stored, for adapters that keep per-session state."""
    adapter.restore(
        KnownSession(
            provider_session_id=row.provider_session_id,
            provider_status=row.provider_status,
            raw=row.raw,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )
    )


def refuse_if_redacted(row: SessionRow, what: str) -> None:
    if row.redacted_at is not None:
        raise ServiceError.single(
            ErrorCode.BAD_USER_INPUT, f"this session was redacted: {what}", ("id",)
        )


@dataclass
class SessionCore:
    """The dependencies and the few helpers all session jobs use."""

    db: async_sessionmaker[AsyncSession]
    #: Write transactions; on SQLite a factory whose BEGIN takes the write lock at once.
    write: async_sessionmaker[AsyncSession]
    providers: Providers
    bus: EventBus
    limits: Limits
    policies: Mapping[str, EffectivePolicy]
    router: Router
    breakers: Breakers
    reads: VendorReadCache
    clock: Clock
    applier: SnapshotApplier = field(init=False)
    #: Called after a commit that recorded status changes (the outbound webhook worker
    #: wakes on it: its messages were written in that transaction).
    committed_hooks: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.applier = SnapshotApplier(self.providers, self.policies)

    def adapter_or_error(self, name: str, field: tuple[str, ...]) -> ProviderAdapter:
        entry = self.providers.get(name)
        if entry is None:
            known = ", ".join(self.providers.names())
            raise ServiceError.single(
                ErrorCode.BAD_USER_INPUT, f"unknown provider '{name}' (known: {known})", field
            )
        if entry.adapter is None:
            raise ServiceError.single(
                ErrorCode.PROVIDER_UNAVAILABLE, entry.problem or f"{name} is not configured"
            )
        return entry.adapter

    async def get(self, session_id: str) -> SessionRow | None:
        async with self.db() as db:
            return await db.get(SessionRow, session_id)

    async def load(self, session_id: str) -> tuple[SessionRow, ProviderAdapter]:
        """The session and its adapter, which is handed what we stored first: a read or an
        action on a session this process did not create (a restart, another replica) needs
        the same per-session state (e.g. uqudo's QR code, to delete it)."""
        row = await self.get(session_id)
        if row is None:
            raise ServiceError.single(ErrorCode.NOT_FOUND, "session not found", ("id",))
        adapter = self.adapter_or_error(row.provider, field=("id",))
        restore(adapter, row)
        return row, adapter

    async def call(self, provider: str, call: Awaitable[T]) -> T:
        """One vendor call, timed and counted; a vendor failure becomes a user error."""
        operation = getattr(call, "__qualname__", "call").rsplit(".", 1)[-1][:32]
        started = time.perf_counter()
        try:
            return await call
        except ProviderError as error:
            metrics.vendor_errors_total.labels(provider, error.code.value).inc()
            raise ServiceError.from_provider(error) from None
        finally:
            metrics.vendor_call_seconds.labels(provider, operation).observe(
                time.perf_counter() - started
            )

    async def publish(self, changes: list[StatusChanged]) -> None:
        for change in changes:
            await self.bus.publish(change)
        if changes:
            for hook in self.committed_hooks:
                hook()

    async def apply_snapshot(
        self,
        session_id: str,
        snapshot: SessionSnapshot,
        source: StatusSource,
        *,
        authoritative: bool = False,
    ) -> tuple[SessionRow, bool]:
        """Apply one snapshot in its own transaction, then publish; returns the row and
        whether the session progressed."""
        now = self.clock()
        async with self.write() as db, db.begin():
            row = await db.get(SessionRow, session_id, with_for_update=True)
            if row is None:
                raise ServiceError.single(ErrorCode.NOT_FOUND, "session not found", ("id",))
            applied = await self.applier.apply(
                db, row, snapshot, source, None, now, authoritative=authoritative
            )
        await self.publish(applied.changes)
        return row, applied.progressed
