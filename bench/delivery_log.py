"""The gateway's side of the delivery benchmark, read from its database: outbox messages
shaped as the gateway writes them, the run's delivery log checked row by row, and where a
delivery's time went."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select

from adapters.base import SessionStatus
from bench.receiver import POLL_S, STALL_S, DeliveryMismatch
from gateway.bus.events import StatusChanged, StatusSource
from gateway.outbound import outbox, tables
from gateway.store.db import make_engine
from gateway.webhook_config import EVENT_STATUS_CHANGED


def outbox_rows(count: int) -> list[dict[str, Any]]:
    """`webhook_messages` rows built by the gateway's own outbox code, for changes shaped like
    the ingest run's (a session moving CREATED → IN_PROGRESS by a Didit webhook), one session
    each so no delivery waits behind another."""
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        change = StatusChanged(
            cursor=1_000_000 + i,
            session_id=f"ses_{uuid.uuid4().hex}",
            provider="didit",
            client_reference=f"bench-{i}",
            sequence=2,
            previous_status=SessionStatus.CREATED,
            status=SessionStatus.IN_PROGRESS,
            provider_status="In Progress",
            source=StatusSource.WEBHOOK,
            occurred_at=now.replace(microsecond=0),
        )
        rows.extend(outbox.message_values(change, str(uuid.uuid4()), None, now))
    return rows


async def last_message_id(url: str) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            highest = await conn.scalar(select(func.max(tables.messages.c.id)))
            return int(highest or 0)
    finally:
        await engine.dispose()


async def insert_backlog(url: str, rows: list[dict[str, Any]]) -> None:
    """The whole backlog in one transaction, as `outbox.enqueue` inserts a batch."""
    engine = make_engine(url, immediate=True)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(tables.messages), rows)
    finally:
        await engine.dispose()


async def delivery_log(url: str, after_id: int) -> list[Any]:
    """Messages after `after_id` with their deliveries and attempts (outer joins: a missing
    delivery or attempt shows as NULLs and fails the check)."""
    m, d, a = tables.messages, tables.deliveries, tables.attempts
    query = (
        select(
            m.c.message_id,
            m.c.session_id,
            m.c.event_type,
            m.c.created_at.label("message_at"),
            d.c.status,
            d.c.attempt_count,
            d.c.created_at.label("delivery_at"),
            a.c.attempted_at,
            a.c.duration_ms,
        )
        .select_from(
            m.outerjoin(d, d.c.message_id == m.c.id).outerjoin(a, a.c.delivery_id == d.c.id)
        )
        .where(m.c.id > after_id)
    )
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(query)).all())
    finally:
        await engine.dispose()


async def settled_log(url: str, after_id: int, count: int) -> list[Any]:
    """The log once every delivery is recorded (the receiver answers before the worker
    writes the attempt); as it stands after `STALL_S` otherwise, for the check to judge."""
    deadline = time.monotonic() + STALL_S
    while True:
        rows = await delivery_log(url, after_id)
        settled = all(r.status in ("SUCCEEDED", "FAILED") for r in rows)
        if (len(rows) >= count and settled) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(POLL_S)


def check_log(rows: list[Any], sessions: set[str]) -> set[str]:
    """One `session.status_changed` per session, delivered once, at its first attempt.
    Returns the webhook-ids the receiver must have seen."""
    per_session = Counter(r.session_id for r in rows)
    bad = [
        r
        for r in rows
        if r.event_type != EVENT_STATUS_CHANGED or r.status != "SUCCEEDED" or r.attempt_count != 1
    ]
    if set(per_session) != sessions or any(n != 1 for n in per_session.values()) or bad:
        raise DeliveryMismatch(
            f"{len(rows)} logged deliveries for {len(sessions)} changes, "
            f"{len(sessions - set(per_session))} changes without one, {len(bad)} not "
            f"succeeded at the first attempt (e.g. {bad[0].status if bad else '-'})"
        )
    return {r.message_id for r in rows}


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values) * 1000, 2), "max": round(max(values) * 1000, 2)}


def breakdown(rows: list[Any], seconds: float) -> dict[str, Any]:
    """Where a delivery's time went. `attempted_at` is written when the attempt ended, so
    it started `duration_ms` before."""
    http = [r.duration_ms / 1000 for r in rows]
    return {
        "fan_out_wait_ms": _ms([(r.delivery_at - r.message_at).total_seconds() for r in rows]),
        "claim_wait_ms": _ms(
            [
                (r.attempted_at - r.delivery_at).total_seconds() - s
                for r, s in zip(rows, http, strict=True)
            ]
        ),
        "http_attempt_ms": _ms(http),
        # Little's law: the attempts' summed time over the run's.
        "mean_in_flight": round(sum(http) / seconds, 2),
    }
