"""Applies one vendor snapshot to a stored session inside the caller's transaction.

This is the single path every source takes (webhook, poll, our own API calls): ordering,
unknown statuses, missed intermediate states (the snapshot's timeline), status-change rows
with per-session sequence numbers and, in the same transaction, their outbound webhook
messages (`gateway/outbound/outbox.py`), and the next poll time. A redacted session takes only
the state from it (`scrub_for_redacted`), and its vendor events are stored without their
payload (`payload_to_store`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import JSON, SessionSnapshot, SessionStatus, StepProgress
from gateway import metrics
from gateway.bus.events import StatusChanged, StatusSource
from gateway.outbound import outbox
from gateway.sessions.ordering import Current, Incoming, Verdict, judge, next_order_time
from gateway.sessions.polling import EffectivePolicy, schedule
from gateway.sessions.results import apply_results
from gateway.store.models import SessionRow, StatusChangeRow
from gateway.vendors.providers import Providers

log = logging.getLogger(__name__)

#: Our own mutations are confirmed by the vendor "now", but vendor clocks and second-resolution
#: timestamps lag ours: an event stamped within this slack before a mutation still applies.
MUTATION_ORDER_SLACK = timedelta(seconds=1)

#: What the stored vendor events of a redacted session hold instead of their payload.
REDACTED_PAYLOAD: JSON = {"redacted": True}


@dataclass
class Applied:
    verdict: Verdict
    changes: list[StatusChanged] = field(default_factory=list)
    #: Changes recorded but left to the caller's flush (`apply(defer=...)`).
    deferred: int = 0

    @property
    def progressed(self) -> bool:
        return self.verdict is Verdict.APPLY


def to_event(change: StatusChangeRow, session: SessionRow) -> StatusChanged:
    assert change.id is not None
    return StatusChanged(
        cursor=change.id,
        session_id=session.id,
        provider=session.provider,
        client_reference=session.client_reference,
        sequence=change.sequence,
        previous_status=SessionStatus(change.from_status) if change.from_status else None,
        status=SessionStatus(change.to_status),
        provider_status=change.provider_status,
        source=StatusSource(change.source),
        occurred_at=change.occurred_at,
    )


class SnapshotApplier:
    def __init__(self, providers: Providers, policies: Mapping[str, EffectivePolicy]):
        self.providers = providers
        self.policies = policies

    async def apply(
        self,
        db: AsyncSession,
        row: SessionRow,
        snapshot: SessionSnapshot,
        source: StatusSource,
        dedupe_key: str | None,
        now: datetime,
        *,
        authoritative: bool = False,
        defer: list[PendingChange] | None = None,
    ) -> Applied:
        """Apply the timeline's missed states (oldest first), then the snapshot itself.

        With `defer`, status-change rows are not flushed one by one: they are appended there
        and the caller flushes once and makes their events (`to_event`), so a batch of events
        inserts its rows together; `Applied.changes` then stays empty."""
        snapshot = scrub_for_redacted(row, snapshot)
        row.last_contact_at = now
        changes: list[StatusChanged] = []
        deferred = 0
        for entry in sorted(snapshot.timeline, key=lambda e: e.occurred_at):
            current = SessionStatus(row.status)
            if (
                entry.status is current
                or (snapshot.occurred_at is not None and entry.occurred_at > snapshot.occurred_at)
                # Without a stored vendor time we cannot place an earlier state after ours:
                # only one that is further along is news.
                or (row.order_time is None and entry.status.rank <= current.rank)
            ):
                continue
            earlier = replace(
                snapshot,
                status=entry.status,
                provider_status=entry.provider_status,
                occurred_at=entry.occurred_at,
                decision=None,
                timeline=(),
            )
            step = await self._apply_one(db, row, earlier, source, dedupe_key, now, False, defer)
            changes += step.changes
            deferred += step.deferred
        final = await self._apply_one(
            db, row, snapshot, source, dedupe_key, now, authoritative, defer
        )
        final.changes = changes + final.changes
        final.deferred += deferred
        if (changes or deferred) and final.verdict is not Verdict.APPLY:
            final.verdict = Verdict.APPLY
        self._schedule(row, now, progressed=final.progressed or source is not StatusSource.POLL)
        attach(db, row)
        return final

    def schedule_created(self, row: SessionRow, now: datetime) -> None:
        row.last_contact_at = now
        self._schedule(row, now, progressed=True)

    def _schedule(self, row: SessionRow, now: datetime, *, progressed: bool) -> None:
        adapter = self.providers.adapter(row.provider)
        policy = self.policies.get(row.provider)
        if adapter is not None and policy is not None:
            schedule(row, adapter, policy, now, progressed=progressed)

    async def _apply_one(
        self,
        db: AsyncSession,
        row: SessionRow,
        snapshot: SessionSnapshot,
        source: StatusSource,
        dedupe_key: str | None,
        now: datetime,
        authoritative: bool,
        defer: list[PendingChange] | None,
    ) -> Applied:
        current_status = SessionStatus(row.status)
        status = snapshot.status
        if status is None:
            count_unknown(row.provider, snapshot.provider_status)
            status = current_status
        verdict = judge(
            Current(current_status, row.provider_status, row.order_time),
            Incoming(status, snapshot.provider_status, snapshot.occurred_at, authoritative),
        )
        if verdict is Verdict.STALE:
            log.info(
                "older vendor state ignored",
                extra={"session_id": row.id, "provider": row.provider, "source": source},
            )
            return Applied(verdict)
        row.provider_status = snapshot.provider_status
        row.environment = snapshot.environment.value
        if snapshot.verification_url:
            row.verification_url = snapshot.verification_url
        if snapshot.qr_code:
            row.qr_code = snapshot.qr_code
        if snapshot.metadata is not None:
            row.metadata_ = snapshot.metadata
        if snapshot.client_reference and not row.client_reference:
            row.client_reference = snapshot.client_reference
        if snapshot.expires_at:
            row.expires_at = snapshot.expires_at
        if snapshot.decision is not None:
            row.decision = keep_integrator(row.decision, snapshot.decision.to_json())
        elif not status.is_final and status is not SessionStatus.IN_REVIEW:
            row.decision = None
        if snapshot.raw:
            row.raw = snapshot.raw
        if snapshot.steps:
            row.steps = merge_steps(row.steps, [step_json(step) for step in snapshot.steps])
        if snapshot.current_step is not None:
            row.current_step = snapshot.current_step
        await apply_results(db, row, snapshot.results, now)
        order_time = snapshot.occurred_at
        if authoritative:
            order_time = (snapshot.occurred_at or now) - MUTATION_ORDER_SLACK
        row.order_time = next_order_time(row.order_time, order_time)
        row.updated_at = now
        applied = Applied(verdict)
        if status is not current_status:
            event = await self.record_change(
                db, row, current_status, status, snapshot, source, dedupe_key, now, defer
            )
            if event is not None:
                applied.changes.append(event)
            else:
                applied.deferred += 1
        return applied

    async def record_change(
        self,
        db: AsyncSession,
        row: SessionRow,
        previous: SessionStatus | None,
        status: SessionStatus,
        snapshot: SessionSnapshot,
        source: StatusSource,
        dedupe_key: str | None,
        now: datetime,
        defer: list[PendingChange] | None = None,
    ) -> StatusChanged | None:
        """The change row, flushed for its cursor; or, with `defer`, its values queued there
        for the caller's one multi-row insert (then None is returned)."""
        row.status = status.value
        row.last_sequence += 1
        values = {
            "session_id": row.id,
            "sequence": row.last_sequence,
            "from_status": previous.value if previous else None,
            "to_status": status.value,
            "provider_status": snapshot.provider_status,
            "source": source,
            "occurred_at": snapshot.occurred_at or now,
            "received_at": now,
            "dedupe_key": dedupe_key,
        }
        attach(db, row)
        metrics.status_changes_total.labels(row.provider, source, status.value).inc()
        if defer is not None:
            defer.append(PendingChange(values, row, row.decision))
            return None
        change = StatusChangeRow(**values)
        db.add(change)
        await db.flush()
        event = to_event(change, row)
        await outbox.enqueue(
            db, outbox.message_values(event, row.provider_session_id, row.decision, now)
        )
        return event


