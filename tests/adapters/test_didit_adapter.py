"""DiditAdapter against recorded Didit traffic (cassettes/didit) and a mock transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
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
    DecisionOptions,
    DocumentType,
    Environment,
    ErrorCode,
    ExpectedPerson,
    Outcome,
    ProviderError,
    SandboxHandle,
    SessionStatus,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.http import VendorHttp
from adapters.common.scrub import Scrubber
from adapters.didit.adapter import DiditAdapter
from adapters.didit.errors import map_error
from adapters.didit.statuses import DIDIT_STATUSES
from tests.adapters.conformance import EmulatorConformance, Webhook
from tests.adapters.http_conformance import Call, ErrorReply, HttpConformance
from tests.support.cassettes import assert_all_played, replayer
from tests.support.sandbox_harness import local_sandbox_config
from tests.support.scripted_vendor import LiveConfig, ScriptedVendor, assert_unavailable
from tests.support.signing.didit import sign_webhook

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes" / "didit"
API_KEY = "test-api-key"
WEBHOOK_SECRET = "test-webhook-secret"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
S1 = "11111111-2222-3333-4444-555555555555"
S2 = "22222222-3333-4444-5555-666666666666"
SDEL = "4c5c7f3a-3b1d-4b7e-9c39-2b4f7e6a1d02"

recorder = replayer(CASSETTES)
make_config = LiveConfig(
    base_url="https://verification.didit.me",
    api_key=API_KEY,
    webhook_secret=WEBHOOK_SECRET,
    now=NOW,
)


@pytest.fixture
async def didit() -> AsyncIterator[DiditAdapter]:
    adapter = DiditAdapter(make_config())
    yield adapter
    await adapter.aclose()


def full_request(**overrides: Any) -> CreateSessionRequest:
    values: dict[str, Any] = {
        "workflow_id": S1,
        "client_reference": "user-123",
        "return_url": "https://example.com/verification/callback",
        "metadata": {"user_type": "premium", "account_id": "ABC123"},
        "language": "en",
        "contact": Contact(email="jane.doe@example.com", phone="+15555550100"),
        "expected_person": ExpectedPerson(
            first_name="Jane",
            last_name="Doe",
            date_of_birth=date(1990, 5, 17),
            nationality="USA",
            document_country="USA",
            document_types=(DocumentType.PASSPORT, DocumentType.ID_CARD),
        ),
        "provider_options": {"callback_method": "both"},
        "expires_in": 3600,
        "idempotency_key": "idem-1",
    }
    values.update(overrides)
    return CreateSessionRequest(**values)


# -- a scriptable mock transport -----------------------------------------------------------------
class Script(ScriptedVendor):
    def adapter(self, **overrides: Any) -> DiditAdapter:
        return DiditAdapter(make_config(transport=self.transport(), **overrides))


CREATED = {"session_id": S1, "status": "Not Started", "url": "https://verify.didit.me/session/t"}


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else CREATED, headers=headers)


def decision_body(status: str = "Approved", **extra: Any) -> dict[str, Any]:
    return {"session_id": S1, "status": status, **extra}


# -- conformance ---------------------------------------------------------------------------------
class TestDiditConformance(EmulatorConformance, HttpConformance):
    @pytest.fixture
    def adapter(self) -> DiditAdapter:
        # A live create names its workflow (the sandbox supplies its own).
        return DiditAdapter(make_config(options={"workflow_id": S1}))

    @pytest.fixture
    def expected_statuses(self) -> dict[str, SessionStatus]:
        return {  # docs/vendors/didit.md, Status vocabulary and our mapping, written out
            "Not Started": SessionStatus.CREATED,
            "In Progress": SessionStatus.IN_PROGRESS,
            "Approved": SessionStatus.APPROVED,
            "Declined": SessionStatus.DECLINED,
            "In Review": SessionStatus.IN_REVIEW,
            "Awaiting User": SessionStatus.AWAITING_USER,
            "Resubmitted": SessionStatus.AWAITING_USER,
            "Expired": SessionStatus.EXPIRED,
            "Abandoned": SessionStatus.ABANDONED,
            "Kyc Expired": SessionStatus.EXPIRED,
        }

    @pytest.fixture
    def signed_webhook(self) -> Webhook:
        return sign_webhook(webhook_body())

    @pytest.fixture
    def unsigned_webhook(self) -> Webhook:
        raw, headers = sign_webhook(webhook_body())
        del headers["X-Signature-V2"]
        return raw, headers

    @pytest.fixture
    def rate_limited_reply(self) -> httpx.Response:
        """The documented write-limit message with Retry-After
        (https://docs.didit.me/integration/rate-limiting)."""
        return httpx.Response(
            429,
            json={
                "detail": "Write request rate limit exceeded. You can make up to 300 requests "
                "per minute."
            },
            headers={"Retry-After": "17"},
        )

    # -- over HTTP (HttpConformance) -------------------------------------------------------
    @pytest.fixture
    def session_id(self) -> str:
        return S1

    @pytest.fixture
    def read_reply(self) -> httpx.Response:
        return ok(decision_body())

    @pytest.fixture
    def read_status(self) -> SessionStatus:
        return SessionStatus.APPROVED

    @pytest.fixture
    def quoted_read(self) -> tuple[str, bytes]:
        return "../../v3/sessions", b"/v3/session/..%2F..%2Fv3%2Fsessions/decision/"

    @pytest.fixture
    def unretried_writes(self) -> list[Call]:
        return [
            lambda a: a.create_session(CreateSessionRequest(workflow_id="wf")),  # POST
            lambda a: a.decide_session(S1, DecisionAction.APPROVE, None),  # PATCH
        ]

    @pytest.fixture
    def retried_call(self) -> Call:
        return lambda a: a.redact_session(S1)  # DELETE is idempotent

    @pytest.fixture
    def error_reply(self) -> ErrorReply:
        def reply(status: int, detail: str, code: str | None) -> httpx.Response:
            return httpx.Response(
                status, json={"detail": detail, **({"code": code} if code else {})}
            )

        return reply


# -- declaration --------------------------------------------------------------------------------
def test_declaration() -> None:
    assert DiditAdapter.name == "didit"
    assert DiditAdapter.default_base_url == "https://verification.didit.me"
    assert DiditAdapter.credential_keys == ("api_key", "webhook_secret")
    assert Capability.CANCEL not in DiditAdapter.capabilities
    assert DiditAdapter.capabilities == {
        Capability.CREATE,
        Capability.READ,
        Capability.REFRESH,
        Capability.DECIDE,
        Capability.REQUEST_RESUBMISSION,
        Capability.REDACT,
        Capability.LIST,
        Capability.REPORT,
        Capability.WEBHOOKS,
        Capability.POLLING,
    }
    assert DiditAdapter.vocabulary() == DIDIT_STATUSES


ALWAYS = {
    Capability.READ,
    Capability.REFRESH,
    Capability.REDACT,
    Capability.WEBHOOKS,
    Capability.POLLING,
}
DECIDE = {Capability.DECIDE}
RESUBMIT = {Capability.REQUEST_RESUBMISSION}
REPORT = {Capability.REPORT}  # generate-pdf's eligible statuses


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Not Started", ALWAYS),
        ("In Progress", ALWAYS),
        ("Approved", ALWAYS | DECIDE | RESUBMIT | REPORT),
        ("Declined", ALWAYS | DECIDE | RESUBMIT | REPORT),
        ("In Review", ALWAYS | DECIDE | RESUBMIT | REPORT),
        ("Awaiting User", ALWAYS),
        ("Resubmitted", ALWAYS | DECIDE),
        ("Expired", ALWAYS),
        ("Abandoned", ALWAYS | DECIDE | RESUBMIT),
        ("Kyc Expired", ALWAYS | DECIDE | RESUBMIT | REPORT),
        (None, ALWAYS),
        ("approved", ALWAYS),
    ],
)
def test_session_capabilities(status: str | None, expected: set[Capability]) -> None:
    assert DiditAdapter(make_config()).session_capabilities(status) == expected


