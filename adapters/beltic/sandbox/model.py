"""Beltic's vocabulary and the records of the sandbox emulator.

Written from Beltic's pages (docs/vendors/beltic.md, Sources), independently of the adapter,
so that the emulator cannot drift into agreeing with a wrong adapter. Facts the pages leave
open are named here ("inferred"), one constant each; the one both sides share, how Beltic
refuses a transition, is `adapters/beltic/inferred.TRANSITION_REFUSED_STATUS`.
"""

from __future__ import annotations

import enum
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from adapters.common.sandbox.control import SimulateAction as A
from adapters.common.sandbox.times import parse_iso as parse_iso

JSON = dict[str, Any]


class Status(enum.StrEnum):
    """Session statuses, exact strings (the sessions guide's status table)."""

    CREATED = "created"
    STARTED = "started"
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    MARKED_FOR_REVIEW = "marked_for_review"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"


FINAL_STATUSES = frozenset({Status.APPROVED, Status.DECLINED, Status.EXPIRED, Status.FAILED})
#: "expired before completion": the states time can run out in (inferred).
PRE_COMPLETION = frozenset({Status.CREATED, Status.STARTED, Status.PENDING})
#: approve / decline: only a session whose checks are done (the guide's status flow).
DECIDABLE = frozenset({Status.COMPLETED, Status.MARKED_FOR_REVIEW})
#: The integrator's expire call: any non-final session (the guide: "no longer needed or has
#: been idle for too long"; inferred).
EXPIRABLE = frozenset(Status) - FINAL_STATUSES
#: PATCH with applicant data: while the session is not final (inferred).
UPDATABLE = frozenset(Status) - FINAL_STATUSES

#: The guide's status flow diagram, plus (inferred) expiry from any pre-completion state.
FLOW: dict[Status, frozenset[Status]] = {
    Status.CREATED: frozenset({Status.STARTED, Status.EXPIRED}),
    Status.STARTED: frozenset({Status.PENDING, Status.EXPIRED}),
    Status.PENDING: frozenset({Status.COMPLETED, Status.FAILED, Status.EXPIRED}),
    Status.COMPLETED: frozenset({Status.APPROVED, Status.DECLINED, Status.MARKED_FOR_REVIEW}),
    Status.MARKED_FOR_REVIEW: frozenset({Status.APPROVED, Status.DECLINED}),
}

#: The per-status timestamp attribute set when a session enters a status (the documented
#: session resource).
#: `created` has `created_at`; `pending` has none in the documented resource.
STATUS_TIMESTAMP: dict[Status, str] = {
    Status.STARTED: "started_at",
    Status.COMPLETED: "completed_at",
    Status.FAILED: "failed_at",
    Status.MARKED_FOR_REVIEW: "marked_for_review_at",
    Status.APPROVED: "decisioned_at",
    Status.DECLINED: "decisioned_at",
    Status.EXPIRED: "expired_at",
}
TIMESTAMP_ATTRIBUTES = (
    "created_at",
    "updated_at",
    "started_at",
    "expires_at",
    "completed_at",
    "failed_at",
    "marked_for_review_at",
    "decisioned_at",
    "expired_at",
    "redacted_at",
)

ENTITY_TYPES = ("person", "business")
ACCOUNT_STATUSES = ("active", "pending", "inactive", "suspended")  # the accounts guide
#: A new account's status (inferred): the guide's example says `pending`, the reference's
#: `active`.
NEW_ACCOUNT_STATUS = "active"
#: Session lifetime (inferred; Beltic's create takes no expiry).
DEFAULT_SESSION_TTL = timedelta(hours=24)

# -- documents and verifications (the documents and verifications guides) -------------------
DOCUMENT_TYPE_IDV = "document/idv"
VERIFICATION_TYPE_IDV = "verification/idv"
DOCUMENT_STATUSES = ("pending", "submitted", "processing", "processed", "failed")
VERIFICATION_STATUSES = ("initiated", "passed", "failed", "requires_retry", "canceled")
#: Document statuses the sandbox's implicit webhook config subscribes to (the documented
#: config's `subscribed_statuses`).
SUBSCRIBED_DOCUMENT_STATUSES = frozenset({"processed", "failed"})

