"""Stored sessions and status changes written straight into a test database, as if the
gateway had made them earlier (seeded histories for figures, reports, faults, replicas)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.store.models import SessionRow, StatusChangeRow


def session_row(
    sid: str,
    provider: str,
    status: str,
    provider_status: str,
    created: datetime,
    *,
    provider_session_id: str | None = None,
    last_sequence: int = 1,
    environment: str = "SANDBOX",
    **extra: Any,
) -> SessionRow:
    """A session row; `extra` sets further columns (metadata_, route_attempts, ...)."""
    return SessionRow(
        id=sid,
        provider=provider,
        provider_session_id=provider_session_id or f"v-{sid}",
        status=status,
        provider_status=provider_status,
        environment=environment,
        created_at=created,
        updated_at=created,
        last_sequence=last_sequence,
        **extra,
    )


def change_row(
    sid: str,
    sequence: int,
    to_status: str,
    provider_status: str,
    at: datetime,
    *,
    source: str = "WEBHOOK",
    from_status: str | None = None,
    received_at: datetime | None = None,
) -> StatusChangeRow:
    return StatusChangeRow(
        session_id=sid,
        sequence=sequence,
        from_status=from_status,
        to_status=to_status,
        provider_status=provider_status,
        source=source,
        occurred_at=at,
        received_at=received_at or at,
    )


def path_rows(
    sid: str,
    created: datetime,
    path: Sequence[tuple[str, float]],
    *,
    received_after: timedelta = timedelta(0),
) -> Iterator[StatusChangeRow]:
    """The changes of one session that went through `path` ((status, seconds after its
    creation), first to last), each linked to the one before; vendor status = lower case."""
    previous = None
    for sequence, (to_status, after) in enumerate(path, start=1):
        at = created + timedelta(seconds=after)
        yield change_row(
            sid,
            sequence,
            to_status,
            to_status.lower(),
            at,
            from_status=previous,
            received_at=at + received_after,
        )
        previous = to_status


def created_didit(sid: str, psid: str, now: datetime) -> tuple[SessionRow, StatusChangeRow]:
    """A live Didit session just created (`Not Started`), with its first change."""
    row = session_row(
        sid, "didit", "CREATED", "Not Started", now, provider_session_id=psid, environment="LIVE"
    )
    return row, change_row(sid, 1, "CREATED", "Not Started", now, source="API")
