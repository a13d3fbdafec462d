"""Nothing acknowledged is lost: a real server is SIGKILLed under a webhook load and
restarted; and a storm of shuffled, tripled deliveries ends where one ordered pass ends."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

from tests.e2e.server import GatewayProcess
from tests.faults.deliveries import (
    LIVE_DIDIT,
    Delivery,
    Stored,
    expected_status,
    make_deliveries,
    newest_by_session,
    read_store,
    seed_sessions,
    send_all,
)


def assert_consistent(stored: Stored, deliveries: list[Delivery], acked: set[str]) -> None:
    """Every acknowledged event stored exactly once; each session ends at its newest event;
    each history is a gap-free sequence."""
    counts = Counter(e.dedupe_key for e in stored.events)
    wrong = {event_id: counts[event_id] for event_id in acked if counts[event_id] != 1}
    assert not wrong, f"{len(wrong)} acked events missing or doubled, e.g. {list(wrong)[:3]}"
    assert max(counts.values()) == 1
    for psid, newest in newest_by_session(deliveries).items():
        row = stored.sessions[psid]
        assert (row.status, row.provider_status) == (expected_status(newest), newest.status), psid
        sequences = sorted(c.sequence for c in stored.changes[row.id])
        assert sequences == list(range(1, len(sequences) + 1)), psid
        assert row.last_sequence == len(sequences)


async def test_sigkill_under_load_loses_no_acknowledged_change(tmp_path: Path) -> None:
    psids = seed_sessions(tmp_path, 200)
    deliveries = make_deliveries(psids, per_session=10)
    assert len(deliveries) == 2000
    shuffled = deliveries[:]
    random.Random(1).shuffle(shuffled)
    with GatewayProcess(tmp_path, extra_env=LIVE_DIDIT) as server:
        sending = asyncio.create_task(send_all(server.base, shuffled, workers=16))
        # Kill the server hard once a good part of the load has been acknowledged.
        for _ in range(600):
            await asyncio.sleep(0.05)
            if len(read_store(tmp_path).events) >= 600:
                break
        server.kill()
        first = await sending
        acked_first = {eid for eid, code in first.items() if code // 100 == 2}
        stored_after_kill = {e.dedupe_key for e in read_store(tmp_path).events}
        lost = acked_first - stored_after_kill
        assert not lost, f"{len(lost)} acknowledged events lost by the crash: {sorted(lost)[:3]}"
        assert 0 < len(acked_first) < 2000, "the kill should land mid-way"
        server.start()
        retry = [d for d in shuffled if d.event_id not in acked_first]
        second = await send_all(server.base, retry, workers=16)
        assert all(code // 100 == 2 for code in second.values()), Counter(second.values())
    stored = read_store(tmp_path)
    assert_consistent(stored, deliveries, {d.event_id for d in deliveries})
    assert "Traceback" not in server.log_text()


async def test_storm_of_shuffled_triplicates_equals_one_ordered_pass(tmp_path: Path) -> None:
    ordered_dir, storm_dir = tmp_path / "ordered", tmp_path / "storm"
    psids = seed_sessions(ordered_dir, 100)
    assert seed_sessions(storm_dir, 100) == psids
    deliveries = make_deliveries(psids, per_session=10, seed=11)
    for data_dir, batch, workers in (
        (ordered_dir, deliveries, 1),
        (storm_dir, random.Random(5).sample(deliveries * 3, len(deliveries) * 3), 16),
    ):
        with GatewayProcess(data_dir, extra_env=LIVE_DIDIT) as server:
            results = await send_all(server.base, batch, workers=workers)
        assert all(code // 100 == 2 for code in results.values())
    ordered, storm = read_store(ordered_dir), read_store(storm_dir)
    assert_consistent(ordered, deliveries, {d.event_id for d in deliveries})
    assert_consistent(storm, deliveries, {d.event_id for d in deliveries})
    assert {p: (r.status, r.provider_status) for p, r in storm.sessions.items()} == {
        p: (r.status, r.provider_status) for p, r in ordered.sessions.items()
    }
