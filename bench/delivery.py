"""Outbound webhook delivery: deliveries per second from status change to the integrator's
receiver, against the receiver hit directly by an httpx client at the same concurrency.

One receiver process (`bench/receiver_app.py`) verifies every request with `standardwebhooks`
and counts it by `webhook-id`, for both sides, so each request costs it the same.

- **baseline**: N deliveries of the gateway's own payload (`gateway.outbound.outbox`), each
  signed as it is sent with `gateway.outbound.signing.headers`, posted by C tasks sharing one
  `httpx.AsyncClient` of C connections (what the gateway's sender holds); one round before
  the gateway's runs and one after, so drift on a shared machine falls on both.
- **gateway**: a real process in dev mode (a plain-http receiver on loopback is a valid
  target there) with `KYCGW_WEBHOOK_CONCURRENCY=C`. *live*: N signed Didit webhooks, one
  status change for each of N seeded sessions; timed from the first webhook sent to the last
  delivery accepted, ingest included. *drain*: N outbox messages committed at once into the
  running gateway's database; first to last delivery, the worker alone (it finds them on its
  next poll, so their fan-out wait includes up to `KYCGW_WEBHOOK_POLL_INTERVAL_S`).

Before a figure counts, every expected `webhook-id` must have arrived exactly once with a good
signature, and every delivery row be SUCCEEDED at its first attempt: a fast error is no
result. The gateway side also reports, from its delivery log, where a delivery's time went
(`bench/delivery_log.py`), how many attempts were in flight on average, and its CPU split
between the event loop and the other threads (aiosqlite's connections).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from adapters.didit.sandbox.webhooks import signed_headers
from bench.delivery_log import (
    breakdown,
    check_log,
    insert_backlog,
    last_message_id,
    outbox_rows,
    settled_log,
)
from bench.ingest import didit_status_webhook
from bench.process import ServedProcess
from bench.receiver import DeliveryMismatch, ReceiverClient, check_arrivals, receiver_process
from bench.receiver_app import PATH as RECEIVER_PATH
from bench.stack import (
    Credentials,
    SeededSession,
    gateway_process,
    migrate,
    seed_sessions,
    sqlite_database,
)
from gateway.outbound import signing
from gateway.outbound.worker import body_of

CONCURRENCIES = (8, 32)
#: `--quick` (the smoke test): one gateway process, whose start-up is most of the time.
QUICK_CONCURRENCIES = (32,)
#: Concurrent vendor webhooks producing the live run's changes.
PRODUCERS = 16
#: Deliveries on each side before timing (every connection opened, caches, first calls).
WARMUP = 64
TIMEOUT = httpx.Timeout(30.0)
#: A vendor webhook ready to post: raw body and signed headers.
Signed = tuple[bytes, dict[str, str]]


@dataclass
class Meter:
    """CPU seconds of the gateway (all threads, and its main thread: the event loop) and of
    the receiver over one timed run, from the kernel's accounting."""

    gateway: ServedProcess
    receiver: ServedProcess
    start: tuple[float, float, float] = field(init=False)

    def __post_init__(self) -> None:
        self.start = self._read()

    def _read(self) -> tuple[float, float, float]:
        return (
            self.gateway.cpu_seconds(),
            self.gateway.main_thread_cpu_seconds(),
            self.receiver.cpu_seconds(),
        )

    def used(self) -> tuple[float, float, float]:
        (cpu, loop, receiver), (cpu0, loop0, receiver0) = self._read(), self.start
        return cpu - cpu0, loop - loop0, receiver - receiver0


def per_delivery_ms(seconds: float, deliveries: int) -> float:
    return round(seconds * 1000 / deliveries, 3)


# --- the baseline: the receiver posted to directly -------------------------------------------


def direct_client(concurrency: int) -> httpx.AsyncClient:
    """As the gateway's sender holds one (`gateway/outbound/sender.py`): C connections."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=TIMEOUT, trust_env=False)


async def post_direct(
    client: httpx.AsyncClient, url: str, secret: str, rows: list[dict[str, Any]], tasks: int
) -> Counter[int]:
    """`tasks` senders over one client, each signing a delivery as it sends it, as the
    gateway's worker does (`DeliveryWorker.attempt`)."""
    statuses: Counter[int] = Counter()
    pending = iter(rows)

    async def sender() -> None:
        for row in pending:
            body = body_of(row["payload"])
            headers = signing.headers([secret], row["message_id"], datetime.now(UTC), body)
            statuses[(await client.post(url, content=body, headers=headers)).status_code] += 1

    await asyncio.gather(*(sender() for _ in range(tasks)))
    return statuses


