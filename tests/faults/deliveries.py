"""Seeded Didit sessions and a deterministic set of signed Didit webhooks for fault tests.

The server runs Didit in live mode with a known webhook secret (its API is never called:
sessions are seeded straight into the SQLite file, as if created earlier)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine
from sqlmodel import Session, select

from gateway.store.migrate import upgrade
from gateway.store.models import SessionRow, StatusChangeRow, VendorEventRow
from tests.support.rows import created_didit
from tests.support.signing.didit import didit_body, signed_request

SECRET = "fault-test-webhook-secret"
LIVE_DIDIT = {
    "KYCGW_DIDIT_API_KEY": "fault-test-api-key",
    "KYCGW_DIDIT_WEBHOOK_SECRET": SECRET,
    "KYCGW_DIDIT_BASE_URL": "http://127.0.0.1:9",  # never called in these tests
    "KYCGW_PROVIDERS": '["didit"]',
    "KYCGW_RECONCILE_ENABLED": "false",
}
#: The Didit statuses delivered, and what each becomes (docs/vendors/didit.md, statuses).
EXPECTED = {
    "In Progress": "IN_PROGRESS",
    "In Review": "IN_REVIEW",
    "Approved": "APPROVED",
    "Declined": "DECLINED",
    "Resubmitted": "AWAITING_USER",
    "Abandoned": "ABANDONED",
}
STATUSES = list(EXPECTED)


@dataclass(frozen=True)
class Delivery:
    event_id: str
    psid: str
    status: str
    timestamp: int
    raw: bytes
    headers: dict[str, str]


def seed_sessions(data_dir: Path, count: int) -> list[str]:
    """Create the schema and `count` CREATED Didit sessions; returns their vendor ids."""
    db = data_dir / "gateway.db"
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(f"sqlite+aiosqlite:///{db}")
    engine = create_engine(f"sqlite:///{db}")
    now = datetime.now(UTC)
    psids = [str(uuid.UUID(int=i + 1)) for i in range(count)]
    with Session(engine) as session:
        for i, psid in enumerate(psids):
            session.add_all(created_didit(f"ses_fault{i:06d}", psid, now))
        session.commit()
    engine.dispose()
    return psids


def make_deliveries(psids: list[str], per_session: int, seed: int = 7) -> list[Delivery]:
    """`per_session` events per session at distinct vendor seconds, in vendor order."""
    rng = random.Random(seed)
    base = int(time.time()) - 120  # inside Didit's ±300 s window for the whole test
    out = []
    for psid in psids:
        for k in range(per_session):
            status = rng.choice(STATUSES)
            ts = base + k * 8 + rng.randrange(8)
            event_id = str(uuid.UUID(int=rng.getrandbits(128)))
            raw, headers = signed_request(
                didit_body(psid, status, ts, event_id=event_id), SECRET, ts
            )
            # Identified by Didit's dedupe key (what its retries keep), not the per-attempt id.
            key = f"{psid}:status.updated:{status}:{ts}"
            out.append(Delivery(key, psid, status, ts, raw, headers))
    return out


async def send_all(base: str, deliveries: Iterable[Delivery], workers: int = 8) -> dict[str, int]:
    """Send concurrently; returns event_id → last HTTP status (0 = no answer)."""
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    for d in deliveries:
        queue.put_nowait(d)
    results: dict[str, int] = {}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            d = queue.get_nowait()
            try:
                r = await client.post("/webhooks/didit", content=d.raw, headers=d.headers)
                code = r.status_code
            except httpx.TransportError:
                code = 0
            if results.get(d.event_id, 0) // 100 != 2:
                results[d.event_id] = code

    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(workers)))
    return results


def newest_by_session(deliveries: list[Delivery]) -> dict[str, Delivery]:
    newest: dict[str, Delivery] = {}
    for d in deliveries:
        if d.psid not in newest or d.timestamp > newest[d.psid].timestamp:
            newest[d.psid] = d
    return newest


@dataclass
class Stored:
    sessions: dict[str, SessionRow]
    changes: dict[str, list[StatusChangeRow]]
    events: list[VendorEventRow]


def read_store(data_dir: Path) -> Stored:
    engine = create_engine(f"sqlite:///{data_dir / 'gateway.db'}")
    with Session(engine) as session:
        rows = session.exec(select(SessionRow)).all()
        changes: dict[str, list[StatusChangeRow]] = {}
        for change in session.exec(select(StatusChangeRow)).all():
            changes.setdefault(change.session_id, []).append(change)
        events = list(session.exec(select(VendorEventRow)).all())
        stored = Stored({r.provider_session_id: r for r in rows}, changes, events)
    engine.dispose()
    return stored


def expected_status(d: Delivery) -> str:
    return EXPECTED[d.status]
