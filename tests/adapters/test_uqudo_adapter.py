"""UqudoAdapter against recorded uqudo traffic (cassettes/uqudo), a scripted mock vendor, and a
local websocket server standing in for uqudo's session channel."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import vcr
from cryptography.hazmat.primitives.asymmetric import rsa
from vcr.cassette import Cassette
from websockets.asyncio.server import ServerConnection, serve

from adapters.base import (
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    DecidedBy,
    DocumentType,
    Environment,
    ErrorCode,
    ExpectedPerson,
    Outcome,
    ProviderError,
    SessionSnapshot,
    SessionStatus,
    UnsupportedByProvider,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.qr import qr_png_data_url
from adapters.uqudo import inferred
from adapters.uqudo.adapter import PROVIDER_OPTIONS, UqudoAdapter
from adapters.uqudo.statuses import UQUDO_STATUSES
from tests.adapters.conformance import EmulatorConformance, Webhook
from tests.support.signing.uqudo import (
    CASSETTES,
    CLIENT_ID,
    IAT,
    NOW,
    SID,
    TEST_KEY,
    TEST_KID,
    UQUDO_SERIALIZER,
    Clock,
    compact,
    documented_claims,
    jwks,
    materialise,
    sign,
    uqudo_body,
)

CLIENT_SECRET = "test-client-secret"
WEBHOOK_AUTH = "test-webhook-auth"
OTHER_SID = "9b2e7d41-3c6a-4f58-b1d0-7e8f9a0b1c2d"
QR_TEXT = "qr-credential-7Hs9Kd2Lq8Wx"
DYNAMIC_LINK = "https://link.example.com/uqudo/qr-credential-7Hs9Kd2Lq8Wx"

recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    serializer="uqudo",
    match_on=("method", "uri", "uqudo_body"),
)
recorder.register_serializer("uqudo", UQUDO_SERIALIZER)
recorder.register_matcher("uqudo_body", uqudo_body)


def make_config(**overrides: Any) -> AdapterConfig:
    options = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "webhook_auth_value": WEBHOOK_AUTH,
        **overrides.pop("options", {}),
    }
    values: dict[str, Any] = {
        "environment": Environment.LIVE,
        "base_url": inferred.API_BASE_URL,
        "api_key": "",
        "webhook_secret": "",
        "options": options,
        "retry_wait_s": 0.0,
        "clock": Clock(),
    }
    values.update(overrides)
    return AdapterConfig(**values)


def assert_all_played(cassette: Cassette, count: int) -> None:
    assert cassette.play_count == count
    assert cassette.all_played


# -- a scripted uqudo -----------------------------------------------------------------------------
Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def token_reply(access: str, expires_in: float | None = 1800) -> httpx.Response:
    body: dict[str, Any] = {"access_token": access, "token_type": "bearer", "scope": "KYC_INFO_SDK"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return httpx.Response(200, json=body)


def created_reply(
    session_id: str = SID, link: str | None = DYNAMIC_LINK, status: int = 200
) -> httpx.Response:
    body: dict[str, Any] = {"sessionId": session_id, "qrCodeText": QR_TEXT}
    if link is not None:
        body["qrCodeTextWithDynamicLink"] = link
    return httpx.Response(status, json=body)


def jws_reply(token: str) -> httpx.Response:
    return httpx.Response(200, text=token, headers={"Content-Type": "application/jwt"})


NOT_READY = httpx.Response(404, json={"status": 404, "error": "Not Found"})


class FakeUqudo:
    """uqudo's endpoints by route; each route answers from a queue (the last reply repeats).
    Tokens are numbered (`access-1`, `access-2`, …) unless scripted."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {
            "jwks": [httpx.Response(200, json=jwks((TEST_KEY, TEST_KID)))],
            "create": [created_reply()],
            "info": [NOT_READY],
            "delete": [httpx.Response(204)],
            "qr_delete": [httpx.Response(204)],
        }
        self.token_replies: list[Reply] = []
        self.issued = 0
        self.requests: list[tuple[str, httpx.Request]] = []

    def script(self, route: str, *replies: Reply) -> FakeUqudo:
        self.routes[route] = list(replies)
        return self

    def route_of(self, request: httpx.Request) -> str:
        url = str(request.url)
        if url == inferred.AUTH_URL:
            return "token"
        if url == inferred.JWKS_URL:
            return "jwks"
        if url == f"{inferred.QR_BASE_URL}{inferred.SESSION_PATH}":
            return "create"
        if url.startswith(f"{inferred.QR_BASE_URL}{inferred.SESSION_PATH}/"):
            assert request.method == "DELETE", request.method
            return "qr_delete"
        if url.startswith(f"{inferred.API_BASE_URL}{inferred.INFO_PATH}/"):
            return "delete" if request.method == "DELETE" else "info"
        raise AssertionError(f"unexpected request {request.method} {url}")

    def handler(self, request: httpx.Request) -> httpx.Response:
        route = self.route_of(request)
        # A copy: the auth flow re-sends the same request object with a new token.
        copy = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.content
        )
        self.requests.append((route, copy))
        if route == "token":
            if self.token_replies:
                reply = (
                    self.token_replies.pop(0)
                    if len(self.token_replies) > 1
                    else self.token_replies[0]
                )
            else:
                self.issued += 1
                reply = token_reply(f"access-{self.issued}")
        else:
            queue = self.routes[route]
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def calls(self, route: str) -> list[httpx.Request]:
        return [r for name, r in self.requests if name == route]

    def adapter(self, **overrides: Any) -> UqudoAdapter:
        return UqudoAdapter(make_config(transport=httpx.MockTransport(self.handler), **overrides))


@pytest.fixture
def fake() -> FakeUqudo:
    return FakeUqudo()


@pytest.fixture
async def uqudo(fake: FakeUqudo) -> AsyncIterator[UqudoAdapter]:
    adapter = fake.adapter()
    yield adapter
    await adapter.aclose()


def webhook_fixture() -> Webhook:
    """cassettes/uqudo/webhook_jws_result.json, materialised (signed with the test key)."""
    data = json.loads((CASSETTES / "webhook_jws_result.json").read_text(encoding="utf-8"))
    return compact(materialise(data["body"])).encode("utf-8"), dict(data["headers"])