async def baseline_round(
    receiver: ServedProcess, secret: str, concurrency: int, count: int
) -> dict[str, float]:
    async with (
        httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as control,
        direct_client(concurrency) as client,
    ):
        rc = ReceiverClient(receiver, control)
        await post_direct(client, rc.url, secret, outbox_rows(WARMUP), concurrency)
        await rc.reset()
        rows = outbox_rows(count)
        receiver_cpu, client_cpu = receiver.cpu_seconds(), time.process_time()
        started = time.monotonic()
        statuses = await post_direct(client, rc.url, secret, rows, concurrency)
        client_cpu = time.process_time() - client_cpu
        receiver_cpu = receiver.cpu_seconds() - receiver_cpu
        stats = await rc.stats()
    if set(statuses) != {204}:
        raise DeliveryMismatch(f"receiver answered {dict(statuses)}")
    check_arrivals(stats, {row["message_id"] for row in rows})
    return {
        "deliveries": count,
        "seconds": stats["last_at"] - started,
        "client_cpu_s": client_cpu,
        "receiver_cpu_s": receiver_cpu,
        "body_bytes": stats["body_bytes"],
    }


def baseline_summary(rounds: list[dict[str, float]]) -> dict[str, Any]:
    deliveries = int(sum(r["deliveries"] for r in rounds))
    seconds = sum(r["seconds"] for r in rounds)
    return {
        "deliveries": deliveries,
        "seconds": round(seconds, 3),
        "deliveries_per_s": round(deliveries / seconds, 1),
        "rounds_per_s": [round(r["deliveries"] / r["seconds"], 1) for r in rounds],
        "client_cpu_ms_per_delivery": per_delivery_ms(
            sum(r["client_cpu_s"] for r in rounds), deliveries
        ),
        "receiver_cpu_ms_per_delivery": per_delivery_ms(
            sum(r["receiver_cpu_s"] for r in rounds), deliveries
        ),
        "mean_body_bytes": round(sum(r["body_bytes"] for r in rounds) / deliveries, 1),
    }


# --- the gateway: status changes in, deliveries out ------------------------------------------


def signed_changes(sessions: list[SeededSession], secret: str) -> list[Signed]:
    """One signed Didit `status.updated` (→ IN_PROGRESS) per session."""
    stamp = int(time.time())
    requests = []
    for session in sessions:
        body = didit_status_webhook(session, "In Progress", stamp)
        raw = json.dumps(body, separators=(",", ":")).encode()
        requests.append((raw, signed_headers(secret, body, raw)))
    return requests


async def produce(client: httpx.AsyncClient, base: str, requests: list[Signed]) -> None:
    """`PRODUCERS` at a time; each must be answered 200 (committed)."""
    statuses: Counter[int] = Counter()
    pending = iter(requests)

    async def poster() -> None:
        for raw, headers in pending:
            answer = await client.post(base + "/webhooks/didit", content=raw, headers=headers)
            statuses[answer.status_code] += 1

    await asyncio.gather(*(poster() for _ in range(PRODUCERS)))
    if set(statuses) != {200}:
        raise DeliveryMismatch(f"gateway answered the vendor webhooks {dict(statuses)}")


@contextmanager
def delivering_gateway(
    url: str, work_dir: Path, receiver_url: str, secret: str, concurrency: int
) -> Iterator[tuple[ServedProcess, Credentials]]:
    credentials = Credentials.new()
    endpoints = [{"url": receiver_url, "secret": secret, "description": "bench receiver"}]
    extra = {
        "KYCGW_WEBHOOK_ENDPOINTS": json.dumps(endpoints),
        "KYCGW_WEBHOOK_CONCURRENCY": str(concurrency),
    }
    with gateway_process(url, work_dir, credentials, extra, keyed=False) as gateway:
        yield gateway, credentials


def gateway_summary(
    rows: list[Any], stats: dict[str, Any], seconds: float, meter: Meter
) -> dict[str, Any]:
    cpu, loop_cpu, receiver_cpu = meter.used()
    deliveries = len(rows)
    return {
        "deliveries": deliveries,
        "seconds": round(seconds, 3),
        "deliveries_per_s": round(deliveries / seconds, 1),
        "server_cpu_ms_per_delivery": per_delivery_ms(cpu, deliveries),
        "server_event_loop_cpu_share": round(loop_cpu / cpu, 3) if cpu else 0.0,
        "server_cpu_utilisation": round(cpu / seconds, 2),
        "receiver_cpu_ms_per_delivery": per_delivery_ms(receiver_cpu, deliveries),
        "mean_body_bytes": round(stats["body_bytes"] / deliveries, 1),
        "breakdown": breakdown(rows, seconds),
    }


