"""Response and webhook bodies of the Verifa emulator, in the documented shapes.

Field lists follow Verifa's reference pages (create, retrieve/update, list, resume, expire,
reprocess, one-time link, result, redact, simulate, external decision, review cases), the two
documented webhook payload shapes and the error body (docs/vendors/verifa.md lists the pages).
Check results are mocked, like Verifa's own sandbox does ("simulated results").
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Any

from adapters.verifa.sandbox.model import (
    CAPTURE_STATUSES,
    DECISION_EVENTS,
    DEFAULT_REJECTION_REASON,
    ENVIRONMENT_ID,
    SANDBOX_DOCUMENT_TYPE,
    Event,
    ResultStatus,
    SandboxSession,
    iso,
)
from adapters.verifa.sandbox.outcomes import (
    AGE,
    CODE_CHECKS,
    DECLINE_RISK_SIGNAL,
    DEFAULT_REVIEW_SIGNAL,
    FACE_MATCH,
    LOW_RISK,
    RISK,
    Risk,
    check_results,
    failing_check,
)

JSON = dict[str, Any]

#: Who the sandbox "finds" on the document unless create pre-filled `fields`.
SANDBOX_PERSON: JSON = {
    "first_name": "Jane",
    "last_name": "Doe",
    "date_of_birth": "1997-06-15",
    "gender": "F",
    "document_number": "D1234567",
    "document_expiration_date": "2031-06-15",
    "document_issuing_state": "CA",
    "address": {
        "line1": "123 Main St",
        "line2": None,
        "city": "San Francisco",
        "state": "CA",
        "zip": "94105",
    },
}
#: Face match scores (0-1): a match, a match a reviewer looks at, a mismatch (the standard
#: level's threshold is 0.35).
_FACE_SCORES = {True: 0.95, None: 0.68, False: 0.31}
#: The risk assessment per outcome (fraud-prevention page, "Risk levels").
_RISKS = {
    ResultStatus.APPROVED: LOW_RISK,
    ResultStatus.REJECTED: Risk(18, "low"),
}


def error_body(status_code: int, error: str, detail: str, **extra: Any) -> JSON:
    """`{"error": code, "detail": text, "status_code": n}`."""
    return {"error": error, "detail": detail, "status_code": status_code, **extra}


# -- sessions --------------------------------------------------------------------------------


def session_body(session: SandboxSession, capture_url: str | None) -> JSON:
    """GET / PATCH session (the "Get a session" / "Update a session" response fields)."""
    showing = session.status_enum in CAPTURE_STATUSES and not session.redacted
    return {
        "id": session.id,
        "status": session.status,
        "is_sandbox": True,
        "environment": ENVIRONMENT_ID,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "external_ref": session.external_ref,
        "metadata": dict(session.metadata),
        "country": session.country,
        "checks": list(session.checks) if session.checks is not None else None,
        "workflow_id": session.workflow_id,
        "document_type": session.document_type,
        "retention_status": session.retention_status,
        "processing_attempts": session.processing_attempts,
        "consent_ip": session.consent_ip,
        "capture_url": capture_url if showing else None,
        "token_expires_at": session.token_expires_at,
        "case_id": session.case_id,
        "case_status": session.case_status,
        "tags": list(session.tags),
    }


def resume_body(session: SandboxSession, capture_url: str, qr_code: str) -> JSON:
    """POST /sessions/{id}/resume 200: a fresh capture link for the same session."""
    return {
        "id": session.id,
        "status": session.status,
        "capture_url": capture_url,
        "expires_at": session.token_expires_at,
        "qr_code_data_url": qr_code,
    }


def create_body(session: SandboxSession, capture_url: str, qr_code: str) -> JSON:
    """POST /sessions 201 (web-capture guide example; the reference adds external_ref, tags):
    the resume answer's link fields plus the session's own."""
    return {
        **resume_body(session, capture_url, qr_code),
        "is_sandbox": True,
        "created_at": session.created_at,
        "external_ref": session.external_ref,
        "tags": list(session.tags),
    }


def expire_body(session: SandboxSession) -> JSON:
    return {"id": session.id, "status": session.status, "expired_at": session.expired_at}


def reprocess_body(session: SandboxSession) -> JSON:
    return {"session_id": session.id, "status": session.status}


def link_body(
    session: SandboxSession, link_id: str, capture_url: str, created_at: str, qr_code: str
) -> JSON:
    """One-time link; `status` is the link's own (`active`) [INFERRED]."""
    return {
        "id": link_id,
        "session_id": session.id,
        "capture_url": capture_url,
        "status": "active",
        "expires_at": session.token_expires_at,
        "created_at": created_at,
        "qr_code_data_url": qr_code,
    }


