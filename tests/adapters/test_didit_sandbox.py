"""The Didit sandbox emulator against Didit's documented contract (docs/vendors/didit.md);
what every emulator must do is `tests/adapters/sandbox_conformance.py`."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from adapters.didit.sandbox import SANDBOX_WORKFLOW_ID, DiditSandbox
from adapters.didit.sandbox.model import FEATURE_BLOCKS
from tests.adapters.sandbox_conformance import HostedPageConformance, SandboxConformance
from tests.support.cassettes import interaction, request_json
from tests.support.sandbox_harness import (
    SandboxHarness,
    WebhookSink,
    harness_fixture,
)
from tests.support.shapes import shape_drift

PUBLIC = "http://127.0.0.1:8000/sandbox/didit"
WEBHOOK_URL = "http://gateway.test/webhooks/didit"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "didit"
START = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


# -- harness ---------------------------------------------------------------------------------


class Sink(WebhookSink):
    @property
    def statuses(self) -> list[str]:
        return self.values("status")


class Harness(SandboxHarness[DiditSandbox]):
    async def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("workflow_id", SANDBOX_WORKFLOW_ID)
        response = await self.client.post("/v3/session/", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def decision(self, session_id: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/v3/session/{session_id}/decision/", headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def update_status(self, session_id: str, **body: Any) -> httpx.Response:
        return await self.client.patch(
            f"/v3/session/{session_id}/update-status/", json=body, headers=self.headers
        )


Factory = Callable[..., Harness]


make = harness_fixture(
    Harness,
    DiditSandbox,
    start=START,
    public_base_url=PUBLIC,
    webhook_url=WEBHOOK_URL,
    headers=lambda sandbox: {"x-api-key": sandbox.api_key},
    sink=Sink,
)


@pytest.fixture
def didit(make: Factory) -> Harness:
    return make()


# -- auth, routing ----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"authorization": "Bearer x"}])
async def test_missing_or_wrong_api_key_is_403(didit: Harness, headers: dict[str, str]) -> None:
    session = await didit.create()
    calls = [
        didit.client.post(
            "/v3/session/", json={"workflow_id": SANDBOX_WORKFLOW_ID}, headers=headers
        ),
        didit.client.get(f"/v3/session/{session['session_id']}/decision/", headers=headers),
        didit.client.get("/v3/sessions/", headers=headers),
        didit.client.delete(f"/v3/session/{session['session_id']}/delete/", headers=headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}


async def test_healthcheck_needs_no_key(didit: Harness) -> None:
    response = await didit.client.get("/system/healthcheck")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "timestamp": "2026-01-15T12:00:00.000Z"}


@pytest.mark.parametrize(
    ("method", "path", "location"),
    [
        ("POST", "/v3/session", "/v3/session/"),
        ("GET", "/v3/sessions", "/v3/sessions/"),
        ("GET", "/v3/sessions?limit=2&offset=1", "/v3/sessions/?limit=2&offset=1"),
        ("GET", f"/v3/session/{uuid.uuid4()}/decision", None),
        ("PATCH", f"/v3/session/{uuid.uuid4()}/update-status", None),
        ("DELETE", f"/v3/session/{uuid.uuid4()}/delete", None),
    ],
)
async def test_paths_without_trailing_slash_answer_301(
    didit: Harness, method: str, path: str, location: str | None
) -> None:
    # Before authentication, like Django's APPEND_SLASH: following it would drop the key.
    response = await didit.client.request(method, path)
    assert response.status_code == 301
    assert response.headers["location"] == (location or path + "/")


async def test_redirect_keeps_the_mount_prefix(didit: Harness) -> None:
    async with didit.through_the_gateway() as client:
        response = await client.post("/sandbox/didit/v3/session", headers=didit.headers)
        assert response.status_code == 301
        assert response.headers["location"] == "/sandbox/didit/v3/session/"
        created = await client.post(
            "/sandbox/didit/v3/session/",
            json={"workflow_id": SANDBOX_WORKFLOW_ID},
            headers=didit.headers,
        )
        assert created.status_code == 201
        page = await client.get(urlsplit(created.json()["url"]).path)
        assert page.status_code == 200 and "Didit sandbox" in page.text


async def test_unknown_routes_and_methods_answer_like_drf(didit: Harness) -> None:
    missing = await didit.client.get("/v3/nothing/", headers=didit.headers)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found."})
    wrong = await didit.client.put("/v3/session/", headers=didit.headers)
    assert (wrong.status_code, wrong.json()) == (405, {"detail": 'Method "PUT" not allowed.'})


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "decision/", None),
        ("PATCH", "update-status/", {"new_status": "Approved"}),
        ("DELETE", "delete/", None),
    ],
)
async def test_unknown_session_is_404(
    didit: Harness, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    response = await didit.client.request(
        method, f"/v3/session/{uuid.uuid4()}/{suffix}", json=body, headers=didit.headers
    )
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    assert didit.sink.requests == []


# -- create -----------------------------------------------------------------------------------


async def test_create_returns_the_documented_fields(didit: Harness) -> None:
    body = await didit.create(
        vendor_data="user-1", metadata={"plan": "gold"}, callback="https://app.test/done"
    )
    assert set(body) == {
        "session_id",
        "session_number",
        "session_token",
        "url",
        "vendor_data",
        "metadata",
        "status",
        "workflow_id",
        "workflow_version",
        "callback",
        "session_kind",
    }
    uuid.UUID(body["session_id"])
    assert isinstance(body["session_number"], int)
    assert len(body["session_token"]) == 12 and body["session_token"].isalnum()
    assert body["url"] == f"{PUBLIC}/session/{body['session_token']}"
    assert body["status"] == "Not Started"
    assert body["workflow_id"] == SANDBOX_WORKFLOW_ID
    assert (body["vendor_data"], body["metadata"]) == ("user-1", {"plan": "gold"})
    assert (body["callback"], body["session_kind"]) == ("https://app.test/done", "user")
    assert didit.sink.requests == []  # creating is not a status change


async def test_create_with_language_puts_it_in_the_url(make: Factory) -> None:
    didit = make(public=PUBLIC + "/")
    body = await didit.create(language="pt-BR")
    assert body["url"] == f"{PUBLIC}/pt-BR/session/{body['session_token']}"
    bare = await didit.create()
    assert (bare["vendor_data"], bare["metadata"], bare["callback"]) == (None, None, None)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"workflow_id": ["This field is required."]}),
        ({"workflow_id": "nope"}, {"workflow_id": ["Must be a valid UUID."]}),
        ({"workflow_id": str(uuid.uuid4())}, {"workflow_id": [...]}),
        ({"vendor_data": "é" * 1001}, {"vendor_data": [...]}),
        ({"vendor_data": ["x"]}, {"vendor_data": ["Not a valid string."]}),
        ({"language": "xx"}, {"language": ['"xx" is not a valid choice.']}),
        ({"callback": "not a url"}, {"callback": ["Enter a valid URL."]}),
        ({"callback_method": "nobody"}, {"callback_method": ['"nobody" is not a valid choice.']}),
        (
            {"contact_details": {"email": "not-an-email"}},
            {"contact_details": {"email": ["Enter a valid email address."]}},
        ),
        (
            {"contact_details": {"phone": "0612"}},
            {"contact_details": {"phone": ["Enter a valid phone number."]}},
        ),
        (
            {"expected_details": {"date_of_birth": "17/05/1990"}},
            {
                "expected_details": {
                    "date_of_birth": [
                        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                    ]
                }
            },
        ),
        (
            {"expected_details": {"date_of_birth": "1990-02-30"}},
            {"expected_details": {"date_of_birth": [...]}},
        ),
        (
            {"expected_details": {"expected_document_types": ["P", "XX"]}},
            {
                "expected_details": {
                    "expected_document_types": {"1": ['"XX" is not a valid choice.']}
                }
            },
        ),
        ({"contact_details": "a@b.c"}, {"contact_details": {"non_field_errors": [...]}}),
    ],
)
async def test_create_validates_like_drf(
    didit: Harness, body: dict[str, Any], errors: dict[str, Any]
) -> None:
    if body and "workflow_id" not in body:
        body = {"workflow_id": SANDBOX_WORKFLOW_ID, **body}
    response = await didit.client.post("/v3/session/", json=body, headers=didit.headers)
    assert response.status_code == 400
    assert _matches(response.json(), errors), response.json()


def _matches(actual: Any, expected: Any) -> bool:
    """Equality where `[...]` in `expected` stands for "some non-empty list of messages"."""
    if expected == [...]:
        return isinstance(actual, list) and bool(actual) and all(isinstance(m, str) for m in actual)
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(_matches(actual[k], v) for k, v in expected.items())
        )
    return bool(actual == expected)


async def test_create_rejects_bodies_that_are_not_json_objects(didit: Harness) -> None:
    as_list = await didit.client.post("/v3/session/", json=[1], headers=didit.headers)
    assert as_list.status_code == 400 and "non_field_errors" in as_list.json()
    broken = await didit.client.post(
        "/v3/session/",
        content=b"{nope",
        headers={**didit.headers, "content-type": "application/json"},
    )
    assert broken.status_code == 400 and broken.json()["detail"].startswith("JSON parse error")
    form = await didit.client.post("/v3/session/", data={"a": "b"}, headers=didit.headers)
    assert form.status_code == 415
    assert didit.sandbox.api_key not in broken.text + form.text


async def test_create_returns_the_unfinished_session_of_the_same_vendor_data(
    didit: Harness,
) -> None:
    first = await didit.create(vendor_data="user-7")
    again = await didit.create(vendor_data="user-7", metadata={"ignored": True})
    assert again["session_id"] == first["session_id"]
    assert again["session_token"] == first["session_token"]
    await didit.drive(first["session_id"], "open")
    in_progress = await didit.create(vendor_data="user-7")
    assert (in_progress["session_id"], in_progress["status"]) == (
        first["session_id"],
        "In Progress",
    )
    other = await didit.create(vendor_data="user-8")
    assert other["session_id"] != first["session_id"]
    await didit.drive(first["session_id"], "approve")
    fresh = await didit.create(vendor_data="user-7")
    assert fresh["session_id"] != first["session_id"]
    assert fresh["session_number"] > other["session_number"] > first["session_number"]
    anonymous = [await didit.create(), await didit.create()]
    assert anonymous[0]["session_id"] != anonymous[1]["session_id"]


async def test_a_reused_session_takes_the_new_callback_and_metadata(didit: Harness) -> None:
    """create-session: the existing session "is returned (still 201) … with its callback and
    metadata updated to the newly provided values"
    (https://docs.didit.me/sessions-api/create-session)."""
    first = await didit.create(vendor_data="user-9", callback="https://example.com/a")
    again = await didit.create(
        vendor_data="user-9", callback="https://example.com/b", metadata={"plan": "pro"}
    )
    assert again["session_id"] == first["session_id"]
    assert (again["callback"], again["metadata"]) == ("https://example.com/b", {"plan": "pro"})
    decision = await didit.decision(first["session_id"])
    assert (decision["callback"], decision["metadata"]) == (
        "https://example.com/b",
        {"plan": "pro"},
    )


# -- decision ---------------------------------------------------------------------------------


async def test_decision_before_the_flow_has_null_feature_blocks(didit: Harness) -> None:
    created = await didit.create(
        vendor_data="user-1",
        metadata={"a": 1},
        contact_details={"email": "jane@example.com", "email_lang": "en"},
        expected_details={"first_name": "Jane", "date_of_birth": "1990-05-17"},
    )
    decision = await didit.decision(created["session_id"])
    assert decision["session_id"] == created["session_id"]
    assert decision["session_number"] == created["session_number"]
    assert decision["session_url"] == created["url"]
    assert (decision["status"], decision["environment"]) == ("Not Started", "sandbox")
    assert (decision["session_kind"], decision["workflow_id"]) == ("user", SANDBOX_WORKFLOW_ID)
    assert decision["features"] and all(isinstance(f, str) for f in decision["features"])
    assert decision["expected_details"] == {"first_name": "Jane", "date_of_birth": "1990-05-17"}
    assert decision["contact_details"]["email"] == "jane@example.com"
    assert decision["created_at"] == "2026-01-15T12:00:00Z"
    assert all(decision[block] is None for block in FEATURE_BLOCKS)
    assert decision["reviews"] == []


@pytest.mark.parametrize("outcome", ["approve", "decline", "review"])
async def test_decision_after_an_outcome_has_mocked_feature_items(
    didit: Harness, outcome: str
) -> None:
    created = await didit.create(expected_details={"first_name": "Jane", "last_name": "Doe"})
    await didit.drive(created["session_id"], "open", outcome)
    decision = await didit.decision(created["session_id"])
    status = {"approve": "Approved", "decline": "Declined", "review": "In Review"}[outcome]
    assert decision["status"] == status
    for block in ("id_verifications", "liveness_checks", "face_matches"):
        (item,) = decision[block]
        assert isinstance(item["node_id"], str) and item["node_id"]
        assert item["status"] in {"Approved", "Declined", "In Review"}
        assert isinstance(item["warnings"], list)
    assert decision["id_verifications"][0]["first_name"] == "Jane"
    assert decision["face_matches"][0]["status"] == status
    assert decision["nfc_verifications"] is None
    warnings = decision["face_matches"][0]["warnings"]
    if outcome == "approve":
        assert warnings == []
    else:
        (warning,) = warnings
        assert {"risk", "feature", "log_type", "short_description"} <= set(warning)
        assert warning["feature"] == "FACE_MATCH"
        assert warning["log_type"] == ("error" if outcome == "decline" else "warning")


# -- webhooks ---------------------------------------------------------------------------------


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def assert_signed_by_didit(request: httpx.Request, secret: str) -> dict[str, Any]:
    """Check a delivery the way https://docs.didit.me/integration/webhooks describes it
    (headers, the three signatures), from scratch."""
    raw = request.content
    body = json.loads(raw)
    assert (
        raw == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    )
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "DiditWebhook/2.0 +https://didit.me"
    assert headers["x-timestamp"] == str(body["timestamp"])
    assert hmac.compare_digest(headers["x-signature"], _hex(secret, raw))
    canonical = json.dumps(
        _canonical(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert hmac.compare_digest(headers["x-signature-v2"], _hex(secret, canonical))
    simple = f"{body['timestamp']}:{body['session_id']}:{body['status']}:{body['webhook_type']}"
    assert hmac.compare_digest(headers["x-signature-simple"], _hex(secret, simple.encode()))
    assert not hmac.compare_digest(headers["x-signature"], _hex("other-secret", raw))
    return body


async def test_flow_sends_signed_status_webhooks_in_order(didit: Harness) -> None:
    created = await didit.create(
        vendor_data="usuario-ñ", metadata={"name": "Española Ñúñez", "n": 2.0}
    )
    sid = created["session_id"]
    opened = await didit.simulate(sid, "open")
    assert opened.json() == {
        "session_id": sid,
        "status": "In Progress",
        "webhook": {"delivered": True, "status_code": 200},
    }
    didit.clock.advance(90)
    approved = await didit.simulate(sid, "approve")
    assert approved.json()["status"] == "Approved"
    assert approved.json()["webhook"] == {"delivered": True, "status_code": 200}

    assert [str(r.url) for r in didit.sink.requests] == [WEBHOOK_URL, WEBHOOK_URL]
    first, second = (
        assert_signed_by_didit(r, didit.sandbox.webhook_secret) for r in didit.sink.requests
    )
    assert (first["status"], second["status"]) == ("In Progress", "Approved")
    for body in (first, second):
        assert body["webhook_type"] == "status.updated"
        assert body["environment"] == "sandbox"
        assert body["session_id"] == sid
        assert body["workflow_id"] == SANDBOX_WORKFLOW_ID
        assert isinstance(body["workflow_version"], int)
        assert body["vendor_data"] == "usuario-ñ"
        assert body["metadata"] == {"name": "Española Ñúñez", "n": 2.0}
        uuid.UUID(body["application_id"])
        assert uuid.UUID(body["event_id"]).version == 4
    assert first["event_id"] != second["event_id"]
    assert first["timestamp"] == first["created_at"] == int(START.timestamp())
    assert second["timestamp"] == int(START.timestamp()) + 90
    assert "decision" not in first and "resubmit_info" not in first
    assert second["decision"] == await didit.decision(sid)
    # Non-ASCII is escaped on the wire and the whole float survives in the raw body.
    assert (
        b"\\u00f1" in didit.sink.requests[0].content
        and b'"n":2.0' in didit.sink.requests[0].content
    )


@pytest.mark.parametrize(
    ("actions", "status", "has_decision"),
    [
        (("open", "decline"), "Declined", True),
        (("open", "review"), "In Review", True),
        (("open", "abandon"), "Abandoned", True),
        (("expire",), "Expired", False),
        (("open", "approve", "expire"), "Kyc Expired", False),
    ],
)
async def test_each_status_change_is_one_webhook(
    didit: Harness, actions: tuple[str, ...], status: str, has_decision: bool
) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, *actions)
    assert len(didit.sink.requests) == len(actions)
    last = assert_signed_by_didit(didit.sink.requests[-1], didit.sandbox.webhook_secret)
    assert last["status"] == status
    assert ("decision" in last) is has_decision
    if has_decision:
        assert last["decision"]["status"] == status


async def test_failed_delivery_is_retried_in_order(didit: Harness) -> None:
    didit.sink.script = [503, 503]
    sid = (await didit.create())["session_id"]
    opened = await didit.simulate(sid, "open")
    assert opened.json()["webhook"] == {"delivered": False, "status_code": 503}
    # The next change waits behind the retries of the first one: order is kept.
    approved = await didit.simulate(sid, "approve")
    assert approved.json()["webhook"] == {"delivered": True, "status_code": 200}
    assert didit.sink.statuses == ["In Progress", "In Progress", "In Progress", "Approved"]
    event_ids = [body["event_id"] for body in didit.sink.bodies]
    assert len(set(event_ids)) == 4
    for request in didit.sink.requests:
        assert_signed_by_didit(request, didit.sandbox.webhook_secret)


@pytest.mark.parametrize(
    "failure",
    [500, 404, httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["500", "404", "connect", "timeout"],
)
async def test_transient_failures_are_retried(didit: Harness, failure: int | Exception) -> None:
    didit.sink.script = [failure]
    sid = (await didit.create())["session_id"]
    response = await didit.simulate(sid, "open")
    webhook = response.json()["webhook"]
    assert webhook["delivered"] is False
    assert webhook["status_code"] == (failure if isinstance(failure, int) else None)
    await didit.sink.wait_for(2)
    assert didit.sink.statuses == ["In Progress", "In Progress"]


@pytest.mark.parametrize("code", [301, 400, 401, 410, 422])
async def test_3xx_and_other_4xx_are_not_retried(didit: Harness, code: int) -> None:
    didit.sink.script = [code]
    sid = (await didit.create())["session_id"]
    response = await didit.simulate(sid, "open")
    assert response.json()["webhook"] == {"delivered": False, "status_code": code}
    await asyncio.sleep(0.1)
    assert len(didit.sink.requests) == 1


async def test_a_redelivery_keeps_created_at_and_is_signed_afresh(didit: Harness) -> None:
    """Didit redelivers an event (retry, or the console's manual redelivery) with the same
    `created_at` and a new `timestamp` = X-Timestamp, hence a new signature
    (https://docs.didit.me/integration/webhooks; each retry "is logged as a new, separate
    event", https://docs.didit.me/reference/webhooks)."""
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "review")
    didit.clock.advance(60)
    await didit.drive(sid, "decline")
    didit.clock.advance(240)
    answer = await didit.client.post(f"/sessions/{sid}/redeliver", json={"index": 1})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "In Review"
    assert answer.json()["webhook"] == {"delivered": True, "status_code": 200}
    assert didit.sink.statuses == ["In Progress", "In Review", "Declined", "In Review"]
    original, _, redelivered = (
        assert_signed_by_didit(r, didit.sandbox.webhook_secret) for r in didit.sink.requests[1:]
    )
    assert redelivered["created_at"] == original["created_at"] == answer.json()["created_at"]
    assert redelivered["timestamp"] == original["timestamp"] + 300
    assert redelivered["event_id"] != original["event_id"]
    assert (
        didit.sink.requests[-1].headers["x-signature"]
        != (didit.sink.requests[1].headers["x-signature"])
    )
    volatile = {"event_id", "timestamp"}
    assert {k: v for k, v in redelivered.items() if k not in volatile} == {
        k: v for k, v in original.items() if k not in volatile
    }


async def test_redeliver_defaults_to_the_latest_and_refuses_what_is_not_there(
    didit: Harness,
) -> None:
    sid = (await didit.create())["session_id"]
    nothing = await didit.client.post(f"/sessions/{sid}/redeliver", json={})
    assert nothing.status_code == 404
    await didit.drive(sid, "open")
    latest = await didit.client.post(f"/sessions/{sid}/redeliver", json={})
    assert latest.json()["status"] == "In Progress"
    for bad in ({"index": "1"}, {"index": True}):
        assert (await didit.client.post(f"/sessions/{sid}/redeliver", json=bad)).status_code == 400
    assert (
        await didit.client.post(f"/sessions/{sid}/redeliver", json={"index": 5})
    ).status_code == 404
    unknown = await didit.client.post("/sessions/nope/redeliver", json={})
    assert unknown.status_code == 404


@pytest.mark.parametrize(("action", "status"), [("approve", "Approved"), ("decline", "Declined")])
async def test_leaving_in_review_is_a_console_reviewers_decision(
    didit: Harness, action: str, status: str
) -> None:
    """Only a person moves a session out of In Review; the decision records it in the
    documented `reviews` shape, `user` a console user's e-mail
    (https://docs.didit.me/management-api/sessions/create-review)."""
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "review")
    assert (await didit.decision(sid))["reviews"] == []
    await didit.drive(sid, action)
    (review,) = (await didit.decision(sid))["reviews"]
    assert set(review) == {"user", "new_status", "comment", "created_at"}
    assert review["new_status"] == status and review["user"] != "API Client"
    body = assert_signed_by_didit(didit.sink.requests[-1], didit.sandbox.webhook_secret)
    assert body["decision"]["reviews"] == [review]


async def test_the_workflows_own_decision_has_no_review(didit: Harness) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "approve")
    assert (await didit.decision(sid))["reviews"] == []


