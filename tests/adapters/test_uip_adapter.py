"""UipAdapter against recorded UIP traffic (cassettes/uip) and a mock transport."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from adapters import base
from adapters.common.idempotency import derive_key
from adapters.common.scrub import EMAIL_PLACEHOLDER
from adapters.common.webhook_body import signed_body_key
from adapters.uip import inferred
from adapters.uip.adapter import UipAdapter, derive_steps
from adapters.uip.errors import Operation, create_field, map_error
from adapters.uip.statuses import VOCABULARY
from adapters.uip.wire import SessionResource
from tests.adapters.conformance import EmulatorConformance, Webhook
from tests.adapters.http_conformance import Call, ErrorReply, HttpConformance
from tests.adapters.test_uip_statuses import DESIGN_TABLE
from tests.adapters.uip_results_payloads import version_b_body
from tests.support.cassettes import assert_all_played, replayer
from tests.support.sandbox_harness import FakeClock, WebhookSink, asgi_client, emulator_config
from tests.support.scripted_vendor import LiveConfig, ScriptedVendor
from tests.support.signing.uip import TS, sign_webhook

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes" / "uip"
API_KEY = "test-api-key"
WEBHOOK_SECRET = "placeholder-signing-key"
NOW = datetime(2026, 6, 7, 12, 5, tzinfo=UTC)
BASE = "https://api.uip.digital/v1"
S1 = "sess_abc123"
#: Claim values of the documented examples (and our fixtures): they may only ever be in `raw`.
PII = ["Jane", "Doe", "Ada", "Lovelace", "1815-12-10"]


def idempotency_key(r1: Any, r2: Any) -> None:
    """vcr matcher: the same Idempotency-Key (or none on both)."""

    def key(request: Any) -> Any:
        headers = {k.lower(): v for k, v in request.headers.items()}
        value = headers.get("idempotency-key")
        return value[0] if isinstance(value, list) else value

    assert key(r1) == key(r2)


recorder = replayer(CASSETTES, ("method", "uri", "json_body", "idempotency_key"))
recorder.register_matcher("idempotency_key", idempotency_key)


make_config = LiveConfig(base_url=BASE, api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, now=NOW)


@pytest.fixture
async def uip() -> AsyncIterator[UipAdapter]:
    adapter = UipAdapter(make_config())
    yield adapter
    await adapter.aclose()


def doc_request(**overrides: Any) -> base.CreateSessionRequest:
    """The curl example of https://docs.uip.digital/api-reference/sessions/create, normalized."""
    values: dict[str, Any] = {
        "steps": (
            base.StepRequest(
                base.StepType.IDENTIFY, {"blocks": ["first_name", "last_name", "country"]}
            ),
            base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": 21}),
        ),
        "client_reference": "order_4815",
        "return_url": "https://shop.example.com/verified",
        "idempotency_key": "order_4815",
    }
    values.update(overrides)
    return base.CreateSessionRequest(**values)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((CASSETTES / name).read_text(encoding="utf-8"))


def signed_fixture(name: str, **overrides: Any) -> Webhook:
    data = fixture(name)
    overrides.setdefault("delivery_id", data["delivery_id"])
    return sign_webhook(data["body"], **overrides)


# -- a scriptable mock transport -----------------------------------------------------------------
class Script(ScriptedVendor):
    def adapter(self, **overrides: Any) -> UipAdapter:
        return UipAdapter(make_config(transport=self.transport(), **overrides))

    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


def no_network() -> UipAdapter:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no HTTP call expected, got {request.method} {request.url}")

    return UipAdapter(make_config(transport=httpx.MockTransport(refuse)))


CREATED = {
    "id": S1,
    "status": "created",
    "url": "https://uip.digital/s/sess_abc123",
    "expires": "2026-06-07T12:34:56Z",
}


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else CREATED, headers=headers)


def fail(
    status: int, error: str = "nope", code: str | None = None, **headers: str
) -> httpx.Response:
    body: dict[str, Any] = {"error": error}
    if code:
        body["code"] = code
    return httpx.Response(status, json=body, headers=headers)


def one_step(**overrides: Any) -> base.CreateSessionRequest:
    values: dict[str, Any] = {"steps": (base.StepRequest(base.StepType.IDENTIFY),)}
    values.update(overrides)
    return base.CreateSessionRequest(**values)


def session(status: str, **fields: Any) -> SessionResource:
    return SessionResource.model_validate({"id": S1, "status": status, **fields})


def sign_step(content: bytes = b"%PDF-1.7 contract") -> base.StepRequest:
    return base.StepRequest(
        base.StepType.SIGN, document=base.StepDocument("contract.pdf", "application/pdf", content)
    )


def states(steps: tuple[base.StepProgress, ...]) -> list[tuple[str, base.StepState, bool]]:
    return [(s.type, s.state, s.gate) for s in steps]


# -- conformance ---------------------------------------------------------------------------------
class TestUipConformance(EmulatorConformance, HttpConformance):
    @pytest.fixture
    def adapter(self) -> UipAdapter:
        return UipAdapter(make_config())

    @pytest.fixture
    def expected_statuses(self) -> dict[str, base.SessionStatus]:
        return DESIGN_TABLE  # docs/vendors/uip.md, Status vocabulary and our mapping

    @pytest.fixture
    def signed_webhook(self) -> Webhook:
        return signed_fixture("webhook_session_completed.json")

    @pytest.fixture
    def unsigned_webhook(self) -> Webhook:
        raw, headers = signed_fixture("webhook_session_completed.json")
        del headers["X-UIP-Signature"]
        return raw, headers

    @pytest.fixture
    def rate_limited_reply(self) -> httpx.Response:
        return httpx.Response(
            429,
            json={"error": "Too many requests", "code": "request/rate-limited"},
            headers={"Retry-After": "30"},
        )

    @pytest.fixture
    def create_request(self) -> base.CreateSessionRequest:
        """UIP requires steps: the conformance create asks for one identify step."""
        return base.CreateSessionRequest(
            client_reference="conformance-ref",
            metadata={"k": "v"},
            steps=(base.StepRequest(base.StepType.IDENTIFY),),
        )

    # -- over HTTP (HttpConformance) -------------------------------------------------------
    @pytest.fixture
    def session_id(self) -> str:
        return S1

    @pytest.fixture
    def read_reply(self) -> httpx.Response:
        return ok({"id": S1, "status": "created"})

    @pytest.fixture
    def read_status(self) -> base.SessionStatus:
        return base.SessionStatus.CREATED

    @pytest.fixture
    def quoted_read(self) -> tuple[str, bytes]:
        return "../../webhooks", b"/v1/sessions/..%2F..%2Fwebhooks"

    @pytest.fixture
    def unretried_writes(self) -> list[Call]:
        """continue / stop carry no key: a retry after a lost answer could be refused."""
        return [lambda a: a.continue_session(S1), lambda a: a.cancel_session(S1)]

    @pytest.fixture
    def retried_call(self) -> Call:
        return lambda a: a.fetch_session(S1)  # GET is idempotent

    @pytest.fixture
    def error_reply(self) -> ErrorReply:
        return lambda status, error, code: fail(status, error, code)

    @pytest.fixture
    def refusal(self) -> tuple[int, Call]:
        return 401, lambda a: a.fetch_session(S1)


# -- identity -------------------------------------------------------------------------------------
def test_declares_the_documented_surface() -> None:
    assert UipAdapter.name == "uip"
    assert UipAdapter.default_base_url == "https://api.uip.digital/v1"
    assert UipAdapter.credential_keys == ("api_key", "webhook_secret")
    assert UipAdapter.capabilities == {
        base.Capability.CREATE,
        base.Capability.READ,
        base.Capability.REFRESH,
        base.Capability.CONTINUE,
        base.Capability.CANCEL,
        base.Capability.STEPS,
        base.Capability.WEBHOOKS,
        base.Capability.POLLING,
    }
    assert UipAdapter.poll_policy == inferred.POLL_POLICY
    assert UipAdapter.vocabulary() == VOCABULARY


def test_the_inferred_tolerance_is_the_config_default() -> None:
    assert make_config().webhook_tolerance_s == inferred.WEBHOOK_TOLERANCE_S


