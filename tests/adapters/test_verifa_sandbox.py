"""The Verifa sandbox emulator against Verifa's documented contract (docs/vendors/verifa.md,
Sources, lists the pages; tests that need one beyond the cassettes cite it).

What every emulator must do is `tests/adapters/sandbox_conformance.py`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from adapters.base import SandboxConfig
from adapters.verifa.sandbox import VerifaSandbox
from tests.adapters.sandbox_conformance import HostedPageConformance, SandboxConformance
from tests.support.cassettes import interaction, request_json
from tests.support.sandbox_harness import (
    SandboxHarness,
    WebhookSink,
    form_target,
    harness_fixture,
)
from tests.support.shapes import shape_drift

PUBLIC = "http://127.0.0.1:8000/sandbox/verifa"
WEBHOOK_URL = "http://gateway.test/webhooks/verifa"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "verifa"
START = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)
API = "/api/v1"


# -- harness ---------------------------------------------------------------------------------


class Sink(WebhookSink):
    @property
    def events(self) -> list[str]:
        return self.values("event")


class Harness(SandboxHarness[VerifaSandbox]):
    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post(f"{API}/sessions", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        await self.sink.wait_for(len(self.sink.requests) + 1)  # session.created
        return response.json()

    async def get(self, session_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{API}/sessions/{session_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"{API}{path}", headers=headers, **kwargs)

    async def settings(self, **body: Any) -> httpx.Response:
        return await self.client.post("/sandbox-settings", json=body)


Factory = Callable[..., Harness]


make = harness_fixture(
    Harness,
    VerifaSandbox,
    start=START,
    public_base_url=PUBLIC,
    webhook_url=WEBHOOK_URL,
    headers=lambda sandbox: {"X-API-Key": sandbox.api_key, "Key-Inflection": "snake"},
    sink=Sink,
)


@pytest.fixture
def verifa(make: Factory) -> Harness:
    return make()


# -- independent checks of Verifa's webhook contract (docs/vendors/verifa.md, Webhooks) --------


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def assert_signed_by_verifa(
    request: httpx.Request, secret: str, now: datetime, *, legacy: bool = False
) -> dict[str, Any]:
    """Check one delivery the way Verifa's webhook pages describe it, from scratch."""
    raw = request.content
    header = request.headers["x-verifa-signature"]
    if legacy:
        assert "," not in header and "=" not in header
        assert hmac.compare_digest(header, _hex(secret, raw))
    else:
        parts = dict(part.split("=", 1) for part in header.split(","))
        assert set(parts) == {"t", "v1"}
        assert abs(int(now.timestamp()) - int(parts["t"])) <= 300
        expected = _hex(secret, parts["t"].encode() + b"." + raw)
        assert hmac.compare_digest(parts["v1"], expected)
        assert not hmac.compare_digest(parts["v1"], _hex(secret, raw))  # not the legacy form
    assert not hmac.compare_digest(_hex("whsec_other", raw), header.rsplit("=", 1)[-1])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-verifa-delivery-id"]
    return json.loads(raw)


def signed(harness: Harness, index: int = -1, *, legacy: bool = False) -> dict[str, Any]:
    return assert_signed_by_verifa(
        harness.sink.requests[index], harness.sandbox.webhook_secret, harness.clock(), legacy=legacy
    )


FLAT_KEYS = {"event", "idempotency_key", "session_id", "external_ref", "status", "is_sandbox"}


# -- the handle, auth, headers ----------------------------------------------------------------


UNAUTHORIZED = {
    "error": "unauthorized",
    "detail": "Invalid or missing API key.",
    "status_code": 401,
}


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "vk_sandbox_wrong"}, {"Authorization": "Bearer x"}, {"x-api-key": ""}],
)
async def test_missing_or_wrong_api_key_is_401(verifa: Harness, headers: dict[str, str]) -> None:
    sid = (await verifa.create())["id"]
    before = len(verifa.sink.requests)
    calls = [
        ("POST", "/sessions", {}),
        ("GET", "/sessions", None),
        ("GET", f"/sessions/{sid}", None),
        ("PATCH", f"/sessions/{sid}", {"metadata": {"a": 1}}),
        ("GET", f"/sessions/{sid}/result", None),
        ("POST", f"/sessions/{sid}/expire", None),
        ("POST", f"/sessions/{sid}/resume", None),
        ("POST", f"/sessions/{sid}/reprocess", None),
        ("POST", f"/sessions/{sid}/generate-one-time-link", {}),
        ("DELETE", f"/sessions/{sid}/data", None),
        ("POST", f"/sessions/{sid}/simulate", {"action": "approve"}),
        ("POST", f"/sessions/{sid}/external-decision", {"decision": "continue"}),
        ("POST", "/cases/case_x/claim", {"reviewer_id": "orguser_1"}),
        ("POST", "/cases/case_x/approve", {"reviewer_id": "orguser_1"}),
        ("POST", "/cases/case_x/reject", {"reviewer_id": "orguser_1"}),
    ]
    for method, path, body in calls:
        response = await verifa.client.request(method, f"{API}{path}", json=body, headers=headers)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, path)
    assert (await verifa.get(sid))["status"] == "pending"
    assert len(verifa.sink.requests) == before


async def test_control_endpoints_need_no_key(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    assert (await verifa.simulate(sid, "open")).status_code == 200
    assert (await verifa.client.get("/sandbox-settings")).status_code == 200


async def test_verifa_version_header(verifa: Harness) -> None:
    ok = await verifa.call("GET", "/sessions", headers={"Verifa-Version": "2026-01-01"})
    assert ok.status_code == 200
    retired = await verifa.call("GET", "/sessions", headers={"Verifa-Version": "2024-01-01"})
    assert retired.status_code == 400
    assert retired.json()["error"] == "unsupported_version"
    assert retired.json()["status_code"] == 400


@pytest.mark.parametrize(
    ("inflection", "keys"),
    [
        ("camel", {"isSandbox", "createdAt", "externalRef", "retentionStatus", "tokenExpiresAt"}),
        ("kebab", {"is-sandbox", "created-at", "external-ref", "retention-status"}),
    ],
)
async def test_key_inflection_recases_responses_not_metadata(
    verifa: Harness, inflection: str, keys: set[str]
) -> None:
    sid = (await verifa.create(external_ref="u1", metadata={"signup_source": "web"}))["id"]
    response = await verifa.call("GET", f"/sessions/{sid}", headers={"Key-Inflection": inflection})
    body = response.json()
    assert keys <= set(body)
    assert "is_sandbox" not in body
    assert body["metadata"] == {"signup_source": "web"}  # the integrator's keys stay as sent
    missing = await verifa.call("GET", "/sessions/ses_nope", headers={"Key-Inflection": inflection})
    assert missing.status_code == 404 and len(missing.json()) == 3
    bad = await verifa.call("GET", f"/sessions/{sid}", headers={"Key-Inflection": "shout"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_key_inflection"


async def test_unknown_routes_and_methods_use_the_error_body(verifa: Harness) -> None:
    missing = await verifa.call("GET", "/nothing")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "detail", "status_code"}
    wrong = await verifa.call("PUT", "/sessions")
    assert wrong.status_code == 405 and wrong.json()["status_code"] == 405


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("GET", "/result"),
        ("POST", "/expire"),
        ("POST", "/resume"),
        ("POST", "/reprocess"),
        ("POST", "/generate-one-time-link"),
        ("DELETE", "/data"),
    ],
)
async def test_unknown_session_is_404(verifa: Harness, method: str, suffix: str) -> None:
    body = {"metadata": {"a": 1}} if method == "PATCH" else None
    response = await verifa.call(
        method, f"/sessions/ses_000000000000000000000000{suffix}", json=body
    )
    assert (response.status_code, response.json()) == (
        404,
        {"error": "not_found", "detail": "Session not found.", "status_code": 404},
    )


# -- create -----------------------------------------------------------------------------------