# -- update-status ----------------------------------------------------------------------------


async def test_update_status_approves_a_session_in_review(didit: Harness) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "review")
    response = await didit.update_status(sid, new_status="Approved", comment="looks fine")
    assert (response.status_code, response.json()) == (200, {"session_id": sid})
    body = assert_signed_by_didit(didit.sink.requests[-1], didit.sandbox.webhook_secret)
    assert (body["status"], body["decision"]["status"]) == ("Approved", "Approved")
    decision = await didit.decision(sid)
    (review,) = decision["reviews"]
    # The decision's documented item shape (retrieve-session; create-review's answer):
    # {user, new_status, comment, created_at}, `user` "API Client" for an API key.
    assert set(review) == {"user", "new_status", "comment", "created_at"}
    assert review["user"] == "API Client"
    assert review["new_status"] == "Approved"
    assert review["comment"] == "looks fine"


async def test_update_status_to_the_same_decision_is_a_silent_no_op(didit: Harness) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "approve")
    before = len(didit.sink.requests)
    response = await didit.update_status(sid, new_status="Approved")
    assert (response.status_code, response.json()) == (200, {"session_id": sid})
    assert len(didit.sink.requests) == before
    assert (await didit.decision(sid))["reviews"] == []


@pytest.mark.parametrize("actions", [(), ("open",), ("expire",)])
async def test_update_status_needs_a_decided_session(
    didit: Harness, actions: tuple[str, ...]
) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, *actions)
    before = len(didit.sink.requests)
    response = await didit.update_status(sid, new_status="Approved")
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert len(didit.sink.requests) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "new_status"),
        ({"new_status": "In Review"}, "new_status"),
        ({"new_status": "Abandoned"}, "new_status"),
        ({"new_status": "Resubmitted"}, "nodes_to_resubmit"),
        ({"new_status": "Resubmitted", "nodes_to_resubmit": []}, "nodes_to_resubmit"),
        (
            {"new_status": "Resubmitted", "nodes_to_resubmit": [{"node_id": "feature_nope_9"}]},
            "nodes_to_resubmit",
        ),
        ({"new_status": "Approved", "send_email": True}, "email_address"),
    ],
)
async def test_update_status_field_errors(didit: Harness, body: dict[str, Any], field: str) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "decline")
    response = await didit.update_status(sid, **body)
    assert response.status_code == 400
    assert field in response.json(), response.json()


