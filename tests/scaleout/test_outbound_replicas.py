"""Two real gateway replicas on PostgreSQL (and Redis) both run the delivery worker: they
claim due deliveries with `FOR UPDATE SKIP LOCKED` under a lease, so no delivery is ever in
flight twice at once, every change arrives, and each session's events arrive in order."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import asyncpg

from gateway.store.migrate import upgrade
from tests.e2e.server import GatewayProcess
from tests.scaleout.test_replicas import deliver, replica_env, seed_didit_session
from tests.support.redis_service import require_redis
from tests.support.services import fresh_postgres_database
from tests.support.webhook_receiver import Receiver, running_receiver

SECRET = "whsec_" + "c2NhbGVvdXQtdGVzdC1vbmx5LXNlY3JldA=="  # a test-only key
STATUSES = ["In Progress", "In Review", "Approved"]
SESSIONS = 30


async def recorded_cursors(database_url: str) -> set[int]:
    """Every change the replicas recorded (not the seeded CREATED rows)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await conn.fetch("select id from status_changes where sequence > 1")
    finally:
        await conn.close()
    return {row["id"] for row in rows}


async def test_two_replicas_never_send_one_delivery_twice_at_once(tmp_path: Path) -> None:
    redis_url = await require_redis()
    # Each request is held a while: two replicas sending the same delivery would overlap.
    with running_receiver(Receiver(secret=SECRET, hold_s=0.03)) as receiver:
        async with fresh_postgres_database() as database_url:
            upgrade(database_url)
            env = {
                **replica_env(database_url, redis_url),
                "KYCGW_WEBHOOK_ENDPOINTS": json.dumps([{"url": receiver.url, "secret": SECRET}]),
                "KYCGW_WEBHOOK_CONCURRENCY": "8",
                "KYCGW_WEBHOOK_POLL_INTERVAL_S": "0.05",
                "KYCGW_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.2, 0.5, 1]",
            }
            replicas = [GatewayProcess(tmp_path / name, extra_env=env) for name in ("a", "b")]
            for replica in replicas:
                replica.start()
            try:
                sessions = [await seed_didit_session(database_url) for _ in range(SESSIONS)]
                start = int(time.time()) - 100
                for step, status in enumerate(STATUSES):
                    await asyncio.gather(
                        *(
                            deliver(replicas[i % 2].base, psid, status, start + step)
                            for i, (_, psid) in enumerate(sessions)
                        )
                    )
                changes = await recorded_cursors(database_url)
                assert len(changes) == SESSIONS * len(STATUSES)

                def all_arrived(r: Receiver) -> bool:
                    got = {
                        int(a.payload["data"]["cursor"])
                        for a in r.accepted
                        if a.payload["type"] == "session.status_changed"
                    }
                    finals = [a for a in r.accepted if a.payload["type"] == "session.final"]
                    return changes <= got and len({f.webhook_id for f in finals}) == SESSIONS

                receiver.wait_for(all_arrived, timeout_s=60, what="every change")
            finally:
                for replica in replicas:
                    replica.stop()
    assert receiver.max_in_flight_per_id == 1, "one delivery was in flight twice at once"
    copies = Counter(a.webhook_id for a in receiver.accepted)
    assert max(copies.values()) == 1, copies.most_common(3)
    per_session: dict[str, list[int]] = defaultdict(list)
    for received in receiver.accepted:
        if received.payload["type"] == "session.status_changed":
            data = received.payload["data"]
            per_session[data["sessionId"]].append(data["sequence"])
    assert all(seqs == [2, 3, 4] for seqs in per_session.values()), per_session
    assert receiver.rejected_signatures == 0
