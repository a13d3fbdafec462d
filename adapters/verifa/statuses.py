"""Verifa status tables, exactly as design §3.2 says: session status + result, together.

Verifa keeps the decision on the *result*, not on the session (providers/verifa.md §3.3): a
`completed` session is PROCESSING until its result says approved / declined / needs review.
The adapter reports such a session as one raw status, `completed:<result status>`, so that
the raw value the gateway stores says everything the normalized one was derived from, and
`map_status` of a snapshot's `provider_status` always equals its `status`.

An unknown value maps to None: the gateway then keeps the previous status and shows the raw
one; we never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import Capability, Outcome, SessionStatus

COMPLETED = "completed"
#: Joins a session status and a result status into one raw status (our format).
RESULT_SEPARATOR = ":"
#: A raw result status longer than this is cut, so the joined value stays a short string.
MAX_RESULT_STATUS_LENGTH = 64

#: §3.3 session statuses [V]; `completed` alone is PROCESSING (design §3.2).
SESSION_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        "pending": SessionStatus.CREATED,
        "capturing": SessionStatus.IN_PROGRESS,
        "processing": SessionStatus.PROCESSING,
        "awaiting_external": SessionStatus.AWAITING_DECISION,  # paused at an external gate
        "under_review": SessionStatus.IN_REVIEW,
        "sandbox_pending": SessionStatus.AWAITING_DECISION,  # waits for us to pick an outcome
        COMPLETED: SessionStatus.PROCESSING,  # until the result is out
        "expired": SessionStatus.EXPIRED,
        "failed": SessionStatus.FAILED,
    }
)

#: §3.3 result statuses (the official demo's defensive list) → normalized, design §3.2.
RESULT_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        "approved": SessionStatus.APPROVED,
        "passed": SessionStatus.APPROVED,
        "rejected": SessionStatus.DECLINED,
        "declined": SessionStatus.DECLINED,
        "failed": SessionStatus.DECLINED,
        "needs_review": SessionStatus.IN_REVIEW,
    }
)

#: The decision outcome a normalized status carries (the other statuses carry none).
OUTCOMES: Mapping[SessionStatus, Outcome] = MappingProxyType(
    {
        SessionStatus.APPROVED: Outcome.APPROVED,
        SessionStatus.DECLINED: Outcome.DECLINED,
        SessionStatus.IN_REVIEW: Outcome.REVIEW,
    }
)

VERIFA_STATUSES: frozenset[str] = frozenset(SESSION_STATUS_MAP)
RESULT_STATUSES: frozenset[str] = frozenset(RESULT_STATUS_MAP)

#: §3.3 "active" class: everything that is not terminal.
ACTIVE_STATUSES: frozenset[str] = frozenset(
    {"pending", "capturing", "processing", "awaiting_external", "under_review", "sandbox_pending"}
)

# -- per-status actions (§3.2) ------------------------------------------------------------------
#: Always offered on a session, whatever its status.
ALWAYS_ALLOWED: frozenset[Capability] = frozenset(
    {
        Capability.READ,
        Capability.REFRESH,
        Capability.UPDATE_METADATA,  # refused only for redacted sessions (not a status)
        Capability.REDACT,
        Capability.WEBHOOKS,
        Capability.POLLING,
    }
)
#: Expire: "expires an active session … already completed/expired/redacted → error".
CANCEL_ALLOWED_FROM: frozenset[str] = ACTIVE_STATUSES
#: Resume: "for expired or abandoned sessions … completed or redacted cannot be resumed";
#: Verifa has no `abandoned` session status.
RESUME_ALLOWED_FROM: frozenset[str] = frozenset({"expired"})
#: Reprocess: "a completed or failed session" (the guide says completed only).
REPROCESS_ALLOWED_FROM: frozenset[str] = frozenset({COMPLETED, "failed"})
#: One-time link: "not allowed for completed/failed/redacted sessions".
LINK_REFUSED_FROM: frozenset[str] = frozenset({COMPLETED, "failed"})


def join_status(session_status: str, result_status: str | None) -> str:
    """The raw status of a session: `completed:approved` once a completed session's result is
    known, the session status alone otherwise."""
    if session_status != COMPLETED or not result_status:
        return session_status
    return f"{COMPLETED}{RESULT_SEPARATOR}{result_status[:MAX_RESULT_STATUS_LENGTH]}"


def split_status(value: str) -> tuple[str, str | None]:
    """Inverse of `join_status`: (session status, result status or None)."""
    session, sep, result = value.partition(RESULT_SEPARATOR)
    return (session, result) if sep else (value, None)


def map_verifa_status(value: object) -> SessionStatus | None:
    """Table lookup for a raw status (joined or not); None for anything not in the tables
    (wrong case, padding, empty, non-string, a result on a non-completed session)."""
    if not isinstance(value, str):
        return None
    session, result = split_status(value)
    if result is None:
        return SESSION_STATUS_MAP.get(session)
    if session != COMPLETED:
        return None
    return RESULT_STATUS_MAP.get(result)


def result_is_out(value: str) -> bool:
    """True when the raw status is a completed session whose result gives a known status."""
    session, result = split_status(value)
    return session == COMPLETED and result in RESULT_STATUS_MAP


def allowed_actions(provider_status: str | None) -> frozenset[Capability]:
    """What may be done to a session in this raw status (§3.2 endpoint rules)."""
    allowed = set(ALWAYS_ALLOWED)
    if provider_status is None:
        return frozenset(allowed)
    session, result = split_status(provider_status)
    if session not in SESSION_STATUS_MAP or (result is not None and session != COMPLETED):
        return frozenset(allowed)
    if session in CANCEL_ALLOWED_FROM:
        allowed.add(Capability.CANCEL)
    if session in RESUME_ALLOWED_FROM:
        allowed.add(Capability.RESUME)
    if session in REPROCESS_ALLOWED_FROM:
        allowed.add(Capability.REPROCESS)
    if session not in LINK_REFUSED_FROM:
        allowed.add(Capability.ISSUE_LINK)
    return frozenset(allowed)