def simulate_body(session: SandboxSession, action: str) -> JSON:
    """Simulate a session action: `{id, action, status, simulated}` ("The session's new status
    after simulation")."""
    return {"id": session.id, "action": action, "status": session.status, "simulated": True}


def external_decision_body(session: SandboxSession, decision: str) -> JSON:
    """Submit external gate decision: `{session_id, decision, status, message}`."""
    return {
        "session_id": session.id,
        "decision": decision,
        "status": session.status,
        "message": "Decision accepted. The workflow will resume shortly.",
    }


def case_body(session: SandboxSession) -> JSON:
    """A review case (claim / approve / reject answers): `{id, session_id, status, created_at,
    decision, assigned_to, claimed_at, entered_review_at, decided_at}`."""
    final = session.case_status in ("approved", "rejected")
    return {
        "id": session.case_id,
        "session_id": session.id,
        "status": session.case_status,
        "created_at": session.case_created_at,
        "decision": session.case_status if final else None,
        "assigned_to": session.case_assigned_to,
        "claimed_at": session.case_claimed_at,
        "entered_review_at": session.case_created_at,
        "decided_at": session.case_decided_at,
    }


def redact_body(session: SandboxSession, documents_removed: int, first_time: bool) -> JSON:
    message = (
        "Session PII and document images were permanently deleted."
        if first_time
        else "Session data was already redacted."
    )
    return {
        "status": "redacted",
        "session_id": session.id,
        "documents_removed": documents_removed,
        "message": message,
    }


# -- results ----------------------------------------------------------------------------------


def build_result(
    session: SandboxSession, outcome: ResultStatus, now: datetime, reason: str | None
) -> JSON:
    """The stored result of one run of the checks (what GET …/result shows). `reason` is
    Verifa's rejection code of a decline, or the fraud signal of a review."""
    person = {**SANDBOX_PERSON, **_prefill(session.fields)}
    born = _birth_date(person["date_of_birth"])
    age = _age(born, now.date()) if born else None
    rejected = outcome == ResultStatus.REJECTED
    code = (reason or DEFAULT_REJECTION_REASON) if rejected else None
    failing = failing_check(code)
    face_passed = failing != FACE_MATCH
    in_review = outcome == ResultStatus.NEEDS_REVIEW
    face_score = _FACE_SCORES[None if in_review else face_passed]
    return {
        "status": outcome.value,
        "decided_at": iso(now),
        "face_match_passed": face_passed,
        "face_match_score": face_score,
        "age_check_passed": age is not None and age >= 18 and failing != AGE,
        "extracted_age": age,
        "extracted_data": {
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "date_of_birth": person["date_of_birth"],
            "address": dict(person["address"]),
            "document_number": person["document_number"],
            "nationality": session.country or "US",
            "gender": person["gender"],
            "ssn": None,  # not captured by the sandbox workflow
            "document_type": SANDBOX_DOCUMENT_TYPE,
            "document_expiration_date": person["document_expiration_date"],
            "document_issuing_state": person["document_issuing_state"],
        },
        "check_results": check_results(
            failing=failing,
            face_passed=face_passed,
            face_score=face_score,
            risk=_risk(outcome, failing, reason),
        ),
        "rejection_reason": code,
        # The structured code: only Verifa's own codes (a reviewer's free text is not one).
        "rejection_reason_code": code if code in CODE_CHECKS else None,
        "processing_mode": "sandbox",
        "country_used": session.country or "US",
        "sensitive_data_expired": False,
    }


def _risk(outcome: ResultStatus, failing: str | None, reason: str | None) -> Risk:
    if outcome == ResultStatus.NEEDS_REVIEW:
        return Risk(64, "high", (reason or DEFAULT_REVIEW_SIGNAL,))
    if failing == RISK:
        return Risk(91, "critical", (DECLINE_RISK_SIGNAL,))
    return _RISKS[outcome]


def result_body(session: SandboxSession) -> JSON:
    """GET /sessions/{id}/result ("Get session result")."""
    result = session.result or {}
    return {
        "session_id": session.id,
        "status": result["status"],
        "is_sandbox": True,
        "created_at": session.created_at,
        "face_match_passed": result["face_match_passed"],
        "face_match_score": result["face_match_score"],
        "age_check_passed": result["age_check_passed"],
        "extracted_age": result["extracted_age"],
        "extracted_data": dict(result["extracted_data"]),
        "check_results": dict(result.get("check_results") or {}),
        "rejection_reason": result["rejection_reason"],
        "rejection_reason_code": result.get("rejection_reason_code"),
        "processing_mode": result["processing_mode"],
        "country_used": result["country_used"],
        "sensitive_data_expired": result["sensitive_data_expired"],
    }


