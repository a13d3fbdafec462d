"""`kyc-gateway report --checks`: the check figures of `providerStats` (docs/results.md) per
group and check kind, as a table, CSV or JSON: which vendor fails which check how often."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from adapters.results import CheckOutcome
from gateway.sessions.check_stats import CheckFigure
from gateway.sessions.stats import GroupBy, StatsRow

_KEY_COLUMNS = {GroupBy.PROVIDER: "provider", GroupBy.COUNTRY: "country", GroupBy.DAY: "day"}
_FIELDS = [
    "kind",
    "runs",
    *(f"n_{o.value.lower()}" for o in CheckOutcome),
    "passed_rate",
    "failed_rate",
    "review_rate",
]


def _by_kind(figures: list[CheckFigure]) -> dict[str, dict[CheckOutcome, CheckFigure]]:
    kinds: dict[str, dict[CheckOutcome, CheckFigure]] = {}
    for figure in figures:
        kinds.setdefault(figure.kind.value, {})[figure.outcome] = figure
    return kinds


def check_lines(rows: list[StatsRow], keys: list[GroupBy]) -> list[dict[str, object]]:
    """One flat line per group and check kind."""
    lines: list[dict[str, object]] = []
    for row in rows:
        group = {_KEY_COLUMNS[k]: getattr(row, _KEY_COLUMNS[k]) for k in keys}
        for kind, outcomes in _by_kind(row.checks).items():
            any_figure = next(iter(outcomes.values()))
            line: dict[str, object] = {**group, "kind": kind, "runs": any_figure.runs}
            for outcome in CheckOutcome:
                figure = outcomes.get(outcome)
                line[f"n_{outcome.value.lower()}"] = figure.count if figure else 0
            for outcome in (CheckOutcome.PASSED, CheckOutcome.FAILED, CheckOutcome.REVIEW):
                figure = outcomes.get(outcome)
                line[f"{outcome.value.lower()}_rate"] = figure.rate if figure else None
            lines.append(line)
    return lines


def _pct(value: object) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]


def render_checks(
    rows: list[StatsRow],
    keys: list[GroupBy],
    fmt: str,
    start: datetime,
    end: datetime,
    width: int,
) -> str:
    lines = check_lines(rows, keys)
    key_names = [_KEY_COLUMNS[k] for k in keys]
    if fmt == "json":
        return json.dumps(
            {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "groupBy": [k.value for k in keys],
                "checks": lines,
            },
            indent=2,
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=[*key_names, *_FIELDS], lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)
        return buffer.getvalue()
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Checks of sessions created {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    )
    for name in key_names:
        table.add_column(name.title())
    table.add_column("Check")
    for title in ("Runs", "Passed", "Failed", "Review", "Not run"):
        table.add_column(title, justify="right")
    for line in lines:
        table.add_row(
            *(str(line[name]) for name in key_names),
            str(line["kind"]),
            str(line["runs"]),
            _pct(line["passed_rate"]),
            _pct(line["failed_rate"]),
            _pct(line["review_rate"]),
            str(line["n_not_run"]),
        )
    table.caption = "no checks in this window" if not lines else None
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(table)
    return str(console.file.getvalue())  # type: ignore[attr-defined]
