"""UIP (steps with gates, lazy expiry) and uqudo (websocket progress, signed results judged
by our policy) end to end: GraphQL and each sandbox's control endpoint only."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.client import Watcher, created_session, gql, simulate

CREATE_STEPS = """
mutation Create($ref: String!) {
  createSession(input: {
    provider: "uip", clientReference: $ref,
    steps: [{type: IDENTIFY, gate: true}, {type: AGE_VERIFY, params: {min_age: 18}}]
  }) {
    session { id providerSessionId status steps { index type state gate } }
    userErrors { code field message }
  }
}
"""
CREATE = """
mutation Create($provider: String!, $ref: String!) {
  createSession(input: {provider: $provider, clientReference: $ref}) {
    session { id providerSessionId status verificationUrl qrCode }
    userErrors { code field message }
  }
}
"""
GATE = """
mutation Gate($id: ID!) {
  %s(id: $id) {
    session { id status providerStatus }
    userErrors { code message providerCode }
  }
}
"""
GET = """
query Get($id: ID!) {
  session(id: $id) {
    status providerStatus currentStep steps { index type state gate }
    decision { outcome decidedBy reasonCodes }
    history { status source }
  }
}
"""


async def _uip(base: str, ref: str) -> dict:
    return await created_session(base, CREATE_STEPS, {"ref": ref})


async def test_uip_gate_continue_to_approval(base: str) -> None:
    ref = f"uip-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = await _uip(base, ref)
        assert [(st["type"], st["gate"]) for st in s["steps"]] == [
            ("IDENTIFY", True),
            ("AGE_VERIFY", False),
        ]
        await simulate(base, "uip", s["providerSessionId"], "open")
        await simulate(base, "uip", s["providerSessionId"], "submit")
        await watcher.wait_for("AWAITING_DECISION")
        early = (await gql(base, GATE % "cancelSession", {"id": "ses_nope"}))["cancelSession"]
        assert early["userErrors"][0]["code"] == "NOT_FOUND"
        went_on = (await gql(base, GATE % "continueSession", {"id": s["id"]}))["continueSession"]
        assert went_on["userErrors"] == []
        assert went_on["session"]["status"] == "IN_PROGRESS"
        await simulate(base, "uip", s["providerSessionId"], "submit")
        await watcher.wait_for("APPROVED")
    assert [e["status"] for e in watcher.events] == [
        "CREATED",
        "IN_PROGRESS",
        "AWAITING_DECISION",
        "IN_PROGRESS",
        "APPROVED",
    ]
    got = (await gql(base, GET, {"id": s["id"]}))["session"]
    assert got["steps"][0]["gate"] is True
    assert [st["state"] for st in got["steps"]] == ["COMPLETED", "COMPLETED"]


async def test_uip_stopped_at_the_gate_is_cancelled(base: str) -> None:
    ref = f"uip-stop-{uuid.uuid4().hex[:8]}"
    s = await _uip(base, ref)
    refused = (await gql(base, GATE % "continueSession", {"id": s["id"]}))["continueSession"]
    assert refused["userErrors"][0]["code"] == "PROVIDER_REJECTED"  # not at a gate yet
    await simulate(base, "uip", s["providerSessionId"], "open")
    await simulate(base, "uip", s["providerSessionId"], "submit")
    await gql(base, GATE % "refreshSession", {"id": s["id"]})
    stopped = (await gql(base, GATE % "cancelSession", {"id": s["id"]}))["cancelSession"]
    assert stopped["userErrors"] == []
    assert stopped["session"]["status"] == "CANCELLED"


async def test_uip_expiry_is_found_by_the_reconciler(base: str) -> None:
    ref = f"uip-exp-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = await _uip(base, ref)
        await simulate(base, "uip", s["providerSessionId"], "expire")  # no webhook for this
        await watcher.wait_for("EXPIRED")
    assert watcher.events[-1]["source"] == "POLL"


@pytest.mark.parametrize(
    ("action", "status", "outcome"),
    [
        ("approve", "APPROVED", "APPROVED"),
        ("decline", "DECLINED", "DECLINED"),
        ("review", "IN_REVIEW", "REVIEW"),
    ],
)
async def test_uqudo_progress_and_policy_decision(
    base: str, action: str, status: str, outcome: str
) -> None:
    ref = f"uqudo-{action}-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = await created_session(base, CREATE, {"provider": "uqudo", "ref": ref})
        assert s["qrCode"].startswith("data:image/png;base64,")
        await simulate(base, "uqudo", s["providerSessionId"], "open")
        await watcher.wait_for("IN_PROGRESS")
        await simulate(base, "uqudo", s["providerSessionId"], "submit")
        await simulate(base, "uqudo", s["providerSessionId"], action)
        await watcher.wait_for(status)
    statuses = [e["status"] for e in watcher.events]
    assert statuses[0] == "CREATED" and statuses[-1] == status
    assert "IN_PROGRESS" in statuses and "PROCESSING" in statuses
    assert statuses.index("IN_PROGRESS") < statuses.index("PROCESSING")
    got = (await gql(base, GET, {"id": s["id"]}))["session"]
    assert got["decision"]["outcome"] == outcome
    assert got["decision"]["decidedBy"] == "POLICY"
    assert any(code.startswith("policy:") for code in got["decision"]["reasonCodes"])
