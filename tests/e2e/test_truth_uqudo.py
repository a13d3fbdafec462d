"""Issue 13, uqudo, against a real server: GraphQL and the sandbox control endpoint only.

- cancelSession deletes the QR session at the (sandbox) vendor
  (https://docs.uqudo.com/docs/kyc/qr-code-app/scan-the-qr-code): the person's flow is refused
  from then on;
- uqudo's own documented example result
  (https://docs.uqudo.com/docs/kyc/uqudo-sdk/sdk-result/validation-and-parsing) comes out
  APPROVED by the default policy;
- every input field is declared, and `expiresIn` is ignored with a warning: the QR session's
  expiry is uqudo's fixed 30 minutes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx

from adapters.base import input_fields
from gateway.vendors.input_support import camel
from tests.e2e.client import Watcher, gql, simulate

CREATE = """
mutation Create($ref: String!, $expiresIn: Int) {
  createSession(input: {provider: "uqudo", clientReference: $ref, expiresIn: $expiresIn}) {
    session { id providerSessionId status createdAt expiresAt }
    userErrors { code field message }
    warnings { code field message }
  }
}
"""
CANCEL = """
mutation Cancel($id: ID!) {
  cancelSession(id: $id) {
    session { id status providerStatus }
    userErrors { code message providerCode }
  }
}
"""
LINKS = """
query Links($id: ID!) { session(id: $id) { verificationUrl raw } }
"""
GET = """
query Get($id: ID!) {
  session(id: $id) {
    status providerStatus
    decision { outcome decidedBy reasonCodes }
  }
}
"""
PROVIDERS = """
query { providers { name capabilities inputSupport { field support note } } }
"""


async def _create(base: str, ref: str, expires_in: int | None = None) -> dict:
    created = (await gql(base, CREATE, {"ref": ref, "expiresIn": expires_in}))["createSession"]
    assert created["userErrors"] == [], created
    return created


async def _control(base: str, psid: str, action: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return await client.post(
            f"/sandbox/uqudo/sessions/{psid}/simulate", json={"action": action}
        )


async def _scan(base: str, qr_code_text: str) -> httpx.Response:
    """What uqudo's reader app does with a scanned QR (scan-the-qr-code page), at the sandbox."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return await client.get(f"/sandbox/uqudo/api/v1/session/{quote(qr_code_text, safe='')}")


async def test_cancel_deletes_the_qr_session_at_the_vendor(base: str) -> None:
    ref = f"uqudo-cancel-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = (await _create(base, ref))["session"]
        links = (await gql(base, LINKS, {"id": s["id"]}))["session"]
        qr_code_text = links["raw"]["qrCodeText"]
        assert (await _scan(base, qr_code_text)).status_code == 200  # the QR works
        await simulate(base, "uqudo", s["providerSessionId"], "open")
        await watcher.wait_for("IN_PROGRESS")
        cancelled = (await gql(base, CANCEL, {"id": s["id"]}))["cancelSession"]
        assert cancelled["userErrors"] == [], cancelled
        assert cancelled["session"]["status"] == "CANCELLED"
        assert cancelled["session"]["providerStatus"] == "QR_DELETED"
        await watcher.wait_for("CANCELLED")
    # The sandbox vendor no longer knows the QR session: a scan of the QR finds nothing, the
    # QR's link says so, and the person's flow is refused.
    assert (await _scan(base, qr_code_text)).status_code == 404
    async with httpx.AsyncClient(timeout=30) as client:
        page = await client.get(links["verificationUrl"])
    assert "deleted" in page.text and "<form" not in page.text
    refused = await _control(base, s["providerSessionId"], "submit")
    assert refused.status_code == 409, refused.text
    assert "deleted" in refused.json()["message"]
    got = (await gql(base, GET, {"id": s["id"]}))["session"]
    assert got["status"] == "CANCELLED" and got["decision"] is None
    # Cancelling again is refused by the vendor's state, not silently repeated.
    again = (await gql(base, CANCEL, {"id": s["id"]}))["cancelSession"]
    assert again["userErrors"], again


async def test_the_documented_example_result_is_approved(base: str) -> None:
    ref = f"uqudo-doc-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = (await _create(base, ref))["session"]
        psid = s["providerSessionId"]
        for action in ("open", "submit", "documented_example"):
            await simulate(base, "uqudo", psid, action)
        await watcher.wait_for("APPROVED")
    got = (await gql(base, GET, {"id": s["id"]}))["session"]
    assert got["status"] == "APPROVED"
    assert got["decision"]["outcome"] == "APPROVED"
    assert got["decision"]["decidedBy"] == "POLICY"
    assert got["decision"]["reasonCodes"] == ["policy:passed"]


async def test_expires_in_is_ignored_and_the_expiry_is_uqudos(base: str) -> None:
    created = await _create(base, f"uqudo-ttl-{uuid.uuid4().hex[:8]}", expires_in=7200)
    assert [(w["code"], w["field"]) for w in created["warnings"]] == [
        ("INPUT_IGNORED", ["input", "expiresIn"])
    ]
    s = created["session"]
    lifetime = datetime.fromisoformat(s["expiresAt"]) - datetime.fromisoformat(s["createdAt"])
    assert abs(lifetime - timedelta(minutes=30)) < timedelta(seconds=5)


async def test_uqudo_declares_every_input_field(base: str) -> None:
    providers = (await gql(base, PROVIDERS, {}))["providers"]
    uqudo = next(p for p in providers if p["name"] == "uqudo")
    assert "CANCEL" in uqudo["capabilities"]
    support = {row["field"]: row["support"] for row in uqudo["inputSupport"]}
    assert support["expiresIn"] == "IGNORED"
    assert support["idempotencyKey"] == "MAPPED"
    assert support["providerOptions"] == "SENT"
    assert support["steps"] == "REFUSED"
    assert {camel(name) for name in input_fields()} <= set(support)
