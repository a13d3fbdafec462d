"""The database `serve` uses, opened by a command-line tool (`report`, `webhooks`): the
configured URL (`KYCGW_DATABASE_URL`, else `KYCGW_DATA_DIR`/gateway.db) or the one given, a
missing SQLite file reported rather than created, and any failure as one line naming the
database, never its password."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession


class NoDatabase(Exception):
    """There is nothing to read; the message says where it looked."""


@dataclass(frozen=True)
class Store:
    """Sessions on the database: readers, and the one writer (on SQLite it takes the write
    lock at BEGIN, like the gateway's, so it waits for a running gateway's writes)."""

    read: async_sessionmaker[AsyncSession]
    write: async_sessionmaker[AsyncSession]


def configured_url(database_url: str | None = None) -> str:
    """`database_url`, else what `kyc-gateway serve` would open."""
    if database_url is not None:
        return database_url
    from gateway.settings import load_settings

    url = load_settings().database_url
    assert url is not None
    return url


def where(database_url: str) -> str:
    """The database for a message: a SQLite file's absolute path, else the URL without its
    password."""
    from sqlalchemy.engine import make_url

    from gateway.store.db import sqlite_path

    path = sqlite_path(database_url)
    if path is not None:
        return str(path.resolve())
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say nothing that might be a secret
        return "the configured database URL"


def check_exists(database_url: str) -> None:
    from gateway.store.db import sqlite_path

    path = sqlite_path(database_url)
    if path is not None and not path.is_file():
        raise NoDatabase(
            f"no database at {where(database_url)} (set KYCGW_DATABASE_URL, KYCGW_DATA_DIR "
            "or --database-url; `kyc-gateway serve` creates it)"
        )


def unreadable(database_url: str, error: Exception) -> NoDatabase:
    """The driver's own words (no such table, connection refused) without the statement and
    parameters SQLAlchemy appends."""
    cause = getattr(error, "orig", None) or error
    reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
    return NoDatabase(f"cannot read {where(database_url)}: {reason.splitlines()[0]}")


@asynccontextmanager
async def opened(database_url: str) -> AsyncIterator[Store]:
    """The database as a `Store`; a database error inside becomes `NoDatabase`."""
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.store.db import make_engine, make_session_factory

    check_exists(database_url)
    reader = make_engine(database_url)
    writer = make_engine(database_url, immediate=True)
    try:
        yield Store(make_session_factory(reader), make_session_factory(writer))
    except (SQLAlchemyError, OSError) as error:
        raise unreadable(database_url, error) from None
    finally:
        await reader.dispose()
        await writer.dispose()