# -- create --------------------------------------------------------------------------------------
async def test_create_sends_mapped_body_and_maps_response(didit: DiditAdapter) -> None:
    # json_body matching: the cassette holds the exact body Didit must receive.
    with recorder.use_cassette("create_session_201.yaml") as cassette:
        snap = await didit.create_session(full_request())
    assert_all_played(cassette, 1)
    sent = json.loads(cassette.requests[0].body)
    assert "expires_in" not in json.dumps(sent) and "idempotency" not in json.dumps(sent)
    assert snap.provider_session_id == S1
    assert snap.provider_status == "Not Started"
    assert snap.status is SessionStatus.CREATED
    assert snap.verification_url == "https://verify.didit.me/en/session/3FaJ9wLqX2Mz"
    assert snap.client_reference == "user-123"
    assert snap.metadata == {"user_type": "premium", "account_id": "ABC123"}
    assert snap.environment is Environment.LIVE
    assert snap.occurred_at is None
    assert snap.raw == json.loads(cassette.responses[0]["body"]["string"])  # verbatim


async def test_create_body_mismatch_is_not_replayed(didit: DiditAdapter) -> None:
    with recorder.use_cassette("create_session_201.yaml"), pytest.raises(Exception) as info:
        await didit.create_session(full_request(language="de"))
    assert "CannotOverwriteExistingCassette" in type(info.value).__name__


async def test_create_accepts_200_for_an_existing_unfinished_session() -> None:
    script = Script(ok({**CREATED, "status": "In Progress"}, status=200))
    snap = await script.adapter().create_session(CreateSessionRequest(workflow_id="wf"))
    assert snap.status is SessionStatus.IN_PROGRESS
    assert script.sent_json() == {"workflow_id": "wf"}


async def test_create_minimal_body_takes_workflow_from_settings() -> None:
    script = Script(ok(status=201))
    adapter = script.adapter(options={"workflow_id": "wf-from-settings"})
    await adapter.create_session(CreateSessionRequest())
    assert script.sent_json() == {"workflow_id": "wf-from-settings"}
    assert script.requests[0].headers["x-api-key"] == API_KEY


