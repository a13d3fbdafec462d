"""`/readyz` answers whether the database takes a write (issue 14, item 10).

`SELECT 1` said ready while the WAL could not be written. Here the server's SQLite files are
made unwritable under it. Tests run as root here, and root ignores file modes, so as root a
file is frozen with `chattr +i` (immutable: refused even to root and even through file
descriptors already open); otherwise with `chmod 0444`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.web.readiness import DatabaseProbe
from tests.e2e.server import GatewayProcess
from tests.support.services import fresh_postgres_database


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(stat.S_IRUSR | stat.S_IRGRP)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root ignores file modes and chattr is not installed")
    frozen = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if frozen.returncode != 0:
        pytest.skip(f"chattr +i not permitted here: {frozen.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextmanager
def serving(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[GatewayProcess]:
    with GatewayProcess(data_dir, extra_env=extra_env) as process:
        yield process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """Shared: each test gives the files back writable."""
    with serving(tmp_path_factory.mktemp("readiness") / "data") as process:
        yield process


def _ready(server: GatewayProcess) -> httpx.Response:
    return httpx.get(f"{server.base}/readyz", timeout=10)


def _alive(server: GatewayProcess) -> None:
    assert server.process is not None and server.process.poll() is None, server.log_text()
    assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("suffix", ["", "-wal"], ids=["db", "wal"])
def test_an_unwritable_database_file_is_not_ready(server: GatewayProcess, suffix: str) -> None:
    path = server.data_dir / f"gateway.db{suffix}"
    assert path.exists()
    assert _ready(server).status_code == 200
    with unwritable(path):
        refused = _ready(server)
        assert refused.status_code == 503, refused.text
        assert refused.json()["checks"]["database"] is False
        _alive(server)
    ready = _ready(server)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": True}
    _alive(server)


def test_an_unwritable_shm_is_not_ready_and_the_probe_does_not_kill_the_process(
    tmp_path: Path,
) -> None:
    """SQLite maps `-shm` into memory: once the file is frozen, touching the mapping (a
    write, or a read after the WAL moved on) is a SIGBUS. The probe must find out without
    touching it. The reconciler is off so that nothing else reads in the background: its
    reads would hit the same SIGBUS (out of the probe's reach)."""
    with serving(tmp_path / "data", {"KYCGW_RECONCILE_ENABLED": "false"}) as server:
        path = server.data_dir / "gateway.db-shm"
        assert path.exists()
        assert _ready(server).status_code == 200  # the probe wrote: the WAL moved on
        with unwritable(path):
            for _ in range(3):
                refused = _ready(server)
                assert refused.status_code == 503, refused.text
                assert refused.json()["checks"]["database"] is False
            _alive(server)
        assert _ready(server).status_code == 200
        _alive(server)


def test_a_held_write_lock_is_not_ready_within_the_probe_timeout(server: GatewayProcess) -> None:
    """A writer that never lets go: the probe gives up after its timeout (2 s) instead of
    hanging in SQLite's 30 s busy wait; once the lock is released the gateway is ready."""
    holder = sqlite3.connect(server.data_dir / "gateway.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        refused = _ready(server)
        elapsed = time.monotonic() - started
        print(f"/readyz with the write lock held: {refused.status_code} in {elapsed:.2f} s")
        assert refused.status_code == 503
        assert elapsed < 5
        holder.execute("ROLLBACK")
        assert _ready(server).status_code == 200
    finally:
        holder.close()


async def test_the_probe_writes_a_database_whose_files_look_writable(tmp_path: Path) -> None:
    """A database opened read-only (`mode=ro`): every file is writable, only a write fails."""
    db = tmp_path / "ro.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    writable = make_engine(f"sqlite+aiosqlite:///{db}", immediate=True)
    read_only = make_engine(f"sqlite+aiosqlite:///file:{db}?mode=ro&uri=true", immediate=True)
    try:
        assert await DatabaseProbe(writable).writable() is True
        assert await DatabaseProbe(read_only).writable() is False
    finally:
        await writable.dispose()
        await read_only.dispose()


async def test_a_postgresql_that_only_reads_is_not_ready() -> None:
    """As on a standby: `SELECT 1` works, every write is refused."""
    async with fresh_postgres_database() as url:
        upgrade(url)
        name = url.rsplit("/", 1)[1]
        admin = make_engine(url)
        try:
            assert await DatabaseProbe(admin).writable() is True
            async with admin.connect() as conn:
                await conn.execute(
                    text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
                )
                await conn.commit()
            read_only = make_engine(url)  # new sessions only read
            try:
                probe = DatabaseProbe(read_only)
                assert await probe.writable() is False
                async with admin.connect() as conn:
                    await conn.execute(
                        text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
                    )
                    await conn.commit()
                assert await probe.writable() is True  # the refused connection was dropped
            finally:
                await read_only.dispose()
        finally:
            await admin.dispose()
