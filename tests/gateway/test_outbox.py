"""The outbox is written in the status change's own transaction (gateway/outbound/outbox.py),
on SQLite and PostgreSQL: each change, recorded alone or in a batch, has its messages (one
`session.status_changed`, plus `session.final` for a final status) with the decision as it
stood; a transaction that rolls back leaves neither the change nor a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from adapters.base import DecidedBy, Decision, Environment, Outcome, SessionSnapshot, SessionStatus
from gateway.bus.events import StatusSource
from gateway.sessions.applier import PendingChange, insert_pending
from gateway.store.models import SessionRow, StatusChangeRow, WebhookMessageRow
from tests.conftest import Harness
from tests.support.rows import session_row

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def snapshot(
    psid: str, status: SessionStatus, raw: str, at: datetime, **extra: object
) -> SessionSnapshot:
    return SessionSnapshot(
        provider_session_id=psid,
        provider_status=raw,
        status=status,
        environment=Environment.SANDBOX,
        occurred_at=at,
        **extra,  # type: ignore[arg-type]
    )


async def _seed(harness: Harness, sid: str) -> None:
    async with harness.gateway.service.db_factory() as db, db.begin():
        db.add(session_row(sid, "didit", "CREATED", "Not Started", NOW, provider_session_id=sid))


async def _stored(
    harness: Harness, sid: str
) -> tuple[list[StatusChangeRow], list[WebhookMessageRow]]:
    async with harness.gateway.service.db_factory() as db:
        changes = (
            await db.exec(select(StatusChangeRow).where(StatusChangeRow.session_id == sid))
        ).all()
        messages = (
            await db.exec(select(WebhookMessageRow).where(WebhookMessageRow.session_id == sid))
        ).all()
    return sorted(changes, key=lambda c: c.id or 0), sorted(messages, key=lambda m: m.id or 0)


APPROVED = Decision(outcome=Outcome.APPROVED, decided_by=DecidedBy.PROVIDER)


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "batched"])
async def test_each_change_has_its_messages_with_the_decision_it_stood_with(
    harness: Harness, batched: bool
) -> None:
    sid = f"ses_outbox_{batched}"
    await _seed(harness, sid)
    applier = harness.gateway.service.core.applier
    steps = [
        snapshot(sid, SessionStatus.IN_PROGRESS, "In Progress", NOW + timedelta(seconds=1)),
        snapshot(
            sid, SessionStatus.APPROVED, "Approved", NOW + timedelta(seconds=2), decision=APPROVED
        ),
    ]
    async with harness.gateway.service.core.write() as db, db.begin():
        row = await db.get(SessionRow, sid)
        assert row is not None
        pending: list[PendingChange] | None = [] if batched else None
        for step in steps:
            await applier.apply(db, row, step, StatusSource.WEBHOOK, None, NOW, defer=pending)
        if pending is not None:
            assert len(pending) == 2
            await insert_pending(db, pending)

    changes, messages = await _stored(harness, sid)
    assert [c.to_status for c in changes] == ["IN_PROGRESS", "APPROVED"]
    assert [(m.change_id, m.event_type) for m in messages] == [
        (changes[0].id, "session.status_changed"),
        (changes[1].id, "session.status_changed"),
        (changes[1].id, "session.final"),
    ]
    first, approved, final = (m.payload["data"] for m in messages)
    assert first["decision"] is None and first["previousStatus"] == "CREATED"
    assert (
        approved["decision"]
        == final["decision"]
        == {
            "outcome": "APPROVED",
            "decidedBy": "PROVIDER",
            "reasonCodes": [],
        }
    )
    assert [d["cursor"] for d in (first, approved)] == [str(c.id) for c in changes]
    assert len({m.message_id for m in messages}) == 3


async def test_a_rolled_back_change_leaves_no_message(harness: Harness) -> None:
    sid = "ses_outbox_rollback"
    await _seed(harness, sid)
    applier = harness.gateway.service.core.applier
    with pytest.raises(RuntimeError, match="after the change"):
        async with harness.gateway.service.core.write() as db, db.begin():
            row = await db.get(SessionRow, sid)
            assert row is not None
            step = snapshot(sid, SessionStatus.IN_PROGRESS, "In Progress", NOW)
            applied = await applier.apply(db, row, step, StatusSource.WEBHOOK, None, NOW)
            assert applied.changes, "the change was recorded in this transaction"
            raise RuntimeError("a failure after the change, before the commit")
    assert await _stored(harness, sid) == ([], [])
