"""Verifa's way out of its paused states and its replay defence, end to end (issue 13, items 12
and 17; docs/vendors/verifa.md): a real `kyc-gateway serve`, GraphQL over HTTP and the Verifa
sandbox's control endpoint only.

- "Wait node (external gate): Pauses the workflow and waits for an external decision via API
  callback … the session status changes to awaiting_external and a session.awaiting_external
  webhook is fired" (https://docs.withverifa.com/core-concepts/workflows). The answer is
  "Submit external gate decision": `continue` — "resume executing the remaining workflow
  steps"; `reject` — "immediately reject the session"
  (https://docs.withverifa.com/api-reference/sessions/submit-external-decision). So a session
  at the gate leaves it through `continueSession`, and `decideSession(DECLINE)` ends it
  DECLINED, decided by us.
- A session under review is decided through its review case, claimed then approved
  (https://docs.withverifa.com/core-concepts/cases).
- `X-Verifa-Signature` is an HMAC of the raw body (https://docs.withverifa.com/api-details/webhooks);
  `X-Verifa-Delivery-Id` is not signed. A captured delivery of the documented nested shape (no
  `idempotency_key`) re-sent with its signature and a new delivery id is a duplicate: the
  gateway runs *live* against the sandbox standing in for Verifa on loopback, its webhooks
  relayed through a recorder that keeps a copy, as an attacker on the path would have it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.client import (
    Watcher,
    action_mutation,
    create_mutation,
    created_session,
    gql,
    session_query,
    simulate,
)
from tests.e2e.server import wait_until
from tests.e2e.standin import Live, running_live_gateway

CREATE = create_mutation("verifa", "id providerSessionId status environment")
GET = session_query(
    "status providerStatus capabilities decision { outcome decidedBy reasonCodes }"
    " history { status providerStatus source }"
)
CONTINUE = action_mutation("continueSession", "status providerStatus")
DECIDE = """
mutation Decide($id: ID!, $decision: DecisionAction!) {
  decideSession(id: $id, decision: $decision, reason: "checked by hand") {
    session { status providerStatus decision { outcome decidedBy } }
    userErrors { code message }
  }
}
"""


# -- the sandbox, as the gateway serves it (the `base` of tests/e2e/conftest.py) -------------------
async def _paused(base: str, *actions: str) -> tuple[str, str]:
    """A Verifa session the person captured and the workflow paused (`await_external`, or
    `review`); returned once the gateway shows it."""
    ref = f"verifa-gate-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = await created_session(base, CREATE, {"ref": ref})
        for action in ("open", "submit", *actions):
            await simulate(base, "verifa", s["providerSessionId"], action)
        want = "AWAITING_DECISION" if actions[-1] == "await_external" else "IN_REVIEW"
        await watcher.wait_for(want)  # session.awaiting_external / requires-review
    return s["id"], s["providerSessionId"]


async def test_a_session_at_the_gate_leaves_it_through_continue_session(base: str) -> None:
    sid, _ = await _paused(base, "await_external")
    before = (await gql(base, GET, {"id": sid}))["session"]
    assert (before["status"], before["providerStatus"]) == (
        "AWAITING_DECISION",
        "awaiting_external",
    )
    assert {"CONTINUE", "DECIDE"} <= set(before["capabilities"])

    payload = (await gql(base, CONTINUE, {"id": sid}))["continueSession"]
    assert payload["userErrors"] == [], payload
    assert (payload["session"]["status"], payload["session"]["providerStatus"]) == (
        "PROCESSING",
        "processing",
    )
    after = (await gql(base, GET, {"id": sid}))["session"]
    assert after["status"] == "PROCESSING"
    assert "CONTINUE" not in after["capabilities"]
    # Continuing again is refused (as Verifa would): the session is no longer at its gate.
    again = (await gql(base, CONTINUE, {"id": sid}))["continueSession"]
    assert [e["code"] for e in again["userErrors"]] == ["PROVIDER_REJECTED"]


async def test_decline_at_the_gate_ends_declined_by_us(base: str) -> None:
    sid, _ = await _paused(base, "await_external")
    payload = (await gql(base, DECIDE, {"id": sid, "decision": "DECLINE"}))["decideSession"]
    assert payload["userErrors"] == [], payload
    session = payload["session"]
    assert (session["status"], session["providerStatus"]) == ("DECLINED", "completed:rejected")
    assert session["decision"] == {"outcome": "DECLINED", "decidedBy": "INTEGRATOR"}
    # The session.declined webhook Verifa sends meanwhile changes nothing of that.
    got = (await gql(base, GET, {"id": sid}))["session"]
    assert got["status"] == "DECLINED"
    assert got["decision"]["decidedBy"] == "INTEGRATOR"
    assert "external_rejected" in got["decision"]["reasonCodes"]


async def test_a_reviewed_session_is_approved_through_its_case(base: str) -> None:
    sid, _ = await _paused(base, "review")
    payload = (await gql(base, DECIDE, {"id": sid, "decision": "APPROVE"}))["decideSession"]
    assert payload["userErrors"] == [], payload
    assert payload["session"]["status"] == "APPROVED"
    assert payload["session"]["decision"] == {"outcome": "APPROVED", "decidedBy": "INTEGRATOR"}


# -- live against a stand-in, its webhooks captured on the way ------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_live_gateway("verifa", tmp_path_factory.mktemp("truth-verifa-live")) as live:
        yield live


async def test_a_replay_with_a_new_delivery_id_is_a_duplicate(live: Live) -> None:
    # The API-details page's shape: no idempotency_key in the body.
    async with httpx.AsyncClient(base_url=live.standin.base_url, timeout=10) as client:
        settings = await client.post("/sandbox-settings", json={"payload_shape": "nested"})
    assert settings.status_code == 200, settings.text
    ref = f"verifa-replay-{uuid.uuid4().hex[:8]}"
    session = await created_session(live.base, CREATE, {"ref": ref})
    sid, psid = session["id"], session["providerSessionId"]
    # The live adapter, over real sockets (the session itself is a sandbox-key one:
    # `is_sandbox: true`, as Verifa answers a `vk_sandbox_` key).
    providers = (await gql(live.base, "{ providers { name mode } }", {}))["providers"]
    assert {"name": "verifa", "mode": "LIVE"} in providers
    async with httpx.AsyncClient(base_url=live.standin.base_url, timeout=10) as client:
        opened = await client.post(f"/sessions/{psid}/simulate", json={"action": "open"})
    assert opened.status_code == 200, opened.text

    def started() -> list:
        return [
            c
            for c in live.relay.captured
            if json.loads(c.body).get("event") == "session.started"
            and json.loads(c.body)["data"]["session_id"] == psid
        ]

    await wait_until(lambda: len(started()) == 1)
    [captured] = started()
    assert "idempotency_key" not in json.loads(captured.body)
    await wait_until(
        lambda: any(
            h["status"] == "IN_PROGRESS"
            for h in httpx.post(
                f"{live.base}/graphql", json={"query": GET, "variables": {"id": sid}}
            ).json()["data"]["session"]["history"]
        )
    )
    history = (await gql(live.base, GET, {"id": sid}))["session"]["history"]

    replay = {**captured.headers, "x-verifa-delivery-id": f"whdel_{uuid.uuid4().hex[:24]}"}
    assert replay["x-verifa-delivery-id"] != captured.headers["x-verifa-delivery-id"]
    async with httpx.AsyncClient(base_url=live.base, timeout=10) as client:
        answer = await client.post("/webhooks/verifa", content=captured.body, headers=replay)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcomes"] == ["duplicate"]
    assert (await gql(live.base, GET, {"id": sid}))["session"]["history"] == history