def decode_png(data_url: str) -> tuple[int, int, bytes]:
    """(width, height, decompressed scanlines) of a PNG data URL, checking every CRC."""
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    data = base64.b64decode(data_url[len(prefix) :], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (1, 0)
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert len(pixels) == height * (1 + (width + 7) // 8)
    assert b"IEND" in chunks
    return width, height, pixels


async def test_create_returns_the_documented_fields(verifa: Harness) -> None:
    body = await verifa.create(
        external_ref="user_abc123",
        country="US",
        workflow_id="workflow_custom_kyc",
        metadata={"plan": "premium", "signup_source": "mobile"},
        redirect_url="https://your-app.test/verify/complete",
    )
    assert set(body) == {
        "id",
        "status",
        "capture_url",
        "qr_code_data_url",
        "is_sandbox",
        "created_at",
        "expires_at",
        "external_ref",
        "tags",
    }
    assert body["id"].startswith("ses_")
    assert (body["status"], body["is_sandbox"]) == ("pending", True)
    assert body["capture_url"].startswith(f"{PUBLIC}/verify/tok_")
    assert body["created_at"] == "2026-02-01T12:00:00Z"
    assert body["expires_at"] == "2026-02-01T12:20:00Z"  # the token lives 20 minutes
    assert (body["external_ref"], body["tags"]) == ("user_abc123", [])
    width, height, _ = decode_png(body["qr_code_data_url"])
    assert width == height and width >= 21 * 4
    session = await verifa.get(body["id"])
    assert session["workflow_id"] == "workflow_custom_kyc"
    assert session["capture_url"] == body["capture_url"]
    assert session["token_expires_at"] == body["expires_at"]
    assert session["metadata"] == {"plan": "premium", "signup_source": "mobile"}
    assert (session["processing_attempts"], session["retention_status"]) == (0, "active")


async def test_create_fires_session_created(verifa: Harness) -> None:
    body = await verifa.create(external_ref="user_1")
    event = signed(verifa)
    assert event["event"] == "session.created"
    assert (event["session_id"], event["status"], event["external_ref"]) == (
        body["id"],
        "pending",
        "user_1",
    )
    assert set(event) == FLAT_KEYS | {"created_at"}


async def test_create_defaults_and_accepts_aliases_and_json_api(verifa: Harness) -> None:
    bare = await verifa.create()
    session = await verifa.get(bare["id"])
    assert session["workflow_id"] == "workflow_default"
    assert (session["external_ref"], session["metadata"], session["country"]) == (None, {}, None)
    camel = await verifa.create(externalRef="c-1", redirectUrl="https://a.test/x")
    assert camel["external_ref"] == "c-1"
    kebab = await verifa.create(**{"external-ref": "k-1"})
    assert kebab["external_ref"] == "k-1"
    envelope = await verifa.create(data={"attributes": {"external_ref": "j-1", "country": "DE"}})
    assert envelope["external_ref"] == "j-1"
    assert (await verifa.get(envelope["id"]))["country"] == "DE"


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"country": "usa"}, "country"),
        ({"external_ref": ""}, "external_ref"),
        ({"external_ref": 12}, "external_ref"),
        ({"metadata": ["x"]}, "metadata"),
        ({"checks": "document"}, "checks"),
        ({"redirect_url": "javascript:alert(1)"}, "redirect_url"),
        ({"send_email": "yes"}, "send_email"),
        ({"language": "en"}, "language"),
        ({"external_ref": "a", "externalRef": "b"}, "external_ref"),
    ],
)
async def test_create_validation_is_422(
    verifa: Harness, body: dict[str, Any], field_name: str
) -> None:
    response = await verifa.call("POST", "/sessions", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert (payload["error"], payload["status_code"]) == ("validation_error", 422)
    assert field_name in [error["field"] for error in payload["errors"]]


async def test_create_rejects_bodies_that_are_not_json_objects(verifa: Harness) -> None:
    as_list = await verifa.call("POST", "/sessions", json=[1])
    assert as_list.status_code == 422
    broken = await verifa.call(
        "POST", "/sessions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_json"
    assert verifa.sandbox.api_key not in broken.text


async def test_idempotency_key_replays_the_same_session(verifa: Harness) -> None:
    headers = {"Idempotency-Key": "create-user-1"}
    body = {"external_ref": "user_1", "metadata": {"a": 1}}
    first = await verifa.call("POST", "/sessions", json=body, headers=headers)
    await verifa.sink.wait_for(1)
    again = await verifa.call("POST", "/sessions", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    await asyncio.sleep(0.05)
    assert verifa.sink.events == ["session.created"]  # one session, one event
    listed = (await verifa.call("GET", "/sessions")).json()
    assert listed["pagination"]["total"] == 1

    different = await verifa.call(
        "POST", "/sessions", json={**body, "external_ref": "user_2"}, headers=headers
    )
    assert (different.status_code, different.json()) == (
        422,
        {
            "error": "idempotency_mismatch",
            "detail": "Idempotency key has already been used with different parameters.",
            "status_code": 422,
        },
    )
    other_key = await verifa.call(
        "POST", "/sessions", json=body, headers={"Idempotency-Key": "create-user-1b"}
    )
    assert other_key.json()["id"] != first.json()["id"]


async def test_idempotency_keys_expire_after_24_hours(verifa: Harness) -> None:
    headers = {"Idempotency-Key": "k"}
    first = await verifa.call("POST", "/sessions", json={}, headers=headers)
    verifa.clock.advance(24 * 3600)
    later = await verifa.call("POST", "/sessions", json={}, headers=headers)
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    too_long = await verifa.call(
        "POST", "/sessions", json={}, headers={"Idempotency-Key": "x" * 256}
    )
    assert too_long.status_code == 400


async def test_idempotency_key_on_resume_and_link(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    headers = {"Idempotency-Key": "link-1"}
    first = await verifa.call(
        "POST", f"/sessions/{sid}/generate-one-time-link", json={}, headers=headers
    )
    again = await verifa.call(
        "POST", f"/sessions/{sid}/generate-one-time-link", json={}, headers=headers
    )
    assert first.json() == again.json()
    assert verifa.sink.events.count("session.link_generated") == 1
    mismatch = await verifa.call(
        "POST",
        f"/sessions/{sid}/generate-one-time-link",
        json={"expires_in_minutes": 5},
        headers=headers,
    )
    assert mismatch.status_code == 422 and mismatch.json()["error"] == "idempotency_mismatch"
    elsewhere = await verifa.call("POST", f"/sessions/{sid}/resume", headers=headers)
    assert elsewhere.status_code == 422


# -- status changes and their webhooks ---------------------------------------------------------


async def test_happy_path_fires_the_documented_events(verifa: Harness) -> None:
    created = await verifa.create(external_ref="user_456", fields={"first_name": "Ana"})
    sid = created["id"]
    opened = await verifa.simulate(sid, "open")
    assert opened.json() == {
        "session_id": sid,
        "status": "capturing",
        "webhook": {"delivered": True, "status_code": 200},
    }
    started = signed(verifa)
    assert (started["event"], started["status"]) == ("session.started", "capturing")
    session = await verifa.get(sid)
    assert session["consent_ip"] == "127.0.0.1"
    assert session["capture_url"] == created["capture_url"]

    submitted = await verifa.simulate(sid, "submit")  # capturing → processing: no event
    assert submitted.json() == {
        "session_id": sid,
        "status": "processing",
        "webhook": {"delivered": False, "status_code": None},
    }
    session = await verifa.get(sid)
    assert (session["status"], session["capture_url"]) == ("processing", None)
    assert (session["processing_attempts"], session["document_type"]) == (1, "drivers_license")

    verifa.clock.advance(60)
    approved = await verifa.simulate(sid, "approve")
    assert approved.json()["status"] == "completed"
    assert approved.json()["webhook"] == {"delivered": True, "status_code": 200}
    event = signed(verifa)
    assert event["event"] == "session.approved"
    assert (event["session_id"], event["status"], event["external_ref"]) == (
        sid,
        "approved",
        "user_456",
    )
    assert event["identity_id"].startswith("identity_")
    assert event["result"]["face_match_passed"] is True
    assert event["result"]["extracted_data"]["first_name"] == "Ana"
    assert event["created_at"] == "2026-02-01T12:01:00Z"
    assert verifa.sink.events == ["session.created", "session.started", "session.approved"]
    keys = {body["idempotency_key"] for body in verifa.sink.bodies}
    assert len(keys) == 3 and all(key.startswith("idk_") for key in keys)


@pytest.mark.parametrize(
    ("actions", "status", "event", "event_status"),
    [
        (("open", "submit", "decline"), "completed", "session.declined", "declined"),
        (("open", "submit", "review"), "under_review", "session.requires-review", "needs_review"),
        (("expire",), "expired", "session.expired", "expired"),
        (("open", "expire"), "expired", "session.expired", "expired"),
        (("open", "submit", "hold", "approve"), "completed", "session.approved", "approved"),
    ],
)
async def test_each_documented_change_fires_its_event(
    verifa: Harness, actions: tuple[str, ...], status: str, event: str, event_status: str
) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, *actions)
    body = signed(verifa)
    assert (body["event"], body["status"], body["session_id"]) == (event, event_status, sid)
    assert (await verifa.get(sid))["status"] == status


async def test_decline_carries_a_rejection_reason(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, "open", "submit")
    response = await verifa.simulate(sid, "decline", rejection_reason="document_expired")
    assert response.status_code == 200
    event = signed(verifa)
    assert event["rejection_reason"] == "document_expired"
    result = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert (result["status"], result["rejection_reason"]) == ("rejected", "document_expired")
    other = (await verifa.create())["id"]
    await verifa.drive(other, "open", "submit", "decline")
    assert signed(verifa)["rejection_reason"] == "face_mismatch"


async def test_the_control_body_names_it_reason_like_every_sandbox(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, "open", "submit")
    response = await verifa.simulate(sid, "decline", reason="document_expired")
    assert response.status_code == 200
    assert signed(verifa)["rejection_reason"] == "document_expired"
    refused = await verifa.simulate(sid, "decline", reason=3)
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "actions",
    [("open", "submit", "fail"), ("open", "submit", "hold")],
)
async def test_changes_without_a_documented_event_send_nothing(
    verifa: Harness, actions: tuple[str, ...]
) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, *actions[:-1])
    before = len(verifa.sink.requests)
    response = await verifa.simulate(sid, actions[-1])
    assert response.json()["webhook"] == {"delivered": False, "status_code": None}
    await asyncio.sleep(0.05)
    assert len(verifa.sink.requests) == before


async def test_review_then_a_reviewer_decision(verifa: Harness) -> None:
    sid = (await verifa.create(external_ref="u-9"))["id"]
    await verifa.drive(sid, "open", "submit", "review")
    session = await verifa.get(sid)
    assert session["status"] == "under_review"
    assert session["case_id"].startswith("case_") and session["case_status"] == "open"
    review = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert review["status"] == "needs_review"
    await verifa.drive(sid, "approve")
    event = signed(verifa)
    # A case (manual) approval sends the minimal payload: no identity_id, no result.
    assert (event["event"], event["status"]) == ("session.approved", "approved")
    assert "result" not in event and "identity_id" not in event
    session = await verifa.get(sid)
    assert (session["status"], session["case_status"]) == ("completed", "approved")


@pytest.mark.parametrize("signature_format", ["v1", "legacy"])
@pytest.mark.parametrize("payload_shape", ["flat", "nested"])
async def test_both_signature_forms_and_both_payload_shapes(
    verifa: Harness, signature_format: str, payload_shape: str
) -> None:
    response = await verifa.settings(signature_format=signature_format, payload_shape=payload_shape)
    assert response.json() == {
        "signature_format": signature_format,
        "payload_shape": payload_shape,
        "payload_inflection": "snake",
        "rate_limit_per_minute": None,
    }
    sid = (await verifa.create(external_ref="user_abc123"))["id"]
    await verifa.drive(sid, "open", "submit", "decline")
    legacy = signature_format == "legacy"
    bodies = [signed(verifa, i, legacy=legacy) for i in range(len(verifa.sink.requests))]
    last = bodies[-1]
    if payload_shape == "nested":
        assert set(last) == {"event", "data", "created_at"}
        assert last["event"] == "session.declined"
        assert set(last["data"]) >= {
            "session_id",
            "external_ref",
            "status",
            "is_sandbox",
            "created_at",
        }
        assert (last["data"]["session_id"], last["data"]["status"]) == (sid, "declined")
        assert last["data"]["created_at"] == "2026-02-01T12:00:00Z"  # the session's
        assert [b["event"] for b in bodies] == [
            "session.created",
            "session.started",
            "session.declined",
        ]
    else:
        assert FLAT_KEYS <= set(last)
        assert (last["event"], last["session_id"], last["status"]) == (
            "session.declined",
            sid,
            "declined",
        )


async def test_settings_can_also_be_chosen_at_construction(make: Factory) -> None:
    verifa = make(signature_format="legacy", payload_shape="nested")
    sid = (await verifa.create())["id"]
    body = signed(verifa, legacy=True)
    assert body["data"]["session_id"] == sid


async def test_payload_inflection_is_a_setting(verifa: Harness) -> None:
    await verifa.settings(payload_inflection="camel")
    await verifa.create(external_ref="x")
    body = signed(verifa)
    assert {"sessionId", "externalRef", "isSandbox", "idempotencyKey"} <= set(body)


@pytest.mark.parametrize(
    "body",
    [
        {"signature_format": "v2"},
        {"payload_shape": "deep"},
        {"colour": "red"},
        {"rate_limit_per_minute": 0},
        {},
        [],
    ],
)
async def test_bad_settings_are_400(verifa: Harness, body: Any) -> None:
    response = await verifa.client.post("/sandbox-settings", json=body)
    assert response.status_code == 400
    assert (await verifa.client.get("/sandbox-settings")).json()["signature_format"] == "v1"


async def test_failed_delivery_is_retried_with_the_same_body_and_ids(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    verifa.sink.script = [503, 404]
    opened = await verifa.simulate(sid, "open")
    assert opened.json()["webhook"] == {"delivered": False, "status_code": 503}
    verifa.clock.advance(30)
    # The next change waits behind the retries of the first one: order is kept.
    await verifa.drive(sid, "submit")
    expired = await verifa.simulate(sid, "approve")
    assert expired.json()["webhook"] == {"delivered": True, "status_code": 200}
    assert verifa.sink.events == [
        "session.created",
        "session.started",
        "session.started",  # any non-2xx is retried (api-details/webhooks), 404 included
        "session.started",
        "session.approved",
    ]
    attempts = verifa.sink.requests[1:4]
    assert len({r.content for r in attempts}) == 1  # byte-identical body
    assert len({r.headers["x-verifa-delivery-id"] for r in attempts}) == 1
    for request in attempts:
        assert_signed_by_verifa(request, verifa.sandbox.webhook_secret, verifa.clock())
    delivery_ids = {r.headers["x-verifa-delivery-id"] for r in verifa.sink.requests}
    assert len(delivery_ids) == 3


@pytest.mark.parametrize(
    "failure",
    [500, 400, httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["500", "400", "connect", "timeout"],
)
async def test_transient_failures_are_retried(verifa: Harness, failure: int | Exception) -> None:
    sid = (await verifa.create())["id"]
    verifa.sink.script = [failure]
    response = await verifa.simulate(sid, "open")
    webhook = response.json()["webhook"]
    assert webhook["delivered"] is False
    assert webhook["status_code"] == (failure if isinstance(failure, int) else None)
    await verifa.sink.wait_for(3)
    assert verifa.sink.events[1:] == ["session.started", "session.started"]


# -- control endpoint errors -----------------------------------------------------------------


# -- Verifa's own simulate, external gate -------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status", "event"),
    [
        ("approve", "completed", "session.approved"),
        ("decline", "completed", "session.declined"),
        ("require-review", "under_review", "session.requires-review"),
        ("expire", "expired", "session.expired"),
    ],
)
async def test_documented_simulate_endpoint(
    verifa: Harness, action: str, status: str, event: str
) -> None:
    sid = (await verifa.create())["id"]  # straight from pending, like the official demo
    response = await verifa.call("POST", f"/sessions/{sid}/simulate", json={"action": action})
    assert response.status_code == 200
    # "Simulation applied.": {id, action, status (the session's new one), simulated}
    assert response.json() == {"id": sid, "action": action, "status": status, "simulated": True}
    assert signed(verifa)["event"] == event
    bad = await verifa.call("POST", f"/sessions/{sid}/simulate", json={"action": "open"})
    assert bad.status_code == 422


#: Submit external gate decision
#: (https://docs.withverifa.com/api-reference/sessions/submit-external-decision): the session
#: "must be in `awaiting_external` status"; body {decision, metadata}; answer {session_id,
#: decision, status, message}; errors 409, 422.
GATE_ANSWER_KEYS = {"session_id", "decision", "status", "message"}


async def _at_the_gate(verifa: Harness) -> str:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, "open", "submit", "await_external")
    return sid


async def test_pausing_at_the_gate_fires_session_awaiting_external(verifa: Harness) -> None:
    """ "the session status changes to awaiting_external and a session.awaiting_external webhook
    is fired" (https://docs.withverifa.com/core-concepts/workflows, Wait node)."""
    sid = await _at_the_gate(verifa)
    event = signed(verifa)
    assert (event["event"], event["session_id"], event["status"]) == (
        "session.awaiting_external",
        sid,
        "awaiting_external",
    )


async def test_continue_resumes_the_workflow(verifa: Harness) -> None:
    sid = await _at_the_gate(verifa)
    before = len(verifa.sink.requests)
    path = f"/sessions/{sid}/external-decision"
    go_on = await verifa.call("POST", path, json={"decision": "continue", "metadata": {"k": 1}})
    assert go_on.status_code == 200
    assert set(go_on.json()) == GATE_ANSWER_KEYS
    assert (go_on.json()["decision"], go_on.json()["status"]) == ("continue", "processing")
    session = await verifa.get(sid)
    assert session["status"] == "processing"
    assert session["metadata"] == {}  # "Stored on the workflow run", not the session's
    await asyncio.sleep(0.05)
    assert len(verifa.sink.requests) == before  # no event for → processing
    again = await verifa.call("POST", path, json={"decision": "continue"})
    assert again.status_code == 409
    await verifa.drive(sid, "approve")  # the rest of the workflow
    assert signed(verifa)["event"] == "session.approved"


async def test_reject_rejects_at_once(verifa: Harness) -> None:
    sid = await _at_the_gate(verifa)
    path = f"/sessions/{sid}/external-decision"
    rejected = await verifa.call("POST", path, json={"decision": "reject"})
    assert rejected.json()["status"] == "completed"
    event = signed(verifa)
    assert (event["event"], event["status"]) == ("session.declined", "declined")
    result = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert (result["status"], result["rejection_reason"]) == ("rejected", "external_rejected")


async def test_fail_applies_the_gate_steps_on_fail_action(verifa: Harness) -> None:
    """ "`fail` — apply the gate step's `on_fail` action (e.g. review, reject, or jump to another
    step)": the sandbox workflow's is review (inferred), not the `failed` status ("An
    unrecoverable error occurred during workflow execution")."""
    sid = await _at_the_gate(verifa)
    failed = await verifa.call(
        "POST", f"/sessions/{sid}/external-decision", json={"decision": "fail"}
    )
    assert failed.json()["status"] == "under_review"
    assert signed(verifa)["event"] == "session.requires-review"
    session = await verifa.get(sid)
    assert session["case_id"].startswith("case_") and session["case_status"] == "open"


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "maybe"},
        {},
        {"decision": "continue", "metadata": [1]},
        {"decision": "continue", "x": 1},
    ],
)
async def test_external_decision_validation_is_422(verifa: Harness, body: dict[str, Any]) -> None:
    sid = await _at_the_gate(verifa)
    response = await verifa.call("POST", f"/sessions/{sid}/external-decision", json=body)
    assert response.status_code == 422
    assert (await verifa.get(sid))["status"] == "awaiting_external"


