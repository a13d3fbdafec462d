"""Check figures for `providerStats`, per group and check kind (docs/results.md).

Over the `session_checks` rows of the sessions created in `[start, end)`, grouped like the
session figures: `runs` are the checks of a kind that ran (PASSED, FAILED or REVIEW), `count`
those with one outcome, and `rate` = count / runs (None for NOT_RUN: those did not run, and
when nothing ran). One SQL GROUP BY; no rows are loaded into Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.results import CheckKind, CheckOutcome
from gateway.sessions.stats_keys import GroupBy, country_of, day_of
from gateway.store.models import CheckRow, SessionRow

RAN = (CheckOutcome.PASSED, CheckOutcome.FAILED, CheckOutcome.REVIEW)


@dataclass(frozen=True)
class CheckFigure:
    kind: CheckKind
    outcome: CheckOutcome
    runs: int
    count: int
    rate: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "runs": self.runs,
            "count": self.count,
            "rate": self.rate,
        }


async def check_figures(
    db: AsyncSession, dialect: str, start: datetime, end: datetime, dims: list[GroupBy]
) -> dict[tuple[Any, ...], list[CheckFigure]]:
    """Group key (as `provider_stats` builds it) → figures for every kind seen there, all
    four outcomes each (zeros included), kinds and outcomes in enum order."""
    sessions = SessionRow.__table__  # type: ignore[attr-defined]
    checks = CheckRow.__table__  # type: ignore[attr-defined]
    s, k = sessions.c, checks.c
    expressions = {
        GroupBy.PROVIDER: s.provider,
        GroupBy.COUNTRY: country_of(),
        GroupBy.DAY: day_of(dialect, s.created_at),
    }
    keys = [expressions[d].label(d.value.lower()) for d in dims]
    query = (
        select(*keys, k.kind, k.outcome, func.count().label("n"))
        .select_from(checks.join(sessions, k.session_id == s.id))
        .where(s.created_at >= start, s.created_at < end)
        .group_by(*keys, k.kind, k.outcome)
    )
    counts: dict[tuple[Any, ...], dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for row in (await db.exec(query)).all():  # type: ignore[call-overload]
        key = tuple(row[: len(dims)])
        counts[key][row.kind][row.outcome] = int(row.n)
    return {key: _figures(by_kind) for key, by_kind in counts.items()}


def _figures(by_kind: dict[str, dict[str, int]]) -> list[CheckFigure]:
    figures: list[CheckFigure] = []
    for kind in CheckKind:
        outcomes = by_kind.get(kind.value)
        if not outcomes:
            continue
        runs = sum(outcomes.get(o.value, 0) for o in RAN)
        for outcome in CheckOutcome:
            count = outcomes.get(outcome.value, 0)
            rate = count / runs if runs and outcome in RAN else None
            figures.append(CheckFigure(kind, outcome, runs, count, rate))
    return figures
