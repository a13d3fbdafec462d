"""Webhook ingest: dedupe, order and persist verified vendor events, then publish. Events
arriving together share one transaction (`gateway/store/group_commit.py`); each caller's
answer comes after the commit. A snapshot pushed over a followed channel takes the same
applier path with the same source."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import SessionSnapshot, WebhookEvent
from gateway import metrics
from gateway.bus.events import StatusSource
from gateway.errors import UnknownSessionForEvent
from gateway.sessions.applier import PendingChange, attach, insert_pending, payload_to_store
from gateway.sessions.core import SessionCore, restore
from gateway.sessions.ordering import Verdict
from gateway.store.group_commit import GroupCommit
from gateway.store.models import SessionRow, VendorEventRow


class IngestOutcome(enum.StrEnum):
    """What became of one stored event (`kycgw_webhooks_total{outcome}`, `vendor_events`)."""

    APPLIED = Verdict.APPLY.value
    STALE = Verdict.STALE.value
    UNCHANGED = Verdict.UNCHANGED.value
    UNKNOWN_STATUS = "unknown_status"  # the vendor status is not in the adapter's table
    IGNORED = "ignored"  # no snapshot, or no session to apply it to
    DUPLICATE = "duplicate"  # stored before (a redelivery): nothing is applied again


@dataclass(frozen=True)
class IngestResult:
    outcome: IngestOutcome
    session_id: str | None = None
    refetch: bool = False


Item = tuple[str, WebhookEvent]

# Built once: constructing a SQLAlchemy expression costs more than running it on SQLite, and
# a reused statement keeps its cache key. Both are on the webhook hot path.
_STORED_KEYS = select(VendorEventRow.dedupe_key).where(
    VendorEventRow.provider == bindparam("provider"),
    col(VendorEventRow.dedupe_key).in_(bindparam("keys", expanding=True)),
)
_SESSIONS_TO_UPDATE = (
    select(SessionRow)
    .where(
        SessionRow.provider == bindparam("provider"),
        col(SessionRow.provider_session_id).in_(bindparam("ids", expanding=True)),
    )
    .order_by(col(SessionRow.id))
    .with_for_update()
)


async def _events_seen(db: AsyncSession, items: Sequence[Item]) -> set[tuple[str, str]]:
    """Which of these (vendor, dedupe key) pairs are already stored: one query per vendor."""
    keys_by_provider: dict[str, set[str]] = {}
    for provider, event in items:
        keys_by_provider.setdefault(provider, set()).add(event.dedupe_key)
    seen: set[tuple[str, str]] = set()
    for provider, keys in keys_by_provider.items():
        found = await db.exec(_STORED_KEYS, params={"provider": provider, "keys": list(keys)})
        seen.update((provider, key) for key in found.all())
    return seen


async def _find_many(db: AsyncSession, items: Sequence[Item]) -> dict[tuple[str, str], SessionRow]:
    """The sessions these events are about, locked in id order (no deadlock between two
    replicas' batches) on databases with row locks."""
    wanted: dict[str, set[str]] = {}
    for provider, event in items:
        if event.provider_session_id:
            wanted.setdefault(provider, set()).add(event.provider_session_id)
    rows: dict[tuple[str, str], SessionRow] = {}
    for provider, ids in wanted.items():
        found = await db.exec(_SESSIONS_TO_UPDATE, params={"provider": provider, "ids": list(ids)})
        for row in found.all():
            rows[(provider, row.provider_session_id)] = row
    return rows


class WebhookIngest:
    def __init__(self, core: SessionCore) -> None:
        self._core = core
        self.writer: GroupCommit[Item, IngestResult] = GroupCommit(
            self._ingest_batch, on_batch=metrics.event_batch_size.observe
        )

    def parse_webhook(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> list[WebhookEvent] | None:
        """The vendor's verified events (`WebhookRejected` when not authentic); None for a
        vendor this gateway does not run."""
        adapter = self._core.providers.adapter(provider)
        return None if adapter is None else adapter.parse_webhook(body, headers)

    async def ingest_webhook(self, provider: str, event: WebhookEvent) -> IngestResult:
        """Raises `UnknownSessionForEvent` (nothing stored) so the vendor retries: the session
        may still be committing on our side."""
        return await self.writer.submit((provider, event))

    async def apply_pushed(self, session_id: str, snapshot: SessionSnapshot) -> SessionRow:
        """A snapshot the vendor pushed over a channel we follow (not HTTP): applied exactly
        like a webhook's."""
        row, _ = await self._core.apply_snapshot(session_id, snapshot, StatusSource.WEBHOOK)
        return row

    def channel(self, row: SessionRow) -> Callable[[], AsyncIterator[SessionSnapshot]]:
        """Opens the vendor's progress channel for this session (`Capability.STREAMING`),
        again after each drop; the adapter is handed what we stored once, first."""
        adapter = self._core.adapter_or_error(row.provider, field=("id",))
        restore(adapter, row)
        return lambda: adapter.follow_session(row.provider_session_id)

    async def _ingest_batch(self, items: Sequence[Item]) -> list[IngestResult | BaseException]:
        """One transaction for the batch. Should it conflict, each event is retried alone, so
        one bad event cannot fail its neighbours; alone, a conflict on the dedupe key means a
        concurrent delivery of the same event won, and anything else is a conflict the vendor
        must retry (never acknowledge unstored)."""
        try:
            return await self.write_batch(items)
        except IntegrityError as conflict:
            if len(items) > 1:
                return [(await self._ingest_batch([item]))[0] for item in items]
            async with self._core.db() as db:
                if await _events_seen(db, items):
                    return [IngestResult(IngestOutcome.DUPLICATE)]
            return [conflict]

    async def write_batch(self, items: Sequence[Item]) -> list[IngestResult | BaseException]:
        """One dedupe lookup, one (locking) session lookup, then each event in arrival order;
        the status changes and the events themselves go in with one insert each."""
        now = self._core.clock()
        outcomes: list[IngestResult | BaseException] = []
        deferred: list[PendingChange] = []
        event_rows: list[dict[str, object]] = []
        async with self._core.write() as db, db.begin():
            seen = await _events_seen(db, items)
            rows = await _find_many(db, items)
            for provider, event in items:
                key = (provider, event.dedupe_key)
                if key in seen:
                    outcomes.append(IngestResult(IngestOutcome.DUPLICATE))
                    continue
                row = rows.get((provider, event.provider_session_id or ""))
                if event.snapshot is not None and row is None:
                    outcomes.append(UnknownSessionForEvent(event.provider_session_id))
                    continue
                outcome = await self._store_event(db, event, row, now, deferred)
                event_rows.append(_event_row(provider, event, row, outcome, now))
                seen.add(key)
                outcomes.append(
                    IngestResult(
                        outcome, row.id if row else None, refetch=event.refetch and row is not None
                    )
                )
            await db.flush()
            changes = await insert_pending(db, deferred)
            if event_rows:
                conn = await db.connection()
                await conn.execute(insert(VendorEventRow.__table__), event_rows)  # type: ignore[attr-defined]
        await self._core.publish(changes)
        return outcomes

    async def _store_event(
        self,
        db: AsyncSession,
        event: WebhookEvent,
        row: SessionRow | None,
        now: datetime,
        defer: list[PendingChange],
    ) -> IngestOutcome:
        """Apply the event's snapshot to its session (if any), its status changes queued in
        `defer` (see `SnapshotApplier.apply`)."""
        outcome = IngestOutcome.IGNORED
        if event.snapshot is not None and row is not None:
            applied = await self._core.applier.apply(
                db, row, event.snapshot, StatusSource.WEBHOOK, event.dedupe_key, now, defer=defer
            )
            outcome = IngestOutcome(applied.verdict.value)
            if event.snapshot.status is None:
                outcome = IngestOutcome.UNKNOWN_STATUS
            elif applied.verdict is Verdict.APPLY and not applied.deferred:
                outcome = IngestOutcome.UNCHANGED
        if event.refetch and row is not None:
            # Also due for the reconciler now, in case the immediate read fails.
            row.next_poll_at = now
            attach(db, row)
        return outcome


def _event_row(
    provider: str,
    event: WebhookEvent,
    row: SessionRow | None,
    outcome: IngestOutcome,
    now: datetime,
) -> dict[str, object]:
    """The stored event, for the batch's one multi-row insert."""
    return {
        "provider": provider,
        "dedupe_key": event.dedupe_key,
        "event_type": event.event_type,
        "provider_session_id": event.provider_session_id,
        "session_id": row.id if row else None,
        "outcome": outcome.value,
        "payload": payload_to_store(row, event.received_payload),
        "received_at": now,
    }
