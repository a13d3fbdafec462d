"""Engine and session factory. The URL alone decides SQLite or PostgreSQL.

SQLite files hold personal data, so they are the owner's only (0600, a data directory we make
is 0700), deleted content is overwritten (`secure_delete`), and after a redaction the WAL,
which still holds the pages as they were, is emptied (`truncate_wal`).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.logs import failure

log = logging.getLogger(__name__)

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
#: Files SQLite keeps beside the database; it creates them with the database file's mode.
SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")
BUSY_TIMEOUT_MS = 30_000
#: How long the post-redaction checkpoint waits for readers to leave the WAL. It holds the
#: one writer connection meanwhile, so it is short; a busy WAL is emptied at a later one.
CHECKPOINT_BUSY_TIMEOUT_MS = 2_000


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (a `file:` URI filename too); None for other
    databases and in-memory ones."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    path, _, query = url.split(":///", 1)[1].partition("?")
    path = path.removeprefix("file:")
    if not path or path == ":memory:" or "mode=memory" in query:
        return None
    return Path(path)


def _read_only(url: str) -> bool:
    return "mode=ro" in url.partition("?")[2]


def prepare_sqlite_file(url: str) -> None:
    """Create the data directory and an empty database file, 0600, before SQLite opens it:
    SQLite would create it 0644 (less the umask), and gives the -wal and -shm files the
    database file's mode. An existing database loses its group and other permissions. A
    read-only URL is left alone: that file is not ours to create or change."""
    path = sqlite_path(url)
    if path is None or _read_only(url):
        return
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
    restrict_sqlite_files(path)


def restrict_sqlite_files(path: Path) -> None:
    """No group or other permissions on the database and whichever of its side files exist
    (a database made before this rule, or by another tool); never adds a permission. A file
    we may not chmod is logged, not fatal."""
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILE_SUFFIXES)):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
            if mode & ~stat.S_IRWXU:
                os.chmod(candidate, mode & stat.S_IRWXU)
        except FileNotFoundError:
            continue
        except OSError as error:
            log.warning(
                "database file is readable by others and cannot be made private",
                extra={"path": str(candidate), **failure(error)},
            )


def make_engine(
    url: str, *, immediate: bool = False, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """`immediate` (SQLite only): every transaction takes the write lock at BEGIN. Use it for
    the engine that writes, so two writers never interleave read-then-write; readers keep a
    separate engine with ordinary (deferred) transactions, which WAL lets run alongside."""
    if url.startswith("sqlite"):
        prepare_sqlite_file(url)
        path = None if _read_only(url) else sqlite_path(url)
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
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # Deleted and overwritten content (a redaction's erased values) is zeroed, not
            # left in free space of the database file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()
            if path is not None:
                restrict_sqlite_files(path)  # the -wal/-shm this connection may have made

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


async def truncate_wal(factory: async_sessionmaker[AsyncSession]) -> None:
    """Copy every WAL frame into the database and empty the WAL (SQLite only). Called after a
    redaction commits: `secure_delete` zeroes the erased values in the database file, but the
    WAL still holds the pages as they were until it is checkpointed and truncated. Failures
    are logged, never raised: the redaction itself has committed."""
    session = factory()
    engine = session.bind
    await session.close()
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return
    try:
        async with engine.connect() as conn:
            busy, frames, moved = await conn.run_sync(_checkpoint)
    except Exception as error:  # reported, not raised: the redaction stands
        log.warning("WAL checkpoint after a redaction failed", extra=failure(error))
        return
    if busy:
        log.warning(
            "WAL not emptied after a redaction (readers still on it): the erased values "
            "leave it at the next checkpoint",
            extra={"frames": frames, "checkpointed": moved},
        )


def _checkpoint(conn: Connection) -> tuple[int, int, int]:
    """On the driver's connection itself: a checkpoint cannot run inside the transaction
    SQLAlchemy would begin (and our `begin` hook would make it take the write lock)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, frames, moved = cursor.fetchone()
    finally:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
    return int(busy), int(frames), int(moved)
