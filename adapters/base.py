"""The contract every vendor adapter implements, and the normalized domain types.

Adapters translate a vendor's wire model into these types and back. Nothing here knows
GraphQL or the database: the gateway depends on this module, never the other way round.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import re
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, ClassVar

import httpx

from adapters.results import CheckKind, CheckTable, Results

JSON = dict[str, Any]


class SessionStatus(enum.StrEnum):
    """Lifecycle and final outcome in one enum, ordered roughly by progress
    (docs/model.md, Status)."""

    CREATED = "CREATED"
    IN_PROGRESS = "IN_PROGRESS"
    PROCESSING = "PROCESSING"
    AWAITING_USER = "AWAITING_USER"
    AWAITING_DECISION = "AWAITING_DECISION"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    ABANDONED = "ABANDONED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def rank(self) -> int:
        """Progress tier used to order events that carry the same vendor time."""
        return STATUS_RANK[self]


FINAL_STATUSES = frozenset(
    {
        SessionStatus.APPROVED,
        SessionStatus.DECLINED,
        SessionStatus.CANCELLED,
        SessionStatus.EXPIRED,
        SessionStatus.ABANDONED,
        SessionStatus.FAILED,
    }
)

STATUS_RANK: dict[SessionStatus, int] = {
    SessionStatus.CREATED: 0,
    SessionStatus.IN_PROGRESS: 1,
    SessionStatus.AWAITING_USER: 2,
    SessionStatus.PROCESSING: 3,
    SessionStatus.AWAITING_DECISION: 4,
    SessionStatus.IN_REVIEW: 4,
    **{status: 5 for status in FINAL_STATUSES},
}


class Environment(enum.StrEnum):
    SANDBOX = "SANDBOX"
    LIVE = "LIVE"


class Outcome(enum.StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REVIEW = "REVIEW"


class DecidedBy(enum.StrEnum):
    PROVIDER = "PROVIDER"
    REVIEWER = "REVIEWER"
    INTEGRATOR = "INTEGRATOR"
    POLICY = "POLICY"


class DecisionAction(enum.StrEnum):
    """What an integrator may ask a vendor to do with a finished (or reviewed) session."""

    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    REQUEST_RESUBMISSION = "REQUEST_RESUBMISSION"


class Capability(enum.StrEnum):
    """Actions a vendor offers; declared per adapter and, narrowed by status, per session."""

    CREATE = "CREATE"
    READ = "READ"
    REFRESH = "REFRESH"
    CANCEL = "CANCEL"
    DECIDE = "DECIDE"
    REQUEST_RESUBMISSION = "REQUEST_RESUBMISSION"
    CONTINUE = "CONTINUE"
    RESUME = "RESUME"
    REDACT = "REDACT"
    UPDATE_METADATA = "UPDATE_METADATA"
    REPROCESS = "REPROCESS"
    ISSUE_LINK = "ISSUE_LINK"
    LIST = "LIST"
    REPORT = "REPORT"  # the vendor renders a session report (a PDF) on request
    STEPS = "STEPS"  # accepts an ordered list of verification steps (with gates) on create
    WEBHOOKS = "WEBHOOKS"
    POLLING = "POLLING"
    STREAMING = "STREAMING"  # pushes progress over a channel the gateway follows (websocket)


#: What every adapter offers: create a session and read it (REFRESH is a read on demand). An
#: adapter declares `capabilities = SESSION_BASICS | frozenset({...its vendor's actions})`.
SESSION_BASICS = frozenset({Capability.CREATE, Capability.READ, Capability.REFRESH})


class DocumentType(enum.StrEnum):
    PASSPORT = "PASSPORT"
    ID_CARD = "ID_CARD"
    DRIVERS_LICENSE = "DRIVERS_LICENSE"
    RESIDENCE_PERMIT = "RESIDENCE_PERMIT"
    VISA = "VISA"
    OTHER = "OTHER"


class ErrorCode(enum.StrEnum):
    """Normalized error codes (docs/model.md, Errors), shared by user errors and top-level
    errors."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    UNSUPPORTED_BY_PROVIDER = "UNSUPPORTED_BY_PROVIDER"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"


