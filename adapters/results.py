"""What a vendor found, in one shape for every vendor: checks, the person, the documents.

Each adapter reads its vendor's documented result payload into `Results` through declared
`CheckTable`s (vendor check name → `CheckKind`, vendor outcome → `CheckOutcome`, vendor
reason → one of `REASON_CODES`). The vocabulary, and which vendor field feeds which normalized
field, is docs/results.md. Nothing here knows a vendor, GraphQL or the database.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

JSON = dict[str, Any]


class CheckKind(enum.StrEnum):
    DOCUMENT = "DOCUMENT"
    FACE_MATCH = "FACE_MATCH"
    LIVENESS = "LIVENESS"
    AML = "AML"
    AGE = "AGE"
    PROOF_OF_ADDRESS = "PROOF_OF_ADDRESS"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    DATABASE = "DATABASE"
    SIGNATURE = "SIGNATURE"
    OTHER = "OTHER"


class CheckOutcome(enum.StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    REVIEW = "REVIEW"
    NOT_RUN = "NOT_RUN"


class FieldMatchResult(enum.StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    UNKNOWN = "UNKNOWN"


#: The normalized reason codes (docs/results.md, Reasons). Stable: clients switch on them.
REASON_CODES = frozenset(
    {
        # the document
        "document_expired",
        "document_not_authentic",
        "document_unreadable",
        "document_unsupported",
        "document_data_inconsistent",
        "document_missing",
        # the face
        "face_mismatch",
        "face_not_detected",
        "liveness_failed",
        # screening
        "aml_hit",
        "pep_hit",
        "sanctions_hit",
        "adverse_media_hit",
        # age, address, contact, registries, signatures
        "age_not_satisfied",
        "age_unknown",
        "address_not_verified",
        "phone_not_verified",
        "email_not_verified",
        "database_no_match",
        "database_mismatch",
        "signature_invalid",
        # the person or the session as a whole
        "duplicate_identity",
        "expected_data_mismatch",
        "blocklisted",
        "high_risk",
        "manual_review",
        "user_declined",
        "step_not_completed",
        "technical_error",
        #: a vendor reason our table does not know (its raw code is kept beside it)
        "other",
    }
)
UNKNOWN_REASON = "other"


@dataclass(frozen=True)
class Check:
    """One thing the vendor checked. `reasons` are normalized codes (`REASON_CODES`),
    `provider_reasons` the vendor's own codes they came from. `recognized` is False when the
    vendor sent a check name, outcome or reason the adapter's table does not know: the
    gateway logs and counts those."""

    kind: CheckKind
    outcome: CheckOutcome
    provider_name: str
    reasons: tuple[str, ...] = ()
    provider_reasons: tuple[str, ...] = ()
    score: float | None = None
    recognized: bool = True

    def to_json(self) -> JSON:
        return {
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "provider_name": self.provider_name,
            "reasons": list(self.reasons),
            "provider_reasons": list(self.provider_reasons),
            "score": self.score,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Check:
        return cls(
            kind=CheckKind(data["kind"]),
            outcome=CheckOutcome(data["outcome"]),
            provider_name=str(data["provider_name"]),
            reasons=tuple(data.get("reasons") or ()),
            provider_reasons=tuple(data.get("provider_reasons") or ()),
            score=data.get("score"),
        )


@dataclass(frozen=True)
class CheckTable:
    """One vendor's check vocabulary, as data (Libcloud's `NODE_STATE_MAP`, for results).

    `kinds`: the vendor's check names; `outcomes`: its outcome values (case-sensitive, as
    documented); `reasons`: its reason or warning codes. An unknown name becomes `OTHER`, an
    unknown outcome `REVIEW` (a person should look: we never guess a pass or a fail), an
    unknown reason `other`; each marks the check unrecognized."""

    kinds: Mapping[str, CheckKind]
    outcomes: Mapping[str, CheckOutcome]
    reasons: Mapping[str, str] = field(default_factory=dict)

    def check(
        self,
        name: str,
        outcome: str | None,
        reasons: Iterable[str] = (),
        *,
        score: float | None = None,
        kind: CheckKind | None = None,
    ) -> Check:
        """The normalized check for the vendor's `name` with its raw `outcome` and reasons.
        `kind` overrides the table for vendors whose names are free-form but typed elsewhere."""
        known_kind = kind or self.kinds.get(name)
        normalized_outcome = self.outcomes.get(outcome) if outcome is not None else None
        raw_reasons = tuple(dict.fromkeys(r for r in reasons if r))
        normalized = tuple(dict.fromkeys(self.reasons.get(r, UNKNOWN_REASON) for r in raw_reasons))
        return Check(
            kind=known_kind or CheckKind.OTHER,
            outcome=normalized_outcome or CheckOutcome.REVIEW,
            provider_name=name,
            reasons=normalized,
            provider_reasons=raw_reasons,
            score=score,
            recognized=(
                known_kind is not None
                and normalized_outcome is not None
                and all(r in self.reasons for r in raw_reasons)
            ),
        )

    def vocabulary_problems(self) -> list[str]:
        """Values this table maps outside the normalized vocabulary (the conformance suite
        requires none)."""
        return [
            f"reason {raw!r} -> {code!r}"
            for raw, code in self.reasons.items()
            if code not in REASON_CODES
        ]


@dataclass(frozen=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class VerifiedPerson:
    """The person as the vendor read them (document, wallet claims, registry); each value is
    the vendor's extraction, None when it did not give it."""

    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    date_of_birth: date | None = None
    nationality: str | None = None
    address: Address | None = None

    def to_json(self) -> JSON:
        data = _flat_json(self)
        data["address"] = _address_json(self.address)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifiedPerson:
        address = data.get("address")
        return cls(
            **_flat_fields(cls, data, dates=("date_of_birth",), skip=("address",)),
            address=Address(**address) if address else None,
        )

    def over(self, older: VerifiedPerson | None) -> VerifiedPerson:
        """This reading, with what an earlier one knew and this one leaves out (a step-based
        vendor reports one step's claims at a time)."""
        if older is None:
            return self
        taken = {f.name: getattr(self, f.name) for f in fields(self)}
        kept = {name: getattr(older, name) for name, value in taken.items() if value is None}
        return replace(self, **kept)