async def test_resubmission_round_trip(didit: Harness) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "decline")
    decision = await didit.decision(sid)
    node = decision["face_matches"][0]["node_id"]
    nodes = [{"node_id": node, "feature": "FACE_MATCH"}]
    response = await didit.update_status(
        sid, new_status="Resubmitted", comment="retake selfie", nodes_to_resubmit=nodes
    )
    assert response.status_code == 200
    body = assert_signed_by_didit(didit.sink.requests[-1], didit.sandbox.webhook_secret)
    assert body["status"] == "Resubmitted"
    assert "decision" not in body
    assert body["resubmit_info"] == {"nodes_to_resubmit": nodes, "reasons": {node: "retake selfie"}}

    again = await didit.update_status(sid, new_status="Resubmitted", nodes_to_resubmit=nodes)
    assert again.status_code == 400
    assert again.json() == {"detail": "The new status is the same as the current status."}

    # The person redoes the flow: Resubmitted → In Progress → an outcome.
    await didit.drive(sid, "open")
    assert (await didit.decision(sid))["face_matches"] is None
    await didit.drive(sid, "approve")
    assert didit.sink.statuses[-3:] == ["Resubmitted", "In Progress", "Approved"]


@pytest.mark.parametrize("start", [("open", "abandon"), ("open", "approve", "expire")])
async def test_update_status_overrides_abandoned_and_kyc_expired(
    didit: Harness, start: tuple[str, ...]
) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, *start)
    response = await didit.update_status(sid, new_status="Declined")
    assert response.status_code == 200
    assert didit.sink.statuses[-1] == "Declined"


