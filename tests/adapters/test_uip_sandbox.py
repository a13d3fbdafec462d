"""The UIP sandbox emulator against UIP's documented contract (docs/vendors/uip.md, What the
sandbox emulates, and the pages it cites).

Signatures are re-computed here from the documented algorithm; what every emulator must do
is `tests/adapters/sandbox_conformance.py`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import yaml

from adapters.uip.sandbox import UipSandbox
from tests.adapters.sandbox_conformance import SandboxConformance
from tests.support.sandbox_harness import (
    FakeClock,
    SandboxHarness,
    WebhookSink,
    harness_fixture,
)
from tests.support.shapes import shape_drift

PUBLIC = "http://127.0.0.1:8000/sandbox/uip"
WEBHOOK_URL = "http://gateway.test/webhooks/uip"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "uip"
START = datetime(2026, 6, 7, 12, 0, 0, tzinfo=UTC)
API = "/v1"

IDENTIFY = {"primitive": "identify", "params": {"blocks": ["first_name", "last_name", "country"]}}
AGE = {"primitive": "age_verify", "params": {"min_age": 21}}
TERMS = {"primitive": "light_sign", "params": {"text": "I accept the terms."}}


def gated(step: dict[str, Any]) -> dict[str, Any]:
    return {**step, "gate": True}


# -- harness ----------------------------------------------------------------------------------


class Sink(WebhookSink):
    @property
    def events(self) -> list[str]:
        return self.values("event")


class Harness(SandboxHarness[UipSandbox]):
    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"{API}{path}", headers=headers, **kwargs)

    async def create(self, *steps: dict[str, Any], **body: Any) -> dict[str, Any]:
        """JSON, or multipart with a placeholder document per sign step: "a session that
        includes a sign step is created as multipart/form-data" (api-reference/introduction)."""
        chosen = list(steps) or [IDENTIFY]
        signs = [i for i, step in enumerate(chosen) if step.get("primitive") == "sign"]
        if not signs:
            response = await self.call("POST", "/sessions", json={"steps": chosen, **body})
        else:
            fields = {"steps": json.dumps(chosen)}
            fields.update(
                {k: json.dumps(v) if k == "metadata" else str(v) for k, v in body.items()}
            )
            files = [
                (f"files[{i}]", (f"doc{i}.pdf", b"%PDF-1.7 doc", "application/pdf")) for i in signs
            ]
            response = await self.call("POST", "/sessions", data=fields, files=files)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, session_id: str) -> dict[str, Any]:
        response = await self.call("GET", f"/sessions/{session_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def settings(self, **body: Any) -> httpx.Response:
        return await self.client.post("/sandbox-settings", json=body)


Factory = Callable[..., Harness]


make = harness_fixture(
    Harness,
    UipSandbox,
    start=START,
    public_base_url=PUBLIC,
    webhook_url=WEBHOOK_URL,
    headers=lambda sandbox: {"Authorization": f"Bearer {sandbox.api_key}"},
    sink=Sink,
)


@pytest.fixture
def uip(make: Factory) -> Harness:
    return make()


# -- an independent check of UIP's webhook contract (core-concepts/webhooks) ------------------


def verify_uip(raw: bytes, ts: str, sig: str, secret: str, now: datetime) -> bool:
    """The documented check (https://docs.uip.digital/core-concepts/webhooks: HMAC-SHA256 over
    "{timestamp}.{raw_body}", hex, constant-time compare), in Python, with the clock injected."""
    if abs(now.timestamp() - int(ts)) > 300:
        return False
    expected = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)


def signed(harness: Harness, index: int = -1) -> dict[str, Any]:
    """Check one delivery the way core-concepts/webhooks describes it, from scratch; its body."""
    request = harness.sink.requests[index]
    raw, headers = request.content, request.headers
    timestamp, signature = headers["x-uip-timestamp"], headers["x-uip-signature"]
    assert timestamp.isdigit()  # Unix seconds
    assert len(signature) == 64 and int(signature, 16) >= 0  # hex SHA-256
    secret = harness.sandbox.webhook_secret
    assert verify_uip(raw, timestamp, signature, secret, harness.clock())
    assert not verify_uip(raw + b" ", timestamp, signature, secret, harness.clock())
    assert not verify_uip(raw, timestamp, signature, "uip_whsec_other", harness.clock())
    body = json.loads(raw)
    assert headers["x-uip-event"] == body["event"]
    assert headers["x-uip-delivery-id"]
    assert headers["content-type"] == "application/json"
    assert set(body) == {"event", "data"}
    return body


def all_signed(harness: Harness) -> list[dict[str, Any]]:
    return [signed(harness, index) for index in range(len(harness.sink.requests))]


def temp_files(folder: Path) -> list[Path]:
    return list(folder.glob(".uip-sandbox-*"))


def session_count(state: Path) -> int:
    return len(json.loads(state.read_text())["sessions"])


# -- the handle and auth ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "auth/missing-api-key"),
        ({"Authorization": "Basic abc"}, "auth/missing-api-key"),
        ({"Authorization": "Bearer "}, "auth/missing-api-key"),
        ({"Authorization": "Bearer uip_live_wrong"}, "auth/invalid-api-key"),
        ({"X-API-Key": "anything"}, "auth/missing-api-key"),
    ],
)
async def test_missing_or_wrong_key_is_401(
    uip: Harness, headers: dict[str, str], code: str
) -> None:
    sid = (await uip.create(gated(IDENTIFY), AGE))["id"]
    await uip.drive(sid, "approve")
    before = len(uip.sink.requests)
    calls = [
        ("POST", "/sessions", {"steps": [IDENTIFY]}),
        ("GET", f"/sessions/{sid}", None),
        ("POST", f"/sessions/{sid}/continue", None),
        ("POST", f"/sessions/{sid}/stop", None),
        ("GET", f"/audits/{sid}_0", None),
    ]
    for method, path, body in calls:
        response = await uip.client.request(method, f"{API}{path}", json=body, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.json() == {"error": response.json()["error"], "code": code}
    assert (await uip.get(sid))["status"] == "awaiting_decision"
    assert len(uip.sink.requests) == before


async def test_bearer_scheme_is_case_insensitive(uip: Harness) -> None:
    response = await uip.client.post(
        f"{API}/sessions",
        json={"steps": [IDENTIFY]},
        headers={"Authorization": f"bearer {uip.sandbox.api_key}"},
    )
    assert response.status_code == 201


async def test_control_endpoints_need_no_key(uip: Harness) -> None:
    sid = (await uip.create())["id"]
    assert (await uip.simulate(sid, "open")).status_code == 200
    assert (await uip.client.get("/sandbox-settings")).status_code == 200


async def test_unknown_routes_and_methods_use_the_error_body(uip: Harness) -> None:
    missing = await uip.call("GET", "/nothing")
    assert missing.status_code == 404
    assert missing.json()["code"] == "request/invalid-path"
    assert set(missing.json()) == {"error", "code"}
    wrong = await uip.call("DELETE", "/sessions")
    assert wrong.status_code == 405 and set(wrong.json()) == {"error", "code"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sessions/sess_000000000000000000000000"),
        ("POST", "/sessions/sess_000000000000000000000000/continue"),
        ("POST", "/sessions/sess_000000000000000000000000/stop"),
        ("GET", "/audits/sess_000000000000000000000000_0"),
        ("GET", "/audits/garbage"),
    ],
)
async def test_unknown_session_is_404(uip: Harness, method: str, path: str) -> None:
    response = await uip.call(method, path)
    assert (response.status_code, response.json()) == (
        404,
        {"error": "The requested resource was not found", "code": "resource/not-found"},
    )


# -- create -----------------------------------------------------------------------------------


