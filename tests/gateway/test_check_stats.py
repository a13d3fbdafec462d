"""`providerStats { checks }` and `report --checks` against a fixed history with
hand-computed figures (tests/support/check_history.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from gateway.ops.report import run_report
from gateway.sessions.stats import GroupBy, StatsRow, provider_stats
from tests.conftest import Harness
from tests.support.check_history import ALPHA, BETA, DE_DOCUMENT, seed_checks
from tests.support.stats_history import END, START

Figures = dict[tuple[str, str], tuple[int, int, float | None]]


def _figures(row: StatsRow) -> Figures:
    return {(f.kind.value, f.outcome.value): (f.runs, f.count, f.rate) for f in row.checks}


def _approx(figures: Figures) -> dict:
    return {
        k: (runs, n, pytest.approx(rate) if rate is not None else None)
        for k, (runs, n, rate) in figures.items()
    }


async def test_per_provider_check_figures(harness: Harness) -> None:
    factory = harness.gateway.service.db_factory
    await seed_checks(factory)
    rows = await provider_stats(factory, START, END, [GroupBy.PROVIDER])
    by_provider = {r.provider: r for r in rows}
    assert _figures(by_provider["alpha"]) == _approx(ALPHA)
    assert _figures(by_provider["beta"]) == _approx(BETA)
    # kinds in CheckKind order, the four outcomes each
    assert [(f.kind.value, f.outcome.value) for f in by_provider["alpha"].checks] == list(ALPHA)


async def test_totals_and_country(harness: Harness) -> None:
    factory = harness.gateway.service.db_factory
    await seed_checks(factory)
    (total,) = await provider_stats(factory, START, END, [])
    assert _figures(total) == _approx({**ALPHA, **BETA})
    rows = await provider_stats(factory, START, END, [GroupBy.COUNTRY])
    de = _figures(next(r for r in rows if r.country == "DE"))
    for outcome, figure in DE_DOCUMENT.items():
        assert de[("DOCUMENT", outcome)] == figure


async def test_graphql_check_figures(harness: Harness) -> None:
    await seed_checks(harness.gateway.service.db_factory)
    data = await harness.gql(
        "query($from: DateTime!, $to: DateTime!) { providerStats(from: $from, to: $to) "
        "{ provider checks { kind outcome runs count rate } } }",
        {"from": START.isoformat(), "to": END.isoformat()},
    )
    got = {
        r["provider"]: {
            (c["kind"], c["outcome"]): (c["runs"], c["count"], c["rate"]) for c in r["checks"]
        }
        for r in data["providerStats"]
    }
    assert got == {"alpha": _approx(ALPHA), "beta": _approx(BETA)}


async def test_report_checks_json_and_table(harness: Harness) -> None:
    factory = harness.gateway.service.db_factory
    await seed_checks(factory)
    url = harness.settings.database_url
    assert url is not None
    out = json.loads(
        await _in_thread(
            run_report, START, END, "json", [GroupBy.PROVIDER], database_url=url, checks=True
        )
    )
    lines = {(line["provider"], line["kind"]): line for line in out["checks"]}
    face = lines[("alpha", "FACE_MATCH")]
    assert (face["runs"], face["n_passed"], face["n_failed"], face["n_review"]) == (4, 2, 1, 1)
    assert face["failed_rate"] == pytest.approx(0.25)
    assert lines[("beta", "AML")]["review_rate"] == pytest.approx(1 / 3)
    assert set(lines) == {
        ("alpha", "DOCUMENT"),
        ("alpha", "FACE_MATCH"),
        ("beta", "LIVENESS"),
        ("beta", "AML"),
    }

    table = await _in_thread(
        run_report,
        START,
        END,
        "table",
        [GroupBy.PROVIDER],
        database_url=url,
        checks=True,
        width=120,
    )
    row = next(line for line in table.splitlines() if "alpha" in line and "DOCUMENT" in line)
    assert "75.0%" in row and "25.0%" in row

    csv_text = await _in_thread(
        run_report, START, END, "csv", [GroupBy.PROVIDER], database_url=url, checks=True
    )
    header, *body = csv_text.splitlines()
    assert header.split(",")[:3] == ["provider", "kind", "runs"]
    assert len(body) == 4


async def _in_thread(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """`run_report` runs its own event loop: off this one."""
    import asyncio

    return await asyncio.to_thread(function, *args, **kwargs)
