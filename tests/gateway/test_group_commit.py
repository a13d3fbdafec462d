"""Group commit (gateway/store/group_commit.py): webhooks arriving together share one transaction,
yet each caller gets its own outcome, and one bad event never fails its neighbours."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from gateway.store.group_commit import GroupCommit
from gateway.store.models import StatusChangeRow, VendorEventRow
from tests.conftest import Harness
from tests.gateway.queries import CREATE
from tests.support.signing.didit import didit_body, signed_request


async def test_concurrent_items_share_a_batch_and_keep_their_own_outcomes() -> None:
    seen: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int | BaseException]:
        seen.append(list(items))
        await asyncio.sleep(0.01)  # a transaction in flight: later arrivals queue up
        return [ValueError(f"bad {i}") if i % 5 == 0 else i * 10 for i in items]

    commit: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(
        *(commit.submit(i) for i in range(1, 21)), return_exceptions=True
    )
    for i, result in zip(range(1, 21), results, strict=True):
        if i % 5 == 0:
            assert isinstance(result, ValueError) and str(result) == f"bad {i}"
        else:
            assert result == i * 10
    assert sorted(i for batch in seen for i in batch) == list(range(1, 21))
    assert len(seen) < 20 and max(len(batch) for batch in seen) > 1


async def test_a_failing_batch_fails_only_its_callers_and_later_batches_run() -> None:
    calls = 0

    async def write(items: Sequence[str]) -> list[str | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return [item.upper() for item in items]

    commit: GroupCommit[str, str] = GroupCommit(write)
    with pytest.raises(RuntimeError, match="went away"):
        await commit.submit("a")
    assert await commit.submit("b") == "B"


async def test_a_caller_that_goes_away_does_not_cancel_the_write() -> None:
    written: list[str] = []
    started = asyncio.Event()

    async def write(items: Sequence[str]) -> list[str | BaseException]:
        started.set()
        await asyncio.sleep(0.02)
        written.extend(items)
        return list(items)

    commit: GroupCommit[str, str] = GroupCommit(write)
    caller = asyncio.create_task(commit.submit("kept"))
    await started.wait()
    caller.cancel()
    await asyncio.sleep(0.05)
    assert written == ["kept"]


async def test_a_burst_of_webhooks_is_stored_exactly_once_each(harness: Harness) -> None:
    """Ten sessions advance concurrently through three statuses; a redelivery and an event for
    a session we do not know arrive in the same burst."""
    sessions = []
    for i in range(10):
        data = await harness.gql(
            CREATE, {"input": {"provider": "didit", "clientReference": f"u{i}"}}
        )
        sessions.append(data["createSession"]["session"])
    now = int(time.time())

    async def post(psid: str, status: str, ts: int, event_id: str) -> tuple[int, dict]:
        raw, headers = signed_request(
            didit_body(psid, status, ts, event_id=event_id), harness.didit_secret, ts
        )
        response = await harness.client.post("/webhooks/didit", content=raw, headers=headers)
        return response.status_code, response.json()

    async def advance(index: int, psid: str) -> list[tuple[int, dict]]:
        answers = []
        for step, status in enumerate(("In Progress", "In Review", "Approved")):
            answers.append(await post(psid, status, now - 10 + step, f"evt-{index}-{step}"))
        return answers

    writer = harness.gateway.service.ingest.writer
    batches_before, items_before = writer.batches, writer.items
    chains = [advance(i, s["providerSessionId"]) for i, s in enumerate(sessions)]
    redelivery = post(sessions[0]["providerSessionId"], "In Progress", now - 10, "evt-0-0")
    stranger = post("00000000-0000-4000-8000-00000000dead", "Approved", now, "evt-x")
    results = await asyncio.gather(*chains, redelivery, stranger)
    *chain_answers, redelivered, unknown = results

    assert unknown[0] == 404
    assert redelivered[0] == 200
    assert redelivered[1]["outcomes"] in (["duplicate"], ["applied"])
    outcomes = [answer[1]["outcomes"] for chain in chain_answers for answer in chain]
    assert all(code == 200 for chain in chain_answers for code, _ in chain)
    # Exactly one of the two deliveries of evt-0-0 applied; the other was a duplicate.
    applied_first = outcomes.count(["applied"]) + (redelivered[1]["outcomes"] == ["applied"])
    assert applied_first == 30
    assert writer.items - items_before == 32
    assert writer.batches - batches_before < 32, "no two webhooks ever shared a transaction"

    async with harness.gateway.service.db_factory() as db:
        events = (await db.exec(select(VendorEventRow))).all()
        changes = (await db.exec(select(StatusChangeRow).order_by(col(StatusChangeRow.id)))).all()
    # Didit's key is what stays the same across its retries (docs/vendors/didit.md).
    statuses = ("In Progress", "In Review", "Approved")
    assert sorted(e.dedupe_key for e in events) == sorted(
        f"{s['providerSessionId']}:status.updated:{statuses[step]}:{now - 10 + step}"
        for s in sessions
        for step in range(3)
    )
    for session in sessions:
        mine = [c for c in changes if c.session_id == session["id"]]
        assert [c.sequence for c in mine] == [1, 2, 3, 4]  # cursor order = sequence order
        assert [c.to_status for c in mine] == ["CREATED", "IN_PROGRESS", "IN_REVIEW", "APPROVED"]


async def test_a_conflicting_batch_is_retried_event_by_event(harness: Harness) -> None:
    """A batch whose commit conflicts (e.g. another replica's batch won a key) is retried one
    event at a time, so every event still lands and each caller hears its own outcome."""
    service = harness.gateway.service
    real = service.ingest.write_batch
    conflicted: list[int] = []

    async def conflict_once(items):  # type: ignore[no-untyped-def]
        if len(items) > 1 and not conflicted:
            conflicted.append(len(items))
            raise IntegrityError("insert", {}, Exception("simulated conflict"))
        return await real(items)

    service.ingest.write_batch = conflict_once  # type: ignore[method-assign]
    sessions = []
    for i in range(3):
        data = await harness.gql(
            CREATE, {"input": {"provider": "didit", "clientReference": f"c{i}"}}
        )
        sessions.append(data["createSession"]["session"])
    now = int(time.time())

    async def post(psid: str, event_id: str) -> tuple[int, dict]:
        raw, headers = signed_request(
            didit_body(psid, "In Progress", now, event_id=event_id), harness.didit_secret, now
        )
        response = await harness.client.post("/webhooks/didit", content=raw, headers=headers)
        return response.status_code, response.json()

    answers = await asyncio.gather(
        *(post(s["providerSessionId"], f"conflict-{i}") for i, s in enumerate(sessions))
    )
    assert conflicted, "no batch of several events was formed"
    assert answers == [(200, {"received": True, "outcomes": ["applied"]})] * 3
    async with service.db_factory() as db:
        keys = (await db.exec(select(VendorEventRow.dedupe_key))).all()
    assert sorted(keys) == sorted(
        f"{s['providerSessionId']}:status.updated:In Progress:{now}" for s in sessions
    )
