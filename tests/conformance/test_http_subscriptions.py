"""Subscriptions over plain HTTP (issue 15, item 3): Apollo Client with only an HttpLink
follows a session through Apollo's multipart subscription protocol, a raw multipart stream
replays history from `after: "0"`, and any other HTTP transport of a subscription is a 400
that says what to use, not a masked crash."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conformance.conftest import NodeScripts
from tests.conformance.multipart import MULTIPART_ACCEPT, all_parts, parts
from tests.e2e.client import gql, simulate
from tests.e2e.server import GatewayProcess

CREATE = """
    mutation Create($ref: String!) {
      createSession(input: {provider: "didit", clientReference: $ref}) {
        session { id providerSessionId }
        userErrors { code field message }
      }
    }
    """
WATCH = """
    subscription Watch($id: ID!, $after: String) {
      sessionStatusChanged(sessionId: $id, after: $after) { previousStatus status source cursor }
    }
    """
ADVICE = ("graphql-transport-ws", "multipart")


async def _session(base: str) -> dict[str, str]:
    created = (await gql(base, CREATE, {"ref": f"http-sub-{uuid.uuid4().hex[:8]}"}))[
        "createSession"
    ]
    assert created["userErrors"] == [], created
    return created["session"]


def _statuses(events: list[dict[str, Any]]) -> list[tuple[str | None, str, str]]:
    return [(e["previousStatus"], e["status"], e["source"]) for e in events]


async def _apollo(node_scripts: NodeScripts, base: str) -> tuple[str, list[dict], str, int]:
    session = await _session(base)
    out, stderr, returncode = await node_scripts.follow(
        "apollo-http-subscription.mjs",
        base,
        session,
        # The client follows the session (its CREATED change was replayed): move it on.
        ready=lambda line: line.get("status") == "CREATED",
    )
    events = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    return session["id"], events, stderr.decode(), returncode or 0


def test_apollo_client_over_http_only_receives_the_sessions_changes(
    node_scripts: NodeScripts, conformance_gateway: GatewayProcess
) -> None:
    session_id, events, stderr, returncode = asyncio.run(
        _apollo(node_scripts, conformance_gateway.base)
    )
    assert returncode == 0, stderr
    assert _statuses(events) == [
        (None, "CREATED", "API"),  # replayed: the client subscribed with after: "0"
        ("CREATED", "IN_PROGRESS", "WEBHOOK"),
        ("IN_PROGRESS", "APPROVED", "WEBHOOK"),
    ]
    assert {e["sessionId"] for e in events} == {session_id}


async def _replay(base: str) -> tuple[httpx.Response, list[dict[str, Any]]]:
    session = await _session(base)
    for action in ("open", "approve"):
        await simulate(base, "didit", session["providerSessionId"], action)
    body = {"query": WATCH, "variables": {"id": session["id"], "after": "0"}}
    payloads: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as client,
        client.stream("POST", "/graphql", json=body, headers={"accept": MULTIPART_ACCEPT}) as r,
    ):
        async for part in parts(r):
            if "payload" in part:
                payloads.append(part["payload"])
            if len(payloads) == 3:
                break  # the history is replayed; the stream stays open for live changes
    return r, payloads


def test_multipart_stream_replays_history_after_cursor_zero(
    conformance_gateway: GatewayProcess,
) -> None:
    response, payloads = asyncio.run(_replay(conformance_gateway.base))
    assert response.status_code == 200
    assert "accept" in response.headers["vary"].lower()
    assert all("errors" not in p for p in payloads), payloads
    events = [p["data"]["sessionStatusChanged"] for p in payloads]
    assert _statuses(events) == [
        (None, "CREATED", "API"),
        ("CREATED", "IN_PROGRESS", "WEBHOOK"),
        ("IN_PROGRESS", "APPROVED", "WEBHOOK"),
    ]
    cursors = [int(e["cursor"]) for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3


@pytest.mark.parametrize(
    "method,accept",
    [
        ("POST", "application/json"),
        ("POST", "application/graphql-response+json"),
        ("GET", "application/json"),
    ],
)
def test_subscription_over_plain_http_is_refused_with_advice(
    conformance_gateway: GatewayProcess, method: str, accept: str
) -> None:
    base = conformance_gateway.base
    session = asyncio.run(_session(base))
    before = conformance_gateway.log_text().count('"level": "ERROR"')
    variables = {"id": session["id"]}
    if method == "POST":
        response = httpx.post(
            f"{base}/graphql",
            json={"query": WATCH, "variables": variables},
            headers={"accept": accept},
            timeout=10,
        )
    else:
        params = {"query": WATCH, "variables": json.dumps(variables)}
        response = httpx.get(
            f"{base}/graphql", params=params, headers={"accept": accept}, timeout=10
        )
    assert response.status_code == 400, response.text
    assert all(word in response.text for word in ADVICE), response.text
    assert "Unexpected error" not in response.text
    log = conformance_gateway.log_text()
    assert log.count('"level": "ERROR"') == before, log[-3000:]
    assert "Cannot return null" not in log


async def _over_the_alias_limit(base: str) -> list[dict[str, Any]]:
    session = await _session(base)
    aliases = " ".join(f"a{i}: id" for i in range(40))  # the default limit is 30
    query = (
        'subscription($id: ID!) { sessionStatusChanged(sessionId: $id, after: "0") '
        f"{{ status session {{ {aliases} }} }} }}"
    )
    return await all_parts(base, {"query": query, "variables": {"id": session["id"]}})


def test_multipart_subscription_is_validated_with_the_same_limits(
    conformance_gateway: GatewayProcess,
) -> None:
    received = asyncio.run(_over_the_alias_limit(conformance_gateway.base))
    payloads = [part["payload"] for part in received if "payload" in part]
    # One refusal, then the stream ends: the subscription never ran.
    assert len(payloads) == 1, received
    assert payloads[0].get("data") is None
    assert any("alias" in e["message"].lower() for e in payloads[0]["errors"]), payloads


async def _query_as_multipart(base: str) -> list[dict[str, Any]]:
    return await all_parts(base, {"query": "{ providers { name } }"})


def test_query_with_the_multipart_accept_is_answered_not_crashed(
    conformance_gateway: GatewayProcess,
) -> None:
    before = conformance_gateway.log_text().count('"level": "ERROR"')
    received = asyncio.run(_query_as_multipart(conformance_gateway.base))
    payloads = [part["payload"] for part in received if "payload" in part]
    assert len(payloads) == 1, received
    assert "errors" not in payloads[0], payloads
    assert {p["name"] for p in payloads[0]["data"]["providers"]} >= {"didit"}
    assert conformance_gateway.log_text().count('"level": "ERROR"') == before
