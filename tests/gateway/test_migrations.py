"""Alembic migrations produce exactly the schema the models describe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import gateway.store.models  # noqa: F401
from gateway.cli import main
from gateway.store.migrate import upgrade


def test_upgrade_matches_models(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_cli_db_upgrade_is_idempotent(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("KYCGW_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master")}
    assert {"sessions", "status_changes", "vendor_events", "idempotency_keys"} <= tables