def webhook(token: str, **headers: str) -> Webhook:
    return compact({"jwsResult": token}).encode(), {"x-api-key": WEBHOOK_AUTH, **headers}


# -- conformance ----------------------------------------------------------------------------------
class TestUqudoConformance(EmulatorConformance):
    @pytest.fixture
    async def adapter(self) -> AsyncIterator[UqudoAdapter]:
        adapter = FakeUqudo().adapter()
        await adapter.warm_up()  # webhooks verify synchronously against the cached JWKS
        yield adapter
        await adapter.aclose()

    @pytest.fixture
    def expected_statuses(self) -> dict[str, SessionStatus]:
        return {  # docs/vendors/uqudo.md, Status vocabulary and our mapping, written out
            "QR_CREATED": SessionStatus.CREATED,
            "PENDING_RESULT": SessionStatus.CREATED,
            "SCAN": SessionStatus.IN_PROGRESS,
            "READ": SessionStatus.IN_PROGRESS,
            "FACE": SessionStatus.IN_PROGRESS,
            "BACKGROUND_CHECK": SessionStatus.IN_PROGRESS,
            "INFO": SessionStatus.PROCESSING,
            "RESULT_RECEIVED": SessionStatus.PROCESSING,
            "RESULT_APPROVED": SessionStatus.APPROVED,
            "RESULT_DECLINED": SessionStatus.DECLINED,
            "RESULT_REVIEW": SessionStatus.IN_REVIEW,
            "EXPIRED": SessionStatus.EXPIRED,
            "QR_DELETED": SessionStatus.CANCELLED,
        }

    def test_tampered_webhook_is_rejected(
        self, adapter: UqudoAdapter, signed_webhook: Webhook
    ) -> None:
        """uqudo signs the JWS, not the body (docs/vendors/uqudo.md, Webhooks and signature):
        tampering is a change to the signed payload. A key added to the unsigned envelope is
        ignored instead (test_uqudo_truth.py)."""
        body, headers = signed_webhook
        token = json.loads(body)["jwsResult"]
        head, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["data"]["documents"][0]["face"]["matchLevel"] = 5
        forged = base64.urlsafe_b64encode(compact(claims).encode()).rstrip(b"=").decode()
        tampered = compact({"jwsResult": f"{head}.{forged}.{signature}"}).encode()
        with pytest.raises(WebhookRejected) as info:
            adapter.parse_webhook(tampered, headers)
        assert info.value.reason is WebhookRejectReason.SIGNATURE

    @pytest.fixture
    def signed_webhook(self) -> Webhook:
        """A valid jwsResult with the right caller authentication."""
        return webhook_fixture()

    @pytest.fixture
    def unsigned_webhook(self) -> Webhook:
        """The same body without the caller authentication header."""
        body, _ = webhook_fixture()
        return body, {}

    @pytest.fixture
    def rate_limited_reply(self) -> httpx.Response:
        """uqudo publishes no limits: the 429 of cassettes/uqudo/error_429.yaml."""
        return httpx.Response(
            429,
            json={"status": 429, "error": "Too Many Requests", "message": "Too many requests"},
            headers={"Retry-After": "30"},
        )

    def test_bad_jws_with_caller_auth_is_rejected(self, adapter: UqudoAdapter) -> None:
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with pytest.raises(WebhookRejected) as info:
            adapter.parse_webhook(*webhook(sign(documented_claims(), key=other)))
        assert info.value.reason is WebhookRejectReason.SIGNATURE


# -- declaration ---------------------------------------------------------------------------------
def test_declaration() -> None:
    assert UqudoAdapter.name == "uqudo"
    assert UqudoAdapter.default_base_url == "https://id.uqudo.io"
    assert UqudoAdapter.credential_keys == ("client_id", "client_secret")
    assert UqudoAdapter.capabilities == {
        Capability.CREATE,
        Capability.READ,
        Capability.REFRESH,
        Capability.CANCEL,
        Capability.REDACT,
        Capability.WEBHOOKS,
        Capability.POLLING,
        Capability.STREAMING,
    }
    assert UqudoAdapter.vocabulary() == UQUDO_STATUSES
    assert UqudoAdapter.poll_policy is inferred.POLL_POLICY


def test_urls_default_to_the_documented_hosts_and_are_overridable() -> None:
    adapter = UqudoAdapter(make_config())
    assert adapter.endpoints.api_base == "https://id.uqudo.io"
    assert adapter.endpoints.session_url == "https://idws.uqudo.io/api/v1/session"
    assert adapter.endpoints.ws_url == "wss://idws.uqudo.io/ws/v1/session"
    assert adapter.endpoints.jwks_url == "https://id.uqudo.io/api/.well-known/jwks.json"
    assert adapter.endpoints.auth_url == "https://auth.uqudo.io/api/oauth/token"
    assert adapter.endpoints.info_url(SID) == f"https://id.uqudo.io/api/v1/info/{SID}"
    custom = UqudoAdapter(
        make_config(
            base_url="https://tenant.example.com/",
            options={
                "qr_base_url": "http://uqudo.sandbox/",
                "ws_url": "ws://127.0.0.1:9/sandbox/uqudo/ws/v1/session",
                "jwks_url": "http://uqudo.sandbox/api/.well-known/jwks.json",
                "auth_url": "http://uqudo.sandbox/api/oauth/token",
            },
        )
    )
    assert custom.endpoints.api_base == "https://tenant.example.com"
    assert custom.endpoints.session_url == "http://uqudo.sandbox/api/v1/session"
    assert custom.endpoints.ws_url == "ws://127.0.0.1:9/sandbox/uqudo/ws/v1/session"
    override = UqudoAdapter(make_config(options={"api_base_url": "https://api.example.com"}))
    assert override.endpoints.api_base == "https://api.example.com"


