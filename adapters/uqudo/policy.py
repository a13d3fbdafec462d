"""Our decision on a verified uqudo result: uqudo decides nothing, the integrator's rules do
("Apply your own business or compliance rules", docs/vendors/uqudo.md, Decision policy).

Table-driven: every rule reads the verified claims and the deployment's settings and says
pass (None), REVIEW or DECLINE, under its own name. The most severe verdict wins:
any DECLINE → DECLINED, else any REVIEW → IN_REVIEW, else APPROVED. The deciding rules become
the reason codes (`policy:<rule>`), the others warnings. Codes only — never a name, number or
image id from the claims.

Settings come from `config.options` (`policy_*`); each default is a named constant below,
following uqudo's published guidance where it gives one — so uqudo's own documented example
result (face `match` true at `matchLevel` 2, no verification object) is APPROVED:
- `policy_min_face_match_level` (1-5; 0 = no face check): a face `matchLevel` below it
  declines, a result without face data goes to review. Also sent to the app as its floor.
- `policy_max_tampering_score` / `policy_review_tampering_score`: ID photo tampering 0-100
  above the first declines, above the second reviews.
- `policy_max_print_score`, `policy_max_screen_score`: printed copy / screen, 0-100.
- `policy_require_mrz_checksum`: true → an invalid MRZ checksum declines, and a verification
  object without a valid one reviews; false → an invalid one only reviews.
- `policy_require_verifications`: true → a result without a verification object reviews
  (uqudo's SDKs before mobile 3.x / web 3.4.2, and some documents, send none).
- `policy_background_hit`: `review` | `decline` for a background-check match.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from adapters.base import DecidedBy, Decision, Outcome, SessionStatus
from adapters.uqudo import inferred
from adapters.uqudo.statuses import RESULT_APPROVED, RESULT_DECLINED, RESULT_REVIEW
from adapters.uqudo.wire import Detection, ResultClaims, claims_model

REASON_PREFIX = "policy:"
PASSED_RULE = "passed"

#: uqudo's face object: "2: still a relatively high false acceptance rate, should be the
#: lowest acceptable level when using photo scans" (its create-session example uses 2 too).
DEFAULT_MIN_FACE_MATCH_LEVEL = 2
#: Not on a uqudo page we could read: our choice (reject a likely tampered photo) …
DEFAULT_MAX_TAMPERING_SCORE = 70
#: … and a human look at a doubtful one (our choice).
DEFAULT_REVIEW_TAMPERING_SCORE = 40
#: uqudo's verification object: "the mobile SDK will reject scanning attempts if the score
#: exceeds 50" (for printed copies from SDK 3.2.0) …
DEFAULT_MAX_PRINT_SCORE = 50
#: … and the same for screens ("if the score exceeds 50 unless allowNonPhysicalDocuments").
DEFAULT_MAX_SCREEN_SCORE = 50
#: Check digits are arithmetic: a wrong one is a wrong document (our choice).
DEFAULT_REQUIRE_MRZ_CHECKSUM = True
#: uqudo documents results without a verification object (older SDKs, some documents), and
#: its own example has none: not a reason for review by default.
DEFAULT_REQUIRE_VERIFICATIONS = False
#: A watch-list hit needs a person, not an automatic refusal (our choice).
DEFAULT_BACKGROUND_HIT = "review"

FACE_LEVELS = range(0, 6)
SCORES = range(0, 101)
BACKGROUND_HIT_CHOICES = ("review", "decline")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class Verdict(enum.IntEnum):
    """A rule's finding, ordered by severity."""

    REVIEW = 1
    DECLINE = 2


