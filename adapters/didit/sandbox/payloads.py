"""Response and webhook bodies of the Didit emulator, in the documented v3 shapes.

Field lists follow Didit's pages for create, retrieve (decision), list and delete, and the v3
webhook envelope (docs/vendors/didit.md). Feature results are mocked, like Didit's own sandbox does.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from adapters.didit.sandbox.model import (
    DECISION_STATUSES,
    ENVIRONMENT,
    FEATURE_BLOCKS,
    SANDBOX_APPLICATION_ID,
    WORKFLOW_FEATURES,
    SandboxSession,
    Status,
)
from adapters.didit.sandbox.reasons import Finding

JSON = dict[str, Any]


def create_response(session: SandboxSession, url: str) -> JSON:
    return {
        "session_id": session.session_id,
        "session_number": session.session_number,
        "session_token": session.session_token,
        "url": url,
        "vendor_data": session.vendor_data,
        "metadata": session.metadata,
        "status": session.status,
        "workflow_id": session.workflow_id,
        "workflow_version": session.workflow_version,
        "callback": session.callback,
        "session_kind": "user",
    }


def decision_body(session: SandboxSession, url: str) -> JSON:
    body: JSON = {
        "session_id": session.session_id,
        "session_kind": "user",
        "session_number": session.session_number,
        "session_url": url,
        "status": session.status,
        "environment": ENVIRONMENT,
        "workflow_id": session.workflow_id,
        "features": list(WORKFLOW_FEATURES),
        "vendor_data": session.vendor_data,
        "metadata": session.metadata,
        "expected_details": session.expected_details,
        "contact_details": session.contact_details,
        "callback": session.callback,
        "created_at": session.created_at,
    }
    for block in FEATURE_BLOCKS:
        body[block] = session.features.get(block)
    body["reviews"] = list(session.reviews)
    return body


def list_row(session: SandboxSession) -> JSON:
    return {
        "session_id": session.session_id,
        "session_number": session.session_number,
        "status": session.status,
        "vendor_data": session.vendor_data,
        "created_at": session.created_at,
    }


def delete_response(session: SandboxSession) -> JSON:
    return {
        "session_id": session.session_id,
        "session_number": session.session_number,
        "face_retention_outcome": "deleted",
        "biometric_template_uuid": None,
        "biometric_template_expires_at": None,
        "deleted_child_verifications": 0,
    }


def webhook_envelope(session: SandboxSession, decision: JSON, created_at: int) -> JSON:
    """A v3 `status.updated` body without the per-attempt fields (event_id, timestamp)."""
    body: JSON = {
        "webhook_type": "status.updated",
        "created_at": created_at,
        "application_id": SANDBOX_APPLICATION_ID,
        "environment": ENVIRONMENT,
        "session_id": session.session_id,
        "status": session.status,
        "workflow_id": session.workflow_id,
        "workflow_version": session.workflow_version,
        "vendor_data": session.vendor_data,
        "metadata": session.metadata,
    }
    if session.status_enum in DECISION_STATUSES:
        body["decision"] = decision
    elif session.status_enum == Status.RESUBMITTED and session.resubmit_info is not None:
        body["resubmit_info"] = session.resubmit_info
    return body


# -- mocked feature results --------------------------------------------------------------

#: A finding's `log_type` by outcome: error declines its feature, warning sends it to review
#: (docs/vendors/didit.md, Results: Risk codes).
_LOG_TYPES = {Status.DECLINED: "error", Status.IN_REVIEW: "warning"}
#: Scores of a feature that carries the finding, by outcome (face match: under the default
#: decline threshold 50 / review threshold 70), and of one that passed.
_LOW_SCORES = {Status.DECLINED: 21.4, Status.IN_REVIEW: 63.0}
_PASSING_SCORE = {"face_matches": 96.2, "liveness_checks": 97.5}


def feature_results(
    session: SandboxSession, outcome: Status, now: datetime, finding: Finding | None = None
) -> dict[str, list]:
    """Plausible ID, liveness, face-match, AML and IP items for an outcome of the hosted flow.

    Every feature passes except the one `finding` names, which carries the outcome and its
    warning, like Didit's `decline_face_match_low_similarity` / `review_face_match_borderline`
    sandbox scenarios (the face match is the default finding).
    """
    items = _passing_items(session, now)
    if finding is not None and outcome in _LOG_TYPES:
        (item,) = items[finding.block]
        item["status"] = outcome.value
        item["warnings"] = [_warning(finding, _LOG_TYPES[outcome])]
        if "score" in item:
            item["score"] = _LOW_SCORES[outcome]
        _consistent(items, finding, now)
    return items


def _passing_items(session: SandboxSession, now: datetime) -> dict[str, list]:
    expected = session.expected_details or {}
    first = str(expected.get("first_name") or "Alex")
    last = str(expected.get("last_name") or "Sandbox")
    born = _birth_date(expected.get("date_of_birth"))
    nationality = str(expected.get("nationality") or "ESP")
    issuing = str(expected.get("id_country") or nationality)
    approved = Status.APPROVED.value
    id_item = {
        "node_id": "feature_id_verification_1",
        "status": approved,
        "document_type": "Identity Card",
        "document_number": f"SBX{session.session_number:06d}",
        "personal_number": f"P{session.session_number:08d}",
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}",
        "date_of_birth": born.isoformat(),
        "age": _age(born, now.date()),
        "gender": "U",
        "nationality": nationality,
        "issuing_state": issuing,
        "expiration_date": date(now.year + 5, 1, 31).isoformat(),
        "date_of_issue": date(now.year - 5, 2, 1).isoformat(),
        "address": None,
        "parsed_address": None,
        "place_of_birth": None,
        "front_image_quality_score": 92.0,
        "back_image_quality_score": 90.0,
        "warnings": [],
    }
    liveness = {
        "node_id": "feature_liveness_1",
        "status": approved,
        "method": "passive",
        "score": _PASSING_SCORE["liveness_checks"],
        "reference_image": None,
        "video_url": None,
        "face_quality": 88.0,
        "face_luminance": 55.0,
        "warnings": [],
    }
    face = {
        "node_id": "feature_face_match_1",
        "status": approved,
        "score": _PASSING_SCORE["face_matches"],
        "source_image": None,
        "target_image": None,
        "warnings": [],
    }
    aml = {
        "node_id": "feature_aml_1",
        "status": approved,
        "total_hits": 0,
        "hits": [],
        "entity_type": "person",
        "warnings": [],
    }
    ip_analysis = {"node_id": "feature_ip_analysis_1", "status": approved, "warnings": []}
    return {
        "id_verifications": [id_item],
        "liveness_checks": [liveness],
        "face_matches": [face],
        "aml_screenings": [aml],
        "ip_analyses": [ip_analysis],
    }


def _warning(finding: Finding, log_type: str) -> JSON:
    """Didit's warning object (data-models: Warning object)."""
    return {
        "risk": finding.risk,
        "feature": finding.feature,
        "additional_data": None,
        "log_type": log_type,
        "short_description": finding.short_description,
        "long_description": f"{finding.short_description} (sandbox).",
    }


