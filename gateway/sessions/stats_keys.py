"""The group keys `providerStats` and its check figures share: PROVIDER, COUNTRY, DAY as SQL
expressions on the sessions table (SQLite and PostgreSQL)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import ColumnElement, func, literal

from gateway.store.models import SessionRow

UNKNOWN_COUNTRY = "unknown"


class GroupBy(enum.Enum):
    PROVIDER = "PROVIDER"
    COUNTRY = "COUNTRY"
    DAY = "DAY"


def day_of(dialect: str, column: Any) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.date(column)  # stored as naive UTC text
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def country_of() -> ColumnElement[Any]:
    """The COUNTRY group key: the session metadata's `country`, else "unknown"."""
    return func.coalesce(
        SessionRow.metadata_["country"].as_string(),  # type: ignore[index]
        literal(UNKNOWN_COUNTRY),
    )
