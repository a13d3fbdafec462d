"""`kyc-gateway report` over a seeded SQLite database: every format adds up to the DB; it
finds the database `serve` uses, creates none, fits the terminal and shows sub-second times."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.cli import build_parser
from gateway.sessions.stats import GroupBy
from gateway.store.db import make_engine, make_session_factory
from gateway.store.migrate import upgrade
from gateway.store.models import SessionRow
from tests.support.rows import path_rows, session_row
from tests.support.stats_history import END, START, seed

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
    from gateway.ops.report import run_report

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
    from gateway.ops.report import run_report

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
    from gateway.ops.report import run_report

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


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`kyc-gateway report …` as a user runs it: a fresh process, no KYCGW_ settings but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KYCGW_")}
    clean.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "report", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **env},
        timeout=60,
    )


def test_no_database_is_one_line_naming_where_it_looked(tmp_path: Path) -> None:
    elsewhere = tmp_path / "not-the-repo"
    elsewhere.mkdir()
    result = _cli(elsewhere)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(elsewhere / ".kycgw" / "gateway.db") in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert list(elsewhere.iterdir()) == []  # no .kycgw/ and no empty database left behind

    data_dir = tmp_path / "data"
    result = _cli(elsewhere, KYCGW_DATA_DIR=str(data_dir))
    assert result.returncode == 2
    assert str(data_dir / "gateway.db") in result.stderr.strip()
    assert not data_dir.exists()


def test_unreadable_database_is_one_line_without_its_password(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()  # a file, but no gateway tables in it
    result = _cli(tmp_path, "--database-url", f"sqlite+aiosqlite:///{empty}")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(empty) in result.stderr and "Traceback" not in result.stderr

    # Nothing listens on port 1: the refusal is reported, the password is not.
    url = "postgresql+asyncpg://kycgw:s3cret-pw@127.0.0.1:1/kycgw"
    result = _cli(tmp_path, "--database-url", url)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "127.0.0.1:1/kycgw" in result.stderr and "s3cret-pw" not in result.stderr


def test_database_url_flag_wins(
    seeded: tuple[str, dict[str, int]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, counts = seeded
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYCGW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}")
    window = ["--from", str(FIRST), "--to", str(LAST), "--format", "json"]
    args = build_parser().parse_args(["report", *window, "--database-url", url])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["provider"]: r["created"] for r in data["rows"]} == counts
    assert not (tmp_path / "missing.db").exists()


def test_table_fits_the_terminal(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    url, counts = seeded
    window = ["--from", str(FIRST), "--to", str(LAST), "--database-url", url]
    narrow = _cli(tmp_path, *window, COLUMNS="80")
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    alpha = next(line for line in lines if " alpha " in line)
    assert str(counts["alpha"]) in alpha and "40.0%" in alpha  # created, approval rate
    assert "too narrow for:" in narrow.stdout  # what was left out is said, not squeezed

    wide = _cli(tmp_path, *window, COLUMNS="240")
    assert max(len(line) for line in wide.stdout.splitlines()) > 80
    assert "too narrow" not in wide.stdout and "Failovers" in wide.stdout


async def _seed_quick_decision(url: str) -> None:
    """One session approved half a second after it was created."""
    created = datetime(2024, 3, 1, 12, tzinfo=UTC)
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as db:
            db.add(session_row("q1", "alpha", "APPROVED", "approved", created, last_sequence=3))
            await db.flush()
            path = [("CREATED", 0.0), ("IN_PROGRESS", 0.2), ("APPROVED", 0.5)]
            db.add_all(path_rows("q1", created, path))
            await db.commit()
    finally:
        await engine.dispose()


def test_sub_second_times_show_as_insights_shows_them(tmp_path: Path) -> None:
    from gateway.ops.report import run_report

    url = f"sqlite+aiosqlite:///{tmp_path / 'quick.db'}"
    upgrade(url)
    asyncio.run(_seed_quick_decision(url))
    out = run_report(FIRST, LAST, "table", database_url=url, width=200)
    alpha = next(line for line in out.splitlines() if " alpha " in line)
    assert "0.2s/0.2s" in alpha  # time to start (p50/p90)
    assert "0.5s/0.5s" in alpha  # time to decision, not "0s"


SESSIONS_QUERY = "{ sessions(first: 100) { edges { node { id provider status } } } }"


def test_simulate_returns_once_the_outcomes_it_caused_landed(tmp_path: Path) -> None:
    from collections import Counter

    import httpx

    from gateway.ops.simulate import simulate
    from tests.e2e.server import GatewayProcess

    with GatewayProcess(tmp_path / "server") as server:
        summary = asyncio.run(simulate(server.base, 30, concurrency=8, seed=11, quiet=True))
        # Read at once: what simulate reported must already be what the gateway holds.
        body = httpx.post(f"{server.base}/graphql", json={"query": SESSIONS_QUERY}).json()
    held = {e["node"]["id"]: e["node"]["status"] for e in body["data"]["sessions"]["edges"]}
    assert not summary.failed, summary.errors
    assert len(summary.sessions) == 30 == len(held)
    late = [(s.id, s.expected, held[s.id]) for s in summary.sessions if held[s.id] != s.expected]
    assert late == []
    assert summary.not_landed == []
    assert Counter((s.provider, held[s.id]) for s in summary.sessions) == summary.final