class StepType(enum.StrEnum):
    """Wallet-style verification steps (UIP primitives), normalized."""

    IDENTIFY = "IDENTIFY"
    AGE_VERIFY = "AGE_VERIFY"
    SIGN = "SIGN"
    LIGHT_SIGN = "LIGHT_SIGN"


class StepState(enum.StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class StepResult(enum.StrEnum):
    """A completed step's verdict (e.g. an age check the person did or did not meet). A step
    can be COMPLETED and NOT_SATISFIED: completion says the person finished it, the result
    says whether it passed."""

    SATISFIED = "SATISFIED"
    NOT_SATISFIED = "NOT_SATISFIED"


@dataclass(frozen=True)
class StepDocument:
    """A file a step needs (a document to sign), as the caller uploaded it."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class StepRequest:
    type: StepType
    params: JSON = field(default_factory=dict)
    #: Pause after this step until the integrator continues or stops the session.
    gate: bool = False
    #: The file a SIGN step signs; None for steps that take none.
    document: StepDocument | None = None


@dataclass(frozen=True)
class StepProgress:
    """One step's progress. Never carries claims (PII): those stay in the restricted `raw`."""

    index: int
    type: str  # the normalized StepType value when known, else the vendor's name
    state: StepState
    gate: bool = False
    completed_at: datetime | None = None
    #: The step's verdict once the vendor gave one; None while unknown.
    result: StepResult | None = None


@dataclass(frozen=True)
class Contact:
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ExpectedPerson:
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    nationality: str | None = None  # ISO 3166-1 alpha-3
    document_country: str | None = None  # ISO 3166-1 alpha-3
    document_types: tuple[DocumentType, ...] = ()


@dataclass(frozen=True)
class CreateSessionRequest:
    """A normalized create request; `provider_options` carries vendor-only fields."""

    client_reference: str | None = None
    metadata: JSON | None = None
    return_url: str | None = None
    expires_in: int | None = None  # seconds
    language: str | None = None
    contact: Contact | None = None
    expected_person: ExpectedPerson | None = None
    workflow_id: str | None = None
    provider_options: JSON = field(default_factory=dict)
    idempotency_key: str | None = None
    #: Ordered steps for vendors with Capability.STEPS (the gateway refuses them elsewhere).
    steps: tuple[StepRequest, ...] = ()


class InputSupport(enum.StrEnum):
    """How one vendor treats one `CreateSessionRequest` field (never silently)."""

    SENT = "SENT"  # passed to the vendor as it is
    MAPPED = "MAPPED"  # translated into the vendor's terms (the note says how)
    IGNORED = "IGNORED"  # the vendor cannot honour it: accepted, and the caller is warned
    REFUSED = "REFUSED"  # cannot be honoured and too important to drop: BAD_USER_INPUT


@dataclass(frozen=True)
class InputDeclaration:
    support: InputSupport
    #: One line: how a MAPPED field is translated, why a field is IGNORED or REFUSED.
    note: str = ""


def sent(note: str = "") -> InputDeclaration:
    return InputDeclaration(InputSupport.SENT, note)


def mapped(note: str) -> InputDeclaration:
    return InputDeclaration(InputSupport.MAPPED, note)


def ignored(note: str) -> InputDeclaration:
    return InputDeclaration(InputSupport.IGNORED, note)


def refused(note: str) -> InputDeclaration:
    return InputDeclaration(InputSupport.REFUSED, note)


#: Request fields that hold a group of fields: each member is declared on its own.
_INPUT_GROUPS: dict[str, type] = {"contact": Contact, "expected_person": ExpectedPerson}


def input_fields() -> tuple[str, ...]:
    """Every field of `CreateSessionRequest` an adapter declares, dotted for groups
    (`contact.email`, `expected_person.document_types`), in the request's own order."""
    names: list[str] = []
    for f in dataclasses.fields(CreateSessionRequest):
        group = _INPUT_GROUPS.get(f.name)
        if group is None:
            names.append(f.name)
        else:
            names += [f"{f.name}.{member.name}" for member in dataclasses.fields(group)]
    return tuple(names)


def grouped(
    group: str, declaration: InputDeclaration, **members: InputDeclaration
) -> dict[str, InputDeclaration]:
    """The same declaration for every member of a request group (`contact`,
    `expected_person`), but for the `members` declared otherwise."""
    return {
        f"{group}.{f.name}": members.get(f.name, declaration)
        for f in dataclasses.fields(_INPUT_GROUPS[group])
    }


def _is_set(value: Any) -> bool:
    return value is not None and value != () and value != {}


def inputs_set(request: CreateSessionRequest) -> tuple[str, ...]:
    """The declared fields this request sets (empty defaults do not count)."""
    found: list[str] = []
    for name in input_fields():
        group, _, member = name.partition(".")
        value = getattr(request, group)
        if member:
            value = getattr(value, member) if value is not None else None
        if _is_set(value):
            found.append(name)
    return tuple(found)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    decided_by: DecidedBy = DecidedBy.PROVIDER
    reason_codes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    risk_score: float | None = None
    decided_at: datetime | None = None

    def to_json(self) -> JSON:
        return {
            "outcome": self.outcome.value,
            "decided_by": self.decided_by.value,
            "reason_codes": list(self.reason_codes),
            "warnings": list(self.warnings),
            "risk_score": self.risk_score,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        decided_at = data.get("decided_at")
        return cls(
            outcome=Outcome(data["outcome"]),
            decided_by=DecidedBy(data.get("decided_by", DecidedBy.PROVIDER)),
            reason_codes=tuple(data.get("reason_codes") or ()),
            warnings=tuple(data.get("warnings") or ()),
            risk_score=data.get("risk_score"),
            decided_at=datetime.fromisoformat(decided_at) if decided_at else None,
        )


@dataclass(frozen=True)
class TimelineEntry:
    """An earlier state the vendor reports a time for (e.g. Beltic `started_at`), so that
    history learnt by polling is still true: the gateway records each one it missed."""

    status: SessionStatus
    provider_status: str
    occurred_at: datetime


@dataclass(frozen=True)
class SessionSnapshot:
    """What a vendor says about one session at one moment.

    `status` is None when the vendor's raw status is not in the adapter's table: the gateway
    then keeps the previous normalized status and shows `provider_status` raw.
    `occurred_at` is the vendor's own time for this state, when the vendor gives one; it is
    what orders events (docs/model.md, Ordering).
    """

    provider_session_id: str
    provider_status: str
    status: SessionStatus | None
    environment: Environment
    verification_url: str | None = None
    qr_code: str | None = None
    client_reference: str | None = None
    metadata: JSON | None = None
    expires_at: datetime | None = None
    decision: Decision | None = None
    occurred_at: datetime | None = None
    raw: JSON = field(default_factory=dict)
    #: Earlier states with their vendor times, oldest first (may be empty). The current state
    #: (`status` at `occurred_at`) need not be repeated here.
    timeline: tuple[TimelineEntry, ...] = ()
    #: Step progress for step-based vendors; empty = unknown/not applicable (keeps what we have).
    steps: tuple[StepProgress, ...] = ()
    current_step: int | None = None
    #: What the vendor found (checks, person, documents), when this payload says; None keeps
    #: what is stored (adapters/results.py).
    results: Results | None = None
    #: When the vendor created the session, where its payload says (a list row, a read):
    #: what an adopted or imported session's history starts at.
    created_at: datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One record of a session's audit at the vendor: which step verified, what it verified,
    when, and with which wallet, plus the record's place in the vendor's tamper-evident chain.

    `proof` is the vendor's evidence for the step as it keeps it (e.g. an age threshold and
    its answer, a signature, a digest of disclosed claims): about the person, so the gateway
    shows it only to `pii:read`. Hash and token values are the vendor's, unchecked."""

    record_id: str
    step: int
    type: str  # the normalized StepType value when known, else the vendor's name
    verified_at: datetime | None = None
    wallet: str | None = None
    proof: JSON | None = None
    record_hash: str | None = None
    previous_hash: str | None = None
    timestamp_token: str | None = None
    #: The vendor sealed the person's identity behind this record (a flag, never the data).
    identity_sealed: bool | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """One verified vendor event. `snapshot` is None for events about something else than a
    session's state (e.g. Didit `user.status.updated`): those are acknowledged and kept."""

    dedupe_key: str
    event_type: str
    provider_session_id: str | None
    snapshot: SessionSnapshot | None
    received_payload: JSON
    #: The event is (also) a hint: read this session from the vendor right away (Beltic
    #: document webhooks; Verifa `completed` before its result is known).
    refetch: bool = False


class ProviderError(Exception):
    """A vendor call failed in an expected way. The message is safe to show to a client:
    adapters keep the vendor's own message but scrub secrets and PII from it."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        field: tuple[str, ...] | None = None,
        provider_code: str | None = None,
        retry_after: int | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.provider_code = provider_code
        self.retry_after = retry_after
        self.http_status = http_status


class UnsupportedByProvider(ProviderError):
    def __init__(self, provider: str, action: str) -> None:
        super().__init__(
            ErrorCode.UNSUPPORTED_BY_PROVIDER,
            f"{provider} does not support '{action}'",
        )


class WebhookRejectReason(enum.StrEnum):
    SIGNATURE = "signature"  # 401: missing or wrong signature
    TIMESTAMP = "timestamp"  # 401: missing, malformed or outside the tolerance window
    MALFORMED = "malformed"  # 400: not JSON, or JSON without the fields an event needs


class WebhookRejected(Exception):
    def __init__(self, reason: WebhookRejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AdapterConfig:
    """Everything an adapter needs from the outside, resolved by the gateway's settings.

    In sandbox mode the gateway fills `base_url`, `api_key`, `webhook_secret` and `transport`
    so that the adapter talks to its own emulator, unchanged.
    """

    environment: Environment
    base_url: str
    api_key: str
    webhook_secret: str
    options: Mapping[str, str] = field(default_factory=dict)
    transport: httpx.AsyncBaseTransport | None = None
    timeout_s: float = 10.0
    retry_attempts: int = 3
    retry_wait_s: float = 0.2
    webhook_tolerance_s: int = 300
    #: Largest webhook body the adapter verifies (None: its caller limits, as the gateway's
    #: route does while reading the body).
    webhook_max_body_bytes: int | None = None
    clock: Clock = utc_now
    secrets_to_scrub: tuple[str, ...] = ()
    #: Outbound requests per minute we allow ourselves (kept under the vendor's published
    #: limit); None = unlimited.
    rate_limit_per_minute: float | None = None
    #: Longest `Retry-After` an idempotent call waits out itself before giving up.
    max_retry_after_s: float = 10.0


#: Sandbox tooling paths, one convention for every sandbox: `/_faults` (the fault switch),
#: `…/sessions/{id}/simulate` (play the person's or the vendor's part), `…/redeliver` (send a
#: webhook again), `/sandbox-settings`. In a keyed deployment only a credential with the
#: `sandbox:control` scope reaches them (docs/security.md); hosted pages stay open to the
#: person verifying, and the emulated vendor API keeps its own per-process keys.
SANDBOX_CONTROL_PATH = re.compile(r"(/_faults|/simulate|/redeliver)/?$|^/sandbox-settings/?$")


class SandboxHandle(abc.ABC):
    """A running vendor emulator: an ASGI app to mount plus the credentials it accepts."""

    provider: str
    api_key: str
    webhook_secret: str
    options: Mapping[str, str]

    @property
    @abc.abstractmethod
    def app(self) -> Any:  # an ASGI application
        ...

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Stop background work (webhook deliveries in flight)."""

    def is_control_path(self, path: str) -> bool:
        """Tooling (faults, simulate, redeliver, settings), not the vendor's API or page; a
        sandbox with other tooling routes overrides this."""
        return SANDBOX_CONTROL_PATH.search(path) is not None


@dataclass(frozen=True)
class SandboxConfig:
    """How the gateway wires a sandbox: where it is served and where its webhooks go."""

    public_base_url: str  # e.g. http://127.0.0.1:8000/sandbox/didit
    webhook_url: str  # e.g. http://127.0.0.1:8000/webhooks/didit
    state_path: str | None = None  # JSON file the emulator keeps its sessions in
    webhook_transport: httpx.AsyncBaseTransport | None = None
    webhook_retry_delays_s: tuple[float, ...] = (1.0, 4.0)
    clock: Clock = utc_now
    #: The emulated vendor API's key, when the operator fixes one
    #: (`KYCGW_<VENDOR>_SANDBOX_API_KEY`): a client outside the gateway — an old integration,
    #: a script, a test — can then call the sandbox directly, as it would the vendor. Else
    #: random per process, known only to the gateway's adapter.
    api_key: str | None = None


@dataclass(frozen=True)
class SessionPage:
    """A page of a vendor's session list: each session as the list shows it (its status, and
    `created_at` where the list gives it), and the cursor of the next page (None: the last)."""

    sessions: tuple[SessionSnapshot, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class DecisionOptions:
    """What a vendor may take with a decision beyond the decision and its reason
    (`decideSession`'s `resubmit` and `notifyPerson`): the steps a resubmission asks the
    person to redo, in the vendor's own names (None: the vendor's or adapter's choice), and
    whether the vendor itself tells the person (None: the vendor's default). An adapter names
    the ones it takes in `decision_options`; the gateway refuses the others."""

    resubmit: tuple[str, ...] | None = None
    notify_person: bool | None = None

    def given(self) -> frozenset[str]:
        """The options the caller set (field names of this class)."""
        return frozenset(
            name for name in ("resubmit", "notify_person") if getattr(self, name) is not None
        )


#: The media type of a session report (Capability.REPORT).
PDF_MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class SessionReport:
    """A session report as the vendor rendered it (Capability.REPORT): the document's bytes,
    its media type and the vendor's file name, if it gave one. It holds personal data: never
    log or store it."""

    content: bytes
    media_type: str = PDF_MEDIA_TYPE
    filename: str | None = None

    def __repr__(self) -> str:  # the content is personal data: keep it out of reprs and logs
        return f"SessionReport({self.media_type}, {len(self.content)} bytes)"


@dataclass(frozen=True)
class KnownSession:
    """What the gateway stored about a session, handed back to an adapter that keeps
    per-session state (uqudo: the websocket credential and the TTL) after a restart or on
    another replica."""

    provider_session_id: str
    provider_status: str
    raw: JSON | None
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class PollPolicy:
    """How the reconciler polls this vendor: per-session interval with exponential backoff up
    to `max_interval_s`, and a request budget kept under the vendor's published rate limit."""

    interval_s: float = 30.0
    max_interval_s: float = 600.0
    requests_per_minute: float = 60.0


@dataclass(frozen=True)
class StatusReading:
    """One raw status read against an adapter's declared tables."""

    #: The key this raw status has in `actions_by_status` and `polled_statuses`: the status
    #: itself, or for a compound one (`failed:<reason>`) the row its vendor reads it under.
    row: str
    #: The normalized status; None when the row is known but this value of it is not.
    status: SessionStatus | None


def allowed_from(
    grants: Mapping[Capability, Collection[str]],
) -> Mapping[str, frozenset[Capability]]:
    """`actions_by_status` from "this action is allowed from these statuses", the way
    vendor documentation states it."""
    rows: dict[str, set[Capability]] = {}
    for capability, statuses in grants.items():
        for raw in statuses:
            rows.setdefault(raw, set()).add(capability)
    return MappingProxyType({raw: frozenset(actions) for raw, actions in sorted(rows.items())})


#: The method that carries out each session action a capability promises (the rest are
#: properties of the vendor, not calls): declaring one means implementing it.
ACTION_METHODS: Mapping[Capability, str] = MappingProxyType(
    {
        Capability.CANCEL: "cancel_session",
        Capability.DECIDE: "decide_session",
        Capability.REQUEST_RESUBMISSION: "decide_session",
        Capability.CONTINUE: "continue_session",
        Capability.RESUME: "resume_session",
        Capability.REDACT: "redact_session",
        Capability.UPDATE_METADATA: "update_metadata",
        Capability.REPROCESS: "reprocess_session",
        Capability.ISSUE_LINK: "issue_link",
        Capability.LIST: "list_sessions",
        Capability.REPORT: "session_report",
        Capability.STREAMING: "follow_session",
    }
)


class ProviderAdapter(abc.ABC):
    """One vendor. Subclasses declare `name`, `capabilities`, the credential keys they read
    and their status tables, and implement the calls the vendor offers. Calls the vendor
    lacks raise `UnsupportedByProvider` (the default here), never crash.

    The status declarations are data the base class reads (after Libcloud's
    `NODE_STATE_MAP`): `status_table`, `always_allowed`, `actions_by_status`,
    `polled_statuses` / `poll_non_final`. A vendor whose raw statuses are compound
    (`<status>:<qualifier>`) overrides `read_status` only.
    """

    name: str
    capabilities: frozenset[Capability]
    #: settings keys (after the vendor prefix) holding live credentials, e.g. ("api_key",):
    #: all set = live, none set = sandbox, some set = a configuration error.
    credential_keys: tuple[str, ...] = ("api_key", "webhook_secret")
    default_base_url: str
    poll_policy: PollPolicy = PollPolicy()
    #: Our outbound budget for this vendor, under its published rate limit (None = no limit
    #: published). Overridable as KYCGW_<VENDOR>_RATE_LIMIT_PER_MINUTE.
    rate_limit_per_minute: float | None = None
    #: How the vendor treats each `CreateSessionRequest` field (keys: `input_fields()`).
    #: The gateway reports IGNORED ones as warnings, refuses REFUSED ones, and publishes the
    #: table (`providers { inputSupport }`, the README matrix). Every field must be declared.
    input_support: Mapping[str, InputDeclaration] = MappingProxyType({})
    #: How a person progresses a session when the vendor has no hosted page to send them to
    #: (None: the vendor gives a `verification_url`). Shown where a link would be.
    person_flow_note: str | None = None
    #: False when the vendor's session has no metadata field: the gateway's copy is the only
    #: one, so `updateSessionMetadata` merges into it instead of calling the vendor.
    metadata_at_vendor: bool = True
    #: What of a session stays at the vendor after `redactSession` (its `redact_session`, or
    #: nothing for a vendor without Capability.REDACT), in sentences naming the data, from
    #: the vendor's documentation: reported as a VENDOR_DATA_RETAINED warning. Empty when
    #: the vendor documents that nothing stays.
    redaction_leaves: tuple[str, ...] = ()
    #: The `DecisionOptions` fields `decide_session` takes (e.g. "resubmit",
    #: "notify_person"); the gateway refuses any other one before calling the vendor.
    decision_options: ClassVar[frozenset[str]] = frozenset()
    #: The vendor's check vocabularies (adapters/results.py), one table per result block
    #: that names checks differently; the conformance suite holds them to the normalized
    #: vocabulary, and docs/results.md lists them.
    check_tables: ClassVar[tuple[CheckTable, ...]] = ()
    #: The kinds of check this vendor performs (what an approved session shows PASSED).
    check_kinds: ClassVar[frozenset[CheckKind]] = frozenset()

    # -- status declarations (data; the methods below read them) ---------------------------
    #: Every raw status the vendor documents → its normalized status, and nothing else
    #: (case-sensitive; an unknown value maps to None, never a guess).
    status_table: ClassVar[Mapping[str, SessionStatus]] = MappingProxyType({})
    #: Actions a session allows whatever its status (None: every declared capability).
    always_allowed: ClassVar[frozenset[Capability] | None] = None
    #: What else a session allows in one status row (`StatusReading.row`).
    actions_by_status: ClassVar[Mapping[str, frozenset[Capability]]] = MappingProxyType({})
    #: Rows the reconciler polls: the states webhooks do not cover.
    polled_statuses: ClassVar[frozenset[str]] = frozenset()
    #: Instead of `polled_statuses`: poll every state that is not final, unknown ones too
    #: (for a vendor whose events miss changes, e.g. expiry without a webhook).
    poll_non_final: ClassVar[bool] = False

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config

    @classmethod
    def undeclared_inputs(cls) -> tuple[str, ...]:
        """Request fields this adapter forgot to declare (must be empty)."""
        return tuple(name for name in input_fields() if name not in cls.input_support)

    @classmethod
    def unimplemented_capabilities(cls) -> tuple[Capability, ...]:
        """Declared capabilities whose method is still the base class's refusal (must be
        empty): a capability is a promise the gateway acts on."""
        return tuple(
            capability
            for capability, method in ACTION_METHODS.items()
            if capability in cls.capabilities
            and getattr(cls, method) is getattr(ProviderAdapter, method)
        )

    @property
    def environment(self) -> Environment:
        return self.config.environment

    # -- sessions -----------------------------------------------------------------------
    @abc.abstractmethod
    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot: ...

    @abc.abstractmethod
    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot: ...

    async def cancel_session(self, provider_session_id: str) -> SessionSnapshot | None:
        raise UnsupportedByProvider(self.name, "cancel")

    async def decide_session(
        self,
        provider_session_id: str,
        action: DecisionAction,
        reason: str | None,
        options: DecisionOptions | None = None,
    ) -> SessionSnapshot | None:
        """`options` only ever holds what `decision_options` names (the gateway refuses the
        rest before the call)."""
        raise UnsupportedByProvider(self.name, "decide")

    async def continue_session(self, provider_session_id: str) -> SessionSnapshot | None:
        raise UnsupportedByProvider(self.name, "continue")

    async def resume_session(self, provider_session_id: str) -> SessionSnapshot | None:
        raise UnsupportedByProvider(self.name, "resume")

    async def redact_session(self, provider_session_id: str) -> None:
        """Erase the vendor's copy of the session's personal data; what it keeps is
        `redaction_leaves`."""
        raise UnsupportedByProvider(self.name, "redact")

    async def update_metadata(
        self, provider_session_id: str, metadata: JSON
    ) -> SessionSnapshot | None:
        """Merge `metadata` into the vendor's copy (keys with null values are removed)."""
        raise UnsupportedByProvider(self.name, "update metadata")

    async def reprocess_session(self, provider_session_id: str) -> SessionSnapshot | None:
        raise UnsupportedByProvider(self.name, "reprocess")

    async def issue_link(self, provider_session_id: str) -> SessionSnapshot:
        """A fresh (one-time) link for the person; the snapshot carries the new
        `verification_url` (and `qr_code` when the vendor gives one)."""
        raise UnsupportedByProvider(self.name, "issue a link")

    async def list_sessions(
        self, *, client_reference: str | None = None, limit: int = 100
    ) -> list[SessionSnapshot]:
        """The vendor's sessions, newest first, following its pagination up to `limit`."""
        raise UnsupportedByProvider(self.name, "list")

    async def list_page(self, cursor: str | None, *, page_size: int) -> SessionPage:
        """One page of the vendor's list endpoint (Capability.LIST), for importing history:
        `cursor` is None for the first page, else a `next_cursor` this adapter gave (opaque
        to the gateway, kept in its store so an import resumes where it stopped)."""
        raise UnsupportedByProvider(self.name, "list")

    async def fetch_audit(self, provider_session_id: str) -> tuple[AuditEntry, ...]:
        """The vendor's audit of one session: an entry per verified step, in step order
        (empty while none has verified). Read on demand, never stored by the gateway."""
        raise UnsupportedByProvider(self.name, "audit")

    async def session_report(self, provider_session_id: str) -> SessionReport:
        """The vendor's own report of the session (Capability.REPORT), rendered now."""
        raise UnsupportedByProvider(self.name, "session report")

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Called once at gateway start (e.g. to load signing keys); must not raise for a
        vendor that is unreachable: log and carry on."""

    def restore(self, session: KnownSession) -> None:  # noqa: B027 - optional hook
        """Make a session created earlier (before a restart, or by another replica) known
        again before it is read or followed. Default: adapters keep no per-session state."""

    def follow_session(self, provider_session_id: str) -> AsyncIterator[SessionSnapshot]:
        """Vendor-pushed progress for one session (Capability.STREAMING), e.g. uqudo's session
        websocket: yields a snapshot per change and ends when the session is final or the
        channel closes. The gateway applies each one like a webhook and re-follows non-final
        sessions after a restart."""
        raise UnsupportedByProvider(self.name, "streaming")

    def needs_polling(self, provider_status: str) -> bool:
        """True for vendor states that webhooks do not cover (the reconciler polls them).
        The reconciler never polls a session whose normalized status is final."""
        if self.poll_non_final:
            status = self.map_status(provider_status)
            return status is None or not status.is_final
        reading = self.read_status(provider_status)
        return reading is not None and reading.row in self.polled_statuses

    def session_capabilities(self, provider_status: str | None) -> frozenset[Capability]:
        """Actions allowed on one session in its current vendor status: `always_allowed`
        plus its row's `actions_by_status`, never more than `capabilities`."""
        allowed = self.capabilities if self.always_allowed is None else self.always_allowed
        reading = None if provider_status is None else self.read_status(provider_status)
        if reading is not None:
            allowed = allowed | self.actions_by_status.get(reading.row, frozenset())
        return allowed & self.capabilities

    # -- status table -------------------------------------------------------------------
    @classmethod
    def read_status(cls, provider_status: object) -> StatusReading | None:
        """A raw status's row and normalized status; None for anything not in the table
        (wrong case, padding, empty, non-string). Compound vocabularies override this."""
        if not isinstance(provider_status, str):
            return None
        status = cls.status_table.get(provider_status)
        return None if status is None else StatusReading(provider_status, status)

    @classmethod
    def map_status(cls, provider_status: object) -> SessionStatus | None:
        """Vendor status → normalized status; None for a value not in the table."""
        reading = cls.read_status(provider_status)
        return None if reading is None else reading.status

    def snapshot_of(self, session_id: str, provider_status: str, **fields: Any) -> SessionSnapshot:
        """A snapshot whose normalized status is always the status table's reading of the raw
        one, so no adapter can pair the two differently."""
        return SessionSnapshot(
            provider_session_id=session_id,
            provider_status=provider_status,
            status=self.map_status(provider_status),
            **fields,
        )

    @classmethod
    def vocabulary(cls) -> frozenset[str]:
        """Every raw status the vendor documents (drives the exhaustive table tests)."""
        return frozenset(cls.status_table)

    # -- webhooks -----------------------------------------------------------------------
    @abc.abstractmethod
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        """Verify signature and timestamp, then parse. Raises `WebhookRejected`."""

    # -- sandbox ------------------------------------------------------------------------
    @classmethod
    def build_sandbox(cls, config: SandboxConfig) -> SandboxHandle | None:
        """A faithful local emulator of this vendor, or None when there is none."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release HTTP clients."""
