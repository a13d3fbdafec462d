"""Issue 19, item 3: results of sessions uqudo's mobile / web SDK (or its Hosted KYC page)
ran outside the gateway arrive through the same signed `jwsResult` global webhook as the QR
flow's ("no matter how that session was started", docs/vendors/uqudo.md, Sessions started by
the SDK). With `KYCGW_UQUDO_ADOPT_UNKNOWN=true` the gateway reads such a session from the Info
API, stores it (routing rule `adopted`) and judges it by the same policy as a QR session with
the same result; without, the webhook is answered 404 and nothing is stored. Real server,
GraphQL, and the uqudo sandbox's SDK-session control path (`POST /sdk-sessions/simulate`)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import GatewayProcess, metric

SANDBOX = "/sandbox/uqudo"
FIELDS = """
id providerSessionId status routing { rule }
decision { outcome decidedBy reasonCodes }
checks { kind outcome reasons providerReasons score providerName }
"""
FIND = (
    "query($p: String!) { sessions(filter: {provider: $p}, first: 100) "
    "{ edges { node { " + FIELDS + " } } } }"
)
READ = "query($id: ID!) { session(id: $id) { " + FIELDS + " } }"
CREATE = """
mutation($input: CreateSessionInput!) {
  createSession(input: $input) { session { id providerSessionId } userErrors { code message } }
}
"""


def graphql(base: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, timeout=20
    ).json()
    assert "errors" not in body, body
    return body["data"]


def sdk_session(base: str, action: str, **body: Any) -> dict[str, Any]:
    """A session the SDK ran elsewhere, finished: its id and the webhook's first answer."""
    r = httpx.post(
        f"{base}{SANDBOX}/sdk-sessions/simulate", json={"action": action, **body}, timeout=20
    )
    assert r.status_code == 200, r.text
    return r.json()


def stored(base: str, psid: str) -> dict[str, Any] | None:
    edges = graphql(base, FIND, {"p": "uqudo"})["sessions"]["edges"]
    return next((e["node"] for e in edges if e["node"]["providerSessionId"] == psid), None)


def until_final(read: Any, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (got := read()) is None or got["status"] != status or not got["checks"]:
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    return got


def qr_session(base: str, *actions: str) -> dict[str, Any]:
    """The same outcome through the QR flow the gateway creates (its default `data`: a
    passport with face match, no reading, no background check)."""
    created = graphql(
        base,
        CREATE,
        {"input": {"provider": "uqudo", "clientReference": f"qr-{uuid.uuid4().hex[:8]}"}},
    )["createSession"]
    assert created["userErrors"] == [], created
    psid = created["session"]["providerSessionId"]
    for step in actions:
        action, _, reason = step.partition(":")
        r = httpx.post(
            f"{base}{SANDBOX}/sessions/{psid}/simulate",
            json={"action": action, **({"reason": reason} if reason else {})},
            timeout=20,
        )
        assert r.status_code == 200, r.text
    status = {"approve": "APPROVED", "decline": "DECLINED"}[actions[-1].partition(":")[0]]
    sid = created["session"]["id"]
    return until_final(lambda: graphql(base, READ, {"id": sid})["session"], status)


def judged(session: dict[str, Any]) -> tuple[Any, ...]:
    """What the policy made of a result: the checks and the decision, ids aside."""
    checks = sorted(
        (
            (c["kind"], c["outcome"], tuple(c["reasons"]), c["score"], c["providerName"])
            for c in session["checks"]
        ),
        key=repr,
    )
    decision = session["decision"]
    return (
        session["status"],
        decision["outcome"],
        decision["decidedBy"],
        sorted(decision["reasonCodes"]),
        checks,
    )


@pytest.fixture(scope="module")
def adopting(tmp_path_factory: pytest.TempPathFactory):
    env = {"KYCGW_UQUDO_ADOPT_UNKNOWN": "true"}
    with GatewayProcess(tmp_path_factory.mktemp("uqudo-sdk") / "gw", extra_env=env) as server:
        yield server


def test_an_approved_sdk_session_is_adopted_and_judged_like_a_qr_session(
    adopting: GatewayProcess,
) -> None:
    base = adopting.base
    sent = sdk_session(base, "approve")
    psid = sent["session_id"]
    assert sent["origin"] == "sdk" and sent["webhook"]["status_code"] == 200
    session = until_final(lambda: stored(base, psid), "APPROVED")
    assert session["routing"] == {"rule": "adopted"}
    assert session["decision"]["decidedBy"] == "POLICY"
    assert any(c["outcome"] == "PASSED" for c in session["checks"]), session["checks"]
    assert not [c for c in session["checks"] if c["outcome"] == "FAILED"], session["checks"]
    # The same result through the QR flow gets the same checks and the same decision.
    assert judged(session) == judged(qr_session(base, "open", "submit", "approve"))


def test_a_declined_sdk_session_is_declined_with_its_reason(adopting: GatewayProcess) -> None:
    base = adopting.base
    psid = sdk_session(base, "decline", reason="face_mismatch")["session_id"]
    session = until_final(lambda: stored(base, psid), "DECLINED")
    assert session["routing"] == {"rule": "adopted"}
    assert session["decision"]["outcome"] == "DECLINED"
    assert "face_mismatch" in session["decision"]["reasonCodes"], session["decision"]
    failed = [c for c in session["checks"] if c["outcome"] == "FAILED"]
    assert failed and all("face_mismatch" in c["reasons"] for c in failed), failed
    qr = qr_session(base, "open", "submit", "decline:face_mismatch")
    assert judged(session) == judged(qr)


def test_without_adoption_the_webhook_is_404_and_nothing_is_stored(tmp_path: Path) -> None:
    with GatewayProcess(tmp_path, extra_env={"KYCGW_UQUDO_ADOPT_UNKNOWN": "false"}) as server:
        base = server.base
        sent = sdk_session(base, "approve")
        assert sent["webhook"] == {"delivered": False, "status_code": 404}
        deadline = time.monotonic() + 15
        while (
            metric(
                base, 'kycgw_webhooks_total{outcome="unknown_session",provider="uqudo"}', default=0
            )
            < 3  # the first attempt and both retries
        ):
            assert time.monotonic() < deadline, "the sandbox's retries never arrived"
            time.sleep(0.1)
        assert stored(base, sent["session_id"]) is None
        assert graphql(base, FIND, {"p": "uqudo"})["sessions"]["edges"] == []
        assert metric(base, 'kycgw_adopted_sessions_total{provider="uqudo"}', default=0) == 0
