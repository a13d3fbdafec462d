"""Which feature of the sandbox workflow fails, and with which documented `risk`, when the
control body asks `{"action": "decline" | "review", "reason": R}`.

The emulator's own table, written from Didit's warning pages (docs/vendors/didit.md,
Results), not from the adapter's: R is a normalized reason code (docs/results.md, Reasons)
or one of the Didit risk codes below. The sandbox workflow runs ID verification, liveness,
face match, AML and IP analysis, so only their risks can be produced; anything else is a 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.common.sandbox.http import SandboxError


@dataclass(frozen=True)
class Finding:
    """One warning on one feature block: the block's status follows its `log_type`
    (error → Declined, warning → In Review)."""

    block: str
    feature: str
    risk: str
    short_description: str


def _f(block: str, feature: str, risk: str, text: str) -> Finding:
    return Finding(block, feature, risk, text)


_ID = ("id_verifications", "ID_VERIFICATION")
_LIVE = ("liveness_checks", "LIVENESS")
_FACE = ("face_matches", "FACE_MATCH")
_AML = ("aml_screenings", "AML")

#: normalized reason → what a decline shows (warnings-id-verification, -liveness,
#: -face-match, -aml-screening: auto-decline risks and risks configurable to Decline).
DECLINE_FINDINGS: dict[str, Finding] = {
    "face_mismatch": _f(*_FACE, "LOW_FACE_MATCH_SIMILARITY", "Low face match similarity"),
    "document_expired": _f(*_ID, "DOCUMENT_EXPIRED", "Document expired"),
    "document_unsupported": _f(
        *_ID, "DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION", "Document not supported"
    ),
    "document_not_authentic": _f(
        *_ID, "PORTRAIT_MANIPULATION_DETECTED", "Portrait manipulation detected"
    ),
    "document_unreadable": _f(*_ID, "MRZ_NOT_DETECTED", "MRZ not detected"),
    "document_data_inconsistent": _f(
        *_ID, "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME", "MRZ and OCR data differ"
    ),
    "blocklisted": _f(*_ID, "ID_DOCUMENT_IN_BLOCKLIST", "Document in blocklist"),
    "duplicate_identity": _f(*_ID, "POSSIBLE_DUPLICATED_USER", "Possible duplicated user"),
    "age_not_satisfied": _f(*_ID, "MINIMUM_AGE_NOT_MET", "Minimum age not met"),
    "face_not_detected": _f(*_LIVE, "NO_FACE_DETECTED", "No face detected"),
    "liveness_failed": _f(*_LIVE, "LIVENESS_FACE_ATTACK", "Liveness face attack"),
    "aml_hit": _f(*_AML, "POSSIBLE_MATCH_FOUND", "Possible match found"),
}

#: normalized reason → what a review shows (risks Didit routes to In Review: the face match
#: review threshold, configurable risks set to Review, AML's forced review).
REVIEW_FINDINGS: dict[str, Finding] = {
    "face_mismatch": _f(*_FACE, "LOW_FACE_MATCH_SIMILARITY", "Low face match similarity"),
    "duplicate_identity": _f(*_ID, "POSSIBLE_DUPLICATED_USER", "Possible duplicated user"),
    "document_data_inconsistent": _f(
        *_ID, "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME", "MRZ and OCR data differ"
    ),
    "document_unreadable": _f(*_ID, "MRZ_NOT_DETECTED", "MRZ not detected"),
    "document_not_authentic": _f(*_ID, "SCREEN_CAPTURE_DETECTED", "Screen capture detected"),
    "liveness_failed": _f(*_LIVE, "LOW_LIVENESS_SCORE", "Low liveness score"),
    "aml_hit": _f(*_AML, "POSSIBLE_MATCH_FOUND", "Possible match found"),
    "technical_error": _f(
        *_AML, "COULD_NOT_PERFORM_AML_SCREENING", "Could not perform AML screening"
    ),
}

#: What an outcome shows when the control body names no reason (as before: the face match).
DEFAULT_REASON = "face_mismatch"
FINDINGS = {"decline": DECLINE_FINDINGS, "review": REVIEW_FINDINGS}


def finding_for(action: str, reason: Any) -> Finding | None:
    """The finding `reason` asks for on `action` (None for actions without findings), or a
    400 in Didit's error body for a reason this workflow cannot produce."""
    table = FINDINGS.get(action)
    if table is None:
        return None
    if reason is None:
        return table[DEFAULT_REASON]
    if isinstance(reason, str):
        if reason in table:
            return table[reason]
        for finding in table.values():
            if finding.risk == reason:
                return finding
    accepted = ", ".join(sorted(table) + sorted({f.risk for f in table.values()}))
    raise SandboxError(
        400,
        {
            "detail": f"The Didit sandbox workflow cannot {action} with reason "
            f"{str(reason)[:60]!r}. Reasons it can: {accepted}."
        },
    )
