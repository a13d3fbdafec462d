"""The outbox: the messages a status change owes the integrator, written in the same
transaction as the change itself, so no change commits without them and none is sent for a
change that rolled back. The delivery worker (`worker.py`) fans them out to endpoints."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.bus.events import StatusChanged
from gateway.store.models import WebhookMessageRow
from gateway.webhook_config import EVENT_FINAL, EVENT_STATUS_CHANGED

#: What of a stored decision the payload carries (nothing personal, no free text).
DECISION_FIELDS = {"outcome": "outcome", "decided_by": "decidedBy", "reason_codes": "reasonCodes"}


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def event_data(
    change: StatusChanged, provider_session_id: str, decision: dict[str, Any] | None
) -> dict[str, Any]:
    """The payload's `data`: the change and the decision standing with it. No personal data
    and no capability URLs (the verification link, QR code and client tokens stay out)."""
    return {
        "sessionId": change.session_id,
        "provider": change.provider,
        "providerSessionId": provider_session_id,
        "clientReference": change.client_reference,
        "previousStatus": change.previous_status.value if change.previous_status else None,
        "status": change.status.value,
        "providerStatus": change.provider_status,
        "source": change.source.value,
        "occurredAt": change.occurred_at.isoformat(),
        "sequence": change.sequence,
        "cursor": str(change.cursor),
        "decision": {wire: decision.get(key) for key, wire in DECISION_FIELDS.items()}
        if decision
        else None,
    }


def event_types(change: StatusChanged) -> list[str]:
    """Every change is a `session.status_changed`; a change to a final status is also a
    `session.final`, sent after it (again if a reviewer later turns one final status into
    another: the backend must hear the last word)."""
    types = [EVENT_STATUS_CHANGED]
    if change.status.is_final:
        types.append(EVENT_FINAL)
    return types


def message_values(
    change: StatusChanged,
    provider_session_id: str,
    decision: dict[str, Any] | None,
    now: datetime,
) -> list[dict[str, Any]]:
    data = event_data(change, provider_session_id, decision)
    return [
        {
            "message_id": new_message_id(),
            "change_id": change.cursor,
            "session_id": change.session_id,
            "provider": change.provider,
            "event_type": event_type,
            "payload": {"type": event_type, "timestamp": now.isoformat(), "data": data},
            "created_at": now,
            "fanned_out": False,
        }
        for event_type in event_types(change)
    ]


async def enqueue(db: AsyncSession, messages: list[dict[str, Any]]) -> None:
    """Insert the messages in the caller's transaction, in one statement."""
    if not messages:
        return
    conn = await db.connection()
    await conn.execute(insert(WebhookMessageRow.__table__), messages)  # type: ignore[attr-defined]