async def test_create_routes_provider_options() -> None:
    script = Script(ok(status=201))
    request = CreateSessionRequest(
        workflow_id="wf",
        language="PT-br",
        provider_options={
            "callback_method": "completer",
            "portrait_image": "aGVsbG8=",
            "vendor_business_id": "biz-1",
            "send_notification_emails": True,
            "email_lang": "zh-cn",
        },
    )
    await script.adapter().create_session(request)
    assert script.sent_json() == {
        "workflow_id": "wf",
        "language": "pt-BR",
        "callback_method": "completer",
        "portrait_image": "aGVsbG8=",
        "vendor_business_id": "biz-1",
        "contact_details": {"send_notification_emails": True, "email_lang": "zh-CN"},
    }


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (CreateSessionRequest(), ("input", "workflowId")),
        (
            CreateSessionRequest(workflow_id="wf", client_reference="é" * 1001),
            ("input", "clientReference"),
        ),
        (CreateSessionRequest(workflow_id="wf", language="xx"), ("input", "language")),
        (CreateSessionRequest(workflow_id="wf", language=""), ("input", "language")),
        (
            CreateSessionRequest(
                workflow_id="wf", provider_options={"sandbox_scenario": "approve"}
            ),
            ("input", "providerOptions", "sandbox_scenario"),
        ),
        (
            CreateSessionRequest(workflow_id="wf", provider_options={"callback_method": "email"}),
            ("input", "providerOptions", "callback_method"),
        ),
        (
            CreateSessionRequest(
                workflow_id="wf", provider_options={"send_notification_emails": "yes"}
            ),
            ("input", "providerOptions", "send_notification_emails"),
        ),
        (
            CreateSessionRequest(workflow_id="wf", provider_options={"email_lang": "klingon"}),
            ("input", "providerOptions", "email_lang"),
        ),
        (
            CreateSessionRequest(workflow_id="wf", provider_options={"portrait_image": 12}),
            ("input", "providerOptions", "portrait_image"),
        ),
    ],
    ids=[
        "no-workflow",
        "vendor-data-2002-bytes",
        "language",
        "empty-language",
        "unknown-option",
        "callback-method",
        "notify-not-bool",
        "email-lang",
        "portrait-not-str",
    ],
)
async def test_create_rejects_bad_input_without_calling_didit(
    request_: CreateSessionRequest, field: tuple[str, ...]
) -> None:
    script = Script(ok(status=201))
    with pytest.raises(ProviderError) as info:
        await script.adapter().create_session(request_)
    assert info.value.code is ErrorCode.BAD_USER_INPUT
    assert info.value.field == field
    assert script.requests == []


async def test_vendor_data_limit_counts_utf8_bytes() -> None:
    script = Script(ok(status=201))
    await script.adapter().create_session(
        CreateSessionRequest(workflow_id="wf", client_reference="é" * 1000)
    )
    assert script.sent_json()["vendor_data"] == "é" * 1000


@pytest.mark.parametrize(
    ("types", "codes"),
    [
        ((DocumentType.PASSPORT,), ["P"]),
        ((DocumentType.ID_CARD, DocumentType.DRIVERS_LICENSE), ["ID", "DL"]),
        (
            (DocumentType.RESIDENCE_PERMIT, DocumentType.VISA, DocumentType.OTHER),
            ["RP", "VISA", "OTHER"],
        ),
    ],
)
async def test_document_types_are_mapped(types: tuple[DocumentType, ...], codes: list[str]) -> None:
    script = Script(ok(status=201))
    request = CreateSessionRequest(
        workflow_id="wf", expected_person=ExpectedPerson(document_types=types)
    )
    await script.adapter().create_session(request)
    assert script.sent_json()["expected_details"] == {"expected_document_types": codes}


# -- fetch ---------------------------------------------------------------------------------------
PII = [
    "Carmen",
    "Española",
    "CAA000000",
    "99999999R",
    "carmen@example.com",
    "Jane",
    "X1234567",
    "1990-05-17",
]


async def test_fetch_maps_an_approved_decision(didit: DiditAdapter) -> None:
    with recorder.use_cassette("get_decision_200.yaml") as cassette:
        snap = await didit.fetch_session(S1)
    assert cassette.play_count == 1
    assert snap.status is SessionStatus.APPROVED
    assert snap.provider_status == "Approved"
    assert snap.environment is Environment.LIVE
    assert snap.client_reference == "user-123"
    assert snap.verification_url is None  # session_url must not replace the token link
    decision = snap.decision
    assert decision is not None
    assert decision.outcome is Outcome.APPROVED
    assert decision.decided_by is DecidedBy.PROVIDER
    assert decision.reason_codes == ()  # an information-level warning explains nothing
    assert decision.warnings == ("LOW_FACE_MATCH_SIMILARITY",)
    assert not [p for p in PII if p in json.dumps(decision.to_json())]
    assert snap.raw["id_verifications"][0]["document_number"] == "CAA000000"  # kept in raw