async def test_create_returns_the_documented_fields(uip: Harness) -> None:
    body = await uip.create(
        IDENTIFY, AGE, client_reference_id="order_4815", return_url="https://shop.example/ok"
    )
    assert set(body) == {"id", "status", "url", "expires"}
    assert body["id"].startswith("sess_")
    assert body["status"] == "created"
    assert body["url"] == f"{PUBLIC}/s/{body['id']}"
    # default TTL: "default capped at 1 hour"; whole seconds with Z, as in the docs
    assert body["expires"] == "2026-06-07T13:00:00Z"
    assert uip.sink.requests == []  # there is no session.created event
    other = await uip.create(IDENTIFY, expires_in=60)
    assert other["expires"] == "2026-06-07T12:01:00Z"
    assert other["id"] != body["id"]


@pytest.mark.parametrize("expires_in", [60, 86_400])
async def test_expires_in_bounds_are_inclusive(uip: Harness, expires_in: int) -> None:
    body = await uip.create(IDENTIFY, expires_in=expires_in)
    expected = START + timedelta(seconds=expires_in)
    assert body["expires"] == expected.isoformat().replace("+00:00", "Z")


async def test_metadata_up_to_50_string_values(uip: Harness) -> None:
    metadata = {f"k{i}": str(i) for i in range(50)}
    sid = (await uip.create(IDENTIFY, metadata=metadata))["id"]
    await uip.settings(get_shape="b")
    assert (await uip.get(sid))["metadata"] == metadata


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "steps"),
        ({"steps": []}, "steps"),
        ({"steps": {"primitive": "identify"}}, "steps"),
        ({"steps": [IDENTIFY] * 21}, "steps"),
        ({"steps": ["identify"]}, "steps[0]"),
        ({"steps": [{}]}, "steps[0].primitive"),
        ({"steps": [{"primitive": "liveness"}]}, "steps[0].primitive"),
        ({"steps": [IDENTIFY, {"primitive": "Identify"}]}, "steps[1].primitive"),
        ({"steps": [{"primitive": "identify", "extra": 1}]}, "steps[0].extra"),
        ({"steps": [{"primitive": "identify", "gate": "yes"}]}, "steps[0].gate"),
        ({"steps": [{"primitive": "identify", "gate": 1}]}, "steps[0].gate"),
        ({"steps": [{"primitive": "identify", "params": []}]}, "steps[0].params"),
        ({"steps": [{"primitive": "identify", "params": {"blocks": []}}]}, "blocks"),
        ({"steps": [{"primitive": "identify", "params": {"blocks": ["email"]}}]}, "blocks"),
        ({"steps": [{"primitive": "identify", "params": {"blocks": "dob"}}]}, "blocks"),
        ({"steps": [{"primitive": "identify", "params": {"min_age": 3}}]}, "min_age"),
        ({"steps": [{"primitive": "age_verify", "params": {"min_age": 0}}]}, "min_age"),
        ({"steps": [{"primitive": "age_verify", "params": {"min_age": 121}}]}, "min_age"),
        ({"steps": [{"primitive": "age_verify", "params": {"min_age": "21"}}]}, "min_age"),
        ({"steps": [{"primitive": "age_verify", "params": {"min_age": True}}]}, "min_age"),
        ({"steps": [{"primitive": "light_sign"}]}, "text"),
        ({"steps": [{"primitive": "light_sign", "params": {"text": " "}}]}, "text"),
        ({"steps": [{"primitive": "sign", "params": {"files": ["a"]}}]}, "files"),
        ({"steps": [IDENTIFY], "metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        ({"steps": [IDENTIFY], "metadata": {"n": 1}}, "metadata.n"),
        ({"steps": [IDENTIFY], "metadata": {"n": None}}, "metadata.n"),
        ({"steps": [IDENTIFY], "metadata": ["a"]}, "metadata"),
        ({"steps": [IDENTIFY], "expires_in": 59}, "expires_in"),
        ({"steps": [IDENTIFY], "expires_in": 86_401}, "expires_in"),
        ({"steps": [IDENTIFY], "expires_in": "600"}, "expires_in"),
        ({"steps": [IDENTIFY], "expires_in": 600.5}, "expires_in"),
        ({"steps": [IDENTIFY], "expires_in": True}, "expires_in"),
        ({"steps": [IDENTIFY], "return_url": "http://shop.example/ok"}, "return_url"),
        ({"steps": [IDENTIFY], "return_url": "shop.example/ok"}, "return_url"),
        ({"steps": [IDENTIFY], "return_url": "https://[::1"}, "return_url"),
        ({"steps": [IDENTIFY], "client_reference_id": 4815}, "client_reference_id"),
        ({"steps": [IDENTIFY], "client_reference_id": "x" * 256}, "client_reference_id"),
        ({"steps": [IDENTIFY], "expiresIn": 600}, "expiresIn"),
    ],
)
async def test_create_validation_is_400(uip: Harness, body: Any, field: str) -> None:
    response = await uip.call("POST", "/sessions", json=body)
    assert response.status_code == 400, body
    assert response.json()["code"] == "request/invalid-payload"
    assert field in response.json()["error"]
    assert set(response.json()) == {"error", "code"}


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'"steps"', b"null"])
async def test_create_rejects_bodies_that_are_not_json_objects(
    uip: Harness, content: bytes
) -> None:
    response = await uip.call(
        "POST", "/sessions", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "request/invalid-payload"


async def test_create_without_a_webhook_url_is_422(make: Factory) -> None:
    uip = make(webhook_url="")
    response = await uip.call("POST", "/sessions", json={"steps": [IDENTIFY]})
    assert response.status_code == 422
    assert response.json()["code"] == "request/webhook-missing"


async def test_create_with_an_empty_balance_is_402(uip: Harness) -> None:
    await uip.settings(funds_exhausted=True)
    response = await uip.call("POST", "/sessions", json={"steps": [IDENTIFY]})
    assert response.status_code == 402
    assert response.json()["code"] == "payment/insufficient-funds"


async def test_sign_step_with_files_as_multipart(uip: Harness) -> None:
    files = [
        ("files", ("contract.pdf", b"%PDF-1.7 contract", "application/pdf")),
        ("files", ("annex.txt", b"annex", "text/plain")),
    ]
    data = {
        "steps": json.dumps([IDENTIFY, {"primitive": "sign"}]),
        "client_reference_id": "order_9",
        "metadata": json.dumps({"deal": "d-1"}),
        "expires_in": "600",
    }
    response = await uip.call("POST", "/sessions", data=data, files=files)
    assert response.status_code == 201, response.text
    sid = response.json()["id"]
    assert response.json()["expires"] == "2026-06-07T12:10:00Z"
    await uip.drive(sid, "approve")
    data_sign = signed(uip, 1)["data"]
    assert data_sign["primitive"] == "sign" and data_sign["stage"] == 1
    digests = [
        hashlib.sha256(b"%PDF-1.7 contract").hexdigest(),
        hashlib.sha256(b"annex").hexdigest(),
    ]
    manifest = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    assert data_sign["document_hash"] == f"sha256:{manifest}"
    assert base64.b64decode(data_sign["signature"])[0] == 0x30  # a DER ECDSA signature
    assert data_sign["metadata"] == {"deal": "d-1"}


@pytest.mark.parametrize(
    ("steps", "part"),
    [
        ([IDENTIFY], "files"),  # no sign step takes the files
        ([{"primitive": "sign"}, {"primitive": "sign"}], "files"),  # which one?
        ([{"primitive": "sign"}, IDENTIFY], "files[1]"),
        ([{"primitive": "sign"}], "upload"),
    ],
)
async def test_multipart_files_must_belong_to_a_sign_step(
    uip: Harness, steps: list[Any], part: str
) -> None:
    response = await uip.call(
        "POST",
        "/sessions",
        data={"steps": json.dumps(steps)},
        files=[(part, ("a.pdf", b"a", "application/pdf"))],
    )
    assert response.status_code == 400
    assert response.json()["code"] == "request/invalid-payload"


@pytest.mark.parametrize("multipart", [False, True])
async def test_a_sign_step_without_a_file_is_refused(uip: Harness, multipart: bool) -> None:
    """ "Because sign carries files, its session is created as multipart/form-data"
    (https://docs.uip.digital/core-concepts/primitives): without its documents the steps are
    invalid, UIP's documented "400 invalid steps[]" (api-reference/sessions/create)."""
    steps = [IDENTIFY, {"primitive": "sign"}]
    if multipart:
        # a multipart body with only the text field (no filename: not a file part)
        form = {"steps": (None, json.dumps(steps).encode())}
        response = await uip.call("POST", "/sessions", files=form)
        assert response.request.headers["content-type"].startswith("multipart/form-data")
    else:
        response = await uip.call("POST", "/sessions", json={"steps": steps})
    assert response.status_code == 400
    assert response.json()["code"] == "request/invalid-payload"
    assert response.json()["error"].startswith("steps[1]:")
    assert uip.sink.requests == []


async def test_an_under_age_person_completes_with_satisfied_false(uip: Harness) -> None:
    """age_verify "returns only the boolean" (core-concepts/primitives): the step completes
    and the session with it; the verdict is `satisfied: false` on the webhook and on a
    Version B read ("the same payloads delivered by webhook")."""
    sid = (await uip.create({"primitive": "age_verify", "params": {"min_age": 120}}))["id"]
    await uip.drive(sid, "open", "submit")
    step, done = all_signed(uip)
    assert step["event"] == "step.completed"
    assert (step["data"]["satisfied"], step["data"]["min_age"]) == (False, 120)
    assert "dob" not in json.dumps(step)  # "The birth date is never included"
    assert done == {
        "event": "session.completed",
        "data": {"session_id": sid, "status": "completed"},
    }
    assert (await uip.settings(get_shape="b")).status_code == 200
    result = (await uip.get(sid))["results"][0]
    assert (result["satisfied"], result["min_age"]) == (False, 120)


async def test_multipart_files_named_by_stage_and_the_file_cap(uip: Harness) -> None:
    steps = json.dumps([{"primitive": "sign"}, {"primitive": "sign"}])
    ok = await uip.call(
        "POST",
        "/sessions",
        data={"steps": steps},
        files=[("files[0]", ("a.pdf", b"a", "x/y")), ("files[1]", ("b.pdf", b"b", "x/y"))],
    )
    assert ok.status_code == 201
    many = [("files", (f"{i}.txt", b"x", "text/plain")) for i in range(51)]
    too_many = await uip.call(
        "POST", "/sessions", data={"steps": json.dumps([{"primitive": "sign"}])}, files=many
    )
    assert too_many.status_code == 400 and "50 files" in too_many.json()["error"]


# -- idempotency ------------------------------------------------------------------------------


async def test_idempotency_key_returns_the_original_session(make: Factory, tmp_path: Path) -> None:
    state = tmp_path / "uip.json"
    uip = make(state_path=str(state))
    body = {"steps": [IDENTIFY, AGE], "client_reference_id": "order_1"}
    key = {"Idempotency-Key": "create-order-1"}
    first = await uip.call("POST", "/sessions", json=body, headers=key)
    again = await uip.call("POST", "/sessions", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert session_count(state) == 1
    # "returns the original session": as it is now
    await uip.drive(first.json()["id"], "open")
    later = await uip.call("POST", "/sessions", json=body, headers=key)
    assert later.json()["id"] == first.json()["id"]
    assert later.json()["status"] == "in_progress"
    assert session_count(state) == 1
    # another key, or none, makes another session
    other = await uip.call("POST", "/sessions", json=body, headers={"Idempotency-Key": "k2"})
    plain = await uip.call("POST", "/sessions", json=body)
    assert len({first.json()["id"], other.json()["id"], plain.json()["id"]}) == 3
    assert session_count(state) == 3


async def test_idempotency_key_with_a_different_body_is_409(uip: Harness) -> None:
    key = {"Idempotency-Key": "create-order-2"}
    first = await uip.call("POST", "/sessions", json={"steps": [IDENTIFY]}, headers=key)
    for body in (
        {"steps": [AGE]},
        {"steps": [IDENTIFY], "client_reference_id": "x"},
        {"steps": [gated(IDENTIFY)]},
    ):
        conflict = await uip.call("POST", "/sessions", json=body, headers=key)
        assert conflict.status_code == 409
        assert conflict.json()["code"] == "request/idempotency-conflict"
    # Same body written differently (key order, explicit defaults) is the same request.
    same = {"expires_in": 3600, "steps": [{"params": IDENTIFY["params"], "primitive": "identify"}]}
    replay = await uip.call("POST", "/sessions", json=same, headers=key)
    assert replay.json()["id"] == first.json()["id"]


async def test_idempotency_keys_are_forgotten_after_24_hours(uip: Harness) -> None:
    key = {"Idempotency-Key": "k"}
    first = await uip.call("POST", "/sessions", json={"steps": [IDENTIFY]}, headers=key)
    uip.clock.advance(24 * 3600)
    again = await uip.call("POST", "/sessions", json={"steps": [AGE]}, headers=key)
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]


async def test_invalid_bodies_are_not_remembered_and_bad_keys_are_400(uip: Harness) -> None:
    key = {"Idempotency-Key": "k"}
    bad = await uip.call("POST", "/sessions", json={"steps": []}, headers=key)
    assert bad.status_code == 400
    good = await uip.call("POST", "/sessions", json={"steps": [IDENTIFY]}, headers=key)
    assert good.status_code == 201
    too_long = await uip.call(
        "POST", "/sessions", json={"steps": [IDENTIFY]}, headers={"Idempotency-Key": "k" * 256}
    )
    assert too_long.status_code == 400


async def test_a_replay_is_not_refused_for_funds(uip: Harness) -> None:
    key = {"Idempotency-Key": "k"}
    first = await uip.call("POST", "/sessions", json={"steps": [IDENTIFY]}, headers=key)
    await uip.settings(funds_exhausted=True)
    again = await uip.call("POST", "/sessions", json={"steps": [IDENTIFY]}, headers=key)
    assert again.json()["id"] == first.json()["id"]


# -- GET: both published shapes ---------------------------------------------------------------

SHAPE_A = {
    "id",
    "status",
    "current_step",
    "step_count",
    "primitives",
    "current_primitive",
    "created_at",
    "updated_at",
    "expires_at",
}
SHAPE_B = {
    "id",
    "status",
    "current_step",
    "step_count",
    "results",
    "outcome",
    "client_reference_id",
    "metadata",
    "updated_at",
}


async def test_get_shape_a_is_status_and_progress_only(uip: Harness) -> None:
    sid = (await uip.create(gated(IDENTIFY), {"primitive": "sign"}, metadata={"a": "b"}))["id"]
    body = await uip.get(sid)
    assert set(body) == SHAPE_A
    assert body == {
        "id": sid,
        "status": "created",
        "current_step": 0,
        "step_count": 2,
        "primitives": ["identify", "sign"],
        "current_primitive": "identify",
        "created_at": "2026-06-07T12:00:00Z",
        "updated_at": "2026-06-07T12:00:00Z",
        "expires_at": "2026-06-07T13:00:00Z",
    }
    uip.clock.advance(90)
    await uip.drive(sid, "approve")
    body = await uip.get(sid)
    # the documented example: paused at the gate of step 0
    assert (body["status"], body["current_step"], body["current_primitive"]) == (
        "awaiting_decision",
        0,
        "identify",
    )
    assert body["updated_at"] == "2026-06-07T12:01:30Z"
    assert "claims" not in json.dumps(body)


async def test_get_shape_b_has_the_per_step_results(uip: Harness) -> None:
    sid = (
        await uip.create(
            gated(IDENTIFY),
            AGE,
            client_reference_id="order_4417",
            metadata={"checkout": "abc"},
        )
    )["id"]
    await uip.settings(get_shape="b")
    body = await uip.get(sid)
    assert set(body) == SHAPE_B
    assert (body["results"], body["outcome"], body["current_step"]) == ([], "", 0)
    assert (body["client_reference_id"], body["metadata"]) == ("order_4417", {"checkout": "abc"})
    uip.clock.advance(90)
    await uip.drive(sid, "approve")
    body = await uip.get(sid)
    # the documented example: awaiting_decision, current_step 1, one result
    assert (body["status"], body["current_step"], body["outcome"]) == ("awaiting_decision", 1, "")
    [result] = body["results"]
    assert result == {
        "step": 0,
        "primitive": "identify",
        "verified_at": "2026-06-07T12:01:30Z",
        "audit_id": f"{sid}_0",
        "claims": result["claims"],
    }
    assert set(result["claims"]) == {"first_name", "last_name", "country"}
    # the verdicts are the ones the webhook delivered
    assert signed(uip, 0)["data"]["claims"] == result["claims"]
    await uip.call("POST", f"/sessions/{sid}/continue")
    await uip.drive(sid, "submit")
    body = await uip.get(sid)
    assert (body["status"], body["outcome"], body["current_step"]) == ("completed", "completed", 2)
    assert body["results"][1] == {
        "step": 1,
        "primitive": "age_verify",
        "verified_at": "2026-06-07T12:01:30Z",
        "audit_id": f"{sid}_1",
        "satisfied": True,
        "min_age": 21,
    }


async def test_get_shape_b_unset_fields_and_construction_option(make: Factory) -> None:
    uip = make(get_shape="b")
    sid = (await uip.create())["id"]
    body = await uip.get(sid)
    assert (body["client_reference_id"], body["metadata"]) == ("", {})
    assert (await uip.client.get("/sandbox-settings")).json()["get_shape"] == "b"
    await uip.settings(get_shape="a")
    assert set(await uip.get(sid)) == SHAPE_A


@pytest.mark.parametrize(
    ("route", "outcome"),
    [
        (("approve",), "completed"),
        (("decline",), "failed"),
        (("fail",), "failed"),
        (("expire",), "expired"),
    ],
)
async def test_get_shape_b_outcome_is_the_terminal_status(
    uip: Harness, route: tuple[str, ...], outcome: str
) -> None:
    sid = (await uip.create())["id"]
    await uip.drive(sid, *route)
    await uip.settings(get_shape="b")
    assert (await uip.get(sid))["outcome"] == outcome


@pytest.mark.parametrize(
    "body",
    [{}, {"get_shape": "c"}, {"gate_error_status": 422}, {"funds_exhausted": "yes"}, {"x": 1}],
)
async def test_bad_settings_are_400(uip: Harness, body: Any) -> None:
    response = await uip.settings(**body)
    assert response.status_code == 400
    assert response.json()["code"] == "request/invalid-payload"


# -- gates: continue / stop -------------------------------------------------------------------


async def test_continue_moves_past_the_gate_without_an_event(uip: Harness) -> None:
    sid = (await uip.create(gated(IDENTIFY), {"primitive": "sign"}))["id"]
    await uip.drive(sid, "approve")
    assert uip.sink.events == ["step.completed"]  # no awaiting_decision event
    response = await uip.call("POST", f"/sessions/{sid}/continue", json={"ignored": True})
    assert response.status_code == 200
    assert response.json() == {
        "id": sid,
        "status": "in_progress",
        "current_step": 1,
        "step_count": 2,
        "current_primitive": "sign",
    }
    assert uip.sink.events == ["step.completed"]
    await uip.drive(sid, "submit")
    assert uip.sink.events == ["step.completed", "step.completed", "session.completed"]


async def test_continue_on_a_gated_last_step_completes(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, gated(AGE)))["id"]
    await uip.drive(sid, "approve")
    assert (await uip.get(sid))["status"] == "awaiting_decision"
    assert uip.sink.events == ["step.completed", "step.completed"]
    response = await uip.call("POST", f"/sessions/{sid}/continue")
    assert response.json()["status"] == "completed"
    assert uip.sink.events[-1] == "session.completed"
    assert signed(uip)["data"] == {"session_id": sid, "status": "completed"}


