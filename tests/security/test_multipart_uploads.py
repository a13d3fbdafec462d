"""GraphQL multipart uploads (a SIGN step's document) against a real server: a cross-site form
cannot post one, the upload limit is its own, and JSON keeps the tighter request limit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import GatewayProcess
from tests.support.keys import env, key

MAX_REQUEST_BYTES = 8_192
MAX_UPLOAD_BYTES = 262_144

CREATE = (
    'mutation($f: Upload!, $ref: String!) { createSession(input: {provider: "uip", '
    "clientReference: $ref, steps: [{type: SIGN, document: $f}]}) "
    "{ session { id provider steps { type } } userErrors { code field message } } }"
)
COUNT = (
    "query($ref: String!) { sessions(filter: {clientReference: $ref}) { edges { node { id } } } }"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(
        tmp_path_factory.mktemp("uploads"),
        extra_env={
            **env(),
            "KYCGW_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
            "KYCGW_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        },
    ) as process:
        yield process


def upload(
    server: GatewayProcess,
    ref: str,
    document: bytes,
    headers: dict[str, str],
    query: str = CREATE,
) -> httpx.Response:
    operations = {"query": query, "variables": {"f": None, "ref": ref}}
    with httpx.Client(base_url=server.base, timeout=30) as client:
        return client.post(
            "/graphql",
            headers={"x-api-key": key("writer"), **headers},
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
            files={"0": ("contract.pdf", document, "application/pdf")},
        )


def sessions_for(server: GatewayProcess, ref: str) -> list[dict]:
    with httpx.Client(base_url=server.base, timeout=20) as client:
        body = client.post(
            "/graphql",
            headers={"x-api-key": key("reader")},
            json={"query": COUNT, "variables": {"ref": ref}},
        ).json()
    assert "errors" not in body, body
    return body["data"]["sessions"]["edges"]


def test_a_multipart_request_without_a_preflight_header_is_refused_before_it_runs(
    server: GatewayProcess,
) -> None:
    """A form on another site can post multipart/form-data without a CORS preflight; only a
    header a script must set tells the two apart (the CSRF attack this performs)."""
    answer = upload(server, "csrf", b"%PDF-1.7 contract", headers={})
    assert answer.status_code == 400
    assert "preflight" in answer.text
    assert sessions_for(server, "csrf") == []


def test_a_sign_step_takes_its_document_through_a_multipart_upload(
    server: GatewayProcess,
) -> None:
    answer = upload(
        server, "signed", b"%PDF-1.7 " + b"x" * 20_000, {"GraphQL-Require-Preflight": "1"}
    )
    assert answer.status_code == 200, answer.text
    payload = answer.json()["data"]["createSession"]
    assert payload["userErrors"] == []
    assert payload["session"]["provider"] == "uip"
    assert [s["type"] for s in payload["session"]["steps"]] == ["SIGN"]
    assert len(sessions_for(server, "signed")) == 1


def test_a_json_body_above_the_request_limit_is_413_though_uploads_may_be_larger(
    server: GatewayProcess,
) -> None:
    padding = "x" * (MAX_REQUEST_BYTES + 1)
    with httpx.Client(base_url=server.base, timeout=20) as client:
        answer = client.post(
            "/graphql",
            headers={"x-api-key": key("reader")},
            json={"query": "{ __typename }", "variables": {"pad": padding}},
        )
    assert answer.status_code == 413


def test_an_upload_above_its_own_limit_is_413_and_creates_nothing(server: GatewayProcess) -> None:
    answer = upload(
        server, "huge", b"x" * (MAX_UPLOAD_BYTES + 1), {"GraphQL-Require-Preflight": "1"}
    )
    assert answer.status_code == 413
    assert sessions_for(server, "huge") == []


def test_a_document_on_a_step_that_signs_nothing_is_bad_user_input(
    server: GatewayProcess,
) -> None:
    query = (
        'mutation($f: Upload!, $ref: String!) { createSession(input: {provider: "uip", '
        "clientReference: $ref, steps: [{type: IDENTIFY, document: $f}]}) "
        "{ session { id } userErrors { code field } } }"
    )
    answer = upload(server, "wrong-step", b"doc", {"GraphQL-Require-Preflight": "1"}, query)
    payload = answer.json()["data"]["createSession"]
    assert payload["session"] is None
    assert payload["userErrors"] == [
        {"code": "BAD_USER_INPUT", "field": ["input", "steps", "0", "document"]}
    ]
