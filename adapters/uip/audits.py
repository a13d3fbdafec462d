"""A UIP session's audit (docs/vendors/uip.md, Audit): which records to read and what each
says, normalized. UIP keeps one record per verified step, `GET /v1/audits/{id}`, whose id
"is {session_id}_{stage}. You receive it on the step.completed webhook and on every result in
GET /v1/sessions/{id}" (https://docs.uip.digital/api-reference/audits/get)."""

from __future__ import annotations

from adapters.base import AuditEntry
from adapters.uip.snapshots import step_type, verified_indices
from adapters.uip.wire import AuditRecord, SessionResource


def audit_id(session_id: str, stage: int) -> str:
    """The documented form of an audit id: session id + `_` + zero-based stage."""
    return f"{session_id}_{stage}"


def audit_ids(session: SessionResource) -> list[str]:
    """The audit ids of the session's verified steps, in step order.

    Version B lists the verified steps (`results[]`, each with its `audit_id`, used as given:
    the page's own example spells one `aud_9f2c1e`); a result without one gets the documented
    form. Version A has no results: its verified steps follow from `status` and `current_step`
    exactly as the step list's do (adapters/uip/snapshots.py `verified_indices`)."""
    if session.results is not None:
        by_stage: dict[int, str] = {}
        for result in session.results:
            index = result.index
            if index is None or index in by_stage:
                continue
            given = result.audit_id
            by_stage[index] = (
                given if isinstance(given, str) and given else audit_id(session.id, index)
            )
        return [by_stage[i] for i in sorted(by_stage)]
    return [audit_id(session.id, i) for i in verified_indices(session)]


def audit_entry(record: AuditRecord) -> AuditEntry:
    return AuditEntry(
        record_id=record.id,
        step=record.stage,
        type=step_type(record.primitive or ""),
        verified_at=record.occurred_at,
        wallet=record.wallet or None,
        proof=dict(record.proof) if record.proof is not None else None,
        record_hash=record.record_hash or None,
        previous_hash=record.prev_hash or None,
        timestamp_token=record.ts_token or None,
        identity_sealed=record.business_redacted,
    )