async def test_stop_ends_the_session_and_skips_the_rest(uip: Harness) -> None:
    sid = (await uip.create(gated(IDENTIFY), AGE, TERMS, client_reference_id="o"))["id"]
    await uip.drive(sid, "approve")
    response = await uip.call("POST", f"/sessions/{sid}/stop")
    assert response.status_code == 200
    assert response.json() == {"id": sid, "status": "stopped", "current_step": 0, "step_count": 3}
    assert uip.sink.events == ["step.completed", "session.stopped"]
    assert signed(uip)["data"] == {
        "session_id": sid,
        "client_reference_id": "o",
        "status": "stopped",
    }
    await uip.settings(get_shape="b")
    body = await uip.get(sid)
    assert (body["status"], body["outcome"], len(body["results"])) == ("stopped", "stopped", 1)


@pytest.mark.parametrize(
    "route",
    [(), ("open",), ("approve",), ("decline",), ("fail",), ("expire",)],
)
@pytest.mark.parametrize("action", ["continue", "stop"])
async def test_continue_and_stop_only_at_a_gate(
    uip: Harness, route: tuple[str, ...], action: str
) -> None:
    sid = (await uip.create(IDENTIFY, AGE))["id"]
    await uip.drive(sid, *route)
    before = (await uip.get(sid), len(uip.sink.requests))
    response = await uip.call("POST", f"/sessions/{sid}/{action}")
    assert response.status_code == 409
    assert response.json()["code"] == "session/not-awaiting-decision"
    assert "awaiting_decision" in response.json()["error"]
    assert (await uip.get(sid), len(uip.sink.requests)) == before


