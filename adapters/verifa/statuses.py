"""Verifa status tables (docs/vendors/verifa.md, Status vocabulary and our mapping): session
status + result, together, and the per-status action table.

Verifa keeps the decision on the *result*, not on the session: a `completed` session is
PROCESSING until its result says approved / declined / needs review. The adapter reports such a
session as one raw status, `completed:<result status>`, so that the raw value the gateway stores
says everything the normalized one was derived from, and `map_status` of a snapshot's
`provider_status` always equals its `status`.

One raw status comes from an event, not from the session resource: `resubmission_required`,
reported for `session.resubmission-required` (the session resource has no such status).

An unknown value maps to None: the gateway then keeps the previous status and shows the raw
one; we never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import Capability, Outcome, SessionStatus
from adapters.verifa import inferred

COMPLETED = "completed"
AWAITING_EXTERNAL = "awaiting_external"
UNDER_REVIEW = "under_review"
#: Our raw status for `session.resubmission-required`: the person must capture again.
RESUBMISSION_REQUIRED = "resubmission_required"
#: Joins a session status and a result status into one raw status (our format).
RESULT_SEPARATOR = ":"
#: A raw result status longer than this is cut, so the joined value stays a short string.
MAX_RESULT_STATUS_LENGTH = 64

#: The nine documented session statuses; `completed` alone is PROCESSING.
SESSION_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        "pending": SessionStatus.CREATED,
        "capturing": SessionStatus.IN_PROGRESS,
        "processing": SessionStatus.PROCESSING,
        AWAITING_EXTERNAL: SessionStatus.AWAITING_DECISION,  # paused at an external gate
        UNDER_REVIEW: SessionStatus.IN_REVIEW,
        "sandbox_pending": SessionStatus.AWAITING_DECISION,  # waits for us to pick an outcome
        COMPLETED: SessionStatus.PROCESSING,  # until the result is out
        "expired": SessionStatus.EXPIRED,
        "failed": SessionStatus.FAILED,
    }
)

#: Raw statuses only an event gives (the session resource never shows them).
EVENT_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {RESUBMISSION_REQUIRED: SessionStatus.AWAITING_USER}
)

#: Result statuses (the official demo's defensive list) → normalized.
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
EVENT_STATUSES: frozenset[str] = frozenset(EVENT_STATUS_MAP)
#: Every raw status the adapter reports without a result part: the adapter's `status_table`
#: (`VerifaAdapter.read_status` reads the `completed:<result status>` ones).
STATUS_TABLE: Mapping[str, SessionStatus] = MappingProxyType(
    {**SESSION_STATUS_MAP, **EVENT_STATUS_MAP}
)
VOCABULARY: frozenset[str] = frozenset(STATUS_TABLE)
RESULT_STATUSES: frozenset[str] = frozenset(RESULT_STATUS_MAP)

#: The documented "active" class: everything that is not terminal.
ACTIVE_STATUSES: frozenset[str] = frozenset(
    {"pending", "capturing", "processing", AWAITING_EXTERNAL, UNDER_REVIEW, "sandbox_pending"}
)

# -- per-status actions (docs/vendors/verifa.md, Endpoints we call) -----------------------------
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

#: What else each session status allows. Expire: "expires an active session … already
#: completed, expired, or redacted cannot be expired". Resume: "for expired or abandoned
#: sessions" (Verifa has no `abandoned` status). Reprocess: "a completed or failed session".
#: One-time link: "completed, failed, or redacted cannot have links generated". External
#: decision (continue / fail / reject): "The session must be in `awaiting_external` status".
#: Review case approve / reject: a session `under_review` has its case.
ACTIONS_BY_STATUS: Mapping[str, frozenset[Capability]] = MappingProxyType(
    {
        "pending": frozenset({Capability.CANCEL, Capability.ISSUE_LINK}),
        "capturing": frozenset({Capability.CANCEL, Capability.ISSUE_LINK}),
        "processing": frozenset({Capability.CANCEL, Capability.ISSUE_LINK}),
        AWAITING_EXTERNAL: frozenset(
            {Capability.CANCEL, Capability.ISSUE_LINK, Capability.CONTINUE, Capability.DECIDE}
        ),
        UNDER_REVIEW: frozenset({Capability.CANCEL, Capability.ISSUE_LINK, Capability.DECIDE}),
        "sandbox_pending": frozenset({Capability.CANCEL, Capability.ISSUE_LINK}),
        COMPLETED: frozenset({Capability.REPROCESS}),
        "expired": frozenset({Capability.RESUME, Capability.ISSUE_LINK}),
        "failed": frozenset({Capability.REPROCESS}),
        # The session goes back to capture: it is active, and linkable again.
        RESUBMISSION_REQUIRED: frozenset({Capability.CANCEL, Capability.ISSUE_LINK}),
        # A completed session whose result is out is its own row (it is not polled), with
        # what a completed session allows.
        **{
            f"{COMPLETED}{RESULT_SEPARATOR}{result}": frozenset({Capability.REPROCESS})
            for result in sorted(RESULT_STATUS_MAP)
        },
    }
)

#: Rows the reconciler polls: the states whose next change has no event
#: (inferred.POLLED_SESSION_STATUSES), and a completed session until its result is out.
POLLED: frozenset[str] = inferred.POLLED_SESSION_STATUSES | {COMPLETED}


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


def result_is_out(value: str) -> bool:
    """True when the raw status is a completed session whose result gives a known status."""
    session, result = split_status(value)
    return session == COMPLETED and result in RESULT_STATUS_MAP
