"""What the vendor found, as GraphQL shows it (docs/results.md): checks for `sessions:read`,
the person and the documents for `pii:read` only (never a client token)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from adapters import results
from gateway.web.graphql.enums import CheckKind, CheckOutcome, FieldMatchResult


@strawberry.type(description="One check the vendor ran, normalized (docs/results.md).")
class Check:
    kind: CheckKind
    outcome: CheckOutcome
    reasons: list[str] = strawberry.field(
        description="Stable normalized reason codes (docs/results.md, Reasons)."
    )
    provider_reasons: list[str] = strawberry.field(
        description="The vendor's own codes the reasons come from."
    )
    score: float | None = strawberry.field(description="The vendor's score, when it gives one.")
    provider_name: str = strawberry.field(description="The vendor's own name for the check.")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Check:
        check = results.Check.from_json(data)
        return cls(
            kind=check.kind,
            outcome=check.outcome,
            reasons=list(check.reasons),
            provider_reasons=list(check.provider_reasons),
            score=check.score,
            provider_name=check.provider_name,
        )


@strawberry.type
class VerifiedAddress:
    line1: str | None
    line2: str | None
    city: str | None
    postal_code: str | None
    region: str | None
    country: str | None


@strawberry.type(description="expectedPerson (sent at create) against what the vendor read.")
class FieldMatch:
    field: str
    match: FieldMatchResult


@strawberry.type(description="The person as the vendor read them; null values it did not give.")
class VerifiedPerson:
    first_name: str | None
    last_name: str | None
    full_name: str | None
    date_of_birth: date | None
    nationality: str | None
    address: VerifiedAddress | None
    matches_expected: list[FieldMatch]

    @classmethod
    def of(cls, data: dict[str, Any], expected: dict[str, Any] | None) -> VerifiedPerson:
        person = results.VerifiedPerson.from_json(data)
        address = person.address
        return cls(
            first_name=person.first_name,
            last_name=person.last_name,
            full_name=person.full_name,
            date_of_birth=person.date_of_birth,
            nationality=person.nationality,
            address=VerifiedAddress(
                line1=address.line1,
                line2=address.line2,
                city=address.city,
                postal_code=address.postal_code,
                region=address.region,
                country=address.country,
            )
            if address is not None and not address.is_empty()
            else None,
            matches_expected=[
                FieldMatch(field=name, match=match)
                for name, match in results.field_matches(expected, person)
            ],
        )


@strawberry.type(description="A document as the vendor read it.")
class VerifiedDocument:
    type: str | None = strawberry.field(description="A DocumentType value, when known.")
    country: str | None
    number: str | None
    issued_on: date | None
    expires_on: date | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VerifiedDocument:
        document = results.VerifiedDocument.from_json(data)
        return cls(
            type=document.type,
            country=document.country,
            number=document.number,
            issued_on=document.issued_on,
            expires_on=document.expires_on,
        )