async def test_no_external_decision_away_from_the_gate(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    response = await verifa.call(
        "POST", f"/sessions/{sid}/external-decision", json={"decision": "reject"}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "invalid_session_state"


# -- review cases (https://docs.withverifa.com/core-concepts/cases) ------------------------------
#: The case fields approve / reject answer (…/api-reference/cases/approve-case).
CASE_KEYS = {
    "id",
    "session_id",
    "status",
    "created_at",
    "decision",
    "assigned_to",
    "claimed_at",
    "entered_review_at",
    "decided_at",
}


async def _in_review(verifa: Harness) -> tuple[str, str]:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, "open", "submit", "review")
    return sid, (await verifa.get(sid))["case_id"]


async def test_claim_then_approve_a_case(verifa: Harness) -> None:
    sid, case = await _in_review(verifa)
    verifa.clock.advance(60)
    claimed = await verifa.call(
        "POST", f"/cases/{case}/claim", json={"reviewer_id": "orguser_abc123"}
    )
    assert claimed.status_code == 200
    body = claimed.json()
    assert set(body) == CASE_KEYS
    assert (body["id"], body["session_id"], body["status"]) == (case, sid, "in_review")
    assert (body["assigned_to"], body["claimed_at"]) == ("orguser_abc123", "2026-02-01T12:01:00Z")
    again = await verifa.call(
        "POST", f"/cases/{case}/claim", json={"reviewer_id": "orguser_abc123"}
    )
    assert again.status_code == 200  # the same reviewer may claim again
    approved = await verifa.call(
        "POST", f"/cases/{case}/approve", json={"reviewer_id": "orguser_abc123", "notes": "ok"}
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decision"]) == ("approved", "approved")
    assert approved.json()["decided_at"] == "2026-02-01T12:01:00Z"
    event = signed(verifa)
    # "case API approvals send a minimal payload" (tutorials/handling-webhook-events)
    assert (event["event"], event["status"]) == ("session.approved", "approved")
    assert "result" not in event and "identity_id" not in event
    session = await verifa.get(sid)
    assert (session["status"], session["case_status"]) == ("completed", "approved")
    final = await verifa.call(
        "POST", f"/cases/{case}/reject", json={"reviewer_id": "orguser_abc123"}
    )
    assert final.status_code == 409  # final statuses: approved, rejected


async def test_reject_a_case_with_a_reason(verifa: Harness) -> None:
    sid, case = await _in_review(verifa)
    rejected = await verifa.call(
        "POST",
        f"/cases/{case}/reject",
        json={"reviewer_id": "orguser_abc123", "rejection_reason": "document_expired"},
    )
    assert rejected.json()["status"] == "rejected"
    event = signed(verifa)
    assert (event["event"], event["rejection_reason"]) == ("session.declined", "document_expired")
    result = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert (result["status"], result["rejection_reason"]) == ("rejected", "document_expired")


async def test_a_case_claimed_by_another_reviewer_is_409(verifa: Harness) -> None:
    _, case = await _in_review(verifa)
    await verifa.call("POST", f"/cases/{case}/claim", json={"reviewer_id": "orguser_a"})
    for action in ("claim", "approve", "reject"):
        response = await verifa.call(
            "POST", f"/cases/{case}/{action}", json={"reviewer_id": "orguser_b"}
        )
        assert response.status_code == 409, action


@pytest.mark.parametrize(
    "body", [{}, {"reviewer_id": ""}, {"reviewer_id": 7}, {"reviewer_id": "u", "block": True}]
)
async def test_case_decision_validation_is_422(verifa: Harness, body: dict[str, Any]) -> None:
    _, case = await _in_review(verifa)
    response = await verifa.call("POST", f"/cases/{case}/approve", json=body)
    assert response.status_code == 422


async def test_unknown_case_is_404(verifa: Harness) -> None:
    response = await verifa.call("POST", "/cases/case_nope/claim", json={"reviewer_id": "u"})
    assert (response.status_code, response.json()["error"]) == (404, "not_found")


async def test_a_resubmission_sends_the_person_back_to_capture(verifa: Harness) -> None:
    """`session.resubmission-required` is a listed session event; that it sends the session back
    to `pending` with a fresh capture link is inferred."""
    created = await verifa.create()
    sid = created["id"]
    await verifa.drive(sid, "open", "submit", "require_resubmission")
    event = signed(verifa)
    assert (event["event"], event["session_id"], event["status"]) == (
        "session.resubmission-required",
        sid,
        "pending",
    )
    session = await verifa.get(sid)
    assert session["status"] == "pending"
    assert session["capture_url"] and session["capture_url"] != created["capture_url"]
    await verifa.drive(sid, "open")
    assert signed(verifa)["event"] == "session.started"


# -- result, expire, resume, reprocess ------------------------------------------------------------


async def test_result_is_404_until_there_is_one(verifa: Harness) -> None:
    sid = (await verifa.create(country="GB", fields={"date_of_birth": "2010-05-01"}))["id"]
    for actions in ((), ("open",), ("submit",)):
        await verifa.drive(sid, *actions)
        response = await verifa.call("GET", f"/sessions/{sid}/result")
        assert (response.status_code, response.json()) == (
            404,
            {"error": "not_found", "detail": "No result yet", "status_code": 404},
        )
    await verifa.drive(sid, "approve")
    result = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert (result["session_id"], result["status"], result["is_sandbox"]) == (sid, "approved", True)
    assert result["extracted_data"]["date_of_birth"] == "2010-05-01"
    assert (result["extracted_age"], result["age_check_passed"]) == (15, False)
    assert result["country_used"] == "GB"
    assert 0 <= result["face_match_score"] <= 1
    assert result["rejection_reason"] is None


async def test_expire_answers_the_documented_body(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    verifa.clock.advance(5)
    response = await verifa.call("POST", f"/sessions/{sid}/expire")
    assert (response.status_code, response.json()) == (
        200,
        {"id": sid, "status": "expired", "expired_at": "2026-02-01T12:00:05Z"},
    )
    assert signed(verifa)["event"] == "session.expired"
    session = await verifa.get(sid)
    assert (session["status"], session["capture_url"]) == ("expired", None)


@pytest.mark.parametrize(
    ("actions", "state"),
    [
        (("open", "submit", "approve"), "completed"),
        (("open", "submit", "fail"), "failed"),
        (("expire",), "expired"),
    ],
)
async def test_expire_a_finished_session_is_409(
    verifa: Harness, actions: tuple[str, ...], state: str
) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, *actions)
    response = await verifa.call("POST", f"/sessions/{sid}/expire")
    assert response.status_code == 409
    assert response.json() == {
        "error": "invalid_session_state",
        "detail": f"Session is {state} and cannot be expired.",
        "status_code": 409,
    }


async def test_expire_a_redacted_session_is_409(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    await verifa.call("DELETE", f"/sessions/{sid}/data")
    response = await verifa.call("POST", f"/sessions/{sid}/expire")
    assert response.status_code == 409
    assert set(response.json()) == {"error", "detail", "status_code"}


async def test_capture_token_running_out_expires_the_session(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    verifa.clock.advance(19 * 60)
    assert (await verifa.get(sid))["status"] == "pending"
    verifa.clock.advance(5 * 60)
    session = await verifa.get(sid)
    assert session["status"] == "expired"
    assert session["updated_at"] == "2026-02-01T12:20:00Z"  # when the token ran out
    await verifa.sink.wait_for(2)
    assert verifa.sink.events == ["session.created", "session.expired"]
    assert signed(verifa)["created_at"] == "2026-02-01T12:20:00Z"
    expire = await verifa.call("POST", f"/sessions/{sid}/expire")
    assert expire.status_code == 409


async def test_resume_an_expired_session_gives_a_new_capture_url(verifa: Harness) -> None:
    created = await verifa.create()
    sid = created["id"]
    await verifa.drive(sid, "open", "expire")
    before = len(verifa.sink.requests)
    verifa.clock.advance(3600)
    response = await verifa.call("POST", f"/sessions/{sid}/resume")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "status", "capture_url", "expires_at", "qr_code_data_url"}
    assert (body["id"], body["status"]) == (sid, "pending")
    assert body["capture_url"] != created["capture_url"]
    assert body["capture_url"].startswith(f"{PUBLIC}/verify/tok_")
    assert body["expires_at"] == "2026-02-01T13:20:00Z"
    decode_png(body["qr_code_data_url"])
    assert body["qr_code_data_url"] != created["qr_code_data_url"]
    assert len(verifa.sink.requests) == before  # no documented event for a resume
    old = await verifa.client.get(_page_path(created["capture_url"]))
    assert old.status_code == 404
    new = await verifa.client.get(_page_path(body["capture_url"]))
    assert new.status_code == 200 and "pending" in new.text
    await verifa.drive(sid, "open")  # the flow starts over
    assert signed(verifa)["event"] == "session.started"


async def test_resume_an_abandoned_capture(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, "open")
    response = await verifa.call("POST", f"/sessions/{sid}/resume")
    assert (response.status_code, response.json()["status"]) == (200, "pending")


@pytest.mark.parametrize(
    "actions", [(), ("open", "submit"), ("open", "submit", "approve"), ("open", "submit", "fail")]
)
async def test_resume_other_sessions_is_409(verifa: Harness, actions: tuple[str, ...]) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, *actions)
    response = await verifa.call("POST", f"/sessions/{sid}/resume")
    assert response.status_code == 409
    assert response.json()["error"] == "invalid_session_state"


async def test_reprocess_a_completed_session_reruns_to_the_same_outcome(verifa: Harness) -> None:
    sid = (await verifa.create(external_ref="u"))["id"]
    await verifa.drive(sid, "open", "submit", "decline")
    response = await verifa.call("POST", f"/sessions/{sid}/reprocess")
    assert (response.status_code, response.json()) == (
        202,
        {"session_id": sid, "status": "processing"},
    )
    await verifa.sandbox.idle()
    session = await verifa.get(sid)
    assert (session["status"], session["processing_attempts"]) == ("completed", 2)
    event = signed(verifa)
    assert (event["event"], event["status"]) == ("session.declined", "declined")
    assert "result" not in event  # an auto-retry completion sends the minimal payload
    result = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert result["status"] == "rejected"


async def test_reprocess_a_failed_session_waits_for_an_outcome(verifa: Harness) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, "open", "submit", "fail")
    response = await verifa.call("POST", f"/sessions/{sid}/reprocess")
    assert response.status_code == 202
    await verifa.sandbox.idle()
    assert (await verifa.get(sid))["status"] == "sandbox_pending"
    await verifa.drive(sid, "approve")
    assert signed(verifa)["event"] == "session.approved"


@pytest.mark.parametrize("actions", [(), ("open",), ("open", "submit"), ("expire",)])
async def test_reprocess_an_unfinished_session_is_409(
    verifa: Harness, actions: tuple[str, ...]
) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, *actions)
    response = await verifa.call("POST", f"/sessions/{sid}/reprocess")
    assert response.status_code == 409


