"""Through GraphQL: `providers { inputSupport }` publishes the declarations, and a create that
sets a field its vendor ignores succeeds with an INPUT_IGNORED warning naming the field."""

from __future__ import annotations

from adapters.base import InputSupport
from adapters.registry import adapter_class, provider_names
from gateway.vendors.input_support import support_rows
from tests.conftest import Harness

PROVIDERS = "{ providers { name inputSupport { field support note } } }"
CREATE = """
mutation Create($input: CreateSessionInput!) {
  createSession(input: $input) {
    session { id expiresAt }
    warnings { code field message }
    userErrors { code field message }
  }
}
"""
REFRESH = """
mutation Refresh($id: ID!) {
  refreshSession(id: $id) { session { id } warnings { code } userErrors { code } }
}
"""


async def test_input_support_lists_every_field_for_every_vendor(harness: Harness) -> None:
    data = await harness.gql(PROVIDERS)
    published = {p["name"]: p["inputSupport"] for p in data["providers"]}
    assert sorted(published) == provider_names()
    for name, rows in published.items():
        expected = [
            {"field": r.field, "support": r.support.value, "note": r.note}
            for r in support_rows(adapter_class(name).input_support)
        ]
        assert rows == expected, name
        assert all(r["note"] != "not declared" for r in rows), name


def _ignored_by(vendor: str) -> list[str]:
    return [
        name
        for name, d in adapter_class(vendor).input_support.items()
        if d.support is InputSupport.IGNORED
    ]


async def test_ignored_expiry_is_reported_and_never_invented(harness: Harness) -> None:
    """Didit takes no per-session expiry (docs/vendors/didit.md): the session is created,
    `expiresAt` stays null, and the payload names the field it ignored."""
    assert "expires_in" in _ignored_by("didit")
    payload = (
        await harness.gql(
            CREATE,
            {"input": {"provider": "didit", "clientReference": "w-1", "expiresIn": 600}},
        )
    )["createSession"]
    assert payload["userErrors"] == []
    assert payload["session"]["expiresAt"] is None
    assert [(w["code"], w["field"]) for w in payload["warnings"]] == [
        ("INPUT_IGNORED", ["input", "expiresIn"])
    ]
    assert "expiresIn" in payload["warnings"][0]["message"]


async def test_a_request_using_only_honoured_fields_has_no_warnings(harness: Harness) -> None:
    payload = (
        await harness.gql(CREATE, {"input": {"provider": "didit", "clientReference": "w-2"}})
    )["createSession"]
    assert payload["userErrors"] == [] and payload["warnings"] == []
    refreshed = (await harness.gql(REFRESH, {"id": payload["session"]["id"]}))["refreshSession"]
    assert refreshed["warnings"] == []


async def test_an_idempotent_replay_repeats_the_warnings(harness: Harness) -> None:
    variables = {
        "input": {
            "provider": "didit",
            "clientReference": "w-3",
            "expiresIn": 900,
            "idempotencyKey": "idem-w-3",
        }
    }
    first = (await harness.gql(CREATE, variables))["createSession"]
    again = (await harness.gql(CREATE, variables))["createSession"]
    assert again["session"]["id"] == first["session"]["id"]
    assert again["warnings"] == first["warnings"] != []
