"""Hostile and malformed input at a real server: random GraphQL documents and variables,
broken webhook bodies (truncated JSON, wrong types, 10 MB, deep nesting, invalid UTF-8).
No 500, no crash, nothing stored from an unsigned body, and correct answers afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.server import GatewayProcess

PROVIDERS = ["didit", "verifa", "beltic", "uip", "uqudo", "nope"]
FIELDS = ["session", "sessions", "providers", "routing", "createSession", "__typename", "id"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
graphql_like = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda op, fields, junk: f"{op} {{ {' '.join(fields)} {junk} }}",
        st.sampled_from(["query", "mutation", "subscription", "", "fragment X on Query"]),
        st.lists(st.sampled_from(FIELDS), max_size=5),
        st.text(alphabet="{}()[]:$!@#,\"'\\ abc\n", max_size=40),
    ),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("fuzz")) as process:
        yield process


def _still_healthy(client: httpx.Client) -> None:
    r = client.post("/graphql", json={"query": "{ providers { name } }"})
    assert r.status_code == 200 and r.json()["data"]["providers"]


@pytest.mark.parametrize("body", [b"0", b"[]", b'"x"', b"null", b"[1,2]", b"true", b"{"])
def test_json_that_is_not_an_object_is_a_400(server: GatewayProcess, body: bytes) -> None:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        r = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=graphql_like, variables=json_values)
def test_random_graphql_never_500s(
    server: GatewayProcess, document: str, variables: object
) -> None:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        r = client.post("/graphql", json={"query": document, "variables": variables})
        assert r.status_code < 500, r.text
        r = client.post(
            "/graphql",
            content=document.encode("utf-8", "surrogatepass"),
            headers={"content-type": "application/json"},
        )
        assert r.status_code < 500, r.text


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    provider=st.sampled_from(PROVIDERS),
    body=st.one_of(
        st.binary(max_size=500),
        json_values.map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: json.dumps(v).encode()[: max(1, len(json.dumps(v)) // 2)]),
    ),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "x-signature",
                "x-signature-v2",
                "x-timestamp",
                "x-verifa-signature",
                "x-uip-signature",
                "x-uip-timestamp",
                "x-webhook-signature",
                "authorization",
            ]
        ),
        st.text(alphabet="0123456789abcdeft=,v1", max_size=70),
        max_size=4,
    ),
)
def test_unsigned_webhooks_are_refused_and_store_nothing(
    server: GatewayProcess, provider: str, body: bytes, headers: dict[str, str]
) -> None:
    before = server.stored_events()
    with httpx.Client(base_url=server.base, timeout=10) as client:
        r = client.post(f"/webhooks/{provider}", content=body, headers=headers)
    assert r.status_code in (400, 401, 404, 413), (r.status_code, r.text)
    assert server.stored_events() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/graphql", b'{"query": "{ providers { name } }", "pad": "' + b"x" * 10_000_000 + b'"}'),
        ("/webhooks/didit", b"{" * 10_000_000),
        (
            "/graphql",
            b'{"query": "{ providers { name } }", "variables": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}",
        ),
        ("/webhooks/verifa", b"[" * 200_000 + b"]" * 200_000),
        ("/graphql", b'{"query": "\xff\xfe\xfa"}'),
        ("/webhooks/uip", b'{"type": "step.completed", "data": "\xc3\x28"}'),
        ("/graphql", b'{"query": "' + b"{ a " * 50_000 + b'"}'),
    ],
    ids=[
        "graphql-10MB",
        "webhook-10MB",
        "graphql-deep",
        "webhook-deep",
        "graphql-bad-utf8",
        "webhook-bad-utf8",
        "graphql-unbalanced",
    ],
)
def test_oversized_deep_and_broken_bodies(server: GatewayProcess, path: str, body: bytes) -> None:
    before = server.stored_events()
    with httpx.Client(base_url=server.base, timeout=30) as client:
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code < 500, (r.status_code, r.text[:300])
        assert r.status_code != 200 or "errors" in r.json()
        _still_healthy(client)
    assert server.stored_events() == before
    assert "Traceback" not in server.log_text()