@dataclass(frozen=True)
class PolicySettings:
    min_face_match_level: int = DEFAULT_MIN_FACE_MATCH_LEVEL
    max_tampering_score: int = DEFAULT_MAX_TAMPERING_SCORE
    review_tampering_score: int = DEFAULT_REVIEW_TAMPERING_SCORE
    max_print_score: int = DEFAULT_MAX_PRINT_SCORE
    max_screen_score: int = DEFAULT_MAX_SCREEN_SCORE
    require_mrz_checksum: bool = DEFAULT_REQUIRE_MRZ_CHECKSUM
    background_hit: str = DEFAULT_BACKGROUND_HIT
    require_verifications: bool = DEFAULT_REQUIRE_VERIFICATIONS

    def __post_init__(self) -> None:
        if self.min_face_match_level not in FACE_LEVELS:
            raise ValueError("policy_min_face_match_level must be 0-5")
        for name in (
            "max_tampering_score",
            "review_tampering_score",
            "max_print_score",
            "max_screen_score",
        ):
            if getattr(self, name) not in SCORES:
                raise ValueError(f"policy_{name} must be 0-100")
        if self.review_tampering_score > self.max_tampering_score:
            raise ValueError("policy_review_tampering_score exceeds policy_max_tampering_score")
        if self.background_hit not in BACKGROUND_HIT_CHOICES:
            raise ValueError("policy_background_hit must be 'review' or 'decline'")

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> PolicySettings:
        """Settings from `config.options`; a malformed value raises ValueError naming it."""
        values: dict[str, Any] = {}
        for name in (
            "min_face_match_level",
            "max_tampering_score",
            "review_tampering_score",
            "max_print_score",
            "max_screen_score",
        ):
            raw = options.get(f"policy_{name}")
            if raw is not None and raw.strip():
                try:
                    values[name] = int(raw.strip())
                except ValueError:
                    raise ValueError(f"policy_{name} must be an integer") from None
        for name in ("require_mrz_checksum", "require_verifications"):
            raw = options.get(f"policy_{name}")
            if raw is not None and raw.strip():
                flag = raw.strip().lower()
                if flag not in _TRUE | _FALSE:
                    raise ValueError(f"policy_{name} must be true or false")
                values[name] = flag in _TRUE
        raw = options.get("policy_background_hit")
        if raw is not None and raw.strip():
            values["background_hit"] = raw.strip().lower()
        return cls(**values)


@dataclass(frozen=True)
class Finding:
    rule: str
    verdict: Verdict


@dataclass(frozen=True)
class PolicyResult:
    status: SessionStatus
    provider_status: str
    outcome: Outcome
    deciding: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(REASON_PREFIX + rule for rule in self.deciding)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(REASON_PREFIX + f.rule for f in self.findings if f.rule not in self.deciding)

    def decision(self, decided_at: datetime | None) -> Decision:
        return Decision(
            outcome=self.outcome,
            decided_by=DecidedBy.POLICY,
            reason_codes=self.reason_codes,
            warnings=self.warnings,
            decided_at=decided_at,
        )

    def to_json(self) -> dict[str, Any]:
        """A PII-free summary for the session's raw payload."""
        return {
            "outcome": self.outcome.value,
            "deciding": list(self.deciding),
            "findings": [{"rule": f.rule, "verdict": f.verdict.name} for f in self.findings],
        }


# -- the rules -----------------------------------------------------------------------------------
Rule = Callable[[ResultClaims, PolicySettings], Iterable[Finding]]


def _over(detection: Detection | None, limit: int) -> bool:
    """An enabled detection whose score is above `limit` (disabled or absent: no evidence)."""
    if detection is None or detection.enabled is False or detection.score is None:
        return False
    return detection.score > limit


