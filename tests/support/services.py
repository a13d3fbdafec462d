"""Real PostgreSQL for the store tests: skipped locally when absent, required in CI."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

PG_ADMIN_URL = os.environ.get(
    "KYCGW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _unavailable(what: str, error: Exception) -> None:
    if os.environ.get("KYCGW_REQUIRE_SERVICES"):
        pytest.fail(f"{what} is required (KYCGW_REQUIRE_SERVICES is set): {error}")
    pytest.skip(f"{what} not reachable: {error}")


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database for one test; dropped afterwards. Yields an asyncpg SQLAlchemy URL."""
    import asyncpg

    name = f"kycgw_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncio.wait_for(asyncpg.connect(PG_ADMIN_URL), 5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        _unavailable("PostgreSQL", error)
        raise  # unreachable: skip/fail raise
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
