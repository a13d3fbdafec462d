"""Ordering rules, pure (docs/model.md, Ordering)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import SessionStatus as S
from gateway.sessions.ordering import Current, Incoming, Verdict, judge, next_order_time

T = datetime(2026, 1, 1, tzinfo=UTC)


def cur(status: S, raw: str = "r", t: datetime | None = T) -> Current:
    return Current(status, raw, t)


@pytest.mark.parametrize(
    ("current", "incoming", "verdict"),
    [
        (cur(S.APPROVED), Incoming(S.IN_PROGRESS, "x", T - timedelta(seconds=1)), Verdict.STALE),
        (cur(S.IN_PROGRESS), Incoming(S.APPROVED, "x", T + timedelta(seconds=1)), Verdict.APPLY),
        (cur(S.APPROVED), Incoming(S.IN_PROGRESS, "x", T), Verdict.STALE),  # same time, lower rank
        (cur(S.IN_PROGRESS), Incoming(S.APPROVED, "x", T), Verdict.APPLY),  # same time, higher
        (cur(S.APPROVED), Incoming(S.DECLINED, "x", T), Verdict.APPLY),  # same rank: arrival wins
        (cur(S.APPROVED), Incoming(S.DECLINED, "x", T + timedelta(1)), Verdict.APPLY),  # reviewer
        (cur(S.APPROVED, "r"), Incoming(S.APPROVED, "r", T), Verdict.UNCHANGED),
        (
            cur(S.APPROVED),
            Incoming(S.IN_PROGRESS, "x", None),
            Verdict.STALE,
        ),  # poll can't downgrade
        (cur(S.CREATED, t=None), Incoming(S.IN_PROGRESS, "x", None), Verdict.APPLY),
        (cur(S.IN_REVIEW, t=None), Incoming(S.CREATED, "x", None), Verdict.STALE),
        (
            cur(S.CREATED, t=None),
            Incoming(S.IN_PROGRESS, "x", T - timedelta(days=1)),
            Verdict.APPLY,
        ),
        # our own confirmed mutation always applies (e.g. a resubmission request)
        (cur(S.DECLINED), Incoming(S.AWAITING_USER, "x", None, authoritative=True), Verdict.APPLY),
    ],
)
def test_judge(current: Current, incoming: Incoming, verdict: Verdict) -> None:
    assert judge(current, incoming) is verdict


def test_order_time_only_moves_forward() -> None:
    assert next_order_time(T, T - timedelta(seconds=5)) == T
    assert next_order_time(T, None) == T
    assert next_order_time(None, T) == T
    assert next_order_time(T, T + timedelta(seconds=5)) == T + timedelta(seconds=5)


def test_every_status_has_a_rank_and_finals_rank_highest() -> None:
    finals = [s for s in S if s.is_final]
    others = [s for s in S if not s.is_final]
    assert len(finals) == 6 and len(S) == 12
    assert min(s.rank for s in finals) > max(s.rank for s in others)


def test_a_read_without_vendor_time_cannot_swap_final_outcomes() -> None:
    declined = Current(S.DECLINED, "failed:document_expired", T)
    assert judge(declined, Incoming(S.FAILED, "failed", None)) is Verdict.STALE
    assert judge(declined, Incoming(S.FAILED, "failed", T + timedelta(1))) is Verdict.APPLY
    assert judge(declined, Incoming(S.APPROVED, "x", None, authoritative=True)) is Verdict.APPLY