async def test_the_gate_error_status_can_be_400(uip: Harness) -> None:
    await uip.settings(gate_error_status=400)
    sid = (await uip.create())["id"]
    response = await uip.call("POST", f"/sessions/{sid}/continue")
    assert response.status_code == 400
    assert response.json()["code"] == "session/not-awaiting-decision"


async def test_a_gate_on_every_step(uip: Harness) -> None:
    sid = (await uip.create(gated(IDENTIFY), gated(AGE), gated(TERMS)))["id"]
    for stage in range(3):
        body = await uip.drive(sid, "approve")
        assert body["status"] == "awaiting_decision"
        assert (await uip.get(sid))["current_step"] == stage
        continued = await uip.call("POST", f"/sessions/{sid}/continue")
        assert continued.json()["status"] == ("completed" if stage == 2 else "in_progress")
    stages = [b["data"].get("stage") for b in all_signed(uip)]
    assert stages == [0, 1, 2, None]
    assert uip.sink.events[-1] == "session.completed"


# -- expiry: lazy, and without a webhook ------------------------------------------------------


async def test_ttl_expiry_shows_on_the_next_read_and_sends_nothing(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, expires_in=600))["id"]
    uip.clock.advance(599)
    assert (await uip.get(sid))["status"] == "created"
    uip.clock.advance(1)
    body = await uip.get(sid)
    assert body["status"] == "expired"
    assert body["updated_at"] == body["expires_at"] == "2026-06-07T12:10:00Z"
    uip.clock.advance(3600)
    assert (await uip.get(sid))["updated_at"] == "2026-06-07T12:10:00Z"
    await uip.sandbox.idle()
    assert uip.sink.requests == []
    refused = await uip.simulate(sid, "open")
    assert refused.status_code == 409


