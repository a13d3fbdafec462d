"""Beltic's answers are the truth, end to end (issue 13, items 8-11 and 16;
docs/vendors/beltic.md): a real `kyc-gateway serve` in sandbox mode, GraphQL over HTTP and the
Beltic sandbox's control endpoint only.

- Beltic's create makes a session "linked to an account" each time it is called
  (https://docs.beltic.com/guides/identity/sessions) and takes no idempotency key: two creates
  for one `clientReference` with different idempotency keys are two sessions. Only a reused
  `idempotencyKey` (the gateway's own dedupe) answers the first session again.
- Beltic has no hosted page: the integrator uploads the person's documents and runs the
  verifications (https://docs.beltic.com/guides/identity/overview). `verificationUrl` is null,
  in the sandbox too, and `providers { personFlow }` says how such a session progresses.
- A transition Beltic's status flow does not allow (deciding a session nobody has completed)
  is refused as Beltic would, PROVIDER_REJECTED naming the status and the refused transition
  (the gateway refuses it from the declared per-status actions, before calling Beltic); a
  Beltic session has no metadata, so
  `updateSessionMetadata` merges into the gateway's copy (the one `createSession` kept) and
  never reaches the applicant's data at Beltic.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.client import gql, simulate

CREATE = """
mutation Create($ref: String!, $key: String, $expiresIn: Int) {
  createSession(input: {
    provider: "beltic", clientReference: $ref, idempotencyKey: $key, expiresIn: $expiresIn
  }) {
    session { id providerSessionId status verificationUrl expiresAt clientReference }
    userErrors { code field message }
    warnings { code field message }
  }
}
"""
GET = """
query Get($id: ID!) {
  session(id: $id) { status providerStatus verificationUrl }
}
"""
DECIDE = """
mutation Decide($id: ID!) {
  decideSession(id: $id, decision: APPROVE) {
    session { status }
    userErrors { code message providerCode }
  }
}
"""
UPDATE = """
mutation Update($id: ID!) {
  updateSessionMetadata(id: $id, metadata: {person: null, plan: "gold", team: null}) {
    session { id metadata raw }
    userErrors { code message }
  }
}
"""
CREATE_WITH_METADATA = """
mutation Create($ref: String!, $metadata: JSON) {
  createSession(input: {
    provider: "beltic", clientReference: $ref, metadata: $metadata,
    expectedPerson: {firstName: "Ada", lastName: "Lovelace"}
  }) {
    session { id metadata raw }
    userErrors { code field message }
  }
}
"""
META = "query Meta($id: ID!) { session(id: $id) { metadata raw } }"
PROVIDERS = "{ providers { name personFlow inputSupport { field support note } } }"


async def _create(base: str, ref: str, key: str | None = None, **more: object) -> dict:
    payload = (await gql(base, CREATE, {"ref": ref, "key": key, **more}))["createSession"]
    assert payload["userErrors"] == [], payload
    return payload


async def test_two_creates_with_different_idempotency_keys_are_two_sessions(base: str) -> None:
    ref = f"beltic-two-{uuid.uuid4().hex[:8]}"
    first = (await _create(base, ref, "key-a"))["session"]
    second = (await _create(base, ref, "key-b"))["session"]
    third = (await _create(base, ref))["session"]  # no key at all
    ids = {first["id"], second["id"], third["id"]}
    psids = {first["providerSessionId"], second["providerSessionId"], third["providerSessionId"]}
    assert len(ids) == 3 and len(psids) == 3
    assert all(s["status"] == "CREATED" and s["clientReference"] == ref for s in (first, second))
    # The gateway's own dedupe, and only it, answers a session again.
    again = (await _create(base, ref, "key-a"))["session"]
    assert (again["id"], again["providerSessionId"]) == (first["id"], first["providerSessionId"])


async def test_beltic_sessions_have_no_verification_url(base: str) -> None:
    ref = f"beltic-url-{uuid.uuid4().hex[:8]}"
    created = (await _create(base, ref))["session"]
    assert created["verificationUrl"] is None
    await simulate(base, "beltic", created["providerSessionId"], "open")
    refreshed = await gql(
        base,
        "mutation R($id: ID!) { refreshSession(id: $id) { session { status verificationUrl } } }",
        {"id": created["id"]},
    )
    assert refreshed["refreshSession"]["session"] == {
        "status": "IN_PROGRESS",
        "verificationUrl": None,
    }
    providers = {p["name"]: p for p in (await gql(base, PROVIDERS, {}))["providers"]}
    note = providers["beltic"]["personFlow"]
    assert note and "/sandbox/beltic/sessions/" in note and "documents" in note


async def test_a_transition_beltic_refuses_is_provider_rejected(base: str) -> None:
    ref = f"beltic-refused-{uuid.uuid4().hex[:8]}"
    created = (await _create(base, ref))["session"]
    payload = (await gql(base, DECIDE, {"id": created["id"]}))["decideSession"]
    (error,) = payload["userErrors"]
    assert error["code"] == "PROVIDER_REJECTED"
    assert "created" in error["message"]  # the session is only `created`
    assert error["providerCode"] == "invalid_status_transition"
    assert (await gql(base, GET, {"id": created["id"]}))["session"]["status"] == "CREATED"


async def test_update_metadata_merges_our_copy_and_leaves_the_applicant_alone(
    base: str,
) -> None:
    ref = f"beltic-meta-{uuid.uuid4().hex[:8]}"
    created = (
        await gql(
            base,
            CREATE_WITH_METADATA,
            {"ref": ref, "metadata": {"plan": "silver", "team": "a", "source": "web"}},
        )
    )["createSession"]
    assert created["userErrors"] == [], created
    before = created["session"]
    payload = (await gql(base, UPDATE, {"id": before["id"]}))["updateSessionMetadata"]
    assert payload["userErrors"] == [], payload
    assert payload["session"]["metadata"] == {"plan": "gold", "source": "web"}
    # Nothing was sent to Beltic: the account's person block and the session are as created.
    assert payload["session"]["raw"] == before["raw"]
    again = (await gql(base, META, {"id": before["id"]}))["session"]
    assert again["metadata"] == {"plan": "gold", "source": "web"}
    assert again["raw"] == before["raw"]


async def test_inputs_beltic_cannot_honour_are_warned_about(base: str) -> None:
    ref = f"beltic-input-{uuid.uuid4().hex[:8]}"
    payload = await _create(base, ref, expiresIn=600)
    assert [(w["code"], w["field"]) for w in payload["warnings"]] == [
        ("INPUT_IGNORED", ["input", "expiresIn"])
    ]
    # expiresAt is Beltic's own expiry, not the ignored 600 s.
    expires_at = datetime.fromisoformat(payload["session"]["expiresAt"].replace("Z", "+00:00"))
    assert expires_at - datetime.now(UTC) > timedelta(hours=1)
    providers = {p["name"]: p for p in (await gql(base, PROVIDERS, {}))["providers"]}
    support = {r["field"]: r["support"] for r in providers["beltic"]["inputSupport"]}
    assert support["steps"] == "REFUSED"
    assert support["idempotencyKey"] == "MAPPED"
    assert len(support) == 18  # provider + the 17 input fields
