"""Whether an incoming vendor state may replace the stored one (docs/model.md, Ordering).

Order by vendor time, then status rank, then arrival: an older event never overwrites a newer
one, and at equal vendor time a lower-ranked status never replaces a higher one. Pure, so the
rules are testable without a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from adapters.base import SessionStatus


class Verdict(enum.StrEnum):
    APPLY = "applied"
    STALE = "stale"  # older than what we have: keep ours
    UNCHANGED = "unchanged"  # same status and raw value: nothing to record


@dataclass(frozen=True)
class Current:
    status: SessionStatus
    provider_status: str
    order_time: datetime | None


@dataclass(frozen=True)
class Incoming:
    status: SessionStatus  # already resolved: an unknown vendor value keeps the current status
    provider_status: str
    vendor_time: datetime | None
    authoritative: bool = False  # the result of our own mutation, just confirmed by the vendor


def judge(current: Current, incoming: Incoming) -> Verdict:
    if incoming.authoritative:
        same = (incoming.status, incoming.provider_status) == (
            current.status,
            current.provider_status,
        )
        return Verdict.UNCHANGED if same else Verdict.APPLY
    if (
        incoming.vendor_time is None
        and current.status.is_final
        and incoming.status is not current.status
    ):
        # A read without a vendor time cannot prove it is newer than a final outcome (e.g. a
        # UIP GET says bare `failed` after a webhook said why): only a timed event, or our
        # own confirmed action, may turn one final status into another.
        return Verdict.STALE
    if current.order_time is not None:
        if incoming.vendor_time is not None:
            if incoming.vendor_time < current.order_time:
                return Verdict.STALE
            if (
                incoming.vendor_time == current.order_time
                and incoming.status.rank < current.status.rank
            ):
                return Verdict.STALE
        elif incoming.status.rank < current.status.rank:
            # A read without vendor time (a poll) cannot prove it is newer than an event
            # that had one, so it may only move the session forward.
            return Verdict.STALE
    elif incoming.vendor_time is None and incoming.status.rank < current.status.rank:
        return Verdict.STALE
    if (incoming.status, incoming.provider_status) == (current.status, current.provider_status):
        return Verdict.UNCHANGED
    return Verdict.APPLY


def next_order_time(current: datetime | None, incoming: datetime | None) -> datetime | None:
    if incoming is None:
        return current
    if current is None:
        return incoming
    return max(current, incoming)
