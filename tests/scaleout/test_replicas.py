"""Two real gateway replicas sharing PostgreSQL and Redis: events cross replicas, sessions
are shared, one reconciler at a time with a bounded hand-over; and a subscriber that was
away resumes from its cursor with exactly what it missed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession
from websockets.asyncio.client import connect

from gateway.store.migrate import upgrade
from tests.e2e.server import GatewayProcess
from tests.faults.deliveries import SECRET
from tests.support.redis_service import require_redis
from tests.support.rows import created_didit
from tests.support.services import fresh_postgres_database
from tests.support.signing.didit import didit_body, signed_request

LEADER_RETRY_S = 0.5


def replica_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "KYCGW_DATABASE_URL": database_url,
        "KYCGW_BROKER_URL": redis_url,
        "KYCGW_DIDIT_API_KEY": "scaleout-test-key",
        "KYCGW_DIDIT_WEBHOOK_SECRET": SECRET,
        "KYCGW_DIDIT_BASE_URL": "http://127.0.0.1:9",
        "KYCGW_PROVIDERS": '["didit", "beltic"]',
        "KYCGW_LEADER_RETRY_S": str(LEADER_RETRY_S),
    }


async def seed_didit_session(database_url: str) -> tuple[str, str]:
    sid, psid = f"ses_{uuid.uuid4().hex}", str(uuid.uuid4())
    now = datetime.now(UTC)
    engine = create_async_engine(database_url)
    async with AsyncSession(engine) as db:
        db.add_all(created_didit(sid, psid, now))
        await db.commit()
    await engine.dispose()
    return sid, psid


async def subscribe(base: str, variables: dict, query: str | None = None):  # type: ignore[no-untyped-def]
    ws = await connect(
        base.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": query
                    or "subscription($s: ID, $a: String) { sessionStatusChanged("
                    "sessionId: $s, after: $a) { status cursor } }",
                    "variables": variables,
                },
            }
        )
    )
    return ws


async def next_event(ws) -> dict:  # type: ignore[no-untyped-def]
    message = json.loads(await asyncio.wait_for(ws.recv(), 15))
    assert message["type"] == "next", message
    return message["payload"]["data"]["sessionStatusChanged"]


async def deliver(base: str, psid: str, status: str, ts: int) -> None:
    raw, headers = signed_request(didit_body(psid, status, ts), SECRET, ts)
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post("/webhooks/didit", content=raw, headers=headers)
    assert r.status_code == 200, r.text


def ready(base: str) -> dict:
    return httpx.get(f"{base}/readyz", timeout=5).json()


async def test_two_replicas_share_events_sessions_and_one_reconciler(tmp_path: Path) -> None:
    redis_url = await require_redis()
    async with fresh_postgres_database() as database_url:
        upgrade(database_url)
        a = GatewayProcess(tmp_path / "a", extra_env=replica_env(database_url, redis_url))
        b = GatewayProcess(tmp_path / "b", extra_env=replica_env(database_url, redis_url))
        a.start()
        b.start()
        try:
            assert ready(a.base)["checks"] == {"database": True, "broker": True}
            # A webhook delivered to A reaches a subscriber connected to B.
            sid, psid = await seed_didit_session(database_url)
            ws = await subscribe(b.base, {"s": sid})
            await asyncio.sleep(0.3)
            await deliver(a.base, psid, "In Progress", int(time.time()))
            assert (await next_event(ws))["status"] == "IN_PROGRESS"
            await ws.close()
            # A session created on B is readable on A.
            async with httpx.AsyncClient(timeout=20) as c:
                created = (
                    await c.post(
                        f"{b.base}/graphql",
                        json={
                            "query": "mutation { createSession(input: "
                            '{provider: "beltic", clientReference: "r"}) { session { id } } }'
                        },
                    )
                ).json()["data"]["createSession"]["session"]
                read = (
                    await c.post(
                        f"{a.base}/graphql",
                        json={
                            "query": "{ session(id: "
                            + json.dumps(created["id"])
                            + ") { id provider status } }"
                        },
                    )
                ).json()
            assert read["data"]["session"] == {
                "id": created["id"],
                "provider": "beltic",
                "status": "CREATED",
            }
            # Exactly one reconciler; killing it hands the role over within the bound.
            leaders = [p for p in (a, b) if ready(p.base)["reconciler"]]
            assert len(leaders) == 1
            leader, other = (a, b) if leaders[0] is a else (b, a)
            leader.kill()
            killed = time.monotonic()
            while not ready(other.base)["reconciler"]:
                assert time.monotonic() - killed < 4 * LEADER_RETRY_S + 5, "no hand-over"
                await asyncio.sleep(0.1)
        finally:
            a.stop()
            b.stop()


async def test_a_returning_subscriber_gets_exactly_what_it_missed(tmp_path: Path) -> None:
    redis_url = await require_redis()
    async with fresh_postgres_database() as database_url:
        upgrade(database_url)
        with GatewayProcess(tmp_path, extra_env=replica_env(database_url, redis_url)) as server:
            sid, psid = await seed_didit_session(database_url)
            ws = await subscribe(server.base, {"s": sid})
            await asyncio.sleep(0.3)
            base_ts = int(time.time()) - 200
            await deliver(server.base, psid, "In Progress", base_ts)
            last = (await next_event(ws))["cursor"]
            await ws.close()  # away ...
            statuses = ["In Review", "In Progress"] * 50
            for i, status in enumerate(statuses):  # ... while 100 changes happen
                await deliver(server.base, psid, status, base_ts + 1 + i)
            ws = await subscribe(server.base, {"s": sid, "a": last})
            missed = [await next_event(ws) for _ in range(100)]
            assert [e["status"] for e in missed] == [
                "IN_REVIEW" if s == "In Review" else "IN_PROGRESS" for s in statuses
            ]
            cursors = [int(e["cursor"]) for e in missed]
            assert cursors == sorted(cursors) and cursors[0] > int(last)
            await deliver(server.base, psid, "Approved", base_ts + 150)
            live = await next_event(ws)
            assert live["status"] == "APPROVED" and int(live["cursor"]) > cursors[-1]
            await ws.close()