async def test_fetch_maps_a_reviewer_decline_and_body_environment() -> None:
    adapter = DiditAdapter(make_config(environment=Environment.LIVE))
    with recorder.use_cassette("get_decision_200.yaml"):
        snap = await adapter.fetch_session(S2)
    assert snap.status is SessionStatus.DECLINED
    assert snap.environment is Environment.SANDBOX  # from the body, not the config
    assert snap.decision is not None
    assert snap.decision.outcome is Outcome.DECLINED
    assert snap.decision.decided_by is DecidedBy.REVIEWER
    assert snap.decision.reason_codes == ("DOCUMENT_EXPIRED", "LOW_FACE_MATCH_SIMILARITY")
    assert not [p for p in PII if p in json.dumps(snap.decision.to_json())]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("In Review", Outcome.REVIEW),
        ("In Progress", None),
        ("Abandoned", None),
        ("Kyc Expired", None),
    ],
)
async def test_fetch_outcome_only_for_decided_statuses(
    status: str, outcome: Outcome | None
) -> None:
    snap = await Script(ok(decision_body(status))).adapter().fetch_session(S1)
    assert (snap.decision.outcome if snap.decision else None) is outcome


async def test_fetch_unknown_status_keeps_raw_and_maps_to_none() -> None:
    snap = await Script(ok(decision_body("Paused"))).adapter().fetch_session(S1)
    assert snap.status is None
    assert snap.provider_status == "Paused"
    assert snap.decision is None


# -- decide --------------------------------------------------------------------------------------
async def test_approve_sends_update_status_then_refetches(didit: DiditAdapter) -> None:
    with recorder.use_cassette("update_status_200.yaml") as cassette:
        snap = await didit.decide_session(
            S1, DecisionAction.APPROVE, "Documents checked by the compliance team"
        )
    assert cassette.play_count == 2  # PATCH with the expected JSON body, then GET
    assert [r.method for r in cassette.requests[:2]] == ["PATCH", "GET"]
    assert snap is not None
    assert snap.status is SessionStatus.APPROVED
    assert snap.decision is not None and snap.decision.decided_by is DecidedBy.INTEGRATOR


async def test_request_resubmission_resubmits_the_failed_nodes(didit: DiditAdapter) -> None:
    with recorder.use_cassette("update_status_200.yaml") as cassette:
        snap = await didit.decide_session(
            S2, DecisionAction.REQUEST_RESUBMISSION, "Please retake your ID photo"
        )
    assert cassette.play_count == 3  # GET, PATCH (nodes matched by body), GET
    assert snap is not None
    assert snap.provider_status == "Resubmitted"
    assert snap.status is SessionStatus.AWAITING_USER
    assert snap.decision is None


async def test_resubmission_options_choose_the_steps_and_mail_the_person(
    didit: DiditAdapter,
) -> None:
    options = DecisionOptions(resubmit=("feature_liveness_1", "FACE_MATCH"), notify_person=True)
    with recorder.use_cassette("update_status_options_200.yaml") as cassette:
        snap = await didit.decide_session(
            S2, DecisionAction.REQUEST_RESUBMISSION, "Please retake your selfie", options
        )
    assert_all_played(cassette, 3)  # GET, PATCH (the documented body, matched as JSON), GET
    sent = json.loads(cassette.requests[1].body)
    assert sent["send_email"] is True and sent["email_address"] == "jane.doe@example.com"
    assert snap is not None and snap.provider_status == "Resubmitted"


@pytest.mark.parametrize(
    ("names", "message"),
    [(("feature_nfc_1",), "feature_nfc_1"), ((), "at least one")],
    ids=["unknown", "empty"],
)
async def test_resubmitting_steps_the_session_lacks_is_bad_input(
    names: tuple[str, ...], message: str
) -> None:
    script = Script(ok(decision_body("Declined", id_verifications=[ID_REPORT])))
    with pytest.raises(ProviderError) as info:
        await script.adapter().decide_session(
            S1, DecisionAction.REQUEST_RESUBMISSION, None, DecisionOptions(resubmit=names)
        )
    assert info.value.code is ErrorCode.BAD_USER_INPUT
    assert info.value.field == ("resubmit",)
    assert message in info.value.message and "feature_id_verification_1" in info.value.message
    assert len(script.requests) == 1  # read only, no PATCH


async def test_notify_without_a_known_address_lets_didit_choose() -> None:
    script = Script(ok(decision_body("In Review")), ok({"session_id": S1}), ok(decision_body()))
    await script.adapter().decide_session(
        S1, DecisionAction.APPROVE, None, DecisionOptions(notify_person=True)
    )
    assert script.sent_json(1) == {"new_status": "Approved", "send_email": True}


async def test_notify_false_is_sent_as_no_email() -> None:
    script = Script(ok({"session_id": S1}), ok(decision_body()))
    await script.adapter().decide_session(
        S1, DecisionAction.APPROVE, None, DecisionOptions(notify_person=False)
    )
    assert script.sent_json(0) == {"new_status": "Approved", "send_email": False}


ID_REPORT = {"node_id": "feature_id_verification_1", "status": "Declined"}


async def test_decline_sends_declined_without_comment() -> None:
    script = Script(ok({"session_id": S1}), ok(decision_body("Declined")))
    snap = await script.adapter().decide_session(S1, DecisionAction.DECLINE, None)
    assert script.sent_json(0) == {"new_status": "Declined"}
    assert script.requests[0].method == "PATCH"
    assert snap is not None and snap.status is SessionStatus.DECLINED