async def test_a_session_waiting_at_a_gate_expires(uip: Harness) -> None:
    sid = (await uip.create(gated(IDENTIFY), AGE, expires_in=300))["id"]
    await uip.drive(sid, "approve")
    uip.clock.advance(301)
    response = await uip.call("POST", f"/sessions/{sid}/continue")
    assert response.status_code == 409
    assert "expired" in response.json()["error"]
    assert (await uip.get(sid))["status"] == "expired"
    assert uip.sink.events == ["step.completed"]  # no further steps, no session.* event


async def test_the_per_step_window_expires_an_open_step(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, AGE, expires_in=86_400))["id"]
    await uip.drive(sid, "open")
    uip.clock.advance(9 * 60)
    await uip.drive(sid, "submit")  # step 0 verified: step 1's window starts now
    uip.clock.advance(9 * 60)
    assert (await uip.get(sid))["status"] == "in_progress"
    uip.clock.advance(60)
    body = await uip.get(sid)
    assert body["status"] == "expired"
    assert body["updated_at"] == "2026-06-07T12:19:00Z"  # step 1 started at 12:09
    assert body["expires_at"] == "2026-06-08T12:00:00Z"  # the TTL itself had not run out
    assert uip.sink.events == ["step.completed"]
    assert (await uip.simulate(sid, "submit")).status_code == 409


async def test_the_per_step_window_can_be_switched_off(make: Factory) -> None:
    uip = make(step_window_s=None)
    sid = (await uip.create(IDENTIFY, expires_in=7200))["id"]
    await uip.drive(sid, "open")
    uip.clock.advance(3600)
    assert (await uip.get(sid))["status"] == "in_progress"


async def test_simulated_expiry_sends_no_webhook(uip: Harness) -> None:
    sid = (await uip.create(gated(IDENTIFY), AGE))["id"]
    await uip.drive(sid, "approve")
    before = len(uip.sink.requests)
    response = await uip.simulate(sid, "expire")
    assert response.json() == {
        "session_id": sid,
        "status": "expired",
        "webhook": {"delivered": False, "status_code": None},
    }
    assert (await uip.get(sid))["status"] == "expired"
    await uip.sandbox.idle()
    assert len(uip.sink.requests) == before


async def test_the_hosted_page_also_resolves_expiry(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, expires_in=60))["id"]
    uip.clock.advance(61)
    page = await uip.client.get(f"/s/{sid}")
    assert "expired" in page.text
    assert "<form" not in page.text
    assert uip.sink.requests == []


# -- webhooks ---------------------------------------------------------------------------------


async def test_happy_path_events_in_order_and_signed(uip: Harness) -> None:
    sid = (
        await uip.create(
            IDENTIFY, AGE, TERMS, client_reference_id="order_4815", metadata={"cart": "c1"}
        )
    )["id"]
    await uip.drive(sid, "open")
    assert uip.sink.requests == []  # opening fires nothing
    for expected_stage in range(3):
        uip.clock.advance(5)
        response = await uip.simulate(sid, "submit")
        assert response.json()["webhook"] == {"delivered": True, "status_code": 200}
        assert signed(uip, expected_stage)["data"]["stage"] == expected_stage
    bodies = all_signed(uip)
    assert [b["event"] for b in bodies] == [
        "step.completed",
        "step.completed",
        "step.completed",
        "session.completed",
    ]
    common = {"session_id": sid, "client_reference_id": "order_4815", "metadata": {"cart": "c1"}}
    identify, age, terms, done = (b["data"] for b in bodies)
    assert identify == {
        **common,
        "stage": 0,
        "primitive": "identify",
        "audit_id": f"{sid}_0",
        "claims": identify["claims"],
    }
    assert set(identify["claims"]) == {"first_name", "last_name", "country"}
    assert identify["claims"]["country"] == "US"
    assert age == {
        **common,
        "stage": 1,
        "primitive": "age_verify",
        "audit_id": f"{sid}_1",
        "satisfied": True,
        "min_age": 21,
    }
    assert "dob" not in json.dumps(age)  # "the birth date is never sent"
    text_hash = hashlib.sha256(b"I accept the terms.").hexdigest()
    assert terms == {
        **common,
        "stage": 2,
        "primitive": "light_sign",
        "audit_id": f"{sid}_2",
        "signature": terms["signature"],
        "document_hash": f"sha256:{text_hash}",
    }
    assert base64.b64decode(terms["signature"])[0] == 0x30
    assert done == {**common, "status": "completed"}
    ids = [r.headers["x-uip-delivery-id"] for r in uip.sink.requests]
    assert len(set(ids)) == 4
    assert [r.headers["x-uip-timestamp"] for r in uip.sink.requests] == [
        str(int(START.timestamp()) + 5 * n) for n in (1, 2, 3, 3)
    ]


async def test_data_leaves_out_unset_reference_and_metadata(uip: Harness) -> None:
    sid = (await uip.create(AGE))["id"]
    await uip.drive(sid, "approve")
    step, done = (b["data"] for b in all_signed(uip))
    assert set(step) == {"session_id", "stage", "primitive", "audit_id", "satisfied", "min_age"}
    assert done == {"session_id": sid, "status": "completed"}


async def test_identify_claims_follow_the_requested_blocks(uip: Harness) -> None:
    everything = ["first_name", "last_name", "dob", "country", "document_number", "portrait"]
    sid = (
        await uip.create(
            {"primitive": "identify"},
            {"primitive": "identify", "params": {"blocks": [*everything, "full_name"]}},
        )
    )["id"]
    await uip.drive(sid, "approve")
    default, full = (b["data"]["claims"] for b in all_signed(uip)[:2])
    assert set(default) == {"first_name", "last_name", "dob"}  # the documented default
    assert set(full) == {*everything, "full_name"}
    assert full["full_name"] == "unavailable"  # intentionally unmapped
    assert datetime.strptime(full["dob"], "%Y-%m-%d")
    base64.b64decode(full["portrait"], validate=True)


async def test_age_verify_is_satisfied_only_when_old_enough(uip: Harness) -> None:
    sid = (
        await uip.create(
            {"primitive": "identify", "params": {"blocks": ["dob"]}},
            {"primitive": "age_verify"},
            {"primitive": "age_verify", "params": {"min_age": 30}},
            {"primitive": "age_verify", "params": {"min_age": 120}},
        )
    )["id"]
    await uip.drive(sid, "approve")
    identify, default, thirty, old = (b["data"] for b in all_signed(uip)[:4])
    dob = datetime.strptime(identify["claims"]["dob"], "%Y-%m-%d").date()
    age = START.year - dob.year - ((START.month, START.day) < (dob.month, dob.day))
    assert (default["min_age"], default["satisfied"]) == (18, age >= 18)
    assert (thirty["min_age"], thirty["satisfied"]) == (30, age >= 30)
    assert (old["min_age"], old["satisfied"]) == (120, False)
    for data in (default, thirty, old):
        assert set(data) == {"session_id", "stage", "primitive", "audit_id", "satisfied", "min_age"}


async def test_decline_fails_with_a_verification_reason(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, AGE, client_reference_id="o"))["id"]
    await uip.drive(sid, "open", "submit")
    response = await uip.simulate(sid, "decline")
    assert response.json() == {
        "session_id": sid,
        "status": "failed",
        "webhook": {"delivered": True, "status_code": 200},
    }
    assert uip.sink.events == ["step.completed", "session.failed"]
    data = signed(uip)["data"]
    assert data == {"session_id": sid, "client_reference_id": "o", "reason": data["reason"]}
    assert data["reason"] not in ("insufficient_funds", "internal_error")
    other = (await uip.create())["id"]
    await uip.simulate(other, "decline", reason="mdoc issuer signature invalid")
    assert signed(uip)["data"]["reason"] == "mdoc issuer signature invalid"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [({}, "internal_error"), ({"reason": "insufficient_funds"}, "insufficient_funds")],
)
async def test_fail_is_an_internal_error_or_funds(
    uip: Harness, extra: dict[str, Any], reason: str
) -> None:
    sid = (await uip.create(gated(IDENTIFY), AGE))["id"]
    await uip.drive(sid, "approve")
    response = await uip.simulate(sid, "fail", **extra)
    assert response.json()["status"] == "failed"
    assert uip.sink.events == ["step.completed", "session.failed"]
    assert signed(uip)["data"] == {"session_id": sid, "reason": reason}