@pytest.mark.parametrize(
    ("status", "polled"),
    [
        ("QR_CREATED", True),
        ("PENDING_RESULT", True),
        ("SCAN", True),
        ("READ", True),
        ("FACE", True),
        ("BACKGROUND_CHECK", True),
        ("INFO", True),
        ("RESULT_RECEIVED", True),
        ("RESULT_APPROVED", False),
        ("RESULT_DECLINED", False),
        ("RESULT_REVIEW", False),  # IN_REVIEW waits for a human, not for uqudo
        ("EXPIRED", False),
        ("unknown", False),
    ],
)
def test_needs_polling(status: str, polled: bool) -> None:
    assert UqudoAdapter(make_config()).needs_polling(status) is polled


def test_session_capabilities() -> None:
    adapter = UqudoAdapter(make_config())
    assert adapter.session_capabilities("SCAN") == adapter.capabilities
    assert adapter.session_capabilities(None) == adapter.capabilities
    for pending in ("INFO", "RESULT_RECEIVED", "RESULT_REVIEW"):  # the result is in
        assert adapter.session_capabilities(pending) == adapter.capabilities - {Capability.CANCEL}
    for final in ("RESULT_APPROVED", "RESULT_DECLINED", "EXPIRED", "QR_DELETED"):
        assert adapter.session_capabilities(final) == adapter.capabilities - {
            Capability.STREAMING,
            Capability.CANCEL,
        }


def test_bad_settings_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="policy_max_print_score"):
        UqudoAdapter(make_config(options={"policy_max_print_score": "lots"}))
    with pytest.raises(ValueError, match="webhook_basic"):
        UqudoAdapter(make_config(options={"webhook_basic_user": "uqudo"}))


# -- cassette replays -----------------------------------------------------------------------------
async def test_token_cassette() -> None:
    adapter = UqudoAdapter(make_config())
    with recorder.use_cassette("token_200.yaml") as cassette:
        assert await adapter.tokens.get() == "test-access-token"
        assert await adapter.tokens.get() == "test-access-token"  # cached
    assert_all_played(cassette, 1)
    await adapter.aclose()


async def test_create_cassette_sends_the_documented_body() -> None:
    adapter = UqudoAdapter(make_config())
    with recorder.use_cassette("create_qr_session_200.yaml") as cassette:
        snap = await adapter.create_session(CreateSessionRequest())
    assert_all_played(cassette, 2)
    assert snap.provider_session_id == SID
    assert snap.provider_status == "QR_CREATED"
    assert snap.status is SessionStatus.CREATED
    assert snap.verification_url == "https://link.example.com/uqudo/test-qr-code-text"
    assert snap.qr_code == qr_png_data_url("https://link.example.com/uqudo/test-qr-code-text")
    assert snap.expires_at == NOW + timedelta(seconds=inferred.SESSION_TTL_S)
    assert snap.raw["qrCodeText"] == "test-qr-code-text"  # restricted raw only
    assert snap.decision is None and snap.occurred_at is None
    await adapter.aclose()


async def test_info_cassette_is_verified_and_judged() -> None:
    adapter = UqudoAdapter(make_config())
    with recorder.use_cassette("info_200.yaml") as cassette:
        snap = await adapter.fetch_session(SID)
    assert_all_played(cassette, 3)  # info, token, jwks
    assert snap.provider_status == "RESULT_APPROVED"
    assert snap.status is SessionStatus.APPROVED
    assert snap.decision is not None
    assert snap.decision.outcome is Outcome.APPROVED
    assert snap.decision.decided_by is DecidedBy.POLICY
    assert snap.decision.reason_codes == ("policy:passed",)
    assert snap.decision.decided_at == NOW
    assert snap.occurred_at is not None and snap.occurred_at.timestamp() == IAT
    assert snap.raw["claims"] == documented_claims()
    assert snap.raw["policy"]["outcome"] == "APPROVED"
    assert snap.raw["jws"].count(".") == 2
    await adapter.aclose()


async def test_info_404_cassette() -> None:
    clock = Clock()
    adapter = UqudoAdapter(make_config(clock=clock))
    with recorder.use_cassette("info_404.yaml", allow_playback_repeats=True):
        unknown = await adapter.fetch_session(SID)  # this process never saw SID
    assert unknown.provider_status == "PENDING_RESULT"
    assert unknown.status is SessionStatus.CREATED
    assert unknown.decision is None
    with recorder.use_cassette("create_qr_session_200.yaml"):
        await adapter.create_session(CreateSessionRequest())
    with recorder.use_cassette("info_404.yaml", allow_playback_repeats=True):
        known = await adapter.fetch_session(SID)
        assert known.provider_status == "QR_CREATED"
        assert known.raw["session"]["qrCodeText"] == "test-qr-code-text"
        assert known.expires_at == NOW + timedelta(seconds=inferred.SESSION_TTL_S)
        clock.advance(inferred.SESSION_TTL_S + inferred.RESULT_GRACE_S - 1)
        assert (await adapter.fetch_session(SID)).provider_status == "QR_CREATED"
        clock.advance(1)
        expired = await adapter.fetch_session(SID)
    assert expired.provider_status == "EXPIRED"
    assert expired.status is SessionStatus.EXPIRED
    assert expired.occurred_at == NOW + timedelta(seconds=inferred.SESSION_TTL_S)
    await adapter.aclose()


async def test_delete_cassette() -> None:
    adapter = UqudoAdapter(make_config())
    with recorder.use_cassette("delete_204.yaml") as cassette:
        assert await adapter.redact_session(SID) is None
    assert_all_played(cassette, 2)
    await adapter.aclose()


async def test_error_401_cassette_refreshes_once_then_rejects() -> None:
    adapter = UqudoAdapter(make_config())
    with recorder.use_cassette("error_401.yaml") as cassette:
        with pytest.raises(ProviderError) as info:
            await adapter.fetch_session(SID)
    assert_all_played(cassette, 4)  # info 401, token, token (refresh), info 401
    assert adapter.tokens.fetches == 2
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert info.value.http_status == 401
    assert info.value.provider_code == "unauthorized"
    await adapter.aclose()


