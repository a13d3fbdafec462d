"""Webhook ingest: signed Didit webhooks per second accepted *and committed*, on SQLite and
PostgreSQL, against the raw insert rate of the same rows through the same driver."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.didit.sandbox.webhooks import signed_headers
from bench.stack import (
    Credentials,
    SeededSession,
    count_rows,
    gateway_process,
    migrate,
    postgres_database,
    seed_sessions,
    sqlite_database,
)
from bench.wrk import Request, run_wrk, write_requests

#: Didit's v3 status vocabulary along one ordinary path (docs/vendors/didit.md, Webhooks).
PATH = ("In Progress", "In Review", "Approved")


def didit_status_webhook(session: SeededSession, status: str, timestamp: int) -> dict[str, Any]:
    """A `status.updated` envelope as Didit documents it (docs/vendors/didit.md, Webhooks)."""
    return {
        "event_id": str(uuid.uuid4()),
        "webhook_type": "status.updated",
        "timestamp": timestamp,
        "created_at": timestamp,
        "application_id": "00000000-0000-4000-8000-000000000001",
        "environment": "live",
        "session_id": session.provider_session_id,
        "status": status,
        "workflow_id": "00000000-0000-4000-8000-0000000000aa",
        "workflow_version": 1,
        "vendor_data": None,
        "metadata": None,
    }


def signed_webhooks(sessions: list[SeededSession], secret: str) -> Iterator[Request]:
    """Round-major (every session's first step, then every second...), so two events of one
    session are never in flight together, as with a real vendor's per-session queue."""
    base = int(time.time()) - len(PATH)
    for step, status in enumerate(PATH):
        for session in sessions:
            body = didit_status_webhook(session, status, base + step)
            raw = json.dumps(body, separators=(",", ":"))
            headers = signed_headers(secret, body, raw.encode())
            yield Request("POST", "/webhooks/didit", headers, raw)


@dataclass
class IngestRun:
    database: str
    connections: int
    sent: int
    committed: int
    duration_s: float
    committed_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms_per_webhook: float
    non_2xx: int
    overrun: int


#: The writes one webhook makes (event row, status-change row, session update), in SQLite's
#: parameter style; PostgreSQL's is derived from it.
RAW_WRITES = (
    "insert into vendor_events (provider, dedupe_key, event_type, provider_session_id, "
    "session_id, outcome, payload, received_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
    "insert into status_changes (session_id, sequence, from_status, to_status, "
    "provider_status, source, occurred_at, received_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
    "update sessions set status = ?, provider_status = ?, last_sequence = ?, updated_at = ? "
    "where id = ?",
)


def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, ...`."""
    parts = sql.split("?")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


def _raw_values(
    session: SeededSession, step: int, status: str, payload: str, now: object
) -> tuple[tuple[object, ...], ...]:
    return (
        ("didit", str(uuid.uuid4()), "status.updated", session.provider_session_id,
         session.id, "applied", payload, now),
        (session.id, step + 2, "CREATED", "IN_PROGRESS", status, "WEBHOOK", now, now),
        ("IN_PROGRESS", status, step + 2, now, session.id),
    )  # fmt: skip


async def raw_insert_rate(url: str, sessions: list[SeededSession], seconds: float) -> float:
    """The same three writes per webhook, one transaction each, straight through the driver
    the gateway uses (aiosqlite, one writer as SQLite allows; asyncpg with 32 workers)."""
    payload = json.dumps(didit_status_webhook(sessions[0], PATH[0], int(time.time())))
    work = [(step, status, s) for step, status in enumerate(PATH) for s in sessions]
    done = 0
    start = time.perf_counter()

    def more() -> bool:
        return done < len(work) and time.perf_counter() - start < seconds

    if url.startswith("sqlite"):
        import aiosqlite

        now = datetime.now(UTC).isoformat()
        async with aiosqlite.connect(url.split(":///", 1)[1], isolation_level=None) as db:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            start = time.perf_counter()
            while more():
                step, status, session = work[done]
                await db.execute("BEGIN IMMEDIATE")
                for sql, values in zip(
                    RAW_WRITES, _raw_values(session, step, status, payload, now), strict=True
                ):
                    await db.execute(sql, values)
                await db.execute("COMMIT")
                done += 1
        return done / (time.perf_counter() - start)

    import asyncpg

    statements = [_numbered(sql) for sql in RAW_WRITES]
    statements[0] = statements[0].replace("$7,", "$7::json,")
    stamp = datetime.now(UTC)
    pool = await asyncpg.create_pool(url.replace("+asyncpg", ""), min_size=8, max_size=8)
    taken = 0

    async def worker() -> None:
        nonlocal taken, done
        async with pool.acquire() as conn:
            while taken < len(work) and time.perf_counter() - start < seconds:
                step, status, session = work[taken]
                taken += 1
                async with conn.transaction():
                    for sql, values in zip(
                        statements, _raw_values(session, step, status, payload, stamp), strict=True
                    ):
                        await conn.execute(sql, *values)
                done += 1

    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(32)))
    finally:
        await pool.close()
    return done / (time.perf_counter() - start)


def _gateway_runs(
    url: str, database: str, work_dir: Path, sizes: tuple[int, ...], seconds: float
) -> list[IngestRun]:
    """One gateway process; per size a fresh set of sessions and unique signed webhooks."""
    credentials = Credentials.new()
    # Enough unique webhooks for 4,000/s, well above what 2 cores commit.
    per_size = max(300, int(4000 * seconds / len(PATH)))
    pools = [asyncio.run(seed_sessions(url, per_size)) for _ in sizes]
    runs = []
    with gateway_process(url, work_dir, credentials) as gateway:
        for connections, sessions in zip(sizes, pools, strict=True):
            requests_file = work_dir / f"webhooks-{database}-{connections}.txt"
            write_requests(requests_file, signed_webhooks(sessions, credentials.webhook_secret))
            before_rows = asyncio.run(count_rows(url, "vendor_events"))
            before_cpu = gateway.cpu_seconds()
            result = run_wrk(
                gateway.base, requests_file, connections=connections, duration_s=seconds, once=True
            )
            cpu = gateway.cpu_seconds() - before_cpu
            committed = asyncio.run(count_rows(url, "vendor_events")) - before_rows
            runs.append(
                IngestRun(
                    database=database,
                    connections=connections,
                    sent=result.requests,
                    committed=committed,
                    duration_s=round(result.duration_s, 2),
                    committed_per_s=round(committed / result.duration_s, 1),
                    p50_ms=round(result.latency_ms["p50"], 2),
                    p99_ms=round(result.latency_ms["p99"], 2),
                    server_cpu_ms_per_webhook=round(cpu * 1000 / max(1, committed), 3),
                    non_2xx=result.requests - result.ok(200),
                    overrun=result.overrun,
                )
            )
    return runs


def _measure(url: str, database: str, work_dir: Path, quick: bool) -> dict[str, Any]:
    sizes = (4, 16, 64) if quick else (8, 32, 128)
    seconds = 2.0 if quick else 6.0
    migrate(url)
    runs = _gateway_runs(url, database, work_dir, sizes, seconds)
    baseline_sessions = asyncio.run(seed_sessions(url, max(300, int(4000 * seconds))))
    raw = asyncio.run(raw_insert_rate(url, baseline_sessions, seconds))
    return {
        "database": database,
        "raw_insert_per_s": round(raw, 1),
        "sizes": [
            {**run.__dict__, "ratio_to_raw": round(run.committed_per_s / raw, 3)} for run in runs
        ],
    }


def run(work_dir: Path, quick: bool = False) -> dict[str, Any]:
    with sqlite_database(work_dir, "ingest") as url:
        sqlite = _measure(url, "sqlite", work_dir, quick)

    async def on_postgres() -> dict[str, Any]:
        async with postgres_database() as url:
            return await asyncio.to_thread(_measure, url, "postgresql", work_dir, quick)

    postgres = asyncio.run(on_postgres())
    best = max(sqlite["sizes"], key=lambda size: size["committed_per_s"])
    return {
        "name": "webhook_ingest",
        "sqlite": sqlite,
        "postgresql": postgres,
        "target": ">= 1000 signed webhooks/s committed on SQLite, answered in p99 <= 200 ms",
        "met": best["committed_per_s"] >= 1000 and best["p99_ms"] <= 200,
    }
