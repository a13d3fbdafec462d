"""What every benchmark stands on: a fresh database (SQLite file or PostgreSQL), sessions seeded
into it, and the real gateway (`kyc-gateway serve`) in its own process with an API key and
live-mode Didit credentials (so webhooks can be signed here; no vendor is ever called)."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.process import ServedProcess, free_port, python_argv

PG_ADMIN_URL = os.environ.get(
    "KYCGW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PROVIDER = "didit"


@dataclass(frozen=True)
class Credentials:
    api_key: str
    webhook_secret: str

    @classmethod
    def new(cls) -> Credentials:
        return cls(api_key="kgw_" + secrets.token_urlsafe(24), webhook_secret=secrets.token_hex(24))


@dataclass(frozen=True)
class SeededSession:
    id: str
    provider_session_id: str


@contextmanager
def sqlite_database(work_dir: Path, name: str) -> Iterator[str]:
    path = work_dir / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    yield f"sqlite+aiosqlite:///{path}"


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    import asyncpg

    name = f"kycgw_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def migrate(url: str) -> None:
    from gateway.store.migrate import upgrade

    upgrade(url)


async def seed_sessions(url: str, count: int, *, status: str = "CREATED") -> list[SeededSession]:
    """`count` Didit sessions as `createSession` would have stored them (row + first change)."""
    from sqlalchemy import insert

    from gateway.store.db import make_engine
    from gateway.store.models import SessionRow, StatusChangeRow

    now = datetime.now(UTC)
    seeded = [SeededSession(f"ses_{uuid.uuid4().hex}", str(uuid.uuid4())) for _ in range(count)]
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for start in range(0, count, 2000):
                chunk = seeded[start : start + 2000]
                await conn.execute(
                    insert(SessionRow.__table__),  # type: ignore[attr-defined]
                    [
                        {
                            "id": s.id,
                            "provider": PROVIDER,
                            "provider_session_id": s.provider_session_id,
                            "status": status,
                            "provider_status": "Not Started",
                            "environment": "LIVE",
                            "client_reference": f"bench-{i}",
                            "metadata": {"country": "DE"},
                            "created_at": now,
                            "updated_at": now,
                            "last_sequence": 1,
                            "route_rule": "explicit",
                        }
                        for i, s in enumerate(chunk, start)
                    ],
                )
                await conn.execute(
                    insert(StatusChangeRow.__table__),  # type: ignore[attr-defined]
                    [
                        {
                            "session_id": s.id,
                            "sequence": 1,
                            "from_status": None,
                            "to_status": status,
                            "provider_status": "Not Started",
                            "source": "API",
                            "occurred_at": now,
                            "received_at": now,
                        }
                        for s in chunk
                    ],
                )
    finally:
        await engine.dispose()
    return seeded


async def count_rows(url: str, table: str) -> int:
    from sqlalchemy import text

    from gateway.store.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(f"select count(*) from {table}"))).scalar_one())
    finally:
        await engine.dispose()


def gateway_env(
    url: str, data_dir: Path, port: int, credentials: Credentials, *, keyed: bool = True
) -> dict[str, str]:
    """`keyed=False` leaves out the API key: dev mode, where outbound webhooks may go to a
    plain-http receiver on loopback (gateway/outbound/targets.py)."""
    from gateway.auth import Scope, hash_key

    env = {k: v for k, v in os.environ.items() if not k.startswith("KYCGW_")}
    keys = [{"name": "bench", "sha256": hash_key(credentials.api_key), "scopes": list(Scope)}]
    env.update(
        KYCGW_PORT=str(port),
        KYCGW_DATA_DIR=str(data_dir),
        KYCGW_DATABASE_URL=url,
        KYCGW_API_KEYS=__import__("json").dumps(keys),
        KYCGW_PROVIDERS='["didit"]',
        KYCGW_DIDIT_API_KEY="bench-never-sent",
        KYCGW_DIDIT_WEBHOOK_SECRET=credentials.webhook_secret,
        # Only what is measured runs: no reconciler polling seeded sessions.
        KYCGW_RECONCILE_ENABLED="false",
        KYCGW_LOG_LEVEL=os.environ.get("KYCGW_BENCH_LOG_LEVEL", "INFO"),
        KYCGW_MAX_SUBSCRIPTIONS_PER_CONNECTION="20",
    )
    if not keyed:
        del env["KYCGW_API_KEYS"]
    return env


def gateway_process(
    url: str,
    work_dir: Path,
    credentials: Credentials,
    extra_env: dict[str, str] | None = None,
    *,
    keyed: bool = True,
) -> ServedProcess:
    port = free_port()
    env = gateway_env(url, work_dir, port, credentials, keyed=keyed)
    env.update(extra_env or {})
    return ServedProcess(
        python_argv("-m", "gateway.cli", "serve"),
        port=port,
        env=env,
        log_path=work_dir / f"gateway-{port}.log",
    )


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)
