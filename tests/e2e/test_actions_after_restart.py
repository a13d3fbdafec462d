"""A vendor action on a session created before a restart (or by another replica) gets the
same per-session state as a read: the adapter is handed what the gateway stored first."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx

from tests.e2e.client import gql, simulate
from tests.e2e.server import GatewayProcess, wait_until

CREATE = """
mutation { createSession(input: {provider: "uqudo", clientReference: "restart"}) {
  session { id providerSessionId raw } userErrors { code message } } }
"""
CANCEL = """
mutation($id: ID!) { cancelSession(id: $id) {
  session { status } userErrors { code message } } }
"""
REDACT = """
mutation($id: ID!) { redactSession(id: $id) {
  session { status } userErrors { code message } } }
"""
STATUS = "query($id: ID!) { session(id: $id) { status } }"


async def test_cancel_after_a_restart_still_deletes_the_qr_session(tmp_path: Path) -> None:
    with GatewayProcess(tmp_path / "gateway") as server:
        created = (await gql(server.base, CREATE, {}))["createSession"]
        assert created["userErrors"] == []
        session_id = created["session"]["id"]
        qr = quote(created["session"]["raw"]["qrCodeText"], safe="")
        server.stop()
        server.start()  # same port and data directory: a fresh process knows only the store

        cancelled = (await gql(server.base, CANCEL, {"id": session_id}))["cancelSession"]
        assert cancelled["userErrors"] == [], cancelled
        assert cancelled["session"]["status"] == "CANCELLED"
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            scan = await client.get(f"/sandbox/uqudo/api/v1/session/{qr}")
        assert scan.status_code == 404  # the QR stopped working at once


async def test_redact_after_a_restart_still_deletes_the_qr_session(tmp_path: Path) -> None:
    """A decided session is not followed after a restart, so nothing else hands the adapter
    its QR code: the action itself must."""
    with GatewayProcess(tmp_path / "gateway") as server:
        created = (await gql(server.base, CREATE, {}))["createSession"]
        session = created["session"]
        qr = quote(session["raw"]["qrCodeText"], safe="")
        for action in ("open", "submit", "documented_example"):
            await simulate(server.base, "uqudo", session["providerSessionId"], action)

        def approved() -> bool:
            body = httpx.post(
                f"{server.base}/graphql",
                json={"query": STATUS, "variables": {"id": session["id"]}},
                timeout=10,
            ).json()
            return body["data"]["session"]["status"] == "APPROVED"

        await wait_until(approved)
        server.stop()
        server.start()

        redacted = (await gql(server.base, REDACT, {"id": session["id"]}))["redactSession"]
        assert redacted["userErrors"] == [], redacted
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            scan = await client.get(f"/sandbox/uqudo/api/v1/session/{qr}")
        assert scan.status_code == 404
