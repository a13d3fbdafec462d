"""What the emulator's checks find on a decline or a review: which check fails, with which of
Verifa's codes, and the control body's `reason` that picks them.

Written from Verifa's pages (docs/vendors/verifa.md, Results), not from the adapter: the check
names ("Check categories", auto-injected checks), the check statuses, the risk levels and
fraud signals, and `rejection_reason_code`, whose only shown value is `document_unreadable`.
The other codes are [INFERRED] (the enum is not published).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from adapters.verifa.sandbox.model import DEFAULT_REJECTION_REASON

#: The control body's decline reasons: a normalized reason → Verifa's code [INFERRED codes].
DECLINE_CODES: Mapping[str, str] = MappingProxyType(
    {
        "face_mismatch": "face_mismatch",
        "liveness_failed": "liveness_failed",
        "document_unreadable": "document_unreadable",  # the documented example value
        "document_expired": "document_expired",
        "document_unsupported": "document_unsupported",
        "document_not_authentic": "document_tampered",
        "age_not_satisfied": "underage",
        "sanctions_hit": "watchlist_match",
        "pep_hit": "pep_match",
        "adverse_media_hit": "adverse_media_match",
        "duplicate_identity": "duplicate_detected",
        "blocklisted": "blocklist_match",
        "high_risk": "high_risk_score",
        "expected_data_mismatch": "identity_mismatch",
        "address_not_verified": "proof_of_address_failed",
    }
)

#: The workflow check each code fails (check names from "Check categories").
FACE_MATCH = "face_match"
AGE = "age"  # no check_results entry: the result's `age_check_passed` says it
RISK = "risk_assessment"
CODE_CHECKS: Mapping[str, str] = MappingProxyType(
    {
        "face_mismatch": FACE_MATCH,
        "liveness_failed": FACE_MATCH,
        "document_unreadable": "document_ocr",
        "document_expired": "document_expiration",
        "document_unsupported": "id_document_filter",
        "document_tampered": "nfc_chip_auth",
        "underage": AGE,
        "watchlist_match": "watchlist_screening",
        "pep_match": "aml_screening",
        "adverse_media_match": "aml_screening",
        "duplicate_detected": "duplicate_detection",
        "blocklist_match": "check_against_list",
        "high_risk_score": RISK,
        "identity_mismatch": "identity_crossref",
        "proof_of_address_failed": "proof_of_address_check",
    }
)

#: The control body's review reasons: a normalized reason → the fraud signal that raises the
#: risk level to High ("Manual review or step-up verification"), and the signals it accepts.
REVIEW_SIGNALS: Mapping[str, str] = MappingProxyType(
    {"high_risk": "vpn_detected", "liveness_failed": "virtual_camera"}
)
SIGNALS = frozenset(
    {"vpn_detected", "virtual_camera", "camera_injection_detected", "bot_detected", "devtools_open"}
)
DEFAULT_REVIEW_SIGNAL = "vpn_detected"
#: A Critical risk ("Auto-reject") names this hard-block signal.
DECLINE_RISK_SIGNAL = "bot_detected"


@dataclass(frozen=True)
class Risk:
    """The risk assessment's composite score (0-100), level and triggered signals."""

    score: int
    level: str
    signals: tuple[str, ...] = ()


LOW_RISK = Risk(12, "low")


def decline_code(reason: Any) -> str:
    """Verifa's code for the control body's decline `reason` (a normalized reason or Verifa's
    own code); any other reason is refused."""
    if reason is None:
        return DEFAULT_REJECTION_REASON
    if reason in DECLINE_CODES:
        return DECLINE_CODES[reason]
    if reason in CODE_CHECKS:
        return str(reason)
    raise _refused("decline", reason, sorted({*DECLINE_CODES, *CODE_CHECKS}))


def review_signal(reason: Any) -> str:
    """The fraud signal behind the control body's review `reason`."""
    if reason is None:
        return DEFAULT_REVIEW_SIGNAL
    if reason in REVIEW_SIGNALS:
        return REVIEW_SIGNALS[reason]
    if reason in SIGNALS:
        return str(reason)
    raise _refused("review", reason, sorted({*REVIEW_SIGNALS, *SIGNALS}))


def failing_check(code: str | None) -> str | None:
    return CODE_CHECKS.get(code) if code else None


def check_results(
    *, failing: str | None, face_passed: bool, face_score: float, risk: Risk
) -> dict[str, Any]:
    """`check_results`: each check's status, the face match's score, the risk assessment's
    score, level and signals."""
    checks: dict[str, Any] = {
        "document_ocr": {"status": "passed"},
        FACE_MATCH: {"status": "passed" if face_passed else "failed", "score": face_score},
        "watchlist_screening": {"status": "passed"},
        RISK: {
            "status": "failed" if risk.level in ("high", "critical") else "passed",
            "risk_score": risk.score,
            "risk_level": risk.level,
            "signals": list(risk.signals),
        },
    }
    if failing is not None and failing not in (AGE, FACE_MATCH, RISK):
        checks[failing] = {"status": "failed"}
    return checks


class ReasonRefused(ValueError):
    """A control `reason` this action cannot produce (the API answers 400 in Verifa's shape)."""


def _refused(action: str, reason: Any, accepted: list[str]) -> ReasonRefused:
    return ReasonRefused(
        f"The sandbox cannot simulate a {action} for reason {reason!r}; reasons: "
        + ", ".join(accepted)
        + "."
    )
