"""What the emulator's checks find: the verification each control action produces.

Written from Beltic's pages (docs/vendors/beltic.md, Results), independently of the adapter's
tables: a verification has a `status` (`passed`, `failed`, `requires_retry`, ...) and
`checks[]` items `{name, status, reasons, requirement, metadata}`. Check names, check statuses
other than `not_applicable` and reason strings are not published: the ones here are the
sandbox's own (inferred). The control body's `reason` picks the failing (decline) or retried
(review) check, by a normalized reason code or by the raw reason string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.beltic.sandbox.jsonapi import ApiError, api_error

JSON = dict[str, Any]


@dataclass(frozen=True)
class Cause:
    """The check a cause makes fail (or ask for a retry), and Beltic's reason string."""

    check: str
    reason: str


#: decline: normalized reason → the failing check and its reason (inferred names).
DECLINE_CAUSES: dict[str, Cause] = {
    "document_expired": Cause("document_expiry", "document_expired"),
    "document_not_authentic": Cause("document_authenticity", "tampering_detected"),
    "document_unreadable": Cause("image_quality", "blurry_image"),
    "document_unsupported": Cause("document_type", "unsupported_document_type"),
    "document_data_inconsistent": Cause("data_consistency", "mrz_mismatch"),
    "face_mismatch": Cause("face_match", "face_mismatch"),
    "face_not_detected": Cause("portrait_quality", "no_face_detected"),
    "liveness_failed": Cause("liveness", "spoof_detected"),
    "aml_hit": Cause("watchlist", "watchlist_match"),
    "pep_hit": Cause("watchlist", "pep_match"),
    "sanctions_hit": Cause("watchlist", "sanctions_match"),
    "adverse_media_hit": Cause("watchlist", "adverse_media_match"),
    "age_not_satisfied": Cause("age", "underage"),
    "database_no_match": Cause("database", "no_record_found"),
}
#: review: "requires_retry ... typically due to image quality issues" (the verifications
#: guide): a check Beltic could not complete.
REVIEW_CAUSES: dict[str, Cause] = {
    "document_unreadable": Cause("image_quality", "glare_detected"),
    "face_not_detected": Cause("portrait_quality", "no_face_detected"),
}
DEFAULT_DECLINE = "face_mismatch"
DEFAULT_REVIEW = "document_unreadable"

#: The checks of a passing identity-document verification (inferred names and scores).
PASSING: tuple[tuple[str, float | None], ...] = (
    ("document_authenticity", None),
    ("document_expiry", None),
    ("face_match", 0.97),
    ("watchlist", None),
)
FAILED_SCORE = 0.21


def check(
    name: str, status: str, reasons: tuple[str, ...] = (), score: float | None = None
) -> JSON:
    """One `checks[]` item (documented keys: name, status, reasons, requirement, metadata)."""
    return {
        "name": name,
        "status": status,
        "reasons": list(reasons),
        "requirement": "required",
        "metadata": {} if score is None else {"score": score},
    }


def cause_for(action: str, reason: Any) -> Cause | None:
    """The cause `reason` names for `action` (None for actions without one); a reason this
    vendor cannot produce is refused with 400 in Beltic's error shape."""
    causes = {"decline": DECLINE_CAUSES, "review": REVIEW_CAUSES}.get(action)
    if causes is None:
        return None
    if reason is None:
        return causes[DEFAULT_DECLINE if action == "decline" else DEFAULT_REVIEW]
    if isinstance(reason, str):
        if reason in causes:
            return causes[reason]
        for cause in causes.values():
            if cause.reason == reason:
                return cause
    raise _refused(action, reason)


def verification(action: str, cause: Cause | None) -> tuple[str, list[JSON]]:
    """(verification status, checks) for approve / decline / review."""
    if action == "approve" or cause is None:
        return "passed", [check(name, "passed", score=score) for name, score in PASSING]
    status = "failed" if action == "decline" else "requires_retry"
    checks = [check(name, "passed", score=score) for name, score in PASSING]
    score = FAILED_SCORE if cause.check == "face_match" else None
    bad = check(cause.check, status, (cause.reason,), score)
    names = [c["name"] for c in checks]
    if cause.check in names:
        checks[names.index(cause.check)] = bad
    else:
        checks.append(bad)
    return status, checks


def accepted(action: str) -> list[str]:
    """Every `reason` value `action` takes: normalized codes, then raw reasons."""
    causes = {"decline": DECLINE_CAUSES, "review": REVIEW_CAUSES}.get(action, {})
    return [*causes, *dict.fromkeys(c.reason for c in causes.values())]


def _refused(action: str, reason: Any) -> ApiError:
    return api_error(
        400,
        "invalid_reason",
        f"The Beltic sandbox cannot {action} for reason {reason!r}. Reasons it takes: "
        f"{', '.join(accepted(action))}.",
        pointer="/reason",
    )
