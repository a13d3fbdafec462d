"""`GET /sessions/{id}/report.pdf` on a real keyed server: the vendor's PDF (Didit's
generate-pdf, from its sandbox) for an API key holding both sessions:read and pii:read, and
for nobody else — not a key without pii:read, not an anonymous caller, not a client token
(even the session's own); an unknown session is 404, a vendor without reports a clear 501."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.auth import hash_key
from tests.e2e.server import GatewayProcess, metric

SCOPES = {
    "reader": ["sessions:read", "sessions:write", "pii:read", "sandbox:control", "stats:read"],
    "nopii": ["sessions:read", "sessions:write", "sandbox:control"],
}
CREATE = """
mutation($provider: String!, $ref: String!) {
  createSession(input: {provider: $provider, clientReference: $ref}) {
    session { id providerSessionId } userErrors { code message } } }
"""
TOKEN = """
mutation($id: ID!) { issueClientToken(sessionId: $id) { token userErrors { code } } }
"""
GET = "query($id: ID!) { session(id: $id) { status capabilities } }"


def key(name: str) -> str:
    return f"kgw-test-{name}-key"


def bearer(name: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key(name)}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    env = {
        "KYCGW_API_KEYS": json.dumps(
            [{"name": n, "sha256": hash_key(key(n)), "scopes": s} for n, s in SCOPES.items()]
        ),
        "KYCGW_CLIENT_TOKEN_SECRET": "report-test-token-secret-0123456789abcdef",
        "KYCGW_SANDBOXES": '["*"]',
    }
    with GatewayProcess(tmp_path_factory.mktemp("report"), extra_env=env) as process:
        yield process


@pytest.fixture
async def client(server: GatewayProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        yield http


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = (
        await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=bearer("reader")
        )
    ).json()
    assert "errors" not in body, body
    return body["data"]


async def created(http: httpx.AsyncClient, provider: str, ref: str) -> dict[str, Any]:
    answer = (await gql(http, CREATE, {"provider": provider, "ref": ref}))["createSession"]
    assert answer["userErrors"] == [], answer
    return answer["session"]


async def approved_didit_session(http: httpx.AsyncClient, ref: str) -> dict[str, Any]:
    session = await created(http, "didit", ref)
    for action in ("open", "approve"):
        r = await http.post(
            f"/sandbox/didit/sessions/{session['providerSessionId']}/simulate",
            json={"action": action},
            headers=bearer("reader"),
        )
        assert r.status_code == 200, r.text
    for _ in range(200):  # the signed status.updated webhook reaches the gateway
        got = (await gql(http, GET, {"id": session["id"]}))["session"]
        if got["status"] == "APPROVED":
            break
        await asyncio.sleep(0.05)
    assert got["status"] == "APPROVED"
    assert "REPORT" in got["capabilities"]
    return session


def report_calls(base: str) -> float:
    """How many times the server asked a vendor for a report (its call histogram)."""
    series = 'kycgw_vendor_call_seconds_count{operation="session_report",provider="didit"}'
    return metric(base, series, key("reader"), default=0.0)


def report_path(session_id: str) -> str:
    return f"/sessions/{session_id}/report.pdf"


async def test_a_key_with_both_scopes_gets_the_vendors_pdf(
    client: httpx.AsyncClient, server: GatewayProcess
) -> None:
    session = await approved_didit_session(client, "report-ok")
    r = await client.get(report_path(session["id"]), headers=bearer("reader"))
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF-")
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert session["providerSessionId"].encode() in r.content  # Didit rendered this session
    assert report_calls(server.base) >= 1


async def test_who_may_not_read_the_report(client: httpx.AsyncClient) -> None:
    session = await approved_didit_session(client, "report-refused")
    path = report_path(session["id"])

    no_pii = await client.get(path, headers=bearer("nopii"))
    assert no_pii.status_code == 403
    assert no_pii.json()["error"]["code"] == "FORBIDDEN"
    assert "pii:read" in no_pii.json()["error"]["message"]

    anonymous = await client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    wrong = await client.get(path, headers={"authorization": "Bearer not-a-key"})
    assert wrong.status_code == 401

    token = (await gql(client, TOKEN, {"id": session["id"]}))["issueClientToken"]["token"]
    assert token
    own_browser = await client.get(path, headers={"authorization": f"Bearer {token}"})
    assert own_browser.status_code == 403  # a client token never widens to the report
    assert own_browser.json()["error"]["code"] == "FORBIDDEN"

    for refused in (no_pii, anonymous, wrong, own_browser):
        assert not refused.content.startswith(b"%PDF-")
        assert refused.headers["cache-control"] == "no-store"


async def test_unknown_session_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get(report_path("no-such-session"), headers=bearer("reader"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


async def test_a_session_not_yet_final_is_refused_before_the_vendor(
    client: httpx.AsyncClient, server: GatewayProcess
) -> None:
    session = await created(client, "didit", "report-early")  # Not Started
    calls = report_calls(server.base)
    r = await client.get(report_path(session["id"]), headers=bearer("reader"))
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "PROVIDER_REJECTED"
    assert error["providerCode"] == "invalid_status_transition"
    assert "Not Started" in error["message"]
    assert report_calls(server.base) == calls, "the vendor was asked for a refused report"


async def test_a_vendor_without_reports_says_so(client: httpx.AsyncClient) -> None:
    session = await created(client, "verifa", "report-verifa")
    r = await client.get(report_path(session["id"]), headers=bearer("reader"))
    assert r.status_code == 501
    error = r.json()["error"]
    assert error["code"] == "UNSUPPORTED_BY_PROVIDER"
    assert "verifa" in error["message"] and "report" in error["message"]


REDACT = "mutation($id: ID!) { redactSession(id: $id) { session { id } userErrors { code } } }"


async def test_a_redacted_session_has_no_report(client: httpx.AsyncClient) -> None:
    session = await approved_didit_session(client, "report-redacted")
    path = report_path(session["id"])
    assert (await client.get(path, headers=bearer("reader"))).status_code == 200
    redacted = (await gql(client, REDACT, {"id": session["id"]}))["redactSession"]
    assert redacted["userErrors"] == [], redacted
    r = await client.get(path, headers=bearer("reader"))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "BAD_USER_INPUT"
    assert "redacted" in r.json()["error"]["message"]
    assert not r.content.startswith(b"%PDF-")
