"""Didit's event order and replay window are the truth, end to end (issue 13, items 4 and 5;
docs/vendors/didit.md): a real `kyc-gateway serve` with *live* Didit credentials, pointed at the
Didit sandbox standing in for Didit on loopback, read through GraphQL only.

- Didit's v3 webhook carries `created_at`, when the status changed, and `timestamp`, the
  dispatch time that Didit refreshes on every redelivery, signed anew each time
  (https://docs.didit.me/integration/webhooks; each retry "is logged as a new, separate
  event", https://docs.didit.me/reference/webhooks). So a redelivery of an older event that
  arrives after a newer final decision must change nothing.
- The signatures cover the body; `X-Timestamp` is not signed. A captured body re-sent later
  with its signature and a fresh `X-Timestamp` is refused (401): the signed `timestamp` is not
  the header's.

The stand-in's webhooks go through a relay that keeps a copy of each delivery, as an attacker
on the path would have it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.client import create_mutation, created_session, gql, session_query
from tests.e2e.standin import Captured, Live, running_live_gateway

CREATE = create_mutation("didit", "id providerSessionId status environment")
GET = session_query(
    "status providerStatus decision { outcome decidedBy } history { status providerStatus source }"
)
DECIDE = """
mutation Decide($id: ID!) {
  decideSession(id: $id, decision: DECLINE, reason: "checked by hand") {
    session { status decision { outcome decidedBy } }
    userErrors { code message }
  }
}
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_live_gateway("didit", tmp_path_factory.mktemp("truth-didit")) as live:
        yield live


async def _control(live: Live, psid: str, path: str, body: dict) -> dict:
    """The stand-in's control endpoint (the person, Didit's console)."""
    async with httpx.AsyncClient(base_url=live.standin.base_url, timeout=10) as client:
        answer = await client.post(f"/sessions/{psid}/{path}", json=body)
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["webhook"]["delivered"] is True, reply  # the gateway answered 2xx
    return reply


async def _act(live: Live, psid: str, *actions: str) -> None:
    for action in actions:
        await _control(live, psid, "simulate", {"action": action})


async def _next_second() -> None:
    """Didit's times are whole seconds: make the next change happen in a later one."""
    now = time.time()
    await asyncio.sleep(int(now) + 1 - now + 0.02)


async def _created(live: Live) -> tuple[str, str]:
    ref = f"didit-truth-{uuid.uuid4().hex[:8]}"
    session = await created_session(live.base, CREATE, {"ref": ref})
    assert session["environment"] == "LIVE"  # the live adapter, over real sockets
    return session["id"], session["providerSessionId"]


async def _session(live: Live, sid: str) -> dict:
    return (await gql(live.base, GET, {"id": sid}))["session"]


def _statuses(session: dict) -> list[str]:
    return [h["status"] for h in session["history"]]


def _deliveries(live: Live, psid: str) -> list[tuple[Captured, dict]]:
    out = []
    for captured in live.relay.captured:
        body = json.loads(captured.body)
        if body.get("session_id") == psid:
            out.append((captured, body))
    return out


async def test_an_older_redelivery_after_a_reviewers_decline_changes_nothing(live: Live) -> None:
    sid, psid = await _created(live)
    await _act(live, psid, "open", "review")
    await _next_second()
    await _act(live, psid, "decline")  # a console reviewer leaves In Review
    before = await _session(live, sid)
    assert (before["status"], before["decision"]["decidedBy"]) == ("DECLINED", "REVIEWER")

    await _next_second()
    reply = await _control(live, psid, "redeliver", {"index": 1})  # the In Review event
    assert reply["status"] == "In Review"

    # It was a real redelivery: same created_at, newer timestamp than the decline's.
    review, decline, again = [body for _, body in _deliveries(live, psid)][1:]
    assert (review["status"], decline["status"], again["status"]) == (
        "In Review",
        "Declined",
        "In Review",
    )
    assert again["created_at"] == review["created_at"] < decline["created_at"]
    assert again["timestamp"] > decline["timestamp"]

    after = await _session(live, sid)
    assert after == before
    assert _statuses(after) == ["CREATED", "IN_PROGRESS", "IN_REVIEW", "DECLINED"]


async def test_an_older_approval_redelivered_after_our_decline_changes_nothing(live: Live) -> None:
    sid, psid = await _created(live)
    await _act(live, psid, "open", "approve")  # Didit's workflow approves
    assert (await _session(live, sid))["decision"]["decidedBy"] == "PROVIDER"
    await _next_second()
    decided = (await gql(live.base, DECIDE, {"id": sid}))["decideSession"]
    assert decided["userErrors"] == [], decided
    assert decided["session"]["decision"] == {"outcome": "DECLINED", "decidedBy": "INTEGRATOR"}

    await _next_second()
    reply = await _control(live, psid, "redeliver", {"index": 1})  # the Approved event
    assert reply["status"] == "Approved"

    got = await _session(live, sid)
    assert got["status"] == "DECLINED"
    assert got["decision"] == {"outcome": "DECLINED", "decidedBy": "INTEGRATOR"}
    assert _statuses(got) == ["CREATED", "IN_PROGRESS", "APPROVED", "DECLINED"]


async def test_a_captured_body_re_sent_with_a_fresh_timestamp_is_refused(live: Live) -> None:
    sid, psid = await _created(live)
    await _act(live, psid, "open")
    (captured, body), *_ = _deliveries(live, psid)
    headers = {
        k: v for k, v in captured.headers.items() if k.startswith("x-") or k == "content-type"
    }
    assert headers["x-timestamp"] == str(body["timestamp"])
    before = await _session(live, sid)

    async with httpx.AsyncClient(base_url=live.base, timeout=10) as client:
        # As captured, inside the window: a duplicate, acknowledged and ignored.
        same = await client.post("/webhooks/didit", content=captured.body, headers=headers)
        assert same.status_code == 200, same.text
        assert same.json()["outcomes"] == ["duplicate"]
        # Later, the same signed body with a fresh (valid-looking) X-Timestamp.
        await _next_second()
        fresh = {**headers, "x-timestamp": str(int(time.time()))}
        assert fresh["x-timestamp"] != headers["x-timestamp"]
        replay = await client.post("/webhooks/didit", content=captured.body, headers=fresh)
    assert replay.status_code == 401, replay.text
    assert await _session(live, sid) == before
