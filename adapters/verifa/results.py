"""Verifa's session result read into the normalized `Results` (docs/vendors/verifa.md, Results;
the field-by-field table is docs/results.md, Verifa).

The result (GET …/result, and the `result` object of the flat `session.*` webhooks) carries
the check flags `face_match_passed` / `face_match_score` and `age_check_passed`, the
per-check `check_results` (risk assessment included), the rejection reason (`rejection_reason`
text, `rejection_reason_code` "stable enum") and the person's `extracted_data`. What the pages
leave open is one constant each in `inferred.py`. Odd input never raises: unknown names,
outcomes and reasons are the tables' business, malformed values become None or are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from adapters import results as normalized
from adapters.base import SessionStatus
from adapters.verifa import inferred
from adapters.verifa.statuses import RESULT_STATUS_MAP
from adapters.verifa.wire import ALPHA3_TO_ALPHA2

RISK_CHECK = "risk_assessment"
FACE_MATCH_CHECK = "face_match"

# docs/vendors/verifa.md, Results: "Check lifecycle" (verifications-checks page).
CHECK_STATUSES: Mapping[str, normalized.CheckOutcome] = MappingProxyType(
    {
        "passed": normalized.CheckOutcome.PASSED,  # "completed successfully and passed"
        "failed": normalized.CheckOutcome.FAILED,  # "completed but the subject did not pass"
        "error": normalized.CheckOutcome.NOT_RUN,  # "An unrecoverable error occurred"
        "skipped": normalized.CheckOutcome.NOT_RUN,  # "prerequisites were missing"
        "pending": normalized.CheckOutcome.NOT_RUN,  # "currently executing"
        "requires_retry": normalized.CheckOutcome.NOT_RUN,  # "The engine will retry automatically"
    }
)

# docs/vendors/verifa.md, Results: rejection_reason_code (list-results example) and the
# inferred rest of its enum (inferred.REJECTION_REASON_CODES).
REJECTION_REASONS: Mapping[str, str] = MappingProxyType(
    {"document_unreadable": "document_unreadable", **inferred.REJECTION_REASON_CODES}
)

# docs/vendors/verifa.md, Results: fraud signals (fraud-signals and fraud-prevention pages).
RISK_SIGNALS: Mapping[str, str] = MappingProxyType(
    {
        "completion_too_fast": "high_risk",
        "completion_too_slow": "high_risk",
        "high_hesitation": "high_risk",
        "high_distraction": "high_risk",
        "copy_paste_name": "high_risk",
        "mouse_bot_pattern": "high_risk",
        "keystroke_bot_pattern": "high_risk",
        "screen_sharing_detected": "high_risk",
        "autofill_then_edit": "high_risk",
        "bot_detected": "high_risk",
        "webdriver_evasion_detected": "high_risk",
        "devtools_open": "high_risk",
        "webgl_vm_detected": "high_risk",
        "incognito_detected": "high_risk",
        "vpn_detected": "high_risk",
        "integrity_checksum_mismatch": "high_risk",
        "virtual_camera": "liveness_failed",  # a fed camera: not a live capture
        "camera_injection_detected": "liveness_failed",
    }
)

#: The workflow checks (docs/vendors/verifa.md, Results: "Check categories", "Auto-injected
#: checks") with `face_match_passed` / `age_check_passed`, their outcomes and reasons.
CHECKS_TABLE = normalized.CheckTable(
    kinds=MappingProxyType(
        {
            "document_ocr": normalized.CheckKind.DOCUMENT,
            "nfc_chip_auth": normalized.CheckKind.DOCUMENT,
            "document_expiration": normalized.CheckKind.DOCUMENT,
            "id_document_filter": normalized.CheckKind.DOCUMENT,
            FACE_MATCH_CHECK: normalized.CheckKind.FACE_MATCH,
            inferred.AGE_CHECK_NAME: normalized.CheckKind.AGE,
            "proof_of_address_check": normalized.CheckKind.PROOF_OF_ADDRESS,
            "watchlist_screening": normalized.CheckKind.AML,
            "aml_screening": normalized.CheckKind.AML,
            "identity_crossref": normalized.CheckKind.OTHER,  # form data against the document's
            "duplicate_detection": normalized.CheckKind.OTHER,
            "check_against_list": normalized.CheckKind.OTHER,
        }
    ),
    outcomes=CHECK_STATUSES,
    reasons=MappingProxyType({**REJECTION_REASONS, **RISK_SIGNALS}),
)

#: The risk assessment: its risk level (fraud-prevention page, "Risk levels": Low auto-approve,
#: Medium proceed with caution, High manual review, Critical auto-reject) or its check status,
#: and the triggered signals as reasons.
RISK_TABLE = normalized.CheckTable(
    kinds=MappingProxyType({RISK_CHECK: normalized.CheckKind.OTHER}),
    outcomes=MappingProxyType(
        {
            **CHECK_STATUSES,
            "low": normalized.CheckOutcome.PASSED,
            "medium": normalized.CheckOutcome.PASSED,
            "high": normalized.CheckOutcome.REVIEW,
            "critical": normalized.CheckOutcome.FAILED,
        }
    ),
    reasons=CHECKS_TABLE.reasons,
)

TABLES: tuple[normalized.CheckTable, ...] = (CHECKS_TABLE, RISK_TABLE)


@dataclass
class _Entry:
    """One check before normalization: what the payload says of it."""

    name: str
    outcome: str | None
    reasons: list[str] = field(default_factory=list)
    score: float | None = None

    @property
    def table(self) -> normalized.CheckTable:
        return RISK_TABLE if self.name == RISK_CHECK else CHECKS_TABLE


def read_result(
    result: Any,
    *,
    status: Any = None,
    rejection_reason: Any = None,
    rejection_reason_code: Any = None,
) -> normalized.Results | None:
    """The `Results` of one result object (None when it is not an object). `status` and the
    rejection reason come from the enclosing webhook when the object itself lacks them."""
    if not isinstance(result, Mapping):
        return None
    status = _text(result.get("status")) or _text(status)
    code = _reason_code(
        result.get("rejection_reason_code") or rejection_reason_code,
        result.get("rejection_reason") or rejection_reason,
    )
    extracted = result.get("extracted_data")
    extracted = extracted if isinstance(extracted, Mapping) else {}
    return normalized.Results(
        checks=_checks(result, status, code),
        person=_person(extracted),
        documents=_documents(extracted, result.get("country_used")),
    )


# -- checks ---------------------------------------------------------------------------------------
def _checks(
    result: Mapping[str, Any], status: str | None, code: str | None
) -> tuple[normalized.Check, ...]:
    entries = _check_results(result.get("check_results"))
    _add_flag(
        entries, FACE_MATCH_CHECK, result.get("face_match_passed"), result.get("face_match_score")
    )
    _add_flag(entries, inferred.AGE_CHECK_NAME, result.get("age_check_passed"), None)
    outcome = RESULT_STATUS_MAP.get(status) if status else None
    if code and outcome is not SessionStatus.APPROVED:  # an approval fails no check
        _place_reason(entries, code)
    in_review = outcome is SessionStatus.IN_REVIEW
    return tuple(_normalized(entry, in_review) for entry in entries.values())


def _check_results(value: Any) -> dict[str, _Entry]:
    """`check_results`: check name → its entry (an object, a boolean or a status string)."""
    if not isinstance(value, Mapping):
        return {}
    entries: dict[str, _Entry] = {}
    for name, entry in value.items():
        if isinstance(name, str) and name:
            entries[name] = _entry(name, entry)
    return entries


def _entry(name: str, value: Any) -> _Entry:
    if not isinstance(value, Mapping):
        return _Entry(name, _outcome_of(value))
    outcome = _outcome_of(value.get(inferred.CHECK_RESULT_STATUS_KEY))
    if outcome is None:
        outcome = _outcome_of(value.get(inferred.CHECK_RESULT_PASSED_KEY))
    if name == RISK_CHECK:
        level = _text(value.get(inferred.RISK_LEVEL_KEY))
        return _Entry(
            name,
            level or outcome,
            _signals(value.get(inferred.RISK_SIGNALS_KEY)),
            _score(value.get(inferred.RISK_SCORE_KEY), 100.0),
        )
    return _Entry(name, outcome, score=_score(value.get(inferred.CHECK_RESULT_SCORE_KEY), 1.0))


def _outcome_of(value: Any) -> str | None:
    """A documented check status, from a status string or a pass/fail boolean."""
    if isinstance(value, bool):
        return "passed" if value else "failed"
    return _text(value)


def _signals(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    names = (
        item.get(inferred.RISK_SIGNAL_NAME_KEY) if isinstance(item, Mapping) else item
        for item in value
    )
    return [name for name in names if isinstance(name, str) and name]


def _add_flag(entries: dict[str, _Entry], name: str, passed: Any, score: Any) -> None:
    """`face_match_passed` / `age_check_passed` ("boolean or null"): the check, unless
    `check_results` already has it (then only its missing score is taken)."""
    if name in entries:
        if entries[name].score is None:
            entries[name].score = _score(score, 1.0)
        return
    if isinstance(passed, bool):
        entries[name] = _Entry(name, _outcome_of(passed), score=_score(score, 1.0))


def _place_reason(entries: dict[str, _Entry], code: str) -> None:
    """The result's reason goes on the check it belongs to; a check the payload does not
    list is added as failed (the reason says it failed)."""
    name = inferred.REASON_CODE_CHECKS.get(code, inferred.UNPLACED_REASON_CHECK)
    entry = entries.setdefault(name, _Entry(name, "failed"))
    if code not in entry.reasons:
        entry.reasons.append(code)


def _normalized(entry: _Entry, in_review: bool) -> normalized.Check:
    check = entry.table.check(entry.name, entry.outcome, entry.reasons, score=entry.score)
    if (
        in_review
        and inferred.FAILED_CHECKS_OF_A_REVIEW_ARE_REVIEW
        and check.outcome is normalized.CheckOutcome.FAILED
    ):
        return replace(check, outcome=normalized.CheckOutcome.REVIEW)
    return check


def _reason_code(code: Any, text: Any) -> str | None:
    """`rejection_reason_code`, else a code-like `rejection_reason` (free text is not a code)."""
    for value in (code, text):
        value = _text(value)
        if value and inferred.REJECTION_REASON_CODE.fullmatch(value):
            return value
    return None


def _score(value: Any, top: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if 0.0 <= number <= top else None


# -- the person and the document ------------------------------------------------------------------
def _person(data: Mapping[str, Any]) -> normalized.VerifiedPerson | None:
    person = normalized.VerifiedPerson(
        first_name=_text(data.get("first_name")),
        last_name=_text(data.get("last_name")),
        date_of_birth=_date(data.get("date_of_birth")),
        nationality=_country(data.get("nationality")) if inferred.NATIONALITY_IS_ALPHA2 else None,
        address=_address(data.get("address")),
    )
    return None if person == normalized.VerifiedPerson() else person


def _address(value: Any) -> normalized.Address | None:
    if not isinstance(value, Mapping):
        return None
    address = normalized.Address(
        line1=_text(value.get("line1")),
        line2=_text(value.get("line2")),
        city=_text(value.get("city")),
        postal_code=_text(value.get("zip")),
        region=_text(value.get("state")),
    )
    return None if address.is_empty() else address


def _documents(
    data: Mapping[str, Any], country_used: Any
) -> tuple[normalized.VerifiedDocument, ...]:
    raw_type = _text(data.get("document_type"))
    number = _text(data.get("document_number"))
    expires = _date(data.get("document_expiration_date"))
    if raw_type is None and number is None and expires is None:
        return ()
    country = _country(country_used) if inferred.DOCUMENT_COUNTRY_FROM_COUNTRY_USED else None
    doc_type = inferred.DOCUMENT_TYPES.get(raw_type, "OTHER") if raw_type else None
    return (
        normalized.VerifiedDocument(
            type=doc_type, country=country, number=number, expires_on=expires
        ),
    )


_ALPHA2_TO_ALPHA3 = {alpha2: alpha3 for alpha3, alpha2 in ALPHA3_TO_ALPHA2.items()}


def _country(value: Any) -> str | None:
    """ISO alpha-2 (Verifa's) → alpha-3 (the normalized form); alpha-3 kept; else None."""
    text = _text(value)
    if text is None:
        return None
    code = text.upper()
    if code in _ALPHA2_TO_ALPHA3:
        return _ALPHA2_TO_ALPHA3[code]
    return code if code in ALPHA3_TO_ALPHA2 else None


def _date(value: Any) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None