# -- one-time link, update, list, redact --------------------------------------------------------


async def test_one_time_link_replaces_the_capture_url(verifa: Harness) -> None:
    created = await verifa.create()
    sid = created["id"]
    verifa.clock.advance(10)
    response = await verifa.call(
        "POST", f"/sessions/{sid}/generate-one-time-link", json={"expires_in_minutes": 90}
    )
    assert response.status_code == 200
    link = response.json()
    assert set(link) == {
        "id",
        "session_id",
        "capture_url",
        "status",
        "expires_at",
        "created_at",
        "qr_code_data_url",
    }
    assert link["id"].startswith("link_") and link["session_id"] == sid
    assert link["capture_url"] != created["capture_url"]
    assert (link["created_at"], link["expires_at"]) == (
        "2026-02-01T12:00:10Z",
        "2026-02-01T13:30:10Z",
    )
    decode_png(link["qr_code_data_url"])
    event = signed(verifa)
    assert (event["event"], event["session_id"], event["status"]) == (
        "session.link_generated",
        sid,
        "pending",
    )
    session = await verifa.get(sid)
    assert session["capture_url"] == link["capture_url"]
    assert session["token_expires_at"] == link["expires_at"]
    # "Revokes any previous link": the old URL is dead, the new one works.
    assert (await verifa.client.get(_page_path(created["capture_url"]))).status_code == 404
    assert (await verifa.client.get(_page_path(link["capture_url"]))).status_code == 200
    second = (await verifa.call("POST", f"/sessions/{sid}/generate-one-time-link", json={})).json()
    assert (await verifa.client.get(_page_path(link["capture_url"]))).status_code == 404
    # "Defaults to the platform session expiry": the capture token's 20 minutes.
    assert second["expires_at"] == "2026-02-01T12:20:10Z"
    third = await verifa.call(
        "POST", f"/sessions/{sid}/generate-one-time-link", json={"expires_in_minutes": None}
    )
    assert third.json()["expires_at"] == "2026-02-01T12:20:10Z"  # "integer or null"


