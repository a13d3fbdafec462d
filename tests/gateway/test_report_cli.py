"""`kyc-gateway report` over a seeded SQLite database: every format adds up to the DB."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.cli import build_parser
from gateway.stats import GroupBy
from gateway.store.db import make_engine, make_session_factory
from gateway.store.migrate import upgrade
from gateway.store.models import SessionRow
from tests.gateway.test_provider_stats import END, START, seed

# The fixed history's window, as the CLI spells it (--to is inclusive).
FIRST, LAST = date(2024, 3, 1), date(2024, 3, 2)


async def _seed_and_count(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        await seed(factory)
        async with factory() as db:
            result = await db.exec(
                select(SessionRow.provider, func.count())  # type: ignore[call-overload]
                .where(SessionRow.created_at >= START, SessionRow.created_at < END)
                .group_by(SessionRow.provider)
            )
            return {provider: n for provider, n in result.all()}
    finally:
        await engine.dispose()


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[str, dict[str, int]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'report.db'}"
    upgrade(url)
    return url, asyncio.run(_seed_and_count(url))


def test_json_matches_the_database(seeded: tuple[str, dict[str, int]]) -> None:
    from gateway.report import run_report

    url, counts = seeded
    assert counts == {"alpha": 6, "beta": 4}
    data = json.loads(run_report(START, END, "json", [GroupBy.PROVIDER], database_url=url))
    assert data["groupBy"] == ["PROVIDER"]
    assert {r["provider"]: r["created"] for r in data["rows"]} == counts
    assert data["total"]["created"] == sum(counts.values())
    alpha = next(r for r in data["rows"] if r["provider"] == "alpha")
    assert (alpha["n_approved"], alpha["n_declined"], alpha["n_expired"]) == (2, 2, 1)
    assert alpha["approval_rate"] == pytest.approx(0.4)
    assert alpha["time_to_decision_p90_s"] == pytest.approx(2360)


def test_csv_matches_the_database(seeded: tuple[str, dict[str, int]]) -> None:
    from gateway.report import run_report

    url, counts = seeded
    out = run_report(START, END, "csv", [GroupBy.PROVIDER, GroupBy.DAY], database_url=url)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["provider"], r["day"]) for r in rows] == [
        ("alpha", "2024-03-01"),
        ("alpha", "2024-03-02"),
        ("beta", "2024-03-01"),
        ("beta", "2024-03-02"),
    ]
    per_provider: dict[str, int] = {}
    for r in rows:
        per_provider[r["provider"]] = per_provider.get(r["provider"], 0) + int(r["created"])
    assert per_provider == counts
    assert sum(int(r["failovers"]) for r in rows) == 2


def test_table_shows_groups_and_total(seeded: tuple[str, dict[str, int]]) -> None:
    from gateway.report import run_report

    url, counts = seeded
    out = run_report(FIRST, date(2024, 3, 3), "table", [GroupBy.PROVIDER], database_url=url)
    lines = out.splitlines()

    def cells(label: str) -> list[str]:
        line = next(ln for ln in lines if f" {label} " in ln)
        return [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]

    assert cells("alpha")[:4] == ["alpha", str(counts["alpha"]), "5", "5"]
    assert cells("beta")[:4] == ["beta", str(counts["beta"]), "3", "4"]
    assert cells("Total")[:4] == ["Total", str(sum(counts.values())), "8", "9"]
    assert "40.0%" in cells("alpha")  # approval rate


def test_cli_command(
    seeded: tuple[str, dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, counts = seeded
    monkeypatch.setenv("KYCGW_DATABASE_URL", url)
    args = build_parser().parse_args(
        ["report", "--from", str(FIRST), "--to", str(LAST), "--format", "json"]
    )
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["provider"]: r["created"] for r in data["rows"]} == counts
    assert data["to"].startswith("2024-03-03")  # --to is inclusive

    args = build_parser().parse_args(
        ["report", "--from", str(FIRST), "--to", str(LAST), "--group-by", "country,day"]
    )
    assert args.group_by == [GroupBy.COUNTRY, GroupBy.DAY]
    assert args.func(args) == 0
    assert "Total" in capsys.readouterr().out

    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "--group-by", "planet"])
