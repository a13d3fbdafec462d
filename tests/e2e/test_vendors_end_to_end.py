"""Verifa and Beltic end to end: the real server, a real graphql-transport-ws client, each
vendor's sandbox driven only through its control endpoint and GraphQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.e2e.client import Watcher, created_session, gql, simulate

CREATE = """
mutation Create($provider: String!, $ref: String!) {
  createSession(input: {provider: $provider, clientReference: $ref}) {
    session { id providerSessionId status verificationUrl qrCode environment }
    userErrors { code field message }
  }
}
"""
ACTION = """
mutation Act($id: ID!) {
  %s(id: $id) {
    session { id status providerStatus verificationUrl }
    userErrors { code message providerCode }
  }
}
"""
DECIDE = """
mutation Decide($id: ID!) {
  decideSession(id: $id, decision: APPROVE, reason: "looks good") {
    session { id status providerStatus }
    userErrors { code message providerCode }
  }
}
"""


async def test_verifa_flow(base: str) -> None:
    ref = f"verifa-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = await created_session(base, CREATE, {"provider": "verifa", "ref": ref})
        assert s["status"] == "CREATED" and s["environment"] == "SANDBOX"
        await simulate(base, "verifa", s["providerSessionId"], "open")
        await simulate(base, "verifa", s["providerSessionId"], "submit")
        # Verifa announces no `processing` by webhook: the reconciler learns it by polling
        # while the vendor checks (a moment here, minutes in real life).
        await watcher.wait_for("PROCESSING")
        await simulate(base, "verifa", s["providerSessionId"], "approve")
        await watcher.wait_for("APPROVED")
    assert [e["status"] for e in watcher.events] == [
        "CREATED",
        "IN_PROGRESS",
        "PROCESSING",
        "APPROVED",
    ]
    assert [e["source"] for e in watcher.events] == ["API", "WEBHOOK", "POLL", "WEBHOOK"]


async def test_verifa_resume_and_refused_cancel(base: str) -> None:
    ref = f"verifa-r-{uuid.uuid4().hex[:8]}"
    s = (await gql(base, CREATE, {"provider": "verifa", "ref": ref}))["createSession"]["session"]
    await simulate(base, "verifa", s["providerSessionId"], "expire")
    refreshed = (await gql(base, ACTION % "refreshSession", {"id": s["id"]}))["refreshSession"]
    assert refreshed["session"]["status"] == "EXPIRED"
    resumed = (await gql(base, ACTION % "resumeSession", {"id": s["id"]}))["resumeSession"]
    assert resumed["userErrors"] == []
    assert resumed["session"]["status"] == "CREATED"
    assert resumed["session"]["verificationUrl"]
    assert resumed["session"]["verificationUrl"] != s["verificationUrl"]

    done = (await gql(base, CREATE, {"provider": "verifa", "ref": ref + "-done"}))["createSession"][
        "session"
    ]
    for action in ("open", "submit", "approve"):
        await simulate(base, "verifa", done["providerSessionId"], action)
    refused = (await gql(base, ACTION % "cancelSession", {"id": done["id"]}))["cancelSession"]
    assert refused["session"] is None
    error = refused["userErrors"][0]
    assert error["code"] == "PROVIDER_REJECTED"
    assert error["message"]  # names Verifa's status: cancel is not offered once decided
    assert error["providerCode"]


async def test_beltic_flow_is_learnt_by_polling(base: str) -> None:
    ref = f"beltic-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = await created_session(base, CREATE, {"provider": "beltic", "ref": ref})
        for action in ("open", "submit", "approve"):
            await simulate(base, "beltic", s["providerSessionId"], action)
        await watcher.wait_for("AWAITING_DECISION")
        decided = (await gql(base, DECIDE, {"id": s["id"]}))["decideSession"]
        assert decided["userErrors"] == []
        assert decided["session"]["status"] == "APPROVED"
        await watcher.wait_for("APPROVED")
    assert [(e["status"], e["source"]) for e in watcher.events] == [
        ("CREATED", "API"),
        ("IN_PROGRESS", "POLL"),
        ("PROCESSING", "POLL"),
        ("AWAITING_DECISION", "POLL"),
        ("APPROVED", "API"),
    ]


def test_every_vendor_is_in_sandbox_mode(base: str, tmp_path: Path) -> None:
    health = httpx.get(f"{base}/healthz").json()
    from adapters.registry import provider_names

    assert health["providers"] == dict.fromkeys(provider_names(), "SANDBOX")