async def test_one_time_link_expects_an_object(verifa: Harness) -> None:
    """ "This endpoint expects an object." (…/api-reference/sessions/generate-session-link)."""
    sid = (await verifa.create())["id"]
    for content in (b"", b"[]", b'"x"'):
        response = await verifa.call(
            "POST", f"/sessions/{sid}/generate-one-time-link", content=content
        )
        assert response.status_code == 422, content
    assert "session.link_generated" not in verifa.sink.events


@pytest.mark.parametrize("actions", [("open", "submit", "approve"), ("open", "submit", "fail")])
async def test_one_time_link_refused_once_capture_is_over(
    verifa: Harness, actions: tuple[str, ...]
) -> None:
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, *actions)
    response = await verifa.call("POST", f"/sessions/{sid}/generate-one-time-link", json={})
    assert response.status_code == 409


@pytest.mark.parametrize("minutes", [0, -5, "10", 10**6, True])
async def test_one_time_link_validates_expiry(verifa: Harness, minutes: Any) -> None:
    sid = (await verifa.create())["id"]
    response = await verifa.call(
        "POST", f"/sessions/{sid}/generate-one-time-link", json={"expires_in_minutes": minutes}
    )
    assert response.status_code == 422


async def test_update_merges_metadata(verifa: Harness) -> None:
    sid = (await verifa.create(external_ref="a", metadata={"plan": "basic", "keep": 1}))["id"]
    before = len(verifa.sink.requests)
    verifa.clock.advance(7)
    response = await verifa.call(
        "PATCH",
        f"/sessions/{sid}",
        json={"metadata": {"plan": "premium", "keep": None, "new": {"x": [1]}}},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"] == {"plan": "premium", "new": {"x": [1]}}
    assert (body["external_ref"], body["updated_at"]) == ("a", "2026-02-01T12:00:07Z")
    renamed = await verifa.call("PATCH", f"/sessions/{sid}", json={"external_ref": "b"})
    assert renamed.json()["external_ref"] == "b"
    assert renamed.json()["metadata"] == {"plan": "premium", "new": {"x": [1]}}
    assert len(verifa.sink.requests) == before  # no webhook for an update
    for bad in ({"status": "completed"}, {"metadata": "x"}, {}):
        assert (await verifa.call("PATCH", f"/sessions/{sid}", json=bad)).status_code == 422


async def test_list_paginates_newest_first_and_filters(verifa: Harness) -> None:
    created = []
    for i in range(5):
        created.append(await verifa.create(external_ref=f"user-{i}"))
        verifa.clock.advance(1)
    await verifa.drive(created[1]["id"], "open", "submit", "approve")
    page = (await verifa.call("GET", "/sessions?limit=2")).json()
    assert page["pagination"] == {"total": 5, "limit": 2, "offset": 0}
    assert [r["id"] for r in page["data"]] == [created[4]["id"], created[3]["id"]]
    assert page["data"][0] == await verifa.get(created[4]["id"])
    last = (await verifa.call("GET", "/sessions?limit=2&offset=4")).json()
    assert [r["id"] for r in last["data"]] == [created[0]["id"]]
    assert last["pagination"] == {"total": 5, "limit": 2, "offset": 4}
    default = (await verifa.call("GET", "/sessions")).json()
    assert default["pagination"]["limit"] == 50
    capped = (await verifa.call("GET", "/sessions?limit=500")).json()
    assert capped["pagination"]["limit"] == 100
    done = (await verifa.call("GET", "/sessions", params={"status": "completed"})).json()
    assert [r["id"] for r in done["data"]] == [created[1]["id"]]
    by_ref = (await verifa.call("GET", "/sessions", params={"q": "user-3"})).json()
    assert [r["id"] for r in by_ref["data"]] == [created[3]["id"]]
    by_id = (await verifa.call("GET", "/sessions", params={"q": created[2]["id"]})).json()
    assert by_id["pagination"]["total"] == 1
    for bad in ("limit=0", "limit=x", "offset=-1", "status=weird"):
        assert (await verifa.call("GET", f"/sessions?{bad}")).status_code == 422


async def test_redact_removes_pii_once(verifa: Harness) -> None:
    created = await verifa.create(external_ref="u1", fields={"first_name": "Ana"})
    sid = created["id"]
    await verifa.drive(sid, "open", "submit", "approve")
    response = await verifa.call("DELETE", f"/sessions/{sid}/data")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "session_id", "documents_removed", "message"}
    assert (body["status"], body["session_id"], body["documents_removed"]) == ("redacted", sid, 3)
    event = signed(verifa)
    assert (event["event"], event["session_id"]) == ("session.redacted", sid)
    session = await verifa.get(sid)
    assert (session["retention_status"], session["consent_ip"]) == ("redacted", None)
    result = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert result["status"] == "approved"  # the decision stays, the person goes
    assert (result["extracted_data"], result["sensitive_data_expired"]) == ({}, True)
    again = await verifa.call("DELETE", f"/sessions/{sid}/data")
    assert again.status_code == 200 and again.json()["documents_removed"] == 0
    assert verifa.sink.events.count("session.redacted") == 1
    for method, path in (
        ("PATCH", f"/sessions/{sid}"),
        ("POST", f"/sessions/{sid}/reprocess"),
        ("POST", f"/sessions/{sid}/resume"),
    ):
        refused = await verifa.call(method, path, json={"metadata": {"a": 1}})
        assert refused.status_code == 409, path
    assert (await verifa.client.get(_page_path(created["capture_url"]))).status_code == 404