async def test_funds_running_out_fail_the_next_step(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, AGE))["id"]
    await uip.drive(sid, "open", "submit")
    await uip.settings(funds_exhausted=True)
    body = await uip.drive(sid, "submit")
    assert body["status"] == "failed"
    assert uip.sink.events == ["step.completed", "session.failed"]
    assert signed(uip)["data"]["reason"] == "insufficient_funds"


async def test_a_failed_delivery_is_retried_with_the_same_body_and_id(uip: Harness) -> None:
    uip.sink.script = [500, 503]
    sid = (await uip.create(AGE))["id"]
    response = await uip.simulate(sid, "approve")
    # the request awaited the first attempt only; the failing one is reported
    assert response.json()["webhook"] == {"delivered": False, "status_code": 500}
    await uip.sink.wait_for(4)
    await uip.sandbox.idle()
    assert uip.sink.events == [
        "step.completed",
        "step.completed",
        "step.completed",
        "session.completed",
    ]
    first, second, third, done = uip.sink.requests
    assert first.content == second.content == third.content
    ids = {r.headers["x-uip-delivery-id"] for r in (first, second, third)}
    assert len(ids) == 1 and done.headers["x-uip-delivery-id"] not in ids
    all_signed(uip)  # every attempt carries a valid signature


@pytest.mark.parametrize("failure", [404, 410, httpx.ConnectError("down")])
async def test_every_failure_is_retried(uip: Harness, failure: int | Exception) -> None:
    uip.sink.script = [failure]
    sid = (await uip.create(AGE))["id"]
    await uip.drive(sid, "approve")
    await uip.sink.wait_for(3)
    await uip.sandbox.idle()
    assert uip.sink.events == ["step.completed", "step.completed", "session.completed"]


# -- the control endpoint ---------------------------------------------------------------------


async def test_unknown_action_is_400(uip: Harness) -> None:
    sid = (await uip.create())["id"]
    response = await uip.simulate(sid, "teleport")
    assert response.status_code == 400
    assert "approve" in response.json()["error"]


@pytest.mark.parametrize(
    ("action", "reason"),
    [("fail", "bad_luck"), ("fail", ["internal_error"]), ("decline", ""), ("open", "x")],
)
async def test_simulate_rejects_bad_reasons(uip: Harness, action: str, reason: Any) -> None:
    sid = (await uip.create())["id"]
    response = await uip.simulate(sid, action, reason=reason)
    assert response.status_code == 400
    assert (await uip.get(sid))["status"] == "created"


async def test_open_submit_and_approve_report_their_status(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, gated(AGE), TERMS))["id"]
    opened = await uip.simulate(sid, "open")
    assert opened.json() == {
        "session_id": sid,
        "status": "in_progress",
        "webhook": {"delivered": False, "status_code": None},
    }
    assert (await uip.drive(sid, "submit"))["status"] == "in_progress"
    assert (await uip.get(sid))["current_step"] == 1
    assert (await uip.drive(sid, "approve"))["status"] == "awaiting_decision"  # stops at a gate
    await uip.call("POST", f"/sessions/{sid}/continue")
    assert (await uip.drive(sid, "approve"))["status"] == "completed"
    assert uip.sink.events == ["step.completed"] * 3 + ["session.completed"]


async def test_approve_from_created_opens_and_runs_every_step(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, AGE, TERMS))["id"]
    body = await uip.drive(sid, "approve")
    assert body == {
        "session_id": sid,
        "status": "completed",
        "webhook": {"delivered": True, "status_code": 200},
    }
    assert [b["data"].get("stage") for b in all_signed(uip)] == [0, 1, 2, None]


# -- audits -----------------------------------------------------------------------------------


async def test_audit_of_a_verified_step(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, AGE, client_reference_id="order_4815"))["id"]
    await uip.drive(sid, "approve")
    age = await uip.call("GET", f"/audits/{sid}_1")
    assert age.status_code == 200
    body = age.json()
    assert set(body) == {
        "id",
        "session_id",
        "stage",
        "primitive",
        "wallet",
        "proof",
        "occurred_at",
        "client_reference_id",
        "prev_hash",
        "record_hash",
        "ts_token",
        "business_redacted",
    }
    assert (body["id"], body["session_id"], body["stage"]) == (f"{sid}_1", sid, 1)
    assert body["proof"] == {"satisfied": True, "min_age": 21}
    assert body["occurred_at"] == "2026-06-07T12:00:00.000000000Z"
    assert body["business_redacted"] is True
    identify = (await uip.call("GET", f"/audits/{sid}_0")).json()
    assert identify["prev_hash"] == "0x000"
    assert body["prev_hash"] == identify["record_hash"]  # a hash chain
    # identity stays sealed: a digest, never the claims
    assert set(identify["proof"]) == {"claims_digest"}
    assert identify["proof"]["claims_digest"].startswith("sha256:")
    assert "claims" not in identify
    missing = await uip.call("GET", f"/audits/{sid}_2")
    assert missing.status_code == 404


# -- the hosted page --------------------------------------------------------------------------


async def test_hosted_page_escapes_everything_and_posts_relative(uip: Harness) -> None:
    evil = "<script>alert('x')</script>&"
    files = [("files", ("<img src=x onerror=alert(1)>.pdf", b"%PDF", "application/pdf"))]
    data = {
        "steps": json.dumps(
            [
                {"primitive": "light_sign", "params": {"text": evil}, "gate": True},
                {"primitive": "sign"},
            ]
        ),
        "return_url": "https://shop.example/done?a=1&b=<2>",
    }
    created = await uip.call("POST", "/sessions", data=data, files=files)
    sid = created.json()["id"]
    page = await uip.client.get(f"/s/{sid}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    text = page.text
    assert "<title>UIP sandbox</title>" in text
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in text
    assert f"action='{sid}/action'" in text  # relative
    for value in ("submit", "approve", "decline"):
        assert f"value='{value}'" in text
    # opening the page moved the session on: the person is working through the steps
    assert (await uip.get(sid))["status"] == "in_progress"
    assert uip.sink.requests == []


async def test_hosted_flow_through_the_gateway_mount(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, gated(AGE), return_url="https://shop.example/done"))["id"]
    url = f"{PUBLIC}/s/{sid}"
    async with uip.through_the_gateway() as browser:
        page = await browser.get(url)
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and f"Path={urlsplit(url).path}" in cookie
        action = urljoin(url, f"{sid}/action")
        assert urlsplit(action).path == f"/sandbox/uip/s/{sid}/action"
        posted = await browser.post(action, data={"action": "submit"})
        assert posted.status_code == 303
        assert posted.headers["location"] == f"/sandbox/uip/s/{sid}"
        assert (await uip.get(sid))["current_step"] == 1
        await browser.post(action, data={"action": "approve"})
        waiting = await browser.get(url)
        assert "Waiting for the business" in waiting.text and "<form" not in waiting.text
        refused = await browser.post(action, data={"action": "submit"})
        assert refused.status_code == 409
        await uip.call("POST", f"/sessions/{sid}/continue")
        done = await browser.get(url)
        assert "All steps are verified" in done.text
        assert "href='https://shop.example/done'" in done.text  # a link, not a redirect
        assert done.status_code == 200
    assert uip.sink.events == ["step.completed", "step.completed", "session.completed"]


