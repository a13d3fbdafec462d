"""Alembic, driven from code: `kyc-gateway db upgrade` and `serve` call `upgrade()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.store.db import prepare_sqlite_file

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be escaped for configparser interpolation.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Synchronous: run it before the event loop serves."""
    prepare_sqlite_file(database_url)  # 0600 before SQLite (here: Alembic) creates it
    command.upgrade(alembic_config(database_url), revision)
