"""The outbox survives a crash: a real gateway delivering outbound webhooks is SIGKILLed in the
middle of a burst of status changes and started again; every change committed before the kill
reaches the receiver (at least once, always under the same `webhook-id`), none is missing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import defaultdict
from pathlib import Path

from tests.e2e.server import GatewayProcess
from tests.faults.deliveries import LIVE_DIDIT, make_deliveries, seed_sessions, send_all
from tests.support.webhook_receiver import Receiver, running_receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTZ0ziN3TTg3M3QkWgDds"  # a test-only Standard Webhooks key


def committed_changes(data_dir: Path) -> dict[int, tuple[str, int]]:
    """cursor → (session, sequence) of every change the gateway recorded (not the seeded
    CREATED rows: they were written before the gateway ran)."""
    db = sqlite3.connect(data_dir / "gateway.db")
    try:
        rows = db.execute(
            "select id, session_id, sequence from status_changes where sequence > 1"
        ).fetchall()
    finally:
        db.close()
    return {cursor: (session, sequence) for cursor, session, sequence in rows}


def delivered(receiver: Receiver) -> dict[int, set[str]]:
    """cursor → the webhook-ids its status_changed deliveries came under."""
    ids: dict[int, set[str]] = defaultdict(set)
    for received in receiver.accepted:
        if received.payload["type"] == "session.status_changed":
            ids[int(received.payload["data"]["cursor"])].add(received.webhook_id)
    return ids


async def test_sigkill_mid_burst_loses_no_committed_change(tmp_path: Path) -> None:
    psids = seed_sessions(tmp_path, 70)
    # In vendor order, sessions interleaved: nearly every event is a change.
    burst = sorted(make_deliveries(psids, per_session=10, seed=3), key=lambda d: d.timestamp)
    # A receiver slower than the burst, so deliveries are still queued when the kill lands.
    with running_receiver(Receiver(secret=SECRET, hold_s=0.01)) as receiver:
        env = {
            **LIVE_DIDIT,
            "KYCGW_WEBHOOK_ENDPOINTS": json.dumps(
                [{"url": receiver.url, "secret": SECRET, "events": ["session.status_changed"]}]
            ),
            "KYCGW_WEBHOOK_CONCURRENCY": "4",
            "KYCGW_WEBHOOK_POLL_INTERVAL_S": "0.1",
            "KYCGW_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.2, 0.5, 1, 1, 1]",
        }
        with GatewayProcess(tmp_path, extra_env=env) as server:
            sending = asyncio.create_task(send_all(server.base, burst, workers=16))
            for _ in range(600):
                await asyncio.sleep(0.05)
                if len(committed_changes(tmp_path)) >= 250:
                    break
            server.kill()
            first = await sending
            before_kill = committed_changes(tmp_path)
            received_at_kill = set(delivered(receiver))
            assert len(before_kill) >= 250
            assert len(before_kill.keys() - received_at_kill) > 0, (
                "the kill should land while deliveries are still queued"
            )
            server.start()
            receiver.wait_for(
                lambda r: before_kill.keys() <= delivered(r).keys(),
                timeout_s=60,
                what="every change committed before the kill",
            )
            # The vendor retries what was not acknowledged: the rest of the burst.
            rest = [d for d in burst if first.get(d.event_id, 0) // 100 != 2]
            await send_all(server.base, rest, workers=16)
            every_change = committed_changes(tmp_path)
            receiver.wait_for(
                lambda r: every_change.keys() <= delivered(r).keys(),
                timeout_s=60,
                what="the rest of the burst",
            )
        got = delivered(receiver)
    assert len(every_change) >= 500, "the burst is 500 changes or more"
    missing = before_kill.keys() - got.keys()
    assert not missing, f"{len(missing)} changes committed before the kill never delivered"
    assert all(len(ids) == 1 for ids in got.values()), "a resent change keeps its webhook-id"
    per_session: dict[str, list[int]] = defaultdict(list)
    for received in receiver.accepted:
        data = received.payload["data"]
        per_session[data["sessionId"]].append(data["sequence"])
    for session, sequences in per_session.items():
        first_seen = list(dict.fromkeys(sequences))
        assert first_seen == sorted(first_seen), (session, sequences)
    assert receiver.rejected_signatures == 0