async def test_resubmission_with_nothing_to_resubmit_is_bad_input(didit: DiditAdapter) -> None:
    with (
        recorder.use_cassette("get_decision_200.yaml") as cassette,
        pytest.raises(ProviderError) as info,
    ):
        await didit.decide_session(S1, DecisionAction.REQUEST_RESUBMISSION, None)
    assert info.value.code is ErrorCode.BAD_USER_INPUT
    assert cassette.play_count == 1  # no PATCH was attempted


# -- redact --------------------------------------------------------------------------------------
@pytest.mark.parametrize("session_id", [SDEL, S1], ids=["200-json", "204-empty"])
async def test_redact_accepts_200_and_204(didit: DiditAdapter, session_id: str) -> None:
    with recorder.use_cassette("delete_session_200.yaml") as cassette:
        assert await didit.redact_session(session_id) is None
    assert cassette.play_count == 1


async def test_redact_unknown_session_is_not_found() -> None:
    script = Script(httpx.Response(404, json={"detail": "Not found."}))
    with pytest.raises(ProviderError) as info:
        await script.adapter().redact_session(S1)
    assert info.value.code is ErrorCode.NOT_FOUND
    assert len(script.requests) == 1  # 404 is not retried


# -- the session report (generate-pdf) -----------------------------------------------------------
async def test_report_is_the_pdf_didit_renders(didit: DiditAdapter) -> None:
    with recorder.use_cassette("generate_pdf_200.yaml") as cassette:
        report = await didit.session_report(S1)
    assert cassette.play_count == 1
    assert cassette.requests[0].path.endswith(f"/v3/session/{S1}/generate-pdf/")
    assert report.content == cassette.responses[0]["body"]["string"]
    assert report.content.startswith(b"%PDF-")
    assert report.media_type == "application/pdf"
    assert report.filename == f"session_{S1}.pdf"  # from Content-Disposition
    assert str(len(report.content)) in repr(report) and "Didit" not in repr(report)


async def test_report_of_a_session_not_yet_final_is_refused_by_didit(didit: DiditAdapter) -> None:
    with recorder.use_cassette("generate_pdf_200.yaml"), pytest.raises(ProviderError) as info:
        await didit.session_report(S2)  # the cassette's 403: the session is In Progress
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert "In Progress" in info.value.message


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={}),  # the OpenAPI rendering's "200 - application/json"
        httpx.Response(200, content=b"<html>", headers={"content-type": "application/pdf"}),
    ],
    ids=["json", "not-a-pdf"],
)
async def test_report_that_is_no_pdf_is_never_handed_on(answer: httpx.Response) -> None:
    script = Script(answer)
    with pytest.raises(ProviderError) as info:
        await script.adapter().session_report(S1)
    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE


# -- list (import) -------------------------------------------------------------------------------
async def test_list_pages_follow_the_documented_offsets_to_the_last_page(
    didit: DiditAdapter,
) -> None:
    with recorder.use_cassette("list_sessions_200.yaml") as cassette:
        first = await didit.list_page(None, page_size=2)
        last = await didit.list_page(first.next_cursor, page_size=2)
    assert cassette.play_count == 2
    assert first.next_cursor == "2" and last.next_cursor is None
    rows = [*first.sessions, *last.sessions]
    assert [(s.provider_status, s.status) for s in rows] == [
        ("Approved", SessionStatus.APPROVED),
        ("Not Started", SessionStatus.CREATED),
        ("Declined", SessionStatus.DECLINED),
    ]
    assert rows[0].created_at == datetime(2026, 11, 30, 9, 15, 2, 118000, tzinfo=UTC)
    assert [s.client_reference for s in rows] == ["user-789", "user-456", "user-456"]


async def test_list_sessions_filters_by_vendor_data_across_pages(didit: DiditAdapter) -> None:
    with recorder.use_cassette("list_sessions_200.yaml"):
        found = await didit.list_sessions(client_reference="user-456", limit=2)
    assert [s.provider_status for s in found] == ["Not Started", "Declined"]


async def test_a_cursor_not_from_this_list_is_bad_input(didit: DiditAdapter) -> None:
    with pytest.raises(ProviderError) as info:
        await didit.list_page("offset=2", page_size=2)
    assert info.value.code is ErrorCode.BAD_USER_INPUT


# -- errors from cassettes -----------------------------------------------------------------------
async def test_403_is_provider_rejected(didit: DiditAdapter) -> None:
    with recorder.use_cassette("error_403.yaml"), pytest.raises(ProviderError) as info:
        await didit.create_session(full_request())
    err = info.value
    assert err.code is ErrorCode.PROVIDER_REJECTED
    assert err.provider_code == "permission_denied"
    assert err.message == "You do not have permission to perform this action."
    assert err.http_status == 403


async def test_429_is_rate_limited_with_retry_after(didit: DiditAdapter) -> None:
    with recorder.use_cassette("error_429.yaml"), pytest.raises(ProviderError) as info:
        await didit.create_session(full_request())
    err = info.value
    assert err.code is ErrorCode.RATE_LIMITED
    assert err.retry_after == 17
    assert "300 requests per minute" in err.message


