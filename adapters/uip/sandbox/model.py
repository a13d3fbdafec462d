"""UIP's vocabulary and the session record of the sandbox emulator.

Written from the vendor docs (docs/vendors/uip.md and the pages it cites), independently of
the adapter, so that the emulator cannot drift into agreeing with a wrong adapter. Facts the
docs leave open are marked [INFERRED] where they are decided; each is one named constant.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.common.sandbox.control import SimulateAction as A

JSON = dict[str, Any]

# -- create limits (api-reference/sessions/create, core-concepts/primitives) ---------------------
PRIMITIVES = ("identify", "age_verify", "sign", "light_sign")
EXPIRES_IN_MIN = 60
EXPIRES_IN_MAX = 86_400
#: "default capped at 1 hour".
EXPIRES_IN_DEFAULT = 3_600
METADATA_MAX_KEYS = 50
#: identify `blocks`; `full_name` is accepted and "intentionally unmapped" → "unavailable".
IDENTIFY_BLOCKS = ("first_name", "last_name", "dob", "country", "document_number", "portrait")
UNMAPPED_BLOCKS = ("full_name",)
IDENTIFY_DEFAULT_BLOCKS = ("first_name", "last_name", "dob")
MIN_AGE_RANGE = (1, 120)
MIN_AGE_DEFAULT = 18
#: sign: "up to 50 files, 50 MB combined".
SIGN_MAX_FILES = 50
SIGN_MAX_BYTES = 50 * 1024 * 1024
#: The steps list has no documented cap [INFERRED].
MAX_STEPS = 20
#: light_sign's terms text: param name `text` and its cap [INFERRED] ("short inline terms").
LIGHT_SIGN_TEXT_PARAM = "text"
LIGHT_SIGN_TEXT_MAX = 4_000
#: Not documented [INFERRED]: bounds for the free-text fields.
CLIENT_REFERENCE_MAX = 255
RETURN_URL_MAX = 2_048
#: A JSON create body larger than this is refused [INFERRED]; multipart is capped by files.
JSON_BODY_MAX = 1024 * 1024

# -- idempotency (api-reference/sessions/create: the key lifetime is not documented) -----------
IDEMPOTENCY_KEY_MAX = 255  # [INFERRED]
IDEMPOTENCY_TTL_S = 24 * 60 * 60  # [INFERRED]

# -- expiry (core-concepts/sessions) -------------------------------------------------------
#: "a shorter per-step window once a step starts": the length is not documented [INFERRED].
STEP_WINDOW_S = 10 * 60

# -- webhooks (core-concepts/webhooks) -------------------------------------------------------
WEBHOOK_TIMEOUT_S = 10.0  # [INFERRED]
USER_AGENT = "UIP-Webhooks/2"  # [INFERRED]

# -- the sandbox's stand-ins -----------------------------------------------------------------
#: The wallet the sandbox "uses" (audit `wallet`, api-reference/audits/get example).
SANDBOX_WALLET = "apple-wallet"
#: The reason of a simulated verification failure [INFERRED: a "verification error message"].
DEFAULT_DECLINE_REASON = "credential verification failed"
#: `decline` with a normalized reason (docs/results.md, Reasons): the one a person can fail
#: without a failure, age_verify answering `satisfied: false` ("the threshold result",
#: api-reference/webhooks); the session goes on and completes.
AGE_NOT_SATISFIED = "age_not_satisfied"
#: `decline` with a normalized reason a UIP step can fail verification with, and the
#: `session.failed` `reason` the sandbox sends for it. UIP documents "a verification error
#: message" without a vocabulary [INFERRED: the sandbox sends the code itself as the message,
#: as it always sent a caller's reason]. About the wallet's credential and its presentation only:
#: UIP runs no face, screening, registry, contact or risk checks.
DECLINE_MESSAGES: dict[str, str] = {
    "document_expired": "document_expired",
    "document_not_authentic": "document_not_authentic",
    "document_unsupported": "document_unsupported",
    "signature_invalid": "signature_invalid",
    "user_declined": "user_declined",
}
#: Every normalized reason `decline` accepts; the other normalized codes are refused (400).
DECLINE_REASONS: frozenset[str] = frozenset({AGE_NOT_SATISFIED, *DECLINE_MESSAGES})
#: GET /v1/sessions/{id} has two published versions (docs/vendors/uip.md, Endpoints we call).
GET_SHAPES = ("a", "b")
#: continue/stop outside a gate: "409 or 400 (handle both)".
GATE_ERROR_STATUSES = (409, 400)


class Status(enum.StrEnum):
    """https://docs.uip.digital/core-concepts/sessions."""

    CREATED = "created"
    IN_PROGRESS = "in_progress"
    AWAITING_DECISION = "awaiting_decision"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"
    EXPIRED = "expired"


