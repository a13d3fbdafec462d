"""Issue 14, item 6: redaction is complete, against a real server (dev mode, the vendor
sandboxes driven through their control endpoints).

After `redactSession` nothing personal is written to the session again, whatever the source
(a refresh, the reconciler's polls, webhooks, mutation results, the stored vendor events),
while status changes still apply; what stays at the vendor is reported as a
`VENDOR_DATA_RETAINED` warning; and the SQLite files keep no old copy of the erased values
(`secure_delete`, the WAL truncated) and are readable by their owner only.

Each test has its own server and database, so that any occurrence of a personal value in the
files can only come from the session under test.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import stat
import string
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.client import gql, simulate
from tests.e2e.server import GatewayProcess
from tests.support.stored import DB_FILES, stored_anywhere, stored_in_tables

CREATE = """
mutation($input: CreateSessionInput!) {
  createSession(input: $input) {
    session { id providerSessionId status }
    userErrors { code field message }
  }
}
"""
READ = """
query($id: ID!) {
  session(id: $id) {
    status providerStatus metadata raw verificationUrl qrCode redactedAt
    decision { outcome }
    history { status source }
  }
}
"""
REDACT = """
mutation($id: ID!) {
  redactSession(id: $id) {
    session { id status metadata raw verificationUrl redactedAt }
    userErrors { code message }
    warnings { code field message }
  }
}
"""
REFRESH = """
mutation($id: ID!) {
  refreshSession(id: $id) {
    session { status metadata raw verificationUrl redactedAt }
    userErrors { code message }
  }
}
"""
UPDATE_METADATA = """
mutation($id: ID!, $metadata: JSON!) {
  updateSessionMetadata(id: $id, metadata: $metadata) {
    session { metadata }
    userErrors { code field message }
  }
}
"""
LINK = """
mutation($id: ID!) {
  issueVerificationLink(id: $id) {
    session { verificationUrl }
    userErrors { code field message }
  }
}
"""
DECIDE = """
mutation($id: ID!) {
  decideSession(id: $id, decision: APPROVE) {
    session { status raw metadata redactedAt }
    userErrors { code message }
  }
}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path / "gateway") as process:
        yield process


def word() -> str:
    """A made-up name no sandbox and no other row would contain."""
    return "Zq" + "".join(random.choices(string.ascii_lowercase, k=10))


def person() -> dict[str, str]:
    return {
        "first": word(),
        "last": word(),
        "born": f"1931-0{random.randint(1, 9)}-{random.randint(10, 28)}",
        "email": f"{word().lower()}@example.com",
        "phone": "+4915" + "".join(random.choices(string.digits, k=9)),
        "note": word(),
    }


def bare_input(provider: str, who: dict[str, str], **extra: object) -> dict:
    """A create input whose only personal value is the metadata note."""
    return {
        "provider": provider,
        "clientReference": f"redact-{uuid.uuid4().hex[:8]}",
        "metadata": {"note": who["note"]},
        **extra,
    }


def create_input(provider: str, who: dict[str, str], **extra: object) -> dict:
    return {
        **bare_input(provider, who),
        "expectedPerson": {
            "firstName": who["first"],
            "lastName": who["last"],
            "dateOfBirth": who["born"],
        },
        "contact": {"email": who["email"], "phone": who["phone"]},
        **extra,
    }


async def create(base: str, input_: dict) -> dict:
    payload = (await gql(base, CREATE, {"input": input_}))["createSession"]
    assert payload["userErrors"] == [], payload
    return payload["session"]


async def read(base: str, session_id: str) -> dict:
    return (await gql(base, READ, {"id": session_id}))["session"]


async def wait_for(
    base: str, session_id: str, done: Callable[[dict], bool], timeout_s: float = 20
) -> dict:
    for _ in range(int(timeout_s / 0.05)):
        got = await read(base, session_id)
        if done(got):
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached in {timeout_s} s: {got}")


async def redact(base: str, session_id: str) -> dict:
    payload = (await gql(base, REDACT, {"id": session_id}))["redactSession"]
    assert payload["userErrors"] == [], payload
    got = payload["session"]
    assert got["redactedAt"] is not None
    assert got["metadata"] is None and got["raw"] is None and got["verificationUrl"] is None
    return payload


def erased(got: dict) -> None:
    """The session still shows nothing personal, and says it was redacted."""
    assert got["redactedAt"] is not None, got
    assert got["metadata"] is None, got["metadata"]
    assert got["raw"] is None, got["raw"]
    assert got["verificationUrl"] is None
    assert got.get("qrCode") is None


