"""UIP's verified steps as `Results` (docs/vendors/uip.md, Results; docs/results.md, UIP).

UIP checks one thing per step, the step's primitive, and reports each verified step once: the
`step.completed` webhook and, on Version B reads, `results[]` ("the same payloads delivered by
webhook"). Each step is one check named `step <index>: <primitive>`, so a step event replaces
that step's stored check and leaves the other steps' (`Results.merged_over`). The verdict is
verdicts.py's (completing is it, except age_verify's `satisfied`), so checks and decisions
never disagree. A `session.failed` fails the step that was running. identify's claims are the
person and the credential. Version A reads carry no results: None, the stored ones stay.

PII: the person and the document only ever travel in `Results` (read with `pii:read`) and the
restricted `raw`; checks carry primitive names and codes only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from adapters import results as normalized
from adapters.base import StepType
from adapters.uip import inferred
from adapters.uip.statuses import FAILED, TECHNICAL_FAILURE_REASONS, is_technical, split_status
from adapters.uip.verdicts import UNMET_CODES, VERDICT_RULES, Known, unmet_code
from adapters.uip.wire import PRIMITIVES, UNAVAILABLE, SessionResource, VerifiedStep

IDENTIFY = PRIMITIVES[StepType.IDENTIFY]
#: A step verified and its completion is its verdict (identify, sign, light_sign).
VERIFIED = "verified"
#: The check of a `session.failed` whose step is not known.
FAILED_EVENT_CHECK = "session.failed"
#: A check's name carries at most this much of an unknown primitive.
MAX_NAME = 64


def field_outcome(name: str, value: bool) -> str:
    """The outcome key of a verdict field's boolean (`satisfied=true`)."""
    return f"{name}={'true' if value else 'false'}"


#: The step checks (docs/vendors/uip.md, Results): primitive → kind; outcome → CheckOutcome;
#: reason → normalized code.
STEP_CHECKS = normalized.CheckTable(
    kinds=MappingProxyType(
        {
            # Results, Check kinds: identify discloses blocks of the wallet's government
            # credential after verifying it ("a US mobile driving licence").
            "identify": normalized.CheckKind.DOCUMENT,
            # Results, Check kinds: "returns only the boolean" whether the age is ≥ min_age.
            "age_verify": normalized.CheckKind.AGE,
            # Results, Check kinds: "the device signature" over "the hash that was signed".
            "sign": normalized.CheckKind.SIGNATURE,
            "light_sign": normalized.CheckKind.SIGNATURE,
        }
    ),
    outcomes=MappingProxyType(
        {
            # Results, Outcomes: step.completed is "A step verified successfully".
            VERIFIED: normalized.CheckOutcome.PASSED,
            # Results, Outcomes: age_verify's `satisfied`, "the threshold result".
            field_outcome("satisfied", True): normalized.CheckOutcome.PASSED,
            field_outcome("satisfied", False): normalized.CheckOutcome.FAILED,
            # Results, Outcomes: session.failed, "A step failed verification".
            FAILED: normalized.CheckOutcome.FAILED,
            # Results, Outcomes: "funds ran out, or an internal error": the step did not run.
            **{
                f"{FAILED}:{r}": normalized.CheckOutcome.NOT_RUN
                for r in sorted(TECHNICAL_FAILURE_REASONS)
            },
        }
    ),
    reasons=MappingProxyType(
        {
            # Results, Reasons: a code-like verification message spelled as our code
            # (inferred.FAILURE_REASONS_AS_CODES).
            **{code: code for code in sorted(inferred.FAILURE_REASONS_AS_CODES)},
            # Results, Reasons: an unmet verdict's code (verdicts.py, VERDICT_RULES).
            **{code: code for code in sorted(UNMET_CODES)},
            # Results, Reasons: session.failed `reason` "insufficient_funds, or internal_error".
            **{reason: "technical_error" for reason in sorted(TECHNICAL_FAILURE_REASONS)},
        }
    ),
)
CHECK_TABLES: tuple[normalized.CheckTable, ...] = (STEP_CHECKS,)
#: What a normal UIP flow checks (the documented primitives' kinds).
CHECK_KINDS: frozenset[normalized.CheckKind] = frozenset(STEP_CHECKS.kinds.values())


# -- checks -----------------------------------------------------------------------------------
def check_name(index: int, primitive: str | None) -> str:
    """`step <index>: <primitive>`: stable across the webhook and every later read."""
    return f"step {index}: {(primitive or 'unknown')[:MAX_NAME]}"


def step_outcome(primitive: str | None, fields: Mapping[str, Any]) -> str | None:
    """The outcome key of a verified step (verdicts.py's rule), None when it says none (an
    unknown primitive, a verdict field missing or not a boolean)."""
    rule = VERDICT_RULES.get(primitive or "")
    if rule is None:
        return None
    if rule.field is None:
        return VERIFIED
    value = fields.get(rule.field)
    return field_outcome(rule.field, value) if isinstance(value, bool) else None


