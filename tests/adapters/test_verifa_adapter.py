"""VerifaAdapter against recorded Verifa traffic (cassettes/verifa) and a mock transport.

The payloads are Verifa's documented ones (docs/vendors/verifa.md, Sources): each test that
needs a page beyond the cassettes cites it where it builds the payload.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.base import (
    Capability,
    Contact,
    CreateSessionRequest,
    DecidedBy,
    DecisionAction,
    DocumentType,
    Environment,
    ErrorCode,
    ExpectedPerson,
    InputSupport,
    Outcome,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionStatus,
    TimelineEntry,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.idempotency import derive_key
from adapters.common.scrub import Scrubber
from adapters.common.webhook_body import signed_body_key
from adapters.verifa import inferred
from adapters.verifa.adapter import CREATE_KEY_SCOPE, VerifaAdapter
from adapters.verifa.errors import map_error
from adapters.verifa.inputs import INPUT_SUPPORT
from adapters.verifa.statuses import VOCABULARY
from tests.adapters.conformance import EmulatorConformance, Webhook
from tests.adapters.http_conformance import Call, ErrorReply, HttpConformance
from tests.support.cassettes import assert_all_played, replayer
from tests.support.sandbox_harness import local_sandbox_config
from tests.support.scripted_vendor import LiveConfig, ScriptedVendor, assert_unavailable
from tests.support.signing.verifa import sign_webhook

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes" / "verifa"
API_KEY = "test-api-key"
WEBHOOK_SECRET = "placeholder-signing-key"
NOW = datetime(2026, 2, 1, 12, 5, tzinfo=UTC)
TS = int(NOW.timestamp())
BASE = "https://api.withverifa.com"
S1 = "session_abc123"
PII = ["Jane", "Doe", "1997-06-15", "2009-06-15", "203.0.113"]

recorder = replayer(CASSETTES)
make_config = LiveConfig(base_url=BASE, api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, now=NOW)


@pytest.fixture
async def verifa() -> AsyncIterator[VerifaAdapter]:
    adapter = VerifaAdapter(make_config())
    yield adapter
    await adapter.aclose()


def doc_request(**overrides: Any) -> CreateSessionRequest:
    """The create curl example (https://docs.withverifa.com/core-concepts/sessions), as a
    normalized request."""
    values: dict[str, Any] = {
        "client_reference": "user_abc123",
        "workflow_id": "workflow_custom_kyc",
        "metadata": {"plan": "premium", "signup_source": "mobile"},
        "return_url": "https://your-app.com/verify/complete",
        "provider_options": {"country": "US"},
        "idempotency_key": "signup-user_abc123-1",
    }
    values.update(overrides)
    return CreateSessionRequest(**values)


# -- a scriptable mock transport -----------------------------------------------------------------
class Script(ScriptedVendor):
    def adapter(self, **overrides: Any) -> VerifaAdapter:
        return VerifaAdapter(make_config(transport=self.transport(), **overrides))


CREATED = {
    "id": S1,
    "status": "pending",
    "capture_url": "https://app.withverifa.com/verify/tok_x",
    "qr_code_data_url": "data:image/png;base64,AAAA",
    "is_sandbox": False,
    "created_at": "2026-02-01T12:00:00Z",
    "expires_at": "2026-02-01T12:20:00Z",
}


#: Generate a one-time verification link, its documented response fields
#: (https://docs.withverifa.com/api-reference/sessions/generate-session-link).
LINK = {
    "id": "link_abc123",
    "session_id": S1,
    "capture_url": "https://app.withverifa.com/verify/tok_link123",
    "status": "active",
    "expires_at": "2026-02-01T13:00:00Z",
    "created_at": "2026-02-01T12:00:00Z",
    "qr_code_data_url": "data:image/png;base64,BBBB",
}


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else CREATED, headers=headers)


def session(status: str = "pending", **extra: Any) -> dict[str, Any]:
    return {
        "id": S1,
        "status": status,
        "is_sandbox": False,
        "created_at": "2026-02-01T12:00:00Z",
        "updated_at": "2026-02-01T12:04:00Z",
        "external_ref": "user_abc123",
        "metadata": {"plan": "premium"},
        **extra,
    }


def result(status: str | None = "approved", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "session_id": S1,
        "face_match_passed": True,
        "face_match_score": 0.95,
        "age_check_passed": True,
        "extracted_data": {"first_name": "Jane", "last_name": "Doe"},
        **extra,
    }
    if status is not None:
        body["status"] = status
    return body


# -- conformance ---------------------------------------------------------------------------------
class TestVerifaConformance(EmulatorConformance, HttpConformance):
    @pytest.fixture
    def adapter(self) -> VerifaAdapter:
        return VerifaAdapter(make_config())

    @pytest.fixture
    def expected_statuses(self) -> dict[str, SessionStatus]:
        # docs/vendors/verifa.md, Status vocabulary and our mapping, written out; `completed`
        # alone = result not out yet; `resubmission_required` is the event's.
        return {
            "pending": SessionStatus.CREATED,
            "capturing": SessionStatus.IN_PROGRESS,
            "processing": SessionStatus.PROCESSING,
            "completed": SessionStatus.PROCESSING,
            "awaiting_external": SessionStatus.AWAITING_DECISION,
            "sandbox_pending": SessionStatus.AWAITING_DECISION,
            "under_review": SessionStatus.IN_REVIEW,
            "expired": SessionStatus.EXPIRED,
            "failed": SessionStatus.FAILED,
            "resubmission_required": SessionStatus.AWAITING_USER,
        }

    @pytest.fixture
    def signed_webhook(self) -> Webhook:
        return sign_webhook(flat_event("session.started", status="capturing"))

    @pytest.fixture
    def unsigned_webhook(self) -> Webhook:
        raw, headers = sign_webhook(flat_event("session.started", status="capturing"))
        del headers["X-Verifa-Signature"]
        return raw, headers

    @pytest.fixture
    def rate_limited_reply(self) -> httpx.Response:
        """The documented 429 (https://docs.withverifa.com/api-details/rate-limiting)."""
        return httpx.Response(
            429,
            json={
                "error": "rate_limited",
                "detail": "Rate limit exceeded. Retry after 12 seconds.",
                "status_code": 429,
            },
            headers={"Retry-After": "12"},
        )

    # -- over HTTP (HttpConformance) -------------------------------------------------------
    @pytest.fixture
    def session_id(self) -> str:
        return S1

    @pytest.fixture
    def read_reply(self) -> httpx.Response:
        return ok(session())

    @pytest.fixture
    def read_status(self) -> SessionStatus:
        return SessionStatus.CREATED

    @pytest.fixture
    def quoted_read(self) -> tuple[str, bytes]:
        return "../../webhooks/endpoints", b"/api/v1/sessions/..%2F..%2Fwebhooks%2Fendpoints"

    @pytest.fixture
    def unretried_writes(self) -> list[Call]:
        """Writes without a documented Idempotency-Key (the others retry with theirs)."""
        return [lambda a: a.reprocess_session(S1), lambda a: a.continue_session(S1)]

    @pytest.fixture
    def retried_call(self) -> Call:
        return lambda a: a.redact_session(S1)  # DELETE is idempotent

    @pytest.fixture
    def error_reply(self) -> ErrorReply:
        def reply(status: int, detail: str, code: str | None) -> httpx.Response:
            return httpx.Response(status, json=verifa_error(code or "bad_request", detail, status))

        return reply

    @pytest.fixture
    def refusal(self) -> tuple[int, Call]:
        return 409, lambda a: a.cancel_session(S1)

    async def test_rate_limited_reply_maps(self, rate_limited_reply: httpx.Response) -> None:
        with pytest.raises(ProviderError) as info:
            await Script(rate_limited_reply).adapter().fetch_session(S1)
        assert info.value.code is ErrorCode.RATE_LIMITED
        assert info.value.retry_after == 12


# -- declaration --------------------------------------------------------------------------------
def test_declaration() -> None:
    assert VerifaAdapter.name == "verifa"
    assert VerifaAdapter.default_base_url == "https://api.withverifa.com"
    assert VerifaAdapter.credential_keys == ("api_key", "webhook_secret")
    assert VerifaAdapter.capabilities == {
        Capability.CREATE,
        Capability.READ,
        Capability.REFRESH,
        Capability.CANCEL,
        Capability.DECIDE,
        Capability.CONTINUE,
        Capability.RESUME,
        Capability.REPROCESS,
        Capability.UPDATE_METADATA,
        Capability.ISSUE_LINK,
        Capability.LIST,
        Capability.REDACT,
        Capability.WEBHOOKS,
        Capability.POLLING,
    }
    assert Capability.REQUEST_RESUBMISSION not in VerifaAdapter.capabilities
    assert VerifaAdapter.vocabulary() == VOCABULARY
    assert VerifaAdapter.input_support is INPUT_SUPPORT
    assert VerifaAdapter.undeclared_inputs() == ()


def test_poll_policy_stays_under_the_lowest_plan() -> None:
    policy = VerifaAdapter.poll_policy
    assert policy is inferred.POLL_POLICY
    assert policy.requests_per_minute <= 300 / 2  # Free plan: 300 req/min (rate-limiting page)
    assert 0 < policy.interval_s <= policy.max_interval_s


@pytest.mark.parametrize(
    ("status", "polled"),
    [
        ("pending", False),  # session.started / session.expired cover it
        ("capturing", True),  # capturing → processing has no event
        ("processing", True),  # → failed / awaiting_external have no event
        ("awaiting_external", True),
        ("resubmission_required", True),  # back to capture: its next processing has no event
        ("under_review", False),  # session.approved / declined cover it
        ("sandbox_pending", False),
        ("completed", True),  # the result is not out yet
        ("completed:approved", False),
        ("completed:rejected", False),
        ("completed:needs_review", False),
        ("completed:something_new", True),
        ("expired", False),
        ("failed", False),
        ("unknown", False),
        ("processing:approved", False),
    ],
)
def test_needs_polling(status: str, polled: bool) -> None:
    assert VerifaAdapter(make_config()).needs_polling(status) is polled


# -- create --------------------------------------------------------------------------------------
async def test_create_sends_the_documented_body_and_maps_the_response(
    verifa: VerifaAdapter,
) -> None:
    # json_body matching: the cassette holds the exact body Verifa must receive (its curl).
    with recorder.use_cassette("create_session_201.yaml") as cassette:
        snap = await verifa.create_session(doc_request())
    assert_all_played(cassette, 1)
    assert snap.provider_session_id == S1
    assert snap.provider_status == "pending"
    assert snap.status is SessionStatus.CREATED
    assert snap.verification_url == "https://app.withverifa.com/verify/tok_abc123..."
    assert snap.qr_code == "data:image/png;base64,..."
    assert snap.client_reference == "user_abc123"
    assert snap.environment is Environment.LIVE
    assert snap.expires_at == datetime(2026, 2, 1, 12, 20, tzinfo=UTC)
    assert snap.occurred_at == datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    assert snap.decision is None and snap.timeline == ()
    assert snap.raw["capture_url"].startswith("https://app.withverifa.com/")


async def test_create_sends_headers_and_a_key_derived_from_the_callers() -> None:
    script = Script(ok(status=201), ok(session()), ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(doc_request(idempotency_key="order-42"))
    await adapter.fetch_session(S1)
    await adapter.create_session(doc_request(idempotency_key="order-42"))
    create, read, again = script.requests
    assert create.method == "POST" and create.url == f"{BASE}/api/v1/sessions"
    # A UUID derived from the caller's key: the same for the caller's own retry, free of
    # whatever the caller put in it, within Verifa's 255 characters.
    key = create.headers["Idempotency-Key"]
    assert key == derive_key(CREATE_KEY_SCOPE, "order-42") == again.headers["Idempotency-Key"]
    assert "order-42" not in key
    for request in script.requests:
        assert request.headers["X-API-Key"] == API_KEY
        assert request.headers["Verifa-Version"] == "2026-01-01"
        assert request.headers["Key-Inflection"] == "snake"
    assert "Idempotency-Key" not in read.headers  # the key never leaks to later calls
    await adapter.aclose()


async def test_create_generates_an_idempotency_key_when_none_is_given() -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(CreateSessionRequest())
    await adapter.create_session(CreateSessionRequest())
    keys = [r.headers["Idempotency-Key"] for r in script.requests]
    assert all(keys) and keys[0] != keys[1]
    assert all(len(k) <= 255 for k in keys)


async def test_create_maps_every_normalized_field() -> None:
    request = CreateSessionRequest(
        client_reference="user-123",
        metadata={"tier": "gold"},
        return_url="https://example.com/done",
        expires_in=3600,
        language="fr",
        contact=Contact(email="jane.doe@example.com", phone="+15555550100"),
        expected_person=ExpectedPerson(
            first_name="Jane",
            last_name="Doe",
            date_of_birth=date(1990, 5, 17),
            nationality="usa",
            document_country="GBR",
        ),
        workflow_id="workflow_custom_kyc",
        provider_options={
            "checks": ["document", "selfie"],
            "send_email": True,
            "fields": {"gender": "F", "first_name": "Jane"},
        },
    )
    script = Script(ok(status=201), ok(LINK))
    await script.adapter().create_session(request)
    assert script.sent_json(0) == {
        "external_ref": "user-123",
        "country": "GB",
        "workflow_id": "workflow_custom_kyc",
        "checks": ["document", "selfie"],
        "metadata": {"tier": "gold"},
        "redirect_url": "https://example.com/done",
        "fields": {
            "first_name": "Jane",
            "last_name": "Doe",
            "date_of_birth": "1990-05-17",
            "nationality": "USA",
            "email": "jane.doe@example.com",
            "phone": "+15555550100",
            "gender": "F",
        },
        "send_email": True,
    }  # language: no Verifa field (IGNORED); expires_in: the one-time link's minutes
    assert script.sent_json(1) == {"expires_in_minutes": 60}


async def test_create_minimal_body_and_workflow_from_settings() -> None:
    script = Script(ok(status=201))
    await script.adapter().create_session(CreateSessionRequest())
    assert script.sent_json() == {}
    script = Script(ok(status=201))
    adapter = script.adapter(options={"workflow_id": "workflow_default_kyc"})
    await adapter.create_session(CreateSessionRequest())
    assert script.sent_json() == {"workflow_id": "workflow_default_kyc"}


async def test_country_option_and_document_country_may_agree() -> None:
    script = Script(ok(status=201))
    await script.adapter().create_session(
        CreateSessionRequest(
            expected_person=ExpectedPerson(document_country="USA"),
            provider_options={"country": "us"},
        )
    )
    assert script.sent_json() == {"country": "US"}


@pytest.mark.parametrize(
    ("request_", "code", "field"),
    [
        (
            CreateSessionRequest(provider_options={"language_hint": "fr"}),
            ErrorCode.BAD_USER_INPUT,
            ("input", "providerOptions", "language_hint"),
        ),
        (
            CreateSessionRequest(provider_options={"country": "USA"}),
            ErrorCode.BAD_USER_INPUT,
            ("input", "providerOptions", "country"),
        ),
        (
            CreateSessionRequest(provider_options={"checks": "document"}),
            ErrorCode.BAD_USER_INPUT,
            ("input", "providerOptions", "checks"),
        ),
        (
            CreateSessionRequest(provider_options={"send_email": "yes"}),
            ErrorCode.BAD_USER_INPUT,
            ("input", "providerOptions", "send_email"),
        ),
        (
            CreateSessionRequest(provider_options={"fields": ["first_name"]}),
            ErrorCode.BAD_USER_INPUT,
            ("input", "providerOptions", "fields"),
        ),
        (
            CreateSessionRequest(
                expected_person=ExpectedPerson(first_name="Jane"),
                provider_options={"fields": {"first_name": "John"}},
            ),
            ErrorCode.BAD_USER_INPUT,
            ("input", "providerOptions", "fields"),
        ),
        (
            CreateSessionRequest(expected_person=ExpectedPerson(document_country="XXX")),
            ErrorCode.BAD_USER_INPUT,
            ("input", "expectedPerson", "documentCountry"),
        ),
        (
            CreateSessionRequest(
                expected_person=ExpectedPerson(document_country="FRA"),
                provider_options={"country": "DE"},
            ),
            ErrorCode.BAD_USER_INPUT,
            ("input", "providerOptions", "country"),
        ),
    ],
    ids=[
        "unknown-option",
        "country-alpha3",
        "checks-not-list",
        "send-email-not-bool",
        "fields-not-object",
        "fields-contradict",
        "unknown-document-country",
        "countries-contradict",
    ],
)
async def test_create_rejects_bad_input_without_calling_verifa(
    request_: CreateSessionRequest, code: ErrorCode, field: tuple[str, ...]
) -> None:
    script = Script(ok(status=201))
    with pytest.raises(ProviderError) as info:
        await script.adapter().create_session(request_)
    assert info.value.code is code
    assert info.value.field == field
    assert script.requests == []


async def test_document_types_are_ignored_not_refused() -> None:
    """Verifa's create takes no document types (https://docs.withverifa.com/core-concepts/sessions,
    Request parameters): the gateway warns (INPUT_IGNORED), the adapter sends nothing."""
    script = Script(ok(status=201))
    person = ExpectedPerson(document_types=(DocumentType.PASSPORT,))
    await script.adapter().create_session(CreateSessionRequest(expected_person=person))
    assert script.sent_json() == {}
    assert INPUT_SUPPORT["expected_person.document_types"].support is InputSupport.IGNORED
    assert INPUT_SUPPORT["language"].support is InputSupport.IGNORED


async def test_expires_in_becomes_a_one_time_link_with_its_minutes() -> None:
    """The link takes `expires_in_minutes` ("Custom expiry in minutes"); the session's way in is
    that link, and its expiry is the session's (inferred: LINK_EXPIRY_IS_SESSION_EXPIRY)."""
    script = Script(ok(CREATED, status=201), ok(LINK))
    snap = await script.adapter().create_session(CreateSessionRequest(expires_in=90))
    create, link = script.requests
    assert (link.method, link.url.path) == ("POST", f"/api/v1/sessions/{S1}/generate-one-time-link")
    assert script.sent_json(1) == {"expires_in_minutes": 2}  # 90 s, rounded up
    assert link.headers["Idempotency-Key"] != create.headers["Idempotency-Key"]
    assert snap.verification_url == LINK["capture_url"]
    assert snap.qr_code == LINK["qr_code_data_url"]
    assert snap.expires_at == datetime(2026, 2, 1, 13, 0, tzinfo=UTC)
    assert snap.status is SessionStatus.CREATED
    assert snap.raw["link"]["id"] == "link_abc123"
    # Without expiresIn: no link call, Verifa's own capture URL and expiry.
    script = Script(ok(CREATED, status=201))
    snap = await script.adapter().create_session(CreateSessionRequest())
    assert len(script.requests) == 1
    assert snap.expires_at == datetime(2026, 2, 1, 12, 20, tzinfo=UTC)


async def test_a_refused_link_expiry_points_at_expires_in() -> None:
    refused = httpx.Response(
        422,
        json={
            "error": "validation_error",
            "detail": [{"loc": ["body", "expires_in_minutes"], "msg": "too large"}],
            "status_code": 422,
        },
    )
    script = Script(ok(CREATED, status=201), refused)
    with pytest.raises(ProviderError) as info:
        await script.adapter().create_session(CreateSessionRequest(expires_in=7_776_000))
    assert info.value.code is ErrorCode.BAD_USER_INPUT
    assert info.value.field == ("input", "expiresIn")


async def test_create_idempotency_mismatch_is_bad_input(verifa: VerifaAdapter) -> None:
    with (
        recorder.use_cassette("error_422_idempotency.yaml") as cassette,
        pytest.raises(ProviderError) as info,
    ):
        await verifa.create_session(doc_request())
    assert cassette.play_count == 1
    err = info.value
    assert err.code is ErrorCode.BAD_USER_INPUT
    assert err.field == ("input", "idempotencyKey")
    assert err.provider_code == "idempotency_mismatch"
    assert err.message == "Idempotency key has already been used with different parameters."
    assert err.http_status == 422


async def test_create_rate_limited_with_retry_after(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("error_429.yaml"), pytest.raises(ProviderError) as info:
        await verifa.create_session(doc_request())
    err = info.value
    assert err.code is ErrorCode.RATE_LIMITED
    assert err.retry_after == 12
    assert err.provider_code == "rate_limited"
    assert err.message == "Rate limit exceeded. Retry after 12 seconds."


async def test_read_rate_limited_reads_the_wait_from_the_message(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("error_429.yaml") as cassette, pytest.raises(ProviderError) as info:
        await verifa.fetch_session(S1)
    assert info.value.code is ErrorCode.RATE_LIMITED
    assert info.value.retry_after == 12
    assert cassette.play_count == 1  # a 429 is not retried here; the caller backs off


@pytest.mark.parametrize(
    ("options", "person", "field"),
    [
        ({"country": "ZZ"}, None, ("input", "providerOptions", "country")),
        (
            {},
            ExpectedPerson(document_country="PRK"),
            ("input", "expectedPerson", "documentCountry"),
        ),
    ],
    ids=["from-option", "from-person"],
)
async def test_vendor_country_error_points_at_the_input_used(
    options: dict[str, Any], person: ExpectedPerson | None, field: tuple[str, ...]
) -> None:
    reply = httpx.Response(
        422,
        json={
            "error": "validation_error",
            "detail": [{"loc": ["body", "country"], "msg": "Unsupported country."}],
            "status_code": 422,
        },
    )
    script = Script(reply)
    request = CreateSessionRequest(expected_person=person, provider_options=options)
    with pytest.raises(ProviderError) as info:
        await script.adapter().create_session(request)
    assert (info.value.code, info.value.field) == (ErrorCode.BAD_USER_INPUT, field)
    assert info.value.message == "country: Unsupported country."


# -- fetch: session + result ---------------------------------------------------------------------
async def test_fetch_under_review_reads_only_the_session(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("get_session_200.yaml") as cassette:
        snap = await verifa.fetch_session(S1)
    assert cassette.play_count == 1  # no result read for a session that is not completed
    assert snap.provider_status == "under_review"
    assert snap.status is SessionStatus.IN_REVIEW
    assert snap.environment is Environment.LIVE
    assert snap.client_reference == "user_abc123"
    assert snap.metadata == {"plan": "premium"}
    assert snap.verification_url is None and snap.qr_code is None
    assert snap.expires_at == datetime(2026, 2, 1, 12, 20, tzinfo=UTC)
    assert snap.occurred_at == datetime(2026, 2, 1, 12, 6, 10, tzinfo=UTC)
    assert snap.timeline == (
        TimelineEntry(SessionStatus.CREATED, "pending", datetime(2026, 2, 1, 12, 0, tzinfo=UTC)),
    )
    assert snap.decision is not None and snap.decision.outcome is Outcome.REVIEW
    assert snap.raw["session"]["case_id"] == "case_abc123" and snap.raw["result"] is None


async def test_fetch_pending_session_keeps_its_capture_url(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("get_session_200.yaml"):
        snap = await verifa.fetch_session("session_def456")
    assert snap.status is SessionStatus.CREATED
    assert snap.verification_url == "https://app.withverifa.com/verify/tok_def456..."
    assert snap.environment is Environment.SANDBOX  # from is_sandbox, not the config
    assert snap.timeline == ()
    assert snap.decision is None


async def test_fetch_completed_reads_the_result_approved(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("get_result_200.yaml") as cassette:
        snap = await verifa.fetch_session("session_test123")
    assert cassette.play_count == 2
    assert [r.uri.rsplit("/", 1)[-1] for r in cassette.requests[:2]] == [
        "result",
        "session_test123",
    ]
    assert snap.provider_status == "completed:approved"
    assert snap.status is SessionStatus.APPROVED
    assert snap.environment is Environment.SANDBOX
    decision = snap.decision
    assert decision is not None
    assert decision.outcome is Outcome.APPROVED
    assert decision.decided_by is DecidedBy.PROVIDER
    assert decision.reason_codes == () and decision.warnings == ()
    assert not [p for p in PII if p in json.dumps(decision.to_json())]
    assert snap.raw["result"]["extracted_data"]["first_name"] == "Jane"  # kept in raw only


async def test_fetch_completed_reads_the_result_declined(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("get_result_200.yaml"):
        snap = await verifa.fetch_session("session_test456")
    assert snap.provider_status == "completed:rejected"
    assert snap.status is SessionStatus.DECLINED
    decision = snap.decision
    assert decision is not None
    assert decision.outcome is Outcome.DECLINED
    assert decision.decided_by is DecidedBy.REVIEWER  # its review case was rejected
    assert decision.reason_codes == ("face_mismatch", "face_match_failed", "age_check_failed")
    assert decision.warnings == ("face_match_failed", "age_check_failed")
    assert not [p for p in PII if p in json.dumps(decision.to_json())]


async def test_fetch_completed_without_result_is_processing(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("get_result_404.yaml") as cassette:
        snap = await verifa.fetch_session("session_abc789")
    assert cassette.play_count == 2
    assert snap.provider_status == "completed"
    assert snap.status is SessionStatus.PROCESSING
    assert snap.decision is None
    assert verifa.needs_polling(snap.provider_status)


@pytest.mark.parametrize(
    ("result_status", "status", "outcome"),
    [
        ("approved", SessionStatus.APPROVED, Outcome.APPROVED),
        ("passed", SessionStatus.APPROVED, Outcome.APPROVED),
        ("rejected", SessionStatus.DECLINED, Outcome.DECLINED),
        ("declined", SessionStatus.DECLINED, Outcome.DECLINED),
        ("failed", SessionStatus.DECLINED, Outcome.DECLINED),
        ("needs_review", SessionStatus.IN_REVIEW, Outcome.REVIEW),
        ("expired", None, None),  # not in the table: raw kept, never guessed
        (None, SessionStatus.PROCESSING, None),  # a result without status says nothing yet
    ],
)
async def test_fetch_combines_session_and_result(
    result_status: str | None, status: SessionStatus | None, outcome: Outcome | None
) -> None:
    script = Script(ok(session("completed")), ok(result(result_status)))
    snap = await script.adapter().fetch_session(S1)
    assert [r.url.path for r in script.requests] == [
        f"/api/v1/sessions/{S1}",
        f"/api/v1/sessions/{S1}/result",
    ]
    assert snap.status is status
    assert (snap.decision.outcome if snap.decision else None) is outcome
    assert VerifaAdapter(make_config()).map_status(snap.provider_status) is status


@pytest.mark.parametrize(
    "raw_status",
    ["pending", "capturing", "processing", "awaiting_external", "sandbox_pending", "failed"],
)
async def test_fetch_reads_no_result_before_completion(raw_status: str) -> None:
    script = Script(ok(session(raw_status)))
    snap = await script.adapter().fetch_session(S1)
    assert len(script.requests) == 1
    assert snap.provider_status == raw_status
    assert snap.decision is None


async def test_fetch_approved_with_failed_checks_warns_without_reasons() -> None:
    body = result("approved", face_match_passed=False, sensitive_data_expired=True)
    snap = await Script(ok(session("completed")), ok(body)).adapter().fetch_session(S1)
    assert snap.decision is not None
    assert snap.decision.reason_codes == ()
    assert snap.decision.warnings == ("face_match_failed", "sensitive_data_expired")


@pytest.mark.parametrize(
    ("reason", "codes"),
    [
        ("document_expired", ("document_expired",)),
        ({"code": "blocklisted", "note": "Jane Doe"}, ("blocklisted",)),
        ("The face of Jane Doe did not match.", ()),  # free text stays in raw
        (None, ()),
    ],
)
async def test_rejection_reason_becomes_a_code_only_when_code_like(
    reason: Any, codes: tuple[str, ...]
) -> None:
    body = result("rejected", rejection_reason=reason)
    snap = await Script(ok(session("completed")), ok(body)).adapter().fetch_session(S1)
    assert snap.decision is not None
    assert snap.decision.reason_codes == codes
    assert "Jane" not in json.dumps(snap.decision.to_json())


async def test_fetch_unknown_session_status_keeps_raw() -> None:
    snap = await Script(ok(session("archived"))).adapter().fetch_session(S1)
    assert snap.status is None and snap.provider_status == "archived"


async def test_fetch_unknown_session_is_not_found() -> None:
    body = {"error": "not_found", "detail": "Session not found.", "status_code": 404}
    script = Script(httpx.Response(404, json=body))
    with pytest.raises(ProviderError) as info:
        await script.adapter().fetch_session(S1)
    assert (info.value.code, info.value.provider_code) == (ErrorCode.NOT_FOUND, "not_found")
    assert info.value.message == "Session not found."
    assert len(script.requests) == 1


# -- expire / resume / reprocess / link / update / redact ----------------------------------------
async def test_expire_a_completed_session_is_refused_with_verifas_message(
    verifa: VerifaAdapter,
) -> None:
    with recorder.use_cassette("expire_409.yaml"), pytest.raises(ProviderError) as info:
        await verifa.cancel_session("session_test123")
    err = info.value
    assert err.code is ErrorCode.PROVIDER_REJECTED
    assert err.provider_code == "invalid_session_state"
    assert err.message == "Session session_test123 is already completed and cannot be expired."
    assert err.http_status == 409


async def test_expire_an_active_session(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("expire_409.yaml"):
        snap = await verifa.cancel_session(S1)
    assert snap is not None
    assert snap.provider_status == "expired"
    assert snap.status is SessionStatus.EXPIRED
    assert snap.occurred_at == datetime(2026, 2, 1, 12, 10, tzinfo=UTC)


async def test_resume_gives_a_fresh_link(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("resume_200.yaml") as cassette:
        snap = await verifa.resume_session(S1)
    assert_all_played(cassette, 1)
    assert snap is not None
    assert snap.status is SessionStatus.CREATED
    assert snap.verification_url == "https://app.withverifa.com/verify/tok_resumed..."
    assert snap.qr_code == "data:image/png;base64,..."
    assert snap.expires_at == datetime(2026, 2, 2, 9, 20, tzinfo=UTC)


async def test_reprocess_is_accepted(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("reprocess_202.yaml") as cassette:
        snap = await verifa.reprocess_session("session_test123")
    assert_all_played(cassette, 1)
    assert snap is not None
    assert snap.provider_session_id == "session_test123"
    assert snap.status is SessionStatus.PROCESSING


async def test_reprocess_without_a_usable_status_lets_the_gateway_read() -> None:
    script = Script(ok({"session_id": S1, "status": "queued"}, status=202))
    assert await script.adapter().reprocess_session(S1) is None


async def test_issue_link_takes_the_new_link_and_reads_the_session(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("one_time_link_200.yaml") as cassette:
        snap = await verifa.issue_link(S1)
    assert_all_played(cassette, 2)  # POST link with its `{}` body (matched), then GET session
    assert snap.verification_url == "https://app.withverifa.com/verify/tok_link123..."
    assert snap.qr_code == "data:image/png;base64,..."
    assert snap.provider_status == "pending"  # the session's, not the link's "active"
    assert snap.status is SessionStatus.CREATED
    assert snap.raw["link"]["id"] == "link_abc123"
    assert snap.expires_at == datetime(2026, 2, 1, 13, 0, tzinfo=UTC)  # the link's expiry


async def test_issue_link_without_reread_uses_a_session_like_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inferred, "REREAD_SESSION_AFTER_LINK", False)
    link = {"id": "link_1", "session_id": S1, "capture_url": "https://x.example.com/t"}
    script = Script(ok({**link, "status": "pending"}))
    snap = await script.adapter().issue_link(S1)
    assert len(script.requests) == 1
    assert snap.status is SessionStatus.CREATED
    assert snap.verification_url == "https://x.example.com/t"
    script = Script(ok({**link, "status": "active"}), ok(session("capturing")))
    snap = await script.adapter().issue_link(S1)
    assert len(script.requests) == 2 and snap.status is SessionStatus.IN_PROGRESS


async def test_update_metadata_sends_a_merge_patch(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("update_metadata_200.yaml") as cassette:
        snap = await verifa.update_metadata(S1, {"plan": "enterprise", "signup_source": None})
    assert_all_played(cassette, 1)  # json_body matched: the null is sent, it removes the key
    assert snap is not None
    assert snap.metadata == {"plan": "enterprise"}
    assert snap.status is SessionStatus.IN_REVIEW


async def test_update_metadata_of_a_completed_session_keeps_its_outcome() -> None:
    script = Script(ok(session("completed")), ok(result("approved")))
    snap = await script.adapter().update_metadata(S1, {"a": 1})
    assert [r.method for r in script.requests] == ["PATCH", "GET"]
    assert snap is not None and snap.status is SessionStatus.APPROVED


async def test_redact(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("redact_200.yaml") as cassette:
        assert await verifa.redact_session("session_test123") is None
    assert_all_played(cassette, 1)


async def test_redact_accepts_204() -> None:
    script = Script(httpx.Response(204))
    assert await script.adapter().redact_session(S1) is None
    assert script.requests[0].url.path == f"/api/v1/sessions/{S1}/data"


# -- the external gate and review cases ---------------------------------------------------------
#: Submit external gate decision: body `{decision, metadata}`, answer `{session_id, decision,
#: status, message}` (https://docs.withverifa.com/api-reference/sessions/submit-external-decision).
GATE_ANSWER = {
    "session_id": S1,
    "decision": "continue",
    "status": "processing",
    "message": "Decision accepted. The workflow will resume shortly.",
}
#: A review case as approve / reject / claim answer it
#: (https://docs.withverifa.com/api-reference/cases/approve-case).
CASE = {
    "id": "case_abc123",
    "session_id": S1,
    "status": "in_review",
    "created_at": "2026-02-01T12:03:00Z",
    "decision": None,
    "assigned_to": "orguser_abc123",
    "claimed_at": "2026-02-01T12:04:00Z",
    "entered_review_at": "2026-02-01T12:03:00Z",
    "decided_at": None,
}
REVIEWER = {"reviewer_id": "orguser_abc123"}  # the core-concepts/cases claim example's id
CONFLICT = httpx.Response(
    409,
    json={
        "error": "invalid_session_state",
        "detail": "Session is processing, not awaiting an external decision.",
        "status_code": 409,
    },
)


async def test_continue_submits_the_documented_decision_then_reads() -> None:
    script = Script(ok(GATE_ANSWER), ok(session("processing")))
    snap = await script.adapter().continue_session(S1)
    assert script.calls() == [
        f"POST /api/v1/sessions/{S1}/external-decision",
        f"GET /api/v1/sessions/{S1}",
    ]
    assert script.sent_json(0) == {"decision": "continue"}
    assert snap is not None and snap.status is SessionStatus.PROCESSING


async def test_continue_where_verifa_refuses_is_its_refusal() -> None:
    """ "The session must be in `awaiting_external` status"; Errors lists 409 Conflict."""
    script = Script(CONFLICT)
    with pytest.raises(ProviderError) as info:
        await script.adapter().continue_session(S1)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert info.value.message == "Session is processing, not awaiting an external decision."
    assert len(script.requests) == 1


async def test_decline_at_a_gate_rejects_it_and_the_decision_is_ours() -> None:
    """`reject` — "immediately reject the session"."""
    script = Script(
        ok(session("awaiting_external")),
        ok({**GATE_ANSWER, "decision": "reject", "status": "completed"}),
        ok(session("completed")),
        ok(result("rejected", rejection_reason="external_rejected")),
    )
    snap = await script.adapter().decide_session(S1, DecisionAction.DECLINE, "sanctions hit")
    assert script.calls() == [
        f"GET /api/v1/sessions/{S1}",
        f"POST /api/v1/sessions/{S1}/external-decision",
        f"GET /api/v1/sessions/{S1}",
        f"GET /api/v1/sessions/{S1}/result",
    ]
    assert script.sent_json(1) == {"decision": "reject", "metadata": {"reason": "sanctions hit"}}
    assert snap is not None and snap.status is SessionStatus.DECLINED
    assert snap.decision is not None
    assert (snap.decision.outcome, snap.decision.decided_by) == (
        Outcome.DECLINED,
        DecidedBy.INTEGRATOR,
    )
    assert snap.decision.reason_codes[0] == "external_rejected"


async def test_approve_at_a_gate_lets_the_workflow_continue() -> None:
    """`continue` — "resume executing the remaining workflow steps": not an approval yet."""
    script = Script(ok(session("awaiting_external")), ok(GATE_ANSWER), ok(session("processing")))
    snap = await script.adapter().decide_session(S1, DecisionAction.APPROVE, None)
    assert script.sent_json(1) == {"decision": "continue"}
    assert snap is not None and snap.status is SessionStatus.PROCESSING
    assert snap.decision is None


async def test_decline_under_review_claims_then_rejects_the_case() -> None:
    """Cases: claim `{"reviewer_id": …}` (https://docs.withverifa.com/core-concepts/cases),
    reject `{reviewer_id, notes, rejection_reason}` (…/api-reference/cases/reject-case)."""
    script = Script(
        ok(session("under_review", case_id="case_abc123", case_status="open")),
        ok(CASE),
        ok({**CASE, "status": "rejected", "decision": "rejected"}),
        ok(session("completed", case_id="case_abc123", case_status="rejected")),
        ok(result("rejected", rejection_reason="document_expired")),
    )
    adapter = script.adapter(options=REVIEWER)
    snap = await adapter.decide_session(S1, DecisionAction.DECLINE, "document_expired")
    assert script.calls() == [
        f"GET /api/v1/sessions/{S1}",
        "POST /api/v1/cases/case_abc123/claim",
        "POST /api/v1/cases/case_abc123/reject",
        f"GET /api/v1/sessions/{S1}",
        f"GET /api/v1/sessions/{S1}/result",
    ]
    assert script.sent_json(1) == REVIEWER
    assert script.sent_json(2) == {
        **REVIEWER,
        "notes": "document_expired",
        "rejection_reason": "document_expired",
    }
    assert snap is not None and snap.status is SessionStatus.DECLINED
    # A case decided through our decideSession is ours, not a console reviewer's.
    assert snap.decision is not None and snap.decision.decided_by is DecidedBy.INTEGRATOR


async def test_approve_under_review_goes_on_when_the_case_is_already_claimed() -> None:
    claimed = httpx.Response(
        409, json={"error": "conflict", "detail": "Case already claimed.", "status_code": 409}
    )
    script = Script(
        ok(session("under_review", case_id="case_abc123", case_status="in_review")),
        claimed,
        ok({**CASE, "status": "approved", "decision": "approved"}),
        ok(session("completed", case_id="case_abc123", case_status="approved")),
        ok(result("approved")),
    )
    snap = await script.adapter(options=REVIEWER).decide_session(S1, DecisionAction.APPROVE, None)
    assert script.calls()[2] == "POST /api/v1/cases/case_abc123/approve"
    assert script.sent_json(2) == REVIEWER
    assert snap is not None and snap.status is SessionStatus.APPROVED
    assert snap.decision is not None and snap.decision.decided_by is DecidedBy.INTEGRATOR


async def test_a_dual_review_recommendation_leaves_the_session_in_review() -> None:
    """ "If the organization has dual review enabled, the first call submits a recommendation"."""
    script = Script(
        ok(session("under_review", case_id="case_abc123", case_status="open")),
        ok(CASE),
        ok({**CASE, "status": "pending_second_review"}),
        ok(session("under_review", case_id="case_abc123", case_status="pending_second_review")),
    )
    snap = await script.adapter(options=REVIEWER).decide_session(S1, DecisionAction.APPROVE, None)
    assert snap is not None and snap.status is SessionStatus.IN_REVIEW
    assert snap.decision is None or snap.decision.decided_by is not DecidedBy.INTEGRATOR


async def test_a_case_decision_needs_a_configured_reviewer() -> None:
    script = Script(ok(session("under_review", case_id="case_abc123")))
    with pytest.raises(ProviderError) as info:
        await script.adapter().decide_session(S1, DecisionAction.APPROVE, None)
    assert info.value.code is ErrorCode.UNSUPPORTED_BY_PROVIDER
    assert "KYCGW_VERIFA_REVIEWER_ID" in info.value.message
    assert len(script.requests) == 1


async def test_a_reviewed_session_without_a_case_is_refused() -> None:
    script = Script(ok(session("under_review")))
    with pytest.raises(ProviderError) as info:
        await script.adapter(options=REVIEWER).decide_session(S1, DecisionAction.APPROVE, None)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert len(script.requests) == 1


@pytest.mark.parametrize("status", ["pending", "processing", "completed", "expired"])
async def test_no_decision_outside_the_gate_and_review(status: str) -> None:
    script = Script(ok(session(status)))
    with pytest.raises(ProviderError) as info:
        await script.adapter(options=REVIEWER).decide_session(S1, DecisionAction.DECLINE, None)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert status in info.value.message
    assert len(script.requests) == 1


async def test_request_resubmission_is_not_a_verifa_decision() -> None:
    script = Script(ok(session("under_review")))
    with pytest.raises(ProviderError) as info:
        await script.adapter().decide_session(S1, DecisionAction.REQUEST_RESUBMISSION, None)
    assert info.value.code is ErrorCode.UNSUPPORTED_BY_PROVIDER
    assert script.requests == []


# -- list ----------------------------------------------------------------------------------------
async def test_list_follows_offset_pagination_and_filters(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("list_sessions_200.yaml") as cassette:
        snaps = await verifa.list_sessions(client_reference="user_abc123", limit=10)
    assert_all_played(cassette, 2)
    assert [s.provider_session_id for s in snaps] == ["session_abc123", "session_old001"]
    assert [s.status for s in snaps] == [SessionStatus.PROCESSING, SessionStatus.EXPIRED]
    assert all(s.client_reference == "user_abc123" for s in snaps)


async def test_list_stops_at_the_limit_and_caps_the_page_size() -> None:
    script = Script(ok({"data": [session()] * 100, "pagination": {"total": 500}}))
    snaps = await script.adapter().list_sessions(limit=250)
    queries = [r.url.params for r in script.requests]
    assert [(q["limit"], q["offset"]) for q in queries] == [
        ("100", "0"),
        ("100", "100"),
        ("50", "200"),
    ]
    assert len(snaps) == 250 and "q" not in queries[0]


async def test_list_stops_on_a_short_page_without_total() -> None:
    script = Script(ok({"data": [session()]}))
    assert len(await script.adapter().list_sessions(limit=5)) == 1
    assert len(script.requests) == 1


async def test_list_stops_on_an_empty_page_and_zero_limit_calls_nothing() -> None:
    script = Script(ok({"data": [], "pagination": {"total": 10}}))
    assert await script.adapter().list_sessions() == []
    assert len(script.requests) == 1
    script = Script(ok({"data": []}))
    assert await script.adapter().list_sessions(limit=0) == []
    assert script.requests == []


# -- list (import) -------------------------------------------------------------------------------
async def test_list_pages_follow_the_documented_offsets_to_the_last_page(
    verifa: VerifaAdapter,
) -> None:
    with recorder.use_cassette("list_pages_200.yaml") as cassette:
        first = await verifa.list_page(None, page_size=2)
        last = await verifa.list_page(first.next_cursor, page_size=2)
    assert_all_played(cassette, 2)
    assert first.next_cursor == "2" and last.next_cursor is None
    rows = [*first.sessions, *last.sessions]
    assert [s.provider_session_id for s in rows] == [
        "session_abc123",
        "session_def456",
        "session_ghi789",
    ]
    # The adapter's usual snapshot of a session resource; no result read per item.
    assert [(s.provider_status, s.status) for s in rows] == [
        ("under_review", SessionStatus.IN_REVIEW),
        ("completed", SessionStatus.PROCESSING),
        ("expired", SessionStatus.EXPIRED),
    ]
    assert [s.client_reference for s in rows] == ["user_abc123", "user_def456", "user_ghi789"]


async def test_list_page_reads_each_items_created_at(verifa: VerifaAdapter) -> None:
    with recorder.use_cassette("list_pages_200.yaml"):
        first = await verifa.list_page(None, page_size=2)
        last = await verifa.list_page(first.next_cursor, page_size=2)
    assert [s.created_at for s in (*first.sessions, *last.sessions)] == [
        datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 1, 31, 8, 0, 0, 250000, tzinfo=UTC),
        datetime(2026, 1, 30, 10, 0, tzinfo=UTC),
    ]


async def test_list_page_reads_a_time_without_zone_as_utc() -> None:
    script = Script(ok({"data": [session(created_at="2026-02-01T12:00:00")]}))
    (row,) = (await script.adapter().list_page(None, page_size=5)).sessions
    assert row.created_at == datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "cursor",
    [
        "offset=2",  # a query, not this adapter's cursor
        "https://evil.example.com/api/v1/sessions?limit=2&offset=2",  # a URL to another host
        "/api/v1/sessions?offset=2",
        "-1",
        "02",
        "2.0",
        "\u00b2",  # a digit to str.isdigit, not to int()
        "",
    ],
)
async def test_a_cursor_not_from_this_list_is_bad_input(cursor: str) -> None:
    script = Script(ok({"data": []}))
    with pytest.raises(ProviderError) as info:
        await script.adapter().list_page(cursor, page_size=2)
    assert info.value.code is ErrorCode.BAD_USER_INPUT
    assert script.requests == []  # refused before any call


async def test_list_page_is_one_request_with_the_page_size_capped() -> None:
    script = Script(ok({"data": [session()] * 100, "pagination": {"total": 500}}))
    page = await script.adapter().list_page("200", page_size=250)
    assert [(r.url.params["limit"], r.url.params["offset"]) for r in script.requests] == [
        ("100", "200")
    ]
    assert "q" not in script.requests[0].url.params
    assert page.next_cursor == "300"


@pytest.mark.parametrize(
    ("body", "next_cursor"),
    [
        ({"data": [], "pagination": {"total": 10}}, None),  # an empty page ends the list
        ({"data": [session()], "pagination": {"total": 1}}, None),  # the total reached
        ({"data": [session()]}, None),  # no total: a short page is the last
        ({"data": [session()] * 2}, "2"),  # no total, a full page: there may be more
    ],
    ids=["empty", "total", "short-without-total", "full-without-total"],
)
async def test_list_page_knows_the_last_page(body: dict[str, Any], next_cursor: str | None) -> None:
    page = await Script(ok(body)).adapter().list_page(None, page_size=2)
    assert page.next_cursor == next_cursor


async def test_list_page_walks_the_emulator_newest_first_to_its_last_page() -> None:
    """The sandbox serves pages the cursor can follow: every session once, newest first."""
    sandbox = VerifaAdapter.build_sandbox(
        SandboxConfig(
            public_base_url="http://gateway.test/sandbox/verifa",
            webhook_url="http://gateway.test/webhooks/verifa",
            webhook_transport=httpx.MockTransport(lambda _: httpx.Response(200)),
        )
    )
    assert sandbox is not None
    adapter = VerifaAdapter(
        make_config(
            environment=Environment.SANDBOX,
            base_url="http://verifa.sandbox",
            api_key=sandbox.api_key,
            webhook_secret=sandbox.webhook_secret,
            transport=httpx.ASGITransport(app=sandbox.app),
        )
    )
    try:
        made = [
            (await adapter.create_session(CreateSessionRequest(client_reference=f"u-{i}")))
            for i in range(5)
        ]
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await adapter.list_page(cursor, page_size=2)
            pages += 1
            seen += [s.provider_session_id for s in page.sessions]
            assert all(s.created_at is not None and s.created_at.tzinfo for s in page.sessions)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    finally:
        await adapter.aclose()
        await sandbox.aclose()
    assert pages == 3
    assert seen == [m.provider_session_id for m in reversed(made)]


# -- error mapping, shape by shape ---------------------------------------------------------------
def mapped(status: int, body: Any = None, headers: dict[str, str] | None = None) -> ProviderError:
    content = (
        b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    response = httpx.Response(status, content=content, headers=headers or {})
    return map_error(response, Scrubber((API_KEY,)), now=NOW)


def verifa_error(code: str, detail: Any, status: int) -> dict[str, Any]:
    return {"error": code, "detail": detail, "status_code": status}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"detail": [{"loc": ["body", "external_ref"], "msg": "too long"}]},
            ("input", "clientReference"),
        ),
        ({"detail": [{"loc": ["body", "redirect_url"], "msg": "bad"}]}, ("input", "returnUrl")),
        ({"errors": {"workflow_id": ["Unknown workflow."]}}, ("input", "workflowId")),
        ({"fields": {"metadata": "Too large."}}, ("input", "metadata")),
        ({"errors": {"fields.first_name": "bad"}}, ("input", "expectedPerson", "firstName")),
        (
            {"detail": [{"loc": ["body", "fields", "date_of_birth"], "msg": "bad date"}]},
            ("input", "expectedPerson", "dateOfBirth"),
        ),
        ({"errors": {"fields.email": "bad"}}, ("input", "contact", "email")),
        ({"errors": {"fields.gender": "bad"}}, ("input", "providerOptions", "fields")),
        ({"errors": {"checks": "unknown check"}}, ("input", "providerOptions", "checks")),
        ({"field": "send_email", "detail": "bad"}, ("input", "providerOptions", "send_email")),
        ({"errors": {"country": "bad"}}, ("input", "expectedPerson", "documentCountry")),
    ],
)
@pytest.mark.parametrize("status", [400, 422])
def test_field_errors_map_to_normalized_paths(
    body: dict[str, Any], field: tuple[str, ...], status: int
) -> None:
    err = mapped(status, {"error": "validation_error", **body, "status_code": status})
    assert (err.code, err.field) == (ErrorCode.BAD_USER_INPUT, field)
    assert err.provider_code == "validation_error"


# Verifa's documented error envelope: `error` is the provider code, `detail` the message.
DOCUMENTED_ERRORS = [
    (400, "unsupported_version", "API version 2024-01-01 is retired.", ErrorCode.PROVIDER_REJECTED),
    (422, "invalid_state", "Session is redacted.", ErrorCode.PROVIDER_REJECTED),
    (401, "unauthorized", "Invalid API key.", ErrorCode.PROVIDER_REJECTED),
    (403, "forbidden", "Missing scope sessions:write.", ErrorCode.PROVIDER_REJECTED),
    (404, "not_found", "Session not found.", ErrorCode.NOT_FOUND),
    (409, "conflict", "Session cannot be resumed.", ErrorCode.PROVIDER_REJECTED),
]


@pytest.mark.parametrize(("status", "vendor_code", "detail", "code"), DOCUMENTED_ERRORS)
def test_documented_errors_map(status: int, vendor_code: str, detail: str, code: ErrorCode) -> None:
    err = mapped(status, verifa_error(vendor_code, detail, status))
    assert (err.code, err.provider_code, err.http_status) == (code, vendor_code, status)
    assert err.message == detail
    assert err.field is None


@pytest.mark.parametrize(
    ("status", "body", "code", "provider_code", "message"),
    [
        (409, {"error": "locked"}, ErrorCode.PROVIDER_REJECTED, "locked", "locked"),
        (409, None, ErrorCode.PROVIDER_REJECTED, "conflict", "Verifa answered HTTP 409"),
        (
            500,
            b"<html>oops</html>",
            ErrorCode.PROVIDER_UNAVAILABLE,
            "http_500",
            "Verifa answered HTTP 500",
        ),
        (503, None, ErrorCode.PROVIDER_UNAVAILABLE, "http_503", "Verifa answered HTTP 503"),
        (418, {}, ErrorCode.PROVIDER_REJECTED, "http_418", "Verifa answered HTTP 418"),
    ],
)
def test_undocumented_bodies_map(
    status: int, body: Any, code: ErrorCode, provider_code: str, message: str
) -> None:
    err = mapped(status, body)
    assert (err.code, err.provider_code, err.http_status) == (code, provider_code, status)
    assert err.message == message
    assert err.field is None


def test_idempotency_mismatch_wins_over_field_errors() -> None:
    body = verifa_error("idempotency_mismatch", "Key reused.", 422)
    err = mapped(422, {**body, "errors": {"external_ref": "x"}})
    assert err.field == ("input", "idempotencyKey")


def test_retry_after_variants() -> None:
    assert mapped(429, {}, {"Retry-After": "7"}).retry_after == 7
    assert mapped(429, {}, {"Retry-After": "Sun, 01 Feb 2026 12:05:45 GMT"}).retry_after == 45
    assert mapped(429, {}, {"X-RateLimit-Reset": str(TS + 20)}).retry_after == 20
    assert mapped(429, {}, {"X-RateLimit-Reset": "30"}).retry_after == 30
    assert mapped(429, verifa_error("rate_limited", "Slow down.", 429)).retry_after is None


def test_messages_are_capped() -> None:
    assert len(mapped(409, verifa_error("x", "y " * 1000, 409)).message) <= 500


# -- scrubbing -----------------------------------------------------------------------------------
async def test_configured_extra_secrets_are_scrubbed_from_codes_and_messages() -> None:
    body = verifa_error("tenant-secret-42", "tenant-secret-42 is reserved", 400)
    script = Script(httpx.Response(400, json=body))
    adapter = script.adapter(secrets_to_scrub=("tenant-secret-42",))
    with pytest.raises(ProviderError) as info:
        await adapter.create_session(CreateSessionRequest(client_reference="x"))
    assert "tenant-secret-42" not in info.value.message
    assert "tenant-secret-42" not in (info.value.provider_code or "")


# -- http: paths, headers, retries ---------------------------------------------------------------
async def test_paths_have_no_trailing_slash_and_carry_the_headers() -> None:
    script = Script(
        ok(CREATED, status=201),
        ok(session("completed")),
        ok(result()),
        ok(session("expired", expired_at="2026-02-01T12:10:00Z")),
        ok(session("pending")),
        ok({"session_id": S1, "status": "processing"}, status=202),
        ok(session("pending")),
        ok({"capture_url": "https://x.example.com/t"}),
        ok(session("pending")),
        ok({"data": [], "pagination": {"total": 0}}),
        ok({"status": "redacted"}),
    )
    adapter = script.adapter()
    await adapter.create_session(CreateSessionRequest())
    await adapter.fetch_session(S1)
    await adapter.cancel_session(S1)
    await adapter.resume_session(S1)
    await adapter.reprocess_session(S1)
    await adapter.update_metadata(S1, {"a": None})
    await adapter.issue_link(S1)
    await adapter.list_sessions(client_reference="u 1&x")
    await adapter.redact_session(S1)
    assert [(r.method, r.url.path) for r in script.requests] == [
        ("POST", "/api/v1/sessions"),
        ("GET", f"/api/v1/sessions/{S1}"),
        ("GET", f"/api/v1/sessions/{S1}/result"),
        ("POST", f"/api/v1/sessions/{S1}/expire"),
        ("POST", f"/api/v1/sessions/{S1}/resume"),
        ("POST", f"/api/v1/sessions/{S1}/reprocess"),
        ("PATCH", f"/api/v1/sessions/{S1}"),
        ("POST", f"/api/v1/sessions/{S1}/generate-one-time-link"),
        ("GET", f"/api/v1/sessions/{S1}"),
        ("GET", "/api/v1/sessions"),
        ("DELETE", f"/api/v1/sessions/{S1}/data"),
    ]
    assert script.requests[9].url.params["q"] == "u 1&x"
    for request in script.requests:
        assert not request.url.path.endswith("/")
        assert request.url.host == "api.withverifa.com"
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["verifa-version"] == "2026-01-01"
        assert request.headers["key-inflection"] == "snake"
    assert script.sent_json(6) == {"metadata": {"a": None}}
    await adapter.aclose()


@pytest.mark.parametrize(
    "base_url",
    ["https://api.withverifa.com/api/v1", "https://api.withverifa.com/api/v1/"],
)
async def test_base_url_spelled_with_the_version_prefix_works(base_url: str) -> None:
    script = Script(ok(session()))
    await script.adapter(base_url=base_url).fetch_session(S1)
    assert script.requests[0].url.path == f"/api/v1/sessions/{S1}"


async def test_sandbox_style_base_url() -> None:
    script = Script(ok(session()))
    await script.adapter(base_url="http://verifa.sandbox").fetch_session(S1)
    assert str(script.requests[0].url) == f"http://verifa.sandbox/api/v1/sessions/{S1}"


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.Response(500), httpx.ReadTimeout("slow"), httpx.ConnectError("x")],
    ids=["503", "500", "timeout", "connect"],
)
async def test_create_is_retried_with_the_same_key(failure: httpx.Response | Exception) -> None:
    """Verifa keeps an Idempotency-Key 24 h and answers the same key + parameters with the
    original response (https://docs.withverifa.com/api-details/idempotency): a create whose
    answer was lost is retried with that very key, so it is still one session."""
    script = Script(failure, ok(CREATED, status=201))
    snap = await script.adapter().create_session(doc_request())
    assert snap.provider_session_id == S1
    first, second = script.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.content == second.content


async def test_create_gives_up_after_the_configured_attempts() -> None:
    script = Script(httpx.Response(503))
    await assert_unavailable(
        script, script.adapter().create_session(CreateSessionRequest()), attempts=3
    )
    assert len({r.headers["Idempotency-Key"] for r in script.requests}) == 1


async def test_create_is_not_retried_on_a_refusal() -> None:
    script = Script(httpx.Response(400, json={"error": "bad_request", "detail": "No."}))
    with pytest.raises(ProviderError):
        await script.adapter().create_session(CreateSessionRequest())
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("call", "reply"),
    [
        (lambda a: a.cancel_session(S1), ok(session("expired"))),
        (lambda a: a.resume_session(S1), ok(session("pending"))),
        (lambda a: a.update_metadata(S1, {"a": 1}), ok(session("pending"))),
        (lambda a: a.issue_link(S1), ok(LINK)),
    ],
    ids=["expire", "resume", "update", "link"],
)
async def test_writes_that_take_a_key_send_one_and_retry_with_it(
    call: Callable[[VerifaAdapter], Any], reply: httpx.Response
) -> None:
    """Expire, resume, update and the one-time link list `Idempotency-Key` among their headers
    (https://docs.withverifa.com/api-reference/sessions/expire-session, …/resume-session,
    …/update-session, …/generate-session-link)."""
    script = Script(httpx.Response(503), reply, ok(session("pending")))
    await call(script.adapter())
    first, second = script.requests[:2]
    assert first.method == second.method and first.url == second.url
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    other = Script(reply, ok(session("pending")))
    await call(other.adapter())  # one key per call, shared by its retries only
    assert other.requests[0].headers["Idempotency-Key"] != first.headers["Idempotency-Key"]


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.reprocess_session(S1),
        lambda a: a.continue_session(S1),
    ],
    ids=["reprocess", "external-decision"],
)
async def test_writes_without_a_documented_key_are_never_retried(
    call: Callable[[VerifaAdapter], Any],
) -> None:
    script = Script(httpx.Response(503))
    await assert_unavailable(script, call(script.adapter()), attempts=1)
    assert "Idempotency-Key" not in script.requests[0].headers


# -- webhooks ------------------------------------------------------------------------------------
def fixture_body(name: str) -> dict[str, Any]:
    return json.loads((CASSETTES / name).read_text(encoding="utf-8"))["body"]


def flat_event(event: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": event,
        "idempotency_key": "idk_0001",
        "session_id": S1,
        "external_ref": "user_abc123",
        "is_sandbox": False,
        **fields,
    }
    return {k: v for k, v in body.items() if v is not None}


def nested_event(event: str, status: str | None, **data: Any) -> dict[str, Any]:
    return {
        "event": event,
        "data": {
            "session_id": S1,
            "external_ref": "user_abc123",
            "status": status,
            "is_sandbox": True,
            "created_at": "2026-02-01T12:00:00Z",
            **data,
        },
        "created_at": "2026-02-01T12:04:30Z",
    }


def parse(
    body: dict[str, Any] | bytes,
    adapter: VerifaAdapter | None = None,
    **headers: str,
) -> Any:
    raw, signed = sign_webhook(body)
    signed.update({k.replace("_", "-"): v for k, v in headers.items()})
    return (adapter or VerifaAdapter(make_config())).parse_webhook(raw, signed)


def test_documented_nested_shape() -> None:
    [event] = parse(fixture_body("webhook_nested.json"))
    assert event.event_type == "session.approved"
    assert event.provider_session_id == S1
    raw, _ = sign_webhook(fixture_body("webhook_nested.json"))
    assert event.dedupe_key == signed_body_key(raw)  # no idempotency_key: the signed bytes
    assert event.refetch is True  # no result in the payload: read it for the check outcomes
    snap = event.snapshot
    assert snap.provider_status == "completed:approved"
    assert snap.status is SessionStatus.APPROVED
    assert snap.occurred_at == datetime(2026, 2, 1, 12, 5, tzinfo=UTC)
    assert snap.environment is Environment.LIVE
    assert snap.client_reference == "user_abc123"
    assert snap.decision.outcome is Outcome.APPROVED
    assert snap.decision.decided_at == snap.occurred_at
    assert event.received_payload == fixture_body("webhook_nested.json")


def test_documented_flat_shape() -> None:
    [event] = parse(fixture_body("webhook_flat.json"))
    assert event.dedupe_key == "idk_a1b2c3d4e5f6..."
    assert event.refetch is False  # the result came with it
    snap = event.snapshot
    assert snap.status is SessionStatus.APPROVED
    assert snap.client_reference == "user_456"
    assert snap.occurred_at is None  # the flat shape documents no event time
    assert snap.decision.outcome is Outcome.APPROVED
    assert snap.decision.warnings == ()
    assert "Jane" not in json.dumps(snap.decision.to_json())
    assert event.received_payload["result"]["extracted_data"]["first_name"] == "Jane"


def test_a_replay_with_a_new_delivery_id_is_the_same_event() -> None:
    """`X-Verifa-Delivery-Id` is not covered by `X-Verifa-Signature` (HMAC of the raw body,
    https://docs.withverifa.com/api-details/webhooks): a captured delivery of the documented
    nested shape (no `idempotency_key`) re-sent with a new id must dedupe the same."""
    raw, headers = sign_webhook(fixture_body("webhook_nested.json"))
    adapter = VerifaAdapter(make_config())
    [first] = adapter.parse_webhook(raw, {**headers, "X-Verifa-Delivery-Id": "whdel_001"})
    [replay] = adapter.parse_webhook(raw, {**headers, "X-Verifa-Delivery-Id": "whdel_999"})
    [bare] = adapter.parse_webhook(raw, headers)
    assert first.dedupe_key == replay.dedupe_key == bare.dedupe_key == signed_body_key(raw)
    assert "whdel" not in first.dedupe_key


def test_the_signed_idempotency_key_wins_over_the_header() -> None:
    """The flat shape's `idempotency_key` is "unique delivery ID for deduplication (same key on
    retries)" (https://docs.withverifa.com/tutorials/handling-webhook-events), and signed."""
    [event] = parse(fixture_body("webhook_flat.json"), X_Verifa_Delivery_Id="whdel_002")
    assert event.dedupe_key == "idk_a1b2c3d4e5f6..."


def test_without_an_idempotency_key_other_bytes_are_another_event() -> None:
    body = {"event": "session.started", "data": {"session_id": S1, "status": "capturing"}}
    [a] = parse(body)
    [b] = parse({**body, "data": {"session_id": S1, "status": "pending"}})
    assert a.dedupe_key.startswith("sha256:") and a.dedupe_key != b.dedupe_key
    [again] = parse(body)
    assert again.dedupe_key == a.dedupe_key
    [other] = parse({"event": "screening.completed", "data": {"session_id": S1}})
    assert other.dedupe_key.startswith("sha256:")


@pytest.mark.parametrize(
    ("body", "raw_status", "status", "refetch"),
    [
        (flat_event("session.created", status="pending"), "pending", SessionStatus.CREATED, False),
        (flat_event("session.created"), "pending", SessionStatus.CREATED, False),
        (
            flat_event("session.created", status="sandbox_pending"),
            "sandbox_pending",
            SessionStatus.AWAITING_DECISION,
            False,
        ),
        (flat_event("session.started"), "capturing", SessionStatus.IN_PROGRESS, False),
        (
            flat_event("session.awaiting_external", status="awaiting_external"),
            "awaiting_external",
            SessionStatus.AWAITING_DECISION,
            False,
        ),
        (
            flat_event("session.resubmission-required", status="capturing"),
            "resubmission_required",
            SessionStatus.AWAITING_USER,
            False,
        ),
        (
            flat_event("session.resubmission-required"),
            "resubmission_required",
            SessionStatus.AWAITING_USER,
            False,
        ),
        (flat_event("session.expired", status="expired"), "expired", SessionStatus.EXPIRED, False),
        (
            flat_event("session.requires-review", status="needs_review"),
            "under_review",
            SessionStatus.IN_REVIEW,
            False,
        ),
        (
            flat_event("session.requires-review", status="completed"),
            "completed",
            SessionStatus.PROCESSING,
            True,
        ),
        (
            flat_event("session.approved", status="approved", result={"face_match_passed": True}),
            "completed:approved",
            SessionStatus.APPROVED,
            False,
        ),
        (
            flat_event("session.declined", status="declined"),
            "completed:declined",
            SessionStatus.DECLINED,
            True,
        ),
        (
            flat_event("session.completed", status="completed"),
            "completed",
            SessionStatus.PROCESSING,
            True,
        ),
        (
            flat_event("session.completed", status="completed", result={"status": "needs_review"}),
            "completed:needs_review",
            SessionStatus.IN_REVIEW,
            False,
        ),
        (
            flat_event("session.completed", status="rejected", result={}),
            "completed:rejected",
            SessionStatus.DECLINED,
            False,
        ),
        (
            flat_event("session.failed", status="failed"),
            "failed",
            SessionStatus.FAILED,
            False,
        ),
        (
            flat_event("session.updated", status="completed", result={"status": "passed"}),
            "completed:passed",
            SessionStatus.APPROVED,
            False,
        ),
        (
            nested_event("session.approved", "approved"),
            "completed:approved",
            SessionStatus.APPROVED,
            True,
        ),
        (
            nested_event("session.requires-review", "under_review"),
            "under_review",
            SessionStatus.IN_REVIEW,
            False,
        ),
    ],
    ids=[
        "created",
        "created-no-status",
        "created-sandbox",
        "started",
        "awaiting-external",
        "resubmission-required",
        "resubmission-required-no-status",
        "expired",
        "requires-review",
        "requires-review-completed",
        "approved-with-result",
        "declined-minimal",
        "completed-without-result",
        "completed-with-result",
        "completed-status-in-payload",
        "undocumented-failed",
        "undocumented-completed",
        "nested-approved",
        "nested-review",
    ],
)
def test_session_events_become_snapshots(
    body: dict[str, Any], raw_status: str, status: SessionStatus, refetch: bool
) -> None:
    [event] = parse(body)
    assert event.snapshot is not None
    assert event.snapshot.provider_status == raw_status
    assert event.snapshot.status is status
    assert event.refetch is refetch
    adapter = VerifaAdapter(make_config())
    assert adapter.map_status(event.snapshot.provider_status) is status


def test_declined_event_carries_reason_codes() -> None:
    body = flat_event(
        "session.declined",
        status="declined",
        rejection_reason="document_expired",
        result={"face_match_passed": False, "age_check_passed": True},
    )
    [event] = parse(body)
    decision = event.snapshot.decision
    assert decision.outcome is Outcome.DECLINED
    assert decision.reason_codes == ("document_expired", "face_match_failed")
    assert decision.warnings == ("face_match_failed",)


def test_review_event_carries_a_review_decision() -> None:
    [event] = parse(nested_event("session.requires-review", "needs_review"))
    assert event.snapshot.decision.outcome is Outcome.REVIEW
    assert event.snapshot.environment is Environment.SANDBOX


@pytest.mark.parametrize(
    ("casing", "body"),
    [
        (
            "camel",
            {
                "event": "session.declined",
                "idempotencyKey": "idk_9",
                "sessionId": S1,
                "externalRef": "user_abc123",
                "isSandbox": True,
                "rejectionReason": "face_mismatch",
            },
        ),
        (
            "kebab",
            {
                "event": "session.declined",
                "idempotency-key": "idk_9",
                "session-id": S1,
                "external-ref": "user_abc123",
                "is-sandbox": True,
                "rejection-reason": "face_mismatch",
            },
        ),
    ],
)
def test_webhook_key_casing_is_normalized(casing: str, body: dict[str, Any]) -> None:
    [event] = parse(body)
    assert event.dedupe_key == "idk_9"
    assert event.provider_session_id == S1
    assert event.snapshot.status is SessionStatus.DECLINED
    assert event.snapshot.client_reference == "user_abc123"
    assert event.snapshot.environment is Environment.SANDBOX
    assert event.snapshot.decision.reason_codes == ("face_mismatch",)
    assert event.received_payload == body  # stored as received


@pytest.mark.parametrize(
    "event_type",
    [
        "session.redacted",
        "session.retention-expired",
        "session.link_generated",
        "screening.completed",
        "identity.flagged",
        "case.approved",
        "check.completed",
    ],
)
def test_other_events_are_acknowledged_without_snapshot(event_type: str) -> None:
    [event] = parse(flat_event(event_type, status="approved"))
    assert event.snapshot is None
    assert event.refetch is False
    assert event.dedupe_key == "idk_0001"
    assert event.provider_session_id == S1
    [event] = parse({"event": event_type, "idempotency_key": "idk_2"})
    assert event.provider_session_id is None


@pytest.mark.parametrize(
    "body",
    [
        {"event": "check.monitoring.new_hits", "data": [{"hit": 1}], "status": 3},
        {"event": "identity.updated", "idempotency_key": "idk_4", "session_id": 7},
        {"event": "case.created", "data": {"session_id": S1, "case_id": "case_1"}},
    ],
    ids=["data-list", "odd-types", "nested-session-id"],
)
def test_other_events_are_acknowledged_whatever_their_shape(body: dict[str, Any]) -> None:
    [event] = parse(body)
    assert event.snapshot is None and event.refetch is False
    assert event.dedupe_key
    assert event.provider_session_id == (S1 if "case_id" in str(body) else None)


def test_flat_event_time_is_a_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    body = flat_event("session.started", created_at="2026-02-01T12:04:00Z")
    [event] = parse(body)
    assert event.snapshot.occurred_at is None
    monkeypatch.setattr(inferred, "FLAT_SHAPE_HAS_EVENT_TIME", True)
    [event] = parse(body)
    assert event.snapshot.occurred_at == datetime(2026, 2, 1, 12, 4, tzinfo=UTC)


def test_undocumented_session_event_asks_for_a_read() -> None:
    [event] = parse(flat_event("session.tags_updated", status="tagged"))
    assert event.snapshot is None
    assert event.refetch is True
    [event] = parse({"event": "session.tags_updated", "idempotency_key": "idk_3"})
    assert event.refetch is False  # nothing to read without a session id


@pytest.mark.parametrize(
    "body",
    [
        {"session_id": S1, "status": "approved"},  # no event
        flat_event(""),
        flat_event("session.approved", session_id=None),
        nested_event("session.approved", "approved", session_id=None),
        flat_event("session.approved", status=5),
        flat_event("session.approved", result="approved"),
        flat_event("session.approved", is_sandbox="maybe"),
        {**nested_event("session.approved", "approved"), "created_at": "yesterday"},
        {"event": "session.approved", "data": "session_abc123"},
        {"event": ["session.approved"], "session_id": S1},
    ],
    ids=[
        "no-event",
        "empty-event",
        "flat-no-session",
        "nested-no-session",
        "int-status",
        "result-not-object",
        "bad-sandbox-flag",
        "bad-time",
        "data-not-object",
        "event-not-string",
    ],
)
def test_malformed_events_are_rejected(body: dict[str, Any]) -> None:
    with pytest.raises(WebhookRejected) as info:
        parse(body)
    assert info.value.reason is WebhookRejectReason.MALFORMED


def test_unknown_status_in_a_known_event_is_kept_raw() -> None:
    [event] = parse(flat_event("session.completed", status="completed", result={"status": "odd"}))
    assert event.snapshot.status is None
    assert event.snapshot.provider_status == "completed:odd"


def test_environment_falls_back_to_config() -> None:
    body = flat_event("session.started", is_sandbox=None)
    [event] = parse(body, VerifaAdapter(make_config(environment=Environment.SANDBOX)))
    assert event.snapshot.environment is Environment.SANDBOX


def test_webhook_time_comes_from_the_injected_clock() -> None:
    raw, headers = sign_webhook(flat_event("session.started"), timestamp=TS)
    later = VerifaAdapter(make_config(clock=lambda: datetime.fromtimestamp(TS + 301, UTC)))
    with pytest.raises(WebhookRejected) as info:
        later.parse_webhook(raw, headers)
    assert info.value.reason is WebhookRejectReason.TIMESTAMP


def test_webhook_tolerance_comes_from_config() -> None:
    raw, headers = sign_webhook(flat_event("session.started"), timestamp=TS - 120)
    with pytest.raises(WebhookRejected):
        VerifaAdapter(make_config(webhook_tolerance_s=60)).parse_webhook(raw, headers)
    assert VerifaAdapter(make_config()).parse_webhook(raw, headers)


def test_webhook_signed_with_another_secret_is_rejected() -> None:
    raw, headers = sign_webhook(flat_event("session.started"), secret="someone-else")
    with pytest.raises(WebhookRejected) as info:
        VerifaAdapter(make_config()).parse_webhook(raw, headers)
    assert info.value.reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize(("option", "accepted"), [(None, True), ("true", True), ("false", False)])
def test_legacy_signatures_follow_the_option(option: str | None, accepted: bool) -> None:
    raw, headers = sign_webhook(flat_event("session.started"), legacy=True)
    options = {} if option is None else {"legacy_signatures": option}
    adapter = VerifaAdapter(make_config(options=options))
    if accepted:
        assert adapter.parse_webhook(raw, headers)
    else:
        with pytest.raises(WebhookRejected) as info:
            adapter.parse_webhook(raw, headers)
        assert info.value.reason is WebhookRejectReason.SIGNATURE


# -- sandbox hook --------------------------------------------------------------------------------
def test_build_sandbox_returns_the_emulator_when_present() -> None:
    pytest.importorskip("adapters.verifa.sandbox")
    handle = VerifaAdapter.build_sandbox(local_sandbox_config("verifa"))
    assert isinstance(handle, SandboxHandle)
