"""Verifa's vocabulary and the session record of the sandbox emulator.

Written from Verifa's pages (docs/vendors/verifa.md lists them; "the docs" below),
independently of the adapter, so that the emulator cannot drift into agreeing with a wrong
adapter. Facts the docs leave open are marked [INFERRED] where they are decided.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from adapters.common.sandbox.control import SimulateAction as A
from adapters.common.sandbox.times import iso as iso  # as in Verifa's docs
from adapters.common.sandbox.times import parse_iso as parse_iso

JSON = dict[str, Any]

#: The environment id GET session shows (`"environment": "env_…"`) [INFERRED value].
ENVIRONMENT_ID = "env_sandbox_5b1f0c2e"
#: The org default workflow, used when create has no `workflow_id` [INFERRED name].
DEFAULT_WORKFLOW_ID = "workflow_default"
#: `capture_url` tokens expire after 20 minutes ("default: 20 minutes").
CAPTURE_TOKEN_TTL_S = 20 * 60
#: One-time links: `expires_in_minutes` "Defaults to the platform session expiry" (the 20
#: minutes above); the upper bound is [INFERRED].
LINK_DEFAULT_MINUTES = CAPTURE_TOKEN_TTL_S // 60
LINK_MAX_MINUTES = 7 * 24 * 60
#: Idempotency keys: at most 255 characters, remembered 24 h.
IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_TTL_S = 24 * 60 * 60
#: `Verifa-Version` values the sandbox serves; omitted = the version pinned to the key.
API_VERSIONS = frozenset({"2026-01-01"})
PINNED_VERSION = "2026-01-01"
#: List pagination (limit default 50, max 100).
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
#: A webhook attempt without an answer within 30 s is a failure.
WEBHOOK_TIMEOUT_S = 30.0
#: Rejection reason of a simulated decline [INFERRED: the code list is not documented].
DEFAULT_REJECTION_REASON = "face_mismatch"
#: Documents a sandbox capture "uploads" (redact reports how many it removed).
CAPTURED_DOCUMENTS = ("id_front", "id_back", "selfie")
SANDBOX_DOCUMENT_TYPE = "drivers_license"


class Status(enum.StrEnum):
    """The documented session statuses."""

    PENDING = "pending"
    CAPTURING = "capturing"
    PROCESSING = "processing"
    AWAITING_EXTERNAL = "awaiting_external"
    UNDER_REVIEW = "under_review"
    SANDBOX_PENDING = "sandbox_pending"
    COMPLETED = "completed"
    EXPIRED = "expired"
    FAILED = "failed"


ACTIVE = frozenset(
    {
        Status.PENDING,
        Status.CAPTURING,
        Status.PROCESSING,
        Status.AWAITING_EXTERNAL,
        Status.UNDER_REVIEW,
        Status.SANDBOX_PENDING,
    }
)
TERMINAL = frozenset({Status.COMPLETED, Status.EXPIRED, Status.FAILED})
#: `capture_url` is shown "only while session is pending/capturing".
CAPTURE_STATUSES = frozenset({Status.PENDING, Status.CAPTURING})


class ResultStatus(enum.StrEnum):
    """The decision lives on the result."""

    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"


class Retention(enum.StrEnum):
    ACTIVE = "active"
    SENSITIVE_REDACTED = "sensitive_redacted"
    REDACTED = "redacted"


class Event(enum.StrEnum):
    """The documented session events (and the demo's `session.link_generated`)."""

    CREATED = "session.created"
    STARTED = "session.started"
    APPROVED = "session.approved"
    DECLINED = "session.declined"
    REQUIRES_REVIEW = "session.requires-review"
    EXPIRED = "session.expired"
    REDACTED = "session.redacted"
    LINK_GENERATED = "session.link_generated"
    #: "the session status changes to awaiting_external and a session.awaiting_external
    #: webhook is fired" (core-concepts/workflows, Wait node).
    AWAITING_EXTERNAL = "session.awaiting_external"
    #: A listed session event; what triggers it is [INFERRED] (see REQUIRE_RESUBMISSION).
    RESUBMISSION_REQUIRED = "session.resubmission-required"


#: Webhooks say `approved` / `declined` in event names and status; review events carry the
#: result's `needs_review` [INFERRED].
DECISION_EVENTS: dict[ResultStatus, tuple[Event, str]] = {
    ResultStatus.APPROVED: (Event.APPROVED, "approved"),
    ResultStatus.REJECTED: (Event.DECLINED, "declined"),
    ResultStatus.NEEDS_REVIEW: (Event.REQUIRES_REVIEW, "needs_review"),
}


@dataclass(frozen=True)
class Move:
    """A status change an action makes: allowed from `sources`, to `target` (+ a result);
    `event` when the change fires one the status pair alone does not say."""

    sources: frozenset[Status]
    target: Status
    result: ResultStatus | None = None
    event: Event | None = None


_DECIDABLE = frozenset(
    {Status.PROCESSING, Status.SANDBOX_PENDING, Status.AWAITING_EXTERNAL, Status.UNDER_REVIEW}
)
_CHECKING = frozenset({Status.PROCESSING, Status.SANDBOX_PENDING, Status.AWAITING_EXTERNAL})

#: Resubmission: the checks send the person back to capture (a fresh token, status `pending`,
#: `session.resubmission-required`) [INFERRED: the event is listed, its transition is not].
REQUIRE_RESUBMISSION = Move(
    frozenset({Status.PROCESSING, Status.SANDBOX_PENDING, Status.UNDER_REVIEW}),
    Status.PENDING,
    event=Event.RESUBMISSION_REQUIRED,
)

#: The sandbox control endpoint (`POST /sessions/{id}/simulate`, the same action names for
#: every vendor, plus Verifa's own paused states `hold` and `await_external` and
#: `require_resubmission`). It plays the person (open, submit) and Verifa's checks /
#: reviewers (the rest).
CONTROL_ACTIONS: dict[A, Move] = {
    A.OPEN: Move(frozenset({Status.PENDING}), Status.CAPTURING),
    A.SUBMIT: Move(frozenset({Status.CAPTURING}), Status.PROCESSING),
    A.HOLD: Move(frozenset({Status.PROCESSING}), Status.SANDBOX_PENDING),
    A.AWAIT_EXTERNAL: Move(frozenset({Status.PROCESSING}), Status.AWAITING_EXTERNAL),
    A.APPROVE: Move(_DECIDABLE, Status.COMPLETED, ResultStatus.APPROVED),
    A.DECLINE: Move(_DECIDABLE, Status.COMPLETED, ResultStatus.REJECTED),
    A.REVIEW: Move(_CHECKING, Status.UNDER_REVIEW, ResultStatus.NEEDS_REVIEW),
    A.FAIL: Move(_CHECKING, Status.FAILED),
    A.EXPIRE: Move(ACTIVE, Status.EXPIRED),
    A.REQUIRE_RESUBMISSION: REQUIRE_RESUBMISSION,
}
#: Control actions other vendors have and Verifa does not (no `abandoned` status).
UNSUPPORTED_ACTIONS = frozenset({A.ABANDON})

#: Verifa's own sandbox endpoint `POST /api/v1/sessions/{id}/simulate`:
#: it decides an active session at once, capture or not (the official demo simulates right
#: after creating a session).
API_SIMULATE_ACTIONS: dict[str, Move] = {
    "approve": Move(ACTIVE, Status.COMPLETED, ResultStatus.APPROVED),
    "decline": Move(ACTIVE, Status.COMPLETED, ResultStatus.REJECTED),
    "require-review": Move(
        ACTIVE - {Status.UNDER_REVIEW}, Status.UNDER_REVIEW, ResultStatus.NEEDS_REVIEW
    ),
    "expire": Move(ACTIVE, Status.EXPIRED),
}

#: Expire: "already completed, expired, or redacted cannot be expired"; failed too.
EXPIRABLE = ACTIVE
#: Resume: "for expired or abandoned sessions" — abandoned = capture started, never finished.
RESUMABLE = frozenset({Status.EXPIRED, Status.CAPTURING})
#: Reprocess: "completed or failed" sessions.
REPROCESSABLE = frozenset({Status.COMPLETED, Status.FAILED})
#: One-time links are for capturing: refused once capture is over [INFERRED beyond the
#: documented completed/failed/redacted].
LINKABLE = CAPTURE_STATUSES
#: External-gate decisions ("The session must be in `awaiting_external` status"; path
#: [INFERRED]): continue resumes the workflow, fail applies the gate step's `on_fail` action,
#: reject rejects at once.
EXTERNAL_DECISIONS = frozenset({"continue", "fail", "reject"})
#: The gate step's `on_fail` action of the sandbox workflow ("e.g. review, reject, or jump to
#: another step") [INFERRED choice: review].
GATE_ON_FAIL = "review"
#: Rejection reason of a session an external gate rejected [INFERRED].
EXTERNAL_REJECTION_REASON = "external_rejected"

#: Review case statuses: active and final (core-concepts/cases).
CASE_ACTIVE = frozenset({"open", "in_review", "escalated", "pending_second_review"})
CASE_FINAL = frozenset({"approved", "rejected"})
#: The reviewer the gateway's decisions are made as (the adapter's `reviewer_id` option)
#: [INFERRED: any org user id; Verifa's look like `orguser_abc123`].
SANDBOX_REVIEWER_ID = "orguser_sandbox_gateway"
#: Rejection reason of a case rejected without one [INFERRED].
CASE_REJECTION_REASON = "reviewer_rejected"


@dataclass
class SandboxSession:
    """One emulated session, as the sandbox stores and persists it."""

    id: str
    status: str
    created_at: str
    updated_at: str
    workflow_id: str = DEFAULT_WORKFLOW_ID
    external_ref: str | None = None
    metadata: JSON = field(default_factory=dict)
    country: str | None = None
    checks: list[str] | None = None
    redirect_url: str | None = None
    fields: JSON | None = None
    send_email: bool = False
    tags: list[str] = field(default_factory=list)
    document_type: str | None = None
    retention_status: str = Retention.ACTIVE.value
    processing_attempts: int = 0
    consent_ip: str | None = None
    #: The live capture token (create, resume, one-time link); None once revoked.
    capture_token: str | None = None
    token_expires_at: str | None = None
    #: The one-time link the current token belongs to, if it is one.
    link_id: str | None = None
    case_id: str | None = None
    case_status: str | None = None
    case_created_at: str | None = None
    #: The reviewer holding the case's claim, and when they took it.
    case_assigned_to: str | None = None
    case_claimed_at: str | None = None
    case_decided_at: str | None = None
    #: The metadata an external gate decision brought ("Stored on the workflow run").
    workflow_run_metadata: JSON = field(default_factory=dict)
    expired_at: str | None = None
    documents: list[str] = field(default_factory=list)
    #: The result object once the checks have an outcome (see payloads.result_body).
    result: JSON | None = None

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def redacted(self) -> bool:
        return self.retention_status == Retention.REDACTED

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> SandboxSession:
        return cls(**data)