async def test_429_without_header_reads_the_wait_from_the_message(didit: DiditAdapter) -> None:
    with recorder.use_cassette("error_429.yaml") as cassette, pytest.raises(ProviderError) as info:
        await didit.fetch_session(S1)
    assert info.value.code is ErrorCode.RATE_LIMITED
    assert info.value.retry_after == 30
    assert cassette.play_count == 1  # a 429 is not retried here; the caller backs off


@pytest.mark.parametrize(
    ("request_", "code", "field", "text"),
    [
        (
            CreateSessionRequest(
                workflow_id=S1, client_reference="user-123", contact=Contact(email="not-an-email")
            ),
            ErrorCode.BAD_USER_INPUT,
            ("input", "contact", "email"),
            "contact_details.email: Enter a valid email address.",
        ),
        (
            CreateSessionRequest(workflow_id="99999999-9999-9999-9999-999999999999"),
            ErrorCode.BAD_USER_INPUT,
            ("input", "workflowId"),
            "workflow_id: Workflow not found.",
        ),
        (
            CreateSessionRequest(workflow_id=S1, client_reference="user-789"),
            ErrorCode.PROVIDER_REJECTED,
            None,
            "Insufficient credits to create a session.",
        ),
    ],
    ids=["nested-field", "field", "bare-array"],
)
async def test_400_field_errors_map_to_input_paths(
    didit: DiditAdapter,
    request_: CreateSessionRequest,
    code: ErrorCode,
    field: tuple[str, ...] | None,
    text: str,
) -> None:
    with recorder.use_cassette("error_400_fields.yaml"), pytest.raises(ProviderError) as info:
        await didit.create_session(request_)
    assert info.value.code is code
    assert info.value.field == field
    assert info.value.message == text
    assert info.value.http_status == 400


# -- error mapping, shape by shape ---------------------------------------------------------------
def mapped(status: int, body: Any = None, headers: dict[str, str] | None = None) -> ProviderError:
    content = (
        b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    response = httpx.Response(status, content=content, headers=headers or {})
    return map_error(response, Scrubber((API_KEY,)), now=NOW)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"vendor_data": ["Too long."]}, ("input", "clientReference")),
        ({"callback": ["Enter a valid URL."]}, ("input", "returnUrl")),
        ({"language": ['"xx" is not a valid choice.']}, ("input", "language")),
        ({"metadata": ["Invalid."]}, ("input", "metadata")),
        ({"contact_details": {"phone": ["Invalid."]}}, ("input", "contact", "phone")),
        (
            {"expected_details": {"date_of_birth": ["Bad date."]}},
            ("input", "expectedPerson", "dateOfBirth"),
        ),
        (
            {"expected_details": {"id_country": ["Bad."]}},
            ("input", "expectedPerson", "documentCountry"),
        ),
        (
            {
                "expected_details": {
                    "expected_document_types": {"0": ['"XX" is not a valid choice.']}
                }
            },
            ("input", "expectedPerson", "documentTypes"),
        ),
        ({"callback_method": ["Bad."]}, ("input", "providerOptions", "callback_method")),
        ({"contact_details": {"email_lang": ["Bad."]}}, ("input", "providerOptions", "email_lang")),
    ],
)
def test_field_errors_map_to_normalized_paths(body: Any, field: tuple[str, ...]) -> None:
    err = mapped(400, body)
    assert (err.code, err.field) == (ErrorCode.BAD_USER_INPUT, field)


@pytest.mark.parametrize(
    ("status", "body", "code", "provider_code"),
    [
        (400, {"options": {"locale": ["Bad."]}}, ErrorCode.PROVIDER_REJECTED, "invalid"),
        (400, {"detail": "Invalid workflow."}, ErrorCode.PROVIDER_REJECTED, "invalid"),
        (
            401,
            {"detail": "You must be authenticated."},
            ErrorCode.PROVIDER_REJECTED,
            "permission_denied",
        ),
        (
            403,
            {"error": "You don't have enough credits to perform this request."},
            ErrorCode.PROVIDER_REJECTED,
            "permission_denied",
        ),
        (404, {"detail": "Session not found."}, ErrorCode.NOT_FOUND, "not_found"),
        (
            409,
            {"detail": "In a filed report.", "code": "in_filed_report"},
            ErrorCode.PROVIDER_REJECTED,
            "in_filed_report",
        ),
        (301, None, ErrorCode.PROVIDER_REJECTED, "redirect"),
        (500, b"<html>oops</html>", ErrorCode.PROVIDER_UNAVAILABLE, "server_error"),
        (503, None, ErrorCode.PROVIDER_UNAVAILABLE, "server_error"),
    ],
)
def test_status_codes_map(status: int, body: Any, code: ErrorCode, provider_code: str) -> None:
    err = mapped(status, body)
    assert (err.code, err.provider_code, err.http_status) == (code, provider_code, status)
    assert err.field is None
    assert err.message  # always something to show


def test_retry_after_as_http_date_and_reset_header() -> None:
    assert mapped(429, {}, {"Retry-After": "Thu, 15 Jan 2026 12:00:45 GMT"}).retry_after == 45
    assert mapped(429, {}, {"X-RateLimit-Reset": str(TS + 12)}).retry_after == 12
    assert mapped(429, {"detail": "Slow down."}).retry_after is None


def test_messages_are_capped() -> None:
    assert len(mapped(400, {"detail": "x " * 1000}).message) <= 500