async def test_backend_only_resubmission_reruns_and_is_rate_limited(didit: Harness) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "review")
    aml = [{"node_id": "feature_aml_1", "feature": "AML"}]
    first = await didit.update_status(sid, new_status="Resubmitted", nodes_to_resubmit=aml)
    assert first.status_code == 200
    assert didit.sink.statuses[-2:] == ["Resubmitted", "In Review"]
    didit.clock.advance(10)
    too_soon = await didit.update_status(sid, new_status="Resubmitted", nodes_to_resubmit=aml)
    assert too_soon.status_code == 429
    assert too_soon.headers["retry-after"] == "20"
    didit.clock.advance(21)
    later = await didit.update_status(sid, new_status="Resubmitted", nodes_to_resubmit=aml)
    assert later.status_code == 200


# -- delete, list -----------------------------------------------------------------------------


async def test_delete_returns_the_documented_body_and_forgets_the_session(didit: Harness) -> None:
    created = await didit.create(vendor_data="user-1")
    sid = created["session_id"]
    await didit.drive(sid, "open")
    before = len(didit.sink.requests)
    response = await didit.client.delete(f"/v3/session/{sid}/delete/", headers=didit.headers)
    assert response.status_code == 200
    assert response.json() == {
        "session_id": sid,
        "session_number": created["session_number"],
        "face_retention_outcome": "deleted",
        "biometric_template_uuid": None,
        "biometric_template_expires_at": None,
        "deleted_child_verifications": 0,
    }
    assert len(didit.sink.requests) == before  # no webhook for a deletion
    gone = await didit.client.get(f"/v3/session/{sid}/decision/", headers=didit.headers)
    assert gone.status_code == 404
    page = await didit.client.get(urlsplit(created["url"]).path.removeprefix("/sandbox/didit"))
    assert page.status_code == 404


