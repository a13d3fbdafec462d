"""Beltic's results as `Results` (docs/vendors/beltic.md, Results; docs/results.md, Beltic).

A Beltic session carries the applicant's data (`person`, `address`, `identity_numbers`) and
is linked to its verifications, each with a `status` and `checks[]` items `{name, status,
reasons, requirement, metadata}`. Each verification becomes one check named by its type (its
overall verdict), and each of its `checks[]` items one more. Values Beltic does not give stay
None; unreadable values are skipped, never raised.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from adapters import results as normalized
from adapters.base import DocumentType
from adapters.beltic import inferred
from adapters.beltic.wire import Resource

#: One check per verification, named by its type; outcomes are the verification statuses.
VERIFICATIONS = normalized.CheckTable(
    kinds={
        # docs/vendors/beltic.md, Results: identity-verifications-create's three `data.type`s
        "verification/idv": normalized.CheckKind.DOCUMENT,  # "Identity document verification"
        # "Address document verification"
        "verification/address": normalized.CheckKind.PROOF_OF_ADDRESS,
        "verification/business": normalized.CheckKind.DATABASE,  # "Business verification / KYB"
    },
    outcomes={
        # docs/vendors/beltic.md, Results: the verifications guide's status table
        "passed": normalized.CheckOutcome.PASSED,  # "All required checks passed"
        "failed": normalized.CheckOutcome.FAILED,  # "One or more required checks failed"
        # "could not be completed ... should retry"
        "requires_retry": normalized.CheckOutcome.REVIEW,
        "initiated": normalized.CheckOutcome.NOT_RUN,  # "created and processing has started"
        "canceled": normalized.CheckOutcome.NOT_RUN,  # listed in identity-verifications-list
    },
    reasons=inferred.CHECK_REASON_CODES,  # its failing checks' reasons (inferred)
)

#: The `checks[]` items of a verification.
CHECKS = normalized.CheckTable(
    kinds=inferred.CHECK_NAME_KINDS,  # names not published (inferred)
    outcomes={
        # docs/vendors/beltic.md, Results: the reference's example check status
        "not_applicable": normalized.CheckOutcome.NOT_RUN,
        **inferred.CHECK_STATUS_OUTCOMES,  # passed / failed / requires_retry (inferred)
    },
    reasons=inferred.CHECK_REASON_CODES,  # no published vocabulary (inferred)
)

TABLES: tuple[normalized.CheckTable, ...] = (VERIFICATIONS, CHECKS)


def session_results(
    attributes: Mapping[str, Any], session_id: str, included: Collection[Resource]
) -> normalized.Results | None:
    """What a session document says about results; None when it says nothing (no applicant
    data, no identity number, no verification of this session)."""
    checks = tuple(_checks(_verifications(session_id, included)))
    person = _person(attributes, included, session_id)
    documents = tuple(_documents(attributes, included, session_id))
    if not checks and person is None and not documents:
        return None
    return normalized.Results(checks=checks, person=person, documents=documents)


# -- checks ---------------------------------------------------------------------------------
def _verifications(session_id: str, included: Collection[Resource]) -> list[Resource]:
    return [
        item
        for item in included
        if isinstance(item.type, str)
        # `verification/idv` etc.; the list reference's example types its items `verification`
        and item.type.startswith(inferred.VERIFICATION_TYPE_PREFIX)
        and item.related_id("session") in (session_id, None)
    ]


def _checks(verifications: Iterable[Resource]) -> Iterable[normalized.Check]:
    for verification in verifications:
        attributes = verification.attributes if isinstance(verification.attributes, dict) else {}
        status = _text(attributes.get("status"))
        items = [i for i in _list(attributes.get("checks")) if isinstance(i, dict)]
        # The verification's verdict is explained by the checks that share it.
        explaining = [r for i in items if _text(i.get("status")) == status for r in _reasons(i)]
        yield VERIFICATIONS.check(verification.type, status, explaining)
        for item in items:
            name = _text(item.get("name"))
            if name is None:
                continue
            yield CHECKS.check(name, _text(item.get("status")), _reasons(item), score=_score(item))


def _reasons(item: Mapping[str, Any]) -> list[str]:
    return [r for r in _list(item.get("reasons")) if isinstance(r, str) and r]


def _score(item: Mapping[str, Any]) -> float | None:
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        return None
    value = metadata.get(inferred.CHECK_SCORE_METADATA_KEY)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# -- the person -----------------------------------------------------------------------------
def _person(
    attributes: Mapping[str, Any], included: Collection[Resource], session_id: str
) -> normalized.VerifiedPerson | None:
    person = _dict(attributes.get("person"))
    name = _dict(person.get("name"))
    found = normalized.VerifiedPerson(
        first_name=_text(name.get("first")),
        last_name=_text(name.get("last")),
        date_of_birth=_date(person.get("birth_date")),
        nationality=_nationality(included, session_id),
        address=_address(_dict(attributes.get("address"))),
    )
    if found == normalized.VerifiedPerson():
        return None
    return found


def _address(address: Mapping[str, Any]) -> normalized.Address | None:
    found = normalized.Address(
        line1=_text(address.get("line1")),
        line2=_text(address.get("line2")),
        city=_text(address.get("locality")),
        postal_code=_text(address.get("postal_code")),
        region=_text(address.get("administrative_area")),
        country=_text(address.get("country_code")),
    )
    return None if found.is_empty() else found


def _nationality(included: Collection[Resource], session_id: str) -> str | None:
    """The session has no nationality; a `document/address` of the session shows one."""
    for item in _documents_of(included, session_id, "document/address"):
        value = _text(_dict(item.attributes).get("nationality"))
        if value is not None:
            return value
    return None


# -- documents ------------------------------------------------------------------------------
def _documents(
    attributes: Mapping[str, Any], included: Collection[Resource], session_id: str
) -> Iterable[normalized.VerifiedDocument]:
    number = _dict(attributes.get("identity_numbers"))
    if _text(number.get("number")) is not None:
        yield normalized.VerifiedDocument(
            type=_document_type(number.get("class")),
            country=_text(number.get("issuing_country_code")),
            number=_text(number.get("number")),
        )
    for item in _documents_of(included, session_id, "document/idv"):
        kind = _text(_dict(item.attributes).get("document_type"))
        if kind is not None:
            yield normalized.VerifiedDocument(type=_document_type(kind))


def _documents_of(included: Collection[Resource], session_id: str, kind: str) -> Iterable[Resource]:
    for item in included:
        if item.type == kind and item.related_id("session") in (session_id, None):
            yield item


def _document_type(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return inferred.DOCUMENT_TYPES.get(text.lower(), DocumentType.OTHER).value


# -- tolerant readers -------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _date(value: Any) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
