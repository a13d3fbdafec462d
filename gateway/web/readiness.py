"""Is the database writable? `/readyz` asks this, not merely whether it answers `SELECT 1`.

A read-only WAL or database file, a full disk or a PostgreSQL standby all still answer reads
(issue 14). The probe commits a real write that changes nothing: the one row of
`alembic_version`, rewritten to itself — every migrated database has it, so no table of its
own is needed. A transaction that is rolled back would not do: SQLite writes nothing to the
WAL until commit, so a read-only WAL lets `BEGIN IMMEDIATE` and a rolled-back insert pass.

SQLite maps `<db>-shm` into memory; writing through that mapping once the file has become
unwritable raises SIGBUS, which kills the process and cannot be caught. So before writing,
the probe checks that the database, WAL and shared-memory files are writable (`os.access`
also sees `chattr +i`, even for root) and answers "not ready" without touching them."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.logs import failure

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0
PROBE = text("UPDATE alembic_version SET version_num = version_num")


def sqlite_files(engine: AsyncEngine) -> list[Path]:
    """The files a SQLite database lives in (none for PostgreSQL or `:memory:`)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return []
    return [Path(database + suffix) for suffix in ("", "-wal", "-shm")]


class DatabaseProbe:
    """One probe at a time; a caller waits `timeout_s` at most, so `/readyz` never hangs
    (a probe stuck behind a lock keeps running in the background and later calls join it)."""

    def __init__(self, engine: AsyncEngine, timeout_s: float = PROBE_TIMEOUT_S) -> None:
        self._engine = engine
        self._timeout_s = timeout_s
        self._files = sqlite_files(engine)
        self._running: asyncio.Task[bool] | None = None

    async def writable(self) -> bool:
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._probe())
        done, _ = await asyncio.wait({self._running}, timeout=self._timeout_s)
        return bool(done) and self._running.result()

    def _files_writable(self) -> bool:
        return all(os.access(path, os.W_OK) for path in self._files if path.exists())

    async def _probe(self) -> bool:
        if not self._files_writable():
            log.warning(
                "database not ready: a database file is not writable",
                extra={"paths": ",".join(str(p) for p in self._files)},
            )
            return False
        try:
            async with self._engine.connect() as conn:
                try:
                    result = await conn.execute(PROBE)
                    await conn.commit()
                except Exception:
                    # A connection opened while the file was read-only stays read-only:
                    # drop it so the next one (and the gateway's writes) reopen the file.
                    await conn.invalidate()
                    raise
            return result.rowcount >= 1
        except Exception as error:
            log.warning("database not ready: write failed", extra=failure(error))
            return False
