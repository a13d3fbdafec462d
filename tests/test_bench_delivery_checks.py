"""The delivery benchmark's answer checks (`bench/receiver.py`, `bench/delivery_log.py`) and
its receiver (`bench/receiver_app.py`): a run that lost, repeated, invented or mis-signed a
delivery, or retried one, must fail rather than yield a figure."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bench.delivery_log import check_log, outbox_rows
from bench.receiver import DeliveryMismatch, check_arrivals
from bench.receiver_app import Receiver
from gateway.outbound import signing
from gateway.outbound.worker import body_of


def _stats(counts: dict[str, int], rejected: int = 0) -> dict[str, object]:
    return {"counts": counts, "rejected": rejected}


def test_arrivals_pass_only_when_each_id_came_once() -> None:
    check_arrivals(_stats({"a": 1, "b": 1}), {"a", "b"})
    for counts, rejected in (
        ({"a": 1}, 0),  # one missing
        ({"a": 1, "b": 2}, 0),  # one repeated
        ({"a": 1, "b": 1, "c": 1}, 0),  # one nobody owed
        ({"a": 1, "b": 1}, 1),  # a bad signature on the way
    ):
        with pytest.raises(DeliveryMismatch):
            check_arrivals(_stats(counts, rejected), {"a", "b"})


def _row(session_id: str, **changes: object) -> SimpleNamespace:
    row = {
        "message_id": f"msg_{session_id}",
        "session_id": session_id,
        "event_type": "session.status_changed",
        "status": "SUCCEEDED",
        "attempt_count": 1,
    }
    return SimpleNamespace(**{**row, **changes})


def test_log_passes_only_one_first_attempt_success_per_change() -> None:
    assert check_log([_row("s1"), _row("s2")], {"s1", "s2"}) == {"msg_s1", "msg_s2"}
    for rows in (
        [_row("s1")],  # a change never delivered
        [_row("s1"), _row("s2"), _row("s2", message_id="msg_again")],  # two for one change
        [_row("s1"), _row("s2", status="FAILED")],
        [_row("s1"), _row("s2", attempt_count=2)],  # a retry is no fast path
        [_row("s1"), _row("s2", event_type="session.final")],
    ):
        with pytest.raises(DeliveryMismatch):
            check_log(rows, {"s1", "s2"})


def test_receiver_verifies_the_gateway_signature_and_counts_by_id() -> None:
    secret = signing.new_secret()
    receiver = Receiver(secret)
    row = outbox_rows(1)[0]
    body = body_of(row["payload"])
    headers = signing.headers([secret], row["message_id"], datetime.now(UTC), body)
    assert receiver.accept(body, headers) == 204
    assert receiver.accept(body, headers) == 204
    forged = {
        **headers,
        "webhook-signature": signing.signature(
            [signing.new_secret()], row["message_id"], datetime.now(UTC), body
        ),
    }
    assert receiver.accept(body, forged) == 400
    assert receiver.accept(body + b" ", headers) == 400
    stats = receiver.stats()
    assert stats["counts"] == {row["message_id"]: 2}
    assert stats["rejected"] == 2 and stats["accepted"] == 2
    with pytest.raises(DeliveryMismatch):
        check_arrivals(stats, {row["message_id"]})  # twice is not once