# -- scrubbing -----------------------------------------------------------------------------------
async def test_configured_extra_secrets_are_scrubbed() -> None:
    script = Script(httpx.Response(400, json={"vendor_data": ["tenant-secret-42 is reserved"]}))
    adapter = script.adapter(secrets_to_scrub=("tenant-secret-42",))
    with pytest.raises(ProviderError) as info:
        await adapter.create_session(CreateSessionRequest(workflow_id="wf", client_reference="x"))
    assert "tenant-secret-42" not in info.value.message
    assert info.value.field == ("input", "clientReference")


# -- http: paths, headers, retries ---------------------------------------------------------------
async def test_every_request_path_has_a_trailing_slash() -> None:
    script = Script(
        ok(status=201),
        ok(decision_body("Declined", id_verifications=[{"node_id": "n1", "status": "Declined"}])),
        ok({"session_id": S1}),
        ok(decision_body("Approved")),
        ok(decision_body("Declined", id_verifications=[{"node_id": "n1", "status": "Declined"}])),
        ok({"session_id": S1}),
        ok(decision_body("Resubmitted")),
        httpx.Response(204),
    )
    adapter = script.adapter()
    await adapter.create_session(CreateSessionRequest(workflow_id="wf"))
    await adapter.fetch_session(S1)
    await adapter.decide_session(S1, DecisionAction.APPROVE, None)
    await adapter.decide_session(S1, DecisionAction.REQUEST_RESUBMISSION, "redo")
    await adapter.redact_session(S1)
    assert [r.method for r in script.requests] == [
        "POST",
        "GET",
        "PATCH",
        "GET",
        "GET",
        "PATCH",
        "GET",
        "DELETE",
    ]
    assert all(r.url.path.endswith("/") for r in script.requests)
    assert all(r.headers["x-api-key"] == API_KEY for r in script.requests)
    assert all(r.url.host == "verification.didit.me" for r in script.requests)
    assert script.sent_json(5)["nodes_to_resubmit"] == [
        {"node_id": "n1", "feature": "ID_VERIFICATION"}
    ]
    await adapter.aclose()


async def test_get_retries_are_bounded_by_config() -> None:
    script = Script(httpx.Response(504))
    await assert_unavailable(script, script.adapter(retry_attempts=2).fetch_session(S1), attempts=2)


async def test_timeouts_become_provider_unavailable_and_post_is_tried_once() -> None:
    script = Script(httpx.ReadTimeout("slow"))
    call = script.adapter().create_session(CreateSessionRequest(workflow_id="wf"))
    error = await assert_unavailable(script, call, attempts=1)
    assert "timed out" in error.message


async def test_vendor_http_client_is_recreated_after_close() -> None:
    script = Script(ok(decision_body()))
    http = VendorHttp(
        make_config(transport=httpx.MockTransport(script.handler)),
        vendor="X",
        headers={},
        error_mapper=lambda r: ProviderError(ErrorCode.PROVIDER_REJECTED, "x"),
    )
    first = http.client
    await http.aclose()
    assert http.client is not first
    await http.aclose()


# -- webhooks ------------------------------------------------------------------------------------
def webhook_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": "5d9c1f2e-0b7a-4c1d-8e3f-9a8b7c6d5e4f",
        "webhook_type": "status.updated",
        "timestamp": TS - 10,
        "created_at": TS - 16,
        "application_id": "aaaaaaaa-0000-0000-0000-000000000000",
        "session_id": S1,
        "status": "Declined",
        "workflow_id": S1,
        "workflow_version": 4,
        "vendor_data": "user-123",
        "metadata": {"user_type": "premium"},
        "environment": "sandbox",
        "decision": {
            "session_id": S1,
            "status": "Declined",
            "id_verifications": [
                {
                    "node_id": "feature_id_verification_1",
                    "status": "Declined",
                    "first_name": "Carmen",
                    "document_number": "CAA000000",
                    "warnings": [
                        {
                            "risk": "DOCUMENT_EXPIRED",
                            "feature": "ID_VERIFICATION",
                            "log_type": "error",
                        }
                    ],
                }
            ],
        },
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def parse(body: dict[str, Any], adapter: DiditAdapter | None = None) -> Any:
    return (adapter or DiditAdapter(make_config())).parse_webhook(*sign_webhook(body))


def test_status_updated_becomes_a_snapshot() -> None:
    [event] = parse(webhook_body())
    assert event.dedupe_key == f"{S1}:status.updated:Declined:{TS - 16}"
    assert event.event_type == "status.updated"
    assert event.provider_session_id == S1
    snap = event.snapshot
    assert snap.status is SessionStatus.DECLINED
    assert snap.occurred_at == datetime.fromtimestamp(TS - 16, UTC)  # created_at
    assert snap.environment is Environment.SANDBOX
    assert snap.client_reference == "user-123"
    assert snap.metadata == {"user_type": "premium"}
    assert snap.decision.outcome is Outcome.DECLINED
    assert snap.decision.reason_codes == ("DOCUMENT_EXPIRED",)
    assert snap.decision.decided_at == snap.occurred_at
    assert "Carmen" not in json.dumps(snap.decision.to_json())
    assert event.received_payload["decision"]["id_verifications"][0]["first_name"] == "Carmen"


