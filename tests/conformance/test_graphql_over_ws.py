"""GraphQL over WebSocket (graphql-transport-ws): the graphql-ws client library follows a
session while the Didit sandbox drives it to APPROVED, and raw sockets that break the protocol
are closed with the codes the protocol names."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conformance.conftest import INIT_TIMEOUT_S, NodeScripts
from tests.e2e.client import gql
from tests.e2e.server import GatewayProcess

CREATE = """
    mutation Create($ref: String!) {
      createSession(input: {provider: "didit", clientReference: $ref}) {
        session { id providerSessionId }
        userErrors { code field message }
      }
    }
    """
#: Raw-socket cases: the close code and reason graphql-transport-ws prescribes.
PROTOCOL_CASES = {
    "subscribe_before_init": (4401, "Unauthorized"),
    "duplicate_subscription_id": (4409, "Subscriber for 1 already exists"),
    "unknown_message_type": (4400, "Unknown message type: shout"),
    "second_connection_init": (4429, "Too many initialisation requests"),
    "no_connection_init": (4408, "Connection initialisation timeout"),
}


@dataclass(frozen=True)
class WsRun:
    session_id: str
    returncode: int | None
    cases: dict[str, Any]
    stderr: str
    seconds: float


async def _run(node_scripts: NodeScripts, base: str) -> WsRun:
    started = time.monotonic()
    created = (await gql(base, CREATE, {"ref": f"conformance-{uuid.uuid4().hex[:8]}"}))[
        "createSession"
    ]
    assert created["userErrors"] == [], created
    session = created["session"]
    out, stderr, returncode = await node_scripts.follow(
        "ws-client.mjs",
        base,
        session,
        # The client is following the session: move it on at the vendor.
        ready=lambda line: line == {"event": "subscribed"},
        env={**os.environ, "INIT_TIMEOUT_S": str(INIT_TIMEOUT_S)},
    )
    lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    result = next((line for line in reversed(lines) if line.get("event") == "result"), {})
    return WsRun(
        session_id=session["id"],
        returncode=returncode,
        cases=result.get("cases", {}),
        stderr=stderr.decode(),
        seconds=time.monotonic() - started,
    )


@pytest.fixture(scope="module")
def ws_run(node_scripts: NodeScripts, conformance_gateway: GatewayProcess) -> WsRun:
    """One run of ws-client.mjs (all cases run concurrently); each case is its own test."""
    return asyncio.run(_run(node_scripts, conformance_gateway.base))


def _case(ws_run: WsRun, name: str) -> dict[str, Any]:
    case = ws_run.cases.get(name)
    assert case is not None, (
        f"ws-client.mjs reported no {name!r} case (exit {ws_run.returncode}):\n{ws_run.stderr}"
    )
    return case


def test_subscription_receives_status_changes(ws_run: WsRun) -> None:
    case = _case(ws_run, "subscription")
    assert case["ok"], case
    assert [(e["previousStatus"], e["status"], e["source"]) for e in case["events"]] == [
        (None, "CREATED", "API"),  # replayed: the client subscribed with after: "0"
        ("CREATED", "IN_PROGRESS", "WEBHOOK"),
        ("IN_PROGRESS", "APPROVED", "WEBHOOK"),
    ]
    assert {e["sessionId"] for e in case["events"]} == {ws_run.session_id}
    print(f"ws-client.mjs ran every case in {ws_run.seconds:.1f}s")


@pytest.mark.parametrize("name", sorted(PROTOCOL_CASES))
def test_protocol_violation_closes_the_socket(ws_run: WsRun, name: str) -> None:
    case = _case(ws_run, name)
    code, reason = PROTOCOL_CASES[name]
    actual = case["actual"]
    assert (actual["code"], actual["reason"]) == (code, reason), case
    print(f"{name}: closed {actual['code']} {actual['reason']!r} after {case['ms']} ms")


def test_client_script_reports_exactly_these_cases_and_succeeds(ws_run: WsRun) -> None:
    assert set(ws_run.cases) == {"subscription", *PROTOCOL_CASES}, ws_run.cases
    assert ws_run.returncode == 0, ws_run.stderr