# -- API keys (https://docs.beltic.com/guides/authentication) ------------------------------
#: "the key prefix determines which environment": the sandbox is Beltic's staging.
KEY_PREFIX = "sk_staging_"
SCOPE_SESSIONS_READ = "sessions:read"  # inferred names, `resource:action` like sessions:decide
SCOPE_SESSIONS_WRITE = "sessions:write"
SCOPE_SESSIONS_DECIDE = "sessions:decide"  # documented: required for approve / decline
SCOPE_ACCOUNTS_READ = "accounts:read"
SCOPE_ACCOUNTS_WRITE = "accounts:write"
SCOPE_DOCUMENTS_READ = "documents:read"
SCOPE_VERIFICATIONS_READ = "verifications:read"
ALL_SCOPES = frozenset(
    {
        SCOPE_SESSIONS_READ,
        SCOPE_SESSIONS_WRITE,
        SCOPE_SESSIONS_DECIDE,
        SCOPE_ACCOUNTS_READ,
        SCOPE_ACCOUNTS_WRITE,
        SCOPE_DOCUMENTS_READ,
        SCOPE_VERIFICATIONS_READ,
    }
)
NO_DECIDE_SCOPES = ALL_SCOPES - {SCOPE_SESSIONS_DECIDE}
READ_ONLY_SCOPES = frozenset(
    {SCOPE_SESSIONS_READ, SCOPE_ACCOUNTS_READ, SCOPE_DOCUMENTS_READ, SCOPE_VERIFICATIONS_READ}
)

# -- list pagination (the sessions list reference) -----------------------------------------
DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 100  # the verifications list allows 1-100 (inferred for sessions)

# -- sandbox control ------------------------------------------------------------------------
#: Control actions (same names for every vendor's sandbox) Beltic has a state for.
CONTROL_ACTIONS = (A.OPEN, A.SUBMIT, A.APPROVE, A.DECLINE, A.REVIEW, A.EXPIRE, A.FAIL)
#: The status each action aims at, and the statuses it is allowed from. `approve` and
#: `decline` are the vendor's checks passing / failing: both end in `completed` (the
#: integrator decides after), the failed checks are in the verification.
SIMULATE_RULES: dict[str, tuple[Status, frozenset[Status]]] = {
    "open": (Status.STARTED, frozenset({Status.CREATED})),
    "submit": (Status.PENDING, frozenset({Status.STARTED})),
    "approve": (Status.COMPLETED, frozenset({Status.PENDING})),
    "decline": (Status.COMPLETED, frozenset({Status.PENDING})),
    "review": (Status.MARKED_FOR_REVIEW, frozenset({Status.PENDING, Status.COMPLETED})),
    "expire": (Status.EXPIRED, PRE_COMPLETION),
    "fail": (Status.FAILED, frozenset({Status.PENDING})),
}

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with `Z`, seconds like the doc's examples (milliseconds when present)."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond >= 1000 else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def new_id(prefix: str, moment: datetime, sequence: int) -> str:
    """A prefixed ULID (`sess_01HQ...`, as the guides show). The random part starts with a
    per-store sequence number, so ids made in the same millisecond still sort by creation."""
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    entropy = ((sequence & 0xFFFFFFFF) << 48) | int.from_bytes(os.urandom(6), "big")
    number = (millis << 80) | entropy
    chars = [_CROCKFORD[(number >> shift) & 31] for shift in range(125, -1, -5)]
    return f"{prefix}_{''.join(chars)}"


@dataclass
class Record:
    """A record of the emulator's state file: written as a JSON object, read back from one."""

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(**data)


@dataclass
class Account(Record):
    id: str
    created_at: str
    updated_at: str
    entity_type: str
    external_id: str | None = None
    status: str = NEW_ACCOUNT_STATUS
    person: JSON | None = None
    business: JSON | None = None
    contact: JSON | None = None
    address: JSON | None = None
    identity_numbers: list[JSON] = field(default_factory=list)


@dataclass
class Session(Record):
    id: str
    account_id: str
    status: str
    entity_type: str
    creator_type: str
    creator_id: str
    created_at: str
    updated_at: str
    expires_at: str
    started_at: str | None = None
    completed_at: str | None = None
    failed_at: str | None = None
    marked_for_review_at: str | None = None
    decisioned_at: str | None = None
    expired_at: str | None = None
    redacted_at: str | None = None
    person: JSON | None = None
    business: JSON | None = None
    identity_numbers: JSON | None = None
    contact: JSON | None = None
    address: JSON | None = None
    behavior_analysis: JSON | None = None
    document_ids: list[str] = field(default_factory=list)
    verification_ids: list[str] = field(default_factory=list)

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        # A state file from an older sandbox may carry keys it no longer has (the hosted
        # page's `token`): they are dropped, the session is kept.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Document(Record):
    id: str
    session_id: str
    status: str
    document_type: str
    created_at: str
    submitted_at: str | None = None
    processed_at: str | None = None
    files: list[JSON] = field(default_factory=list)


@dataclass
class Verification(Record):
    id: str
    session_id: str
    document_id: str
    status: str
    created_at: str
    updated_at: str
    checks: list[JSON] = field(default_factory=list)
