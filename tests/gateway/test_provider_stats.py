"""`providerStats` against a fixed, hand-computed history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.base import SessionStatus
from gateway.sessions.stats import GroupBy, StatsRow, provider_stats
from tests.conftest import Harness
from tests.support.rows import change_row, session_row
from tests.support.stats_history import END, START, T0, seed


def _by(rows: list[StatsRow], **keys: str) -> StatsRow:
    found = [r for r in rows if all(getattr(r, k) == v for k, v in keys.items())]
    assert len(found) == 1, (keys, rows)
    return found[0]


def _counts(row: StatsRow) -> dict[str, int]:
    return {o.status.value: o.count for o in row.outcomes if o.count}


async def test_per_provider_figures(harness: Harness) -> None:
    factory = harness.gateway.service.db_factory
    await seed(factory)
    rows = await provider_stats(factory, START, END, [GroupBy.PROVIDER])
    assert [r.provider for r in rows] == ["alpha", "beta"]
    assert all(r.country is None and r.day is None for r in rows)

    alpha = _by(rows, provider="alpha")
    assert (alpha.created, alpha.reached_in_progress, alpha.reached_final) == (6, 5, 5)
    assert _counts(alpha) == {"APPROVED": 2, "DECLINED": 2, "EXPIRED": 1}
    assert alpha.approval_rate == pytest.approx(0.4)
    assert alpha.decline_rate == pytest.approx(0.4)
    assert alpha.expiry_rate == pytest.approx(0.2)
    assert alpha.abandonment_rate == alpha.failure_rate == alpha.cancellation_rate == 0
    outcome = next(o for o in alpha.outcomes if o.status == SessionStatus.APPROVED)
    assert outcome.rate == pytest.approx(0.4)
    assert alpha.review_share == pytest.approx(2 / 6)
    # starts [10, 20, 30, 40, 50]; decisions [100, 300, 400, 500, 3600]
    assert alpha.time_to_start_median_s == pytest.approx(30)
    assert alpha.time_to_start_p90_s == pytest.approx(46)
    assert alpha.time_to_decision_median_s == pytest.approx(400)
    assert alpha.time_to_decision_p90_s == pytest.approx(2360)
    assert alpha.failovers == 1

    beta = _by(rows, provider="beta")
    assert (beta.created, beta.reached_in_progress, beta.reached_final) == (4, 3, 4)
    assert _counts(beta) == {"APPROVED": 1, "ABANDONED": 1, "FAILED": 1, "CANCELLED": 1}
    for rate in (
        beta.approval_rate,
        beta.abandonment_rate,
        beta.failure_rate,
        beta.cancellation_rate,
    ):
        assert rate == pytest.approx(0.25)
    assert beta.decline_rate == beta.expiry_rate == 0
    assert beta.review_share == 0
    # starts [5, 15, 25]; decisions [45, 60, 120, 1800]
    assert beta.time_to_start_median_s == pytest.approx(15)
    assert beta.time_to_start_p90_s == pytest.approx(23)
    assert beta.time_to_decision_median_s == pytest.approx(90)
    assert beta.time_to_decision_p90_s == pytest.approx(1296)
    assert beta.failovers == 1  # b2's empty attempt list is no failover


async def test_totals_country_and_day(harness: Harness) -> None:
    factory = harness.gateway.service.db_factory
    await seed(factory)

    (total,) = await provider_stats(factory, START, END, [])
    assert (total.provider, total.country, total.day) == (None, None, None)
    assert (total.created, total.reached_in_progress, total.reached_final) == (10, 8, 9)
    assert total.failovers == 2
    assert total.time_to_start_median_s == pytest.approx(22.5)
    assert total.time_to_start_p90_s == pytest.approx(43)
    assert total.time_to_decision_median_s == pytest.approx(300)
    assert total.time_to_decision_p90_s == pytest.approx(2160)

    countries = await provider_stats(factory, START, END, [GroupBy.COUNTRY])
    assert {r.country: r.created for r in countries} == {"DE": 5, "FR": 3, "unknown": 2}
    assert all(r.provider is None for r in countries)
    fr = _by(countries, country="FR")
    assert _counts(fr) == {"DECLINED": 1, "EXPIRED": 1, "CANCELLED": 1}

    days = await provider_stats(factory, START, END, [GroupBy.PROVIDER, GroupBy.DAY])
    assert [(r.provider, r.day, r.created) for r in days] == [
        ("alpha", "2024-03-01", 3),
        ("alpha", "2024-03-02", 3),
        ("beta", "2024-03-01", 2),
        ("beta", "2024-03-02", 2),
    ]
    alpha_day2 = _by(days, provider="alpha", day="2024-03-02")
    # starts [40, 50]; decisions [500 (a6), 3600 (a5)]
    assert alpha_day2.time_to_start_median_s == pytest.approx(45)
    assert alpha_day2.time_to_decision_median_s == pytest.approx(2050)
    assert alpha_day2.reached_final == 2

    (later,) = await provider_stats(factory, END, END + timedelta(days=1), [GroupBy.DAY])
    assert (later.day, later.created, later.reached_in_progress, later.reached_final) == (
        "2024-03-03",
        1,
        1,
        0,
    )
    assert later.approval_rate is None and later.time_to_decision_median_s is None
    assert await provider_stats(factory, T0 - timedelta(days=30), T0 - timedelta(days=29), []) == []


QUERY = """
query Stats($from: DateTime!, $to: DateTime!, $groupBy: [StatsGroupBy!]) {
  providerStats(from: $from, to: $to, groupBy: $groupBy) {
    provider country day created reachedInProgress reachedFinal
    outcomes { status count rate }
    approvalRate declineRate abandonmentRate expiryRate failureRate cancellationRate
    reviewShare timeToStartMedianS timeToStartP90S timeToDecisionMedianS timeToDecisionP90S
    failovers
  }
}
"""


async def test_graphql_provider_stats(harness: Harness) -> None:
    await seed(harness.gateway.service.db_factory)
    window = {"from": START.isoformat(), "to": END.isoformat()}
    data = await harness.gql(
        "query($from: DateTime!, $to: DateTime!) { providerStats(from: $from, to: $to) "
        "{ provider created approvalRate timeToDecisionP90S failovers } }",
        window,
    )
    assert data["providerStats"] == [
        {
            "provider": "alpha",
            "created": 6,
            "approvalRate": pytest.approx(0.4),
            "timeToDecisionP90S": pytest.approx(2360),
            "failovers": 1,
        },
        {
            "provider": "beta",
            "created": 4,
            "approvalRate": pytest.approx(0.25),
            "timeToDecisionP90S": pytest.approx(1296),
            "failovers": 1,
        },
    ]

    data = await harness.gql(QUERY, {**window, "groupBy": ["COUNTRY"]})
    de = next(r for r in data["providerStats"] if r["country"] == "DE")
    assert de["provider"] is None and de["day"] is None
    assert (de["created"], de["reachedInProgress"], de["reachedFinal"]) == (5, 5, 5)
    outcomes = {o["status"]: (o["count"], o["rate"]) for o in de["outcomes"]}
    assert outcomes["APPROVED"] == (3, pytest.approx(0.6))
    assert outcomes["DECLINED"] == (1, pytest.approx(0.2))
    assert outcomes["FAILED"] == (1, pytest.approx(0.2))
    assert outcomes["EXPIRED"] == (0, 0)
    assert de["reviewShare"] == pytest.approx(0.4)

    data = await harness.gql(QUERY, {**window, "groupBy": []})
    assert [r["created"] for r in data["providerStats"]] == [10]

    bad = await harness.gql_raw(QUERY, {"from": END.isoformat(), "to": START.isoformat()})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_vendor_clock_before_our_create_time_counts_as_zero(harness: Harness) -> None:
    """Didit stamps whole seconds: its decision can predate our create by a fraction."""
    from gateway.sessions.stats import GroupBy, provider_stats

    created = START + timedelta(hours=1, microseconds=700_000)
    async with harness.gateway.service.db_factory() as db:
        db.add(session_row("skew", "gamma", "APPROVED", "Approved", created, last_sequence=2))
        await db.flush()
        for sequence, status, at in (
            (1, "CREATED", created),
            (2, "APPROVED", created - timedelta(microseconds=700_000)),
        ):
            db.add(change_row("skew", sequence, status, status, at, received_at=created))
        await db.commit()
    rows = await provider_stats(harness.gateway.service.db_factory, START, END, [GroupBy.PROVIDER])
    gamma = _by(rows, provider="gamma")
    assert gamma.time_to_decision_median_s == 0
