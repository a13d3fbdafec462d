"""Every query, mutation and subscription by every kind of credential: the exact outcome.

ALLOW means no UNAUTHENTICATED/FORBIDDEN answer (the call may still fail for other reasons,
e.g. UNSUPPORTED_BY_PROVIDER); the other outcomes are the error code the caller gets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import GatewayProcess
from tests.support.keys import (
    create_sessions,
    env,
    expired_token,
    forged_token,
    issue_token,
    key,
)

ALLOW, UNAUTH, FORBID = "ALLOW", "UNAUTHENTICATED", "FORBIDDEN"
CREDENTIALS = [
    "none",
    "wrong_key",
    "key_without_scope",
    "key_with_scope",
    "own_client_token",
    "other_client_token",
    "expired_client_token",
    "forged_client_token",
]


@dataclass
class World:
    server: GatewayProcess
    own: str  # a session id
    other: str
    own_token: str
    other_token: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with GatewayProcess(tmp_path_factory.mktemp("acl"), extra_env=env()) as server:
        ids = create_sessions(server.base, ["own", "other"])
        tokens = [issue_token(server.base, sid) for sid in ids]
        yield World(server, ids[0], ids[1], tokens[0], tokens[1])


def credentials(world: World) -> dict[str, str | None]:
    return {
        "none": None,
        "wrong_key": "kgw_not_a_key_at_all",
        "key_without_scope": key("stats"),
        "key_with_scope": None,  # filled per operation
        "own_client_token": world.own_token,
        "other_client_token": world.other_token,
        "expired_client_token": expired_token(world.own),
        "forged_client_token": forged_token(world.own),
    }


# operation → (document, scope-holder key name, what the session's own token gets)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "session": ("query($id: ID!) { session(id: $id) { id status } }", "reader", ALLOW),
    "sessions": ("{ sessions(first: 1) { totalCount } }", "reader", FORBID),
    "providers": ("{ providers { name } }", "reader", FORBID),
    "routing": ("{ routing { default } }", "reader", FORBID),
    "createSession": (
        'mutation { createSession(input: {clientReference: "m"}) { userErrors { code } } }',
        "writer",
        FORBID,
    ),
    "refreshSession": (
        "mutation($id: ID!) { refreshSession(id: $id) { userErrors { code } } }",
        "writer",
        FORBID,
    ),
    "cancelSession": (
        "mutation($id: ID!) { cancelSession(id: $id) { userErrors { code } } }",
        "writer",
        FORBID,
    ),
    "decideSession": (
        "mutation($id: ID!) { decideSession(id: $id, decision: APPROVE) { userErrors { code } } }",
        "decider",
        FORBID,
    ),
    "continueSession": (
        "mutation($id: ID!) { continueSession(id: $id) { userErrors { code } } }",
        "writer",
        FORBID,
    ),
    "resumeSession": (
        "mutation($id: ID!) { resumeSession(id: $id) { userErrors { code } } }",
        "writer",
        FORBID,
    ),
    "reprocessSession": (
        "mutation($id: ID!) { reprocessSession(id: $id) { userErrors { code } } }",
        "writer",
        FORBID,
    ),
    "issueVerificationLink": (
        "mutation($id: ID!) { issueVerificationLink(id: $id) { userErrors { code } } }",
        "writer",
        FORBID,
    ),
    "updateSessionMetadata": (
        "mutation($id: ID!) { updateSessionMetadata(id: $id, "
        'metadata: {a: "b"}) { userErrors { code } } }',
        "writer",
        FORBID,
    ),
    "redactSession": (
        "mutation($id: ID!) { redactSession(id: $id) { userErrors { code } } }",
        "admin",
        FORBID,
    ),
    "issueClientToken": (
        "mutation($id: ID!) { issueClientToken(sessionId: $id) { userErrors { code } } }",
        "writer",
        FORBID,
    ),
}


def expected(operation: str, credential: str) -> str:
    if credential in ("none", "wrong_key", "expired_client_token", "forged_client_token"):
        return UNAUTH
    if credential == "key_without_scope" or credential == "other_client_token":
        return FORBID
    if credential == "own_client_token":
        return OPERATIONS[operation][2]
    return ALLOW


def outcome(body: dict) -> str:
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code in (UNAUTH, FORBID):
            return code
    for value in (body.get("data") or {}).values():
        if not isinstance(value, dict):
            continue
        for error in value.get("userErrors") or []:
            if error["code"] in (UNAUTH, FORBID):
                return error["code"]
    return ALLOW


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("credential", CREDENTIALS)
def test_query_and_mutation_matrix(world: World, operation: str, credential: str) -> None:
    document, holder, _ = OPERATIONS[operation]
    secret = credentials(world)[credential]
    if credential == "key_with_scope":
        secret = key(holder)
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    with httpx.Client(base_url=world.server.base, timeout=20) as client:
        r = client.post(
            "/graphql",
            headers=headers,
            json={"query": document, "variables": {"id": world.own} if "$id" in document else {}},
        )
    assert r.status_code == 200, r.text
    assert outcome(r.json()) == expected(operation, credential), r.json()


async def _subscribe(world: World, params: dict, session_id: str) -> str:
    url = world.server.base.replace("http://", "ws://") + "/graphql"
    try:
        async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": params}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ack["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {
                            "query": "subscription($s: ID) { sessionStatusChanged(sessionId: $s) "
                            "{ status } }",
                            "variables": {"s": session_id},
                        },
                    }
                )
            )
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 1.5))
            except TimeoutError:
                return ALLOW  # subscribed and waiting for changes
    except ConnectionClosed as closed:
        return UNAUTH if closed.rcvd and closed.rcvd.code == 4403 else f"closed {closed}"
    payload = message.get("payload")
    errors = payload if message["type"] == "error" else (payload or {}).get("errors") or []
    return outcome({"errors": errors}) if errors else ALLOW


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_subscription_matrix(world: World, credential: str) -> None:
    secret = credentials(world)[credential]
    if credential == "key_with_scope":
        secret = key("reader")
    params = {"Authorization": f"Bearer {secret}"} if secret else {}
    got = await _subscribe(world, params, world.own)
    want = ALLOW if credential == "own_client_token" else expected("session", credential)
    if credential == "other_client_token":
        want = FORBID
    assert got == want


async def test_client_token_cannot_follow_another_session(world: World) -> None:
    params = {"Authorization": f"Bearer {world.own_token}"}
    assert await _subscribe(world, params, world.other) == FORBID


@pytest.mark.parametrize(
    ("credential", "raw", "link", "reasons"),
    [
        ("reader", FORBID, FORBID, ALLOW),
        ("writer", FORBID, ALLOW, ALLOW),
        ("pii", ALLOW, FORBID, ALLOW),
        ("own_token", FORBID, ALLOW, FORBID),
    ],
)
def test_field_level_protection(
    world: World, credential: str, raw: str, link: str, reasons: str
) -> None:
    secret = world.own_token if credential == "own_token" else key(credential)
    results = {}
    for name, field in (
        ("raw", "raw"),
        ("link", "verificationUrl qrCode"),
        ("reasons", "metadata"),
    ):
        with httpx.Client(base_url=world.server.base, timeout=20) as client:
            r = client.post(
                "/graphql",
                headers={"authorization": f"Bearer {secret}"},
                json={"query": f'{{ session(id: "{world.own}") {{ id status {field} }} }}'},
            )
        body = r.json()
        assert body["data"]["session"]["id"] == world.own  # the rest of the session is there
        results[name] = outcome(body)
        if results[name] == FORBID:
            for f in field.split():
                assert body["data"]["session"][f] is None
    assert results == {"raw": raw, "link": link, "reasons": reasons}
