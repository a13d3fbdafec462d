"""Issue 14, item 11: malformed input is the caller's mistake, never a masked 500.

A `metadata` value nested 500 levels deep crashed the idempotency hash (RecursionError) and a
`sessions(after:)` cursor holding a datetime without a time zone crashed the query; both
were answered INTERNAL_SERVER_ERROR. Against a real keyed server: BAD_USER_INPUT naming the
field, and no traceback in the server's log."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import GatewayProcess
from tests.support.keys import env, key

CREATE = (
    "mutation($i: CreateSessionInput!) { createSession(input: $i) "
    "{ session { id } userErrors { code field message } } }"
)
UPDATE = (
    "mutation($id: ID!, $m: JSON!) { updateSessionMetadata(id: $id, metadata: $m) "
    "{ userErrors { code field message } } }"
)
SESSIONS = "query($a: String) { sessions(first: 5, after: $a) { totalCount } }"


def nested(levels: int) -> dict:
    value: dict = {"leaf": True}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def cursor(text: str) -> str:
    """The sessions connection's cursor format (gateway/web/graphql/cursors.py)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("bad-input"), extra_env=env()) as gateway:
        yield gateway


def _post(
    server: GatewayProcess, query: str, variables: dict | None = None, who: str = "admin"
) -> httpx.Response:
    with httpx.Client(base_url=server.base, timeout=20, headers={"x-api-key": key(who)}) as c:
        return c.post("/graphql", json={"query": query, "variables": variables or {}})


def _codes(body: dict) -> list[str]:
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    for payload in (body.get("data") or {}).values():
        codes += [e["code"] for e in (payload or {}).get("userErrors") or []]
    return codes


@pytest.fixture(autouse=True)
def log_start(server: GatewayProcess) -> int:
    """Where the server's log stood when the test began: each test checks its own lines."""
    return len(server.log_text())


def _no_traceback(server: GatewayProcess, start: int) -> None:
    log = server.log_text()[start:]
    assert "Traceback" not in log and "RecursionError" not in log, log[-3000:]


def test_deep_metadata_in_variables_is_bad_user_input(
    server: GatewayProcess, log_start: int
) -> None:
    body = _post(server, CREATE, {"i": {"clientReference": "deep", "metadata": nested(500)}}).json()
    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert body["data"] is None
    assert "metadata" in body["errors"][0]["message"]
    assert "nests deeper than 32 levels" in body["errors"][0]["message"]
    _no_traceback(server, log_start)


def test_deep_metadata_in_the_document_is_bad_user_input(
    server: GatewayProcess, log_start: int
) -> None:
    deep = "[" * 100 + "]" * 100  # the parser's own nesting limit is 200
    body = _post(
        server,
        "mutation { createSession(input: {metadata: {a: " + deep + "}}) { userErrors { code } } }",
    ).json()
    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == ["input", "metadata"]
    _no_traceback(server, log_start)


@pytest.mark.parametrize("where", ["providerOptions", "steps"])
def test_every_json_input_is_bounded(server: GatewayProcess, log_start: int, where: str) -> None:
    request: dict = {"clientReference": "deep"}
    if where == "steps":
        request["steps"] = [{"type": "IDENTIFY", "params": nested(40)}]
    else:
        request[where] = nested(40)
    body = _post(server, CREATE, {"i": request}).json()
    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert "nests deeper than 32 levels" in body["errors"][0]["message"]
    _no_traceback(server, log_start)


def test_metadata_at_the_limit_is_accepted(server: GatewayProcess) -> None:
    body = _post(
        server, CREATE, {"i": {"clientReference": "at-limit", "metadata": nested(32)}}
    ).json()
    assert "errors" not in body, body
    assert body["data"]["createSession"]["session"]["id"]


def test_deep_metadata_update_is_bad_user_input(server: GatewayProcess, log_start: int) -> None:
    body = _post(server, UPDATE, {"id": "ses_missing", "m": nested(500)}).json()
    assert _codes(body) == ["BAD_USER_INPUT"], body
    _no_traceback(server, log_start)


@pytest.mark.parametrize(("levels", "status"), [(900, 200), (100_000, 400)])
def test_bodies_nested_deeper_still_are_never_a_500(
    server: GatewayProcess, log_start: int, levels: int, status: int
) -> None:
    """900 levels still parse (BAD_USER_INPUT as above); 100 000 exhaust the JSON parser: 400."""
    text = '{"query": ' + json.dumps(CREATE) + ', "variables": {"i": {"metadata": '
    text += '{"a": ' * levels + "1" + "}" * levels + "}}}"
    with httpx.Client(base_url=server.base, timeout=20, headers={"x-api-key": key("admin")}) as c:
        r = c.post("/graphql", content=text, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text[:500]
    if status == 200:
        assert _codes(r.json()) == ["BAD_USER_INPUT"]
    _no_traceback(server, log_start)


@pytest.mark.parametrize(
    "after",
    [
        cursor("2024-01-01T00:00:00|ses_x"),  # no time zone
        cursor("9999-12-31T23:59:59-23:59|ses_x"),  # beyond year 9999 in UTC
        cursor("0001-01-01T00:00:00+14:00|ses_x"),  # before year 1 in UTC
        cursor("not a time|ses_x"),
        "%%%",
    ],
    ids=["naive", "overflow_high", "overflow_low", "garbage", "not_base64"],
)
def test_bad_cursors_are_bad_user_input(server: GatewayProcess, log_start: int, after: str) -> None:
    body = _post(server, SESSIONS, {"a": after}, who="reader").json()
    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == ["after"]
    _no_traceback(server, log_start)


def test_a_good_cursor_still_pages(server: GatewayProcess) -> None:
    body = _post(server, "{ sessions(first: 1) { edges { cursor } } }", who="reader").json()
    end = body["data"]["sessions"]["edges"][0]["cursor"]
    assert "errors" not in _post(server, SESSIONS, {"a": end}, who="reader").json()


@pytest.mark.parametrize("name", ["createdAfter", "createdBefore"])
def test_filter_times_without_a_zone_are_bad_user_input(
    server: GatewayProcess, log_start: int, name: str
) -> None:
    query = f'{{ sessions(filter: {{{name}: "2024-01-01T00:00:00"}}) {{ totalCount }} }}'
    body = _post(server, query, who="reader").json()
    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == ["filter", name]
    zoned = _post(server, query.replace('00:00:00"', '00:00:00Z"'), who="reader").json()
    assert "errors" not in zoned, zoned
    _no_traceback(server, log_start)