async def test_rate_limit_when_switched_on(verifa: Harness) -> None:
    assert "x-ratelimit-limit" not in (await verifa.call("GET", "/sessions")).headers
    await verifa.settings(rate_limit_per_minute=2)
    verifa.clock.advance(15)
    first = await verifa.call("GET", "/sessions")
    assert first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    await verifa.call("GET", "/sessions")
    limited = await verifa.call("GET", "/sessions")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "45"
    assert limited.json() == {
        "error": "rate_limited",
        "detail": "Rate limit exceeded. Retry after 45 seconds.",
        "status_code": 429,
    }
    verifa.clock.advance(45)
    assert (await verifa.call("GET", "/sessions")).status_code == 200


# -- hosted page ------------------------------------------------------------------------------


def _page_path(capture_url: str) -> str:
    return urlsplit(capture_url).path.removeprefix("/sandbox/verifa")


async def test_hosted_page_renders_status_and_escapes_everything(verifa: Harness) -> None:
    created = await verifa.create(
        external_ref="<script>alert(1)</script>",
        metadata={"note": "<img src=x onerror=alert(2)>", "q": "\"'&"},
    )
    page = await verifa.client.get(_page_path(created["capture_url"]))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "Verifa sandbox" in html and "pending" in html
    assert "Start capture" in html and "Approve" not in html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "http" not in html.split("</style>")[1]  # no external assets, no absolute links
    await verifa.drive(created["id"], "open")
    html = (await verifa.client.get(_page_path(created["capture_url"]))).text
    assert "Submit documents" in html and "Start capture" not in html
    await verifa.drive(created["id"], "submit")
    html = (await verifa.client.get(_page_path(created["capture_url"]))).text
    for label in ("Approve", "Decline", "Needs review", "Fail"):
        assert label in html