@pytest.mark.parametrize(
    "action",
    [
        lambda a: a.list_sessions(),
        lambda a: a.update_metadata(S1, {"k": "v"}),
        lambda a: a.redact_session(S1),
        lambda a: a.resume_session(S1),
        lambda a: a.reprocess_session(S1),
        lambda a: a.issue_link(S1),
    ],
)
async def test_what_uip_does_not_offer_is_unsupported(action: Any) -> None:
    adapter = no_network()
    with pytest.raises(base.UnsupportedByProvider):
        await action(adapter)
    await adapter.aclose()


@pytest.mark.parametrize(
    ("raw", "polled"),
    [
        ("created", True),
        ("in_progress", True),
        ("awaiting_decision", True),
        ("completed", False),
        ("stopped", False),
        ("expired", False),
        ("failed", False),
        ("failed:insufficient_funds", False),
        ("failed:credential verification failed", False),
        ("something new", True),
    ],
)
def test_every_non_final_status_is_polled(uip: UipAdapter, raw: str, polled: bool) -> None:
    assert uip.needs_polling(raw) is polled


# -- create ---------------------------------------------------------------------------------------
async def test_create_replays_the_documented_example(uip: UipAdapter) -> None:
    with recorder.use_cassette("create_session_201.yaml", allow_playback_repeats=False) as cas:
        created = await uip.create_session(doc_request())
        gated = await uip.create_session(
            base.CreateSessionRequest(
                steps=(
                    base.StepRequest(base.StepType.IDENTIFY, gate=True),
                    base.StepRequest(base.StepType.LIGHT_SIGN, {"text": "I accept the terms."}),
                ),
                client_reference="order_4417",
                metadata={"checkout": "abc"},
                expires_in=3600,
                idempotency_key="order_4417",
            )
        )
    assert_all_played(cas, 2)
    assert created.provider_session_id == S1
    assert created.provider_status == "created"
    assert created.status is base.SessionStatus.CREATED
    assert created.environment is base.Environment.LIVE
    assert created.verification_url == "https://uip.digital/s/sess_abc123"
    assert created.expires_at == datetime(2026, 6, 7, 12, 34, 56, tzinfo=UTC)
    assert created.client_reference == "order_4815"
    assert created.current_step == 0
    assert states(created.steps) == [
        ("IDENTIFY", base.StepState.PENDING, False),
        ("AGE_VERIFY", base.StepState.PENDING, False),
    ]
    assert [s.index for s in created.steps] == [0, 1]
    assert created.raw == CREATED
    assert gated.provider_session_id == "sess_def456"
    assert gated.metadata == {"checkout": "abc"}
    assert states(gated.steps) == [
        ("IDENTIFY", base.StepState.PENDING, True),
        ("LIGHT_SIGN", base.StepState.PENDING, False),
    ]


async def test_create_sends_bearer_auth_and_a_derived_idempotency_key() -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(doc_request())
    await adapter.aclose()
    (request,) = script.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.uip.digital/v1/sessions"
    assert request.headers["authorization"] == "Bearer test-api-key"
    assert request.headers["content-type"] == "application/json"
    key = request.headers["idempotency-key"]
    assert key == derive_key("uip", "order_4815") != "order_4815"
    assert uuid.UUID(key)
    assert json.loads(request.content) == {
        "steps": [
            {"primitive": "identify", "params": {"blocks": ["first_name", "last_name", "country"]}},
            {"primitive": "age_verify", "params": {"min_age": 21}},
        ],
        "client_reference_id": "order_4815",
        "return_url": "https://shop.example.com/verified",
    }


async def test_the_same_caller_key_gives_the_same_vendor_key() -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(one_step(idempotency_key="k-1"))
    await adapter.create_session(one_step(idempotency_key="k-1"))
    await adapter.create_session(one_step(idempotency_key="k-2"))
    await adapter.aclose()
    first, again, other = script.keys()
    assert first == again != other


async def test_without_a_caller_key_each_create_gets_a_fresh_key() -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(one_step())
    await adapter.create_session(one_step())
    await adapter.aclose()
    first, second = script.keys()
    assert first and second and first != second
    assert uuid.UUID(first).version == 4


async def test_only_create_carries_an_idempotency_key() -> None:
    script = Script(ok(status=201), ok({"id": S1, "status": "created"}))
    adapter = script.adapter()
    await adapter.create_session(one_step())
    await adapter.fetch_session(S1)
    await adapter.continue_session(S1)
    await adapter.cancel_session(S1)
    await adapter.aclose()
    assert script.keys()[0] is not None
    assert script.keys()[1:] == [None, None, None]
    assert all(r.headers["authorization"] == "Bearer test-api-key" for r in script.requests)


@pytest.mark.parametrize(
    "first_failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
)
async def test_a_create_retried_after_a_transport_failure_keeps_its_key(
    first_failure: Exception,
) -> None:
    script = Script(first_failure, ok(status=201))
    adapter = script.adapter()
    created = await adapter.create_session(doc_request())
    await adapter.aclose()
    assert created.provider_session_id == S1
    assert len(script.requests) == 2
    first, second = script.keys()
    assert first == second == derive_key("uip", "order_4815")
    assert script.requests[0].content == script.requests[1].content


async def test_a_retry_without_caller_key_reuses_the_generated_key() -> None:
    script = Script(httpx.ReadTimeout("read timed out"), ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(one_step())
    await adapter.aclose()
    first, second = script.keys()
    assert first is not None and first == second


class OneSessionVendor:
    """A vendor that honours Idempotency-Key: the first attempt is processed but its answer
    is lost (timeout); the retry with the same key gets the original session."""

    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = request.headers["idempotency-key"]
        if key not in self.sessions:
            self.sessions[key] = f"sess_{len(self.sessions) + 1}"
            raise httpx.ReadTimeout("answer lost")
        return ok({**CREATED, "id": self.sessions[key]}, status=200)


async def test_a_timed_out_create_yields_one_session() -> None:
    vendor = OneSessionVendor()
    adapter = UipAdapter(make_config(transport=httpx.MockTransport(vendor.handler)))
    created = await adapter.create_session(one_step())
    await adapter.aclose()
    assert len(vendor.requests) == 2
    assert len(vendor.sessions) == 1
    assert created.provider_session_id == "sess_1"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_create_is_retried_on_5xx_with_the_same_key(status: int) -> None:
    script = Script(fail(status, "upstream trouble"), ok(status=201))
    adapter = script.adapter()
    created = await adapter.create_session(one_step(idempotency_key="k"))
    await adapter.aclose()
    assert created.status is base.SessionStatus.CREATED
    assert len(script.requests) == 2
    assert len(set(script.keys())) == 1


async def test_a_conflict_on_a_retry_means_the_first_attempt_is_still_running() -> None:
    script = Script(
        httpx.ReadTimeout("read timed out"),
        fail(409, "request in progress", "request/conflict"),
        ok(status=200),
    )
    adapter = script.adapter()
    created = await adapter.create_session(one_step(idempotency_key="k"))
    await adapter.aclose()
    assert created.provider_session_id == S1
    assert len(script.requests) == 3
    assert len(set(script.keys())) == 1


async def test_a_conflict_on_the_first_attempt_is_the_callers_key_reused() -> None:
    script = Script(fail(409, "Idempotency-Key reused with a different body"), ok(status=201))
    adapter = script.adapter()
    with pytest.raises(base.ProviderError) as info:
        await adapter.create_session(one_step(idempotency_key="k"))
    await adapter.aclose()
    assert len(script.requests) == 1
    assert info.value.code is base.ErrorCode.PROVIDER_REJECTED
    assert info.value.field == ("input", "idempotencyKey")
    assert info.value.http_status == 409


async def test_retries_are_bounded_and_end_unavailable() -> None:
    script = Script(httpx.ReadTimeout("read timed out"))
    adapter = script.adapter(retry_attempts=3)
    with pytest.raises(base.ProviderError) as info:
        await adapter.create_session(one_step())
    await adapter.aclose()
    assert info.value.code is base.ErrorCode.PROVIDER_UNAVAILABLE
    assert len(script.requests) == 3
    assert len(set(script.keys())) == 1


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422, 429])
async def test_a_create_is_not_retried_on_a_4xx(status: int) -> None:
    script = Script(fail(status), ok(status=201))
    adapter = script.adapter()
    with pytest.raises(base.ProviderError):
        await adapter.create_session(one_step())
    await adapter.aclose()
    assert len(script.requests) == 1


