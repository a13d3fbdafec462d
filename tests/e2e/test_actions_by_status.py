"""An action the session's current vendor status does not allow (the adapter's declared
`session_capabilities`, shown as the session's `capabilities`) is refused by the gateway
itself: the vendor is never called, and the caller hears the refusal a vendor would give."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.e2e.client import created_session, gql, simulate
from tests.e2e.server import running_gateway

CREATE = """
mutation { createSession(input: {provider: "didit", clientReference: "by-status"}) {
  session { id providerSessionId providerStatus capabilities } userErrors { code message } } }
"""
GET = "query($id: ID!) { session(id: $id) { status capabilities } }"
DECIDE = """
mutation($id: ID!) { decideSession(id: $id, decision: APPROVE) {
  session { status } userErrors { code message field providerCode } } }
"""


def decide_calls(base: str) -> float:
    """How many times the server called Didit's decide endpoint (its call histogram)."""
    text = httpx.get(f"{base}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("kycgw_vendor_call_seconds_count{") and (
            'operation="decide_session"' in line and 'provider="didit"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_an_action_the_status_does_not_allow_never_reaches_the_vendor(
    tmp_path: Path,
) -> None:
    with running_gateway(tmp_path / "gateway") as base:
        session = await created_session(base, CREATE, {})
        assert session["providerStatus"] == "Not Started"
        assert "DECIDE" not in session["capabilities"]

        refused = (await gql(base, DECIDE, {"id": session["id"]}))["decideSession"]
        assert refused["session"] is None
        (error,) = refused["userErrors"]
        assert error["code"] == "PROVIDER_REJECTED"
        assert "Not Started" in error["message"]
        assert error["providerCode"]
        assert decide_calls(base) == 0, "the vendor was called for a refused action"

        # Once the status allows it, the same action goes to the vendor.
        for action in ("open", "review"):
            await simulate(base, "didit", session["providerSessionId"], action)
        for _ in range(200):
            got = (await gql(base, GET, {"id": session["id"]}))["session"]
            if "DECIDE" in got["capabilities"]:
                break
            await asyncio.sleep(0.05)
        assert got["status"] == "IN_REVIEW"
        decided = (await gql(base, DECIDE, {"id": session["id"]}))["decideSession"]
        assert decided["userErrors"] == [], decided
        assert decided["session"]["status"] == "APPROVED"
        assert decide_calls(base) == 1