async def test_hosted_flow_through_the_gateway_mount(verifa: Harness) -> None:
    async with verifa.through_the_gateway() as client:
        created = (
            await client.post("/sandbox/verifa/api/v1/sessions", json={}, headers=verifa.headers)
        ).json()
        path = urlsplit(created["capture_url"]).path
        assert path.startswith("/sandbox/verifa/verify/tok_")
        target = await form_target(client, path)
        for step, status in (
            ("open", "capturing"),
            ("submit", "processing"),
            ("review", "under_review"),
        ):
            moved = await client.post(target, data={"action": step})
            assert (moved.status_code, moved.headers["location"]) == (303, path)
            assert status in (await client.get(path)).text
        decided = await client.post(target, data={"action": "approve"})
        assert decided.status_code == 303
        html = (await client.get(path)).text
        assert "completed" in html and "approved" in html and "<form" not in html
    await verifa.sink.wait_for(4)
    assert verifa.sink.events == [
        "session.created",
        "session.started",
        "session.requires-review",
        "session.approved",
    ]


async def test_hosted_page_unknown_token_is_404(verifa: Harness) -> None:
    unknown = await verifa.client.get("/verify/tok_nope")
    assert unknown.status_code == 404 and "Verifa sandbox" in unknown.text
    posted = await verifa.client.post("/verify/tok_nope/action", data={"action": "open"})
    assert posted.status_code == 404


# -- persistence ------------------------------------------------------------------------------


async def test_sessions_survive_a_restart(make: Factory, tmp_path: Path) -> None:
    state = tmp_path / "state" / "verifa.json"
    first = make(state_path=str(state))
    await first.settings(signature_format="legacy", payload_shape="nested")
    created = await first.create(external_ref="user-1", metadata={"k": "v"})
    sid = created["id"]
    await first.drive(sid, "open", "submit", "review")
    keyed = await first.call(
        "POST", "/sessions", json={"external_ref": "k"}, headers={"Idempotency-Key": "same"}
    )
    session = await first.get(sid)
    result = (await first.call("GET", f"/sessions/{sid}/result")).json()
    await first.sandbox.aclose()
    assert json.loads(state.read_text())["sessions"]
    assert [p.name for p in state.parent.iterdir()] == ["verifa.json"]  # no temp files left

    second = make(state_path=str(state))
    assert await second.get(sid) == session
    assert (await second.call("GET", f"/sessions/{sid}/result")).json() == result
    page = await second.client.get(_page_path(created["capture_url"]))
    assert page.status_code == 200 and "under_review" in page.text
    replay = await second.call(
        "POST", "/sessions", json={"external_ref": "k"}, headers={"Idempotency-Key": "same"}
    )
    assert replay.json() == keyed.json()
    assert (await second.client.get("/sandbox-settings")).json()["payload_shape"] == "nested"
    await second.drive(sid, "approve")
    await second.sink.wait_for(1)
    body = assert_signed_by_verifa(
        second.sink.requests[-1], second.sandbox.webhook_secret, second.clock(), legacy=True
    )
    assert body["data"]["session_id"] == sid


# -- documented shapes (the cassettes hold the vendor's documented payloads) -----------------

#: Keys the emulator sends beyond the cassettes' examples, each documented on another of
#: Verifa's pages (docs/vendors/verifa.md, Sources). Anything else extra is drift.
DOCUMENTED_EXTRAS = frozenset(
    {
        "$.external_ref",  # create: "reference adds external_ref, tags"
        "$.tags",
        # result: the documented field list (the sandbox example shows a subset)
        "$.created_at",
        "$.rejection_reason",
        # result: `check_results` (verifications-checks page) and `rejection_reason_code`
        # (list-results example, reject-case page): docs/vendors/verifa.md, Results
        "$.check_results",
        "$.rejection_reason_code",
        "$.processing_mode",
        "$.country_used",
        "$.sensitive_data_expired",
        "$.extracted_data.address",
        "$.extracted_data.document_number",
        "$.extracted_data.nationality",
        "$.extracted_data.gender",
        "$.extracted_data.ssn",
        "$.extracted_data.document_expiration_date",
        "$.extracted_data.document_issuing_state",
    }
)


def cassette(name: str, index: int = 0) -> tuple[dict[str, Any], Any]:
    return interaction(CASSETTES, name, index)


#: Request fields GET session echoes: the emulator's session is created with the doc's.
ECHOED = ("external_ref", "metadata", "country", "workflow_id", "checks")
#: How to bring a sandbox session to a documented status (control actions).
STATUS_ROUTE: dict[str, tuple[str, ...]] = {
    "pending": (),
    "capturing": ("open",),
    "processing": ("open", "submit"),
    "sandbox_pending": ("open", "submit", "hold"),
    "awaiting_external": ("open", "submit", "await_external"),
    "under_review": ("open", "submit", "review"),
    "completed": ("open", "submit", "approve"),
    "expired": ("expire",),
    "failed": ("open", "submit", "fail"),
}
RESULT_ROUTE = {
    "approved": ("open", "submit", "approve"),
    "rejected": ("open", "submit", "decline"),
    "needs_review": ("open", "submit", "review"),
}


async def test_create_matches_the_documented_response(verifa: Harness) -> None:
    request, documented = cassette("create_session_201.yaml")
    response = await verifa.call("POST", "/sessions", json=request_json(request))
    assert response.status_code == 201, response.text
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []


async def test_get_session_matches_the_documented_response(verifa: Harness) -> None:
    _, documented = cassette("get_session_200.yaml")
    echoed = {key: documented[key] for key in ECHOED if documented.get(key) is not None}
    sid = (await verifa.create(**echoed))["id"]
    await verifa.drive(sid, *STATUS_ROUTE[documented["status"]])
    actual = await verifa.get(sid)
    assert actual["status"] == documented["status"]
    assert shape_drift(documented, actual, extras=DOCUMENTED_EXTRAS) == []


async def test_result_matches_the_documented_response(verifa: Harness) -> None:
    _, documented = cassette("get_result_200.yaml")
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, *RESULT_ROUTE[documented["status"]])
    actual = (await verifa.call("GET", f"/sessions/{sid}/result")).json()
    assert actual["status"] == documented["status"]
    assert shape_drift(documented, actual, extras=DOCUMENTED_EXTRAS) == []


async def test_resume_matches_the_documented_response(verifa: Harness) -> None:
    _, documented = cassette("resume_200.yaml")
    sid = (await verifa.create())["id"]
    await verifa.drive(sid, "expire")
    response = await verifa.call("POST", f"/sessions/{sid}/resume")
    assert response.status_code == 200
    assert shape_drift(documented, response.json()) == []


