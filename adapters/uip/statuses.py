"""UIP's status table (docs/vendors/uip.md, Status vocabulary and our mapping).

UIP's seven statuses say where a session is; two things they do not say decide the outcome,
and the adapter reports each as one raw value `<status>:<qualifier>`, so that the raw value the
gateway stores says everything the normalized one was derived from, and `map_status` of a
snapshot's `provider_status` always equals its `status`. Per-status actions and polling read
the status part (the row):

- `failed:<reason>`: DECLINED or FAILED by the `session.failed` reason (FAILED only for the
  documented technical reasons `insufficient_funds` / `internal_error`). A bare `failed` (a
  read, which carries no reason) is `inferred.FAILED_WITHOUT_REASON`.
- `<status>:<unmet code>` (e.g. `completed:age_not_satisfied`): a step was verified but not
  met (verdicts.py), so the session is DECLINED whatever UIP's status goes on to be, except
  `failed` and `created`.
- `completed:results_pending`: UIP says completed but a step's verdict has not reached us
  (a Version A read carries none): PROCESSING until the webhook or a Version B read tells.

An unknown value maps to None: the gateway then keeps the previous status and shows the raw
one; we never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import Capability, Outcome, SessionStatus, allowed_from
from adapters.uip import inferred
from adapters.uip.verdicts import UNMET_CODES

CREATED = "created"
IN_PROGRESS = "in_progress"
AWAITING_DECISION = "awaiting_decision"
COMPLETED = "completed"
STOPPED = "stopped"
FAILED = "failed"
EXPIRED = "expired"

#: Joins a status and its qualifier into one raw status (our format).
REASON_SEPARATOR = ":"
#: A reason longer than this is cut, so the joined value stays a short string.
MAX_REASON_LENGTH = 64
#: `completed`, but a verdict has not reached us yet.
RESULTS_PENDING = "results_pending"

#: https://docs.uip.digital/core-concepts/sessions: the seven statuses.
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

#: https://docs.uip.digital/api-reference/webhooks, session.failed `reason`: "e.g. a
#: verification error message, insufficient_funds, or internal_error". These two are not
#: about the person: FAILED; every other reason is a verification failure: DECLINED.
TECHNICAL_FAILURE_REASONS: frozenset[str] = frozenset({"insufficient_funds", "internal_error"})

#: The statuses an unmet verdict can follow (after a step verified; not `failed`, which has
#: its own reason).
VERDICT_STATUSES: frozenset[str] = frozenset(
    {IN_PROGRESS, AWAITING_DECISION, COMPLETED, STOPPED, EXPIRED}
)

UIP_STATUSES: frozenset[str] = frozenset(STATUS_MAP)

#: Every raw value the adapter can report for a documented status, reason and verdict, with
#: its normalized status: the adapter's `status_table`. A verification reason is free text
#: (`failed:<message>`, DECLINED) and not enumerable: `UipAdapter.read_status` reads it.
STATUS_TABLE: Mapping[str, SessionStatus] = MappingProxyType(
    {
        **STATUS_MAP,
        **{
            f"{FAILED}{REASON_SEPARATOR}{reason}": SessionStatus.FAILED
            for reason in sorted(TECHNICAL_FAILURE_REASONS)
        },
        **{
            f"{s}{REASON_SEPARATOR}{code}": SessionStatus.DECLINED
            for s in sorted(VERDICT_STATUSES)
            for code in sorted(UNMET_CODES)
        },
        f"{COMPLETED}{REASON_SEPARATOR}{RESULTS_PENDING}": SessionStatus.PROCESSING,
    }
)
VOCABULARY: frozenset[str] = frozenset(STATUS_TABLE)

#: "Terminal: no" for these three (UIP's own view; `completed:results_pending` is terminal at
#: UIP but not yet decided for us).
ACTIVE_STATUSES: frozenset[str] = frozenset({CREATED, IN_PROGRESS, AWAITING_DECISION})

#: The decision outcome a normalized status carries (the other statuses carry none).
OUTCOMES: Mapping[SessionStatus, Outcome] = MappingProxyType(
    {SessionStatus.APPROVED: Outcome.APPROVED, SessionStatus.DECLINED: Outcome.DECLINED}
)

# -- per-status actions (docs.uip.digital api-reference/sessions/continue and /stop) ----------
#: Always offered on a session, whatever its status.
ALWAYS_ALLOWED: frozenset[Capability] = frozenset(
    {Capability.READ, Capability.REFRESH, Capability.WEBHOOKS, Capability.POLLING}
)
#: continue / stop: "Valid only when the session is awaiting_decision".
GATE_ACTIONS: frozenset[Capability] = frozenset({Capability.CONTINUE, Capability.CANCEL})
#: Rows are UIP's own statuses: a session at a gate is still there once a step was not met
#: (`awaiting_decision:<unmet code>`), UIP waits for the integrator.
ACTIONS_BY_STATUS: Mapping[str, frozenset[Capability]] = allowed_from(
    {capability: {AWAITING_DECISION} for capability in GATE_ACTIONS}
)


def join_failed(reason: str | None) -> str:
    """`failed:<reason>` for a known, non-blank reason (trimmed, cut), else `failed`."""
    text = (reason or "").strip()[:MAX_REASON_LENGTH].strip()
    return f"{FAILED}{REASON_SEPARATOR}{text}" if text else FAILED


def join_verdict(status: str, qualifier: str | None) -> str:
    """`<status>:<qualifier>` (an unmet code, or `results_pending`), else the status."""
    return f"{status}{REASON_SEPARATOR}{qualifier}" if qualifier else status


def split_status(value: str) -> tuple[str, str | None]:
    """Inverse of the joins: (status, qualifier or None)."""
    status, sep, reason = value.partition(REASON_SEPARATOR)
    return (status, reason) if sep else (value, None)


def is_technical(reason: str) -> bool:
    return reason.strip().lower() in TECHNICAL_FAILURE_REASONS