async def test_create_tolerates_a_200_replay_and_expires_at() -> None:
    script = Script(ok({**CREATED, "expires": None, "expires_at": "2026-06-07T13:00:00Z"}))
    adapter = script.adapter()
    created = await adapter.create_session(one_step())
    await adapter.aclose()
    assert created.expires_at == datetime(2026, 6, 7, 13, tzinfo=UTC)


async def test_a_replayed_create_further_along_claims_no_step_states() -> None:
    script = Script(ok({**CREATED, "status": "in_progress"}))
    adapter = script.adapter()
    created = await adapter.create_session(one_step())
    await adapter.aclose()
    assert created.status is base.SessionStatus.IN_PROGRESS
    assert created.steps == () and created.current_step is None


async def test_every_step_type_and_gate_is_serialised() -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(
        one_step(
            steps=(
                base.StepRequest(base.StepType.IDENTIFY, gate=True),
                base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": 18}, gate=True),
                base.StepRequest(base.StepType.LIGHT_SIGN, {"text": "I accept the terms."}),
            ),
            metadata={"a": "1"},
            expires_in=600,
            client_reference="ref",
        )
    )
    await adapter.aclose()
    assert json.loads(script.requests[0].content) == {
        "steps": [
            {"primitive": "identify", "gate": True},
            {"primitive": "age_verify", "params": {"min_age": 18}, "gate": True},
            {"primitive": "light_sign", "params": {"text": "I accept the terms."}},
        ],
        "client_reference_id": "ref",
        "metadata": {"a": "1"},
        "expires_in": 600,
    }


