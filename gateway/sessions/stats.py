"""Provider statistics: conversion, outcomes and timings per provider / country / day.

Everything is computed in the database with SQLAlchemy Core and works on SQLite and
PostgreSQL alike: one aggregate query with GROUP BY for the counts, and one query per
duration that ranks the per-session durations with window functions and interpolates the
median and p90 (the same linear interpolation as PostgreSQL's `percentile_cont`). No session
rows are loaded into Python.

Definitions (for sessions with `created_at` in `[start, end)`):

* `created`: sessions in the group.
* `reached_in_progress`: sessions with any status change into `IN_PROGRESS`.
* `reached_final`: sessions whose *current* status is final (APPROVED, DECLINED, CANCELLED,
  EXPIRED, ABANDONED, FAILED).
* outcome `rate` (and `approval_rate`, ...): that final status' count / `reached_final`
  (None when nothing is final yet).
* `review_share`: sessions that ever changed into `IN_REVIEW` / `created`.
* `time_to_start_*`: seconds from `sessions.created_at` to the first change into
  `IN_PROGRESS` (its `occurred_at`), over sessions that have one.
* `time_to_decision_*`: seconds from `sessions.created_at` to the first change into the
  session's current final status, over final sessions.
* `failovers`: sessions whose `route_attempts` is a non-empty list (a vendor failed first).

COUNTRY: the gateway stores no country column. It groups by the string field `country` of the
session's caller-supplied `metadata` (`{"country": "DE"}`) when present, else `"unknown"`.
DAY: the UTC date of `created_at`, as `YYYY-MM-DD`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import FINAL_STATUSES, SessionStatus
from gateway.sessions.check_stats import CheckFigure, check_figures
from gateway.sessions.stats_keys import GroupBy, country_of, day_of
from gateway.store.models import SessionRow, StatusChangeRow

#: Final statuses in a stable order (the order of `SessionStatus`).
FINALS: tuple[SessionStatus, ...] = tuple(s for s in SessionStatus if s in FINAL_STATUSES)


@dataclass(frozen=True)
class OutcomeCount:
    status: SessionStatus
    count: int
    rate: float | None


@dataclass
class StatsRow:
    provider: str | None
    country: str | None
    day: str | None
    created: int
    reached_in_progress: int
    reached_final: int
    outcomes: list[OutcomeCount]
    review_share: float | None
    time_to_start_median_s: float | None
    time_to_start_p90_s: float | None
    time_to_decision_median_s: float | None
    time_to_decision_p90_s: float | None
    failovers: int
    #: Per check kind and outcome (gateway/sessions/check_stats.py).
    checks: list[CheckFigure] = field(default_factory=list)

    def count(self, status: SessionStatus) -> int:
        return next((o.count for o in self.outcomes if o.status == status), 0)

    def rate(self, status: SessionStatus) -> float | None:
        if not self.reached_final:
            return None
        return self.count(status) / self.reached_final

    @property
    def approval_rate(self) -> float | None:
        return self.rate(SessionStatus.APPROVED)

    @property
    def decline_rate(self) -> float | None:
        return self.rate(SessionStatus.DECLINED)

    @property
    def abandonment_rate(self) -> float | None:
        return self.rate(SessionStatus.ABANDONED)

    @property
    def expiry_rate(self) -> float | None:
        return self.rate(SessionStatus.EXPIRED)

    @property
    def failure_rate(self) -> float | None:
        return self.rate(SessionStatus.FAILED)

    @property
    def cancellation_rate(self) -> float | None:
        return self.rate(SessionStatus.CANCELLED)

    def as_dict(self) -> dict[str, Any]:
        """Flat, JSON-ready form (used by the report command)."""
        return {
            "provider": self.provider,
            "country": self.country,
            "day": self.day,
            "created": self.created,
            "reached_in_progress": self.reached_in_progress,
            "reached_final": self.reached_final,
            "outcomes": {o.status.value: o.count for o in self.outcomes},
            "approval_rate": self.approval_rate,
            "decline_rate": self.decline_rate,
            "abandonment_rate": self.abandonment_rate,
            "expiry_rate": self.expiry_rate,
            "failure_rate": self.failure_rate,
            "cancellation_rate": self.cancellation_rate,
            "review_share": self.review_share,
            "time_to_start_median_s": self.time_to_start_median_s,
            "time_to_start_p90_s": self.time_to_start_p90_s,
            "time_to_decision_median_s": self.time_to_decision_median_s,
            "time_to_decision_p90_s": self.time_to_decision_p90_s,
            "failovers": self.failovers,
            "checks": [figure.as_dict() for figure in self.checks],
        }


def _seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        seconds = (func.julianday(later) - func.julianday(earlier)) * 86400.0
    else:
        seconds = cast(extract("epoch", later - earlier), Float)
    # A vendor's clock may stamp a change a moment before our create time: never negative
    # (and NULL, for a session not decided yet, stays NULL).
    return case((seconds < 0, literal(0.0)), else_=seconds)


def _has_items(dialect: str, column: Any) -> ColumnElement[bool]:
    """A JSON list column holding at least one element (NULL, JSON null and [] do not)."""
    if dialect == "sqlite":
        return func.coalesce(func.json_array_length(column), 0) > 0
    return (
        case(
            (func.json_typeof(column) == "array", func.json_array_length(column)),
            else_=0,
        )
        > 0
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def provider_stats(
    db_factory: async_sessionmaker[AsyncSession],
    start: datetime,
    end: datetime,
    group_by: list[GroupBy],
) -> list[StatsRow]:
    """Figures for sessions created in `[start, end)`, one row per group (see module doc).

    `group_by` empty = one row for everything (none when there are no sessions). Rows are
    ordered by their group keys."""
    start, end = _aware(start), _aware(end)
    dims = list(dict.fromkeys(group_by))  # dedupe, keep order
    async with db_factory() as db:
        bind = db.bind
        assert bind is not None
        dialect = bind.dialect.name

        s = SessionRow.__table__.c  # type: ignore[attr-defined]
        c = StatusChangeRow.__table__.c  # type: ignore[attr-defined]

        def first_change_into(status: Any) -> Any:
            return (
                select(func.min(c.occurred_at))
                .where(c.session_id == s.id, c.to_status == status)
                .scalar_subquery()
            )

        is_final = s.status.in_([f.value for f in FINALS])
        country = country_of()
        decided_after = _seconds_between(dialect, first_change_into(s.status), s.created_at)
        base = (
            select(
                s.provider.label("provider"),
                country.label("country"),
                day_of(dialect, s.created_at).label("day"),
                s.status.label("status"),
                is_final.label("is_final"),
                exists()
                .where(c.session_id == s.id, c.to_status == SessionStatus.IN_PROGRESS.value)
                .label("reached_in_progress"),
                exists()
                .where(c.session_id == s.id, c.to_status == SessionStatus.IN_REVIEW.value)
                .label("in_review"),
                _has_items(dialect, s.route_attempts).label("failover"),
                _seconds_between(
                    dialect, first_change_into(SessionStatus.IN_PROGRESS.value), s.created_at
                ).label("to_start"),
                case((is_final, decided_after), else_=None).label("to_decision"),
            )
            .where(s.created_at >= start, s.created_at < end)
            .subquery("base")
        )
        keys = [base.c[d.value.lower()] for d in dims]

        def flag_sum(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        counts = (
            select(
                *keys,
                func.count().label("created"),
                flag_sum(base.c.reached_in_progress).label("reached_in_progress"),
                flag_sum(base.c.is_final).label("reached_final"),
                flag_sum(base.c.in_review).label("in_review"),
                flag_sum(base.c.failover).label("failovers"),
                *(flag_sum(base.c.status == f.value).label(f"n_{f.value}") for f in FINALS),
            )
            .group_by(*keys)
            .order_by(*keys)
        )
        count_rows = (await db.exec(counts)).mappings().all()

        percentiles: dict[str, dict[tuple[Any, ...], tuple[Any, Any]]] = {}
        for name in ("to_start", "to_decision"):
            value = base.c[name]
            window = {"partition_by": keys} if keys else {}
            ranked = (
                select(
                    *keys,
                    value.label("v"),
                    (func.row_number().over(order_by=value, **window) - 1).label("rn"),
                    func.count().over(**window).label("n"),
                )
                .where(value.is_not(None))
                .subquery("ranked")
            )
            rkeys = [ranked.c[d.value.lower()] for d in dims]

            def interpolated(p: float, r: Any = ranked) -> Any:
                # percentile_cont: rank position p*(n-1); the two neighbouring values weigh
                # 1 - distance each (one value with weight 1 when the position is exact).
                distance = func.abs(r.c.rn - literal_column(repr(p)) * (r.c.n - 1))
                return func.sum(case((distance < 1, r.c.v * (1 - distance)), else_=0))

            query = select(
                *rkeys, interpolated(0.5).label("p50"), interpolated(0.9).label("p90")
            ).group_by(*rkeys)
            percentiles[name] = {
                tuple(row[: len(dims)]): (row.p50, row.p90) for row in (await db.exec(query)).all()
            }
        figures = await check_figures(db, dialect, start, end, dims)

    result = []
    for row in count_rows:
        if not row["created"]:
            continue
        key = tuple(row[d.value.lower()] for d in dims)
        reached_final = int(row["reached_final"])
        start_p = percentiles["to_start"].get(key, (None, None))
        decision_p = percentiles["to_decision"].get(key, (None, None))
        values = {d: row[d.value.lower()] for d in dims}
        result.append(
            StatsRow(
                provider=values.get(GroupBy.PROVIDER),
                country=values.get(GroupBy.COUNTRY),
                day=str(values[GroupBy.DAY]) if GroupBy.DAY in values else None,
                created=int(row["created"]),
                reached_in_progress=int(row["reached_in_progress"]),
                reached_final=reached_final,
                outcomes=[
                    OutcomeCount(
                        status=f,
                        count=int(row[f"n_{f.value}"]),
                        rate=_ratio(int(row[f"n_{f.value}"]), reached_final),
                    )
                    for f in FINALS
                ],
                review_share=_ratio(int(row["in_review"]), int(row["created"])),
                time_to_start_median_s=_num(start_p[0]),
                time_to_start_p90_s=_num(start_p[1]),
                time_to_decision_median_s=_num(decision_p[0]),
                time_to_decision_p90_s=_num(decision_p[1]),
                failovers=int(row["failovers"]),
                checks=figures.get(key, []),
            )
        )
    return result