async def test_delete_drops_queued_deliveries(make: Factory) -> None:
    didit = make(delays=(0.05, 0.05))
    didit.sink.script = [503, 503]
    sid = (await didit.create())["session_id"]
    await didit.simulate(sid, "open")
    response = await didit.client.delete(f"/v3/session/{sid}/delete/", headers=didit.headers)
    assert response.status_code == 200
    await asyncio.sleep(0.2)
    assert len(didit.sink.requests) == 1


async def test_list_sessions_paginates_newest_first_and_filters(didit: Harness) -> None:
    created = [await didit.create(vendor_data=f"user-{i}") for i in range(5)]
    await didit.drive(created[1]["session_id"], "open", "approve")
    page = (await didit.client.get("/v3/sessions/?limit=2", headers=didit.headers)).json()
    _, documented = cassette("list_sessions_200.yaml")
    assert shape_drift(documented, page) == []
    assert page["count"] == 5
    assert [r["session_id"] for r in page["results"]] == [
        created[4]["session_id"],
        created[3]["session_id"],
    ]
    assert set(page["results"][0]) == {
        "session_id",
        "session_number",
        "status",
        "vendor_data",
        "created_at",
    }
    assert page["previous"] is None
    assert parse_qs(urlsplit(page["next"]).query) == {"limit": ["2"], "offset": ["2"]}
    last = (await didit.client.get("/v3/sessions/?limit=2&offset=4", headers=didit.headers)).json()
    assert [r["session_id"] for r in last["results"]] == [created[0]["session_id"]]
    assert last["next"] is None
    assert parse_qs(urlsplit(last["previous"]).query) == {"limit": ["2"], "offset": ["2"]}
    approved = await didit.client.get(
        "/v3/sessions/", params={"status": "Approved"}, headers=didit.headers
    )
    assert [r["session_id"] for r in approved.json()["results"]] == [created[1]["session_id"]]
    by_vendor = await didit.client.get(
        "/v3/sessions/", params={"vendor_data": "user-3"}, headers=didit.headers
    )
    assert by_vendor.json()["count"] == 1