async def test_hosted_page_is_bound_to_the_first_browser(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, AGE))["id"]
    first = await uip.client.get(f"/s/{sid}")
    assert first.status_code == 200
    again = await uip.client.get(f"/s/{sid}")  # same browser (cookie jar)
    assert again.status_code == 200 and "set-cookie" not in again.headers
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=uip.sandbox.app), base_url="http://sandbox"
    ) as other:
        elsewhere = await other.get(f"/s/{sid}")
        assert elsewhere.status_code == 403
        assert "another browser" in elsewhere.text
        forged = await other.post(f"/s/{sid}/action", data={"action": "approve"})
        assert forged.status_code == 403
    assert (await uip.get(sid))["status"] == "in_progress"
    assert uip.sink.requests == []


async def test_hosted_page_decline_and_bad_actions(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY))["id"]
    await uip.client.get(f"/s/{sid}")
    bad = await uip.client.post(f"/s/{sid}/action", data={"action": "expire"})
    assert bad.status_code == 409
    assert "&#x27;expire&#x27; is not possible" in bad.text
    declined = await uip.client.post(f"/s/{sid}/action", data={"action": "decline"})
    assert declined.status_code == 303
    page = await uip.client.get(f"/s/{sid}")
    assert "Verification failed" in page.text
    assert uip.sink.events == ["session.failed"]


async def test_hosted_page_unknown_session_is_404(uip: Harness) -> None:
    response = await uip.client.get("/s/sess_nope")
    assert response.status_code == 404
    assert "not valid" in response.text
    post = await uip.client.post("/s/sess_nope/action", data={"action": "submit"})
    assert post.status_code == 404


# -- persistence ------------------------------------------------------------------------------


async def test_sessions_survive_a_restart(make: Factory, tmp_path: Path) -> None:
    state = tmp_path / "uip.json"
    clock = FakeClock(START)
    first = make(state_path=str(state), clock=clock)
    body = {"steps": [gated(IDENTIFY), AGE], "metadata": {"m": "1"}, "expires_in": 600}
    key = {"Idempotency-Key": "persisted"}
    sid = (await first.call("POST", "/sessions", json=body, headers=key)).json()["id"]
    await first.drive(sid, "approve")
    await first.settings(get_shape="b", gate_error_status=400)
    before = await first.get(sid)

    second = make(state_path=str(state), clock=clock)
    assert await second.get(sid) == before
    assert (await second.client.get("/sandbox-settings")).json()["gate_error_status"] == 400
    replay = await second.call("POST", "/sessions", json=body, headers=key)
    assert replay.json()["id"] == sid
    assert (await second.call("POST", f"/sessions/{sid}/continue")).status_code == 200
    await second.drive(sid, "submit")
    assert second.sink.events == ["step.completed", "session.completed"]
    assert signed(second)["data"]["metadata"] == {"m": "1"}
    # lazy expiry is persisted too
    other = (await second.create(IDENTIFY, expires_in=60))["id"]
    clock.advance(61)
    assert (await second.get(other))["status"] == "expired"
    third = make(state_path=str(state), clock=clock)
    assert (await third.get(other))["status"] == "expired"
    assert not temp_files(tmp_path)  # no temp files left behind


async def test_page_binding_survives_a_restart(make: Factory, tmp_path: Path) -> None:
    state = tmp_path / "uip.json"
    first = make(state_path=str(state))
    sid = (await first.create())["id"]
    assert (await first.client.get(f"/s/{sid}")).status_code == 200
    second = make(state_path=str(state))
    assert (await second.client.get(f"/s/{sid}")).status_code == 403  # another browser
    second.client.cookies = first.client.cookies
    assert (await second.client.get(f"/s/{sid}")).status_code == 200


# -- documented shapes (the cassettes hold the vendor's documented payloads) ------------------


def cassette(name: str, index: int = 0) -> tuple[dict[str, Any], Any]:
    """(request, parsed response body) of one interaction of a cassette."""
    path = CASSETTES / name
    if not path.exists():
        pytest.fail(f"cassette {path} is missing (written by the adapter's author)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    interaction = data["interactions"][index]
    body = interaction["response"]["body"]
    text = body.get("string") if isinstance(body, dict) else body
    return interaction["request"], json.loads(text)


def request_json(request: dict[str, Any]) -> Any:
    body = request.get("body")
    if isinstance(body, dict):  # vcrpy may store {"string": ...}
        body = body.get("string")
    return json.loads(body) if body else {}


#: How to bring a sandbox session to a documented GET status: (steps, control actions).
GET_ROUTE: dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]] = {
    "created": ([IDENTIFY, {"primitive": "sign"}], ()),
    "in_progress": ([IDENTIFY, {"primitive": "sign"}], ("open",)),
    "awaiting_decision": ([gated(IDENTIFY), {"primitive": "sign"}], ("approve",)),
    "completed": ([IDENTIFY, {"primitive": "sign"}], ("approve",)),
    "failed": ([IDENTIFY, {"primitive": "sign"}], ("decline",)),
    "expired": ([IDENTIFY, {"primitive": "sign"}], ("expire",)),
}