# -- validation before any call ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (base.CreateSessionRequest(client_reference="x"), ("input", "steps")),
        (one_step(metadata={f"k{i}": "v" for i in range(51)}), ("input", "metadata")),
        (one_step(metadata={"n": 1}), ("input", "metadata")),
        (one_step(metadata={"n": None}), ("input", "metadata")),
        (one_step(metadata={"n": {"nested": "x"}}), ("input", "metadata")),
        (one_step(metadata={"": "v"}), ("input", "metadata")),
        (one_step(metadata=["not", "an", "object"]), ("input", "metadata")),
        (one_step(expires_in=59), ("input", "expiresIn")),
        (one_step(expires_in=86_401), ("input", "expiresIn")),
        (one_step(expires_in=0), ("input", "expiresIn")),
        (one_step(expires_in=-60), ("input", "expiresIn")),
        (one_step(expires_in=True), ("input", "expiresIn")),
        (one_step(expires_in="600"), ("input", "expiresIn")),
        (one_step(expires_in=600.0), ("input", "expiresIn")),
        (one_step(return_url="http://shop.example.com/done"), ("input", "returnUrl")),
        (one_step(return_url="/relative"), ("input", "returnUrl")),
        (one_step(return_url="https://"), ("input", "returnUrl")),
        (one_step(client_reference=""), ("input", "clientReference")),
        (one_step(idempotency_key="  "), ("input", "idempotencyKey")),
        (one_step(provider_options={"steps": []}), ("input", "providerOptions", "steps")),
        (
            one_step(steps=(base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": 0}),)),
            ("input", "steps", "0"),
        ),
        (
            one_step(
                steps=(
                    base.StepRequest(base.StepType.IDENTIFY),
                    base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": 121}),
                )
            ),
            ("input", "steps", "1"),
        ),
        (
            one_step(steps=(base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": True}),)),
            ("input", "steps", "0"),
        ),
        (
            one_step(steps=(base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": "21"}),)),
            ("input", "steps", "0"),
        ),
        (
            one_step(steps=(base.StepRequest(base.StepType.IDENTIFY, {"blocks": []}),)),
            ("input", "steps", "0"),
        ),
        (
            one_step(steps=(base.StepRequest(base.StepType.IDENTIFY, {"blocks": "first_name"}),)),
            ("input", "steps", "0"),
        ),
        (one_step(steps=(base.StepRequest(base.StepType.LIGHT_SIGN),)), ("input", "steps", "0")),
        (
            one_step(steps=(base.StepRequest(base.StepType.LIGHT_SIGN, {"text": " "}),)),
            ("input", "steps", "0"),
        ),
        (
            one_step(steps=(base.StepRequest(base.StepType.IDENTIFY, ["not", "an", "object"]),)),
            ("input", "steps", "0"),
        ),
        (one_step(steps=(base.StepRequest("FACE_MATCH"),)), ("input", "steps", "0")),
        (
            one_step(steps=(base.StepRequest(base.StepType.IDENTIFY, gate="yes"),)),
            ("input", "steps", "0"),
        ),
    ],
)
async def test_bad_input_is_refused_before_any_call(
    request_: base.CreateSessionRequest, field: tuple[str, ...]
) -> None:
    adapter = no_network()
    with pytest.raises(base.ProviderError) as info:
        await adapter.create_session(request_)
    await adapter.aclose()
    assert info.value.code is base.ErrorCode.BAD_USER_INPUT
    assert info.value.field == field


@pytest.mark.parametrize(
    "request_",
    [
        one_step(metadata={f"k{i}": "v" for i in range(50)}),
        one_step(metadata={}),
        one_step(expires_in=60),
        one_step(expires_in=86_400),
        one_step(steps=(base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": 1}),)),
        one_step(steps=(base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": 120}),)),
        one_step(steps=(base.StepRequest(base.StepType.IDENTIFY, {"blocks": ["full_name"]}),)),
    ],
)
async def test_the_limits_themselves_are_accepted(request_: base.CreateSessionRequest) -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(request_)
    await adapter.aclose()
    assert len(script.requests) == 1


# -- read -----------------------------------------------------------------------------------------
async def test_read_version_a(uip: UipAdapter) -> None:
    with recorder.use_cassette("get_session_shape_a.yaml") as cas:
        read = await uip.fetch_session(S1)
    assert_all_played(cas, 1)
    assert read.provider_status == "awaiting_decision"
    assert read.status is base.SessionStatus.AWAITING_DECISION
    assert read.occurred_at == datetime(2026, 6, 7, 12, 1, 30, tzinfo=UTC)
    assert read.expires_at == datetime(2026, 6, 7, 13, tzinfo=UTC)
    assert read.timeline == (
        base.TimelineEntry(
            base.SessionStatus.CREATED, "created", datetime(2026, 6, 7, 12, tzinfo=UTC)
        ),
    )
    # Paused at the gate after identify (current_step 0 = the gated step, Version A).
    assert states(read.steps) == [
        ("IDENTIFY", base.StepState.COMPLETED, True),
        ("SIGN", base.StepState.PENDING, False),
    ]
    assert read.current_step == 1
    assert read.decision is None
    assert read.verification_url is None  # reads carry no URL: the stored one stays
    assert uip.session_capabilities(read.provider_status) >= {
        base.Capability.CONTINUE,
        base.Capability.CANCEL,
    }


async def test_read_version_b(uip: UipAdapter) -> None:
    with recorder.use_cassette("get_session_shape_b.yaml") as cas:
        read = await uip.fetch_session(S1)
    assert_all_played(cas, 1)
    assert read.status is base.SessionStatus.AWAITING_DECISION
    assert read.client_reference == "order_4417"
    assert read.metadata == {"checkout": "abc"}
    assert read.occurred_at == datetime(2026, 6, 7, 12, 1, 30, tzinfo=UTC)
    assert read.timeline == ()
    # Step 1's type is not in this shape: no partial list, the current step only.
    assert read.steps == ()
    assert read.current_step == 1
    # The claims stay in the restricted raw, and only there.
    assert read.raw["results"][0]["claims"]["last_name"] == "Lovelace"
    assert_no_pii(read, in_raw=True)


async def test_both_shapes_agree_on_status_and_current_step(uip: UipAdapter) -> None:
    with recorder.use_cassette("get_session_shape_a.yaml"):
        a = await uip.fetch_session(S1)
    with recorder.use_cassette("get_session_shape_b.yaml"):
        b = await uip.fetch_session(S1)
    assert (a.status, a.provider_status, a.current_step) == (
        b.status,
        b.provider_status,
        b.current_step,
    )


async def test_read_path_and_headers() -> None:
    script = Script(ok({"id": "sess/../x", "status": "created"}))
    adapter = script.adapter()
    await adapter.fetch_session("sess/../x")
    await adapter.aclose()
    (request,) = script.requests
    assert request.method == "GET"
    assert request.url.raw_path == b"/v1/sessions/sess%2F..%2Fx"
    assert request.headers["authorization"] == "Bearer test-api-key"
    assert request.headers["accept"] == "application/json"
    assert not request.content


async def test_a_base_url_without_the_version_gets_it_on_each_path() -> None:
    script = Script(ok({"id": S1, "status": "created"}))
    adapter = script.adapter(base_url="http://uip.sandbox")
    await adapter.fetch_session(S1)
    await adapter.aclose()
    assert str(script.requests[0].url) == "http://uip.sandbox/v1/sessions/sess_abc123"


async def test_a_completed_read_with_an_unmet_age_step_is_declined_with_a_summary() -> None:
    """Version B results (uip.mintlify.app api-reference/sessions/get) with an identify block
    "unavailable" (core-concepts/primitives) and an age_verify step not met."""
    body = version_b_body(
        S1,
        "completed",
        {"first_name": "Jane", "document_number": "unavailable", "x": "unavailable"},
        satisfied=False,
    )
    script = Script(ok(body))
    adapter = script.adapter()
    read = await adapter.fetch_session(S1)
    await adapter.aclose()
    assert read.status is base.SessionStatus.DECLINED
    assert read.provider_status == "completed:age_not_satisfied"
    assert read.decision is not None
    assert read.decision.outcome is base.Outcome.DECLINED
    assert read.decision.reason_codes == ("age_not_satisfied",)
    assert read.decision.decided_by is base.DecidedBy.PROVIDER
    assert read.decision.decided_at == datetime(2026, 6, 7, 12, 3, tzinfo=UTC)
    assert read.decision.warnings == (
        "identify_document_number_unavailable",
        "identify_block_unavailable",
    )
    assert [s.result for s in read.steps] == [
        base.StepResult.SATISFIED,
        base.StepResult.NOT_SATISFIED,
    ]
    assert states(read.steps) == [
        ("IDENTIFY", base.StepState.COMPLETED, False),
        ("AGE_VERIFY", base.StepState.COMPLETED, False),
    ]
    assert [s.completed_at for s in read.steps] == [
        datetime(2026, 6, 7, 12, 1, 30, tzinfo=UTC),
        datetime(2026, 6, 7, 12, 3, tzinfo=UTC),
    ]
    assert read.current_step == 2
    assert_no_pii(read, in_raw=True)


@pytest.mark.parametrize(
    ("extra", "raw", "status"),
    [
        ({}, "failed", base.SessionStatus.DECLINED),
        ({"reason": "insufficient_funds"}, "failed:insufficient_funds", base.SessionStatus.FAILED),
        (
            {"reason": "credential revoked"},
            "failed:credential revoked",
            base.SessionStatus.DECLINED,
        ),
        ({"reason": 42}, "failed", base.SessionStatus.DECLINED),
    ],
)
async def test_a_failed_read_uses_a_reason_only_when_given(
    extra: dict[str, Any], raw: str, status: base.SessionStatus
) -> None:
    script = Script(ok({"id": S1, "status": "failed", **extra}))
    adapter = script.adapter()
    read = await adapter.fetch_session(S1)
    await adapter.aclose()
    assert (read.provider_status, read.status) == (raw, status)
    assert adapter.map_status(read.provider_status) is read.status
    assert read.occurred_at is None  # never outranks the webhook that says why


async def test_an_unknown_status_is_reported_raw_and_unmapped() -> None:
    script = Script(ok({"id": S1, "status": "paused_for_review"}))
    adapter = script.adapter()
    read = await adapter.fetch_session(S1)
    await adapter.aclose()
    assert read.provider_status == "paused_for_review"
    assert read.status is None


@pytest.mark.parametrize(
    "body",
    [
        {"id": S1},
        {"status": "created"},
        {"id": S1, "status": "created", "current_step": -1},
        {"id": S1, "status": "created", "step_count": "two"},
        {"id": S1, "status": "created", "updated_at": "yesterday"},
        [1, 2],
    ],
)
async def test_an_unexpected_read_is_unavailable_without_echoing_it(body: Any) -> None:
    script = Script(httpx.Response(200, json=body))
    adapter = script.adapter()
    with pytest.raises(base.ProviderError) as info:
        await adapter.fetch_session(S1)
    await adapter.aclose()
    assert info.value.code is base.ErrorCode.PROVIDER_UNAVAILABLE
    assert "yesterday" not in info.value.message and "two" not in info.value.message


# -- step progress ------------------------------------------------------------------------------
A = {"step_count": 3, "primitives": ["identify", "age_verify", "sign"]}


@pytest.mark.parametrize(
    ("status", "current", "want_states", "want_current", "gated"),
    [
        ("created", 0, ["P", "P", "P"], 0, None),
        ("in_progress", 0, ["I", "P", "P"], 0, None),
        ("in_progress", 2, ["C", "C", "I"], 2, None),
        ("awaiting_decision", 1, ["C", "C", "P"], 2, 1),
        ("stopped", 0, ["C", "S", "S"], 1, 0),
        ("completed", 2, ["C", "C", "C"], 3, None),
        ("failed", 1, ["C", "F", "S"], 1, None),
        ("expired", 1, ["C", "S", "S"], 1, None),
        ("expired", 0, ["S", "S", "S"], 0, None),
    ],
)
def test_version_a_progress(
    status: str, current: int, want_states: list[str], want_current: int, gated: int | None
) -> None:
    letters = {
        "P": base.StepState.PENDING,
        "I": base.StepState.IN_PROGRESS,
        "C": base.StepState.COMPLETED,
        "F": base.StepState.FAILED,
        "S": base.StepState.SKIPPED,
    }
    steps, now_at = derive_steps(session(status, current_step=current, **A))
    assert [s.state for s in steps] == [letters[x] for x in want_states]
    assert [s.type for s in steps] == ["IDENTIFY", "AGE_VERIFY", "SIGN"]
    assert [s.gate for s in steps] == [i == gated for i in range(3)]
    assert now_at == want_current


def test_version_b_progress_with_every_type_known() -> None:
    steps, current = derive_steps(
        session(
            "in_progress",
            current_step=1,
            step_count=2,
            results=[{"step": 0, "primitive": "age_verify", "verified_at": "2026-06-07T12:01:00Z"}],
            current_primitive="light_sign",
        )
    )
    assert states(steps) == [
        ("AGE_VERIFY", base.StepState.COMPLETED, False),
        ("LIGHT_SIGN", base.StepState.IN_PROGRESS, False),
    ]
    assert steps[0].completed_at == datetime(2026, 6, 7, 12, 1, tzinfo=UTC)
    assert current == 1


def test_an_unknown_primitive_keeps_its_name() -> None:
    steps, _ = derive_steps(session("created", step_count=1, primitives=["face_scan"]))
    assert [s.type for s in steps] == ["face_scan"]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"step_count": 0},
        {"current_step": 1},
        {"step_count": 2, "results": []},
        {"step_count": 2, "primitives": ["identify"]},
    ],
)
def test_no_step_list_without_every_type(fields: dict[str, Any]) -> None:
    steps, _ = derive_steps(session("in_progress", **fields))
    assert steps == ()


def test_results_out_of_range_are_ignored() -> None:
    steps, current = derive_steps(
        session(
            "in_progress",
            step_count=1,
            primitives=["identify"],
            results=[{"step": 5, "primitive": "sign"}, {"step": "0"}, {"step": True}],
        )
    )
    assert states(steps) == [("IDENTIFY", base.StepState.IN_PROGRESS, False)]
    assert current == 0


async def replayed_refusals(
    cassette: str, *calls: Callable[[], Awaitable[Any]]
) -> list[base.ProviderError]:
    """The error each call raises against `cassette`, which answers each call once."""
    errors = []
    with recorder.use_cassette(cassette) as cas:
        for call in calls:
            with pytest.raises(base.ProviderError) as info:
                await call()
            errors.append(info.value)
    assert_all_played(cas, len(calls))
    return errors


# -- continue / stop ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cassette", "action", "provider_status", "status", "rest"),
    [
        # step 0's type is not in the answer
        (
            "continue_200.yaml",
            "continue_session",
            "in_progress",
            base.SessionStatus.IN_PROGRESS,
            {"steps": ()},
        ),
        (
            "stop_200.yaml",
            "cancel_session",
            "stopped",
            base.SessionStatus.CANCELLED,
            {"decision": None},
        ),
    ],
    ids=["continue", "stop"],
)
async def test_continue_and_stop_replay_the_documented_examples(
    uip: UipAdapter,
    cassette: str,
    action: str,
    provider_status: str,
    status: base.SessionStatus,
    rest: dict[str, Any],
) -> None:
    with recorder.use_cassette(cassette) as cas:
        after = await getattr(uip, action)(S1)
    assert_all_played(cas, 1)
    assert after is not None
    assert after.provider_status == provider_status
    assert after.status is status
    assert after.current_step == 1
    assert {name: getattr(after, name) for name in rest} == rest


async def test_continue_and_stop_refused_outside_a_gate(uip: UipAdapter) -> None:
    cont, stop = await replayed_refusals(
        "continue_409.yaml", lambda: uip.continue_session(S1), lambda: uip.cancel_session(S1)
    )
    assert cont.code is base.ErrorCode.PROVIDER_REJECTED
    assert cont.http_status == 409
    assert cont.provider_code == "session/not-at-gate"
    assert cont.message == "Session is not awaiting a decision (status: in_progress)"
    assert stop.code is base.ErrorCode.PROVIDER_REJECTED  # 400 here means "not at a gate"
    assert stop.http_status == 400
    assert stop.field is None
    assert "not awaiting a decision" in stop.message


async def test_gate_actions_post_without_a_body() -> None:
    script = Script(
        ok(
            {
                "status": "completed",
                "current_step": 0,
                "step_count": 1,
                "current_primitive": "identify",
            }
        )
    )
    adapter = script.adapter()
    after = await adapter.continue_session(S1)
    await adapter.cancel_session(S1)
    await adapter.aclose()
    assert [(r.method, r.url.path) for r in script.requests] == [
        ("POST", "/v1/sessions/sess_abc123/continue"),
        ("POST", "/v1/sessions/sess_abc123/stop"),
    ]
    assert all(not r.content for r in script.requests)
    assert after is not None
    assert after.provider_session_id == S1  # the id the answer left out
    assert after.status is base.SessionStatus.APPROVED  # the gated step was the last one


async def test_a_completed_answer_that_names_no_step_waits_for_the_verdicts() -> None:
    script = Script(ok({"status": "completed"}))
    adapter = script.adapter()
    after = await adapter.continue_session(S1)
    await adapter.aclose()
    assert after is not None and after.provider_status == "completed:results_pending"
    assert after.status is base.SessionStatus.PROCESSING and after.decision is None


async def test_gate_actions_on_an_unknown_session_are_not_found() -> None:
    script = Script(fail(404, "The requested resource was not found", "resource/not-found"))
    adapter = script.adapter()
    with pytest.raises(base.ProviderError) as info:
        await adapter.continue_session("sess_nope")
    await adapter.aclose()
    assert info.value.code is base.ErrorCode.NOT_FOUND


# -- errors ---------------------------------------------------------------------------------------
async def test_a_400_on_create_points_at_the_steps(uip: UipAdapter) -> None:
    request = doc_request(
        steps=(base.StepRequest(base.StepType.IDENTIFY, {"blocks": ["first_name", "shoe_size"]}),),
        return_url=None,
        idempotency_key="order_4815-bad-block",
    )
    (info,) = await replayed_refusals("error_400_steps.yaml", lambda: uip.create_session(request))
    assert info.code is base.ErrorCode.BAD_USER_INPUT
    assert info.field == ("input", "steps")
    assert info.provider_code == "request/invalid-payload"
    assert "shoe_size" in info.message


async def test_a_429_carries_retry_after(uip: UipAdapter) -> None:
    (info,) = await replayed_refusals("error_429.yaml", lambda: uip.fetch_session(S1))
    assert info.code is base.ErrorCode.RATE_LIMITED
    assert info.retry_after == 30
    assert info.message == "Too many requests"


def response(status: int, body: Any = None, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", f"{BASE}/sessions/{S1}")
    if isinstance(body, str | bytes):
        return httpx.Response(status, content=body, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def mapped(resp: httpx.Response, operation: Operation = Operation.READ) -> base.ProviderError:
    return map_error(resp, lambda s: s, operation=operation, now=NOW)


@pytest.mark.parametrize(
    ("status", "operation", "code"),
    [
        (400, Operation.CREATE, base.ErrorCode.BAD_USER_INPUT),
        (400, Operation.READ, base.ErrorCode.PROVIDER_REJECTED),
        (400, Operation.GATE, base.ErrorCode.PROVIDER_REJECTED),
        (401, Operation.CREATE, base.ErrorCode.PROVIDER_REJECTED),
        (401, Operation.READ, base.ErrorCode.PROVIDER_REJECTED),
        (402, Operation.CREATE, base.ErrorCode.PROVIDER_REJECTED),
        (403, Operation.GATE, base.ErrorCode.PROVIDER_REJECTED),
        (404, Operation.READ, base.ErrorCode.NOT_FOUND),
        (404, Operation.GATE, base.ErrorCode.NOT_FOUND),
        (409, Operation.CREATE, base.ErrorCode.PROVIDER_REJECTED),
        (409, Operation.GATE, base.ErrorCode.PROVIDER_REJECTED),
        (422, Operation.CREATE, base.ErrorCode.PROVIDER_REJECTED),
        (429, Operation.READ, base.ErrorCode.RATE_LIMITED),
        (500, Operation.READ, base.ErrorCode.PROVIDER_UNAVAILABLE),
        (503, Operation.GATE, base.ErrorCode.PROVIDER_UNAVAILABLE),
        (418, Operation.READ, base.ErrorCode.PROVIDER_REJECTED),
    ],
)
def test_status_mapping(status: int, operation: Operation, code: base.ErrorCode) -> None:
    error = mapped(response(status, {"error": "text", "code": "area/name"}), operation)
    assert error.code is code
    assert error.http_status == status
    assert error.provider_code == "area/name"
    assert error.message == "text"


@pytest.mark.parametrize(
    ("status", "provider_code"),
    [
        (401, "auth/invalid-api-key"),
        (402, "payment/insufficient-funds"),
        (404, "resource/not-found"),
        (422, "request/webhook-missing"),
        (502, "http_502"),
    ],
)
def test_default_codes_and_messages_without_a_body(status: int, provider_code: str) -> None:
    error = mapped(response(status, "<html>oops</html>"))
    assert error.provider_code == provider_code
    assert error.message == f"UIP answered HTTP {status}"


@pytest.mark.parametrize(
    "body",
    [
        {"message": "Session is not at a gate", "code": "session/not-at-gate"},
        {"error": {"message": "Session is not at a gate", "code": "session/not-at-gate"}},
        {"error": {"code": "session/not-at-gate", "detail": "Session is not at a gate"}},
    ],
)
def test_error_bodies_are_read_tolerantly(body: dict[str, Any]) -> None:
    error = mapped(response(409, body), Operation.GATE)
    assert error.provider_code == "session/not-at-gate"
    assert error.message == "Session is not at a gate"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("steps[0].params.min_age: out of range", ("input", "steps")),
        ("unknown primitive 'face'", ("input", "steps")),
        ("metadata: values must be strings", ("input", "metadata")),
        ("expires_in: must be between 60 and 86400", ("input", "expiresIn")),
        ("return_url: must be https", ("input", "returnUrl")),
        ("client_reference_id: too long", ("input", "clientReference")),
        ("invalid payload", ("input", "steps")),
        ("metadata and steps both wrong", ("input", "metadata")),
    ],
)
def test_create_400_field_mapping(message: str, field: tuple[str, ...]) -> None:
    assert create_field(message) == field
    error = mapped(response(400, {"error": message}), Operation.CREATE)
    assert error.field == field


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30),
        ("Sun, 07 Jun 2026 12:06:00 GMT", 60),
        ("Sun, 07 Jun 2026 12:04:00 GMT", 0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after(header: str | None, seconds: int | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    error = mapped(response(429, {"error": "slow down"}, **headers))
    assert error.code is base.ErrorCode.RATE_LIMITED
    assert error.retry_after == seconds


def test_long_messages_and_codes_are_capped() -> None:
    error = mapped(response(400, {"error": "x" * 5000, "code": "c" * 500}))
    assert len(error.message) == 500 and len(error.provider_code or "") == 64


# -- webhooks -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "primitive", "stage"),
    [
        ("webhook_step_completed_identify.json", "identify", 0),
        ("webhook_step_completed_age_verify.json", "age_verify", 1),
        ("webhook_step_completed_sign.json", "sign", 1),
        ("webhook_step_completed_light_sign.json", "light_sign", 0),
    ],
)
def test_step_completed(uip: UipAdapter, name: str, primitive: str, stage: int) -> None:
    raw, headers = signed_fixture(name)
    (event,) = uip.parse_webhook(raw, headers)
    body = fixture(name)["body"]
    assert event.event_type == "step.completed"
    assert event.dedupe_key == signed_body_key(raw)
    assert event.provider_session_id == S1
    # The payload does not say whether the step was gated: progress now, a read to know.
    assert event.refetch is True
    snapshot = event.snapshot
    assert snapshot is not None
    assert snapshot.provider_status == "in_progress"
    assert snapshot.status is base.SessionStatus.IN_PROGRESS
    assert snapshot.current_step == stage + 1
    # The event does not say how many steps there are: no list (a shorter one would replace
    # the gateway's); the read it asks for tells.
    assert snapshot.steps == ()
    assert snapshot.occurred_at is None
    assert snapshot.decision is None
    assert snapshot.client_reference == body["data"].get("client_reference_id")
    assert snapshot.raw == body and event.received_payload == body
    assert body["data"]["primitive"] == primitive


@pytest.mark.parametrize(("gate", "raw"), [(True, "awaiting_decision"), (False, "in_progress")])
def test_step_completed_with_a_gate_flag(uip: UipAdapter, gate: bool, raw: str) -> None:
    body = fixture("webhook_step_completed_identify.json")["body"]
    body["data"][inferred.STEP_EVENT_GATE_KEY] = gate
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None
    assert event.snapshot.provider_status == raw
    assert event.refetch is False
    assert uip.session_capabilities(event.snapshot.provider_status) >= (
        {base.Capability.CONTINUE} if gate else set()
    )


def test_step_completed_with_a_non_boolean_gate_still_asks_for_a_read(uip: UipAdapter) -> None:
    body = fixture("webhook_step_completed_identify.json")["body"]
    body["data"][inferred.STEP_EVENT_GATE_KEY] = "true"
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None and event.snapshot.status is base.SessionStatus.IN_PROGRESS
    assert event.refetch is True


def test_step_completed_without_a_stage(uip: UipAdapter) -> None:
    body = {"event": "step.completed", "data": {"session_id": S1, "stage": "zero"}}
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None and event.snapshot.current_step is None


@pytest.mark.parametrize(
    ("name", "raw", "status", "outcome", "reasons"),
    [
        (
            "webhook_session_completed.json",
            "completed",
            base.SessionStatus.APPROVED,
            base.Outcome.APPROVED,
            (),
        ),
        ("webhook_session_stopped.json", "stopped", base.SessionStatus.CANCELLED, None, ()),
        (
            "webhook_session_failed_insufficient_funds.json",
            "failed:insufficient_funds",
            base.SessionStatus.FAILED,
            None,
            (),
        ),
        (
            "webhook_session_failed_internal_error.json",
            "failed:internal_error",
            base.SessionStatus.FAILED,
            None,
            (),
        ),
        (
            "webhook_session_failed_verification.json",
            "failed:credential verification failed",
            base.SessionStatus.DECLINED,
            base.Outcome.DECLINED,
            ("verification_failed",),
        ),
    ],
)
def test_session_events(
    uip: UipAdapter,
    name: str,
    raw: str,
    status: base.SessionStatus,
    outcome: base.Outcome | None,
    reasons: tuple[str, ...],
) -> None:
    raw_body, headers = signed_fixture(name)
    (event,) = uip.parse_webhook(raw_body, headers)
    assert event.event_type == fixture(name)["event"]
    assert event.dedupe_key == signed_body_key(raw_body)
    assert event.refetch is False
    snapshot = event.snapshot
    assert snapshot is not None
    assert snapshot.provider_session_id == event.provider_session_id == S1
    assert (snapshot.provider_status, snapshot.status) == (raw, status)
    assert uip.map_status(snapshot.provider_status) is snapshot.status
    assert snapshot.environment is base.Environment.LIVE
    if outcome is None:
        assert snapshot.decision is None
    else:
        assert snapshot.decision is not None
        assert snapshot.decision.outcome is outcome
        assert snapshot.decision.decided_by is base.DecidedBy.PROVIDER
        assert snapshot.decision.reason_codes == reasons


def test_session_failed_with_a_code_like_reason_keeps_it_as_the_code(uip: UipAdapter) -> None:
    body = {"event": "session.failed", "data": {"session_id": S1, "reason": "document_expired"}}
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None and event.snapshot.decision is not None
    assert event.snapshot.decision.reason_codes == ("document_expired",)


@pytest.mark.parametrize("reason", [None, "", 17, {"code": "x"}])
def test_session_failed_without_a_usable_reason(uip: UipAdapter, reason: Any) -> None:
    data: dict[str, Any] = {"session_id": S1}
    if reason is not None:
        data["reason"] = reason
    (event,) = uip.parse_webhook(*sign_webhook({"event": "session.failed", "data": data}))
    assert event.snapshot is not None
    assert event.snapshot.provider_status == "failed"
    assert event.snapshot.status is inferred.FAILED_WITHOUT_REASON


def test_a_failure_reason_is_scrubbed(uip: UipAdapter) -> None:
    body = {
        "event": "session.failed",
        "data": {"session_id": S1, "reason": "mismatch for jane@example.com"},
    }
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None
    assert event.snapshot.provider_status == f"failed:mismatch for {EMAIL_PLACEHOLDER}"
    assert event.snapshot.status is base.SessionStatus.DECLINED


def test_metadata_and_client_reference_come_along(uip: UipAdapter) -> None:
    (event,) = uip.parse_webhook(*signed_fixture("webhook_session_failed_verification.json"))
    assert event.snapshot is not None
    assert event.snapshot.client_reference == "order_4815"
    assert event.snapshot.metadata == {"checkout": "abc"}


@pytest.mark.parametrize(
    ("data", "raw"),
    [
        ({"status": "expired"}, "expired"),
        ({"status": "awaiting_decision"}, "awaiting_decision"),
        ({"status": "failed", "reason": "internal_error"}, "failed:internal_error"),
    ],
)
def test_an_undocumented_session_event_with_a_known_status(
    uip: UipAdapter, data: dict[str, Any], raw: str
) -> None:
    body = {"event": "session.expired", "data": {"session_id": S1, **data}}
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None and event.snapshot.provider_status == raw
    assert event.refetch is False


def test_an_undocumented_session_event_without_a_status_asks_for_a_read(uip: UipAdapter) -> None:
    body = {"event": "session.paused", "data": {"session_id": S1}}
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is None
    assert event.refetch is True and event.provider_session_id == S1


def test_an_event_about_something_else_is_acknowledged(uip: UipAdapter) -> None:
    body = {"event": "balance.low", "data": {"remaining": "1.00"}}
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is None and event.refetch is False
    assert event.provider_session_id is None
    assert event.received_payload == body


@pytest.mark.parametrize(
    "body",
    [
        {"event": "session.completed", "data": {"status": "completed"}},
        {"event": "step.completed", "data": {"stage": 0}},
        {"event": "session.completed", "data": {"session_id": ""}},
        {"event": "session.completed"},
        {"event": "session.completed", "data": "sess_abc123"},
        {"data": {"session_id": S1}},
        {"event": "", "data": {"session_id": S1}},
        {"event": 5, "data": {"session_id": S1}},
        {"event": "session.completed", "data": {"session_id": 123}},
    ],
)
def test_malformed_events_are_rejected(uip: UipAdapter, body: dict[str, Any]) -> None:
    with pytest.raises(base.WebhookRejected) as info:
        uip.parse_webhook(*sign_webhook(body))
    assert info.value.reason is base.WebhookRejectReason.MALFORMED


def test_the_body_event_wins_over_the_unsigned_header(uip: UipAdapter) -> None:
    raw, headers = signed_fixture("webhook_session_completed.json")
    headers["X-UIP-Event"] = "session.stopped"
    (event,) = uip.parse_webhook(raw, headers)
    assert event.event_type == "session.completed"


def test_the_dedupe_key_is_the_signed_bytes_never_the_header(uip: UipAdapter) -> None:
    """UIP's retries send the same bytes ("Each event has a stable X-UIP-Delivery-Id", and
    the body is the event's): the signed bytes are the key; the unsigned header is not."""
    body = fixture("webhook_session_stopped.json")["body"]
    (first,) = uip.parse_webhook(*sign_webhook(body, delivery_id=None))
    (again,) = uip.parse_webhook(*sign_webhook(body, delivery_id=" dlv_9 ", timestamp=TS - 5))
    (other,) = uip.parse_webhook(*sign_webhook(fixture("webhook_session_completed.json")["body"]))
    assert first.dedupe_key == again.dedupe_key
    assert first.dedupe_key.startswith("sha256:")
    assert other.dedupe_key != first.dedupe_key


def test_webhooks_use_the_configured_clock_and_tolerance() -> None:
    adapter = UipAdapter(make_config(webhook_tolerance_s=10))
    raw, headers = signed_fixture(
        "webhook_session_completed.json", timestamp=int(NOW.timestamp()) - 11
    )
    with pytest.raises(base.WebhookRejected) as info:
        adapter.parse_webhook(raw, headers)
    assert info.value.reason is base.WebhookRejectReason.TIMESTAMP
    later = UipAdapter(make_config(clock=lambda: datetime(2026, 6, 7, 12, 4, 50, tzinfo=UTC)))
    assert later.parse_webhook(raw, headers)


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_and_future_webhooks_are_rejected(uip: UipAdapter, offset: int) -> None:
    raw, headers = signed_fixture(
        "webhook_session_completed.json", timestamp=int(NOW.timestamp()) + offset
    )
    with pytest.raises(base.WebhookRejected) as info:
        uip.parse_webhook(raw, headers)
    assert info.value.reason is base.WebhookRejectReason.TIMESTAMP


def test_a_webhook_signed_with_another_secret_is_rejected(uip: UipAdapter) -> None:
    raw, headers = signed_fixture("webhook_session_completed.json", secret="other-signing-key")
    with pytest.raises(base.WebhookRejected) as info:
        uip.parse_webhook(raw, headers)
    assert info.value.reason is base.WebhookRejectReason.SIGNATURE


def test_tampered_step_result_is_rejected(uip: UipAdapter) -> None:
    raw, headers = signed_fixture("webhook_step_completed_age_verify.json")
    with pytest.raises(base.WebhookRejected) as info:
        uip.parse_webhook(raw.replace(b"true", b"false"), headers)
    assert info.value.reason is base.WebhookRejectReason.SIGNATURE


# -- PII ------------------------------------------------------------------------------------------
def assert_no_pii(snapshot: base.SessionSnapshot, *, in_raw: bool) -> None:
    """Claims appear in `raw` (restricted) only: never in steps, decision or anything else."""
    visible = repr(
        (
            snapshot.steps,
            snapshot.decision,
            snapshot.timeline,
            snapshot.provider_status,
            snapshot.client_reference,
            snapshot.metadata,
            snapshot.current_step,
        )
    )
    for value in PII:
        assert value not in visible, value
    if in_raw:
        assert any(value in json.dumps(snapshot.raw) for value in PII)


async def test_claims_never_reach_steps_decisions_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    claims = {"first_name": "Jane", "last_name": "Doe", "dob": "1815-12-10"}
    completed = {
        "id": S1,
        "status": "completed",
        "step_count": 1,
        "results": [{"step": 0, "primitive": "identify", "claims": claims}],
        "updated_at": "2026-06-07T12:03:00Z",
    }
    script = Script(
        ok(completed),
        httpx.Response(400, json={"error": "bad claims for Jane Doe", "code": "x"}),
    )
    adapter = script.adapter()
    read = await adapter.fetch_session(S1)
    assert_no_pii(read, in_raw=True)
    for name in sorted(p.name for p in CASSETTES.glob("webhook_*.json")):
        for event in adapter.parse_webhook(*signed_fixture(name)):
            if event.snapshot is not None:
                assert_no_pii(event.snapshot, in_raw="step_completed_identify" in name)
    with recorder.use_cassette("get_session_shape_b.yaml"):
        shape_b = await UipAdapter(make_config()).fetch_session(S1)
    assert_no_pii(shape_b, in_raw=True)
    # A malformed read never echoes the values that failed validation.
    bad = Script(ok({**completed, "updated_at": "Jane Doe"}))
    bad_adapter = bad.adapter()
    with pytest.raises(base.ProviderError) as info:
        await bad_adapter.fetch_session(S1)
    await bad_adapter.aclose()
    assert "Jane" not in info.value.message
    await adapter.aclose()
    logged = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("adapters")
    )
    for value in PII:
        assert value not in logged, value


def test_undocumented_events_are_logged_without_their_payload(
    uip: UipAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"event": "session.paused", "data": {"session_id": S1, "claims": {"x": "Jane"}}}
    uip.parse_webhook(*sign_webhook(body))
    body = {"event": "identity.linked", "data": {"first_name": "Jane"}}
    uip.parse_webhook(*sign_webhook(body))
    records = [r for r in caplog.records if r.name == "adapters.uip.adapter"]
    assert len(records) == 2
    assert all("Jane" not in f"{r.getMessage()} {r.__dict__}" for r in records)


# -- the adapter as a ProviderAdapter ------------------------------------------------------------
def test_every_snapshot_status_agrees_with_map_status(uip: UipAdapter) -> None:
    for name in sorted(p.name for p in CASSETTES.glob("webhook_*.json")):
        for event in uip.parse_webhook(*signed_fixture(name)):
            assert event.snapshot is not None
            assert uip.map_status(event.snapshot.provider_status) is event.snapshot.status


def test_it_is_a_provider_adapter() -> None:
    assert issubclass(UipAdapter, base.ProviderAdapter)


# -- against the emulator (written independently from the same docs) ---------------------------
@pytest.fixture
async def emulated() -> AsyncIterator[tuple[UipAdapter, Any, WebhookSink, httpx.AsyncClient]]:
    from adapters.uip.sandbox import UipSandbox

    clock = FakeClock(NOW)
    sink = WebhookSink()
    sandbox = UipSandbox(
        emulator_config(
            sink,
            clock,
            public_base_url="http://gateway.test/sandbox/uip",
            webhook_url="http://gateway.test/webhooks/uip",
        )
    )
    adapter = UipAdapter(
        make_config(
            environment=base.Environment.SANDBOX,
            base_url="http://uip.sandbox",
            api_key=sandbox.api_key,
            webhook_secret=sandbox.webhook_secret,
            transport=httpx.ASGITransport(app=sandbox.app),
            clock=clock,
        )
    )
    control = asgi_client(sandbox.app)
    yield adapter, sandbox, sink, control
    await control.aclose()
    await adapter.aclose()
    await sandbox.aclose()


async def drive(control: httpx.AsyncClient, sid: str, *actions: str) -> None:
    for action in actions:
        answer = await control.post(f"/sessions/{sid}/simulate", json={"action": action})
        assert answer.is_success, answer.text


async def deliveries(adapter: UipAdapter, sink: WebhookSink, count: int) -> list[Any]:
    await sink.wait_for(count)
    return [
        event
        for request in sink.requests[:count]
        for event in adapter.parse_webhook(request.content, dict(request.headers))
    ]


async def test_a_gated_session_end_to_end_against_the_emulator(emulated: Any) -> None:
    adapter, _, sink, control = emulated
    created = await adapter.create_session(
        base.CreateSessionRequest(
            steps=(
                base.StepRequest(base.StepType.IDENTIFY, gate=True),
                base.StepRequest(base.StepType.AGE_VERIFY, {"min_age": 21}),
            ),
            client_reference="order_1",
            metadata={"cart": "7"},
        )
    )
    sid = created.provider_session_id
    assert created.status is base.SessionStatus.CREATED and created.verification_url
    await drive(control, sid, "open", "submit")
    (step,) = await deliveries(adapter, sink, 1)
    assert step.event_type == "step.completed" and step.refetch
    assert step.snapshot.current_step == 1
    paused = await adapter.fetch_session(sid)
    assert paused.status is base.SessionStatus.AWAITING_DECISION
    assert paused.current_step == 1
    assert paused.steps == () or states(paused.steps)[0] == (
        "IDENTIFY",
        base.StepState.COMPLETED,
        True,
    )
    assert_no_pii(paused, in_raw=False)
    resumed = await adapter.continue_session(sid)
    assert resumed is not None and resumed.status is base.SessionStatus.IN_PROGRESS
    with pytest.raises(base.ProviderError) as refused:
        await adapter.continue_session(sid)
    assert refused.value.code is base.ErrorCode.PROVIDER_REJECTED and refused.value.message
    await drive(control, sid, "submit")
    events = await deliveries(adapter, sink, 3)
    assert [e.event_type for e in events] == [
        "step.completed",
        "step.completed",
        "session.completed",
    ]
    final = events[-1].snapshot
    assert (
        final.status is base.SessionStatus.APPROVED
        and final.decision.outcome is base.Outcome.APPROVED
    )
    assert len({e.dedupe_key for e in events}) == 3
    done = await adapter.fetch_session(sid)
    assert done.status is base.SessionStatus.APPROVED
    assert [s.state for s in done.steps] in ([], [base.StepState.COMPLETED] * 2)


async def test_stop_and_failures_against_the_emulator(emulated: Any) -> None:
    adapter, _, sink, control = emulated
    gated = one_step(steps=(base.StepRequest(base.StepType.IDENTIFY, gate=True), sign_step()))
    first = (await adapter.create_session(gated)).provider_session_id
    await drive(control, first, "open", "submit")
    stopped = await adapter.cancel_session(first)
    assert stopped is not None and stopped.status is base.SessionStatus.CANCELLED
    second = (await adapter.create_session(one_step())).provider_session_id
    await drive(control, second, "decline")
    third = (await adapter.create_session(one_step())).provider_session_id
    await drive(control, third, "fail")
    events = await deliveries(adapter, sink, 4)
    finals = {e.provider_session_id: e.snapshot for e in events if e.event_type != "step.completed"}
    assert finals[first].status is base.SessionStatus.CANCELLED
    assert finals[second].status is base.SessionStatus.DECLINED
    assert finals[third].provider_status == "failed:internal_error"
    assert finals[third].status is base.SessionStatus.FAILED
    with pytest.raises(base.ProviderError) as info:
        await adapter.cancel_session(second)
    assert info.value.code is base.ErrorCode.PROVIDER_REJECTED


@pytest.mark.parametrize("shape", ["a", "b"])
async def test_both_get_shapes_of_the_emulator(emulated: Any, shape: str) -> None:
    adapter, _, _, control = emulated
    assert (await control.post("/sandbox-settings", json={"get_shape": shape})).is_success
    sid = (
        await adapter.create_session(
            one_step(steps=(base.StepRequest(base.StepType.IDENTIFY, gate=True), sign_step()))
        )
    ).provider_session_id
    await drive(control, sid, "open", "submit")
    read = await adapter.fetch_session(sid)
    assert read.status is base.SessionStatus.AWAITING_DECISION
    assert read.current_step == 1
    assert_no_pii(read, in_raw=False)
    assert read.steps == () or [s.state for s in read.steps] == [
        base.StepState.COMPLETED,
        base.StepState.PENDING,
    ]


# -- audit (docs/vendors/uip.md, Audit) -----------------------------------------------------------
async def test_audit_reads_the_verified_steps_records(uip: UipAdapter) -> None:
    with recorder.use_cassette("get_audit_200.yaml", allow_playback_repeats=False) as cas:
        audit = await uip.fetch_audit(S1)
    assert_all_played(cas, 2)
    assert audit == (
        base.AuditEntry(
            record_id="sess_abc123_0",
            step=0,
            type="AGE_VERIFY",
            verified_at=datetime(2026, 6, 7, 12, 1, 30, tzinfo=UTC),
            wallet="apple-wallet",
            proof={"satisfied": True, "min_age": 21},
            record_hash="sha256:9f86d081...",
            previous_hash="0x000",
            timestamp_token="MIIE...",
            identity_sealed=True,
        ),
    )


async def test_audit_uses_the_audit_ids_a_version_b_read_gives() -> None:
    record = {"id": "aud_9f2c1e", "stage": 0, "primitive": "identify", "proof": {}}
    script = Script(ok(version_b_body_with_audit()), ok(record))
    adapter = script.adapter()
    audit = await adapter.fetch_audit(S1)
    await adapter.aclose()
    assert script.calls() == ["GET /v1/sessions/sess_abc123", "GET /v1/audits/aud_9f2c1e"]
    assert [(e.record_id, e.step, e.type) for e in audit] == [("aud_9f2c1e", 0, "IDENTIFY")]


def version_b_body_with_audit() -> dict[str, Any]:
    """Version B's example (cassettes/uip/get_session_shape_b.yaml): one result, `aud_9f2c1e`."""
    cassette = yaml.safe_load((CASSETTES / "get_session_shape_b.yaml").read_text(encoding="utf-8"))
    return json.loads(cassette["interactions"][0]["response"]["body"]["string"])


@pytest.mark.parametrize(
    ("read", "ids"),
    [
        ({"status": "created", "current_step": 0, "step_count": 2}, []),
        ({"status": "in_progress", "current_step": 1, "step_count": 3}, ["sess_abc123_0"]),
        (
            {"status": "completed", "current_step": 2, "step_count": 2},
            ["sess_abc123_0", "sess_abc123_1"],
        ),
        ({"status": "in_progress"}, []),  # no count: nothing can be named
    ],
)
async def test_audit_of_a_version_a_read_names_its_verified_steps(
    read: dict[str, Any], ids: list[str]
) -> None:
    record = {"id": "x", "stage": 0, "primitive": "identify"}
    script = Script(ok({"id": S1, **read}), ok(record))
    adapter = script.adapter()
    audit = await adapter.fetch_audit(S1)
    await adapter.aclose()
    assert script.calls()[1:] == [f"GET /v1/audits/{i}" for i in ids]
    assert len(audit) == len(ids)


async def test_a_missing_audit_record_is_not_found() -> None:
    script = Script(
        ok({"id": S1, "status": "completed", "step_count": 1}), fail(404, code="resource/not-found")
    )
    adapter = script.adapter()
    with pytest.raises(base.ProviderError) as info:
        await adapter.fetch_audit(S1)
    await adapter.aclose()
    assert info.value.code is base.ErrorCode.NOT_FOUND


async def test_an_audit_record_without_its_stage_is_refused() -> None:
    script = Script(ok({"id": S1, "status": "completed", "step_count": 1}), ok({"id": "x"}))
    adapter = script.adapter()
    with pytest.raises(base.ProviderError) as info:
        await adapter.fetch_audit(S1)
    await adapter.aclose()
    assert info.value.code is base.ErrorCode.PROVIDER_UNAVAILABLE
