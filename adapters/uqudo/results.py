"""uqudo's verified result (`data` of the JWS) read into the normalized `Results`
(docs/results.md; docs/vendors/uqudo.md, Results).

uqudo decides nothing and names no outcome or reason: its result is facts (booleans and
scores). The verdict on each fact is our policy's (`adapters/uqudo/policy.py`), so every check
here is one policy rule over one result block, judged by that very rule function: a check is
FAILED exactly where the policy declines, REVIEW where it reviews, PASSED where the rule found
evidence and nothing against it, NOT_RUN where the result carries no evidence for it. The
"vendor outcome" values are therefore the policy's verdicts, the "vendor reasons" the
policy's reason codes (`policy:<rule>`, the same as the decision's).

Person and documents come from the chip (`reading.data`) first, then the optical scan
(`scan.front`, `scan.back`): uqudo's lookup page says chip data "should be always correct",
scanned data "could potentially have OCR errors".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from adapters import results as normalized
from adapters.base import DocumentType
from adapters.uqudo import inferred, policy
from adapters.uqudo.policy import Finding, PolicySettings, Verdict
from adapters.uqudo.wire import Detection, ResultClaims, claims_model

JSON = dict[str, Any]

# -- the vocabulary (docs/vendors/uqudo.md, Results) ------------------------------------------
#: Our outcome values: the policy's verdicts (docs/vendors/uqudo.md, Decision policy) plus
#: PASS (the rule found evidence and nothing against it) and NOT_RUN (no evidence).
PASS = "PASS"
NOT_RUN = "NOT_RUN"
DECLINE = Verdict.DECLINE.name
REVIEW = Verdict.REVIEW.name

UQUDO_CHECKS = normalized.CheckTable(
    kinds={
        # docs/vendors/uqudo.md, Results: Common object (`documents[].scan`)
        "scan": normalized.CheckKind.DOCUMENT,
        # Face object (`documents[].face`) and Verification object (`biometric`)
        "face": normalized.CheckKind.FACE_MATCH,
        # Verification object, one block each
        "idPhotoTamperingDetection": normalized.CheckKind.DOCUMENT,
        "idPrintDetection": normalized.CheckKind.DOCUMENT,
        "idScreenDetection": normalized.CheckKind.DOCUMENT,
        "mrzChecksum": normalized.CheckKind.DOCUMENT,
        "reading.passiveAuthentication": normalized.CheckKind.DOCUMENT,
        # Common object (`data.verifications`): present at all (policy_require_verifications)
        "verifications": normalized.CheckKind.DOCUMENT,
        # Common object (`data.backgroundCheck`), Background Check API (`match`, `content`)
        "backgroundCheck": normalized.CheckKind.AML,
        # the whole result, when the policy cannot read it (Decision policy)
        "result": normalized.CheckKind.OTHER,
    },
    outcomes={
        # docs/vendors/uqudo.md, Decision policy: the verdicts of the rules
        PASS: normalized.CheckOutcome.PASSED,
        DECLINE: normalized.CheckOutcome.FAILED,
        REVIEW: normalized.CheckOutcome.REVIEW,
        NOT_RUN: normalized.CheckOutcome.NOT_RUN,
    },
    reasons={
        # docs/vendors/uqudo.md, Decision policy (Default decision policy), one line per rule
        "policy:no_document": "document_missing",
        "policy:verifications_missing": "step_not_completed",
        "policy:face_mismatch": "face_mismatch",
        "policy:face_match_level": "face_mismatch",
        "policy:face_not_checked": "step_not_completed",
        "policy:face_match_level_missing": "technical_error",
        "policy:tampering_detected": "document_not_authentic",
        "policy:tampering_suspected": "document_not_authentic",
        "policy:print_detected": "document_not_authentic",
        "policy:screen_detected": "document_not_authentic",
        "policy:mrz_checksum_invalid": "document_data_inconsistent",
        "policy:mrz_checksum_missing": "document_unreadable",
        "policy:chip_signature_invalid": "document_not_authentic",
        "policy:background_check_hit": "aml_hit",
        "policy:result_unreadable": "technical_error",
    },
)
CHECK_TABLES: tuple[normalized.CheckTable, ...] = (UQUDO_CHECKS,)
#: What a normal QR flow checks: the document (scan, fraud scores), the face, the watch lists.
CHECK_KINDS = frozenset(
    {normalized.CheckKind.DOCUMENT, normalized.CheckKind.FACE_MATCH, normalized.CheckKind.AML}
)


# -- checks -----------------------------------------------------------------------------------
Rule = Callable[[ResultClaims, PolicySettings], Iterable[Finding]]
Evidence = Callable[[ResultClaims, PolicySettings], bool]
Score = Callable[[ResultClaims], float | None]


@dataclass(frozen=True)
class CheckRule:
    """One check: the result block it names, the policy rule that judges it, whether the
    result holds evidence for it (else NOT_RUN), and its score (the vendor's number)."""

    name: str
    rule: Rule
    evidence: Evidence
    score: Score | None = None


def _detections(claims: ResultClaims, field: str) -> list[Detection]:
    found = (getattr(v, field) for v in claims.data.verifications or ())
    return [d for d in found if d is not None and d.enabled is not False and d.score is not None]


def _worst_score(field: str) -> Score:
    def score(claims: ResultClaims) -> float | None:
        scores = [d.score for d in _detections(claims, field) if d.score is not None]
        return max(scores) if scores else None

    return score


def _has_detection(field: str) -> Evidence:
    return lambda claims, settings: bool(_detections(claims, field))


def _face_levels(claims: ResultClaims) -> list[float]:
    levels = [
        d.face.match_level
        for d in claims.data.documents
        if d.face is not None and d.face.match_level is not None
    ]
    for verification in claims.data.verifications or ():
        biometric = verification.biometric
        if biometric is not None and biometric.enabled is not False:
            if biometric.match_level is not None:
                levels.append(biometric.match_level)
    return levels


def _face_score(claims: ResultClaims) -> float | None:
    levels = _face_levels(claims)
    return min(levels) if levels else None


def _face_evidence(claims: ResultClaims, settings: PolicySettings) -> bool:
    """The face rule judges whenever it is on (no face data is itself a finding)."""
    return settings.min_face_match_level > 0


def _mrz_evidence(claims: ResultClaims, settings: PolicySettings) -> bool:
    for verification in claims.data.verifications or ():
        checksum = verification.mrz_checksum
        if settings.require_mrz_checksum:
            return True  # a verification object without a valid checksum is a finding
        if checksum is not None and checksum.enabled is not False and checksum.valid is not None:
            return True
    return False


def _chip_evidence(claims: ResultClaims, settings: PolicySettings) -> bool:
    for verification in claims.data.verifications or ():
        reading = verification.reading
        passive = reading.passive_authentication if reading is not None else None
        if (
            reading is not None
            and reading.enabled is not False
            and passive is not None
            and passive.enabled is not False
            and passive.document_data_signature_valid is not None
        ):
            return True
    return False


def _background_evidence(claims: ResultClaims, settings: PolicySettings) -> bool:
    check = claims.data.background_check
    return isinstance(check, dict) and isinstance(
        check.get(inferred.BACKGROUND_CHECK_HIT_KEY), bool
    )


#: Every check, in the policy's rule order (policy.RULES): each judged by its policy rule.
CHECK_RULES: tuple[CheckRule, ...] = (
    CheckRule("scan", policy.no_document, lambda c, s: True),
    CheckRule("verifications", policy.verifications_missing, lambda c, s: s.require_verifications),
    CheckRule("face", policy.face, _face_evidence, _face_score),
    CheckRule(
        "idPhotoTamperingDetection",
        policy.tampering,
        _has_detection("id_photo_tampering_detection"),
        _worst_score("id_photo_tampering_detection"),
    ),
    CheckRule(
        "idPrintDetection",
        policy.printed_copy,
        _has_detection("id_print_detection"),
        _worst_score("id_print_detection"),
    ),
    CheckRule(
        "idScreenDetection",
        policy.screen,
        _has_detection("id_screen_detection"),
        _worst_score("id_screen_detection"),
    ),
    CheckRule("mrzChecksum", policy.mrz_checksum, _mrz_evidence),
    CheckRule("reading.passiveAuthentication", policy.chip_signature, _chip_evidence),
    CheckRule("backgroundCheck", policy.background_check, _background_evidence),
)
#: Checks reported only when the result has the block (absent: not part of this flow).
ONLY_WHEN_PRESENT = frozenset({"verifications", "backgroundCheck"})


def read_checks(model: ResultClaims, settings: PolicySettings) -> tuple[normalized.Check, ...]:
    """One check per rule, outcome = the rule's worst verdict, reasons = its findings."""
    checks: list[normalized.Check] = []
    for row in CHECK_RULES:
        findings = list(dict.fromkeys(row.rule(model, settings)))
        has_evidence = row.evidence(model, settings)
        if not findings and not has_evidence and row.name in ONLY_WHEN_PRESENT:
            continue
        worst = max((f.verdict for f in findings), default=None)
        outcome = worst.name if worst is not None else (PASS if has_evidence else NOT_RUN)
        reasons = [policy.REASON_PREFIX + f.rule for f in findings if f.verdict == worst]
        score = row.score(model) if row.score is not None else None
        checks.append(UQUDO_CHECKS.check(row.name, outcome, reasons, score=score))
    return tuple(checks)


def unreadable_checks() -> tuple[normalized.Check, ...]:
    """The policy reviews a result it cannot read (`policy:result_unreadable`)."""
    return (UQUDO_CHECKS.check("result", REVIEW, ["policy:result_unreadable"]),)


# -- the entry point ----------------------------------------------------------------------------
def read_results(claims: Mapping[str, Any], settings: PolicySettings) -> normalized.Results:
    """The verified claims of a uqudo result (Info API or `jwsResult` webhook) as `Results`.
    Never raises: what cannot be read is None or skipped."""
    today = _reference_day(claims.get("iat") if isinstance(claims, Mapping) else None)
    try:
        model = claims_model(claims)
    except (ValidationError, TypeError, ValueError):
        return normalized.Results(checks=unreadable_checks())
    data = claims.get("data") if isinstance(claims.get("data"), dict) else {}
    raw_documents = data.get("documents") if isinstance(data.get("documents"), list) else []
    documents = [d for d in raw_documents if isinstance(d, dict)]
    return normalized.Results(
        checks=read_checks(model, settings),
        person=read_person(documents, today),
        documents=tuple(read_document(d, today) for d in documents),
    )


# -- the person and the documents ----------------------------------------------------------------
@dataclass(frozen=True)
class Sources:
    """One document's data blocks, most trusted first: chip MRZ, chip details, scan."""

    mrz: JSON
    personal: JSON
    details: JSON
    front: JSON
    back: JSON

    @classmethod
    def of(cls, document: JSON) -> Sources:
        reading = _obj(_obj(document.get("reading")).get("data"))
        scan = _obj(document.get("scan"))
        return cls(
            mrz=_obj(reading.get("mrz")),
            personal=_obj(reading.get("personalDetails")),
            details=_obj(reading.get("documentDetails")),
            front=_obj(scan.get("front")),
            back=_obj(scan.get("back")),
        )

    def text(self, *keys: tuple[str, str]) -> str | None:
        """The first non-empty (block, field) value, MRZ fillers turned into spaces."""
        for block, key in keys:
            value = _text(getattr(self, block).get(key))
            if value is not None:
                return value
        return None

    def raw(self, *keys: tuple[str, str]) -> list[Any]:
        return [getattr(self, block).get(key) for block, key in keys]


def read_person(documents: list[JSON], today: date) -> normalized.VerifiedPerson | None:
    """The person from the first document that names them."""
    for document in documents:
        person = _person_of(Sources.of(document), today)
        if person is not None:
            return person
    return None


def _person_of(src: Sources, today: date) -> normalized.VerifiedPerson | None:
    person = normalized.VerifiedPerson(
        first_name=src.text(
            ("mrz", "secondaryIdentifier"),
            ("front", "firstName"),
            ("front", "secondaryId"),
            ("back", "firstName"),
            ("back", "secondaryId"),
        ),
        last_name=src.text(
            ("mrz", "primaryIdentifier"),
            ("front", "lastName"),
            ("front", "primaryId"),
            ("back", "lastName"),
            ("back", "primaryId"),
        ),
        full_name=src.text(
            ("front", "fullName"), ("back", "fullName"), ("personal", "nameOfHolder")
        ),
        date_of_birth=_first_date(
            src.raw(
                ("front", "dateOfBirthFormatted"),
                ("back", "dateOfBirthFormatted"),
                ("mrz", "dateOfBirth"),
                ("front", "dateOfBirth"),
                ("back", "dateOfBirth"),
                ("personal", "fullDateOfBirth"),
            ),
            today,
            birth=True,
        ),
        nationality=_country(
            src.raw(
                ("mrz", "nationality"),
                ("front", "nationality"),
                ("front", "nationalityCode"),
                ("back", "nationality"),
                ("back", "nationalityCode"),
            )
        ),
        address=_address(src),
    )
    empty = all(value is None for value in vars(person).values())
    return None if empty else person


def read_document(document: JSON, today: date) -> normalized.VerifiedDocument:
    src = Sources.of(document)
    return normalized.VerifiedDocument(
        type=document_type(document.get("documentType")),
        country=_country(src.raw(("mrz", "issuingState"), ("front", "issuer"), ("back", "issuer"))),
        number=src.text(
            ("mrz", "documentNumber"), ("front", "documentNumber"), ("back", "documentNumber")
        ),
        issued_on=_first_date(
            src.raw(
                ("details", "dateOfIssue"),
                ("front", "dateOfIssueFormatted"),
                ("front", "dateOfIssue"),
                ("back", "dateOfIssueFormatted"),
                ("back", "dateOfIssue"),
            ),
            today,
            birth=True,  # an issue date is in the past, like a birth date
        ),
        expires_on=_first_date(
            src.raw(
                ("front", "dateOfExpiryFormatted"),
                ("back", "dateOfExpiryFormatted"),
                ("mrz", "dateOfExpiry"),
                ("front", "dateOfExpiry"),
                ("back", "dateOfExpiry"),
            ),
            today,
            birth=False,
        ),
    )


def document_type(code: Any) -> str | None:
    """uqudo's `documentType` (`PASSPORT`, `UAE_ID`, `NGA_DL`, …) as a `DocumentType` value:
    by the code's last part (inferred.DOCUMENT_TYPE_SUFFIXES); an unknown code is OTHER."""
    if not isinstance(code, str) or not code.strip():
        return None
    upper = code.strip().upper()
    for suffix, kind in inferred.DOCUMENT_TYPE_SUFFIXES:
        if upper == suffix or upper.endswith("_" + suffix):
            return kind.value
    return DocumentType.OTHER.value


def _address(src: Sources) -> normalized.Address | None:
    lines = src.personal.get("permanentAddress")
    texts = [t for t in (_text(x) for x in lines) if t] if isinstance(lines, list) else []
    address = normalized.Address(
        line1=texts[0] if texts else src.text(("front", "address"), ("back", "address")),
        line2=", ".join(texts[1:]) or None,
        city=src.text(("front", "city"), ("back", "city")),
        region=src.text(("front", "state"), ("back", "state")),
    )
    return None if address.is_empty() else address


# -- values ---------------------------------------------------------------------------------------
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DOTTED_DAY = re.compile(r"(\d{2})[./](\d{2})[./](\d{4})")
_COMPACT_DAY = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MRZ_DAY = re.compile(r"(\d{2})(\d{2})(\d{2})")
_COUNTRY = re.compile(r"[A-Z]{3}")


def _obj(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.replace("<", " ").split())
    return cleaned or None


def _first_date(values: list[Any], today: date, *, birth: bool) -> date | None:
    for value in values:
        parsed = parse_date(value, today, birth=birth)
        if parsed is not None:
            return parsed
    return None


def parse_date(value: Any, today: date, *, birth: bool) -> date | None:
    """uqudo's dates: ISO `yyyy-MM-dd` (`…Formatted`), `dd.MM.yyyy` (some national ids),
    `yyyyMMdd`, or the MRZ's `YYMMDD` (century: inferred.MRZ_CENTURY_RULE)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if match := _ISO_DAY.fullmatch(text[:10]):
            year, month, day = match.groups()
        elif match := _DOTTED_DAY.fullmatch(text):
            day, month, year = match.groups()
        elif match := _COMPACT_DAY.fullmatch(text):
            year, month, day = match.groups()
        elif match := _MRZ_DAY.fullmatch(text):
            yy, month, day = match.groups()
            year = str(_mrz_year(int(yy), today, birth=birth))
        else:
            return None
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _mrz_year(yy: int, today: date, *, birth: bool) -> int:
    """A birth (or issue) date is not in the future; an expiry is within the window."""
    if birth:
        year = 2000 + yy
        return year if year <= today.year else year - 100
    return 2000 + yy if yy < inferred.MRZ_EXPIRY_PIVOT else 1900 + yy


def _country(values: list[Any]) -> str | None:
    """ISO 3166-1 alpha-3 as the MRZ writes it (Germany's `D` is DEU)."""
    for value in values:
        text = _text(value)
        if text is None:
            continue
        code = inferred.MRZ_COUNTRY_ALIASES.get(text.upper(), text.upper())
        if _COUNTRY.fullmatch(code):
            return code
    return None


def _reference_day(iat: Any) -> date:
    """The result's own day (`iat`) decides a two-digit birth year; else today."""
    if isinstance(iat, int | float) and not isinstance(iat, bool):
        try:
            return datetime.fromtimestamp(iat, UTC).date()
        except (OverflowError, OSError, ValueError):
            pass
    return date.today()
