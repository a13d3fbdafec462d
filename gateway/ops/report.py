"""`kyc-gateway report`: provider statistics (`gateway/sessions/stats.py`) in the terminal, as
CSV or as JSON, read straight from the database `serve` uses (`KYCGW_DATABASE_URL`, else
`KYCGW_DATA_DIR`/gateway.db) or `--database-url`. It only reads: a missing SQLite file is
reported, never created."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from gateway.ops.check_report import render_checks
from gateway.ops.database import NoDatabase, configured_url, opened
from gateway.sessions.stats import FINALS, GroupBy, StatsRow, provider_stats

Format = Literal["table", "csv", "json"]
DEFAULT_DAYS = 30

_KEY_COLUMNS = {GroupBy.PROVIDER: "provider", GroupBy.COUNTRY: "country", GroupBy.DAY: "day"}
_FIGURES = [
    "created",
    "reached_in_progress",
    "reached_final",
    *(f"n_{s.value.lower()}" for s in FINALS),
    "approval_rate",
    "decline_rate",
    "abandonment_rate",
    "expiry_rate",
    "failure_rate",
    "cancellation_rate",
    "review_share",
    "time_to_start_median_s",
    "time_to_start_p90_s",
    "time_to_decision_median_s",
    "time_to_decision_p90_s",
    "failovers",
]


def _moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _flat(row: StatsRow, keys: list[GroupBy]) -> dict[str, object]:
    data = row.as_dict()
    outcomes = data.pop("outcomes")
    assert isinstance(outcomes, dict)
    flat: dict[str, object] = {_KEY_COLUMNS[k]: data[_KEY_COLUMNS[k]] for k in keys}
    for name in _FIGURES:
        if name.startswith("n_"):
            flat[name] = outcomes[name[2:].upper()]
        else:
            flat[name] = data[name]
    return flat


async def _collect(
    database_url: str, start: datetime, end: datetime, group_by: list[GroupBy]
) -> tuple[list[StatsRow], StatsRow | None]:
    async with opened(database_url) as store:
        rows = await provider_stats(store.read, start, end, group_by)
        totals = await provider_stats(store.read, start, end, [])
    return rows, (totals[0] if totals else None)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None) -> str:
    """The units and precision /insights uses (gateway/web/pages/charts.py), so both agree."""
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f}s"
    if value < 7200:
        return f"{value / 60:.1f}min"
    return f"{value / 3600:.1f}h"


#: Figure columns in the order they give way when the terminal is too narrow for all of them
#: (last first); the table still shows them in `_FIGURE_COLUMNS` order.
_PRIORITY = [
    "Created",
    "Final",
    "Approved",
    "Declined",
    "Decision p50/p90",
    "Started",
    "Abandoned",
    "Expired",
    "Failed",
    "Review",
    "Start p50/p90",
    "Cancelled",
    "Failovers",
]
_FIGURE_COLUMNS: list[tuple[str, Callable[[StatsRow], str]]] = [
    ("Created", lambda r: str(r.created)),
    ("Started", lambda r: str(r.reached_in_progress)),
    ("Final", lambda r: str(r.reached_final)),
    ("Approved", lambda r: _pct(r.approval_rate)),
    ("Declined", lambda r: _pct(r.decline_rate)),
    ("Abandoned", lambda r: _pct(r.abandonment_rate)),
    ("Expired", lambda r: _pct(r.expiry_rate)),
    ("Failed", lambda r: _pct(r.failure_rate)),
    ("Cancelled", lambda r: _pct(r.cancellation_rate)),
    ("Review", lambda r: _pct(r.review_share)),
    (
        "Start p50/p90",
        lambda r: f"{_secs(r.time_to_start_median_s)}/{_secs(r.time_to_start_p90_s)}",
    ),
    (
        "Decision p50/p90",
        lambda r: f"{_secs(r.time_to_decision_median_s)}/{_secs(r.time_to_decision_p90_s)}",
    ),
    ("Failovers", lambda r: str(r.failovers)),
]
#: What a column costs beyond its text: one space either side and its right border.
_COLUMN_EXTRA = 3


def _table(
    rows: list[StatsRow],
    total: StatsRow | None,
    keys: list[GroupBy],
    start: datetime,
    end: datetime,
    width: int,
) -> str:
    """A box table no wider than `width`: columns that do not fit whole are left out (and
    named in the caption) rather than squeezed into unreadable ellipses."""
    from rich.console import Console
    from rich.table import Table

    everyone = [*rows, *([total] if total is not None else [])]
    key_cells = [[str(getattr(r, _KEY_COLUMNS[k])) for r in rows] for k in keys]
    key_widths = [
        max([len(k.value), len("Total"), *map(len, cells)])
        for k, cells in zip(keys, key_cells, strict=True)
    ]
    natural = {
        title: max([len(title), *(len(cell(r)) for r in everyone)])
        for title, cell in _FIGURE_COLUMNS
    }
    room = width - 1 - sum(w + _COLUMN_EXTRA for w in key_widths)
    shown: set[str] = set()
    for title in _PRIORITY:
        if natural[title] + _COLUMN_EXTRA <= room:
            shown.add(title)
            room -= natural[title] + _COLUMN_EXTRA
    columns = [(t, c) for t, c in _FIGURE_COLUMNS if t in shown]
    hidden = [t for t, _ in _FIGURE_COLUMNS if t not in shown]

    table = Table(
        title=f"Sessions created {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
        show_footer=total is not None and bool(keys),
    )
    for i, key in enumerate(keys):
        table.add_column(key.value.title(), footer="Total" if i == 0 else "")
    for title, cell in columns:
        table.add_column(title, justify="right", footer=cell(total) if total is not None else "")
    for row in rows:
        values = [str(getattr(row, _KEY_COLUMNS[k])) for k in keys]
        table.add_row(*values, *(cell(row) for _, cell in columns))
    captions = ["no sessions in this window"] if not rows else []
    if hidden:
        captions.append(f"too narrow for: {', '.join(hidden)} (widen it, or --format csv)")
    table.caption = "; ".join(captions) or None
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(table)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return str(out)


def run_report(
    start: date | datetime,
    end: date | datetime,
    fmt: Format = "table",
    group_by: list[GroupBy] | None = None,
    *,
    database_url: str | None = None,
    width: int | None = None,
    checks: bool = False,
) -> str:
    """Stats for sessions created in `[start, end)` (dates are UTC midnight), as text.

    `table`: a terminal table with a Total footer; `csv`: one line per group with per-status
    counts (no total line); `json`: {"from", "to", "groupBy", "rows", "total"}. The database is
    `database_url`, else the configured one (`load_settings()`, like `kyc-gateway serve`).
    The table is `width` columns wide, default the terminal's (`COLUMNS`, else the terminal;
    200 when the output is not a terminal, so a file gets whole lines). Raises `NoDatabase`
    when there is none to read. With `checks`, the per-check figures instead
    (`gateway/ops/check_report.py`)."""
    keys = list(dict.fromkeys(group_by if group_by is not None else [GroupBy.PROVIDER]))
    begin, finish = _moment(start), _moment(end)
    rows, total = asyncio.run(_collect(configured_url(database_url), begin, finish, keys))
    if width is None:
        width = shutil.get_terminal_size(fallback=(200, 24)).columns
    if checks:
        return render_checks(rows, keys, fmt, begin, finish, max(width, 40))
    if fmt == "json":
        return json.dumps(
            {
                "from": begin.isoformat(),
                "to": finish.isoformat(),
                "groupBy": [k.value for k in keys],
                "rows": [_flat(r, keys) for r in rows],
                "total": _flat(total, []) if total is not None else None,
            },
            indent=2,
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=[*(_KEY_COLUMNS[k] for k in keys), *_FIGURES], lineterminator="\n"
        )
        writer.writeheader()
        for row in rows:
            writer.writerow(_flat(row, keys))
        return buffer.getvalue()
    if fmt == "table":
        return _table(rows, total, keys, begin, finish, max(width, 40))
    raise ValueError(f"unknown format {fmt!r}")


def _parse_group_by(text: str) -> list[GroupBy]:
    try:
        return [GroupBy(part.strip().upper()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--group-by takes a comma-separated list of: "
            f"{', '.join(g.value.lower() for g in GroupBy)}"
        ) from None


def _report(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    last = args.to or today
    first = args.from_ or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        print("kyc-gateway report: --from is after --to", file=sys.stderr)
        return 2
    # --to is inclusive: the window ends at the following midnight.
    try:
        out = run_report(
            first,
            last + timedelta(days=1),
            args.format,
            args.group_by,
            database_url=args.database_url,
            checks=args.checks,
        )
    except NoDatabase as error:
        print(f"kyc-gateway report: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def add_report_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registers `kyc-gateway report` on the CLI's sub-command parsers."""
    report = subparsers.add_parser(
        "report",
        help="provider statistics (conversion, outcomes, timings) from the database",
        description="Statistics for sessions created from --from to --to (inclusive, UTC "
        f"dates; default: the last {DEFAULT_DAYS} days).",
    )
    report.add_argument("--from", dest="from_", type=date.fromisoformat, metavar="YYYY-MM-DD")
    report.add_argument("--to", type=date.fromisoformat, metavar="YYYY-MM-DD", help="inclusive")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    report.add_argument(
        "--database-url",
        help="database to read (default: what serve uses: KYCGW_DATABASE_URL, else "
        "KYCGW_DATA_DIR/gateway.db)",
    )
    report.add_argument(
        "--group-by",
        type=_parse_group_by,
        default=[GroupBy.PROVIDER],
        help="comma-separated: provider, country, day (default: provider)",
    )
    report.add_argument(
        "--checks",
        action="store_true",
        help="per check kind: runs and pass / fail / review rates (docs/results.md)",
    )
    report.set_defaults(func=_report)