async def test_one_time_link_matches_the_documented_response(verifa: Harness) -> None:
    request, documented = cassette("one_time_link_200.yaml")
    sid = (await verifa.create())["id"]
    response = await verifa.call(
        "POST", f"/sessions/{sid}/generate-one-time-link", json=request_json(request)
    )
    assert response.status_code == 200
    assert shape_drift(documented, response.json()) == []


async def test_list_matches_the_documented_page(verifa: Harness) -> None:
    """List sessions: `{data: [session…], pagination: {total, limit, offset}}`, each item the
    session object (the first documented item is a session under review, with its case)."""
    request, documented = cassette("list_pages_200.yaml")
    item = documented["data"][0]
    echoed = {key: item[key] for key in ECHOED if item.get(key) is not None}
    older = (await verifa.create(**echoed))["id"]
    verifa.clock.advance(1)
    newest = (await verifa.create(**echoed))["id"]
    await verifa.drive(newest, *STATUS_ROUTE[item["status"]])
    query = urlsplit(request["uri"]).query
    page = (await verifa.call("GET", f"/sessions?{query}")).json()
    assert [r["id"] for r in page["data"]] == [newest, older]
    assert page["data"][0]["status"] == item["status"]
    assert shape_drift(documented, page, extras=DOCUMENTED_EXTRAS) == []


async def test_list_pages_follow_by_offset_to_the_last_page_newest_first(verifa: Harness) -> None:
    """What `list_page` walks: the next offset is this one plus the page's items, until
    `total`; every session once, newest first by creation time, also within one second."""
    created = []
    for _ in range(5):
        created.append((await verifa.create())["id"])
        verifa.clock.advance(0.25)  # 12:00:00Z, 12:00:00.250000Z, …: printed two ways
    seen: list[str] = []
    offset, pages = 0, 0
    while True:
        page = (await verifa.call("GET", f"/sessions?limit=2&offset={offset}")).json()
        pages += 1
        assert page["pagination"] == {"total": 5, "limit": 2, "offset": offset}
        seen += [r["id"] for r in page["data"]]
        offset += len(page["data"])
        if not page["data"] or offset >= page["pagination"]["total"]:
            break
    assert pages == 3
    assert seen == created[::-1]


#: Webhook keys beyond the documented examples: the event time (the tutorial's example is
#: cut, inferred) and documented result fields (get-session-result) the flat `result` also
#: carries.
WEBHOOK_EXTRAS = frozenset(
    {
        "$.created_at",
        "$.result.face_match_score",
        "$.result.check_results",  # verifications-checks: docs/vendors/verifa.md, Results
        "$.result.extracted_data.last_name",
        "$.result.extracted_data.date_of_birth",
        "$.result.extracted_data.document_type",
    }
)


@pytest.mark.parametrize(
    ("shape", "name"), [("flat", "webhook_flat.json"), ("nested", "webhook_nested.json")]
)
async def test_webhooks_match_the_documented_payloads(
    verifa: Harness, shape: str, name: str
) -> None:
    documented = json.loads((CASSETTES / name).read_text(encoding="utf-8"))["body"]
    await verifa.settings(payload_shape=shape)
    sid = (await verifa.create(external_ref="user_456"))["id"]
    await verifa.drive(sid, "open", "submit", "approve")
    actual = signed(verifa)
    assert actual["event"] == documented["event"]
    assert shape_drift(documented, actual, extras=WEBHOOK_EXTRAS) == []


def test_shape_check_detects_drift() -> None:
    _, documented = cassette("get_result_200.yaml")
    assert shape_drift(documented, json.loads(json.dumps(documented))) == []

    renamed = json.loads(json.dumps(documented))
    renamed["sessionId"] = renamed.pop("session_id")
    assert shape_drift(documented, renamed) == [
        "$.session_id: missing",
        "$.sessionId: not documented",
    ]

    retyped = json.loads(json.dumps(documented))
    retyped["face_match_score"] = str(retyped["face_match_score"])
    assert shape_drift(documented, retyped) == ["$.face_match_score: documented number, got string"]

    nested = json.loads(json.dumps(documented))
    nested["extracted_data"]["first_name"] = ["Jane"]
    assert shape_drift(documented, nested) == [
        "$.extracted_data.first_name: documented string, got array"
    ]

    flattened = json.loads(json.dumps(documented))
    flattened["extracted_data"] = "Jane Doe"
    assert shape_drift(documented, flattened) == ["$.extracted_data: documented object, got string"]

    # An emulator-only key passes only when listed as documented.
    extra = json.loads(json.dumps(documented))
    extra["processing_mode"] = "sandbox"
    extra["surprise"] = 1
    assert shape_drift(documented, extra, extras=DOCUMENTED_EXTRAS) == [
        "$.surprise: not documented"
    ]


class TestVerifaSandboxConformance(HostedPageConformance, SandboxConformance):
    page_refusals = ("approve", "expire", "abandon")
    provider = "verifa"
    lacking_actions = ("abandon",)
    supported_actions = ("open", "submit", "approve", "decline", "review", "expire", "fail")
    min_key_length = 40
    unknown_session_id = "ses_unknown"
    webhooks_on_create = 1  # session.created
    out_of_turn = [
        ((), "submit"),
        ((), "approve"),
        ((), "review"),
        ((), "fail"),
        (("open",), "open"),
        (("open",), "approve"),
        (("open", "submit"), "submit"),
        (("open", "submit", "approve"), "decline"),
        (("open", "submit", "approve"), "expire"),
        (("open", "submit", "fail"), "expire"),
        (("open", "submit", "review"), "review"),
        (("expire",), "open"),
    ]

    def check_refusal(self, response: httpx.Response, status: int) -> None:
        if status == 400:
            assert isinstance(response.json()["detail"], str)

    def check_handle(self, sandbox: VerifaSandbox, other: VerifaSandbox) -> None:
        # Case decisions are made as an org user: the adapter's reviewer_id option.
        assert dict(sandbox.options) == {"reviewer_id": "orguser_sandbox_gateway"}
        assert sandbox.api_key.startswith("vk_sandbox_")
        assert sandbox.webhook_secret.startswith("whsec_")
        with pytest.raises(ValueError):
            VerifaSandbox(
                SandboxConfig(public_base_url=PUBLIC, webhook_url=""), signature_format="v2"
            )

    async def after_retries_gave_up(self, harness: Harness, session_id: str) -> None:
        expired = await harness.simulate(session_id, "expire")
        assert expired.json()["webhook"] == {"delivered": False, "status_code": 503}

    async def personal_data_in_flight(self, harness: Harness) -> list[str]:
        harness.sink.script = [httpx.ConnectError("refused"), 503]
        created = await harness.create(
            external_ref="jane.doe@example.com",
            metadata={"pii": "Jane"},
            fields={"last_name": "Zed"},
        )
        await harness.drive(created["id"], "open", "submit", "approve")
        await harness.sandbox.idle()
        token = urlsplit(created["capture_url"]).path.rsplit("/", 1)[-1]
        return ["jane.doe", "Jane", "Zed", token]

    def check_out_of_turn(self, response: httpx.Response, where: Any, action: str) -> None:
        assert action in response.json()["detail"]

    async def hosted_page(self, harness: Harness) -> tuple[str, str]:
        created = await harness.create(redirect_url="https://app.test/done")
        return _page_path(created["capture_url"]), str(created["id"])

    async def after_page_refusals(self, harness: Harness, session_id: str, path: str) -> None:
        assert harness.sink.events == ["session.created"]
        await harness.drive(session_id, "open", "submit", "decline")
        html = (await harness.client.get(path)).text
        assert "href='https://app.test/done'" in html  # back to the integrator's redirect_url

    def lacking_text(self, response: httpx.Response, action: str) -> str:
        detail = response.json()["detail"]
        assert action in detail
        return str(detail)
