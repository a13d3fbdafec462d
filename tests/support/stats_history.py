"""A fixed, hand-computed history of two vendors over two days, for the figures
(`providerStats`) and the report built from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.rows import path_rows, session_row

T0 = datetime(2024, 3, 1, tzinfo=UTC)
START, END = T0, T0 + timedelta(days=2)
DAY2 = T0 + timedelta(days=1)
ATTEMPT = {"provider": "gamma", "code": "PROVIDER_UNAVAILABLE", "message": "down"}

# (id, provider, created_at, metadata, route_attempts, [(to_status, seconds after creation)])
HISTORY: list[tuple[str, str, datetime, Any, Any, list[tuple[str, int]]]] = [
    ("a1", "alpha", T0, {"country": "DE"}, None, [("IN_PROGRESS", 10), ("APPROVED", 100)]),
    (
        "a2",
        "alpha",
        T0 + timedelta(hours=1),
        {"country": "DE"},
        [ATTEMPT],
        [("IN_PROGRESS", 20), ("IN_REVIEW", 200), ("APPROVED", 300)],
    ),
    (
        "a3",
        "alpha",
        T0 + timedelta(hours=2),
        {"country": "FR"},
        None,
        [("IN_PROGRESS", 30), ("DECLINED", 400)],
    ),
    ("a4", "alpha", DAY2, None, None, [("IN_PROGRESS", 40)]),
    ("a5", "alpha", DAY2 + timedelta(hours=1), {"country": "FR"}, None, [("EXPIRED", 3600)]),
    (
        "a6",
        "alpha",
        DAY2 + timedelta(hours=2),
        {"country": "DE"},
        None,
        # Declined, reopened for review, declined again: decided at the first DECLINED.
        [
            ("IN_PROGRESS", 50),
            ("IN_REVIEW", 100),
            ("DECLINED", 500),
            ("IN_REVIEW", 600),
            ("DECLINED", 900),
        ],
    ),
    (
        "b1",
        "beta",
        T0 + timedelta(minutes=30),
        {"country": "DE"},
        [ATTEMPT, ATTEMPT],
        [("IN_PROGRESS", 5), ("APPROVED", 60)],
    ),
    ("b2", "beta", T0 + timedelta(hours=3), {"other": 1}, [], [("ABANDONED", 1800)]),
    (
        "b3",
        "beta",
        DAY2 + timedelta(minutes=5),
        {"country": "DE"},
        None,
        [("IN_PROGRESS", 15), ("FAILED", 45)],
    ),
    (
        "b4",
        "beta",
        DAY2 + timedelta(hours=5),
        {"country": "FR"},
        None,
        [("IN_PROGRESS", 25), ("CANCELLED", 120)],
    ),
    # Outside [START, END): never counted.
    (
        "x1",
        "alpha",
        START - timedelta(seconds=1),
        {"country": "DE"},
        [ATTEMPT],
        [("IN_PROGRESS", 1), ("APPROVED", 2)],
    ),
    ("x2", "beta", END, None, None, [("IN_PROGRESS", 1)]),
]


async def seed(db_factory: async_sessionmaker[AsyncSession]) -> None:
    async with db_factory() as db:
        for sid, provider, created, metadata, attempts, path in HISTORY:
            status = path[-1][0] if path else "CREATED"
            db.add(
                session_row(
                    sid,
                    provider,
                    status,
                    status.lower(),
                    created,
                    metadata_=metadata,
                    route_attempts=attempts,
                    last_sequence=len(path) + 1,
                )
            )
        await db.flush()
        for sid, _provider, created, _metadata, _attempts, path in HISTORY:
            full = [("CREATED", 0), *path]
            db.add_all(path_rows(sid, created, full, received_after=timedelta(seconds=1)))
        await db.commit()
