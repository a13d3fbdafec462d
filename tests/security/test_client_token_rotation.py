"""Rotating the client-token secret without downtime (issue 15, item 10): tokens signed with
the previous secret keep working while it is listed in KYCGW_CLIENT_TOKEN_PREVIOUS_SECRETS,
new tokens are signed with the current one, and a secret no longer listed is refused."""

from __future__ import annotations

import json
from pathlib import Path

import jwt

from gateway.auth import TOKEN_AUDIENCE, TOKEN_PREFIX
from tests.e2e.server import GatewayProcess
from tests.support.keys import (
    TOKEN_SECRET,
    client_token,
    create_sessions,
    env,
    graphql_as,
    issue_token,
)

NEW_SECRET = "rotated-client-token-secret-9876543210"
READ = "query($id: ID!) { session(id: $id) { id status } }"


def _read(server: GatewayProcess, token: str, session_id: str) -> dict:
    return graphql_as(server.base, token, READ, {"id": session_id}).json()


def test_tokens_of_the_previous_secret_work_during_a_rotation(tmp_path: Path) -> None:
    rotated = {
        **env(),
        "KYCGW_CLIENT_TOKEN_SECRET": NEW_SECRET,
        "KYCGW_CLIENT_TOKEN_PREVIOUS_SECRETS": json.dumps([TOKEN_SECRET]),
    }
    with GatewayProcess(tmp_path / "rotating", extra_env=rotated) as server:
        (created,) = create_sessions(server.base, ["r"])
        issued = issue_token(server.base, created)
        old = _read(server, client_token(created), created)
        new = _read(server, issued, created)
        unknown = _read(
            server, client_token(created, secret="some-other-secret-0000000000000000"), created
        )
        log = server.log_path.read_text()
    assert old["data"]["session"]["id"] == created
    assert new["data"]["session"]["id"] == created
    jwt.decode(  # issued with the current secret
        issued[len(TOKEN_PREFIX) :], NEW_SECRET, algorithms=["HS256"], audience=TOKEN_AUDIENCE
    )
    assert unknown["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert TOKEN_SECRET not in log and NEW_SECRET not in log
