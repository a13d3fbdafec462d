"""Where a value is stored in a gateway's SQLite data: in some table's rows, or anywhere in
the database file and its WAL (free pages included). What redaction tests look for."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

DB_FILES = ("gateway.db", "gateway.db-wal", "gateway.db-shm")


def stored_anywhere(data_dir: Path, values: Iterable[str]) -> dict[str, list[str]]:
    """Which values occur in the bytes of the database or its WAL (free pages included)."""
    found: dict[str, list[str]] = {}
    for name in DB_FILES[:2]:
        path = data_dir / name
        if path.exists():
            blob = path.read_bytes()
            hits = [v for v in values if v.encode() in blob]
            if hits:
                found[name] = hits
    return found


def stored_in_tables(data_dir: Path, values: Iterable[str]) -> dict[str, list[str]]:
    """Which values some row of some table holds (read after the server stopped)."""
    found: dict[str, list[str]] = {}
    with sqlite3.connect(f"file:{data_dir / 'gateway.db'}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            text = json.dumps(db.execute(f'select * from "{table}"').fetchall(), default=str)
            hits = [v for v in values if v in text]
            if hits:
                found[table] = hits
    return found
