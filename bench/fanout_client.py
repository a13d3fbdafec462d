"""The fan-out load generator, in its own process: real graphql-transport-ws clients (the
`websockets` library) subscribe, then signed webhooks are posted at a fixed rate and every
`next` frame's arrival is timed against the moment its webhook was sent.

Driven over stdin/stdout by `bench/fanout.py`: it reads a JSON plan, prints `SUBSCRIBED` once
every subscription is registered on the server, waits for a `GO` line, and prints one
`RESULT {json}` line. Latency is measured from just before the webhook request is written —
an upper bound on "from receipt at our endpoint", since it includes the request's transit.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import websockets

SUBSCRIPTION = """subscription Follow($id: ID!) {
  sessionStatusChanged(sessionId: $id) {
    cursor sessionId sequence status previousStatus providerStatus source occurredAt
    session { status updatedAt }
  }
}"""


@dataclass
class Plan:
    ws_url: str
    http_base: str
    api_key: str
    subscribers: list[str]  # one session id per subscriber
    events: list[dict[str, Any]]  # {session_id, ts, body, headers}
    rate_per_s: float
    settle_s: float
    connect_concurrency: int = 64


@dataclass
class Tally:
    sent_at: dict[tuple[str, int], int] = field(default_factory=dict)
    expected: dict[tuple[str, int], int] = field(default_factory=dict)
    latencies_ns: list[tuple[int, int]] = field(default_factory=list)  # (send order, latency)
    order: dict[tuple[str, int], int] = field(default_factory=dict)
    received: int = 0
    unmatched: int = 0
    errors: list[str] = field(default_factory=list)


def _event_key(payload: dict[str, Any]) -> tuple[str, int]:
    event = payload["data"]["sessionStatusChanged"]
    return event["sessionId"], int(datetime.fromisoformat(event["occurredAt"]).timestamp())


async def _subscriber(
    plan: Plan, session_id: str, tally: Tally, ready: asyncio.Semaphore, subscribed: list[int]
) -> websockets.ClientConnection:
    async with ready:
        ws = await websockets.connect(
            plan.ws_url, subprotocols=["graphql-transport-ws"], max_queue=None, compression=None
        )
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {plan.api_key}"}}
            )
        )
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIPTION, "variables": {"id": session_id}},
                }
            )
        )
        subscribed[0] += 1
    return ws


async def _reader(ws: websockets.ClientConnection, tally: Tally) -> None:
    try:
        async for frame in ws:
            now = time.monotonic_ns()
            message = json.loads(frame)
            if message.get("type") != "next":
                tally.errors.append(str(message)[:300])
                continue
            payload = message["payload"]
            if payload.get("errors"):
                tally.errors.append(json.dumps(payload["errors"])[:300])
                continue
            key = _event_key(payload)
            sent = tally.sent_at.get(key)
            if sent is None:
                tally.unmatched += 1
                continue
            tally.received += 1
            tally.latencies_ns.append((tally.order[key], now - sent))
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd.code != 1000:
            tally.errors.append(f"closed {closed.rcvd.code} {closed.rcvd.reason}")


async def _active_subscriptions(client: httpx.AsyncClient, api_key: str) -> float:
    """From `/metrics`, which a keyed gateway serves to a stats:read key; a refusal fails the
    run instead of waiting for a count that never comes."""
    response = await client.get("/metrics", headers={"authorization": f"Bearer {api_key}"})
    response.raise_for_status()
    text = response.text
    for line in text.splitlines():
        if line.startswith("kycgw_active_subscriptions "):
            return float(line.split()[1])
    return 0.0


async def run(plan: Plan) -> dict[str, Any]:
    tally = Tally()
    for order, event in enumerate(plan.events):
        key = (event["session_id"], int(event["ts"]))
        tally.order[key] = order
    subscribed = [0]
    gate = asyncio.Semaphore(plan.connect_concurrency)
    started = time.monotonic()
    sockets = await asyncio.gather(
        *(_subscriber(plan, sid, tally, gate, subscribed) for sid in plan.subscribers)
    )
    readers = [asyncio.create_task(_reader(ws, tally)) for ws in sockets]
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=plan.http_base, limits=limits, timeout=30) as http:
        while await _active_subscriptions(http, plan.api_key) < len(plan.subscribers):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        connect_s = time.monotonic() - started
        print("SUBSCRIBED", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        statuses: dict[int, int] = {}
        answered_ms: list[float] = []

        async def post(event: dict[str, Any]) -> None:
            key = (event["session_id"], int(event["ts"]))
            tally.sent_at[key] = sent = time.monotonic_ns()
            for attempt in range(3):
                try:
                    response = await http.post(
                        "/webhooks/didit", content=event["body"], headers=event["headers"]
                    )
                    break
                except httpx.TransportError:  # a keep-alive connection the server closed
                    if attempt == 2:
                        raise
            answered_ms.append((time.monotonic_ns() - sent) / 1e6)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        interval = 1.0 / plan.rate_per_s
        begin = time.monotonic()
        posts = []
        for index, event in enumerate(plan.events):
            delay = begin + index * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.create_task(post(event)))
        await asyncio.gather(*posts)
        send_s = time.monotonic() - begin
        expected = _expected_deliveries(plan)
        deadline = time.monotonic() + plan.settle_s
        while tally.received < expected and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        drain_s = time.monotonic() - begin - send_s
    for ws in sockets:
        await ws.close()
    for reader in readers:
        reader.cancel()
    latencies = sorted(ns / 1e6 for _, ns in tally.latencies_ns)
    by_order = [ns / 1e6 for _, ns in sorted(tally.latencies_ns)]
    third = max(1, len(by_order) // 3)
    return {
        "subscribers": len(plan.subscribers),
        "events": len(plan.events),
        "expected_deliveries": expected,
        "received": tally.received,
        "unmatched": tally.unmatched,
        "webhook_statuses": statuses,
        "connect_s": round(connect_s, 2),
        "send_s": round(send_s, 2),
        "drain_after_send_s": round(drain_s, 3),
        "latency_ms": _percentiles(latencies),
        "webhook_answered_ms": _percentiles(sorted(answered_ms)),
        "first_third_p50_ms": _percentiles(sorted(by_order[:third]))["p50"],
        "last_third_p50_ms": _percentiles(sorted(by_order[-third:]))["p50"],
        "errors": tally.errors[:5],
        "error_count": len(tally.errors),
    }


def _expected_deliveries(plan: Plan) -> int:
    per_session: dict[str, int] = {}
    for sid in plan.subscribers:
        per_session[sid] = per_session.get(sid, 0) + 1
    return sum(per_session.get(event["session_id"], 0) for event in plan.events)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 2)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(values[-1], 2)}


def main() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    plan = Plan(**json.loads(sys.stdin.readline()))
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    result = runner(run(plan))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
