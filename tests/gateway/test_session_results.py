"""How the store keeps a session's results (gateway/sessions/results.py), on SQLite and
PostgreSQL: merged per check, mirrored in `session_checks`, folded into a declined decision,
unknown vendor values counted, and a redacted session given checks only."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from adapters.results import (
    Check,
    CheckKind,
    CheckOutcome,
    CheckTable,
    Results,
    VerifiedDocument,
    VerifiedPerson,
)
from gateway import metrics
from gateway.sessions.results import apply_results, erase_personal
from gateway.store.models import CheckRow, SessionRow
from tests.conftest import Harness
from tests.support.rows import session_row

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
TABLE = CheckTable(
    kinds={"doc": CheckKind.DOCUMENT, "face": CheckKind.FACE_MATCH},
    outcomes={"ok": CheckOutcome.PASSED, "no": CheckOutcome.FAILED},
    reasons={"EXP": "document_expired"},
)
PERSON = VerifiedPerson("Ana", "Lima", date_of_birth=date(1990, 1, 2))
DECLINED = {"outcome": "DECLINED", "decided_by": "PROVIDER", "reason_codes": ["VENDOR_X"]}


async def _stored(harness: Harness, sid: str) -> tuple[SessionRow, list[CheckRow]]:
    async with harness.gateway.service.db_factory() as db:
        row = await db.get(SessionRow, sid)
        checks = (await db.exec(select(CheckRow).where(CheckRow.session_id == sid))).all()
    assert row is not None
    return row, sorted(checks, key=lambda c: c.kind)


async def _apply(harness: Harness, sid: str, results: Results | None, **columns: object) -> None:
    async with harness.gateway.service.db_factory() as db, db.begin():
        row = await db.get(SessionRow, sid)
        if row is None:
            row = session_row(sid, "alpha", "DECLINED", "declined", NOW, **columns)
            db.add(row)
            await db.flush()
        await apply_results(db, row, results, NOW)
        db.add(row)


async def test_results_are_merged_mirrored_and_fold_into_a_declined_decision(
    harness: Harness,
) -> None:
    first = Results((TABLE.check("doc", "ok"),), PERSON, (VerifiedDocument("PASSPORT"),))
    await _apply(harness, "s1", first, decision=DECLINED)
    row, rows = await _stored(harness, "s1")
    assert row.person is not None and row.person["first_name"] == "Ana"
    assert [(c.kind, c.outcome) for c in rows] == [("DOCUMENT", "PASSED")]
    assert row.decision is not None and row.decision["reason_codes"] == ["VENDOR_X"]

    # A later payload names the face check only, and the document check again as failed.
    later = Results((TABLE.check("face", "no"), TABLE.check("doc", "no", ["EXP"])))
    await _apply(harness, "s1", later)
    row, rows = await _stored(harness, "s1")
    assert [(c.kind, c.outcome, c.reasons) for c in rows] == [
        ("DOCUMENT", "FAILED", ["document_expired"]),
        ("FACE_MATCH", "FAILED", []),
    ]
    assert row.person is not None and row.person["last_name"] == "Lima"  # kept
    assert row.documents == [VerifiedDocument("PASSPORT").to_json()]
    assert row.decision is not None
    assert row.decision["reason_codes"] == ["VENDOR_X", "face_match_failed", "document_expired"]

    # A payload without results leaves them; the decision keeps its reasons once each.
    await _apply(harness, "s1", None)
    again, rows_again = await _stored(harness, "s1")
    assert again.checks == row.checks and len(rows_again) == 2
    assert again.decision == row.decision


async def test_an_unknown_vendor_check_is_kept_logged_and_counted(harness: Harness, caplog) -> None:  # type: ignore[no-untyped-def]
    counter = metrics.unknown_check_values_total.labels("alpha")
    before = counter._value.get()
    results = Results((TABLE.check("voiceprint", "ok"), TABLE.check("doc", "weird")))
    await _apply(harness, "s2", results)
    _row, rows = await _stored(harness, "s2")
    assert [(c.kind, c.outcome, c.provider_name) for c in rows] == [
        ("DOCUMENT", "REVIEW", "doc"),
        ("OTHER", "PASSED", "voiceprint"),
    ]
    assert counter._value.get() == before + 2
    logged = [r for r in caplog.records if "unknown vendor check value" in r.getMessage()]
    assert {getattr(r, "check", None) for r in logged} == {"voiceprint", "doc"}


async def test_a_redacted_session_takes_checks_only(harness: Harness) -> None:
    await _apply(harness, "s3", Results((TABLE.check("doc", "ok"),), PERSON))
    async with harness.gateway.service.db_factory() as db, db.begin():
        row = await db.get(SessionRow, "s3")
        assert row is not None
        erase_personal(row)
        row.redacted_at = NOW
        db.add(row)
    await _apply(
        harness,
        "s3",
        Results((TABLE.check("face", "ok"),), PERSON, (VerifiedDocument("PASSPORT", number="X"),)),
    )
    row, rows = await _stored(harness, "s3")
    assert row.person is None and row.documents is None and row.expected_person is None
    assert [c.kind for c in rows] == ["DOCUMENT", "FACE_MATCH"]
    assert [Check.from_json(c).kind for c in row.checks or ()] == [
        CheckKind.DOCUMENT,
        CheckKind.FACE_MATCH,
    ]
