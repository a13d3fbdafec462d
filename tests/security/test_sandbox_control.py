"""Sandboxes in a keyed deployment (issue 14, item 5). Before: with API keys set every vendor
without credentials still got a sandbox whose `/_faults` and `/simulate` needed nothing, and a
browser that read `providerSessionId` with its client token approved its own session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.ops.simulate import simulate
from tests.e2e.server import GatewayProcess
from tests.support.keys import (
    env,
    graphql_as,
    issue_token,
    key,
    session_field_as,
    simulate_as,
)

CREATE = (
    'mutation { createSession(input: {clientReference: "ctl", provider: "didit"}) '
    "{ session { id providerSessionId } userErrors { code message } } }"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("sandbox-ctl"), extra_env=env()) as process:
        yield process


def _graphql(server: GatewayProcess, secret: str, query: str, variables: dict | None = None):
    return graphql_as(server.base, secret, query, variables).json()


@pytest.fixture(scope="module")
def session(server: GatewayProcess) -> dict[str, str]:
    created = _graphql(server, key("writer"), CREATE)["data"]["createSession"]["session"]
    return {**created, "token": issue_token(server.base, created["id"], ttl=300)}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/sandbox/didit/_faults", {"status": 503}),
        ("DELETE", "/sandbox/didit/_faults", None),
        ("POST", "/sandbox/didit/sessions/{vendor_id}/simulate", {"action": "approve"}),
        ("POST", "/sandbox/didit/sessions/{vendor_id}/redeliver", {"index": -1}),
        ("POST", "/sandbox/uip/sandbox-settings", {}),
    ],
)
@pytest.mark.parametrize(
    ("credential", "status"),
    [("none", 401), ("client_token", 403), ("reader", 403), ("admin", 403)],
)
def test_control_endpoints_need_the_sandbox_control_scope(
    server: GatewayProcess,
    session: dict[str, str],
    method: str,
    path: str,
    body: dict | None,
    credential: str,
    status: int,
) -> None:
    secret = {"none": None, "client_token": session["token"]}.get(credential, key(credential))
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    r = httpx.request(
        method,
        server.base + path.format(vendor_id=session["providerSessionId"]),
        headers=headers,
        json=body,
        timeout=10,
    )
    assert r.status_code == status, r.text


def test_the_client_token_cannot_approve_its_own_session(
    server: GatewayProcess, session: dict[str, str]
) -> None:
    read = _graphql(
        server,
        session["token"],
        "query($id: ID!) { session(id: $id) { id status providerSessionId } }",
        {"id": session["id"]},
    )
    assert read["data"]["session"]["providerSessionId"] is None
    assert read["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    r = simulate_as(server.base, session["token"], "didit", session["providerSessionId"], "approve")
    assert r.status_code == 403
    status = session_field_as(server.base, key("reader"), session["id"], "status")
    assert status != "APPROVED"


def test_a_sandbox_control_key_drives_the_sandbox(
    server: GatewayProcess, session: dict[str, str]
) -> None:
    r = simulate_as(server.base, key("sandbox"), "didit", session["providerSessionId"], "open")
    assert r.status_code == 200, r.text


async def test_the_simulate_command_drives_a_keyed_gateway_with_its_key(
    server: GatewayProcess,
) -> None:
    summary = await simulate(
        server.base, 5, concurrency=2, seed=5, quiet=True, api_key=key("operator")
    )
    assert sum(summary.created.values()) == 5
    assert not summary.failed, summary.errors


def test_hosted_pages_stay_open(server: GatewayProcess, session: dict[str, str]) -> None:
    """The person verifying has no credential: the sandbox's hosted page must still load."""
    link = session_field_as(server.base, key("writer"), session["id"], "verificationUrl")
    assert isinstance(link, str) and link.startswith(server.base + "/sandbox/didit/")
    assert httpx.get(link, timeout=10).status_code == 200


def test_without_the_setting_no_sandbox_is_mounted(tmp_path: Path) -> None:
    with GatewayProcess(tmp_path, extra_env={**env(), "KYCGW_SANDBOXES": "[]"}) as process:
        faults = httpx.post(f"{process.base}/sandbox/didit/_faults", json={"status": 503})
        created = _graphql(process, key("writer"), CREATE)["data"]["createSession"]
        log = process.log_path.read_text()
    assert faults.status_code == 404
    assert created["session"] is None and created["userErrors"]
    assert "KYCGW_SANDBOXES" in log  # start-up says why there is no sandbox
    assert "SANDBOXES MOUNTED" not in log


def test_start_up_says_loudly_that_sandboxes_are_mounted(server: GatewayProcess) -> None:
    log = server.log_path.read_text()
    assert "SANDBOXES MOUNTED" in log
