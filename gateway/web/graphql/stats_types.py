"""GraphQL types for `providerStats` (figures computed in `gateway/sessions/stats.py`)."""

from __future__ import annotations

import strawberry

from gateway.sessions import stats
from gateway.web.graphql.enums import CheckKind, CheckOutcome, SessionStatus

StatsGroupBy = strawberry.enum(
    stats.GroupBy,
    name="StatsGroupBy",
    description="How providerStats groups sessions. COUNTRY is the `country` field of the "
    "session's metadata, else 'unknown'; DAY is the UTC date of creation.",
)


@strawberry.type(description="How many final sessions ended in one status.")
class StatsOutcome:
    status: SessionStatus
    count: int
    rate: float | None = strawberry.field(description="count / reachedFinal.")


@strawberry.type(
    description="One check kind's figures for one outcome, over the checks of the group's "
    "sessions (docs/results.md): runs = checks of the kind that ran (PASSED, FAILED or "
    "REVIEW); rate = count / runs (null for NOT_RUN and when none ran)."
)
class StatsCheck:
    kind: CheckKind
    outcome: CheckOutcome
    runs: int
    count: int
    rate: float | None


@strawberry.type(
    description="Sessions created in [from, to) for one group. Rates are shares of the "
    "sessions that reached a final status; times are seconds from creation."
)
class ProviderStats:
    provider: str | None = strawberry.field(description="Null unless grouped by PROVIDER.")
    country: str | None = strawberry.field(description="Null unless grouped by COUNTRY.")
    day: str | None = strawberry.field(description="YYYY-MM-DD; null unless grouped by DAY.")
    created: int
    reached_in_progress: int
    reached_final: int
    outcomes: list[StatsOutcome]
    approval_rate: float | None
    decline_rate: float | None
    abandonment_rate: float | None
    expiry_rate: float | None
    failure_rate: float | None
    cancellation_rate: float | None
    review_share: float | None = strawberry.field(
        description="Share of created sessions that went through IN_REVIEW."
    )
    time_to_start_median_s: float | None
    time_to_start_p90_s: float | None
    time_to_decision_median_s: float | None
    time_to_decision_p90_s: float | None
    failovers: int = strawberry.field(
        description="Sessions created after at least one vendor failed (failover)."
    )
    checks: list[StatsCheck] = strawberry.field(
        description="Per check kind and outcome; kinds no session of the group reported are "
        "left out."
    )

    @classmethod
    def from_row(cls, row: stats.StatsRow) -> ProviderStats:
        return cls(
            provider=row.provider,
            country=row.country,
            day=row.day,
            created=row.created,
            reached_in_progress=row.reached_in_progress,
            reached_final=row.reached_final,
            outcomes=[
                StatsOutcome(status=o.status, count=o.count, rate=o.rate) for o in row.outcomes
            ],
            approval_rate=row.approval_rate,
            decline_rate=row.decline_rate,
            abandonment_rate=row.abandonment_rate,
            expiry_rate=row.expiry_rate,
            failure_rate=row.failure_rate,
            cancellation_rate=row.cancellation_rate,
            review_share=row.review_share,
            time_to_start_median_s=row.time_to_start_median_s,
            time_to_start_p90_s=row.time_to_start_p90_s,
            time_to_decision_median_s=row.time_to_decision_median_s,
            time_to_decision_p90_s=row.time_to_decision_p90_s,
            failovers=row.failovers,
            checks=[
                StatsCheck(kind=c.kind, outcome=c.outcome, runs=c.runs, count=c.count, rate=c.rate)
                for c in row.checks
            ],
        )
