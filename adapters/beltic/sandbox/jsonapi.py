"""JSON:API documents of the Beltic emulator: resource objects, envelopes and error documents.

Resource shapes follow Beltic's references (session, list envelope, accounts, documents and
verifications; docs/vendors/beltic.md, Sources). Beltic publishes no error format; the
sandbox answers JSON:API error documents (docs/vendors/beltic.md, Errors):
`{"errors": [{"status", "code", "title", "detail", "source": {"pointer" | "parameter"}}]}`.
A session has no hosted-flow URL: Beltic's session resource has none.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from adapters.beltic.sandbox.model import (
    DOCUMENT_TYPE_IDV,
    VERIFICATION_TYPE_IDV,
    Account,
    Document,
    Session,
    Verification,
)
from adapters.common.sandbox.http import SandboxError

JSON = dict[str, Any]

PERSON: JSON = {"name": {"first": None, "middle": None, "last": None}, "birth_date": None}
BUSINESS: JSON = {"legal_name": None, "registration_date": None, "shareholders": []}
SHAREHOLDER: JSON = {
    "name": None,
    "shareholder_type": None,
    "date_of_birth": None,
    "id_type": None,
    "id_number": None,
    "number_of_share": None,
    "percentage_of_share": None,
}
IDENTITY_NUMBER: JSON = {
    "number": None,
    "issuing_country_code": None,
    "class": None,
    "created_at": None,
    "updated_at": None,
}
CONTACT: JSON = {"email": None, "phone": None}
ADDRESS: JSON = {
    "line1": None,
    "line2": None,
    "sublocality": None,
    "locality": None,
    "administrative_area": None,
    "postal_code": None,
    "country_code": None,
}
#: Before the person has done anything, every measure is zero (inferred values).
BEHAVIOR_ANALYSIS: JSON = {
    "completion_time_seconds": 0,
    "autofill_cancels": 0,
    "autofill_starts": 0,
    "bot_score": 0,
    "threat_level": "low",
    "shortcut_copies": 0,
    "shortcut_pastes": 0,
    "distraction_events": 0,
    "devtools_open": False,
    "debugger_attached": False,
    "request_spoof_attempts": 0,
    "user_agent_spoof_attempts": 0,
    "hesitation_baseline": 0,
    "hesitation_count": 0,
    "hesitation_percentage": 0,
    "hesitation_time": 0,
}


class ApiError(SandboxError):
    """A refusal the HTTP layer turns into a JSON:API error document."""

    def __init__(self, status: int, errors: list[JSON]) -> None:
        super().__init__(status, {"errors": errors})
        self.status = status
        self.errors = errors


def error_object(
    status: int,
    code: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> JSON:
    item: JSON = {
        "status": str(status),
        "code": code,
        "title": HTTPStatus(status).phrase,
        "detail": detail,
    }
    if pointer is not None:
        item["source"] = {"pointer": pointer}
    elif parameter is not None:
        item["source"] = {"parameter": parameter}
    return item


def api_error(
    status: int,
    code: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> ApiError:
    return ApiError(
        status, [error_object(status, code, detail, pointer=pointer, parameter=parameter)]
    )


def fill(skeleton: Any, value: Any) -> Any:
    """`value` laid over `skeleton`: every documented key present, missing ones null."""
    if value is None:
        return copy.deepcopy(skeleton)
    if isinstance(skeleton, dict) and isinstance(value, dict):
        out = {key: fill(default, value.get(key)) for key, default in skeleton.items()}
        return out
    return copy.deepcopy(value)


def identifier(kind: str, ident: str) -> JSON:
    return {"type": kind, "id": ident}


# -- resources ---------------------------------------------------------------------------


def session_resource(session: Session) -> JSON:
    business = fill(BUSINESS, session.business)
    business["shareholders"] = [fill(SHAREHOLDER, s) for s in business["shareholders"] or []]
    attributes: JSON = {
        "status": session.status,
        "creator_type": session.creator_type,
        "entity_type": session.entity_type,
        "creator_id": session.creator_id,
        "person": fill(PERSON, session.person),
        "business": business,
        # null until set (one embedded record, not a struct of optional fields; inferred)
        "identity_numbers": (
            fill(IDENTITY_NUMBER, session.identity_numbers) if session.identity_numbers else None
        ),
        "contact": fill(CONTACT, session.contact),
        "address": fill(ADDRESS, session.address),
        "behavior_analysis": fill(BEHAVIOR_ANALYSIS, session.behavior_analysis),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "started_at": session.started_at,
        "expires_at": session.expires_at,
        "completed_at": session.completed_at,
        "failed_at": session.failed_at,
        "marked_for_review_at": session.marked_for_review_at,
        "decisioned_at": session.decisioned_at,
        "expired_at": session.expired_at,
        "redacted_at": session.redacted_at,
    }
    return {
        "id": session.id,
        "type": "session",
        "attributes": attributes,
        "relationships": {
            "account": {"data": identifier("account", session.account_id)},
            "business": {"data": None},
            # The sessions guide's relationship list: Documents, Verifications.
            "documents": {"data": [identifier(DOCUMENT_TYPE_IDV, d) for d in session.document_ids]},
            "verifications": {
                "data": [identifier(VERIFICATION_TYPE_IDV, v) for v in session.verification_ids]
            },
        },
    }


def account_resource(account: Account) -> JSON:
    return {
        "id": account.id,
        "type": "account",
        "attributes": {
            "external_id": account.external_id,
            "entity_type": account.entity_type,
            "status": account.status,
            "person": fill(PERSON, account.person),
            "business": fill(BUSINESS, account.business),
            "contact": fill(CONTACT, account.contact),
            "address": fill(ADDRESS, account.address),
            "identity_numbers": [fill(IDENTITY_NUMBER, n) for n in account.identity_numbers],
            "created_at": account.created_at,
            "updated_at": account.updated_at,
        },
    }


def document_resource(document: Document) -> JSON:
    return {
        "id": document.id,
        "type": DOCUMENT_TYPE_IDV,
        "attributes": {
            "status": document.status,
            "document_type": document.document_type,
            "files": copy.deepcopy(document.files),
            "front_side": None,
            "back_side": None,
            "portrait": None,
            "signature": None,
            "created_at": document.created_at,
            "submitted_at": document.submitted_at,
            "processed_at": document.processed_at,
        },
        "relationships": {"session": {"data": identifier("session", document.session_id)}},
    }


def verification_resource(verification: Verification) -> JSON:
    return {
        "id": verification.id,
        "type": VERIFICATION_TYPE_IDV,
        "attributes": {
            "status": verification.status,
            "checks": copy.deepcopy(verification.checks),
            "created_at": verification.created_at,
            "updated_at": verification.updated_at,
        },
        "relationships": {
            "document": {"data": identifier(DOCUMENT_TYPE_IDV, verification.document_id)},
            "session": {"data": identifier("session", verification.session_id)},
        },
    }


def single(resource: JSON, self_url: str) -> JSON:
    return {"data": resource, "links": {"self": self_url}}
