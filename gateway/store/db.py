"""Engine and session factory. The URL alone decides SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def make_engine(
    url: str, *, immediate: bool = False, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """`immediate` (SQLite only): every transaction takes the write lock at BEGIN. Use it for
    the engine that writes, so two writers never interleave read-then-write; readers keep a
    separate engine with ordinary (deferred) transactions, which WAL lets run alongside."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One writer connection: SQLite has one write lock, and a second connection would
        # only wait for it in SQLite's busy handler, which sleeps in steps of up to 100 ms.
        # Waiting in the pool's queue instead hands the connection over at once.
        pool = {"pool_size": 1, "max_overflow": 0} if immediate else {}
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # We emit BEGIN ourselves (below), not the driver.
            dbapi_conn.isolation_level = None
            # WAL lets readers (subscriptions, queries) run while a webhook writes.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL still survives a process crash (SIGKILL): a commit is in the
            # WAL before we answer; only an OS crash/power loss can take the last ones.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn) -> None:  # type: ignore[no-untyped-def]
            # SQLite has no row locks: taking the write lock at BEGIN serializes writers, so
            # two events for one session can never both read the same last sequence.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
