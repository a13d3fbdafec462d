"""Opaque Relay cursors for the sessions connection (created_at + id keyset)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from adapters.base import ErrorCode
from gateway.errors import ServiceError


def encode(created_at: datetime, session_id: str) -> str:
    raw = f"{created_at.isoformat()}|{session_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names, in UTC. Cursors come from callers: one holding a time
    without a zone, or one that leaves the datetime range once in UTC, was never made here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, session_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        at = datetime.fromisoformat(created)
        if at.utcoffset() is None:
            raise ValueError("no time zone")
        return at.astimezone(UTC), session_id
    except (ValueError, OverflowError):  # UnicodeDecodeError, binascii.Error: ValueErrors
        raise ServiceError.single(
            ErrorCode.BAD_USER_INPUT, "after is not a cursor from this API", ("after",)
        ) from None