def interactions(name: str) -> list[dict[str, Any]]:
    path = CASSETTES / name
    if not path.exists():
        pytest.fail(f"cassette {path} is missing (written by the adapter's author)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]


async def test_create_matches_the_documented_response(uip: Harness) -> None:
    # The first interaction is the doc's own example; the others (gate, metadata,
    # expires_in) must be accepted too, with the same answer shape.
    for index in range(len(interactions("create_session_201.yaml"))):
        request, documented = cassette("create_session_201.yaml", index)
        key = (request.get("headers") or {}).get("idempotency-key") or []
        headers = {"Idempotency-Key": key[0]} if key else {}
        response = await uip.call("POST", "/sessions", json=request_json(request), headers=headers)
        assert response.status_code == 201, response.text
        assert shape_drift(documented, response.json()) == []


async def test_documented_bad_create_is_refused_alike(uip: Harness) -> None:
    request, documented = cassette("error_400_steps.yaml")
    response = await uip.call("POST", "/sessions", json=request_json(request))
    assert response.status_code == 400
    assert response.json()["code"] == documented["code"]
    assert shape_drift(documented, response.json()) == []


async def test_documented_gate_refusals_have_the_error_shape(uip: Harness) -> None:
    sid = (await uip.create(IDENTIFY, {"primitive": "sign"}))["id"]
    await uip.drive(sid, "open")
    for index, status_code in enumerate((409, 400)):
        await uip.settings(gate_error_status=status_code)
        _, documented = cassette("continue_409.yaml", index)
        response = await uip.call("POST", f"/sessions/{sid}/continue")
        assert response.status_code == status_code
        assert shape_drift(documented, response.json()) == []


async def test_get_session_matches_the_documented_shape_a(uip: Harness) -> None:
    _, documented = cassette("get_session_shape_a.yaml")
    steps, route = GET_ROUTE[documented["status"]]
    sid = (await uip.create(*steps))["id"]
    await uip.drive(sid, *route)
    actual = await uip.get(sid)
    assert actual["status"] == documented["status"]
    assert shape_drift(documented, actual) == []


async def test_get_session_matches_the_documented_shape_b(uip: Harness) -> None:
    _, documented = cassette("get_session_shape_b.yaml")
    blocks = list(documented["results"][0]["claims"])
    identify = {"primitive": "identify", "params": {"blocks": blocks}, "gate": True}
    sid = (
        await uip.create(
            identify,
            {"primitive": "sign"},
            client_reference_id=documented["client_reference_id"],
            metadata=documented["metadata"],
        )
    )["id"]
    await uip.drive(sid, "approve")
    await uip.settings(get_shape="b")
    actual = await uip.get(sid)
    assert (actual["status"], actual["current_step"]) == ("awaiting_decision", 1)
    assert actual["current_step"] == documented["current_step"]
    assert shape_drift(documented, actual) == []


async def at_the_documented_gate(uip: Harness) -> str:
    """The doc's continue/stop example: identify (gated), then sign; paused at step 0."""
    sid = (await uip.create(gated(IDENTIFY), {"primitive": "sign"}))["id"]
    await uip.drive(sid, "approve")
    return sid


@pytest.mark.parametrize("action", ["continue", "stop"])
async def test_gate_action_matches_the_documented_response(uip: Harness, action: str) -> None:
    _, documented = cassette(f"{action}_200.yaml")
    sid = await at_the_documented_gate(uip)
    response = await uip.call("POST", f"/sessions/{sid}/{action}")
    assert response.status_code == 200
    assert response.json()["status"] == documented["status"]
    assert shape_drift(documented, response.json()) == []


def test_shape_check_detects_drift() -> None:
    _, documented = cassette("get_session_shape_a.yaml")
    assert shape_drift(documented, json.loads(json.dumps(documented))) == []

    renamed = json.loads(json.dumps(documented))
    renamed["expires"] = renamed.pop("expires_at")  # create's name on a GET
    assert shape_drift(documented, renamed) == [
        "$.expires_at: missing",
        "$.expires: not documented",
    ]

    retyped = json.loads(json.dumps(documented))
    retyped["current_step"] = str(retyped["current_step"])
    assert shape_drift(documented, retyped) == ["$.current_step: documented number, got string"]

    listed = json.loads(json.dumps(documented))
    listed["primitives"] = [{"primitive": p} for p in listed["primitives"]]
    assert shape_drift(documented, listed) == ["$.primitives[]: documented string, got object"]

    # shape B is not shape A: the two published versions differ, and the check says where
    shape_b = {
        "id": "sess_abc123",
        "status": "awaiting_decision",
        "current_step": 1,
        "step_count": 2,
        "results": [],
        "outcome": "",
        "client_reference_id": "",
        "metadata": {},
        "updated_at": "2026-06-07T12:01:30Z",
    }
    drift = shape_drift(documented, shape_b)
    assert "$.primitives: missing" in drift and "$.results: not documented" in drift


#: Per webhook cassette: the steps, and the control actions (+ API call) that produce it.
WEBHOOK_ROUTES: dict[str, tuple[list[dict[str, Any]], tuple[str, ...], str | None]] = {
    "webhook_step_completed_identify.json": ([IDENTIFY], ("approve",), None),
    "webhook_step_completed_age_verify.json": ([IDENTIFY, AGE], ("approve",), None),
    "webhook_step_completed_age_verify_not_satisfied.json": (
        [IDENTIFY, {"primitive": "age_verify", "params": {"min_age": 120}}],
        ("approve",),
        None,
    ),
    "webhook_step_completed_light_sign.json": ([TERMS], ("approve",), None),
    "webhook_step_completed_sign.json": ([IDENTIFY, {"primitive": "sign"}], ("approve",), None),
    "webhook_session_completed.json": ([AGE], ("approve",), None),
    "webhook_session_stopped.json": ([gated(AGE), TERMS], ("approve",), "stop"),
    "webhook_session_failed_verification.json": ([IDENTIFY], ("decline",), None),
    "webhook_session_failed_internal_error.json": ([IDENTIFY], ("fail",), None),
    "webhook_session_failed_insufficient_funds.json": ([IDENTIFY], ("open", "fail:funds"), None),
}


@pytest.mark.parametrize("name", sorted(WEBHOOK_ROUTES))
async def test_webhooks_match_the_documented_payloads(uip: Harness, name: str) -> None:
    path = CASSETTES / name
    if not path.exists():
        pytest.fail(f"cassette {path} is missing (written by the adapter's author)")
    documented = json.loads(path.read_text(encoding="utf-8"))["body"]
    data = documented["data"]
    steps, actions, call = WEBHOOK_ROUTES[name]
    extra = {k: data[k] for k in ("client_reference_id", "metadata") if k in data}
    sid = (await uip.create(*steps, **extra))["id"]
    for action in actions:
        if action == "fail:funds":
            response = await uip.simulate(sid, "fail", reason="insufficient_funds")
        else:
            response = await uip.simulate(sid, action)
        assert response.status_code == 200, response.text
    if call:
        assert (await uip.call("POST", f"/sessions/{sid}/{call}")).status_code == 200
    matching = [
        body
        for body in all_signed(uip)
        if body["event"] == documented["event"]
        and body["data"].get("primitive") == data.get("primitive")
    ]
    assert matching, uip.sink.events
    actual = matching[0]
    if "reason" in data and data["reason"] in ("insufficient_funds", "internal_error"):
        assert actual["data"]["reason"] == data["reason"]
    if "stage" in data:
        assert actual["data"]["stage"] == data["stage"]
    if "satisfied" in data:
        assert actual["data"]["satisfied"] is data["satisfied"]
    assert shape_drift(documented, actual) == []


class TestUipSandboxConformance(SandboxConformance):
    provider = "uip"
    lacking_actions = ("review", "abandon")
    supported_actions = ("open", "submit", "approve", "decline", "expire", "fail")
    min_key_length = 40
    unknown_session_id = "sess_nope"
    retry_status = 500
    out_of_turn = [
        ((), "submit"),  # open first
        (("open",), "open"),
        (("approve",), "approve"),  # at the gate: the business decides
        (("approve",), "submit"),
        (("approve",), "decline"),
        (("approve",), "open"),
        (("decline",), "fail"),
        (("fail",), "approve"),
        (("expire",), "expire"),
        (("expire",), "open"),
    ]

    def check_refusal(self, response: httpx.Response, status: int) -> None:
        if status == 404:
            assert response.json()["code"] == "resource/not-found"

    def check_handle(self, sandbox: UipSandbox, other: UipSandbox) -> None:
        assert dict(sandbox.options) == {}
        assert sandbox.webhook_secret.startswith("uip_whsec_")
        with pytest.raises(ValueError):
            UipSandbox(self.other_config(), get_shape="c")

    async def one_webhook(self, harness: Harness) -> str:
        sid = (await harness.create(gated(AGE)))["id"]
        await harness.drive(sid, "approve")
        return str(sid)

    async def personal_data_in_flight(self, harness: Harness) -> list[str]:
        sid = (await harness.create(IDENTIFY, client_reference_id="order_secret_ref"))["id"]
        await harness.drive(sid, "approve")
        claims = signed(harness, 0)["data"]["claims"]
        return ["order_secret_ref", *claims.values()]

    async def session_at(self, harness: Harness, where: Any) -> str:
        sid = (await harness.create(gated(IDENTIFY), AGE))["id"]
        await harness.drive(sid, *where)
        return str(sid)

    async def observe(self, harness: Harness, session_id: str) -> Any:
        return await harness.get(session_id)

    def check_out_of_turn(self, response: httpx.Response, where: Any, action: str) -> None:
        assert action in response.json()["error"]

    def lacking_text(self, response: httpx.Response, action: str) -> str:
        return str(response.json()["error"])


async def test_audit_matches_the_documented_record(uip: Harness) -> None:
    """cassettes/uip/get_audit_200.yaml: the read names the verified step, its record has
    the audit page's shape (an age_verify at stage 0, as the page's example)."""
    _, read = cassette("get_audit_200.yaml", 0)
    request, documented = cassette("get_audit_200.yaml", 1)
    age = {"primitive": "age_verify", "params": {"min_age": documented["proof"]["min_age"]}}
    sid = (
        await uip.create(
            gated(age), {"primitive": "sign"}, client_reference_id=documented["client_reference_id"]
        )
    )["id"]
    await uip.drive(sid, "approve")
    assert (await uip.get(sid))["current_step"] == read["current_step"]
    assert request["uri"].endswith(f"/audits/{read['id']}_0")
    response = await uip.call("GET", f"/audits/{sid}_0")
    assert response.status_code == 200
    actual = response.json()
    assert shape_drift(documented, actual) == []
    assert set(actual) == set(documented)
    assert actual["proof"] == documented["proof"]
    assert (actual["stage"], actual["primitive"]) == (0, "age_verify")
