"""Checks for the fixed history of `tests/support/stats_history.py` (same sessions), with the
figures worked out by hand beside them: what `providerStats { checks }` must say."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.store.models import CheckRow
from tests.support.stats_history import HISTORY, T0, seed

# session id → [(kind, outcome, reasons)]
CHECKS: dict[str, list[tuple[str, str, list[str]]]] = {
    "a1": [("DOCUMENT", "PASSED", []), ("FACE_MATCH", "PASSED", [])],
    "a2": [("DOCUMENT", "PASSED", []), ("FACE_MATCH", "REVIEW", ["manual_review"])],
    "a3": [("DOCUMENT", "FAILED", ["document_expired"]), ("FACE_MATCH", "PASSED", [])],
    "a4": [("DOCUMENT", "NOT_RUN", [])],
    "a6": [("DOCUMENT", "PASSED", []), ("FACE_MATCH", "FAILED", ["face_mismatch"])],
    "b1": [("LIVENESS", "PASSED", []), ("AML", "PASSED", [])],
    "b3": [("LIVENESS", "FAILED", ["liveness_failed"]), ("AML", "REVIEW", ["pep_hit"])],
    "b4": [("AML", "FAILED", ["aml_hit"])],
    # outside the window: never counted
    "x1": [("DOCUMENT", "FAILED", ["document_expired"])],
    "x2": [("LIVENESS", "FAILED", ["liveness_failed"])],
}

# (kind, outcome) → (runs, count, rate); runs = PASSED + FAILED + REVIEW of the kind.
ALPHA = {
    ("DOCUMENT", "PASSED"): (4, 3, 0.75),  # a1 a2 a6
    ("DOCUMENT", "FAILED"): (4, 1, 0.25),  # a3
    ("DOCUMENT", "REVIEW"): (4, 0, 0.0),
    ("DOCUMENT", "NOT_RUN"): (4, 1, None),  # a4: did not run, no rate
    ("FACE_MATCH", "PASSED"): (4, 2, 0.5),  # a1 a3
    ("FACE_MATCH", "FAILED"): (4, 1, 0.25),  # a6
    ("FACE_MATCH", "REVIEW"): (4, 1, 0.25),  # a2
    ("FACE_MATCH", "NOT_RUN"): (4, 0, None),
}
BETA = {
    ("LIVENESS", "PASSED"): (2, 1, 0.5),  # b1
    ("LIVENESS", "FAILED"): (2, 1, 0.5),  # b3 (x2 is outside)
    ("LIVENESS", "REVIEW"): (2, 0, 0.0),
    ("LIVENESS", "NOT_RUN"): (2, 0, None),
    ("AML", "PASSED"): (3, 1, 1 / 3),  # b1
    ("AML", "FAILED"): (3, 1, 1 / 3),  # b4
    ("AML", "REVIEW"): (3, 1, 1 / 3),  # b3
    ("AML", "NOT_RUN"): (3, 0, None),
}
#: Country DE holds a1 a2 a6 b1 b3: DOCUMENT passed three times of three.
DE_DOCUMENT = {"PASSED": (3, 3, 1.0), "FAILED": (3, 0, 0.0)}


async def seed_checks(db_factory: async_sessionmaker[AsyncSession]) -> None:
    """The sessions of the stats history, then their checks."""
    await seed(db_factory)
    providers = {sid: provider for sid, provider, *_ in HISTORY}
    async with db_factory() as db:
        for sid, checks in CHECKS.items():
            for kind, outcome, reasons in checks:
                db.add(
                    CheckRow(
                        session_id=sid,
                        provider=providers[sid],
                        kind=kind,
                        outcome=outcome,
                        provider_name=kind.lower(),
                        reasons=reasons,
                        recorded_at=T0,
                    )
                )
        await db.commit()