async def test_error_429_cassette() -> None:
    adapter = UqudoAdapter(make_config())
    with recorder.use_cassette("error_429.yaml") as cassette:
        with pytest.raises(ProviderError) as info:
            await adapter.fetch_session(SID)
    assert_all_played(cassette, 2)
    assert info.value.code is ErrorCode.RATE_LIMITED
    assert info.value.retry_after == 30
    assert info.value.message == "Too many requests"
    await adapter.aclose()


async def test_jwks_cassette() -> None:
    adapter = UqudoAdapter(make_config())
    with recorder.use_cassette("jwks_200.yaml") as cassette:
        await adapter.warm_up()
        await adapter.warm_up()  # loaded: no second read
    assert_all_played(cassette, 1)
    assert adapter.keys.cached(TEST_KID) is not None
    events = adapter.parse_webhook(*webhook_fixture())  # now verifiable synchronously
    assert events[0].provider_session_id == SID
    await adapter.aclose()


# -- create ---------------------------------------------------------------------------------------
def sent_instructions(request: httpx.Request) -> dict[str, Any]:
    body = json.loads(request.content)
    assert set(body) == {"data"}
    return json.loads(base64.b64decode(body["data"], validate=True))


async def test_create_sends_bearer_and_base64_instructions(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    await uqudo.create_session(CreateSessionRequest(client_reference="user-123"))
    (create,) = fake.calls("create")
    assert create.method == "POST"
    assert str(create.url) == "https://idws.uqudo.io/api/v1/session"
    assert create.headers["Authorization"] == "Bearer access-1"
    assert create.headers["Content-Type"] == "application/json"
    data = sent_instructions(create)
    assert [d["documentType"] for d in data["documents"]] == ["PASSPORT"]
    assert data["documents"][0]["faceScanMinimumMatchLevel"] == 2  # the policy's default floor
    assert data["documents"][0]["faceReadMinimumMatchLevel"] == 2
    assert data["facialRecognition"]["enabled"] is True
    assert data["backgroundCheck"]["enabled"] is False
    assert data["generalConfig"]["userIdentifier"] is None  # not a UUID: kept by the gateway
    assert set(data) == {"documents", "generalConfig", "backgroundCheck", "facialRecognition"}


async def test_create_maps_options_and_document_types(fake: FakeUqudo) -> None:
    adapter = fake.adapter(options={"policy_min_face_match_level": "4"})
    reference = "0f1e2d3c-4b5a-4968-8776-655443322110"
    await adapter.create_session(
        CreateSessionRequest(
            client_reference=reference,
            expected_person=ExpectedPerson(
                first_name="Jane", document_types=(DocumentType.PASSPORT,)
            ),
            language="ar",
            metadata={"k": "v"},
            provider_options={
                "document_types": ["UAE_ID", "PASSPORT"],
                "reading": True,
                "background_check": True,
                "background_check_type": "RDC",
                "expired_document_allowed": True,
                "upload_enabled": True,
                "face_recognition": True,
            },
        )
    )
    data = sent_instructions(fake.calls("create")[0])
    assert [d["documentType"] for d in data["documents"]] == ["PASSPORT", "UAE_ID"]
    for document in data["documents"]:
        assert document["reading"]["enabled"] is True
        assert document["isExpiredDocumentAllowed"] is True
        assert document["isUploadEnabled"] is True
        assert document["faceScanMinimumMatchLevel"] == 4
    assert data["backgroundCheck"] == {
        "enabled": True,
        "checkType": "RDC",
        "disableConsent": False,
        "enableMonitoring": False,
        "skipView": False,
    }
    assert data["generalConfig"]["userIdentifier"] == reference
    assert data["facialRecognition"]["scanMinimumMatchLevel"] == 4


async def test_create_uses_the_configured_document_types(fake: FakeUqudo) -> None:
    adapter = fake.adapter(options={"document_types": "UAE_ID, GENERIC_ID"})
    await adapter.create_session(CreateSessionRequest())
    data = sent_instructions(fake.calls("create")[0])
    assert [d["documentType"] for d in data["documents"]] == ["UAE_ID", "GENERIC_ID"]


async def test_no_face_check_turns_face_recognition_off(fake: FakeUqudo) -> None:
    adapter = fake.adapter(options={"policy_min_face_match_level": "0"})
    await adapter.create_session(CreateSessionRequest())
    data = sent_instructions(fake.calls("create")[0])
    assert data["facialRecognition"]["enabled"] is False
    assert data["facialRecognition"]["scanMinimumMatchLevel"] == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"workflow": "x"}, ("input", "providerOptions", "workflow")),
        ({"reading": "yes"}, ("input", "providerOptions", "reading")),
        ({"face_recognition": 1}, ("input", "providerOptions", "face_recognition")),
        ({"document_types": "PASSPORT"}, ("input", "providerOptions", "document_types")),
        ({"document_types": []}, ("input", "providerOptions", "document_types")),
        ({"document_types": ["passport"]}, ("input", "providerOptions", "document_types")),
        ({"background_check_type": 5}, ("input", "providerOptions", "background_check_type")),
    ],
)
async def test_bad_provider_options(
    options: dict[str, Any], field: tuple[str, ...], fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    with pytest.raises(ProviderError) as info:
        await uqudo.create_session(CreateSessionRequest(provider_options=options))
    assert info.value.code is ErrorCode.BAD_USER_INPUT
    assert info.value.field == field
    assert fake.requests == []  # refused before any call
    assert set(PROVIDER_OPTIONS) >= {"document_types", "reading", "background_check"}


async def test_document_types_without_a_generic_code_are_unsupported(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    with pytest.raises(ProviderError) as info:
        await uqudo.create_session(
            CreateSessionRequest(
                expected_person=ExpectedPerson(document_types=(DocumentType.ID_CARD,))
            )
        )
    assert info.value.code is ErrorCode.UNSUPPORTED_BY_PROVIDER
    assert info.value.field == ("input", "expectedPerson", "documentTypes")
    assert fake.requests == []


async def test_create_without_a_dynamic_link(fake: FakeUqudo) -> None:
    fake.script("create", created_reply(link=None))
    snap = await fake.adapter().create_session(CreateSessionRequest())
    assert snap.verification_url == QR_TEXT
    assert snap.qr_code == qr_png_data_url(QR_TEXT)


async def test_create_answer_missing_fields_is_an_outage(fake: FakeUqudo) -> None:
    fake.script("create", httpx.Response(200, json={"sessionId": SID}))
    with pytest.raises(ProviderError) as info:
        await fake.adapter().create_session(CreateSessionRequest())
    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE


async def test_create_is_not_retried_on_a_gateway_error(fake: FakeUqudo) -> None:
    fake.script("create", httpx.Response(503))
    with pytest.raises(ProviderError) as info:
        await fake.adapter().create_session(CreateSessionRequest())
    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert len(fake.calls("create")) == 1  # a second POST could make a second session


async def test_qr_code_text_is_never_logged(
    fake: FakeUqudo, uqudo: UqudoAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await uqudo.create_session(CreateSessionRequest())
    fake.script("info", NOT_READY)
    await uqudo.fetch_session(SID)
    assert QR_TEXT not in caplog.text


# -- fetch ----------------------------------------------------------------------------------------
async def test_fetch_reads_the_info_api_with_the_bearer(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    fake.script("info", jws_reply(sign(documented_claims())))
    snap = await uqudo.fetch_session(SID)
    assert snap.status is SessionStatus.APPROVED
    (read,) = fake.calls("info")
    assert read.method == "GET" and str(read.url) == f"https://id.uqudo.io/api/v1/info/{SID}"
    assert read.headers["Authorization"] == "Bearer access-1"
    assert "Authorization" not in fake.calls("jwks")[0].headers  # the JWKS is public


@pytest.mark.parametrize(
    ("change", "status", "codes"),
    [
        (
            lambda c: c["data"]["documents"][0]["face"].update(match=False),
            "DECLINED",
            ["face_mismatch"],
        ),
        (
            lambda c: c["data"].update(backgroundCheck={"match": True}),
            "IN_REVIEW",
            ["background_check_hit"],
        ),
    ],
)
async def test_fetch_applies_the_policy(
    change: Callable[[dict[str, Any]], None],
    status: str,
    codes: list[str],
    fake: FakeUqudo,
    uqudo: UqudoAdapter,
) -> None:
    claims = documented_claims()
    change(claims)
    fake.script("info", jws_reply(sign(claims)))
    snap = await uqudo.fetch_session(SID)
    assert snap.status is SessionStatus(status)
    assert snap.decision is not None
    assert list(snap.decision.reason_codes) == [f"policy:{c}" for c in codes]


async def test_fetch_uses_the_policy_settings(fake: FakeUqudo) -> None:
    claims = documented_claims()
    claims["data"]["backgroundCheck"] = {"match": True}
    fake.script("info", jws_reply(sign(claims)))
    adapter = fake.adapter(options={"policy_background_hit": "decline"})
    assert (await adapter.fetch_session(SID)).status is SessionStatus.DECLINED


async def test_fetch_refuses_a_result_bound_to_another_session(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    fake.script("info", jws_reply(sign({**documented_claims(), "jti": OTHER_SID})))
    with pytest.raises(ProviderError) as info:
        await uqudo.fetch_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert "another session" in info.value.message


async def test_fetch_refuses_an_unsigned_result(fake: FakeUqudo, uqudo: UqudoAdapter) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"uqudo-test-key"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(compact(documented_claims()).encode()).rstrip(b"=")
    fake.script("info", jws_reply(f"{header.decode()}.{payload.decode()}."))
    with pytest.raises(ProviderError) as info:
        await uqudo.fetch_session(SID)
    assert "algorithm" in info.value.message


async def test_fetch_tolerates_a_json_quoted_jws(fake: FakeUqudo, uqudo: UqudoAdapter) -> None:
    fake.script("info", httpx.Response(200, json=sign(documented_claims())))
    assert (await uqudo.fetch_session(SID)).status is SessionStatus.APPROVED


@pytest.mark.parametrize("status", [400, 404])
async def test_fetch_of_a_non_uuid_id_is_not_found(
    status: int, fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    fake.script("info", httpx.Response(status, json={"message": "sessionId: must be a UUID"}))
    with pytest.raises(ProviderError) as info:
        await uqudo.fetch_session("no-such-session")
    assert info.value.code is ErrorCode.NOT_FOUND
    assert str(fake.calls("info")[0].url).endswith("/api/v1/info/no-such-session")


async def test_fetch_quotes_the_id(fake: FakeUqudo, uqudo: UqudoAdapter) -> None:
    with pytest.raises(ProviderError):
        await uqudo.fetch_session("../session?x=1")
    assert fake.calls("info")[0].url.raw_path == b"/api/v1/info/..%2Fsession%3Fx%3D1"


async def test_fetch_without_an_id_is_bad_input(uqudo: UqudoAdapter) -> None:
    with pytest.raises(ProviderError) as info:
        await uqudo.fetch_session("")
    assert info.value.code is ErrorCode.BAD_USER_INPUT


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (httpx.Response(403, json={"message": "Forbidden"}), ErrorCode.PROVIDER_REJECTED),
        (httpx.Response(500, text="boom"), ErrorCode.PROVIDER_UNAVAILABLE),
        (httpx.Response(503), ErrorCode.PROVIDER_UNAVAILABLE),
        (httpx.ConnectError("refused"), ErrorCode.PROVIDER_UNAVAILABLE),
        (
            httpx.Response(302, headers={"Location": "https://x.example.com"}),
            ErrorCode.PROVIDER_REJECTED,
        ),
    ],
)
async def test_fetch_errors(
    reply: httpx.Response | Exception, code: ErrorCode, fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    fake.script("info", reply)
    with pytest.raises(ProviderError) as info:
        await uqudo.fetch_session(SID)
    assert info.value.code is code


async def test_gateway_errors_are_retried_on_reads(fake: FakeUqudo, uqudo: UqudoAdapter) -> None:
    fake.script("info", httpx.Response(502), jws_reply(sign(documented_claims())))
    assert (await uqudo.fetch_session(SID)).status is SessionStatus.APPROVED
    assert len(fake.calls("info")) == 2


async def test_error_messages_are_scrubbed(fake: FakeUqudo) -> None:
    fake.script(
        "info",
        httpx.Response(
            403, json={"message": f"client {CLIENT_SECRET} of jane.doe@example.com refused"}
        ),
    )
    adapter = fake.adapter()
    with pytest.raises(ProviderError) as info:
        await adapter.fetch_session(SID)
    assert CLIENT_SECRET not in info.value.message
    assert "jane.doe@example.com" not in info.value.message


async def test_redact_deletes_and_forgets_the_session(fake: FakeUqudo, uqudo: UqudoAdapter) -> None:
    await uqudo.create_session(CreateSessionRequest())
    await uqudo.redact_session(SID)
    (qr_delete,) = fake.calls("qr_delete")
    assert str(qr_delete.url) == f"https://idws.uqudo.io/api/v1/session/{QR_TEXT}"
    (delete,) = fake.calls("delete")
    assert delete.method == "DELETE" and str(delete.url).endswith(f"/api/v1/info/{SID}")
    assert delete.headers["Authorization"] == "Bearer access-1"
    assert [route for route, _ in fake.requests][-2:] == ["qr_delete", "delete"]
    assert (await uqudo.fetch_session(SID)).provider_status == "PENDING_RESULT"


async def test_unsupported_actions(uqudo: UqudoAdapter) -> None:
    for call in (
        uqudo.resume_session(SID),
        uqudo.issue_link(SID),
        uqudo.list_sessions(),
    ):
        with pytest.raises(UnsupportedByProvider):
            await call


# -- webhooks ------------------------------------------------------------------------------------
@pytest.fixture
async def ready(uqudo: UqudoAdapter) -> UqudoAdapter:
    await uqudo.warm_up()
    return uqudo


def test_fixture_webhook_is_processing_with_a_refetch(ready: UqudoAdapter) -> None:
    (event,) = ready.parse_webhook(*webhook_fixture())
    assert event.dedupe_key == SID  # the jti
    assert event.event_type == "jwsResult"
    assert event.provider_session_id == SID
    assert event.refetch  # no verification scores: read the Info API's full result
    assert event.snapshot is not None
    assert event.snapshot.provider_status == "RESULT_RECEIVED"
    assert event.snapshot.status is SessionStatus.PROCESSING
    assert event.snapshot.decision is None
    assert event.snapshot.occurred_at is not None and event.snapshot.occurred_at.timestamp() == IAT
    assert event.received_payload["jwsResult"].count(".") == 2


def test_full_webhook_result_is_judged(ready: UqudoAdapter) -> None:
    (event,) = ready.parse_webhook(*webhook(sign(documented_claims())))
    assert not event.refetch
    assert event.snapshot is not None
    assert event.snapshot.status is SessionStatus.APPROVED
    assert event.snapshot.decision is not None
    assert event.snapshot.decision.decided_by is DecidedBy.POLICY


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "wrong"}, {"x-api-key": ""}, {"authorization": WEBHOOK_AUTH}],
)
def test_caller_authentication_is_required(ready: UqudoAdapter, headers: dict[str, str]) -> None:
    body, _ = webhook(sign(documented_claims()))
    with pytest.raises(WebhookRejected) as info:
        ready.parse_webhook(body, headers)
    assert info.value.reason is WebhookRejectReason.SIGNATURE
    assert WEBHOOK_AUTH not in info.value.detail


def test_caller_header_name_is_case_insensitive(ready: UqudoAdapter) -> None:
    body, _ = webhook(sign(documented_claims()))
    assert ready.parse_webhook(body, {"X-Api-Key": WEBHOOK_AUTH})


async def test_custom_header_and_basic_authentication(fake: FakeUqudo) -> None:
    adapter = fake.adapter(
        options={
            "webhook_auth_header": "Authorization",
            "webhook_auth_value": "Bearer hook-token",
            "webhook_basic_user": "",
        }
    )
    await adapter.warm_up()
    body, _ = webhook(sign(documented_claims()))
    assert adapter.parse_webhook(body, {"authorization": "Bearer hook-token"})
    with pytest.raises(WebhookRejected):
        adapter.parse_webhook(body, {"authorization": "Bearer other"})
    basic = fake.adapter(
        options={
            "webhook_auth_value": "",
            "webhook_basic_user": "uqudo",
            "webhook_basic_password": "s3cret-pass",
        }
    )
    await basic.warm_up()

    def auth(user: str, password: str, scheme: str = "Basic") -> dict[str, str]:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"{scheme} {token}"}

    assert basic.parse_webhook(body, auth("uqudo", "s3cret-pass"))
    assert basic.parse_webhook(body, auth("uqudo", "s3cret-pass", scheme="basic"))
    for headers in (
        auth("uqudo", "wrong"),
        auth("other", "s3cret-pass"),
        auth("uqudo", "s3cret-pass", scheme="Bearer"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {},
    ):
        with pytest.raises(WebhookRejected) as info:
            basic.parse_webhook(body, headers)
        assert info.value.reason is WebhookRejectReason.SIGNATURE


async def test_webhook_secret_is_the_default_header_value(fake: FakeUqudo) -> None:
    adapter = fake.adapter(webhook_secret="from-settings", options={"webhook_auth_value": ""})
    await adapter.warm_up()
    body, _ = webhook(sign(documented_claims()))
    assert adapter.parse_webhook(body, {"x-api-key": "from-settings"})
    with pytest.raises(WebhookRejected):
        adapter.parse_webhook(body, {"x-api-key": WEBHOOK_AUTH})


async def test_without_caller_authentication_the_jws_alone_decides(fake: FakeUqudo) -> None:
    adapter = fake.adapter(options={"webhook_auth_value": ""})
    await adapter.warm_up()
    body, _ = webhook(sign(documented_claims()))
    assert adapter.parse_webhook(body, {})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(WebhookRejected) as info:
        adapter.parse_webhook(*webhook(sign(documented_claims(), key=other)))
    assert info.value.reason is WebhookRejectReason.SIGNATURE


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"{}",
        b'{"jwsResult": ""}',
        b'{"jwsResult": 5}',
    ],
)
def test_malformed_webhooks(ready: UqudoAdapter, body: bytes) -> None:
    with pytest.raises(WebhookRejected) as info:
        ready.parse_webhook(body, {"x-api-key": WEBHOOK_AUTH})
    assert info.value.reason is WebhookRejectReason.MALFORMED


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.update(aud="someone-else"),
        lambda c: c.update(iss="https://evil.example.com"),
        lambda c: c.update(exp=IAT - 10, iat=IAT - 7210),
    ],
)
def test_webhook_claims_are_checked(
    ready: UqudoAdapter, mutate: Callable[[dict[str, Any]], None]
) -> None:
    claims = documented_claims()
    mutate(claims)
    with pytest.raises(WebhookRejected) as info:
        ready.parse_webhook(*webhook(sign(claims)))
    assert info.value.reason is WebhookRejectReason.SIGNATURE