# -- hosted page ------------------------------------------------------------------------------


def _page_path(created: dict[str, Any]) -> str:
    return urlsplit(created["url"]).path.removeprefix("/sandbox/didit")


async def test_hosted_page_renders_status_and_escapes_everything(didit: Harness) -> None:
    created = await didit.create(
        vendor_data="<script>alert(1)</script>",
        metadata={"note": "<img src=x onerror=alert(2)>", "q": "\"'&"},
    )
    page = await didit.client.get(_page_path(created))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "Didit sandbox" in html and "Not Started" in html
    assert "Start verification" in html and "Approve" not in html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "http://" not in html.split("</style>")[1]  # no external assets
    await didit.drive(created["session_id"], "open")
    html = (await didit.client.get(_page_path(created))).text
    for label in ("Approve", "Decline", "Send to review", "Abandon"):
        assert label in html
    assert "Start verification" not in html


async def test_hosted_page_unknown_token_or_language_is_404(didit: Harness) -> None:
    created = await didit.create()
    unknown = await didit.client.get("/session/AAAAAAAAAAAA")
    assert unknown.status_code == 404 and "Didit sandbox" in unknown.text
    token = created["session_token"]
    assert (await didit.client.get(f"/xx/session/{token}")).status_code == 404
    assert (await didit.client.get(f"/de/session/{token}")).status_code == 200
    posted = await didit.client.post("/session/AAAAAAAAAAAA/action", data={"action": "open"})
    assert posted.status_code == 404


@pytest.mark.parametrize(
    ("callback", "outcome", "status", "query"),
    [
        ("https://app.test/done", "approve", "Approved", "Approved"),
        ("https://app.test/done?x=1", "decline", "Declined", "Declined"),
        ("myapp://verify", "review", "In Review", "In%20Review"),
    ],
)
async def test_hosted_flow_redirects_to_the_callback(
    didit: Harness, callback: str, outcome: str, status: str, query: str
) -> None:
    created = await didit.create(callback=callback, language="es")
    path = _page_path(created)
    assert path.startswith("/es/session/")
    opened = await didit.client.post(f"{path}/action", data={"action": "open"})
    assert opened.status_code == 303
    assert opened.headers["location"] == path
    finished = await didit.client.post(f"{path}/action", data={"action": outcome})
    assert finished.status_code == 303
    separator = "&" if "?" in callback else "?"
    assert finished.headers["location"] == (
        f"{callback}{separator}verificationSessionId={created['session_id']}&status={query}"
    )
    assert didit.sink.statuses == ["In Progress", status]
    html = (await didit.client.get(path)).text
    assert status in html and "<form" not in html


async def test_hosted_flow_without_callback_returns_to_the_page(didit: Harness) -> None:
    created = await didit.create(callback="https://app.test/done")
    path = _page_path(created)
    await didit.client.post(f"{path}/action", data={"action": "open"})
    abandoned = await didit.client.post(f"{path}/action", data={"action": "abandon"})
    assert (abandoned.status_code, abandoned.headers["location"]) == (303, path)  # no callback
    bare = await didit.create()
    await didit.client.post(f"{_page_path(bare)}/action", data={"action": "open"})
    done = await didit.client.post(f"{_page_path(bare)}/action", data={"action": "approve"})
    assert (done.status_code, done.headers["location"]) == (303, _page_path(bare))


# -- persistence ------------------------------------------------------------------------------


