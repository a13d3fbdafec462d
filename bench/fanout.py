"""Subscription fan-out: status changes pushed to real websocket subscribers.

(a) many sessions, one subscriber each (2,000 at 200 events/s); (b) one hot session with many
subscribers (1,000 at 10 events/s). Each at three sizes, so the cost curve shows; plus the
server memory each idle subscription holds. The load runs in `bench/fanout_client.py`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.didit.sandbox.webhooks import signed_headers
from bench.ingest import didit_status_webhook
from bench.process import ServedProcess
from bench.stack import (
    Credentials,
    SeededSession,
    gateway_process,
    migrate,
    seed_sessions,
    sqlite_database,
)

#: Didit statuses that a session can cycle through with ever newer vendor times, each a change.
HOT_CYCLE = ("In Progress", "In Review", "Resubmitted")


@dataclass(frozen=True)
class Shape:
    name: str
    subscribers: int
    sessions: int
    rate_per_s: float
    events: int


def many_sessions(sessions: int) -> Shape:
    """One subscriber per session; each session changes once; 10 s at sessions/10 per s."""
    return Shape("many_sessions", sessions, sessions, sessions / 10, sessions)


def hot_session(subscribers: int, seconds: int = 10) -> Shape:
    return Shape("hot_session", subscribers, 1, 10.0, 10 * seconds)


def plan_events(
    shape: Shape, sessions: list[SeededSession], secret: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """Subscribers' session ids and the signed webhooks. Vendor times are distinct whole
    seconds (Didit's resolution) in the recent past, so every event is newer than the last."""
    first = int(time.time()) - 250
    if shape.sessions == 1:
        subscribers = [sessions[0].id] * shape.subscribers
        pairs = [
            (sessions[0], HOT_CYCLE[i % len(HOT_CYCLE)], first + i) for i in range(shape.events)
        ]
    else:
        subscribers = [s.id for s in sessions[: shape.sessions]]
        pairs = [(s, "In Progress", first) for s in sessions[: shape.events]]
    events = []
    for session, status, ts in pairs:
        body = didit_status_webhook(session, status, ts)
        raw = json.dumps(body, separators=(",", ":"))
        events.append(
            {
                "session_id": session.id,
                "ts": ts,
                "body": raw,
                "headers": signed_headers(secret, body, raw.encode()),
            }
        )
    return subscribers, events


def run_shape(
    gateway: ServedProcess,
    credentials: Credentials,
    shape: Shape,
    sessions: list[SeededSession],
    settle_s: float = 15.0,
) -> dict[str, Any]:
    subscribers, events = plan_events(shape, sessions, credentials.webhook_secret)
    plan = {
        "ws_url": gateway.base.replace("http://", "ws://") + "/graphql",
        "http_base": gateway.base,
        "api_key": credentials.api_key,
        "subscribers": subscribers,
        "events": events,
        "rate_per_s": shape.rate_per_s,
        "settle_s": settle_s,
    }
    rss_before = gateway.rss_bytes()
    client = subprocess.Popen(
        [sys.executable, "-m", "bench.fanout_client"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write(json.dumps(plan) + "\n")
    client.stdin.flush()
    line = client.stdout.readline()
    if line.strip() != "SUBSCRIBED":
        client.kill()
        raise RuntimeError(f"fan-out client did not subscribe: {line!r}\n{gateway.log_tail()}")
    time.sleep(0.5)
    rss_subscribed = gateway.rss_bytes()
    cpu_before = gateway.cpu_seconds()
    client.stdin.write("GO\n")
    client.stdin.flush()
    out = client.stdout.read()
    client.wait(timeout=120)
    cpu_used = gateway.cpu_seconds() - cpu_before
    result = next(
        (json.loads(x[len("RESULT ") :]) for x in out.splitlines() if x.startswith("RESULT ")),
        None,
    )
    if result is None:
        raise RuntimeError(f"fan-out client printed no result:\n{out[-2000:]}")
    deliveries = max(1, result["received"])
    result.update(
        shape=shape.name,
        rate_per_s=shape.rate_per_s,
        server_cpu_s=round(cpu_used, 2),
        server_cpu_us_per_delivery=round(cpu_used * 1e6 / deliveries, 1),
        rss_per_subscription_kib=round((rss_subscribed - rss_before) / 1024 / shape.subscribers, 1),
    )
    return result


def idle_memory(
    work_dir: Path, credentials: Credentials, url: str, sessions: list[SeededSession]
) -> dict[str, Any]:
    """Server memory per idle subscription: a fresh gateway's resident set before and after
    `len(sessions)` websocket clients each follow their own session (nothing shared)."""
    with gateway_process(url, work_dir, credentials) as gateway:
        shape = Shape("idle", len(sessions), len(sessions), 1.0, 0)
        result = run_shape(gateway, credentials, shape, sessions, settle_s=0)
    return {
        "subscriptions": len(sessions),
        "kib_per_subscription": result["rss_per_subscription_kib"],
        "connect_s": result["connect_s"],
    }


def run(work_dir: Path, quick: bool = False) -> dict[str, Any]:
    credentials = Credentials.new()
    many_sizes = (50, 100, 200) if quick else (500, 1000, 2000)
    hot_sizes = (25, 50, 100) if quick else (250, 500, 1000)
    hot_seconds = 3 if quick else 10
    results: dict[str, Any] = {"name": "fanout", "many_sessions": [], "hot_session": []}
    with sqlite_database(work_dir, "fanout") as url:
        migrate(url)
        pool = asyncio.run(seed_sessions(url, sum(many_sizes) + len(hot_sizes)))
        results["idle_memory"] = idle_memory(work_dir, credentials, url, pool[: many_sizes[-1]])
        with gateway_process(url, work_dir, credentials) as gateway:
            offset = 0
            for size in many_sizes:
                shape = many_sessions(size)
                results["many_sessions"].append(
                    run_shape(gateway, credentials, shape, pool[offset : offset + size])
                )
                offset += size
            for size in hot_sizes:
                shape = hot_session(size, hot_seconds)
                results["hot_session"].append(
                    run_shape(gateway, credentials, shape, pool[offset : offset + 1])
                )
                offset += 1
    many, hot = results["many_sessions"][-1], results["hot_session"][-1]
    checks = {
        "many_sessions_p50_le_10ms": many["latency_ms"]["p50"] <= 10,
        "many_sessions_p99_le_50ms": many["latency_ms"]["p99"] <= 50,
        "hot_session_p99_le_250ms": hot["latency_ms"]["p99"] <= 250,
        # No growing backlog: every delivery arrives, and the last third is not slower.
        "hot_session_no_backlog": hot["received"] == hot["expected_deliveries"]
        and hot["last_third_p50_ms"] <= 2 * hot["first_third_p50_ms"] + 5,
        "idle_le_64KiB": results["idle_memory"]["kib_per_subscription"] <= 64,
    }
    results["target"] = (
        "(a) p50 <= 10 ms, p99 <= 50 ms; (b) p99 <= 250 ms, no growing backlog; "
        "<= 64 KiB per idle subscription (largest sizes)"
    )
    results["checks"] = checks
    results["met"] = all(checks.values())
    return results
