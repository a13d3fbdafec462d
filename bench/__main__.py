"""`python -m bench [query ingest fanout delivery] [--quick]`: run the benchmarks, print each
one's table and ratios, and write `bench/results/<name>.json` (with the machine it ran on)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import delivery, fanout, ingest, query

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BENCHMARKS: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
    "query": query.run,
    "ingest": ingest.run,
    "fanout": fanout.run,
    "delivery": delivery.run,
}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column not in ("side", "db") else "left")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    return table


def render(result: dict[str, Any]) -> list[Table]:
    name = result["name"]
    if name == "query_overhead":
        rows = []
        for size in result["sizes"]:
            for side in ("gateway", "baseline"):
                m = size[side]
                rows.append(
                    [
                        side,
                        size["connections"],
                        m["rps"],
                        m["p50_ms"],
                        m["p99_ms"],
                        m["cpu_ms_per_request"],
                        size["ratio"] if side == "gateway" else "",
                    ]
                )
        return [
            _table(
                "session(id): GraphQL vs FastAPI JSON, same read",
                ["side", "connections", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "ratio"],
                rows,
            )
        ]
    if name == "webhook_ingest":
        rows = []
        for db in ("sqlite", "postgresql"):
            part = result[db]
            for size in part["sizes"]:
                rows.append(
                    [
                        db,
                        size["connections"],
                        size["committed_per_s"],
                        part["raw_insert_per_s"],
                        size["ratio_to_raw"],
                        size["p50_ms"],
                        size["p99_ms"],
                        size["server_cpu_ms_per_webhook"],
                        size["non_2xx"],
                    ]
                )
        return [
            _table(
                "Signed webhooks committed/s vs raw inserts of the same rows",
                [
                    "db",
                    "connections",
                    "committed/s",
                    "raw/s",
                    "ratio",
                    "p50 ms",
                    "p99 ms",
                    "CPU ms/webhook",
                    "non-2xx",
                ],
                rows,
            )
        ]
    if name == "fanout":
        tables = []
        for shape in ("many_sessions", "hot_session"):
            rows = [
                [
                    r["subscribers"],
                    r["rate_per_s"],
                    f"{r['received']}/{r['expected_deliveries']}",
                    r["latency_ms"]["p50"],
                    r["latency_ms"]["p99"],
                    r["first_third_p50_ms"],
                    r["last_third_p50_ms"],
                    r["server_cpu_us_per_delivery"],
                ]
                for r in result[shape]
            ]
            tables.append(
                _table(
                    f"Fan-out: {shape.replace('_', ' ')}",
                    [
                        "subscribers",
                        "events/s",
                        "delivered",
                        "p50 ms",
                        "p99 ms",
                        "p50 first 1/3",
                        "p50 last 1/3",
                        "CPU µs/delivery",
                    ],
                    rows,
                )
            )
        idle = result["idle_memory"]
        tables.append(
            _table(
                "Idle subscriptions",
                ["subscriptions", "KiB each"],
                [[idle["subscriptions"], idle["kib_per_subscription"]]],
            )
        )
        return tables
    if name == "webhook_delivery":
        return [_delivery_table(result)]
    return []


def _delivery_table(result: dict[str, Any]) -> Table:
    rows = []
    for size in result["sizes"]:
        for side, label, ratio in (
            ("gateway", "gateway, live", size["ratio"]),
            ("drain", "gateway, backlog", size["drain_ratio"]),
            ("baseline", "httpx → receiver", ""),
        ):
            m = size[side]
            cpu = m.get("server_cpu_ms_per_change") or m.get("server_cpu_ms_per_delivery")
            rows.append(
                [
                    label,
                    size["concurrency"],
                    m["deliveries_per_s"],
                    m["seconds"],
                    cpu or m.get("client_cpu_ms_per_delivery"),
                    m["breakdown"]["mean_in_flight"] if "breakdown" in m else size["concurrency"],
                    ratio,
                ]
            )
    return _table(
        f"Outbound webhooks: {result['deliveries']} deliveries by the gateway vs httpx posting "
        "them to the same receiver (CPU: the gateway's, live including ingest; the client's)",
        ["side", "concurrency", "deliveries/s", "seconds", "CPU ms each", "in flight", "ratio"],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="name", help=f"some of: {', '.join(BENCHMARKS)} (default all)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where JSON goes")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    console = Console(width=max(120, Console().width))
    args.out.mkdir(parents=True, exist_ok=True)
    host = machine()
    console.print(
        f"[bold]kyc-gateway bench[/] on {host['cpus']} CPUs ({host['cpu_model']}), "
        f"Python {host['python']}, commit {host['commit'] or '?'}"
    )
    failed = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kycgw-bench-") as tmp:
        for name in names:
            console.rule(name)
            begin = time.monotonic()
            work_dir = Path(tmp) / name
            work_dir.mkdir(parents=True)
            result = BENCHMARKS[name](work_dir, args.quick)
            result["seconds"] = round(time.monotonic() - begin, 1)
            result["machine"] = host
            result["quick"] = args.quick
            (args.out / f"{result['name']}.json").write_text(json.dumps(result, indent=2) + "\n")
            for table in render(result):
                console.print(table)
            verdict = "met" if result.get("met") else "NOT met"
            console.print(f"target: {result.get('target', '')} → {verdict} ({result['seconds']} s)")
            if not result.get("met"):
                failed.append(name)
    console.print(f"all done in {time.monotonic() - started:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
