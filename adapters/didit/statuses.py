"""Didit status vocabulary → normalized status (docs/vendors/didit.md, Status vocabulary and
our mapping).

The strings are Didit's own, case-sensitive (`Kyc Expired` has a single capital K). An
unknown value maps to None: the gateway then keeps the previous status and shows the raw one;
we never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import SessionStatus

DIDIT_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        "Not Started": SessionStatus.CREATED,
        "In Progress": SessionStatus.IN_PROGRESS,
        "Approved": SessionStatus.APPROVED,
        "Declined": SessionStatus.DECLINED,
        "In Review": SessionStatus.IN_REVIEW,
        "Awaiting User": SessionStatus.AWAITING_USER,  # KYB parent waiting for key people
        "Resubmitted": SessionStatus.AWAITING_USER,  # the person must redo some steps
        "Expired": SessionStatus.EXPIRED,
        "Abandoned": SessionStatus.ABANDONED,
        "Kyc Expired": SessionStatus.EXPIRED,  # an approval whose document aged out
    }
)

DIDIT_STATUSES: frozenset[str] = frozenset(DIDIT_STATUS_MAP)


def map_didit_status(value: object) -> SessionStatus | None:
    """Table lookup; None for anything not in the table (wrong case, empty, non-string)."""
    if not isinstance(value, str):
        return None
    return DIDIT_STATUS_MAP.get(value)
