"""Rotating the client-token secret without downtime (issue 15, item 10): tokens signed with
the previous secret keep working while it is listed in KYCGW_CLIENT_TOKEN_PREVIOUS_SECRETS,
new tokens are signed with the current one, and a secret no longer listed is refused."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import jwt

from gateway.web.auth import TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_PREFIX
from tests.e2e.server import GatewayProcess
from tests.security.keys import TOKEN_SECRET, env, key

NEW_SECRET = "rotated-client-token-secret-9876543210"
READ = "query($id: ID!) { session(id: $id) { id status } }"


def _token(session_id: str, secret: str) -> str:
    now = int(time.time())
    claims = {"iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": session_id}
    claims |= {"iat": now, "exp": now + 300}
    return TOKEN_PREFIX + jwt.encode(claims, secret, algorithm="HS256")


def _read(server: GatewayProcess, token: str, session_id: str) -> dict:
    r = httpx.post(
        f"{server.base}/graphql",
        headers={"authorization": f"Bearer {token}"},
        json={"query": READ, "variables": {"id": session_id}},
        timeout=20,
    )
    return r.json()


def test_tokens_of_the_previous_secret_work_during_a_rotation(tmp_path: Path) -> None:
    rotated = {
        **env(),
        "KYCGW_CLIENT_TOKEN_SECRET": NEW_SECRET,
        "KYCGW_CLIENT_TOKEN_PREVIOUS_SECRETS": json.dumps([TOKEN_SECRET]),
    }
    server = GatewayProcess(tmp_path / "rotating", extra_env=rotated)
    server.start()
    try:
        created = httpx.post(
            f"{server.base}/graphql",
            headers={"authorization": f"Bearer {key('writer')}"},
            json={
                "query": 'mutation { createSession(input: {clientReference: "r"}) '
                "{ session { id } } }"
            },
            timeout=20,
        ).json()["data"]["createSession"]["session"]["id"]
        issued = httpx.post(
            f"{server.base}/graphql",
            headers={"authorization": f"Bearer {key('writer')}"},
            json={
                "query": "mutation($s: ID!) { issueClientToken(sessionId: $s) { token } }",
                "variables": {"s": created},
            },
            timeout=20,
        ).json()["data"]["issueClientToken"]["token"]
        old = _read(server, _token(created, TOKEN_SECRET), created)
        new = _read(server, issued, created)
        unknown = _read(server, _token(created, "some-other-secret-0000000000000000"), created)
        log = server.log_path.read_text()
    finally:
        server.stop()
    assert old["data"]["session"]["id"] == created
    assert new["data"]["session"]["id"] == created
    jwt.decode(  # issued with the current secret
        issued[len(TOKEN_PREFIX) :], NEW_SECRET, algorithms=["HS256"], audience=TOKEN_AUDIENCE
    )
    assert unknown["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert TOKEN_SECRET not in log and NEW_SECRET not in log
