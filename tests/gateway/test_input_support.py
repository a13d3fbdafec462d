"""Input support: every vendor declares every createSession field, the declarations drive the
warnings a request gets, and the README matrix is the one the declarations generate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from adapters.base import (
    Capability,
    Contact,
    CreateSessionRequest,
    ExpectedPerson,
    InputSupport,
    StepRequest,
    StepType,
    ignored,
    input_fields,
    inputs_set,
    mapped,
    sent,
)
from adapters.registry import adapter_class, provider_names
from gateway.vendors.input_support import (
    GATEWAY_FIELDS,
    MATRIX_END,
    MATRIX_START,
    camel,
    field_path,
    ignored_inputs,
    render_matrix,
    replace_matrix,
    support_rows,
)
from gateway.web.graphql.inputs import ContactInput, CreateSessionInput, ExpectedPersonInput

README = Path(__file__).resolve().parents[2] / "README.md"
VENDORS = provider_names()


def _graphql_names(cls: type) -> set[str]:
    return {camel(f.name) for f in dataclasses.fields(cls)}


def test_declared_fields_are_exactly_the_graphql_input_fields() -> None:
    """The normalized names camelized are the GraphQL input's names: a field added to one
    and not the other fails here, so it cannot go undeclared."""
    top = {name.split(".")[0] for name in input_fields()}
    graphql_top = set(CreateSessionInput.__annotations__) - set(GATEWAY_FIELDS)
    assert {camel(n) for n in top} == {camel(n) for n in graphql_top}
    assert {n.split(".")[1] for n in input_fields() if n.startswith("contact.")} == set(
        ContactInput.__annotations__
    )
    assert {n.split(".")[1] for n in input_fields() if n.startswith("expected_person.")} == set(
        ExpectedPersonInput.__annotations__
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_declares_every_input_field(vendor: str) -> None:
    cls = adapter_class(vendor)
    assert cls.undeclared_inputs() == ()
    assert set(cls.input_support) <= set(input_fields()), "declares a field that does not exist"


@pytest.mark.parametrize("vendor", VENDORS)
def test_steps_are_refused_exactly_where_the_vendor_has_no_steps(vendor: str) -> None:
    cls = adapter_class(vendor)
    refused = cls.input_support["steps"].support is InputSupport.REFUSED
    assert refused is (Capability.STEPS not in cls.capabilities)
    others = [n for n, d in cls.input_support.items() if d.support is InputSupport.REFUSED]
    assert others in ([], ["steps"])


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_mapped_ignored_or_refused_field_says_why(vendor: str) -> None:
    for name, declared in adapter_class(vendor).input_support.items():
        if declared.support is not InputSupport.SENT:
            assert declared.note.strip(), f"{vendor} {name}: {declared.support} needs a note"
        assert "\n" not in declared.note, f"{vendor} {name}: one line"


def test_camel_and_paths() -> None:
    assert camel("expires_in") == "expiresIn"
    assert camel("expected_person.document_types") == "expectedPerson.documentTypes"
    assert field_path("contact.email") == ("input", "contact", "email")


def test_inputs_set_counts_only_what_the_caller_set() -> None:
    assert inputs_set(CreateSessionRequest()) == ()
    request = CreateSessionRequest(
        expires_in=600,
        metadata={},
        contact=Contact(phone="+34600000000"),
        expected_person=ExpectedPerson(first_name="Ana"),
        steps=(StepRequest(type=StepType.IDENTIFY),),
    )
    assert inputs_set(request) == (  # an empty object or list says nothing, like a default
        "expires_in",
        "contact.phone",
        "expected_person.first_name",
        "steps",
    )


def test_ignored_inputs_name_each_field_and_the_reason() -> None:
    declarations = {
        "expires_in": ignored("expiry is a workflow setting"),
        "language": mapped("lower-cased"),
        "contact.email": ignored("no e-mail flow"),
        "contact.phone": sent(),
    }
    request = CreateSessionRequest(
        expires_in=600, language="EN", contact=Contact(email="a@example.com", phone="+1")
    )
    found = ignored_inputs("acme", declarations, request)
    assert [w.field for w in found] == [("input", "expiresIn"), ("input", "contact", "email")]
    assert found[0].message == "acme ignores expiresIn: expiry is a workflow setting"
    # Unset ignored fields are not reported.
    assert ignored_inputs("acme", declarations, CreateSessionRequest(language="en")) == []


def test_support_rows_list_every_field_and_show_an_undeclared_one() -> None:
    rows = support_rows({"expires_in": ignored("no expiry")})
    assert [r.field for r in rows] == ["provider", *(camel(n) for n in input_fields())]
    by_field = {r.field: r for r in rows}
    assert by_field["expiresIn"].support is InputSupport.IGNORED
    assert by_field["language"].note == "not declared"


def test_readme_carries_the_generated_matrix() -> None:
    """`kyc-gateway input-matrix --write README.md` regenerates it."""
    text = README.read_text()
    assert MATRIX_START in text and MATRIX_END in text
    matrix = render_matrix((n, adapter_class(n).input_support) for n in VENDORS)
    assert replace_matrix(text, matrix) == text, (
        "README input matrix is stale: run `kyc-gateway input-matrix --write README.md`"
    )


def test_matrix_has_a_row_per_field_and_a_column_per_vendor() -> None:
    matrix = render_matrix(
        [("acme", {"expires_in": ignored("no expiry")}), ("zeta", {"expires_in": sent()})]
    )
    lines = matrix.splitlines()
    assert "| field | acme | zeta |" in lines
    assert "| `expiresIn` | IGNORED | SENT |" in lines
    assert "- `expiresIn` IGNORED: no expiry" in lines
    assert len([line for line in lines if line.startswith("| `")]) == 1 + len(input_fields())
