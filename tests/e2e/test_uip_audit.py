"""`Session.audit` on a real server with API keys, over GraphQL on HTTP (issue 19, item 7):
a UIP sandbox session driven to APPROVED shows its audit, one record per verified step, read
from the vendor (`GET /v1/audits/{id}`); the proof needs pii:read; a client token may not
read the audit at all; a vendor that keeps no audit answers null."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.server import GatewayProcess
from tests.support.keys import env, graphql_as, issue_token, key, session_field_as, simulate_as

AUDIT = """
query($id: ID!) {
  session(id: $id) {
    status
    audit { recordId step type verifiedAt wallet recordHash previousHash identitySealed %s }
  }
}
"""
CREATE_UIP = """
mutation {
  createSession(input: {
    provider: "uip", clientReference: "audit-e2e",
    steps: [{type: IDENTIFY}, {type: AGE_VERIFY, params: {min_age: 18}}]
  }) { session { id } userErrors { code message } }
}
"""


@dataclass
class World:
    server: GatewayProcess
    uip_id: str
    uip_vendor_id: str
    didit_id: str


def _post(server: GatewayProcess, secret: str, query: str, variables: dict | None = None) -> dict:
    r = graphql_as(server.base, secret, query, variables)
    assert r.status_code == 200, r.text
    return r.json()


def _wait_for(server: GatewayProcess, session_id: str, status: str) -> None:
    deadline = time.monotonic() + 20
    while session_field_as(server.base, key("reader"), session_id, "status") != status:
        assert time.monotonic() < deadline, f"{session_id} never reached {status}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with GatewayProcess(tmp_path_factory.mktemp("uip-audit"), extra_env=env()) as server:
        created = _post(server, key("writer"), CREATE_UIP)["data"]["createSession"]
        assert created["userErrors"] == [], created
        uip_id = created["session"]["id"]
        vendor_id = session_field_as(server.base, key("reader"), uip_id, "providerSessionId")
        assert isinstance(vendor_id, str)
        r = simulate_as(server.base, key("sandbox"), "uip", vendor_id, "approve")
        assert r.status_code == 200, r.text
        _wait_for(server, uip_id, "APPROVED")
        didit = _post(
            server,
            key("writer"),
            'mutation { createSession(input: {provider: "didit"}) { session { id } } }',
        )["data"]["createSession"]["session"]["id"]
        yield World(server, uip_id, vendor_id, didit)


def _errors_at(body: dict, *path: object) -> list[str]:
    return [
        e["extensions"]["code"]
        for e in body.get("errors") or []
        if tuple(e.get("path") or ()) == path
    ]


def test_an_approved_uip_session_shows_its_audit(world: World) -> None:
    body = _post(world.server, key("pii"), AUDIT % "proof", {"id": world.uip_id})
    assert "errors" not in body, body
    session = body["data"]["session"]
    assert session["status"] == "APPROVED"
    audit = session["audit"]
    sid = world.uip_vendor_id
    assert [(e["recordId"], e["step"], e["type"]) for e in audit] == [
        (f"{sid}_0", 0, "IDENTIFY"),
        (f"{sid}_1", 1, "AGE_VERIFY"),
    ]
    assert all(e["wallet"] and e["verifiedAt"] and e["identitySealed"] for e in audit)
    assert audit[0]["previousHash"] == "0x000"
    assert audit[1]["previousHash"] == audit[0]["recordHash"]  # UIP's per-session chain
    assert audit[1]["proof"] == {"satisfied": True, "min_age": 18}
    assert set(audit[0]["proof"]) == {"claims_digest"}  # identify: a digest, not the claims


def test_without_pii_read_the_proof_is_null_and_forbidden(world: World) -> None:
    body = _post(world.server, key("reader"), AUDIT % "proof", {"id": world.uip_id})
    audit = body["data"]["session"]["audit"]
    assert [e["step"] for e in audit] == [0, 1]  # the rest of the audit survives
    assert [e["proof"] for e in audit] == [None, None]
    for index in (0, 1):
        assert _errors_at(body, "session", "audit", index, "proof") == ["FORBIDDEN"]


def test_a_client_token_may_not_read_the_audit(world: World) -> None:
    token = issue_token(world.server.base, world.uip_id, ttl=300)
    body = _post(world.server, token, AUDIT % "", {"id": world.uip_id})
    assert body["data"]["session"]["audit"] is None
    assert body["data"]["session"]["status"] == "APPROVED"
    assert _errors_at(body, "session", "audit") == ["FORBIDDEN"]


def test_a_key_without_sessions_read_may_not_either(world: World) -> None:
    """Through a mutation payload (the one way such a key sees a session)."""
    body = _post(
        world.server,
        key("write_only"),
        "mutation($id: ID!) { refreshSession(id: $id) { session { id status audit { step } } "
        "userErrors { code } } }",
        {"id": world.uip_id},
    )
    payload = body["data"]["refreshSession"]
    assert payload["userErrors"] == [], payload
    assert payload["session"]["status"] == "APPROVED"
    assert payload["session"]["audit"] is None
    assert _errors_at(body, "refreshSession", "session", "audit") == ["FORBIDDEN"]


def test_a_vendor_without_an_audit_answers_null(world: World) -> None:
    body = _post(world.server, key("admin"), AUDIT % "proof", {"id": world.didit_id})
    assert "errors" not in body, body
    assert body["data"]["session"]["audit"] is None


def test_a_vendor_failure_is_an_error_on_the_field_only(world: World) -> None:
    faults = f"{world.server.base}/sandbox/uip/_faults"
    auth = {"authorization": f"Bearer {key('sandbox')}"}
    r = httpx.post(faults, json={"status": 404, "count": 1}, headers=auth, timeout=10)
    assert r.status_code in (200, 201, 204), r.text
    try:
        body = _post(world.server, key("pii"), AUDIT % "proof", {"id": world.uip_id})
    finally:
        httpx.delete(faults, headers=auth, timeout=10)
    assert body["data"]["session"]["status"] == "APPROVED"
    assert body["data"]["session"]["audit"] is None
    assert _errors_at(body, "session", "audit") == ["NOT_FOUND"]
