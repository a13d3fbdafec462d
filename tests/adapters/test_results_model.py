"""The vendor-neutral result model (adapters/results.py): tables that never guess, merging
that loses nothing a step reported, a declined decision's reasons, name matching."""

from __future__ import annotations

from datetime import date

import pytest

from adapters import registry
from adapters.results import (
    REASON_CODES,
    Address,
    Check,
    CheckKind,
    CheckOutcome,
    CheckTable,
    FieldMatchResult,
    Results,
    VerifiedDocument,
    VerifiedPerson,
    failed_reasons,
    field_matches,
    results_to_json,
)

TABLE = CheckTable(
    kinds={"selfie": CheckKind.FACE_MATCH, "doc": CheckKind.DOCUMENT},
    outcomes={"ok": CheckOutcome.PASSED, "ko": CheckOutcome.FAILED},
    reasons={"EXPIRED": "document_expired", "NOT_SAME": "face_mismatch"},
)


def test_a_known_check_is_mapped_and_recognized() -> None:
    check = TABLE.check("doc", "ko", ["EXPIRED", "EXPIRED", ""], score=0.2)
    assert check == Check(
        CheckKind.DOCUMENT,
        CheckOutcome.FAILED,
        "doc",
        ("document_expired",),
        ("EXPIRED",),
        0.2,
        recognized=True,
    )


@pytest.mark.parametrize(
    ("name", "outcome", "reasons", "kind", "normalized_outcome", "normalized_reasons"),
    [
        ("fingerprint", "ok", [], CheckKind.OTHER, CheckOutcome.PASSED, ()),
        ("doc", "maybe", [], CheckKind.DOCUMENT, CheckOutcome.REVIEW, ()),
        ("doc", None, [], CheckKind.DOCUMENT, CheckOutcome.REVIEW, ()),
        ("doc", "ko", ["GLARE"], CheckKind.DOCUMENT, CheckOutcome.FAILED, ("other",)),
    ],
)
def test_an_unknown_value_is_kept_unrecognized_never_guessed(
    name: str,
    outcome: str | None,
    reasons: list[str],
    kind: CheckKind,
    normalized_outcome: CheckOutcome,
    normalized_reasons: tuple[str, ...],
) -> None:
    check = TABLE.check(name, outcome, reasons)
    assert (check.kind, check.outcome, check.reasons) == (
        kind,
        normalized_outcome,
        normalized_reasons,
    )
    assert check.provider_name == name and check.provider_reasons == tuple(reasons)
    assert check.recognized is False


def test_vocabulary_problems_name_codes_outside_the_vocabulary() -> None:
    assert TABLE.vocabulary_problems() == []
    bad = CheckTable(kinds={}, outcomes={}, reasons={"X": "made_up"})
    assert bad.vocabulary_problems() == ["reason 'X' -> 'made_up'"]
    assert "other" in REASON_CODES


def test_merging_keeps_what_a_later_step_does_not_mention() -> None:
    first = Results(
        checks=(TABLE.check("doc", "ok"),),
        person=VerifiedPerson(first_name="Ana", date_of_birth=date(1990, 1, 2)),
        documents=(VerifiedDocument(type="PASSPORT", number="X1"),),
    )
    later = Results(
        checks=(TABLE.check("selfie", "ko", ["NOT_SAME"]), TABLE.check("doc", "ko", ["EXPIRED"])),
        person=VerifiedPerson(last_name="Lima"),
    )
    merged = later.merged_over(first)
    assert [(c.provider_name, c.outcome) for c in merged.checks] == [
        ("selfie", CheckOutcome.FAILED),
        ("doc", CheckOutcome.FAILED),
    ]
    assert merged.person == VerifiedPerson(
        first_name="Ana", last_name="Lima", date_of_birth=date(1990, 1, 2)
    )
    assert merged.documents == first.documents
    assert Results().merged_over(first).person == first.person
    assert first.without_personal_data() == Results(checks=first.checks)


def test_json_round_trip() -> None:
    person = VerifiedPerson(
        "Ana", "Lima", "Ana Lima", date(1990, 1, 2), "PRT", Address(city="Porto", country="PT")
    )
    document = VerifiedDocument("ID_CARD", "PRT", "123", date(2020, 1, 1), date(2030, 1, 1))
    data = results_to_json(Results((TABLE.check("doc", "ok"),), person, (document,)))
    assert VerifiedPerson.from_json(data["person"]) == person
    assert VerifiedDocument.from_json(data["documents"][0]) == document
    assert Check.from_json(data["checks"][0]) == TABLE.check("doc", "ok")
    assert VerifiedPerson.from_json(VerifiedPerson().to_json()).address is None


def test_failed_reasons_are_ordered_once_each_and_never_empty_for_a_failure() -> None:
    checks = [
        TABLE.check("doc", "ko", ["EXPIRED"]),
        TABLE.check("selfie", "ok"),
        TABLE.check("selfie", "ko", ["NOT_SAME", "EXPIRED"]),
        Check(CheckKind.LIVENESS, CheckOutcome.FAILED, "live"),
    ]
    assert failed_reasons(checks) == ("document_expired", "face_mismatch", "liveness_failed")


@pytest.mark.parametrize(
    ("expected", "person", "matches"),
    [
        (
            {"first_name": "José", "last_name": "Da  Silva", "date_of_birth": "1990-01-02"},
            VerifiedPerson("JOSE", "da silva", date_of_birth=date(1990, 1, 2)),
            ["MATCH", "MATCH", "MATCH"],
        ),
        (
            {"first_name": "Ana", "last_name": None, "date_of_birth": "1990-01-02"},
            VerifiedPerson("Anna", "Lima", date_of_birth=date(1991, 1, 2)),
            ["MISMATCH", "UNKNOWN", "MISMATCH"],
        ),
        (None, VerifiedPerson("Ana"), ["UNKNOWN", "UNKNOWN", "UNKNOWN"]),
        ({"first_name": "Ana"}, None, ["UNKNOWN", "UNKNOWN", "UNKNOWN"]),
    ],
)
def test_field_matches(
    expected: dict | None, person: VerifiedPerson | None, matches: list[str]
) -> None:
    got = field_matches(expected, person)
    assert [name for name, _ in got] == ["firstName", "lastName", "dateOfBirth"]
    assert [m for _, m in got] == [FieldMatchResult(m) for m in matches]


@pytest.mark.parametrize("vendor", registry.provider_names())
def test_every_vendor_declares_its_checks_within_the_vocabulary(vendor: str) -> None:
    adapter = registry.adapter_class(vendor)
    assert adapter.check_tables, f"{vendor} declares no check table"
    assert adapter.check_kinds, f"{vendor} declares no check kinds"
    for table in adapter.check_tables:
        assert table.vocabulary_problems() == []
    declared = {kind for table in adapter.check_tables for kind in table.kinds.values()}
    assert adapter.check_kinds <= declared | {CheckKind.OTHER}