def scrub_for_redacted(row: SessionRow, snapshot: SessionSnapshot) -> SessionSnapshot:
    """The rule for a redacted session (`redacted_at` set), whatever the source (webhook,
    poll, refresh, a mutation's answer): its state still applies (status, vendor status,
    times, decision, step progress), nothing that can carry personal data is stored again
    (the vendor payload, metadata, the link and its QR code, a client reference)."""
    if row.redacted_at is None:
        return snapshot
    return replace(
        snapshot,
        raw={},
        metadata=None,
        verification_url=None,
        qr_code=None,
        client_reference=None,
    )


def payload_to_store(row: SessionRow | None, payload: JSON) -> JSON:
    """A vendor event's payload as stored: only a marker for a redacted session's events
    (the event itself, its type, dedupe key and outcome, is kept)."""
    if row is not None and row.redacted_at is not None:
        return dict(REDACTED_PAYLOAD)
    return payload


@dataclass(frozen=True)
class PendingChange:
    """A status change recorded with `defer`: its row values and its session."""

    values: dict[str, Any]
    session: SessionRow
    #: The decision as it stood with this change (a later change in the batch may alter it).
    decision: dict[str, Any] | None = None


async def insert_pending(db: AsyncSession, pending: list[PendingChange]) -> list[StatusChanged]:
    """Insert deferred changes in one statement, in order, and make their events (the
    database assigns the cursors). Building ORM objects for them cost more than the insert."""
    if not pending:
        return []
    table = StatusChangeRow.__table__  # type: ignore[attr-defined]
    conn = await db.connection()
    result = await conn.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True),
        [change.values for change in pending],
    )
    cursors = result.scalars().all()
    events = [
        to_event(StatusChangeRow.model_construct(id=cursor, **change.values), change.session)
        for cursor, change in zip(cursors, pending, strict=True)
    ]
    await outbox.enqueue(
        db,
        [
            message
            for event, change in zip(events, pending, strict=True)
            for message in outbox.message_values(
                event,
                change.session.provider_session_id,
                change.decision,
                change.values["received_at"],
            )
        ],
    )
    return events


