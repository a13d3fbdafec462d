"""Issue 14, item 9: the schema does not leak to callers without an API key.

Outside dev mode "Did you mean …" hints named enum values, arguments, types and input fields
to anyone; in a keyed deployment introspection and GraphiQL answered without credentials."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import GatewayProcess
from tests.support.keys import create_sessions, env, issue_token, key

DECIDE = 'mutation { decideSession(id: "x", decision: APPROV) { userErrors { code } } }'
#: Mistakes graphql-core answers with a suggestion when suggestions are on.
MISTAKES = {
    "enum_value": ("decider", DECIDE, None),
    "argument": ("reader", '{ session(idd: "x") { id } }', None),
    "type_in_fragment": (
        "reader",
        '{ session(id: "x") { ...F } } fragment F on Sesion { id }',
        None,
    ),
    "input_field": (
        "writer",
        'mutation { createSession(input: {clientReferenc: "x"}) { userErrors { code } } }',
        None,
    ),
    "enum_in_variables": (
        "decider",
        'mutation($d: DecisionAction!) { decideSession(id: "x", decision: $d) '
        "{ userErrors { code } } }",
        {"d": "APPROV"},
    ),
    "input_field_in_variables": (
        "writer",
        "mutation($i: CreateSessionInput!) { createSession(input: $i) { userErrors { code } } }",
        {"i": {"clientReferenc": "x"}},
    ),
    "field": ("reader", '{ session(id: "x") { statu } }', None),
}


def _start(tmp: pytest.TempPathFactory, name: str, extra: dict[str, str]) -> GatewayProcess:
    gateway = GatewayProcess(tmp.mktemp(name), extra_env=extra)
    gateway.start()
    return gateway


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = _start(tmp_path_factory, "hints-keyed", env())
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = _start(tmp_path_factory, "hints-dev", {})
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def client_token(keyed: GatewayProcess) -> str:
    (session_id,) = create_sessions(keyed.base, ["hints"])
    return issue_token(keyed.base, session_id)


def _post(
    server: GatewayProcess, secret: str | None, query: str, variables: dict | None = None
) -> dict:
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    with httpx.Client(base_url=server.base, timeout=20, headers=headers) as c:
        r = c.post("/graphql", json={"query": query, "variables": variables or {}})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_no_suggestions_outside_dev_mode(keyed: GatewayProcess, mistake: str) -> None:
    holder, query, variables = MISTAKES[mistake]
    body = _post(keyed, key(holder), query, variables)
    messages = [error["message"] for error in body["errors"]]
    assert messages, body  # the mistake is still reported…
    assert not any("Did you mean" in m for m in messages), messages  # …without the hint


def test_dev_mode_keeps_suggestions(dev: GatewayProcess) -> None:
    body = _post(dev, None, DECIDE)
    assert any("Did you mean the enum value 'APPROVE'?" in e["message"] for e in body["errors"])


INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.mark.parametrize("query", [INTROSPECTION, '{ __type(name: "Session") { name } }'])
def test_introspection_needs_an_api_key(
    keyed: GatewayProcess, client_token: str, query: str
) -> None:
    anonymous = _post(keyed, None, query)
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    browser = _post(keyed, client_token, query)
    assert browser["data"] is None
    assert browser["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Hidden in a fragment: still introspection.
    hidden = _post(keyed, client_token, "{ ...Q } fragment Q on Query " + query)
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    backend = _post(keyed, key("stats"), query)  # any scope will do
    assert "errors" not in backend, backend
    assert backend["data"]


def test_a_client_token_may_still_ask_for_typename(
    keyed: GatewayProcess, client_token: str
) -> None:
    assert _post(keyed, client_token, "{ __typename }") == {"data": {"__typename": "Query"}}


def test_graphiql_needs_an_api_key(keyed: GatewayProcess, client_token: str) -> None:
    html = {"accept": "text/html"}
    with httpx.Client(base_url=keyed.base, timeout=20) as c:
        anonymous = c.get("/graphql", headers=html)
        browser = c.get("/graphql", headers={**html, "authorization": f"Bearer {client_token}"})
        backend = c.get("/graphql", headers={**html, "x-api-key": key("reader")})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("text/plain")  # no page
    assert browser.status_code == 403
    assert backend.status_code == 200
    assert "graphiql" in backend.text.lower()


def test_dev_mode_serves_graphiql_and_introspection(dev: GatewayProcess) -> None:
    with httpx.Client(base_url=dev.base, timeout=20) as c:
        assert c.get("/graphql", headers={"accept": "text/html"}).status_code == 200
    assert "errors" not in _post(dev, None, INTROSPECTION)


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = _start(tmp_path_factory, "hints-public", {**env(), "KYCGW_PUBLIC_SCHEMA": "true"})
    try:
        yield gateway
    finally:
        gateway.stop()


def test_a_public_schema_is_open_to_everyone_but_nothing_else_is(public: GatewayProcess) -> None:
    with httpx.Client(base_url=public.base, timeout=20) as c:
        assert c.get("/graphql", headers={"accept": "text/html"}).status_code == 200
    assert _post(public, None, INTROSPECTION)["data"]["__schema"]["queryType"]["name"] == "Query"
    data = _post(public, None, "{ providers { name } }")
    assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
