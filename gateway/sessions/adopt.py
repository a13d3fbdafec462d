"""Adopting a session the gateway did not create: a signed webhook for a vendor session it
does not know (made by an earlier integration, the vendor's mobile SDK or its dashboard)
is answered 404 unless the operator turned adoption on for that vendor
(`KYCGW_<VENDOR>_ADOPT_UNKNOWN=true`). Then the gateway reads the session from the vendor,
stores it (routing rule `adopted`) with the history the vendor's own times give, and the
event applies to it as to any other (docs/model.md, Adoption)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from adapters.base import ProviderAdapter, SessionSnapshot, SessionStatus
from gateway import metrics
from gateway.bus.events import StatusChanged, StatusSource
from gateway.sessions.core import SessionCore
from gateway.sessions.create import find_by_vendor_id, new_session_id
from gateway.store.models import SessionRow

log = logging.getLogger(__name__)

#: `Session.routing.rule` of an adopted session, and of one `kyc-gateway import` brought in.
ADOPTED_RULE = "adopted"
IMPORTED_RULE = "imported"


def vendor_created_at(
    snapshot: SessionSnapshot, seen_at: datetime | None, now: datetime
) -> datetime:
    """When the vendor created the session, where it says; else the earliest time it gives:
    its timeline's first state, the time of the state it reports, or of the event (or list
    row) that named it; now only when the vendor gives no time at all."""
    if snapshot.created_at is not None:
        return snapshot.created_at
    times = [entry.occurred_at for entry in snapshot.timeline]
    times += [t for t in (snapshot.occurred_at, seen_at) if t is not None]
    return min(times, default=now)


def created_raw(adapter: ProviderAdapter, snapshot: SessionSnapshot) -> str:
    """The vendor's own word for a new session: from the timeline, else its status table."""
    for entry in snapshot.timeline:
        if entry.status is SessionStatus.CREATED:
            return entry.provider_status
    for raw, status in adapter.status_table.items():
        if status is SessionStatus.CREATED:
            return raw
    return snapshot.provider_status


class SessionAdoption:
    def __init__(self, core: SessionCore, providers: frozenset[str]) -> None:
        self._core = core
        #: The vendors whose unknown sessions are adopted.
        self.providers = providers

    def adopts(self, provider: str) -> bool:
        return provider in self.providers

    async def adopt(
        self, provider: str, provider_session_id: str, seen_at: datetime | None = None
    ) -> str:
        """Read the vendor's session and store it; returns the gateway id. A session adopted
        meanwhile (the vendor retrying in parallel) is found, not stored twice. Vendor
        failures raise `ServiceError` (the webhook route answers 503: the vendor retries).
        `seen_at`: the vendor's time of the event that named the session."""
        session_id, stored = await self.store_from_vendor(
            provider, provider_session_id, rule=ADOPTED_RULE, seen_at=seen_at
        )
        if stored:
            metrics.adopted_sessions_total.labels(provider).inc()
            log.info(
                "session adopted from the vendor",
                extra={"provider": provider, "session_id": session_id},
            )
        return session_id

    async def store_from_vendor(
        self, provider: str, provider_session_id: str, *, rule: str, seen_at: datetime | None
    ) -> tuple[str, bool]:
        """The session as the vendor reads it, stored under `rule` with its history (unless
        it is stored already): its gateway id, and whether it was stored now."""
        core = self._core
        adapter = core.adapter_or_error(provider, ("provider",))
        snapshot = await core.call(provider, adapter.fetch_session(provider_session_id))
        now = core.clock()
        changes: list[StatusChanged] = []
        async with core.write() as db, db.begin():
            found = await find_by_vendor_id(db, provider, snapshot.provider_session_id)
            if found is not None:
                return found.id, False
            created_at = vendor_created_at(snapshot, seen_at, now)
            row = SessionRow(
                id=new_session_id(),
                provider=provider,
                provider_session_id=snapshot.provider_session_id,
                status=SessionStatus.CREATED.value,
                provider_status=snapshot.provider_status,
                environment=snapshot.environment.value,
                client_reference=snapshot.client_reference,
                metadata_=snapshot.metadata,
                created_at=created_at,
                updated_at=now,
                route_rule=rule,
                last_sequence=0,
            )
            db.add(row)
            await db.flush()
            created = replace(
                snapshot,
                status=SessionStatus.CREATED,
                provider_status=created_raw(adapter, snapshot),
                occurred_at=created_at,
                decision=None,
                timeline=(),
            )
            row.provider_status = created.provider_status
            first = await core.applier.record_change(
                db, row, None, SessionStatus.CREATED, created, StatusSource.POLL, None, now
            )
            assert first is not None  # flushed at once: not deferred
            changes.append(first)
            applied = await core.applier.apply(db, row, snapshot, StatusSource.POLL, None, now)
            changes += applied.changes
        await core.publish(changes)
        return row.id, True
