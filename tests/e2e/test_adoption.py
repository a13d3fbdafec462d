"""Issue 19, item 1: a session created directly at the vendor's sandbox API (an earlier
integration, the vendor's SDK or dashboard — not the gateway) and driven to a final status.
With `KYCGW_DIDIT_ADOPT_UNKNOWN=true` its first signed webhook makes the gateway read it from
the vendor and store it, routing rule `adopted`, with its history; without, every delivery
is answered 404 and nothing is stored. Real server, the Didit sandbox's documented API
(`POST /v3/session/` with `x-api-key`, docs/vendors/didit.md)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import GatewayProcess, metric

SANDBOX_KEY = "didit-sandbox-key-for-an-outside-integration"
WORKFLOW = "5f0c6a52-7d3e-4c1b-9a8e-2b6d1f4e9c07"  # the sandbox's workflow (its script says)
FIND = """
query($p: String!) {
  sessions(filter: {provider: $p}, first: 100) {
    edges { node { id providerSessionId status createdAt routing { rule }
                   history { sequence status source occurredAt } } }
  }
}
"""


def created_outside(base: str) -> str:
    """A Didit session made straight at the sandbox's vendor API, as an old integration
    would; returns Didit's session id."""
    r = httpx.post(
        f"{base}/sandbox/didit/v3/session/",
        headers={"x-api-key": SANDBOX_KEY},
        json={"workflow_id": WORKFLOW, "vendor_data": f"legacy-{uuid.uuid4().hex[:8]}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def drive(base: str, psid: str, *actions: str) -> None:
    for action in actions:
        r = httpx.post(
            f"{base}/sandbox/didit/sessions/{psid}/simulate", json={"action": action}, timeout=10
        )
        assert r.status_code == 200, r.text


def stored(base: str, psid: str) -> dict | None:
    body = httpx.post(
        f"{base}/graphql", json={"query": FIND, "variables": {"p": "didit"}}, timeout=10
    ).json()
    nodes = [e["node"] for e in body["data"]["sessions"]["edges"]]
    return next((n for n in nodes if n["providerSessionId"] == psid), None)


@pytest.mark.parametrize("adopt", [True, False], ids=["adoption-on", "adoption-off"])
def test_a_session_made_outside_the_gateway_is_adopted_only_when_asked(
    tmp_path: Path, adopt: bool
) -> None:
    env = {
        "KYCGW_DIDIT_SANDBOX_API_KEY": SANDBOX_KEY,
        "KYCGW_DIDIT_ADOPT_UNKNOWN": "true" if adopt else "false",
    }
    with GatewayProcess(tmp_path, extra_env=env) as server:
        psid = created_outside(server.base)
        drive(server.base, psid, "open", "approve")
        deadline = time.monotonic() + 15
        if not adopt:
            while (
                metric(
                    server.base,
                    'kycgw_webhooks_total{outcome="unknown_session",provider="didit"}',
                    default=0,
                )
                < 2
            ):
                assert time.monotonic() < deadline, "the sandbox's webhooks never arrived"
                time.sleep(0.1)
            assert stored(server.base, psid) is None
            assert (
                metric(server.base, 'kycgw_adopted_sessions_total{provider="didit"}', default=0)
                == 0
            )
            return
        while (session := stored(server.base, psid)) is None or session["status"] != "APPROVED":
            assert time.monotonic() < deadline, session
            time.sleep(0.1)
        assert metric(server.base, 'kycgw_adopted_sessions_total{provider="didit"}', default=0) == 1
    assert session["routing"] == {"rule": "adopted"}
    history = session["history"]
    assert [h["status"] for h in history] == ["CREATED", "IN_PROGRESS", "APPROVED"]
    assert [h["sequence"] for h in history] == [1, 2, 3]
    # Its history is the vendor's: learnt by reading the vendor, then its webhook.
    assert history[0]["source"] == "POLL"
    assert history[-1]["source"] in ("WEBHOOK", "POLL")
    # Created at the earliest vendor time known (here the first webhook's), not when the
    # gateway happened to hear of it.
    times = [h["occurredAt"] for h in history]
    assert session["createdAt"] == times[0] == min(times)