def no_document(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    if not claims.data.documents:
        yield Finding("no_document", Verdict.REVIEW)


def verifications_missing(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    if settings.require_verifications and not claims.data.verifications:
        yield Finding("verifications_missing", Verdict.REVIEW)


def face(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    if settings.min_face_match_level == 0:
        return
    levels: list[float] = []
    for document in claims.data.documents:
        if document.face is None:
            continue
        if document.face.match is False:
            yield Finding("face_mismatch", Verdict.DECLINE)
        if document.face.match_level is not None:
            levels.append(document.face.match_level)
    for verification in claims.data.verifications or ():
        biometric = verification.biometric
        if (
            biometric is not None
            and biometric.enabled is not False
            and biometric.match_level is not None
        ):
            levels.append(biometric.match_level)
    if not levels and not any(d.face is not None for d in claims.data.documents):
        yield Finding("face_not_checked", Verdict.REVIEW)
    elif levels and min(levels) < settings.min_face_match_level:
        yield Finding("face_match_level", Verdict.DECLINE)
    elif not levels:
        yield Finding("face_match_level_missing", Verdict.REVIEW)


def tampering(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    for verification in claims.data.verifications or ():
        detection = verification.id_photo_tampering_detection
        if _over(detection, settings.max_tampering_score):
            yield Finding("tampering_detected", Verdict.DECLINE)
        elif _over(detection, settings.review_tampering_score):
            yield Finding("tampering_suspected", Verdict.REVIEW)


def printed_copy(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    for verification in claims.data.verifications or ():
        if _over(verification.id_print_detection, settings.max_print_score):
            yield Finding("print_detected", Verdict.DECLINE)


def screen(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    for verification in claims.data.verifications or ():
        if _over(verification.id_screen_detection, settings.max_screen_score):
            yield Finding("screen_detected", Verdict.DECLINE)


def mrz_checksum(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    verifications = claims.data.verifications or ()
    for verification in verifications:
        checksum = verification.mrz_checksum
        checked = checksum is not None and checksum.enabled is not False
        if checked and checksum is not None and checksum.valid is False:
            verdict = Verdict.DECLINE if settings.require_mrz_checksum else Verdict.REVIEW
            yield Finding("mrz_checksum_invalid", verdict)
        elif settings.require_mrz_checksum and not (checked and checksum and checksum.valid):
            yield Finding("mrz_checksum_missing", Verdict.REVIEW)


def chip_signature(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    for verification in claims.data.verifications or ():
        reading = verification.reading
        passive = reading.passive_authentication if reading is not None else None
        if (
            reading is not None
            and reading.enabled is not False
            and passive is not None
            and passive.enabled is not False
            and passive.document_data_signature_valid is False
        ):
            yield Finding("chip_signature_invalid", Verdict.DECLINE)


def background_check(claims: ResultClaims, settings: PolicySettings) -> Iterable[Finding]:
    check = claims.data.background_check
    if isinstance(check, dict) and check.get(inferred.BACKGROUND_CHECK_HIT_KEY) is True:
        verdict = Verdict.DECLINE if settings.background_hit == "decline" else Verdict.REVIEW
        yield Finding("background_check_hit", verdict)


#: The policy, in evaluation order (the order of reason codes).
RULES: tuple[Rule, ...] = (
    no_document,
    verifications_missing,
    face,
    tampering,
    printed_copy,
    screen,
    mrz_checksum,
    chip_signature,
    background_check,
)

_OUTCOMES: dict[Verdict | None, tuple[SessionStatus, str, Outcome]] = {
    Verdict.DECLINE: (SessionStatus.DECLINED, RESULT_DECLINED, Outcome.DECLINED),
    Verdict.REVIEW: (SessionStatus.IN_REVIEW, RESULT_REVIEW, Outcome.REVIEW),
    None: (SessionStatus.APPROVED, RESULT_APPROVED, Outcome.APPROVED),
}


def evaluate(claims: Mapping[str, Any], settings: PolicySettings) -> PolicyResult:
    """Judge verified claims. A result the rules cannot read goes to review."""
    try:
        model = claims_model(claims)
    except ValidationError:
        findings: list[Finding] = [Finding("result_unreadable", Verdict.REVIEW)]
    else:
        findings = []
        for rule in RULES:
            for finding in rule(model, settings):
                if finding not in findings:
                    findings.append(finding)
    worst = max((f.verdict for f in findings), default=None)
    status, provider_status, outcome = _OUTCOMES[worst]
    deciding = tuple(f.rule for f in findings if f.verdict == worst) or (PASSED_RULE,)
    return PolicyResult(
        status=status,
        provider_status=provider_status,
        outcome=outcome,
        deciding=deciding,
        findings=tuple(findings),
    )