def test_environment_falls_back_to_config() -> None:
    [event] = parse(
        webhook_body(environment=None), DiditAdapter(make_config(environment=Environment.SANDBOX))
    )
    assert event.snapshot.environment is Environment.SANDBOX
    [event] = parse(
        webhook_body(environment="live"), DiditAdapter(make_config(environment=Environment.SANDBOX))
    )
    assert event.snapshot.environment is Environment.LIVE


def test_dedupe_ignores_the_event_id() -> None:
    [with_id] = parse(webhook_body())
    [without] = parse(webhook_body(event_id=None))
    assert with_id.dedupe_key == without.dedupe_key == f"{S1}:status.updated:Declined:{TS - 16}"


def test_dedupe_falls_back_to_content_hash_without_created_at() -> None:
    [a] = parse(webhook_body(created_at=None))
    [b] = parse(webhook_body(created_at=None, status="Approved"))
    [again] = parse(webhook_body(created_at=None, event_id="another", timestamp=TS - 5))
    assert a.dedupe_key.startswith("sha256:") and a.dedupe_key != b.dedupe_key
    assert again.dedupe_key == a.dedupe_key  # event_id and timestamp change per attempt
    assert a.snapshot.occurred_at is None


def test_resubmitted_webhook_has_no_decision() -> None:
    body = webhook_body(
        status="Resubmitted",
        decision=None,
        resubmit_info={"nodes_to_resubmit": [{"node_id": "n1"}], "reasons": {"n1": "blurry"}},
    )
    [event] = parse(body)
    assert event.snapshot.status is SessionStatus.AWAITING_USER
    assert event.snapshot.decision is None


def test_data_updated_is_a_session_event() -> None:
    [event] = parse(webhook_body(webhook_type="data.updated", status="Approved"))
    assert event.snapshot.status is SessionStatus.APPROVED
    assert event.snapshot.occurred_at is not None
    assert event.snapshot.decision.decided_at is None  # a data correction is not a decision


def test_unknown_status_is_kept_raw() -> None:
    [event] = parse(webhook_body(status="Under Appeal", decision=None))
    assert event.snapshot.status is None
    assert event.snapshot.provider_status == "Under Appeal"


@pytest.mark.parametrize(
    "webhook_type", ["user.status.updated", "activity.created", "transaction.created"]
)
def test_other_events_are_acknowledged_without_snapshot(webhook_type: str) -> None:
    body = {"event_id": "e-1", "webhook_type": webhook_type, "timestamp": TS, "status": "FLAGGED"}
    [event] = parse(body)
    assert event.snapshot is None
    assert event.provider_session_id is None
    assert event.dedupe_key.startswith("sha256:")
    [retry] = parse({**body, "event_id": "e-2", "timestamp": TS - 60})
    assert retry.dedupe_key == event.dedupe_key
    [event] = parse({**body, "session_id": S1})
    assert event.provider_session_id == S1


@pytest.mark.parametrize(
    "body",
    [
        webhook_body(session_id=None),
        webhook_body(status=None),
        webhook_body(status=""),
        {"event_id": "e-1", "timestamp": TS, "session_id": S1, "status": "Approved"},  # no type
        webhook_body(created_at="yesterday"),
        webhook_body(status=5),
        webhook_body(decision="approved"),
        webhook_body(created_at=10**15),
    ],
    ids=[
        "no-session",
        "no-status",
        "empty-status",
        "no-type",
        "bad-time",
        "int-status",
        "bad-decision",
        "huge-time",
    ],
)
def test_malformed_session_events_are_rejected(body: dict[str, Any]) -> None:
    with pytest.raises(WebhookRejected) as info:
        parse(body)
    assert info.value.reason is WebhookRejectReason.MALFORMED


def test_webhook_time_comes_from_the_injected_clock() -> None:
    raw, headers = sign_webhook(webhook_body(timestamp=TS))
    later = DiditAdapter(make_config(clock=lambda: datetime.fromtimestamp(TS + 301, UTC)))
    with pytest.raises(WebhookRejected) as info:
        later.parse_webhook(raw, headers)
    assert info.value.reason is WebhookRejectReason.TIMESTAMP


def test_webhook_tolerance_comes_from_config() -> None:
    raw, headers = sign_webhook(webhook_body(timestamp=TS - 120))
    with pytest.raises(WebhookRejected):
        DiditAdapter(make_config(webhook_tolerance_s=60)).parse_webhook(raw, headers)
    assert DiditAdapter(make_config()).parse_webhook(raw, headers)


def test_webhook_signed_with_another_secret_is_rejected() -> None:
    raw, headers = sign_webhook(webhook_body(), secret="someone-else")
    with pytest.raises(WebhookRejected) as info:
        DiditAdapter(make_config()).parse_webhook(raw, headers)
    assert info.value.reason is WebhookRejectReason.SIGNATURE


# -- sandbox hook --------------------------------------------------------------------------------
def test_build_sandbox_returns_the_emulator() -> None:
    pytest.importorskip("adapters.didit.sandbox")
    handle = DiditAdapter.build_sandbox(local_sandbox_config("didit"))
    assert isinstance(handle, SandboxHandle)
