"""UIP's outcomes are the truth, end to end (issue 13; docs/vendors/uip.md): a real
`kyc-gateway serve`, GraphQL over HTTP and the UIP sandbox's control endpoint only.

- An age check the person does not meet ends DECLINED with the age reason and the step
  NOT_SATISFIED: age_verify "returns only the boolean" `satisfied`
  (https://docs.uip.digital/core-concepts/primitives); the session still completes ("All
  steps verified", https://docs.uip.digital/api-reference/webhooks).
- A SIGN step without its document is refused: "a session that includes a sign step is
  created as multipart/form-data" (https://docs.uip.digital/api-reference/introduction).
- A failed person is DECLINED whichever arrives first, the `session.failed` webhook with its
  reason or a read that shows `failed` without one (GET carries no reason,
  https://docs.uip.digital/api-reference/sessions/get); FAILED only for the technical reasons
  the webhook page lists. For these the gateway runs *live* against the sandbox standing in
  for UIP on loopback, its webhooks held by the test so it can choose the order.
- A SIGN step's document goes from a GraphQL multipart upload (preflight header required) to
  UIP as `multipart/form-data`, and the device signs that document: `document_hash` is "the
  hash that was signed", "a single manifest digest over all of them (in declared order)"
  (https://docs.uip.digital/core-concepts/primitives; the manifest form is the sandbox's).
- A captured delivery replayed with a new `X-UIP-Delivery-Id` is a duplicate: the header is
  not signed, only "{timestamp}.{raw_body}" is (https://docs.uip.digital/core-concepts/webhooks).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from tests.e2e.client import (
    Watcher,
    action_mutation,
    create_mutation,
    created_session,
    gql,
    session_query,
    simulate,
)
from tests.e2e.server import running_gateway
from tests.e2e.standin import StandIn, running_standin, serving_post

CREATE_AGE = create_mutation(
    "uip", "id providerSessionId status", "[{type: AGE_VERIFY, params: {min_age: 120}}]"
)
CREATE_SIGN_WITHOUT_DOCUMENT = create_mutation("uip", "id", "[{type: IDENTIFY}, {type: SIGN}]")
CREATE_IDENTIFY = create_mutation(
    "uip", "id providerSessionId status environment", "[{type: IDENTIFY}]"
)
GET = session_query(
    "status providerStatus decision { outcome reasonCodes }"
    " steps { index type state result } history { status source }"
)
REFRESH = action_mutation(
    "refreshSession", "status providerStatus decision { outcome reasonCodes }"
)


# -- the sandbox, as the gateway serves it (the `base` of tests/e2e/conftest.py) -------------------
async def test_an_under_age_person_is_declined_with_the_age_reason(base: str) -> None:
    ref = f"uip-age-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref) as watcher:
        s = await created_session(base, CREATE_AGE, {"ref": ref})
        await simulate(base, "uip", s["providerSessionId"], "open")
        await simulate(base, "uip", s["providerSessionId"], "submit")  # completes the step
        await watcher.wait_for("DECLINED")
    got = (await gql(base, GET, {"id": s["id"]}))["session"]
    assert got["status"] == "DECLINED"
    assert got["decision"]["outcome"] == "DECLINED"
    assert "age_not_satisfied" in got["decision"]["reasonCodes"]
    assert [(st["type"], st["state"], st["result"]) for st in got["steps"]] == [
        ("AGE_VERIFY", "COMPLETED", "NOT_SATISFIED")
    ]
    # Never APPROVED on the way (a merchant gating on age must never see it).
    assert "APPROVED" not in [e["status"] for e in watcher.events]
    assert "APPROVED" not in [h["status"] for h in got["history"]]


async def test_a_sign_step_without_its_document_is_refused(base: str) -> None:
    ref = f"uip-sign-{uuid.uuid4().hex[:8]}"
    payload = (await gql(base, CREATE_SIGN_WITHOUT_DOCUMENT, {"ref": ref}))["createSession"]
    assert payload["session"] is None
    (error,) = payload["userErrors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == ["input", "steps", "1", "document"]


# -- live against a stand-in, webhooks delivered when the test says ------------------------------
@dataclass
class HeldWebhooks:
    """UIP's webhook endpoint as the stand-in sees it: deliveries are kept, not forwarded."""

    url: str
    held: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    def for_session(self, psid: str) -> tuple[bytes, dict[str, str]]:
        return self.all_for(psid)[0]

    def all_for(self, psid: str) -> list[tuple[bytes, dict[str, str]]]:
        """This session's deliveries, in the order UIP sent them."""
        return [d for d in self.held if json.loads(d[0])["data"]["session_id"] == psid]