def test_redelivery_is_accepted_and_a_different_token_with_the_jti_refused(
    ready: UqudoAdapter,
) -> None:
    first = webhook(sign(documented_claims()))
    assert ready.parse_webhook(*first)[0].dedupe_key == SID
    assert ready.parse_webhook(*first)[0].dedupe_key == SID  # redelivery: the gateway dedupes
    forged = documented_claims()
    forged["data"]["documents"][0]["face"]["matchLevel"] = 5
    with pytest.raises(WebhookRejected) as info:
        ready.parse_webhook(*webhook(sign(forged)))
    assert info.value.reason is WebhookRejectReason.SIGNATURE
    assert "replay" in info.value.detail


async def test_fetch_may_return_a_different_token_for_a_webhook_jti(
    fake: FakeUqudo, ready: UqudoAdapter
) -> None:
    """The webhook JWS lacks scores; the Info API's (same jti, other token) is the real one."""
    ready.parse_webhook(*webhook_fixture())
    fake.script("info", jws_reply(sign(documented_claims())))
    assert (await ready.fetch_session(SID)).status is SessionStatus.APPROVED


async def test_unknown_kid_is_refused_while_the_keys_refresh(fake: FakeUqudo) -> None:
    clock = Clock()
    adapter = fake.adapter(clock=clock)
    await adapter.warm_up()
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.script("jwks", httpx.Response(200, json=jwks((TEST_KEY, TEST_KID), (rotated, "next"))))
    token = sign(documented_claims(), key=rotated, kid="next")
    clock.advance(inferred.JWKS_REFETCH_MIN_INTERVAL_S)
    with pytest.raises(WebhookRejected) as info:
        adapter.parse_webhook(*webhook(token))
    assert info.value.reason is WebhookRejectReason.SIGNATURE
    for _ in range(5):
        await asyncio.sleep(0)  # let the background refresh run
    assert len(fake.calls("jwks")) == 2
    assert adapter.parse_webhook(*webhook(token))[0].provider_session_id == SID  # uqudo's retry
    await adapter.aclose()