def retained(payload: dict) -> list[str]:
    return [w["message"] for w in payload["warnings"] if w["code"] == "VENDOR_DATA_RETAINED"]


def files_are_private_and_clean(server: GatewayProcess, values: list[str]) -> None:
    """While the server runs: the database, its WAL and shared-memory file are 0600 and hold
    none of `values`; after it stopped, no table does either."""
    for name in DB_FILES:
        path = server.data_dir / name
        assert path.exists(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (name, oct(path.stat().st_mode))
    assert stored_anywhere(server.data_dir, values) == {}
    server.stop()
    assert stored_in_tables(server.data_dir, values) == {}
    assert stored_anywhere(server.data_dir, values) == {}


# -- Verifa: the reproduction ------------------------------------------------------------
async def test_verifa_a_refresh_after_redaction_writes_nothing_personal_back(
    server: GatewayProcess,
) -> None:
    """Verifa's redaction zeroes the person's fields but keeps the session's metadata: a
    refresh used to copy it (and the whole vendor payload) back into the redacted session."""
    base, who = server.base, person()
    s = await create(base, create_input("verifa", who))
    for action in ("open", "submit", "approve"):
        await simulate(base, "verifa", s["providerSessionId"], action)
    before = await wait_for(base, s["id"], lambda g: g["status"] == "APPROVED")
    assert before["metadata"] == {"note": who["note"]}
    assert who["first"] in json.dumps(before["raw"])  # the result's extracted data

    payload = await redact(base, s["id"])
    (message,) = retained(payload)
    assert "metadata" in message  # the session record stays at Verifa, its metadata too
    refreshed = (await gql(base, REFRESH, {"id": s["id"]}))["refreshSession"]
    assert refreshed["userErrors"] == [], refreshed
    erased(refreshed["session"])
    # Neither new metadata nor a new link for a redacted session (the gateway says so).
    update = {"id": s["id"], "metadata": {"note": who["note"]}}
    for name, mutation, variables in (
        ("updateSessionMetadata", UPDATE_METADATA, update),
        ("issueVerificationLink", LINK, {"id": s["id"]}),
    ):
        refused = (await gql(base, mutation, variables))[name]
        assert refused["session"] is None
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
            ("BAD_USER_INPUT", ["id"])
        ]
    got = await read(base, s["id"])
    erased(got)
    assert got["status"] == "APPROVED" and got["decision"]["outcome"] == "APPROVED"
    files_are_private_and_clean(server, list(who.values()))


# -- Beltic: polls after redaction, the account left at the vendor -------------------------------
async def test_beltic_polls_after_redaction_apply_status_only_and_the_account_is_reported(
    server: GatewayProcess,
) -> None:
    base, who = server.base, person()
    s = await create(base, create_input("beltic", who))
    payload = await redact(base, s["id"])
    (message,) = retained(payload)
    for field in ("name", "birth date", "e-mail", "phone"):
        assert field in message, message

    # Beltic sends no session webhooks: the reconciler's polls carry the progress.
    for action in ("open", "submit", "approve"):
        await simulate(base, "beltic", s["providerSessionId"], action)
    got = await wait_for(base, s["id"], lambda g: g["status"] == "AWAITING_DECISION")
    erased(got)
    assert [h["status"] for h in got["history"]] == [
        "CREATED",
        "IN_PROGRESS",
        "PROCESSING",
        "AWAITING_DECISION",
    ]
    decided = (await gql(base, DECIDE, {"id": s["id"]}))["decideSession"]
    assert decided["userErrors"] == [], decided
    assert decided["session"]["status"] == "APPROVED"
    erased({**decided["session"], "verificationUrl": None})

    # The gateway's own copy is Beltic's only metadata: it is not refilled either.
    update = (await gql(base, UPDATE_METADATA, {"id": s["id"], "metadata": {"note": who["note"]}}))[
        "updateSessionMetadata"
    ]
    assert update["session"] is None
    assert [(e["code"], e["field"]) for e in update["userErrors"]] == [("BAD_USER_INPUT", ["id"])]
    erased(await read(base, s["id"]))
    files_are_private_and_clean(server, list(who.values()))


