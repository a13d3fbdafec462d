"""Query overhead: GraphQL `session(id)` on the gateway against a bare FastAPI JSON route doing
the same database read (`bench/baseline_app.py`), both served the same way, on the same SQLite
file, in the same run. What the gateway costs per read is the gap; measuring it at three
concurrencies shows whether that cost grows with load. Target: at least half the baseline's
throughput at every concurrency."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.process import ServedProcess, free_port, python_argv
from bench.stack import Credentials, gateway_process, migrate, seed_sessions, sqlite_database
from bench.wrk import Request, WrkResult, run_wrk, write_requests

FIELDS = (
    "id",
    "provider",
    "providerSessionId",
    "status",
    "providerStatus",
    "clientReference",
    "createdAt",
    "updatedAt",
)
QUERY = "query Session($id: ID!) { session(id: $id) { " + " ".join(FIELDS) + " } }"
TARGET_RATIO = 0.5
ROUND_S = 1.0
REPO = Path(__file__).resolve().parents[1]


def baseline_process(url: str, work_dir: Path) -> ServedProcess:
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return ServedProcess(
        python_argv("-m", "bench.baseline_app", url, str(port)),
        port=port,
        env=env,
        log_path=work_dir / f"baseline-{port}.log",
    )


def graphql_request(session_id: str, api_key: str) -> Request:
    body = json.dumps({"query": QUERY, "variables": {"id": session_id}}, separators=(",", ":"))
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    return Request("POST", "/graphql", headers, body)


def check_answers(
    gateway: ServedProcess, baseline: ServedProcess, session_id: str, key: str
) -> None:
    """Once before timing: both really return the session (a fast error is no result)."""
    request = graphql_request(session_id, key)
    answer = httpx.post(
        gateway.base + request.path, content=request.body, headers=dict(request.headers)
    ).json()
    found = (answer.get("data") or {}).get("session") or {}
    if answer.get("errors") or found.get("id") != session_id:
        raise RuntimeError(f"gateway did not return the session: {answer}")
    plain = httpx.get(f"{baseline.base}/sessions/{session_id}").json()
    if plain != answer["data"]["session"]:
        raise RuntimeError(f"baseline and gateway disagree: {plain} != {answer}")


@dataclass
class Side:
    """One server under load: its requests file and what its timed rounds added up to."""

    server: ServedProcess
    requests: Path
    rounds: list[WrkResult] = field(default_factory=list)
    cpu_s: float = 0.0

    def timed_round(self, connections: int, seconds: float) -> None:
        cpu = self.server.cpu_seconds()
        result = run_wrk(
            self.server.base, self.requests, connections=connections, duration_s=seconds, once=False
        )
        self.cpu_s += self.server.cpu_seconds() - cpu
        if set(result.statuses) != {"200"} or any(result.errors.values()):
            raise RuntimeError(
                f"non-200 answers or socket errors: {result.statuses} {result.errors}"
            )
        self.rounds.append(result)

    def summary(self) -> dict[str, float]:
        count = sum(r.requests for r in self.rounds)
        return {
            "rps": round(count / sum(r.duration_s for r in self.rounds), 1),
            "p50_ms": round(statistics.median(r.latency_ms["p50"] for r in self.rounds), 2),
            "p99_ms": round(statistics.median(r.latency_ms["p99"] for r in self.rounds), 2),
            "cpu_ms_per_request": round(self.cpu_s * 1000 / max(1, count), 3),
            "requests": count,
        }


def compare(sides: list[Side], connections: int, warmup_s: float, rounds: int) -> None:
    """A warm-up each (pool, caches), then short timed rounds taking turns, so load from
    anything else on the machine falls on both alike; the server's CPU time is read from the
    kernel around each round, and anything but 200 voids the run."""
    for side in sides:
        run_wrk(
            side.server.base,
            side.requests,
            connections=connections,
            duration_s=warmup_s,
            once=False,
        )
    for _ in range(rounds):
        for side in sides:
            side.timed_round(connections, ROUND_S)


def run(work_dir: Path, quick: bool = False) -> dict[str, Any]:
    sizes, seeded_count = ((4, 16, 64), 500) if quick else ((8, 32, 128), 10_000)
    warmup_s, rounds = (1.0, 1) if quick else (2.0, 5)
    work_dir.mkdir(parents=True, exist_ok=True)
    credentials = Credentials.new()
    with sqlite_database(work_dir, "query") as url:
        migrate(url)
        seeded = asyncio.run(seed_sessions(url, seeded_count))
        picks = random.Random(9).choices(seeded, k=4000)
        gql_file, plain_file = work_dir / "query-graphql.txt", work_dir / "query-plain.txt"
        write_requests(gql_file, (graphql_request(s.id, credentials.api_key) for s in picks))
        write_requests(plain_file, (Request("GET", f"/sessions/{s.id}", {}) for s in picks))
        with (
            gateway_process(url, work_dir, credentials) as gateway,
            baseline_process(url, work_dir) as baseline,
        ):
            check_answers(gateway, baseline, picks[0].id, credentials.api_key)
            results = []
            for connections in sizes:
                sides = [Side(gateway, gql_file), Side(baseline, plain_file)]
                compare(sides, connections, warmup_s, rounds)
                ours, theirs = (side.summary() for side in sides)
                results.append(
                    {
                        "connections": connections,
                        "gateway": ours,
                        "baseline": theirs,
                        "ratio": round(ours["rps"] / theirs["rps"], 3),
                    }
                )
    return {
        "name": "query_overhead",
        "database": "sqlite",
        "sessions": seeded_count,
        "timed_s_per_server": rounds * ROUND_S,
        "sizes": results,
        "target": "gateway >= 50% of baseline throughput",
        "met": all(r["ratio"] >= TARGET_RATIO for r in results),
    }


if __name__ == "__main__":
    import sys

    out = run(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/kycgw-bench"), "--quick" in sys.argv)
    print(json.dumps(out, indent=2))