async def test_unknown_kid_floods_cost_one_jwks_read_per_interval(fake: FakeUqudo) -> None:
    adapter = fake.adapter()
    await adapter.warm_up()
    for n in range(10):
        with pytest.raises(WebhookRejected):
            adapter.parse_webhook(*webhook(sign(documented_claims(), kid=f"forged-{n}")))
        await asyncio.sleep(0)
    assert len(fake.calls("jwks")) == 1  # the warm-up; every forged kid came within 10 s
    await adapter.aclose()


def test_cold_adapter_outside_a_loop_refuses_without_crashing() -> None:
    adapter = FakeUqudo().adapter()
    with pytest.raises(WebhookRejected) as info:
        adapter.parse_webhook(*webhook_fixture())
    assert info.value.reason is WebhookRejectReason.SIGNATURE


# -- the session websocket ------------------------------------------------------------------------
MILESTONES = ["SCAN", "READ", "FACE", "BACKGROUND_CHECK", "INFO"]


class Channel:
    """A local stand-in for wss://idws.uqudo.io/ws/v1/session."""

    def __init__(self, frames: list[Any], close_after: bool = True) -> None:
        self.frames = frames
        self.close_after = close_after
        self.credentials: list[str] = []
        self.paths: list[str] = []

    async def handler(self, socket: ServerConnection) -> None:
        self.paths.append(socket.request.path if socket.request else "")
        self.credentials.append(str(await socket.recv()))
        for frame in self.frames:
            await socket.send(frame if isinstance(frame, str) else json.dumps(frame))
        if not self.close_after:
            await socket.wait_closed()


