"""Didit's own request/response shapes (docs/vendors/didit.md, Endpoints we call; Webhooks
and signature).

Requests are strict (we control them; `extra="forbid"` catches typos in the adapter).
Responses and webhooks are lenient: Didit adds fields over time and a feature block is null
until that feature has run, so unknown fields are kept and every block is optional.
"""

from __future__ import annotations

from typing import Any, Literal

from adapters.common.wire import LenientModel, RequestModel
from adapters.didit.inferred import FEATURE_BLOCKS


# -- create session --------------------------------------------------------------------------
class ContactDetails(RequestModel):
    email: str | None = None
    phone: str | None = None  # E.164
    send_notification_emails: bool | None = None
    email_lang: str | None = None


class ExpectedDetails(RequestModel):
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: str | None = None  # YYYY-MM-DD
    nationality: str | None = None  # ISO 3166-1 alpha-3
    id_country: str | None = None  # ISO 3166-1 alpha-3
    expected_document_types: list[str] | None = None  # P, ID, DL, RP, VISA, OTHER, ...


class CreateSessionBody(RequestModel):
    workflow_id: str
    vendor_data: str | None = None
    callback: str | None = None
    callback_method: Literal["initiator", "completer", "both"] | None = None
    metadata: dict[str, Any] | None = None
    language: str | None = None
    contact_details: ContactDetails | None = None
    expected_details: ExpectedDetails | None = None
    portrait_image: str | None = None  # base64
    vendor_business_id: str | None = None  # KYB only


class SessionListRow(LenientModel):
    """One `results` item of `GET /v3/sessions/` (docs/vendors/didit.md, Endpoints)."""

    session_id: str
    session_number: int | None = None
    status: str
    vendor_data: str | None = None
    created_at: str | None = None


class SessionList(LenientModel):
    """`GET /v3/sessions/`: limit/offset pages, `next` null on the last one."""

    count: int | None = None
    next: str | None = None
    previous: str | None = None
    results: list[SessionListRow]


class CreateSessionResponse(LenientModel):
    session_id: str
    status: str
    session_number: int | None = None
    session_token: str | None = None
    url: str | None = None
    vendor_data: str | None = None
    metadata: Any = None
    workflow_id: str | None = None
    workflow_version: int | None = None
    callback: str | None = None
    session_kind: str | None = None


# -- decision ------------------------------------------------------------------------------------
class VendorWarning(LenientModel):
    """Didit's warning object; `risk` is a stable machine code."""

    risk: str | None = None
    feature: str | None = None
    log_type: str | None = None  # "error" | "warning" | "information"
    short_description: str | None = None
    long_description: str | None = None
    additional_data: Any = None


class FeatureReport(LenientModel):
    """One item of a plural feature block; PII fields stay in `model_extra`."""

    node_id: str | None = None
    status: str | None = None
    warnings: list[VendorWarning] | None = None


class Review(LenientModel):
    """One `reviews` item of the decision: who set which status, when (ISO 8601)."""

    user: str | None = None  # "API Client" for API keys, else the console user
    new_status: str | None = None
    comment: str | None = None
    created_at: str | None = None


class DecisionBody(LenientModel):
    """The decision object, as GET /decision/ returns it and webhooks embed it."""

    session_id: str | None = None
    session_kind: str | None = None
    session_number: int | None = None
    session_url: str | None = None
    status: str | None = None
    environment: str | None = None
    workflow_id: str | None = None
    features: list[str] | None = None
    vendor_data: str | None = None
    metadata: Any = None
    callback: str | None = None
    created_at: Any = None
    id_verifications: list[FeatureReport] | None = None
    nfc_verifications: list[FeatureReport] | None = None
    liveness_checks: list[FeatureReport] | None = None
    face_matches: list[FeatureReport] | None = None
    poa_verifications: list[FeatureReport] | None = None
    phone_verifications: list[FeatureReport] | None = None
    email_verifications: list[FeatureReport] | None = None
    aml_screenings: list[FeatureReport] | None = None
    ip_analyses: list[FeatureReport] | None = None
    database_validations: list[FeatureReport] | None = None
    document_ai_documents: list[FeatureReport] | None = None
    questionnaire_responses: list[FeatureReport] | None = None
    reviews: list[Review] | None = None

    def feature_reports(self) -> list[tuple[str, FeatureReport]]:
        """(Didit feature name, report) for every item of every block that has run."""
        out: list[tuple[str, FeatureReport]] = []
        for block, feature in FEATURE_BLOCKS.items():
            for report in getattr(self, block) or ():
                out.append((feature, report))
        return out


class DecisionResponse(DecisionBody):
    session_id: str
    status: str


# -- update status ---------------------------------------------------------------------------------
class NodeToResubmit(RequestModel):
    node_id: str
    feature: str


class UpdateStatusBody(RequestModel):
    new_status: Literal["Approved", "Declined", "Resubmitted"]
    comment: str | None = None
    send_email: bool | None = None
    email_address: str | None = None
    email_language: str | None = None
    nodes_to_resubmit: list[NodeToResubmit] | None = None


class UpdateStatusResponse(LenientModel):
    session_id: str


# -- delete ----------------------------------------------------------------------------------------
class DeleteSessionResponse(LenientModel):
    session_id: str | None = None
    session_number: int | None = None
    face_retention_outcome: str | None = None
    deleted_child_verifications: int | None = None


# -- webhooks (v3) ---------------------------------------------------------------------------------
class ResubmitInfo(LenientModel):
    nodes_to_resubmit: list[Any] | None = None
    reasons: dict[str, Any] | None = None


class WebhookEnvelope(LenientModel):
    webhook_type: str
    event_id: str | None = None
    timestamp: int | None = None
    created_at: int | None = None
    application_id: str | None = None
    session_id: str | None = None
    status: str | None = None
    workflow_id: str | None = None
    workflow_version: int | None = None
    vendor_data: str | None = None
    metadata: Any = None
    decision: DecisionBody | None = None
    environment: str | None = None
    resubmit_info: ResubmitInfo | None = None
    session_kind: str | None = None
    business_session_id: str | None = None
    vendor_business_id: str | None = None