async def test_sessions_survive_a_restart(make: Factory, tmp_path: Path) -> None:
    state = tmp_path / "state" / "didit.json"
    first = make(state_path=str(state))
    created = await first.create(vendor_data="user-1", metadata={"k": "v"}, language="fr")
    await first.drive(created["session_id"], "open", "review")
    await first.update_status(created["session_id"], new_status="Declined", comment="no")
    decision = await first.decision(created["session_id"])
    await first.sandbox.aclose()
    assert json.loads(state.read_text())["sessions"]
    assert [p.name for p in state.parent.iterdir()] == ["didit.json"]  # no temp files left

    second = make(state_path=str(state))
    assert await second.decision(created["session_id"]) == decision
    page = await second.client.get(_page_path(created))
    assert page.status_code == 200 and "Declined" in page.text
    newer = await second.create(vendor_data="user-2")
    assert newer["session_number"] == created["session_number"] + 1
    again = await second.create(vendor_data="user-1")  # Declined: finished, so a new one
    assert again["session_id"] != created["session_id"]


# -- documented shapes (the cassettes hold the vendor's documented payloads) -----------------

#: Keys the emulator sends beyond the cassettes' examples, each documented elsewhere in
#: on one of Didit's pages (given). Anything else extra is drift.
DOCUMENTED_EXTRAS = frozenset(
    {
        "$.session_kind",  # create-session: "Response session_kind"
        "$.created_at",  # list-sessions rows; the KYB response schema lists it
        "$.document_ai_documents",  # retrieve-session: the list of plural blocks
        "$.id_verifications[].address",  # retrieve-session: per-feature fields
        "$.id_verifications[].parsed_address",
        "$.id_verifications[].front_image_quality_score",
        "$.id_verifications[].back_image_quality_score",
        "$.id_verifications[].date_of_issue",  # update-data fields
        "$.id_verifications[].place_of_birth",
        "$.liveness_checks[].reference_image",  # retrieve-session: per-feature fields
        "$.liveness_checks[].video_url",
        "$.liveness_checks[].face_quality",
        "$.liveness_checks[].face_luminance",
        "$.face_matches[].source_image",
        "$.face_matches[].target_image",
    }
)


def cassette(name: str, index: int = 0) -> tuple[dict[str, Any], Any]:
    return interaction(CASSETTES, name, index)


#: Request fields the decision echoes: the emulator's session is created with the doc's.
ECHOED = ("vendor_data", "metadata", "callback", "contact_details", "expected_details")
STATUS_ROUTE = {
    "Not Started": (),
    "In Progress": ("open",),
    "Approved": ("open", "approve"),
    "Declined": ("open", "decline"),
    "In Review": ("open", "review"),
    "Abandoned": ("open", "abandon"),
}


async def test_create_matches_the_documented_response(didit: Harness) -> None:
    request, documented = cassette("create_session_201.yaml")
    body = {**request_json(request), "workflow_id": SANDBOX_WORKFLOW_ID}
    response = await didit.client.post("/v3/session/", json=body, headers=didit.headers)
    assert response.status_code == 201
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []


async def test_decision_matches_the_documented_response(didit: Harness) -> None:
    _, documented = cassette("get_decision_200.yaml")
    created = await didit.create(**{key: documented[key] for key in ECHOED})
    await didit.drive(created["session_id"], *STATUS_ROUTE[documented["status"]])
    actual = await didit.decision(created["session_id"])
    assert actual["status"] == documented["status"]
    assert shape_drift(documented, actual, extras=DOCUMENTED_EXTRAS) == []


async def test_update_status_matches_the_documented_response(didit: Harness) -> None:
    request, documented = cassette("update_status_200.yaml")
    _, reread = cassette("update_status_200.yaml", 1)  # the GET /decision/ after the PATCH
    sid = (await didit.create(**{key: reread[key] for key in ECHOED}))["session_id"]
    await didit.drive(sid, "open", "review")
    response = await didit.client.patch(
        f"/v3/session/{sid}/update-status/", json=request_json(request), headers=didit.headers
    )
    assert response.status_code == 200
    assert shape_drift(documented, response.json()) == []
    # The decision now carries a `reviews` entry for the change.
    actual = await didit.decision(sid)
    assert actual["reviews"]
    assert shape_drift(reread, actual, extras=DOCUMENTED_EXTRAS) == []


async def test_update_status_takes_the_documented_resubmission_options(didit: Harness) -> None:
    request = _recorded("update_status_options_200.yaml", 1)["request"]
    sent = request_json(request)
    assert sent["send_email"] is True and sent["email_address"]
    sid = (await didit.create(contact_details={"email": sent["email_address"]}))["session_id"]
    await didit.drive(sid, "open", "decline")
    response = await didit.client.patch(
        f"/v3/session/{sid}/update-status/", json=sent, headers=didit.headers
    )
    assert response.status_code == 200, response.text
    assert (await didit.decision(sid))["status"] == "Resubmitted"
    without_address = {k: v for k, v in sent.items() if k != "email_address"}
    sid2 = (await didit.create())["session_id"]
    await didit.drive(sid2, "open", "decline")
    refused = await didit.client.patch(
        f"/v3/session/{sid2}/update-status/", json=without_address, headers=didit.headers
    )
    assert refused.status_code == 400  # the stricter rendering: required with send_email
    assert "email_address" in refused.json()


async def test_delete_matches_the_documented_response(didit: Harness) -> None:
    _, documented = cassette("delete_session_200.yaml")
    sid = (await didit.create())["session_id"]
    response = await didit.client.delete(f"/v3/session/{sid}/delete/", headers=didit.headers)
    assert response.status_code == 200
    assert shape_drift(documented, response.json()) == []


def _recorded(name: str, index: int = 0) -> dict[str, Any]:
    """One recorded interaction as it is (the report's body is a PDF, not JSON)."""
    data = yaml.safe_load((CASSETTES / name).read_text(encoding="utf-8"))
    return data["interactions"][index]


