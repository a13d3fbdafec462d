"""A webhook that is only a hint (Beltic document webhooks) makes the gateway read the session
it names at once: the change lands with source POLL, and the event is kept."""

from __future__ import annotations

import hashlib
import hmac
import json

from sqlmodel import select

from gateway.store.models import VendorEventRow
from tests.conftest import Harness
from tests.gateway.queries import CREATE, GET


def _document_webhook(session_id: str, secret: str, token: str) -> tuple[bytes, dict[str, str]]:
    """docs/vendors/beltic.md: a JSON:API document resource linked to its session."""
    body = json.dumps(
        {
            "data": {
                "type": "document/idv",
                "id": "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a",
                "attributes": {"status": "processed", "document_type": "passport"},
                "relationships": {"session": {"data": {"type": "session", "id": session_id}}},
            }
        }
    ).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "content-type": "application/json",
        "x-webhook-signature": signature,
        "x-webhook-token": token,
    }


async def test_document_webhook_triggers_an_immediate_read(harness: Harness) -> None:
    created = await harness.gql(CREATE, {"input": {"provider": "beltic", "clientReference": "h"}})
    s = created["createSession"]["session"]
    psid = s["providerSessionId"]
    r = await harness.client.post(
        f"/sandbox/beltic/sessions/{psid}/simulate", json={"action": "open"}
    )
    assert r.status_code == 200
    entry = harness.gateway.providers.get("beltic")
    assert entry is not None and entry.sandbox is not None
    raw, headers = _document_webhook(
        psid, entry.sandbox.webhook_secret, entry.sandbox.options["webhook_token"]
    )
    response = await harness.client.post("/webhooks/beltic", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    got = (await harness.gql(GET, {"id": s["id"]}))["session"]
    assert got["status"] == "IN_PROGRESS"
    assert [(h["status"], h["source"]) for h in got["history"]] == [
        ("CREATED", "API"),
        ("IN_PROGRESS", "POLL"),
    ]
    async with harness.gateway.service.db_factory() as db:
        events = (await db.exec(select(VendorEventRow))).all()
    assert [e.session_id for e in events] == [s["id"]]


async def test_badly_signed_hint_is_rejected_and_reads_nothing(harness: Harness) -> None:
    created = await harness.gql(CREATE, {"input": {"provider": "beltic", "clientReference": "x"}})
    s = created["createSession"]["session"]
    entry = harness.gateway.providers.get("beltic")
    assert entry is not None and entry.sandbox is not None
    raw, headers = _document_webhook(
        s["providerSessionId"], "wrong-secret", entry.sandbox.options["webhook_token"]
    )
    response = await harness.client.post("/webhooks/beltic", content=raw, headers=headers)
    assert response.status_code == 401
