"""Beltic's status declarations (docs/vendors/beltic.md, Status vocabulary and our mapping;
the statuses' meaning is docs/model.md, Status): the status table and what each status
allows, read by `ProviderAdapter`.

The nine strings are Beltic's own, lower-case snake_case, from its sessions guide. An
unknown value maps to None: the gateway then keeps the previous status and shows the raw one;
we never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import Capability, SessionStatus, allowed_from
from adapters.beltic import inferred

BELTIC_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        "created": SessionStatus.CREATED,
        "started": SessionStatus.IN_PROGRESS,
        "pending": SessionStatus.PROCESSING,  # submitted, Beltic is checking
        "completed": SessionStatus.AWAITING_DECISION,  # waits for approve/decline
        "marked_for_review": SessionStatus.IN_REVIEW,
        "approved": SessionStatus.APPROVED,
        "declined": SessionStatus.DECLINED,
        "expired": SessionStatus.EXPIRED,
        "failed": SessionStatus.FAILED,
    }
)

BELTIC_STATUSES: frozenset[str] = frozenset(BELTIC_STATUS_MAP)

#: Statuses after which nobody is expected to act (the reconciler stops polling them).
FINAL_BELTIC_STATUSES: frozenset[str] = frozenset(
    raw for raw, status in BELTIC_STATUS_MAP.items() if status.is_final
)

#: Offered on a session whatever its status.
ALWAYS_ALLOWED: frozenset[Capability] = frozenset(
    {
        Capability.READ,
        Capability.REFRESH,
        Capability.REDACT,
        Capability.POLLING,
        Capability.WEBHOOKS,
    }
)

#: Decide (approve / decline) and cancel (= expire) only where the documented flow allows
#: them (both inferred).
ACTIONS_BY_STATUS: Mapping[str, frozenset[Capability]] = allowed_from(
    {
        Capability.DECIDE: inferred.DECIDE_ALLOWED_FROM,
        Capability.CANCEL: inferred.EXPIRE_ALLOWED_FROM,
    }
)
