"""Drive a sandbox session along its emulator's own script (`GET /sandbox/{v}/simulate`):
the path to a wanted status, taken through the control endpoint, the integrator's decision
(a `decide:<DECISION>` step) through GraphQL. Works with or without API keys."""

from __future__ import annotations

import uuid

import httpx

CREATE = """
mutation($input: CreateSessionInput!) {
  createSession(input: $input) {
    session { id providerSessionId status }
    userErrors { code field message }
  }
}
"""
DECIDE = (
    "mutation($id: ID!, $d: DecisionAction!) { decideSession(id: $id, decision: $d) "
    "{ userErrors { code message } } }"
)


def _headers(credential: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {credential}"} if credential else {}


def script(base: str, vendor: str, credential: str | None = None) -> dict:
    r = httpx.get(f"{base}/sandbox/{vendor}/simulate", headers=_headers(credential), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def path_to(vendor_script: dict, expect: str) -> list[str]:
    """The first scripted path ending in `expect`, preferring one without an integrator
    decision; a decision is the last step, `decide:<DECISION>`."""
    paths = sorted(
        (p for p in vendor_script["paths"] if p["expect"] == expect),
        key=lambda p: p["decision"] is not None,
    )
    assert paths, f"the sandbox script has no path to {expect}: {vendor_script}"
    path = paths[0]
    return [*path["actions"], *([f"decide:{path['decision']}"] if path["decision"] else [])]


def create(
    base: str, vendor: str, vendor_script: dict, credential: str | None = None, **extra: object
) -> dict:
    variables = {
        "input": {
            **vendor_script.get("create", {}),
            "provider": vendor,
            "clientReference": f"drive-{uuid.uuid4().hex[:10]}",
            **extra,
        }
    }
    r = httpx.post(
        f"{base}/graphql",
        headers=_headers(credential),
        json={"query": CREATE, "variables": variables},
        timeout=30,
    )
    payload = r.json()["data"]["createSession"]
    assert payload["userErrors"] == [], payload
    return payload["session"]


def drive(
    base: str,
    vendor: str,
    session: dict,
    steps: list[str],
    *,
    control: str | None = None,
    decider: str | None = None,
) -> None:
    """Take `steps` (`action`, `action:reason` or `decide:<DECISION>`) on `session`."""
    for step in steps:
        action, _, reason = step.partition(":")
        if action == "decide":
            r = httpx.post(
                f"{base}/graphql",
                headers=_headers(decider),
                json={"query": DECIDE, "variables": {"id": session["id"], "d": reason}},
                timeout=30,
            )
            assert r.json()["data"]["decideSession"]["userErrors"] == [], r.text
            continue
        r = httpx.post(
            f"{base}/sandbox/{vendor}/sessions/{session['providerSessionId']}/simulate",
            headers=_headers(control),
            json={"action": action, **({"reason": reason} if reason else {})},
            timeout=30,
        )
        assert r.status_code == 200, (action, r.text)
