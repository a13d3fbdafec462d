"""A session's results (docs/results.md) as the store keeps them: merged from each snapshot
into the session row, mirrored one row per check into `session_checks` for SQL, folded into
a declined decision's reasons, and erased (all but the checks) by redaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import CreateSessionRequest, Outcome
from adapters.results import (
    Check,
    Results,
    VerifiedDocument,
    VerifiedPerson,
    failed_reasons,
    results_to_json,
)
from gateway import metrics
from gateway.store.models import CheckRow, SessionRow

log = logging.getLogger(__name__)


def stored_results(row: SessionRow) -> Results | None:
    if row.checks is None and row.person is None and row.documents is None:
        return None
    return Results(
        checks=tuple(Check.from_json(c) for c in row.checks or ()),
        person=VerifiedPerson.from_json(row.person) if row.person else None,
        documents=tuple(VerifiedDocument.from_json(d) for d in row.documents or ()),
    )


async def apply_results(
    db: AsyncSession, row: SessionRow, results: Results | None, now: datetime
) -> None:
    """Merge `results` over what the row holds (a redacted session keeps checks only), then
    bring the declined decision's reasons and the `session_checks` rows in line."""
    if results is not None:
        count_unrecognized(row.provider, results.checks)
        if row.redacted_at is not None:
            results = results.without_personal_data()
        merged = results_to_json(results.merged_over(stored_results(row)))
        if row.redacted_at is not None:
            merged["person"], merged["documents"] = None, []
        checks_changed = merged["checks"] != (row.checks or [])
        row.checks = merged["checks"]
        row.person = merged["person"]
        row.documents = merged["documents"] or None
        if checks_changed:
            await write_check_rows(db, row, now)
    row.decision = with_check_reasons(row.decision, row.checks)


def with_check_reasons(
    decision: dict[str, Any] | None, checks: list[dict[str, Any]] | None
) -> dict[str, Any] | None:
    """A DECLINED decision lists its failed checks' reasons after the vendor's own codes."""
    if not decision or decision.get("outcome") != Outcome.DECLINED.value or not checks:
        return decision
    reasons = failed_reasons(Check.from_json(c) for c in checks)
    have = list(decision.get("reason_codes") or ())
    missing = [r for r in reasons if r not in have]
    if not missing:
        return decision
    return {**decision, "reason_codes": have + missing}


async def write_check_rows(db: AsyncSession, row: SessionRow, now: datetime) -> None:
    """Replace the session's `session_checks` rows with its current checks."""
    table = CheckRow.__table__  # type: ignore[attr-defined]
    conn = await db.connection()
    await conn.execute(delete(table).where(table.c.session_id == row.id))
    values = [
        {
            "session_id": row.id,
            "provider": row.provider,
            "kind": check["kind"],
            "outcome": check["outcome"],
            "provider_name": str(check["provider_name"])[:128],
            "reasons": list(check.get("reasons") or ()),
            "score": check.get("score"),
            "recorded_at": now,
        }
        for check in row.checks or ()
    ]
    if values:
        await conn.execute(insert(table), values)


def count_unrecognized(provider: str, checks: tuple[Check, ...]) -> None:
    """A check name, outcome or reason the adapter's table does not know: kept (as OTHER,
    REVIEW or `other`, the raw value beside it), logged and counted. The raw names are the
    vendor's vocabulary, not personal data."""
    for check in checks:
        if check.recognized:
            continue
        metrics.unknown_check_values_total.labels(provider).inc()
        log.warning(
            "unknown vendor check value; kept as %s/%s",
            check.kind.value,
            check.outcome.value,
            extra={
                "provider": provider,
                "check": check.provider_name[:64],
                "provider_reasons": [r[:64] for r in check.provider_reasons[:5]],
            },
        )


def expected_person_json(request: CreateSessionRequest) -> dict[str, Any] | None:
    """What `matchesExpected` compares against (personal: erased by redaction)."""
    person = request.expected_person
    if person is None:
        return None
    values = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
    }
    return values if any(v is not None for v in values.values()) else None


def erase_personal(row: SessionRow) -> None:
    """Redaction's part of the results: the person, the documents, the expected person.
    Checks stay (kinds, outcomes and reason codes are not personal)."""
    row.person = None
    row.documents = None
    row.expected_person = None