def _consistent(items: dict[str, list], finding: Finding, now: datetime) -> None:
    """Make the rest of the report agree with the finding (an expired document's date is
    past, an AML hit is a hit)."""
    if finding.risk == "DOCUMENT_EXPIRED":
        items["id_verifications"][0]["expiration_date"] = date(now.year - 1, 1, 31).isoformat()
    if finding.risk == "POSSIBLE_MATCH_FOUND":
        aml = items["aml_screenings"][0]
        aml["total_hits"] = 1
        aml["hits"] = [{"caption": items["id_verifications"][0]["full_name"]}]


def review_item(user: str, new: str, comment: str | None, created_at: str) -> JSON:
    """A status change by a person or an API key, in the decision's documented `reviews` item
    shape `{user, new_status, comment, created_at}` (retrieve-session, create-review). The
    `/reviews/` feed's `actor_type` is not part of it."""
    return {"user": user, "new_status": new, "comment": comment, "created_at": created_at}


def new_event_id() -> str:
    return str(uuid.uuid4())


def _birth_date(value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return date(1990, 5, 17)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def report_pdf(session: SandboxSession) -> bytes:
    """generate-pdf's answer: a one-page PDF naming the session and its status. Didit's report
    mirrors its console view (documents, extracted data); the emulator's names nothing
    personal, and is a small but well-formed PDF (header, objects, xref, trailer)."""
    text = f"Didit sandbox report - session {session.session_id} - {session.status}"
    text = text.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 10 Tf 36 800 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def report_filename(session: SandboxSession) -> str:
    """`Content-Disposition` file name of a user (KYC) session's report."""
    return f"session_{session.session_id}.pdf"