async def live_run(
    url: str,
    gateway: ServedProcess,
    rc: ReceiverClient,
    client: httpx.AsyncClient,
    requests: list[Signed],
    sessions: list[SeededSession],
) -> dict[str, Any]:
    floor = await last_message_id(url)
    await rc.reset()
    meter = Meter(gateway, rc.receiver)
    started = time.monotonic()
    await produce(client, gateway.base, requests)
    committed_s = time.monotonic() - started
    await rc.wait_for(len(sessions))
    rows = await settled_log(url, floor, len(sessions))
    stats = await rc.stats()
    check_arrivals(stats, check_log(rows, {s.id for s in sessions}))
    summary = gateway_summary(rows, stats, stats["last_at"] - started, meter)
    # The server's CPU here also ingested the vendor webhook that made each change.
    summary["server_cpu_ms_per_change"] = summary.pop("server_cpu_ms_per_delivery")
    return {**summary, "changes_committed_s": round(committed_s, 3)}


async def drain_run(
    url: str, gateway: ServedProcess, rc: ReceiverClient, count: int
) -> dict[str, Any]:
    floor = await last_message_id(url)
    backlog = outbox_rows(count)
    await rc.reset()
    meter = Meter(gateway, rc.receiver)
    await insert_backlog(url, backlog)
    await rc.wait_for(count)
    rows = await settled_log(url, floor, count)
    stats = await rc.stats()
    check_arrivals(stats, check_log(rows, {row["session_id"] for row in backlog}))
    # First to last delivery: count - 1 intervals (the worker finds the backlog on its poll).
    seconds = (stats["last_at"] - stats["first_at"]) * count / max(1, count - 1)
    return gateway_summary(rows, stats, seconds, meter)


async def gateway_side(
    url: str,
    work_dir: Path,
    receiver: ServedProcess,
    secret: str,
    concurrency: int,
    sessions: list[SeededSession],
) -> dict[str, Any]:
    """Warm-up, drain, live, in one gateway process. `sessions` = warm-up + live ones."""
    warm, live = sessions[:WARMUP], sessions[WARMUP:]
    receiver_url = receiver.base + RECEIVER_PATH
    with delivering_gateway(url, work_dir, receiver_url, secret, concurrency) as (gateway, cred):
        async with httpx.AsyncClient(
            timeout=TIMEOUT, trust_env=False, limits=httpx.Limits(max_connections=PRODUCERS + 2)
        ) as client:
            rc = ReceiverClient(receiver, client)
            await rc.reset()
            await produce(client, gateway.base, signed_changes(warm, cred.webhook_secret))
            await rc.wait_for(len(warm))
            drain = await drain_run(url, gateway, rc, len(live))
            requests = signed_changes(live, cred.webhook_secret)
            return {
                "live": await live_run(url, gateway, rc, client, requests, live),
                "drain": drain,
            }


def run(work_dir: Path, quick: bool = False) -> dict[str, Any]:
    count, sizes = (100, QUICK_CONCURRENCIES) if quick else (2000, CONCURRENCIES)
    secret = signing.new_secret()
    results = []
    with (
        sqlite_database(work_dir, "delivery") as url,
        receiver_process(work_dir, secret) as receiver,
    ):
        migrate(url)
        per_size = WARMUP + count
        pool = asyncio.run(seed_sessions(url, len(sizes) * per_size))
        for i, concurrency in enumerate(sizes):
            rounds = [asyncio.run(baseline_round(receiver, secret, concurrency, count))]
            ours = asyncio.run(
                gateway_side(
                    url, work_dir, receiver, secret, concurrency, pool[i * per_size :][:per_size]
                )
            )
            rounds.append(asyncio.run(baseline_round(receiver, secret, concurrency, count)))
            baseline = baseline_summary(rounds)
            results.append(
                {
                    "concurrency": concurrency,
                    "gateway": ours["live"],
                    "drain": ours["drain"],
                    "baseline": baseline,
                    "ratio": round(
                        ours["live"]["deliveries_per_s"] / baseline["deliveries_per_s"], 3
                    ),
                    "drain_ratio": round(
                        ours["drain"]["deliveries_per_s"] / baseline["deliveries_per_s"], 3
                    ),
                }
            )
    return {
        "name": "webhook_delivery",
        "database": "sqlite",
        "deliveries": count,
        "sizes": results,
        "target": "every delivery arrives exactly once, signed; throughput reported as a ratio",
        "met": True,
    }


if __name__ == "__main__":
    import sys

    out = run(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/kycgw-bench"), "--quick" in sys.argv)
    print(json.dumps(out, indent=2))
