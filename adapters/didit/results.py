"""Didit's result vocabulary as data, and the reading of a decision into `Results`
(docs/vendors/didit.md, Results; docs/results.md, Didit).

Didit reports one item per workflow node in plural feature blocks (`id_verifications`,
`liveness_checks`, …) of the decision that GET /decision/ returns and `status.updated`
embeds. Each item has its own `status` and `warnings[]` whose `risk` is a stable code; the
`log_type` says whether the risk moved the status (`error` declined, `warning` sent to review)
or is only information.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from adapters import results as normalized
from adapters.base import DocumentType
from adapters.didit import inferred

K = normalized.CheckKind

#: Didit feature name (`features` list; the block it reports in: inferred.FEATURE_BLOCKS)
#: → kind (docs/vendors/didit.md, Results: Feature blocks).
KINDS: Mapping[str, normalized.CheckKind] = MappingProxyType(
    {
        "ID_VERIFICATION": K.DOCUMENT,
        "NFC": K.DOCUMENT,  # the document's chip
        "LIVENESS": K.LIVENESS,
        "FACE_MATCH": K.FACE_MATCH,
        "POA": K.PROOF_OF_ADDRESS,
        "PHONE": K.PHONE,
        "EMAIL": K.EMAIL,
        "AML": K.AML,
        "DATABASE_VALIDATION": K.DATABASE,
        "IP_ANALYSIS": K.OTHER,  # device / IP risk: no kind of its own
        "DOCUMENT_AI": K.OTHER,
        "QUESTIONNAIRE": K.OTHER,
    }
)

#: A feature item's `status` (docs/vendors/didit.md, Results: Feature statuses).
OUTCOMES: Mapping[str, normalized.CheckOutcome] = MappingProxyType(
    {
        "Approved": normalized.CheckOutcome.PASSED,
        "Declined": normalized.CheckOutcome.FAILED,
        "Rejected": normalized.CheckOutcome.FAILED,  # the older AML report's spelling of Declined
        "In Review": normalized.CheckOutcome.REVIEW,
        # the ID document expired after approval (Kyc Expired)
        "Expired": normalized.CheckOutcome.FAILED,
        "Not Finished": normalized.CheckOutcome.NOT_RUN,
        "Not Started": normalized.CheckOutcome.NOT_RUN,
    }
)

#: Warning `risk` codes → normalized reasons (docs/vendors/didit.md, Results: Risk codes).
REASONS: Mapping[str, str] = MappingProxyType(
    {
        # ID verification (warnings-id-verification)
        "DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION": "document_unsupported",
        "DOCUMENT_EXPIRED": "document_expired",
        "PORTRAIT_IMAGE_NOT_DETECTED": "face_not_detected",
        "ID_DOCUMENT_IN_BLOCKLIST": "blocklisted",
        "AGE_BELOW_MINIMUM": "age_not_satisfied",
        "AGE_NOT_DETECTED": "age_unknown",
        "MINIMUM_AGE_NOT_MET": "age_not_satisfied",
        "POSSIBLE_DUPLICATED_USER": "duplicate_identity",
        "QR_NOT_DETECTED": "document_unreadable",
        "BARCODE_NOT_DETECTED": "document_unreadable",
        "QR_VALIDATION_FAILED": "document_data_inconsistent",
        "BARCODE_VALIDATION_FAILED": "document_data_inconsistent",
        "MRZ_NOT_DETECTED": "document_unreadable",
        "MRZ_VALIDATION_FAILED": "document_data_inconsistent",
        "DATA_INCONSISTENT": "document_data_inconsistent",
        "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME": "document_data_inconsistent",
        "DOCUMENT_NAME_DIFFERENT_FROM_OTHER_APPROVED_DOCUMENTS": "document_data_inconsistent",
        "INVALID_DATE": "document_data_inconsistent",
        "COULD_NOT_RECOGNIZE_DOCUMENT": "document_unreadable",
        "DOCUMENT_NUMBER_NOT_DETECTED": "document_unreadable",
        "COULD_NOT_DETECT_DOCUMENT_TYPE": "document_unreadable",
        "NAME_NOT_DETECTED": "document_unreadable",
        "DATE_OF_BIRTH_NOT_DETECTED": "document_unreadable",
        "SCREEN_CAPTURE_DETECTED": "document_not_authentic",
        "PRINTED_COPY_DETECTED": "document_not_authentic",
        "PORTRAIT_MANIPULATION_DETECTED": "document_not_authentic",
        "PUBLIC_DOCUMENT_IMAGE_DETECTED": "document_not_authentic",
        # liveness (warnings-liveness)
        "NO_FACE_DETECTED": "face_not_detected",
        "LIVENESS_FACE_ATTACK": "liveness_failed",
        "FACE_IN_BLOCKLIST": "blocklisted",
        "LOW_LIVENESS_SCORE": "liveness_failed",
        "POSSIBLE_DUPLICATED_FACE": "duplicate_identity",
        "DUPLICATED_FACE": "duplicate_identity",
        "MULTIPLE_FACES_DETECTED": "face_not_detected",
        "LOW_FACE_QUALITY": "face_not_detected",
        # face match (warnings-face-match)
        "LOW_FACE_MATCH_SIMILARITY": "face_mismatch",
        "NO_REFERENCE_IMAGE": "face_not_detected",
        "FACE_MATCH_MAX_ATTEMPTS_EXCEEDED": "face_mismatch",
        "FACE_MATCH_NOT_COMPUTED": "face_not_detected",
        # AML (warnings-aml-screening)
        "POSSIBLE_MATCH_FOUND": "aml_hit",
        "COULD_NOT_PERFORM_AML_SCREENING": "technical_error",
        # phone (warnings-phone-verification)
        "VERIFICATION_CODE_ATTEMPTS_EXCEEDED": "phone_not_verified",
        "HIGH_RISK_PHONE_NUMBER": "high_risk",
        "PHONE_NUMBER_IN_BLOCKLIST": "blocklisted",
        "VOIP_NUMBER_DETECTED": "high_risk",
        "DISPOSABLE_NUMBER_DETECTED": "high_risk",
        "DUPLICATED_PHONE_NUMBER": "duplicate_identity",
        # e-mail (warnings-email-verification)
        "EMAIL_CODE_ATTEMPTS_EXCEEDED": "email_not_verified",
        "EMAIL_IN_BLOCKLIST": "blocklisted",
        "UNDELIVERABLE_EMAIL_DETECTED": "email_not_verified",
        "BREACHED_EMAIL_DETECTED": "high_risk",
        "DISPOSABLE_EMAIL_DETECTED": "high_risk",
        "DUPLICATED_EMAIL": "duplicate_identity",
        # proof of address (warnings-proof-of-address)
        "POA_DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION": "document_unsupported",
        "EXPIRED_DOCUMENT": "document_expired",
        "INVALID_DOCUMENT_TYPE": "document_unsupported",
        "MISSING_ADDRESS_INFORMATION": "address_not_verified",
        "NAME_MISMATCH_WITH_PROVIDED": "expected_data_mismatch",
        "ADDRESS_MISMATCH_WITH_PROVIDED": "expected_data_mismatch",
        "NAME_MISMATCH_ID_VERIFICATION": "address_not_verified",
        "POA_NAME_MISMATCH_BETWEEN_DOCUMENTS": "address_not_verified",
        "POOR_DOCUMENT_QUALITY": "document_unreadable",
        "DOCUMENT_METADATA_MISMATCH": "document_not_authentic",
        "SUSPECTED_DOCUMENT_MANIPULATION": "document_not_authentic",
        "UNSUPPORTED_DOCUMENT_LANGUAGE": "document_unsupported",
        "UNABLE_TO_EXTRACT_ISSUE_DATE": "document_unreadable",
        "ISSUER_NOT_IDENTIFIED": "address_not_verified",
        "UNPARSABLE_OR_INVALID_ADDRESS": "address_not_verified",
        "UNABLE_TO_VALIDATE_DOCUMENT_AGE": "address_not_verified",
        "FUTURE_ISSUE_DATE": "document_data_inconsistent",
        "POA_MAX_ATTEMPTS_EXCEEDED": "step_not_completed",
        # database validation (database-validation-warnings)
        "COULD_NOT_PERFORM_DATABASE_VALIDATION": "technical_error",
        "DATABASE_VALIDATION_PARTIAL_MATCH": "database_mismatch",
        "DATABASE_VALIDATION_NO_MATCH": "database_no_match",
    }
)

DIDIT_CHECKS = normalized.CheckTable(kinds=KINDS, outcomes=OUTCOMES, reasons=REASONS)

#: ID report `document_type` → DocumentType (report-id-verification: the four documented
#: values; any other non-empty value is OTHER).
DOCUMENT_TYPES: Mapping[str, DocumentType] = MappingProxyType(
    {
        "Passport": DocumentType.PASSPORT,
        "Identity Card": DocumentType.ID_CARD,
        "Driver's License": DocumentType.DRIVERS_LICENSE,
        "Residence Permit": DocumentType.RESIDENCE_PERMIT,
    }
)

#: The item field that carries a feature's score (report-liveness, warnings-face-match:
#: "When score ≤ this value", report-aml-screening: the aggregate `score`).
SCORE_FIELDS: Mapping[str, str] = MappingProxyType(
    {"LIVENESS": "score", "FACE_MATCH": "score", "AML": "score"}
)

#: Warning levels that explain a check's outcome; `information` does not move a status.
REASON_LOG_TYPES = frozenset({"error", "warning"})
_ID_BLOCK = "id_verifications"


def read_results(decision: Any) -> normalized.Results | None:
    """The checks, person and documents of a decision object; None when no feature has
    run yet (the payload says nothing about results). Never raises on odd input."""
    if not isinstance(decision, Mapping):
        return None
    checks = tuple(_checks(decision))
    id_items = [i for i in _items(decision.get(_ID_BLOCK)) if _has_extraction(i)]
    person = _person(id_items[0]) if id_items else None
    person = None if person == normalized.VerifiedPerson() else person
    documents = tuple(d for d in (_document(i) for i in id_items) if d is not None)
    if not checks and person is None and not documents:
        return None
    return normalized.Results(checks=checks, person=person, documents=documents)


# -- checks --------------------------------------------------------------------------------
def _checks(decision: Mapping[str, Any]) -> Iterable[normalized.Check]:
    for block, feature in inferred.FEATURE_BLOCKS.items():
        for item in _items(decision.get(block)):
            yield _check(feature, item)
    for key, value in decision.items():
        if key in inferred.FEATURE_BLOCKS or not isinstance(value, list):
            continue
        for item in _items(value):
            if inferred.UNKNOWN_BLOCK_MARKER in item:  # a feature block we do not know
                yield _check(key, item)


def _check(feature: str, item: Mapping[str, Any]) -> normalized.Check:
    status = item.get("status")
    return DIDIT_CHECKS.check(
        feature,
        status if isinstance(status, str) else None,
        _risks(item.get("warnings")),
        score=_score(item.get(SCORE_FIELDS.get(feature, ""))),
    )


def _risks(warnings: Any) -> list[str]:
    """The `risk` codes of the warnings that explain the outcome (error / warning level)."""
    return [
        w["risk"]
        for w in _items(warnings)
        if isinstance(w.get("risk"), str) and w.get("log_type") in REASON_LOG_TYPES
    ]


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _items(value: Any) -> list[Mapping[str, Any]]:
    """The dict items of a block (a block is null until its feature ran)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


