"""What each credential reads of a session (issue 14, item 12). Before: a key with only
`sessions:write` or `sessions:decide` read any session's `clientReference`, `history` and
`decision` through mutation payloads, and a client token read every field of its session,
`providerSessionId` included (which let it drive the sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.server import GatewayProcess
from tests.support.keys import (
    env,
    graphql_as,
    issue_token,
    key,
    session_field_as,
    simulate_as,
)

#: README "Access control": exactly what a session's own client token reads.
CLIENT_TOKEN_FIELDS = {
    "id",
    "status",
    "isFinal",
    "expiresAt",
    "steps",
    "currentStep",
    "decision",
    "verificationUrl",
    "qrCode",
}


@dataclass
class World:
    server: GatewayProcess
    session_id: str
    token: str
    fields: dict[str, str]  # Session field → a selection for it
    metadata_session_id: str  # at a vendor whose sessions take metadata updates


def _post(server: GatewayProcess, secret: str, query: str, variables: dict | None = None) -> dict:
    r = graphql_as(server.base, secret, query, variables)
    assert r.status_code == 200, r.text
    return r.json()


def _session_fields(server: GatewayProcess) -> dict[str, str]:
    """Every field of `Session`, with `{ __typename }` under object-typed ones."""
    body = _post(
        server,
        key("admin"),
        '{ __type(name: "Session") { fields { name type { kind ofType { kind ofType '
        "{ kind ofType { kind } } } } } } }",
    )
    fields = {}
    for field in body["data"]["__type"]["fields"]:
        kind, node = field["type"]["kind"], field["type"]
        while kind in ("NON_NULL", "LIST"):
            node = node["ofType"]
            kind = node["kind"]
        selection = field["name"] + (" { __typename }" if kind == "OBJECT" else "")
        fields[field["name"]] = selection
    return fields


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with GatewayProcess(tmp_path_factory.mktemp("visibility"), extra_env=env()) as server:
        created = _post(
            server,
            key("writer"),
            'mutation { createSession(input: {clientReference: "crm-4711", provider: "didit", '
            'metadata: {plan: "gold"}}) { session { id } } }',
        )["data"]["createSession"]["session"]
        token = issue_token(server.base, created["id"], ttl=300)
        vendor_id = session_field_as(server.base, key("reader"), created["id"], "providerSessionId")
        assert isinstance(vendor_id, str)
        for action in ("open", "review"):  # to IN_REVIEW, where a reviewer may decide
            r = simulate_as(server.base, key("sandbox"), "didit", vendor_id, action)
            assert r.status_code == 200, r.text
        other = _post(
            server,
            key("writer"),
            'mutation { createSession(input: {clientReference: "crm-4712", provider: "beltic"}) '
            "{ session { id } } }",
        )["data"]["createSession"]["session"]
        yield World(server, created["id"], token, _session_fields(server), other["id"])


def _denied(body: dict, field: str) -> str | None:
    for error in body.get("errors") or []:
        if error.get("path") and error["path"][-1] == field:
            return error["extensions"]["code"]
    return None


def test_the_session_type_has_fields_beyond_the_client_token_list(world: World) -> None:
    assert CLIENT_TOKEN_FIELDS < set(world.fields)


@pytest.mark.parametrize("field", sorted(CLIENT_TOKEN_FIELDS))
def test_a_client_token_reads_each_listed_field(world: World, field: str) -> None:
    body = _post(
        world.server,
        world.token,
        f"query($id: ID!) {{ session(id: $id) {{ {world.fields[field]} }} }}",
        {"id": world.session_id},
    )
    assert "errors" not in body, body
    assert field in body["data"]["session"]


def test_a_client_token_reads_nothing_else(world: World) -> None:
    others = sorted(set(world.fields) - CLIENT_TOKEN_FIELDS)
    selection = " ".join(world.fields[f] for f in others)
    body = _post(
        world.server,
        world.token,
        f"query($id: ID!) {{ session(id: $id) {{ id {selection} }} }}",
        {"id": world.session_id},
    )
    session = body["data"]["session"]
    assert session["id"] == world.session_id
    leaked = {f: session[f] for f in others if session[f] not in (None, [])}
    assert not leaked
    assert {f: _denied(body, f) for f in others} == dict.fromkeys(others, "FORBIDDEN")


PAYLOAD = "session { id status clientReference metadata history { status } decision { outcome } }"


@pytest.mark.parametrize(
    ("holder", "mutation", "target"),
    [
        ("write_only", "refreshSession(id: $id)", "didit"),
        ("write_only", 'updateSessionMetadata(id: $id, metadata: {note: "x"})', "beltic"),
        ("decide_only", "decideSession(id: $id, decision: APPROVE)", "didit"),
    ],
)
def test_a_mutation_payload_without_sessions_read_shows_id_and_status_only(
    world: World, holder: str, mutation: str, target: str
) -> None:
    name = mutation.split("(")[0]
    session_id = world.session_id if target == "didit" else world.metadata_session_id
    body = _post(
        world.server,
        key(holder),
        f"mutation($id: ID!) {{ {name}: {mutation} {{ {PAYLOAD} userErrors {{ code }} }} }}",
        {"id": session_id},
    )
    payload = body["data"][name]
    assert payload["userErrors"] == [], payload
    session = payload["session"]
    assert session["id"] == session_id and session["status"]
    for field in ("clientReference", "metadata", "history", "decision"):
        assert session[field] is None, (field, session)
        assert _denied(body, field) == "FORBIDDEN"


def test_a_write_only_key_creating_a_session_gets_its_id_status_and_link(world: World) -> None:
    body = _post(
        world.server,
        key("write_only"),
        'mutation { createSession(input: {clientReference: "new", provider: "didit"}) '
        "{ session { id status verificationUrl clientReference history { status } } } }",
    )
    session = body["data"]["createSession"]["session"]
    assert session["id"] and session["status"] and session["verificationUrl"]
    assert session["clientReference"] is None and session["history"] is None


def test_a_reader_key_still_reads_everything_but_pii_and_links(world: World) -> None:
    body = _post(
        world.server,
        key("reader"),
        "query($id: ID!) { session(id: $id) { id clientReference providerSessionId metadata "
        "history { status } } }",
        {"id": world.session_id},
    )
    assert "errors" not in body, body
    session = body["data"]["session"]
    assert session["clientReference"] == "crm-4711" and session["providerSessionId"]
    assert session["metadata"] == {"plan": "gold"} and session["history"]