async def serve_channel(channel: Channel) -> tuple[Any, str]:
    server = await serve(channel.handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/ws/v1/session"


def messages(*services: str, session_id: str = SID) -> list[dict[str, str]]:
    return [{"service": s, "sessionId": session_id} for s in services]


async def follow(adapter: UqudoAdapter, session_id: str = SID) -> list[SessionSnapshot]:
    return [s async for s in adapter.follow_session(session_id)]


async def streaming_adapter(fake: FakeUqudo, ws_url: str, **overrides: Any) -> UqudoAdapter:
    adapter = fake.adapter(options={"ws_url": ws_url}, **overrides)
    adapter.info_retry_delays_s = (0.01, 0.01)
    await adapter.create_session(CreateSessionRequest(client_reference="ref-1"))
    return adapter


async def test_follow_yields_progress_then_the_judged_result(fake: FakeUqudo) -> None:
    channel = Channel(messages(*MILESTONES))
    server, url = await serve_channel(channel)
    fake.script("info", NOT_READY, jws_reply(sign(documented_claims())))
    adapter = await streaming_adapter(fake, url)
    try:
        snapshots = await follow(adapter)
    finally:
        server.close()
        await adapter.aclose()
    assert [s.provider_status for s in snapshots] == [*MILESTONES, "RESULT_APPROVED"]
    assert [s.status for s in snapshots] == [
        SessionStatus.IN_PROGRESS,
        SessionStatus.IN_PROGRESS,
        SessionStatus.IN_PROGRESS,
        SessionStatus.IN_PROGRESS,
        SessionStatus.PROCESSING,
        SessionStatus.APPROVED,
    ]
    assert channel.credentials == [QR_TEXT]  # the socket is authenticated by qrCodeText
    assert channel.paths == ["/ws/v1/session"]
    assert all(s.provider_session_id == SID for s in snapshots)
    assert all(s.client_reference == "ref-1" for s in snapshots)
    assert snapshots[0].raw["message"] == {"service": "SCAN", "sessionId": SID}
    assert snapshots[0].raw["session"]["qrCodeText"] == QR_TEXT  # kept for a re-follow
    final = snapshots[-1]
    assert final.decision is not None and final.decision.decided_by is DecidedBy.POLICY
    assert len(fake.calls("info")) == 2  # read once too early, then found
    assert (await adapter.fetch_session(SID)).provider_status == "RESULT_APPROVED"


async def test_follow_ignores_other_sessions_and_garbage(fake: FakeUqudo) -> None:
    frames: list[Any] = [
        "not json",
        {"nothing": "here"},
        *messages("SCAN", session_id=OTHER_SID),
        *messages("SCAN", "INFO"),
    ]
    server, url = await serve_channel(Channel(frames))
    fake.script("info", jws_reply(sign(documented_claims())))
    adapter = await streaming_adapter(fake, url)
    try:
        snapshots = await follow(adapter)
    finally:
        server.close()
        await adapter.aclose()
    assert [s.provider_status for s in snapshots] == ["SCAN", "INFO", "RESULT_APPROVED"]


async def test_unknown_service_is_passed_on_unmapped(fake: FakeUqudo) -> None:
    server, url = await serve_channel(Channel(messages("LOOKUP")))
    adapter = await streaming_adapter(fake, url)
    try:
        snapshots = await follow(adapter)
    finally:
        server.close()
        await adapter.aclose()
    assert [(s.provider_status, s.status) for s in snapshots] == [("LOOKUP", None)]


async def test_channel_closed_before_info_just_ends(fake: FakeUqudo) -> None:
    server, url = await serve_channel(Channel(messages("SCAN", "FACE")))
    adapter = await streaming_adapter(fake, url)
    try:
        snapshots = await follow(adapter)
    finally:
        server.close()
        await adapter.aclose()
    assert [s.provider_status for s in snapshots] == ["SCAN", "FACE"]
    assert fake.calls("info") == []
    assert adapter.needs_polling("FACE")  # the reconciler carries on


async def test_result_not_there_after_info_leaves_it_to_polling(fake: FakeUqudo) -> None:
    server, url = await serve_channel(Channel(messages("INFO")))
    adapter = await streaming_adapter(fake, url)
    try:
        snapshots = await follow(adapter)
    finally:
        server.close()
        await adapter.aclose()
    assert [s.provider_status for s in snapshots] == ["INFO"]
    assert len(fake.calls("info")) == 3  # at once, then after each retry delay
    assert adapter.needs_polling("INFO")


async def test_after_info_a_re_follow_reads_the_result_directly(fake: FakeUqudo) -> None:
    server, url = await serve_channel(Channel(messages("INFO")))
    adapter = await streaming_adapter(fake, url)
    try:
        await follow(adapter)
        channel_calls = len(fake.calls("info"))
        fake.script("info", jws_reply(sign(documented_claims())))
        again = await follow(adapter)
    finally:
        server.close()
        await adapter.aclose()
    assert [s.provider_status for s in again] == ["RESULT_APPROVED"]
    assert len(fake.calls("info")) == channel_calls + 1


async def test_follow_past_the_ttl_reports_expiry(fake: FakeUqudo) -> None:
    clock = Clock()
    adapter = await streaming_adapter(fake, "ws://127.0.0.1:9/never", clock=clock)
    clock.advance(inferred.SESSION_TTL_S + inferred.RESULT_GRACE_S)
    snapshots = await follow(adapter)
    assert [s.provider_status for s in snapshots] == ["EXPIRED"]
    assert await follow(adapter) == []  # final: nothing more to follow
    await adapter.aclose()


async def test_follow_of_a_decided_session_yields_nothing(fake: FakeUqudo) -> None:
    adapter = await streaming_adapter(fake, "ws://127.0.0.1:9/never")
    fake.script("info", jws_reply(sign(documented_claims())))
    await adapter.fetch_session(SID)
    assert await follow(adapter) == []
    await adapter.aclose()


async def test_follow_needs_the_qr_code_text(uqudo: UqudoAdapter) -> None:
    with pytest.raises(UnsupportedByProvider):
        await follow(uqudo, OTHER_SID)


async def test_channel_that_cannot_open_is_unavailable(fake: FakeUqudo) -> None:
    server, url = await serve_channel(Channel([]))
    server.close()
    await server.wait_closed()
    adapter = await streaming_adapter(fake, url)
    try:
        with pytest.raises(ProviderError) as info:
            await follow(adapter)
    finally:
        await adapter.aclose()
    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert QR_TEXT not in info.value.message


async def test_follow_warms_the_key_cache(fake: FakeUqudo) -> None:
    server, url = await serve_channel(Channel(messages("SCAN")))
    adapter = await streaming_adapter(fake, url)
    try:
        await follow(adapter)
    finally:
        server.close()
        await adapter.aclose()
    assert adapter.keys.loaded
    assert len(fake.calls("jwks")) == 1


async def test_injected_connector_is_used(fake: FakeUqudo) -> None:
    sent: list[str] = []

    class Socket:
        async def send(self, text: str) -> None:
            sent.append(text)

        def __aiter__(self) -> AsyncIterator[str]:
            return self._frames()

        async def _frames(self) -> AsyncIterator[str]:
            yield json.dumps({"service": "SCAN", "sessionId": SID})

    class Connect:
        def __init__(self, url: str, **options: Any) -> None:
            self.url = url
            self.options = options

        async def __aenter__(self) -> Socket:
            return Socket()

        async def __aexit__(self, *exc: object) -> None:
            return None

    adapter = await streaming_adapter(fake, "ws://sandbox.invalid/ws/v1/session")
    adapter.ws_connector = Connect
    snapshots = await follow(adapter)
    assert [s.provider_status for s in snapshots] == ["SCAN"]
    assert sent == [QR_TEXT]
    await adapter.aclose()