def redact_result(result: JSON) -> JSON:
    """What is left of a result after redaction: the decision, not the person."""
    return {
        **result,
        "extracted_age": None,
        "extracted_data": {},
        "sensitive_data_expired": True,
    }


def _prefill(fields: JSON | None) -> JSON:
    """`fields` pre-fills applicant data: the sandbox "reads" it."""
    if not fields:
        return {}
    keys = ("first_name", "last_name", "date_of_birth", "gender", "document_number")
    picked = {k: fields[k] for k in keys if isinstance(fields.get(k), str) and fields[k]}
    if isinstance(fields.get("address"), dict):
        picked["address"] = {**SANDBOX_PERSON["address"], **fields["address"]}
    return picked


def _birth_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# -- webhooks ---------------------------------------------------------------------------------


def identity_id(external_ref: str) -> str:
    """Verifa links sessions with the same `external_ref` to one identity."""
    return "identity_" + hashlib.sha256(external_ref.encode("utf-8")).hexdigest()[:16]


def event_status(event: Event, session: SandboxSession) -> str:
    """The `status` a webhook carries: the decision for decision events, else the session's."""
    if event in (Event.APPROVED, Event.DECLINED, Event.REQUIRES_REVIEW) and session.result:
        return DECISION_EVENTS[ResultStatus(session.result["status"])][1]
    return session.status


def webhook_payload(
    event: Event,
    session: SandboxSession,
    *,
    shape: str,
    idempotency_key: str,
    created_at: str,
    minimal: bool,
) -> JSON:
    """One event in one of the two documented shapes.

    nested (API-details page): `{event, data: {session_id, external_ref, status, is_sandbox,
    created_at}, created_at}`. flat (tutorial, official demo): `{event, idempotency_key,
    session_id, external_ref, status, is_sandbox, identity_id?, result?}` — `identity_id` and
    `result` only on full decision payloads ("auto-retry completions and case API approvals
    send a minimal payload"); the event time `created_at` is appended [INFERRED: the
    tutorial's example is cut].
    """
    status = event_status(event, session)
    declined = event == Event.DECLINED and session.result is not None
    reason = session.result.get("rejection_reason") if declined and session.result else None
    if shape == "nested":
        data: JSON = {
            "session_id": session.id,
            "external_ref": session.external_ref,
            "status": status,
            "is_sandbox": True,
            "created_at": session.created_at,
        }
        if reason:
            data["rejection_reason"] = reason
        return {"event": event.value, "data": data, "created_at": created_at}
    body: JSON = {
        "event": event.value,
        "idempotency_key": idempotency_key,
        "session_id": session.id,
        "external_ref": session.external_ref,
        "status": status,
        "is_sandbox": True,
    }
    decision = event in (Event.APPROVED, Event.DECLINED, Event.REQUIRES_REVIEW)
    if decision and not minimal and session.result is not None:
        if session.external_ref:
            body["identity_id"] = identity_id(session.external_ref)
        body["result"] = _webhook_result(session.result)
    if reason:
        body["rejection_reason"] = reason
    body["created_at"] = created_at
    return body


def _webhook_result(result: JSON) -> JSON:
    extracted = result.get("extracted_data") or {}
    keys = ("first_name", "last_name", "date_of_birth", "document_type")
    return {
        "face_match_passed": result["face_match_passed"],
        "face_match_score": result["face_match_score"],
        "age_check_passed": result["age_check_passed"],
        "extracted_data": {k: extracted[k] for k in keys if k in extracted},
        # A documented result field (verifications-checks page): what each check found.
        "check_results": dict(result.get("check_results") or {}),
    }


# -- key inflection -------------------------------------------------------------------------

INFLECTIONS = ("snake", "camel", "kebab")
#: Objects whose keys are the integrator's own data, never re-cased.
_OPAQUE_KEYS = frozenset({"metadata", "fields"})
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def inflect(value: Any, style: str) -> Any:
    """Re-case the keys of a response body (`Key-Inflection`)."""
    if style == "snake":
        return value
    if isinstance(value, list):
        return [inflect(item, style) for item in value]
    if isinstance(value, dict):
        return {
            _recase(key, style): item if key in _OPAQUE_KEYS else inflect(item, style)
            for key, item in value.items()
        }
    return value


def _recase(key: str, style: str) -> str:
    head, *rest = key.split("_")
    if style == "camel":
        return head + "".join(part[:1].upper() + part[1:] for part in rest)
    return "-".join([head, *rest])


def to_snake(key: str) -> str:
    """camelCase / kebab-case → snake_case (create accepts all three)."""
    return _CAMEL_HUMP.sub(r"_\1", key).replace("-", "_").lower()