TERMINAL = frozenset({Status.COMPLETED, Status.STOPPED, Status.FAILED, Status.EXPIRED})
ACTIVE = frozenset(Status) - TERMINAL


class FailReason(enum.StrEnum):
    """`session.failed` reasons that are not a verification message (api-reference/webhooks)."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    INTERNAL_ERROR = "internal_error"


class Event(enum.StrEnum):
    """The complete v2 event list (api-reference/webhooks): no created, awaiting_decision or
    expired."""

    STEP_COMPLETED = "step.completed"
    SESSION_COMPLETED = "session.completed"
    SESSION_STOPPED = "session.stopped"
    SESSION_FAILED = "session.failed"


#: The sandbox control endpoint's actions (`POST /sessions/{id}/simulate`): the person's part
#: (open, submit, approve = every remaining step, decline = a step fails verification) and
#: UIP's (fail = internal error or funds, expire = the TTL runs out). Allowed sources:
CONTROL_ACTIONS: dict[A, frozenset[Status]] = {
    A.OPEN: frozenset({Status.CREATED}),
    A.SUBMIT: frozenset({Status.IN_PROGRESS}),
    A.APPROVE: frozenset({Status.CREATED, Status.IN_PROGRESS}),
    A.DECLINE: frozenset({Status.CREATED, Status.IN_PROGRESS}),
    A.FAIL: ACTIVE,
    A.EXPIRE: ACTIVE,
}
#: Control actions other vendors have and UIP does not (no review or abandoned status).
UNSUPPORTED_ACTIONS = frozenset({A.REVIEW, A.ABANDON})


def iso(moment: datetime) -> str:
    """UTC ISO 8601 in whole seconds with a `Z`, as every UIP example prints times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def iso_nanos(moment: datetime) -> str:
    """The audit's `occurred_at` form: nine fraction digits (api-reference/audits/get)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000:09d}Z"


def stamp(moment: datetime) -> str:
    """Full-precision storage form (expiry comparisons must not round)."""
    return moment.astimezone(UTC).isoformat()


@dataclass
class Step:
    primitive: str
    params: JSON = field(default_factory=dict)
    gate: bool = False
    #: sign: the uploaded files' names and SHA-256 digests (the bytes are never kept: UIP
    #: "deletes files once the step verifies"; the sandbox never needs them).
    files: list[JSON] = field(default_factory=list)


@dataclass
class SandboxSession:
    """One emulated session, as the sandbox stores and persists it (times: `stamp` form)."""

    id: str
    status: str
    steps: list[Step]
    created_at: str
    updated_at: str
    expires_at: str
    client_reference_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    return_url: str | None = None
    #: The step being worked on; at a gate, the gated step; at the end, the last one reached.
    current_step: int = 0
    #: When the current step started (the per-step window runs from here), in_progress only.
    step_started_at: str | None = None
    #: Per verified step: {step, primitive, verified_at, audit_id, …the primitive's result}.
    results: list[JSON] = field(default_factory=list)
    #: `session.failed`'s reason, once failed.
    failure_reason: str | None = None
    #: A hash of the first-open binding token of the hosted page (None until opened).
    binding: str | None = None

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def terminal(self) -> bool:
        return self.status_enum in TERMINAL

    @property
    def primitives(self) -> list[str]:
        return [step.primitive for step in self.steps]

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> SandboxSession:
        data = dict(data)
        data["steps"] = [Step(**step) for step in data["steps"]]
        return cls(**data)
