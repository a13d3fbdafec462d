"""What changes a session at its vendor or in our copy on request: reads applied now
(refresh, the reconciler's poll), the declared vendor actions (`gateway/sessions/actions.py`),
metadata and redaction. Each applies the vendor's answer with source API (POLL for reads)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import select

from adapters.base import (
    JSON,
    Capability,
    DecisionAction,
    DecisionOptions,
    ErrorCode,
    ProviderAdapter,
    SessionSnapshot,
)
from gateway.bus.events import StatusSource
from gateway.errors import FieldProblem, ServiceError
from gateway.sessions.actions import (
    ADAPTER_METHOD,
    CAPABILITY,
    REFUSED_WHEN_REDACTED,
    STATUS_REFUSAL_CODE,
    SessionAction,
)
from gateway.sessions.applier import REDACTED_PAYLOAD
from gateway.sessions.core import SessionCore, refuse_if_redacted
from gateway.sessions.results import erase_personal
from gateway.sessions.validation import validate_metadata
from gateway.store.db import truncate_wal
from gateway.store.models import SessionRow, VendorEventRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Redaction:
    """A redacted session and what stays at its vendor, in the adapter's words (reported to
    the caller as `VENDOR_DATA_RETAINED`; empty when nothing documented stays)."""

    session: SessionRow
    vendor_retains: tuple[str, ...]


def vendor_retains(adapter: ProviderAdapter) -> tuple[str, ...]:
    """What stays at the vendor after a redaction, as the adapter declares it; a vendor
    without erasure that declares nothing still gets a generic word, never silence."""
    if adapter.redaction_leaves:
        return adapter.redaction_leaves
    if Capability.REDACT not in adapter.capabilities:
        return (f"{adapter.name} offers no erasure: its copy of the session stays there.",)
    return ()


def refuse_by_status(row: SessionRow, adapter: ProviderAdapter, action: SessionAction) -> None:
    """The vendor offers `action` but not in this session's status (its declared
    `session_capabilities`): refused here, before a call the vendor would turn down. A
    vendor that lacks the action altogether still answers for itself
    (`UNSUPPORTED_BY_PROVIDER`, from the adapter's base class)."""
    needed = CAPABILITY[action]
    if needed not in adapter.capabilities:
        return
    if needed in adapter.session_capabilities(row.provider_status):
        return
    raise ServiceError(
        FieldProblem(
            ErrorCode.PROVIDER_REJECTED,
            f"{row.provider} does not allow {action.value} while the session is "
            f"'{row.provider_status}'",
            ("id",),
            provider_code=STATUS_REFUSAL_CODE,
        )
    )


#: `decideSession`'s argument for each `DecisionOptions` field (named in refusals).
DECISION_OPTION_ARGUMENTS = {"resubmit": "resubmit", "notify_person": "notifyPerson"}


def refuse_decision_options(
    provider: str, adapter: ProviderAdapter, action: DecisionAction, options: DecisionOptions
) -> None:
    """Options the vendor does not take are refused, never dropped; `resubmit` goes with a
    resubmission only."""
    problems = [
        FieldProblem(
            ErrorCode.UNSUPPORTED_BY_PROVIDER,
            f"{provider} takes no '{DECISION_OPTION_ARGUMENTS[name]}' with a decision",
            (DECISION_OPTION_ARGUMENTS[name],),
        )
        for name in sorted(options.given() - adapter.decision_options)
    ]
    if options.resubmit is not None and action is not DecisionAction.REQUEST_RESUBMISSION:
        problems.append(
            FieldProblem(
                ErrorCode.BAD_USER_INPUT,
                "resubmit names the steps of a REQUEST_RESUBMISSION only",
                ("resubmit",),
            )
        )
    if problems:
        raise ServiceError(*problems)


class SessionMutations:
    def __init__(self, core: SessionCore) -> None:
        self._core = core

    async def refresh(self, session_id: str, *, fresh: bool = False) -> SessionRow:
        """Read the vendor now (through the read cache: a burst costs one vendor call).
        `fresh`: the vendor just told us something changed, so a cached read is too old."""
        row, _ = await self.poll(session_id, fresh=fresh)
        return row

    async def poll(self, session_id: str, *, fresh: bool = False) -> tuple[SessionRow, bool]:
        """One vendor read applied with source POLL; returns whether the session progressed."""
        core = self._core
        row, adapter = await core.load(session_id)
        key = (row.provider, row.provider_session_id)
        if fresh:
            core.reads.invalidate(key)
        snapshot = await core.reads.get(
            key, lambda: core.call(row.provider, adapter.fetch_session(row.provider_session_id))
        )
        return await core.apply_snapshot(row.id, snapshot, StatusSource.POLL)

    async def act(self, session_id: str, action: SessionAction, *args: object) -> SessionRow:
        """Perform `action` at the vendor (gateway/sessions/actions.py declares which adapter
        method), then apply the vendor's answer, or a fresh read when it gives none."""
        row, adapter = await self._core.load(session_id)
        refusal = REFUSED_WHEN_REDACTED.get(action)
        if refusal is not None:
            refuse_if_redacted(row, refusal)
        refuse_by_status(row, adapter, action)
        perform = getattr(adapter, ADAPTER_METHOD[action])
        snapshot = await self._core.call(row.provider, perform(row.provider_session_id, *args))
        return await self._after_mutation(row, adapter, snapshot)

    async def decide(
        self,
        session_id: str,
        action: DecisionAction,
        reason: str | None,
        options: DecisionOptions,
    ) -> SessionRow:
        """`decideSession`: the decide action, with the options the vendor takes (the
        adapter is handed them only when the caller set one)."""
        if not options.given():
            return await self.act(session_id, SessionAction.DECIDE, action, reason)
        row, adapter = await self._core.load(session_id)
        refuse_decision_options(row.provider, adapter, action, options)
        return await self.act(session_id, SessionAction.DECIDE, action, reason, options)

    async def update_metadata(self, session_id: str, metadata: JSON) -> SessionRow:
        problems = validate_metadata(metadata, self._core.limits, ("metadata",))
        if problems:
            raise ServiceError(*problems)
        row, adapter = await self._core.load(session_id)
        refuse_if_redacted(row, "its metadata can no longer be set")
        if not adapter.metadata_at_vendor:
            return await self._merge_metadata(row.id, metadata)
        snapshot = await self._core.call(
            row.provider, adapter.update_metadata(row.provider_session_id, metadata)
        )
        return await self._after_mutation(row, adapter, snapshot)

    async def _merge_metadata(self, session_id: str, metadata: JSON) -> SessionRow:
        """The vendor keeps no metadata: merge into our copy, the same way a vendor would
        (a null value removes the key), and nothing else of the session changes."""
        async with self._core.write() as db, db.begin():
            fresh = await db.get(SessionRow, session_id, with_for_update=True)
            assert fresh is not None
            refuse_if_redacted(fresh, "its metadata can no longer be set")
            merged = {**(fresh.metadata_ or {}), **metadata}
            merged = {key: value for key, value in merged.items() if value is not None}
            problems = validate_metadata(merged, self._core.limits, ("metadata",))
            if problems:
                raise ServiceError(*problems)
            fresh.metadata_ = merged or None
            fresh.updated_at = self._core.clock()
            db.add(fresh)
        return fresh

    async def redact(self, session_id: str) -> Redaction:
        """Erase the vendor's copy where the vendor can, then our own copies of personal
        data (raw payloads, link, metadata, stored events), and mark the session redacted:
        nothing personal is stored for it again (`scrub_for_redacted` in
        `gateway/sessions/applier.py`).
        Status history is kept. Again on a redacted session: the vendor erased its copy the
        first time (we mark it only after that), so only our erasure runs again."""
        core = self._core
        row, adapter = await core.load(session_id)
        if Capability.REDACT not in adapter.capabilities:
            # The vendor offers no erasure: ours still happens, and the answer says so.
            log.info(
                "vendor has no redaction; local copies erased",
                extra={"provider": row.provider, "session_id": row.id},
            )
        elif row.redacted_at is None:
            await core.call(row.provider, adapter.redact_session(row.provider_session_id))
        async with core.write() as db, db.begin():
            fresh = await db.get(SessionRow, row.id, with_for_update=True)
            assert fresh is not None
            now = core.clock()
            fresh.redacted_at = fresh.redacted_at or now
            fresh.raw = None
            fresh.metadata_ = None
            fresh.verification_url = None
            fresh.qr_code = None
            erase_personal(fresh)
            fresh.updated_at = now
            events = await db.exec(
                select(VendorEventRow).where(VendorEventRow.session_id == row.id)
            )
            for event in events.all():
                event.payload = dict(REDACTED_PAYLOAD)
                db.add(event)
            db.add(fresh)
        core.reads.invalidate((row.provider, row.provider_session_id))
        await truncate_wal(core.write)
        return Redaction(fresh, vendor_retains(adapter))

    async def _after_mutation(
        self, row: SessionRow, adapter: ProviderAdapter, snapshot: SessionSnapshot | None
    ) -> SessionRow:
        core = self._core
        core.reads.invalidate((row.provider, row.provider_session_id))
        if snapshot is None:
            snapshot = await core.call(row.provider, adapter.fetch_session(row.provider_session_id))
        updated, _ = await core.apply_snapshot(
            row.id, snapshot, StatusSource.API, authoritative=True
        )
        return updated