@contextmanager
def _serve_holder() -> Iterator[HeldWebhooks]:
    held: list[tuple[bytes, dict[str, str]]] = []

    async def receive(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-uip-")}
        held.append((await request.body(), headers))
        return Response(status_code=200)

    with serving_post(receive, "webhook holder") as url:
        yield HeldWebhooks(f"{url}/", held)


@dataclass
class Live:
    base: str
    standin: StandIn
    webhooks: HeldWebhooks


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("truth-uip-live")
    with _serve_holder() as holder, running_standin("uip", data, holder.url) as standin:
        # The reconciler stays out of the way: the test decides when the gateway reads.
        env = standin.live_env(
            KYCGW_UIP_POLL_INTERVAL_S="3600", KYCGW_UIP_POLL_MAX_INTERVAL_S="3600"
        )
        with running_gateway(data / "gateway", extra_env=env) as url:
            yield Live(url, standin, holder)


async def _failed_session(live: Live, action: str, reason: str) -> tuple[str, str]:
    """A session the stand-in failed; its `session.failed` is held, not delivered."""
    ref = f"uip-fail-{uuid.uuid4().hex[:8]}"
    s = await created_session(live.base, CREATE_IDENTIFY, {"ref": ref})
    assert s["environment"] == "LIVE"
    async with httpx.AsyncClient(base_url=live.standin.base_url, timeout=10) as client:
        answer = await client.post(
            f"/sessions/{s['providerSessionId']}/simulate",
            json={"action": action, "reason": reason},
        )
    assert answer.status_code == 200, answer.text
    await _until(lambda: any(s["providerSessionId"].encode() in b for b, _ in live.webhooks.held))
    return s["id"], s["providerSessionId"]


async def _until(predicate: Callable[[], bool]) -> None:
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("condition not met in time")


async def _deliver(live: Live, psid: str) -> None:
    body, headers = live.webhooks.for_session(psid)
    async with httpx.AsyncClient(base_url=live.base, timeout=10) as client:
        answer = await client.post("/webhooks/uip", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


async def _status(live: Live, sid: str) -> dict:
    return (await gql(live.base, GET, {"id": sid}))["session"]


async def test_poll_first_then_the_webhook_with_its_reason(live: Live) -> None:
    sid, psid = await _failed_session(live, "decline", "document_expired")
    polled = (await gql(live.base, REFRESH, {"id": sid}))["refreshSession"]["session"]
    assert polled["status"] == "DECLINED"  # GET says `failed`, no reason
    assert polled["decision"]["reasonCodes"] == ["verification_failed"]
    await _deliver(live, psid)
    got = await _status(live, sid)
    assert got["status"] == "DECLINED"
    assert got["decision"]["reasonCodes"] == ["document_expired"]  # the webhook refined it


async def test_webhook_then_a_refresh_keeps_the_reason(live: Live) -> None:
    sid, psid = await _failed_session(live, "decline", "document_expired")
    await _deliver(live, psid)
    assert (await _status(live, sid))["status"] == "DECLINED"
    refreshed = (await gql(live.base, REFRESH, {"id": sid}))["refreshSession"]["session"]
    assert refreshed["status"] == "DECLINED"
    assert refreshed["decision"]["reasonCodes"] == ["document_expired"]


async def test_a_technical_failure_polled_first_ends_failed(live: Live) -> None:
    sid, psid = await _failed_session(live, "fail", "insufficient_funds")
    polled = (await gql(live.base, REFRESH, {"id": sid}))["refreshSession"]["session"]
    assert polled["status"] == "DECLINED"  # all a reason-less read can say...
    await _deliver(live, psid)
    got = await _status(live, sid)
    assert got["status"] == "FAILED"  # ...until the webhook names the technical reason
    assert got["providerStatus"] == "failed:insufficient_funds"
    refreshed = (await gql(live.base, REFRESH, {"id": sid}))["refreshSession"]["session"]
    assert refreshed["status"] == "FAILED"


# -- a SIGN step's document, from a GraphQL upload to UIP ----------------------------------------
CREATE_SIGN = (
    'mutation($f: Upload!, $ref: String!) { createSession(input: {provider: "uip", '
    "clientReference: $ref, steps: [{type: IDENTIFY}, {type: SIGN, document: $f}]}) "
    "{ session { id providerSessionId steps { type state } } userErrors { code field message } } }"
)
CONTRACT = b"%PDF-1.7\n% a contract to sign\n" + bytes(range(256)) * 8


async def _upload(base: str, ref: str, headers: dict[str, str]) -> httpx.Response:
    """The GraphQL multipart request spec: `operations`, `map`, then the file part."""
    operations = {"query": CREATE_SIGN, "variables": {"f": None, "ref": ref}}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return await client.post(
            "/graphql",
            headers=headers,
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
            files={"0": ("contract.pdf", CONTRACT, "application/pdf")},
        )


async def test_a_sign_document_goes_from_a_graphql_upload_to_uip(live: Live) -> None:
    ref = f"uip-signdoc-{uuid.uuid4().hex[:8]}"
    # A multipart request without the preflight header is refused before it runs (CSRF).
    refused = await _upload(live.base, ref, {})
    assert refused.status_code == 400, refused.text

    answer = await _upload(live.base, ref, {"graphql-require-preflight": "1"})
    assert answer.status_code == 200, answer.text
    payload = answer.json()["data"]["createSession"]
    assert payload["userErrors"] == [], payload
    s = payload["session"]
    assert [st["type"] for st in s["steps"]] == ["IDENTIFY", "SIGN"]

    async with httpx.AsyncClient(base_url=live.standin.base_url, timeout=10) as client:
        done = await client.post(
            f"/sessions/{s['providerSessionId']}/simulate", json={"action": "approve"}
        )
    assert done.status_code == 200, done.text
    psid = s["providerSessionId"]
    await _until(lambda: len(live.webhooks.all_for(psid)) == 3)
    deliveries = live.webhooks.all_for(psid)
    events = [json.loads(body) for body, _ in deliveries]
    assert [e["event"] for e in events] == ["step.completed", "step.completed", "session.completed"]
    # UIP signed the very bytes we uploaded: the manifest digest of our one file.
    file_digest = hashlib.sha256(CONTRACT).hexdigest()
    manifest = hashlib.sha256(file_digest.encode("ascii")).hexdigest()
    assert events[1]["data"]["primitive"] == "sign"
    assert events[1]["data"]["document_hash"] == f"sha256:{manifest}"

    async with httpx.AsyncClient(base_url=live.base, timeout=10) as client:
        for body, headers in deliveries:
            answer = await client.post("/webhooks/uip", content=body, headers=headers)
            assert answer.status_code == 200, answer.text
    got = await _status(live, s["id"])
    assert got["status"] == "APPROVED"
    assert [(st["type"], st["state"], st["result"]) for st in got["steps"]] == [
        ("IDENTIFY", "COMPLETED", "SATISFIED"),
        ("SIGN", "COMPLETED", "SATISFIED"),
    ]


# -- replay defences on signed content only ------------------------------------------------------
async def test_a_delivery_replayed_with_a_new_delivery_id_is_a_duplicate(live: Live) -> None:
    sid, psid = await _failed_session(live, "decline", "document_expired")
    body, headers = live.webhooks.for_session(psid)
    async with httpx.AsyncClient(base_url=live.base, timeout=10) as client:
        first = await client.post("/webhooks/uip", content=body, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["outcomes"] != ["duplicate"]
        before = await _status(live, sid)
        # The captured bytes, their signature still fresh, under another (unsigned) id...
        renamed = {**headers, "x-uip-delivery-id": f"dlv_{uuid.uuid4().hex[:24]}"}
        assert renamed["x-uip-delivery-id"] != headers["x-uip-delivery-id"]
        replay = await client.post("/webhooks/uip", content=body, headers=renamed)
        # ...and without one at all.
        bare = {k: v for k, v in headers.items() if k != "x-uip-delivery-id"}
        stripped = await client.post("/webhooks/uip", content=body, headers=bare)
    for answer in (replay, stripped):
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcomes"] == ["duplicate"]
    assert await _status(live, sid) == before