@pytest.mark.parametrize("status", ["Approved", "Declined", "In Review"])
async def test_generate_pdf_matches_the_documented_response(didit: Harness, status: str) -> None:
    documented = _recorded("generate_pdf_200.yaml")["response"]
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, *STATUS_ROUTE[status])
    response = await didit.client.get(f"/v3/session/{sid}/generate-pdf/", headers=didit.headers)
    assert response.status_code == documented["status"]["code"] == 200
    assert response.headers["content-type"] == documented["headers"]["Content-Type"][0]
    assert response.headers["content-disposition"] == (
        documented["headers"]["Content-Disposition"][0].replace(S_DOC, sid)
    )
    assert response.content.startswith(b"%PDF-") and response.content.rstrip().endswith(b"%%EOF")
    assert status.encode() in response.content  # rendered from the current session data


@pytest.mark.parametrize("status", ["Not Started", "In Progress", "Abandoned"])
async def test_generate_pdf_refuses_a_session_without_a_final_status(
    didit: Harness, status: str
) -> None:
    documented = _recorded("generate_pdf_200.yaml", 1)["response"]
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, *STATUS_ROUTE[status])
    response = await didit.client.get(f"/v3/session/{sid}/generate-pdf/", headers=didit.headers)
    assert response.status_code == documented["status"]["code"] == 403
    assert shape_drift(json.loads(documented["body"]["string"]), response.json()) == []
    assert status in response.json()["detail"]


async def test_generate_pdf_needs_the_key(didit: Harness) -> None:
    sid = (await didit.create())["session_id"]
    await didit.drive(sid, "open", "approve")
    response = await didit.client.get(f"/v3/session/{sid}/generate-pdf/")
    assert response.status_code == 403
    assert not response.content.startswith(b"%PDF-")


#: The session id of the recorded report.
S_DOC = "11111111-2222-3333-4444-555555555555"


def test_shape_check_detects_drift() -> None:
    _, documented = cassette("get_decision_200.yaml")
    assert shape_drift(documented, json.loads(json.dumps(documented))) == []

    renamed = json.loads(json.dumps(documented))
    renamed["sessionNumber"] = renamed.pop("session_number")
    assert shape_drift(documented, renamed) == [
        "$.session_number: missing",
        "$.sessionNumber: not documented",
    ]

    retyped = json.loads(json.dumps(documented))
    retyped["session_number"] = str(retyped["session_number"])
    assert shape_drift(documented, retyped) == ["$.session_number: documented number, got string"]

    nested = json.loads(json.dumps(documented))
    nested["face_matches"][0]["warnings"][0]["risk"] = ["LOW_FACE_MATCH_SIMILARITY"]
    assert shape_drift(documented, nested) == [
        "$.face_matches[].warnings[].risk: documented string, got array"
    ]

    singular = json.loads(json.dumps(documented))
    singular["id_verifications"] = singular["id_verifications"][0]  # the legacy v2 shape
    assert shape_drift(documented, singular) == ["$.id_verifications: documented array, got object"]

    # null documents "anything"; an emulator-only key passes only when listed as documented.
    relaxed = json.loads(json.dumps(documented))
    relaxed["nfc_verifications"] = [{"node_id": "n"}]
    relaxed["created_at"] = "2026-01-15T12:00:00Z"
    assert shape_drift(documented, relaxed) == ["$.created_at: not documented"]
    assert shape_drift(documented, relaxed, extras=DOCUMENTED_EXTRAS) == []


class TestDiditSandboxConformance(HostedPageConformance, SandboxConformance):
    page_refusals = ("approve", "expire")
    provider = "didit"
    lacking_actions = ("submit", "fail")
    supported_actions = ("open", "approve", "decline", "review", "abandon", "expire")
    unknown_session_id = "0d7c3f0e-8a43-4b8e-9a51-5b0f6f0c2d11"
    out_of_turn = [
        ((), "approve"),
        ((), "review"),
        ((), "abandon"),
        (("open",), "open"),
        (("open",), "expire"),
        (("open", "approve"), "decline"),
        (("open", "approve"), "approve"),
        (("open", "decline"), "open"),
        (("expire",), "open"),
        (("open", "abandon"), "approve"),
    ]

    async def new_session(self, harness: Harness) -> str:
        return str((await harness.create())["session_id"])

    def stored_id(self, saved: Any) -> str:
        return str(saved["sessions"][0]["session_id"])

    def check_refusal(self, response: httpx.Response, status: int) -> None:
        if status == 400:
            assert isinstance(response.json()["detail"], str)

    def check_handle(self, sandbox: DiditSandbox, other: DiditSandbox) -> None:
        assert sandbox.options == {"workflow_id": SANDBOX_WORKFLOW_ID}

    async def after_retries_gave_up(self, harness: Harness, session_id: str) -> None:
        approved = await harness.simulate(session_id, "approve")
        assert approved.json()["webhook"] == {"delivered": False, "status_code": 503}

    async def personal_data_in_flight(self, harness: Harness) -> list[str]:
        harness.sink.script = [httpx.ConnectError("refused"), 503]
        created = await harness.create(vendor_data="jane.doe@example.com", metadata={"pii": "Jane"})
        await harness.drive(created["session_id"], "open")
        await harness.sink.wait_for(3)
        return ["jane.doe", "Jane", created["session_token"]]

    def check_out_of_turn(self, response: httpx.Response, where: Any, action: str) -> None:
        assert action in response.json()["detail"]

    async def hosted_page(self, harness: Harness) -> tuple[str, str]:
        created = await harness.create()
        return _page_path(created), str(created["session_id"])

    def lacking_text(self, response: httpx.Response, action: str) -> str:
        detail = response.json()["detail"]
        assert action in detail
        return str(detail)
