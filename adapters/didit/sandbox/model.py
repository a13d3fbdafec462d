"""Didit's vocabulary and the session record of the sandbox emulator.

Written from Didit's pages (docs/vendors/didit.md), independently of the adapter,
so that the emulator cannot drift into agreeing with a wrong adapter.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from adapters.common.sandbox.control import SimulateAction as A
from adapters.common.sandbox.times import iso as iso  # Didit's format

#: The one workflow the sandbox application has (a KYC workflow).
SANDBOX_WORKFLOW_ID = "5f0c6a52-7d3e-4c1b-9a8e-2b6d1f4e9c07"
SANDBOX_WORKFLOW_VERSION = 1
#: The Didit "application" this sandbox pretends to be (webhook `application_id`).
SANDBOX_APPLICATION_ID = "0b9d7c1e-3a4f-4e62-8d15-6c2f7a9b8e31"
ENVIRONMENT = "sandbox"
FIRST_SESSION_NUMBER = 1001


class Status(enum.StrEnum):
    """Didit session statuses, exact case-sensitive strings (docs/vendors/didit.md, Status
    vocabulary and our mapping)."""

    NOT_STARTED = "Not Started"
    IN_PROGRESS = "In Progress"
    APPROVED = "Approved"
    DECLINED = "Declined"
    IN_REVIEW = "In Review"
    AWAITING_USER = "Awaiting User"
    RESUBMITTED = "Resubmitted"
    EXPIRED = "Expired"
    ABANDONED = "Abandoned"
    KYC_EXPIRED = "Kyc Expired"


#: What the flow itself (user, checks, time) may do (docs/vendors/didit.md, Status vocabulary
#: and our mapping). API overrides go through update-status, which has its own rules
#: (UPDATE_STATUS_FROM); a control action out of In Review plays a console reviewer.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NOT_STARTED: frozenset({Status.IN_PROGRESS, Status.EXPIRED}),
    Status.IN_PROGRESS: frozenset(
        {Status.APPROVED, Status.DECLINED, Status.IN_REVIEW, Status.ABANDONED}
    ),
    Status.IN_REVIEW: frozenset({Status.APPROVED, Status.DECLINED, Status.RESUBMITTED}),
    Status.APPROVED: frozenset({Status.KYC_EXPIRED}),
    Status.RESUBMITTED: frozenset({Status.IN_PROGRESS}),
}

#: update-status: the current status must be one of these (docs/vendors/didit.md,
#: Endpoints we call).
UPDATE_STATUS_FROM = frozenset(
    {
        Status.APPROVED,
        Status.DECLINED,
        Status.IN_REVIEW,
        Status.KYC_EXPIRED,
        Status.ABANDONED,
        Status.RESUBMITTED,
    }
)
UPDATE_STATUS_TO = (Status.APPROVED, Status.DECLINED, Status.RESUBMITTED)

#: Statuses whose webhook carries a `decision` object (docs/vendors/didit.md, Webhooks and
#: signature).
DECISION_STATUSES = frozenset(
    {Status.APPROVED, Status.DECLINED, Status.IN_REVIEW, Status.ABANDONED}
)
#: Statuses after which the hosted flow redirects the browser to `callback` (create-session).
CALLBACK_STATUSES = frozenset({Status.APPROVED, Status.DECLINED, Status.IN_REVIEW})
#: "Unfinished" for create-session idempotency, as create-session lists them.
UNFINISHED_STATUSES = frozenset(
    {Status.NOT_STARTED, Status.IN_PROGRESS, Status.RESUBMITTED, Status.AWAITING_USER}
)
#: The decision's `reviews` `user` for a review made with the API key (create-review page);
#: a console user shows as their e-mail or display name, the sandbox's reviewer as this one.
API_REVIEW_USER = "API Client"
CONSOLE_REVIEWER = "reviewer@example.com"

#: generate-pdf: KYC sessions in these statuses get a report, any other status 403
#: (https://docs.didit.me/sessions-api/generate-pdf, "Eligible statuses").
REPORT_STATUSES = frozenset(
    {Status.APPROVED, Status.DECLINED, Status.IN_REVIEW, Status.KYC_EXPIRED}
)

#: Sandbox control actions (same names for every vendor) → the Didit status they reach.
#: `expire` is special: Not Started → Expired, Approved → Kyc Expired.
CONTROL_ACTIONS: dict[A, Status] = {
    A.OPEN: Status.IN_PROGRESS,
    A.APPROVE: Status.APPROVED,
    A.DECLINE: Status.DECLINED,
    A.REVIEW: Status.IN_REVIEW,
    A.ABANDON: Status.ABANDONED,
    A.EXPIRE: Status.EXPIRED,
}
#: Control actions other vendors have and Didit does not.
UNSUPPORTED_ACTIONS = frozenset({A.SUBMIT, A.FAIL})


def simulate_target(action: str, current: Status) -> Status:
    """The status a control action aims at from `current` (expire depends on where it is)."""
    if action == "expire" and current == Status.APPROVED:
        return Status.KYC_EXPIRED
    return CONTROL_ACTIONS[A(action)]


#: `language` enum of create-session (docs/vendors/didit.md, Input support).
LANGUAGES = frozenset(
    "en ar bg bn bs ca cnr cs da de el es et fa fi fr he hi hr hu hy id it ja ka kk ko ky lt lv "
    "mk mn ms nl no pl pt-BR pt ro ru sk sl so sq sr sv th tr uk uz vi zh-CN zh-TW zh".split()
)
CALLBACK_METHODS = frozenset({"initiator", "completer", "both"})
DOCUMENT_TYPES = frozenset("P DL ID RP SSC HIC WP TC VISA PSC BC OTHER".split())

#: The sandbox workflow's feature nodes: (feature, node_id, decision block key). Node ids
#: follow Didit's `feature_<feature>_<n>` naming (the update-status example `feature_poa_1`).
WORKFLOW_NODES: tuple[tuple[str, str, str], ...] = (
    ("ID_VERIFICATION", "feature_id_verification_1", "id_verifications"),
    ("LIVENESS", "feature_liveness_1", "liveness_checks"),
    ("FACE_MATCH", "feature_face_match_1", "face_matches"),
    ("AML", "feature_aml_1", "aml_screenings"),
    ("IP_ANALYSIS", "feature_ip_analysis_1", "ip_analyses"),
)
WORKFLOW_FEATURES = [feature for feature, _, _ in WORKFLOW_NODES]
NODE_FEATURES = {node_id: feature for feature, node_id, _ in WORKFLOW_NODES}
#: Features Didit re-runs by itself on resubmission, without the user (update-status).
BACKEND_FEATURES = frozenset({"AML", "DATABASE_VALIDATION", "IP_ANALYSIS"})
#: A backend-only resubmission repeated within this window answers 429 (update-status).
BACKEND_RESUBMIT_WINDOW_S = 30

#: Every plural feature block of a v3 decision; null until that feature has run.
FEATURE_BLOCKS = (
    "id_verifications",
    "nfc_verifications",
    "liveness_checks",
    "face_matches",
    "poa_verifications",
    "document_ai_documents",
    "phone_verifications",
    "email_verifications",
    "aml_screenings",
    "ip_analyses",
    "database_validations",
    "questionnaire_responses",
)


@dataclass
class SandboxSession:
    """One emulated session, as the sandbox stores and persists it."""

    session_id: str
    session_number: int
    session_token: str
    status: str
    created_at: str
    updated_at: str
    workflow_id: str = SANDBOX_WORKFLOW_ID
    workflow_version: int = SANDBOX_WORKFLOW_VERSION
    vendor_data: str | None = None
    metadata: Any = None
    callback: str | None = None
    callback_method: str = "initiator"
    language: str | None = None
    contact_details: dict[str, Any] | None = None
    expected_details: dict[str, Any] | None = None
    #: feature block key → items, filled once the flow reached an outcome
    features: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    #: every status.updated body sent, without its per-attempt fields (for redelivery)
    events: list[dict[str, Any]] = field(default_factory=list)
    resubmit_info: dict[str, Any] | None = None
    #: when update-status last re-ran backend features only (for the 30 s rule)
    backend_resubmit_at: str | None = None

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxSession:
        return cls(**data)