@dataclass(frozen=True)
class VerifiedDocument:
    """`type` is one of the `DocumentType` values (adapters.base), or None."""

    type: str | None = None
    country: str | None = None
    number: str | None = None
    issued_on: date | None = None
    expires_on: date | None = None

    def to_json(self) -> JSON:
        return _flat_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifiedDocument:
        return cls(**_flat_fields(cls, data, dates=("issued_on", "expires_on")))


def _flat_json(value: Any) -> JSON:
    """A result dataclass's fields as JSON values (dates as ISO text)."""
    return {
        f.name: (v.isoformat() if isinstance(v, date) else v)
        for f in fields(value)
        for v in (getattr(value, f.name),)
    }


def _flat_fields(
    cls: type, data: Mapping[str, Any], *, dates: tuple[str, ...], skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`cls`'s fields read back from `_flat_json` output; missing or empty values are None."""
    read: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        value = data.get(f.name)
        read[f.name] = date.fromisoformat(value) if value and f.name in dates else value
    return read


@dataclass(frozen=True)
class Results:
    """What one vendor payload says about the session's results. On a snapshot, None means
    the payload says nothing about them (the stored results stay); a `Results` is merged
    over what is stored (`merged_over`)."""

    checks: tuple[Check, ...] = ()
    person: VerifiedPerson | None = None
    documents: tuple[VerifiedDocument, ...] = ()

    def merged_over(self, stored: Results | None) -> Results:
        """A check replaces the stored one with the same vendor name and kind; stored checks
        this payload does not mention stay (a step event names its own step only); the person
        is merged field by field; documents are replaced when this payload has any."""
        if stored is None:
            return self
        mine = {(c.provider_name, c.kind) for c in self.checks}
        kept = tuple(c for c in stored.checks if (c.provider_name, c.kind) not in mine)
        person = self.person.over(stored.person) if self.person else stored.person
        return Results(
            checks=kept + self.checks,
            person=person,
            documents=self.documents or stored.documents,
        )

    def without_personal_data(self) -> Results:
        """Checks only: what a redacted session may still store."""
        return Results(checks=self.checks)


def failed_reasons(checks: Iterable[Check]) -> tuple[str, ...]:
    """The normalized reasons of the failed checks, in order, once each: what a DECLINED
    decision lists (a failed check without a reason contributes its kind)."""
    found: list[str] = []
    for check in checks:
        if check.outcome is CheckOutcome.FAILED:
            found += check.reasons or (f"{check.kind.value.lower()}_failed",)
    return tuple(dict.fromkeys(found))


def field_matches(
    expected: Mapping[str, Any] | None, person: VerifiedPerson | None
) -> list[tuple[str, FieldMatchResult]]:
    """`expectedPerson` (as sent at create: `first_name`, `last_name`, `date_of_birth`)
    against what the vendor read. Names compare without case, accents or extra spaces;
    UNKNOWN when either side lacks the value."""
    expected = expected or {}
    read = person.to_json() if person else {}
    matches: list[tuple[str, FieldMatchResult]] = []
    for name, camel in (
        ("first_name", "firstName"),
        ("last_name", "lastName"),
        ("date_of_birth", "dateOfBirth"),
    ):
        want, got = expected.get(name), read.get(name)
        if want is None or got is None:
            matches.append((camel, FieldMatchResult.UNKNOWN))
        elif _comparable(str(want)) == _comparable(str(got)):
            matches.append((camel, FieldMatchResult.MATCH))
        else:
            matches.append((camel, FieldMatchResult.MISMATCH))
    return matches


def _comparable(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def _address_json(address: Address | None) -> JSON | None:
    if address is None or address.is_empty():
        return None
    return {f.name: getattr(address, f.name) for f in fields(address)}


def results_to_json(results: Results) -> JSON:
    return {
        "checks": [c.to_json() for c in results.checks],
        "person": results.person.to_json() if results.person else None,
        "documents": [d.to_json() for d in results.documents],
    }
