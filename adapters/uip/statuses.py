"""UIP status table, exactly as design §3.2 says (providers/uip.md §1.3).

`failed` is DECLINED or FAILED depending on its `reason` (a verification error message vs
`insufficient_funds` / `internal_error`). The adapter reports a failure with a known reason
as one raw status, `failed:<reason>`, so that the raw value the gateway stores says
everything the normalized one was derived from, and `map_status` of a snapshot's
`provider_status` always equals its `status`. A bare `failed` (a read, which carries no
reason) is `inferred.FAILED_WITHOUT_REASON`.

An unknown value maps to None: the gateway then keeps the previous status and shows the raw
one; we never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import Capability, Outcome, SessionStatus
from adapters.uip import inferred

CREATED = "created"
IN_PROGRESS = "in_progress"
AWAITING_DECISION = "awaiting_decision"
COMPLETED = "completed"
STOPPED = "stopped"
FAILED = "failed"
EXPIRED = "expired"

#: Joins `failed` and its reason into one raw status (our format).
REASON_SEPARATOR = ":"
#: A reason longer than this is cut, so the joined value stays a short string.
MAX_REASON_LENGTH = 64

#: §1.3 [V]: the seven statuses.
STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        CREATED: SessionStatus.CREATED,
        IN_PROGRESS: SessionStatus.IN_PROGRESS,
        AWAITING_DECISION: SessionStatus.AWAITING_DECISION,
        COMPLETED: SessionStatus.APPROVED,
        STOPPED: SessionStatus.CANCELLED,
        EXPIRED: SessionStatus.EXPIRED,
        FAILED: inferred.FAILED_WITHOUT_REASON,
    }
)

#: §1.4 `session.failed` reasons that are not about the person [V]: FAILED; every other
#: reason is "a verification error message": DECLINED.
TECHNICAL_FAILURE_REASONS: frozenset[str] = frozenset({"insufficient_funds", "internal_error"})

UIP_STATUSES: frozenset[str] = frozenset(STATUS_MAP)
#: Every raw value the adapter can report for a documented status and documented reason
#: (a verification reason is free text: `failed:<message>`, DECLINED, is not enumerable).
VOCABULARY: frozenset[str] = UIP_STATUSES | {
    f"{FAILED}{REASON_SEPARATOR}{reason}" for reason in TECHNICAL_FAILURE_REASONS
}

#: §1.3 "Terminal: no" for these three.
ACTIVE_STATUSES: frozenset[str] = frozenset({CREATED, IN_PROGRESS, AWAITING_DECISION})

#: The decision outcome a normalized status carries (the other statuses carry none).
OUTCOMES: Mapping[SessionStatus, Outcome] = MappingProxyType(
    {SessionStatus.APPROVED: Outcome.APPROVED, SessionStatus.DECLINED: Outcome.DECLINED}
)

# -- per-status actions (§1.2 continue / stop) ------------------------------------------------
#: Always offered on a session, whatever its status.
ALWAYS_ALLOWED: frozenset[Capability] = frozenset(
    {Capability.READ, Capability.REFRESH, Capability.WEBHOOKS, Capability.POLLING}
)
#: continue / stop: "Valid only in `awaiting_decision`" [V].
GATE_ACTIONS: frozenset[Capability] = frozenset({Capability.CONTINUE, Capability.CANCEL})


def join_failed(reason: str | None) -> str:
    """`failed:<reason>` for a known, non-blank reason (trimmed, cut), else `failed`."""
    text = (reason or "").strip()[:MAX_REASON_LENGTH].strip()
    return f"{FAILED}{REASON_SEPARATOR}{text}" if text else FAILED


def split_status(value: str) -> tuple[str, str | None]:
    """Inverse of `join_failed`: (status, reason or None)."""
    status, sep, reason = value.partition(REASON_SEPARATOR)
    return (status, reason) if sep else (value, None)


def is_technical(reason: str) -> bool:
    return reason.strip().lower() in TECHNICAL_FAILURE_REASONS


def map_uip_status(value: object) -> SessionStatus | None:
    """Table lookup for a raw status (joined or not); None for anything not in the table
    (wrong case, padding, empty, non-string, a reason on anything but `failed`)."""
    if not isinstance(value, str):
        return None
    status, reason = split_status(value)
    if reason is None:
        return STATUS_MAP.get(status)
    if status != FAILED or not reason.strip() or reason != reason.strip():
        return None
    return SessionStatus.FAILED if is_technical(reason) else SessionStatus.DECLINED


def allowed_actions(provider_status: str | None) -> frozenset[Capability]:
    """What may be done to a session in this raw status: continue / stop only at a gate."""
    if provider_status == AWAITING_DECISION:
        return ALWAYS_ALLOWED | GATE_ACTIONS
    return ALWAYS_ALLOWED