def step_check(step: VerifiedStep) -> normalized.Check | None:
    """One verified step's check; None without a usable step index (nothing to name it by)."""
    index = step.index
    if index is None:
        return None
    primitive = step.primitive_name
    fields = step.model_dump()
    outcome = step_outcome(primitive, fields)
    rule = VERDICT_RULES.get(primitive or "")
    unmet = rule is not None and rule.field is not None and fields.get(rule.field) is False
    reasons = [code] if unmet and (code := unmet_code(primitive)) else []
    kind = STEP_CHECKS.kinds.get(primitive or "")
    return STEP_CHECKS.check(check_name(index, primitive), outcome, reasons, kind=kind)


def failed_step(known: Known) -> tuple[int, str] | None:
    """(index, primitive) of the step a `session.failed` is about: the one after the last
    verified step, when the adapter knows the step list
    (inferred.FAILED_STEP_IS_NEXT_UNVERIFIED)."""
    if not inferred.FAILED_STEP_IS_NEXT_UNVERIFIED or not known.types:
        return None
    stage = max(known.verdicts) + 1 if known.verdicts else 0
    return (stage, known.types[stage]) if stage < len(known.types) else None


def failure_results(raw_status: str, step: tuple[int, str] | None) -> normalized.Results | None:
    """A `session.failed` (raw status `failed:<reason>`): the running step FAILED with the
    reason, or NOT_RUN for a technical reason; None for anything but a failure."""
    status, qualifier = split_status(raw_status)
    if status != FAILED:
        return None
    reason = (qualifier or "").strip()
    outcome = FAILED
    if reason and is_technical(reason):
        reason = reason.lower()
        outcome = f"{FAILED}:{reason}"
    if step is None:
        name, kind = FAILED_EVENT_CHECK, normalized.CheckKind.OTHER
    else:
        name, kind = check_name(*step), STEP_CHECKS.kinds.get(step[1])
    check = STEP_CHECKS.check(name, outcome, [reason] if reason else [], kind=kind)
    return normalized.Results(checks=(check,))


# -- the person and the credential --------------------------------------------------------------
def _text(value: Any) -> str | None:
    """A disclosed block's text; None for "unavailable", blanks and non-strings."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if text and text != UNAVAILABLE else None


def _day(value: Any) -> date | None:
    """`dob` is YYYY-MM-DD (core-concepts/primitives); anything else is None."""
    text = _text(value)
    if text is None or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def person_of(claims: Mapping[str, Any]) -> normalized.VerifiedPerson | None:
    """The identify blocks about the person; None when none was disclosed."""
    country = _text(claims.get("country")) if inferred.COUNTRY_BLOCK_IS_NATIONALITY else None
    person = normalized.VerifiedPerson(
        first_name=_text(claims.get("first_name")),
        last_name=_text(claims.get("last_name")),
        full_name=_text(claims.get("full_name")),
        date_of_birth=_day(claims.get("dob")),
        nationality=country,
    )
    return None if person == normalized.VerifiedPerson() else person


def document_of(claims: Mapping[str, Any]) -> normalized.VerifiedDocument | None:
    """The credential, when a block about it (`country`, `document_number`) was disclosed."""
    country = _text(claims.get("country"))
    number = _text(claims.get("document_number"))
    if country is None and number is None:
        return None
    return normalized.VerifiedDocument(
        type=inferred.CREDENTIAL_DOCUMENT_TYPE,
        country=country.upper() if country else None,
        number=number,
    )


# -- payloads -----------------------------------------------------------------------------------
def step_results(step: VerifiedStep) -> normalized.Results:
    """One verified step (a `step.completed`'s data or a `results[]` item)."""
    check = step_check(step)
    claims = step.claims if step.primitive_name == IDENTIFY else None
    claims = claims if isinstance(claims, dict) else {}
    document = document_of(claims)
    return normalized.Results(
        checks=(check,) if check else (),
        person=person_of(claims),
        documents=(document,) if document else (),
    )


def combined(parts: Iterable[normalized.Results]) -> normalized.Results:
    """Several steps as one `Results`: checks in order, later claims over earlier ones."""
    checks: list[normalized.Check] = []
    person: normalized.VerifiedPerson | None = None
    documents: list[normalized.VerifiedDocument] = []
    for part in parts:
        checks += part.checks
        person = part.person.over(person) if part.person else person
        documents += part.documents
    return normalized.Results(tuple(checks), person, tuple(dict.fromkeys(documents)))


def read_results(session: SessionResource) -> normalized.Results | None:
    """A read's results: Version B's `results[]`; None for Version A (it has none)."""
    if session.results is None:
        return None
    return combined(step_results(step) for step in session.results)
