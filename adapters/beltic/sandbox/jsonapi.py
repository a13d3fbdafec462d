"""JSON:API documents of the Beltic emulator: resource objects, envelopes and error documents.

Resource shapes follow Beltic's references (session, list envelope, accounts, documents and
verifications; docs/vendors/beltic.md, Sources). Beltic publishes no error format; the
sandbox answers JSON:API error documents (docs/vendors/beltic.md, Errors):
`{"errors": [{"status", "code", "title", "detail", "source": {"pointer" | "parameter"}}]}`.
A session has no hosted-flow URL: Beltic's session resource has none.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from adapters.beltic.sandbox.model import (
    DOCUMENT_TYPE_IDV,
    VERIFICATION_TYPE_IDV,
    Account,
    Document,
    Record,
    Session,
    Verification,
)
from adapters.common.sandbox.http import SandboxError

JSON = dict[str, Any]
R = TypeVar("R")

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


def api_error(status: int, code: str, detail: str, **source: str | None) -> ApiError:
    """A refusal with one error object; `source` is `error_object`'s `pointer` / `parameter`."""
    return ApiError(status, [error_object(status, code, detail, **source)])


def found(rows: Mapping[str, R], ident: str, noun: str) -> R:
    """The record `ident` of `rows`, or the 404 of an unknown `noun` id."""
    row = rows.get(ident)
    if row is None:
        raise api_error(404, "not_found", f"No {noun} with this id.")
    return row


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


def resource_object(kind: str, ident: str, attributes: JSON, **related: Any) -> JSON:
    """A resource object; each of `related` is one relationship's `data` (none: no
    `relationships` member)."""
    item: JSON = {"id": ident, "type": kind, "attributes": attributes}
    if related:
        item["relationships"] = {name: {"data": data} for name, data in related.items()}
    return item


def shown(record: Record, *names: str) -> JSON:
    """Attributes that show the record's fields `names` as stored (copies)."""
    return {name: copy.deepcopy(getattr(record, name)) for name in names}


# -- resources ---------------------------------------------------------------------------


def session_resource(session: Session) -> JSON:
    business = fill(BUSINESS, session.business)
    business["shareholders"] = [fill(SHAREHOLDER, s) for s in business["shareholders"] or []]
    attributes: JSON = {
        **shown(session, "status", "creator_type", "entity_type", "creator_id"),
        "person": fill(PERSON, session.person),
        "business": business,
        # null until set (one embedded record, not a struct of optional fields; inferred)
        "identity_numbers": (
            fill(IDENTITY_NUMBER, session.identity_numbers) if session.identity_numbers else None
        ),
        "contact": fill(CONTACT, session.contact),
        "address": fill(ADDRESS, session.address),
        "behavior_analysis": fill(BEHAVIOR_ANALYSIS, session.behavior_analysis),
        **shown(session, "created_at", "updated_at", "started_at", "expires_at"),
        **shown(session, "completed_at", "failed_at", "marked_for_review_at", "decisioned_at"),
        **shown(session, "expired_at", "redacted_at"),
    }
    return resource_object(
        "session",
        session.id,
        attributes,
        account=identifier("account", session.account_id),
        business=None,
        # The sessions guide's relationship list: Documents, Verifications.
        documents=[identifier(DOCUMENT_TYPE_IDV, d) for d in session.document_ids],
        verifications=[identifier(VERIFICATION_TYPE_IDV, v) for v in session.verification_ids],
    )


def account_resource(account: Account) -> JSON:
    attributes: JSON = {
        **shown(account, "external_id", "entity_type", "status"),
        "person": fill(PERSON, account.person),
        "business": fill(BUSINESS, account.business),
        "contact": fill(CONTACT, account.contact),
        "address": fill(ADDRESS, account.address),
        "identity_numbers": [fill(IDENTITY_NUMBER, n) for n in account.identity_numbers],
        **shown(account, "created_at", "updated_at"),
    }
    return resource_object("account", account.id, attributes)


def document_resource(document: Document) -> JSON:
    attributes: JSON = {
        **shown(document, "status", "document_type", "files"),
        **dict.fromkeys(("front_side", "back_side", "portrait", "signature")),
        **shown(document, "created_at", "submitted_at", "processed_at"),
    }
    session = identifier("session", document.session_id)
    return resource_object(DOCUMENT_TYPE_IDV, document.id, attributes, session=session)


def verification_resource(verification: Verification) -> JSON:
    return resource_object(
        VERIFICATION_TYPE_IDV,
        verification.id,
        shown(verification, "status", "checks", "created_at", "updated_at"),
        document=identifier(DOCUMENT_TYPE_IDV, verification.document_id),
        session=identifier("session", verification.session_id),
    )


def single(resource: JSON, self_url: str) -> JSON:
    return {"data": resource, "links": {"self": self_url}}