# -- person and documents ---------------------------------------------------------------------
def _has_extraction(item: Mapping[str, Any]) -> bool:
    fields = (
        "first_name",
        "last_name",
        "full_name",
        "date_of_birth",
        "document_number",
        "document_type",
    )
    return any(_text(item.get(f)) for f in fields)


def _person(item: Mapping[str, Any]) -> normalized.VerifiedPerson:
    return normalized.VerifiedPerson(
        first_name=_text(item.get("first_name")),
        last_name=_text(item.get("last_name")),
        full_name=_text(item.get("full_name")),
        date_of_birth=_date(item.get("date_of_birth")),
        nationality=_text(item.get("nationality")),
        address=_address(item),
    )


def _address(item: Mapping[str, Any]) -> normalized.Address | None:
    """`parsed_address` when Didit parsed it, else the raw `address` line."""
    parsed = item.get("parsed_address")
    if isinstance(parsed, Mapping):
        names = inferred.PARSED_ADDRESS_FIELDS
        address = normalized.Address(
            **{ours: _text(parsed.get(theirs)) for ours, theirs in names.items()}
        )
        if not address.is_empty():
            return address
    line = _text(item.get("address"))
    return normalized.Address(line1=line) if line else None


def _document(item: Mapping[str, Any]) -> normalized.VerifiedDocument | None:
    raw_type = _text(item.get("document_type"))
    document = normalized.VerifiedDocument(
        type=(DOCUMENT_TYPES.get(raw_type, DocumentType.OTHER).value if raw_type else None),
        country=_text(item.get("issuing_state")),
        number=_text(item.get("document_number")),
        issued_on=_date(item.get("date_of_issue")),
        expires_on=_date(item.get("expiration_date")),
    )
    return None if document == normalized.VerifiedDocument() else document


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _date(value: Any) -> date | None:
    """A `YYYY-MM-DD` date; anything else (or an impossible date) is None."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