# -- UIP: webhooks after redaction, no vendor erasure --------------------------------------------
async def test_uip_webhooks_after_redaction_store_no_claims_and_uip_is_reported(
    server: GatewayProcess,
) -> None:
    base, who = server.base, person()
    s = await create(base, bare_input("uip", who, steps=[{"type": "IDENTIFY"}] * 2))
    await simulate(base, "uip", s["providerSessionId"], "open")
    await simulate(base, "uip", s["providerSessionId"], "submit")  # step 0 verifies
    await wait_for(base, s["id"], lambda g: "claims" in json.dumps(stored_events(server.data_dir)))
    claims = _claims(stored_events(server.data_dir))
    assert len(claims) >= 2, claims  # the person's name and birth date, by webhook

    payload = await redact(base, s["id"])
    (message,) = retained(payload)
    assert "UIP offers no erasure" in message
    assert set(map(json.dumps, stored_events(server.data_dir))) == {'{"redacted": true}'}
    kept = len(stored_events(server.data_dir))

    # Step 1 verifies after the redaction: its claims come by webhook (step.completed, then
    # session.completed), the status applies, the events are kept without their payload.
    await simulate(base, "uip", s["providerSessionId"], "submit")
    got = await wait_for(base, s["id"], lambda g: g["status"] == "APPROVED")
    erased(got)
    await wait_for(base, s["id"], lambda g: len(stored_events(server.data_dir)) >= kept + 2)
    assert set(map(json.dumps, stored_events(server.data_dir))) == {'{"redacted": true}'}
    files_are_private_and_clean(server, [*claims, *who.values()])


def stored_events(data_dir: Path) -> list[dict]:
    """The stored vendor events' payloads, read while the server runs."""
    with sqlite3.connect(f"file:{data_dir / 'gateway.db'}?mode=ro", uri=True) as db:
        return [json.loads(r[0]) for r in db.execute("select payload from vendor_events")]


def _claims(payload: object) -> list[str]:
    """The person's values in UIP step payloads (the `claims` of an identify step)."""
    found: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "claims" and isinstance(value, dict):
                found += [v for v in value.values() if isinstance(v, str) and len(v) >= 4]
            else:
                found += _claims(value)
    elif isinstance(payload, list):
        for item in payload:
            found += _claims(item)
    return found


# -- Didit: deleted at the vendor ----------------------------------------------------------------
async def test_didit_redaction_leaves_no_copy_and_a_later_refresh_writes_nothing(
    server: GatewayProcess,
) -> None:
    base, who = server.base, person()
    s = await create(base, create_input("didit", who))
    for action in ("open", "approve"):
        await simulate(base, "didit", s["providerSessionId"], action)
    before = await wait_for(base, s["id"], lambda g: g["status"] == "APPROVED")
    assert who["last"] in json.dumps(before["raw"])  # the decision's extracted data

    payload = await redact(base, s["id"])
    (message,) = retained(payload)
    assert "soft delete" in message and "extracted data" in message
    refreshed = (await gql(base, REFRESH, {"id": s["id"]}))["refreshSession"]
    assert [e["code"] for e in refreshed["userErrors"]] == ["NOT_FOUND"]  # gone at Didit
    got = await read(base, s["id"])
    erased(got)
    assert got["status"] == "APPROVED"
    files_are_private_and_clean(server, list(who.values()))


# -- uqudo: the QR session and the cached result deleted ----------------------------------------
async def test_uqudo_redaction_leaves_no_copy_of_the_result(server: GatewayProcess) -> None:
    base, who = server.base, person()
    s = await create(base, bare_input("uqudo", who))
    for action in ("open", "submit", "approve"):
        await simulate(base, "uqudo", s["providerSessionId"], action)
    before = await wait_for(base, s["id"], lambda g: g["status"] == "APPROVED")
    document_holder = ["DOE<<JANE", "JANE"]  # the sandbox's document (MRZ and name)
    assert all(v in json.dumps(before["raw"]) for v in document_holder), before["raw"]

    payload = await redact(base, s["id"])
    assert retained(payload) == []  # uqudo keeps nothing once both deletes are done
    await gql(base, REFRESH, {"id": s["id"]})  # the result is gone at uqudo: nothing to read
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        refused = await client.post(
            f"/sandbox/uqudo/sessions/{s['providerSessionId']}/simulate", json={"action": "open"}
        )
    assert refused.status_code == 409  # the QR session was deleted at uqudo
    got = await read(base, s["id"])
    erased(got)
    assert got["status"] == "APPROVED"
    files_are_private_and_clean(server, [*document_holder, *who.values()])