def attach(db: AsyncSession, row: SessionRow) -> None:
    """`add` a row the session does not hold yet; re-adding one it holds is a no-op that
    still walks the mapper's cascades, which showed up in the webhook profile."""
    if row not in db:
        db.add(row)


def step_json(step: StepProgress) -> dict:
    return {
        "index": step.index,
        "type": step.type,
        "state": step.state.value,
        "gate": step.gate,
        "completed_at": step.completed_at.isoformat() if step.completed_at else None,
        "result": step.result.value if step.result else None,
    }


def merge_steps(stored: list[dict] | None, incoming: list[dict]) -> list[dict]:
    """Vendors re-report steps partially (UIP reads never say which step had a gate; an event
    may name only its own step): a gate set once stays set, a type or verdict we knew is not
    lost to an empty one, and a step the report leaves out is kept."""
    before = {step["index"]: step for step in stored or ()}
    reported = {step["index"] for step in incoming}
    merged = [step for index, step in before.items() if index not in reported]
    for step in incoming:
        old = before.get(step["index"], {})
        merged.append(
            {
                **step,
                "gate": bool(step.get("gate") or old.get("gate")),
                "type": step.get("type") or old.get("type") or "",
                "result": step.get("result") or old.get("result"),
            }
        )
    return sorted(merged, key=lambda step: step["index"])


def keep_integrator(stored: dict | None, incoming: dict) -> dict:
    """A decision we made through the vendor's API stays ours when a later read reports the
    same outcome without saying who decided (Beltic polls say "reviewer")."""
    if (
        stored
        and stored.get("decided_by") == "INTEGRATOR"
        and stored.get("outcome") == incoming.get("outcome")
    ):
        return {**incoming, "decided_by": "INTEGRATOR"}
    return incoming


def count_unknown(provider: str, raw_status: str) -> None:
    metrics.unknown_status_total.labels(provider).inc()
    log.warning(
        "unknown vendor status; previous status kept",
        extra={"provider": provider, "provider_status": raw_status[:64]},
    )
