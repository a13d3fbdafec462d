"""Issue 13, uqudo: the answers checked against uqudo's own pages (docs/vendors/uqudo.md).

- cancelSession / redactSession delete the QR session
  (https://docs.uqudo.com/docs/kyc/qr-code-app/scan-the-qr-code), so its QR code dies at once;
- uqudo's own documented example result
  (https://docs.uqudo.com/docs/kyc/uqudo-sdk/sdk-result/validation-and-parsing) verifies and
  is APPROVED by the default policy; unknown webhook envelope keys are ignored, never kept;
- every createSession field is declared, and each one is shown sent, mapped or left out.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.base import (
    AdapterConfig,
    Capability,
    Contact,
    CreateSessionRequest,
    DecidedBy,
    DocumentType,
    Environment,
    ErrorCode,
    ExpectedPerson,
    InputSupport,
    KnownSession,
    ProviderError,
    SandboxConfig,
    SessionStatus,
    WebhookRejected,
    WebhookRejectReason,
    input_fields,
)
from adapters.uqudo import inferred
from adapters.uqudo.adapter import UqudoAdapter
from adapters.uqudo.inputs import INPUT_SUPPORT
from adapters.uqudo.policy import PolicySettings, evaluate
from adapters.uqudo.sandbox import UqudoSandbox
from adapters.uqudo.sandbox.payloads import DOCUMENTED_EXAMPLE_DATA
from tests.adapters.test_uqudo_adapter import (
    NOT_READY,
    QR_TEXT,
    WEBHOOK_AUTH,
    FakeUqudo,
    jws_reply,
    recorder,
    sent_instructions,
)
from tests.support.signing.uqudo import NOW, SID, Clock, compact, sign

DOC_RESULT_URL = "https://docs.uqudo.com/docs/kyc/uqudo-sdk/sdk-result/validation-and-parsing"

#: uqudo's "Enrollment payload example" from DOC_RESULT_URL: `aud` and `data`, nothing else at
#: the top level. The `data` is the one verbatim copy of the page, kept with the sandbox.
DOCUMENTED_EXAMPLE: dict[str, Any] = {"aud": "clientid", "data": DOCUMENTED_EXAMPLE_DATA}
#: The example's `aud` is the client id it was issued to.
DOC_CLIENT_ID = DOCUMENTED_EXAMPLE["aud"]


def documented_result(**extra: Any) -> dict[str, Any]:
    """The documented example bound to our session: plus `jti`, which uqudo names as the
    session id ("The session id is the value of the jti property of the JWS returned by the
    uqudo SDK", https://docs.uqudo.com/docs/kyc/uqudo-api/info)."""
    return {**copy.deepcopy(DOCUMENTED_EXAMPLE), "jti": SID, **extra}


@pytest.fixture
def fake() -> FakeUqudo:
    return FakeUqudo()


@pytest.fixture
async def uqudo(fake: FakeUqudo) -> AsyncIterator[UqudoAdapter]:
    adapter = fake.adapter(options={"client_id": DOC_CLIENT_ID})
    yield adapter
    await adapter.aclose()


# -- 14. cancel / redact delete the QR session ----------------------------------------------------
async def test_cancel_deletes_the_qr_session_by_its_qr_code_text(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    """scan-the-qr-code: the QR session can be deleted before its 30 minutes are up."""
    await uqudo.create_session(CreateSessionRequest())
    snapshot = await uqudo.cancel_session(SID)
    (delete,) = fake.calls("qr_delete")
    assert delete.method == "DELETE"
    assert str(delete.url) == f"https://idws.uqudo.io/api/v1/session/{QR_TEXT}"
    assert delete.headers["Authorization"] == "Bearer access-1"
    assert snapshot.provider_status == "QR_DELETED"
    assert snapshot.status is SessionStatus.CANCELLED
    assert fake.calls("delete") == []  # the cached result (if any) is redaction's business
    # Afterwards the session reads as cancelled, is not followed and cannot be cancelled again.
    assert (await uqudo.fetch_session(SID)).status is SessionStatus.CANCELLED
    assert [s async for s in uqudo.follow_session(SID)] == []
    with pytest.raises(ProviderError) as info:
        await uqudo.cancel_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert len(fake.calls("qr_delete")) == 1


async def test_cancel_cassette_sends_the_documented_delete() -> None:
    adapter = UqudoAdapter(
        AdapterConfig(
            environment=Environment.LIVE,
            base_url=inferred.API_BASE_URL,
            api_key="",
            webhook_secret="",
            options={"client_id": "test-client-id", "client_secret": "test-client-secret"},
            retry_wait_s=0.0,
            clock=Clock(),
        )
    )
    with recorder.use_cassette("delete_qr_session_204.yaml") as cassette:
        await adapter.create_session(CreateSessionRequest())
        snapshot = await adapter.cancel_session(SID)
    assert cassette.play_count == 3 and cassette.all_played  # create, token, DELETE
    assert snapshot.status is SessionStatus.CANCELLED
    await adapter.aclose()


async def test_a_qr_session_already_gone_counts_as_deleted(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    """What uqudo answers for a QR session it already dropped is not documented: a 404
    (inferred.QR_ALREADY_GONE_STATUSES) means the QR code is dead, which is what we wanted."""
    fake.script("qr_delete", httpx.Response(404, json={"status": 404, "error": "Not Found"}))
    await uqudo.create_session(CreateSessionRequest())
    assert (await uqudo.cancel_session(SID)).status is SessionStatus.CANCELLED
    assert 404 in inferred.QR_ALREADY_GONE_STATUSES
    await uqudo.redact_session(SID)  # the QR 404 again, then the Info delete: still fine
    assert len(fake.calls("qr_delete")) == 2 and len(fake.calls("delete")) == 1


async def test_a_failed_delete_cancels_nothing(fake: FakeUqudo, uqudo: UqudoAdapter) -> None:
    fake.script("qr_delete", httpx.Response(403, json={"status": 403, "message": "Forbidden"}))
    await uqudo.create_session(CreateSessionRequest())
    with pytest.raises(ProviderError) as info:
        await uqudo.cancel_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert (await uqudo.fetch_session(SID)).provider_status == "QR_CREATED"


async def test_cancel_after_the_result_is_refused_without_a_call(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    await uqudo.create_session(CreateSessionRequest())
    fake.script("info", jws_reply(sign(documented_result())))
    assert (await uqudo.fetch_session(SID)).status is SessionStatus.APPROVED
    with pytest.raises(ProviderError) as info:
        await uqudo.cancel_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert fake.calls("qr_delete") == []
    assert Capability.CANCEL not in uqudo.session_capabilities("RESULT_APPROVED")
    assert Capability.CANCEL in uqudo.session_capabilities("SCAN")


async def test_cancel_without_the_qr_code_text_says_so(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    """A session this process never saw (and was not restored): there is no id to delete by."""
    with pytest.raises(ProviderError) as info:
        await uqudo.cancel_session(SID)
    assert info.value.code is ErrorCode.UNSUPPORTED_BY_PROVIDER
    assert "qrCodeText" in info.value.message and QR_TEXT not in info.value.message
    assert fake.requests == []


async def test_a_restored_session_can_be_cancelled_and_stays_cancelled(fake: FakeUqudo) -> None:
    created = fake.adapter()
    snapshot = await created.create_session(CreateSessionRequest())
    await created.aclose()
    restarted = fake.adapter()
    known = KnownSession(SID, "SCAN", snapshot.raw, NOW, snapshot.expires_at)
    restarted.restore(known)
    await restarted.cancel_session(SID)
    assert str(fake.calls("qr_delete")[0].url).endswith(f"/api/v1/session/{QR_TEXT}")
    again = fake.adapter()  # another restart, now with the cancelled state stored
    again.restore(KnownSession(SID, "QR_DELETED", snapshot.raw, NOW, snapshot.expires_at))
    assert [s async for s in again.follow_session(SID)] == []
    assert (await again.fetch_session(SID)).status is SessionStatus.CANCELLED
    for adapter in (restarted, again):
        await adapter.aclose()


async def test_redact_deletes_the_qr_session_then_the_cached_result(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    """redactSession: the QR session first (scan-the-qr-code), then the Info delete
    (https://docs.uqudo.com/docs/kyc/uqudo-api/info, "Info delete API")."""
    await uqudo.create_session(CreateSessionRequest())
    await uqudo.redact_session(SID)
    order = [name for name, _ in fake.requests if name in ("qr_delete", "delete")]
    assert order == ["qr_delete", "delete"]
    assert str(fake.calls("qr_delete")[0].url).endswith(f"/api/v1/session/{QR_TEXT}")


async def test_a_decided_session_restored_after_a_restart_is_still_redacted_fully(
    fake: FakeUqudo,
) -> None:
    """The judged result's raw payload keeps the create answer, so after a restart the
    qrCodeText is still there to delete the QR session — and the decision is not cancellable."""
    first = fake.adapter(options={"client_id": DOC_CLIENT_ID})
    created = await first.create_session(CreateSessionRequest())
    fake.script("info", jws_reply(sign(documented_result())))
    judged = await first.fetch_session(SID)
    await first.aclose()
    assert judged.status is SessionStatus.APPROVED
    assert judged.raw["session"]["qrCodeText"] == QR_TEXT
    restarted = fake.adapter(options={"client_id": DOC_CLIENT_ID})
    restarted.restore(
        KnownSession(SID, judged.provider_status, judged.raw, NOW, created.expires_at)
    )
    with pytest.raises(ProviderError) as info:
        await restarted.cancel_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert fake.calls("qr_delete") == []
    await restarted.redact_session(SID)
    assert str(fake.calls("qr_delete")[0].url).endswith(f"/api/v1/session/{QR_TEXT}")
    assert len(fake.calls("delete")) == 1
    await restarted.aclose()


async def test_the_qr_code_text_is_one_path_segment(fake: FakeUqudo) -> None:
    def created(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"sessionId": SID, "qrCodeText": "a/b?c#d"})

    fake.script("create", created)
    adapter = fake.adapter()
    await adapter.create_session(CreateSessionRequest())
    await adapter.cancel_session(SID)
    (delete,) = fake.calls("qr_delete")
    assert delete.url.raw_path == b"/api/v1/session/a%2Fb%3Fc%23d"
    await adapter.aclose()


# -- 14, against the sandbox: the deleted QR session is refused ----------------------------------
class SandboxedUqudo:
    """The adapter wired to its emulator exactly as the gateway wires it
    (gateway/vendors/providers.py)."""

    def __init__(self) -> None:
        self.webhooks: list[httpx.Request] = []
        self.sandbox = UqudoSandbox(
            SandboxConfig(
                public_base_url="http://127.0.0.1:8000/sandbox/uqudo",
                webhook_url="http://gateway.test/webhooks/uqudo",
                webhook_transport=httpx.MockTransport(self._sink),
                webhook_retry_delays_s=(),
            )
        )
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.sandbox.app), base_url="http://uqudo.sandbox"
        )
        self.adapter = UqudoAdapter(
            AdapterConfig(
                environment=Environment.SANDBOX,
                base_url="http://uqudo.sandbox",
                api_key=self.sandbox.api_key,
                webhook_secret=self.sandbox.webhook_secret,
                options=dict(self.sandbox.options),
                transport=httpx.ASGITransport(app=self.sandbox.app),
                retry_wait_s=0.0,
            )
        )

    def _sink(self, request: httpx.Request) -> httpx.Response:
        self.webhooks.append(request)
        return httpx.Response(200)

    async def simulate(self, session_id: str, action: str) -> httpx.Response:
        return await self.client.post(f"/sessions/{session_id}/simulate", json={"action": action})

    async def aclose(self) -> None:
        await self.adapter.aclose()
        await self.client.aclose()
        await self.sandbox.aclose()


@pytest.fixture
async def sandboxed() -> AsyncIterator[SandboxedUqudo]:
    world = SandboxedUqudo()
    yield world
    await world.aclose()


async def test_after_cancel_the_sandbox_refuses_the_qr_session(sandboxed: SandboxedUqudo) -> None:
    created = await sandboxed.adapter.create_session(CreateSessionRequest())
    sid, qr_text = created.provider_session_id, created.raw["qrCodeText"]
    assert (await sandboxed.client.get(f"/api/v1/session/{qr_text}")).status_code == 200
    assert (await sandboxed.simulate(sid, "open")).status_code == 200
    cancelled = await sandboxed.adapter.cancel_session(sid)
    assert cancelled.status is SessionStatus.CANCELLED
    # The reader app's scan finds nothing, and the flow goes no further.
    assert (await sandboxed.client.get(f"/api/v1/session/{qr_text}")).status_code == 404
    refused = await sandboxed.simulate(sid, "submit")
    assert refused.status_code == 409
    assert "deleted" in refused.json()["message"]
    # A second DELETE finds nothing (404); redaction after a cancel still succeeds.
    token = await sandboxed.adapter.tokens.get()
    again = await sandboxed.client.delete(
        f"/api/v1/session/{qr_text}", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 404
    await sandboxed.adapter.redact_session(sid)
    assert sandboxed.webhooks == []


async def test_the_sandbox_delete_needs_the_bearer_token(sandboxed: SandboxedUqudo) -> None:
    created = await sandboxed.adapter.create_session(CreateSessionRequest())
    qr_text = created.raw["qrCodeText"]
    assert (await sandboxed.client.delete(f"/api/v1/session/{qr_text}")).status_code == 401
    assert (await sandboxed.client.get(f"/api/v1/session/{qr_text}")).status_code == 200


async def test_the_sandbox_scan_answers_as_documented(sandboxed: SandboxedUqudo) -> None:
    """scan-the-qr-code: by path variable or Authorization header → {sessionId, token, data}."""
    created = await sandboxed.adapter.create_session(CreateSessionRequest())
    qr_text = created.raw["qrCodeText"]
    by_path = (await sandboxed.client.get(f"/api/v1/session/{qr_text}")).json()
    by_header = (
        await sandboxed.client.get("/api/v1/session", headers={"Authorization": qr_text})
    ).json()
    assert set(by_path) == set(by_header) == {"sessionId", "token", "data"}
    assert by_path["sessionId"] == created.provider_session_id
    assert json.loads(base64.b64decode(by_path["data"]))["documents"][0]["documentType"] == (
        "PASSPORT"
    )
    assert (await sandboxed.client.get("/api/v1/session/unknown")).status_code == 404


# -- 15. the documented example result ------------------------------------------------------------
def test_the_documented_example_is_approved_by_the_default_policy() -> None:
    """The face object page (https://docs.uqudo.com/docs/kyc/uqudo-sdk/sdk-result/data-structure/
    face-object) calls level 2 "the lowest acceptable level when using photo scans"; the
    example matched at 2. With the old floor of 3 it came out DECLINED."""
    result = evaluate(DOCUMENTED_EXAMPLE, PolicySettings())
    assert result.status is SessionStatus.APPROVED
    assert result.deciding == ("passed",) and result.findings == ()
    assert evaluate(DOCUMENTED_EXAMPLE, PolicySettings(min_face_match_level=3)).status is (
        SessionStatus.DECLINED
    )


async def test_the_documented_example_verifies_and_is_approved(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    """No `iss`, `iat` or `exp`, as in the example: signature, `aud` and `jti` decide."""
    token = sign(documented_result())
    fake.script("info", jws_reply(token))
    snapshot = await uqudo.fetch_session(SID)
    assert snapshot.status is SessionStatus.APPROVED
    assert snapshot.decision is not None and snapshot.decision.decided_by is DecidedBy.POLICY
    assert snapshot.decision.reason_codes == ("policy:passed",)
    assert snapshot.occurred_at is None  # the example carries no time
    assert set(snapshot.raw["claims"]) == {"aud", "jti", "data"}


async def test_the_documented_example_still_needs_our_audience_and_signature(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    await uqudo.warm_up()
    for token, reason in (
        (sign(documented_result(aud="someone-else")), "audience"),
        (sign(documented_result(), key=other), "signature"),
        (sign(documented_result(iss="https://evil.example.com")), "issuer"),
    ):
        with pytest.raises(WebhookRejected) as info:
            uqudo.parse_webhook(*webhook_with(token))
        assert info.value.reason is WebhookRejectReason.SIGNATURE
        assert reason in info.value.detail


def webhook_with(token: str, **envelope: Any) -> tuple[bytes, dict[str, str]]:
    body = compact({"jwsResult": token, **envelope}).encode()
    return body, {"x-api-key": WEBHOOK_AUTH}


async def test_unknown_envelope_keys_are_ignored_and_not_kept(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    """The global webhook's documented body is `{"jwsResult": "<signed JWT string>"}`
    (https://docs.uqudo.com/docs/kyc/readme/customer-portal/webhook). Keys uqudo may add are
    accepted, but unsigned: never read, never stored — even ones that look like claims."""
    await uqudo.warm_up()
    token = sign(documented_result())
    body, headers = webhook_with(
        token,
        eventType="ENROLLMENT_COMPLETED",
        jti="9b2e7d41-3c6a-4f58-b1d0-7e8f9a0b1c2d",
        data={"documents": [{"face": {"match": False, "matchLevel": 1}}]},
    )
    (event,) = uqudo.parse_webhook(body, headers)
    assert event.provider_session_id == SID and event.dedupe_key == SID  # the signed jti
    assert event.received_payload == {"jwsResult": token}
    assert event.snapshot is not None
    # No verification object in the example: read the Info API's full result, then judge.
    assert event.refetch and event.snapshot.status is SessionStatus.PROCESSING
    fake.script("info", jws_reply(token))
    assert (await uqudo.fetch_session(SID)).status is SessionStatus.APPROVED


async def test_extra_keys_do_not_rescue_a_bad_jws(uqudo: UqudoAdapter) -> None:
    await uqudo.warm_up()
    with pytest.raises(WebhookRejected) as info:
        uqudo.parse_webhook(*webhook_with("a.b.c", extra=True))
    assert info.value.reason is WebhookRejectReason.SIGNATURE
    with pytest.raises(WebhookRejected) as info:
        uqudo.parse_webhook(*webhook_with(5, extra=True))  # type: ignore[arg-type]
    assert info.value.reason is WebhookRejectReason.MALFORMED


async def test_the_info_api_has_no_documented_not_ready_status(
    fake: FakeUqudo, uqudo: UqudoAdapter
) -> None:
    """https://docs.uqudo.com/docs/kyc/uqudo-api/info lists 200, 400, 401, 403, 500 only: the
    404 we read as "no result yet" is inferred (INFO_NOT_READY_STATUSES); a 500 is an outage,
    not a pending result."""
    assert inferred.INFO_NOT_READY_STATUSES == {404}
    await uqudo.create_session(CreateSessionRequest())
    fake.script("info", NOT_READY)
    assert (await uqudo.fetch_session(SID)).provider_status == "QR_CREATED"
    fake.script("info", httpx.Response(500, json={"status": 500, "error": "Internal"}))
    with pytest.raises(ProviderError) as info:
        await uqudo.fetch_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE


async def test_the_sandbox_serves_the_documented_example(sandboxed: SandboxedUqudo) -> None:
    """The `documented_example` outcome is uqudo's example as published, bound to the session;
    the adapter reads it from the Info API and the default policy approves it."""
    created = await sandboxed.adapter.create_session(CreateSessionRequest())
    sid = created.provider_session_id
    for action in ("open", "submit", "documented_example"):
        assert (await sandboxed.simulate(sid, action)).status_code == 200, action
    snapshot = await sandboxed.adapter.fetch_session(sid)
    assert snapshot.status is SessionStatus.APPROVED
    claims = snapshot.raw["claims"]
    assert claims == {"aud": sandboxed.sandbox.client_id, "jti": sid, "data": claims["data"]}
    assert claims["data"] == DOCUMENTED_EXAMPLE["data"]
    assert DOCUMENTED_EXAMPLE_DATA == DOCUMENTED_EXAMPLE["data"]
    image = await sandboxed.client.get(
        "/api/v1/info/img/5f290764076cff0e3f7b3a2f",
        headers={"Authorization": f"Bearer {await sandboxed.adapter.tokens.get()}"},
    )
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"


# -- 16. input support, field by field ------------------------------------------------------------
def test_every_field_is_declared_and_steps_are_refused() -> None:
    assert set(INPUT_SUPPORT) == set(input_fields())
    assert UqudoAdapter.input_support is INPUT_SUPPORT
    assert UqudoAdapter.undeclared_inputs() == ()
    assert INPUT_SUPPORT["steps"].support is InputSupport.REFUSED
    assert Capability.STEPS not in UqudoAdapter.capabilities
    assert INPUT_SUPPORT["expires_in"].support is InputSupport.IGNORED


#: One request per IGNORED field, setting only that field.
IGNORED_VALUES: dict[str, CreateSessionRequest] = {
    "return_url": CreateSessionRequest(return_url="https://shop.example.com/done"),
    "expires_in": CreateSessionRequest(expires_in=600),
    "language": CreateSessionRequest(language="ar"),
    "contact.email": CreateSessionRequest(contact=Contact(email="jane@example.com")),
    "contact.phone": CreateSessionRequest(contact=Contact(phone="+971500000000")),
    "expected_person.first_name": CreateSessionRequest(
        expected_person=ExpectedPerson(first_name="Zelda")
    ),
    "expected_person.last_name": CreateSessionRequest(
        expected_person=ExpectedPerson(last_name="Quixote")
    ),
    "expected_person.date_of_birth": CreateSessionRequest(
        expected_person=ExpectedPerson(date_of_birth=datetime(1980, 8, 25).date())
    ),
    "expected_person.nationality": CreateSessionRequest(
        expected_person=ExpectedPerson(nationality="ITA")
    ),
    "expected_person.document_country": CreateSessionRequest(
        expected_person=ExpectedPerson(document_country="ARE")
    ),
    "workflow_id": CreateSessionRequest(workflow_id="wf-onboarding-7"),
}


def test_the_ignored_list_is_the_declaration() -> None:
    ignored = {n for n, d in INPUT_SUPPORT.items() if d.support is InputSupport.IGNORED}
    assert ignored == set(IGNORED_VALUES)


def _body_text(request: httpx.Request) -> str:
    return json.dumps(sent_instructions(request)) + request.url.query.decode()


@pytest.mark.parametrize("field", sorted(IGNORED_VALUES))
async def test_an_ignored_field_is_not_sent_and_does_not_fail(fake: FakeUqudo, field: str) -> None:
    adapter = fake.adapter()
    await adapter.create_session(CreateSessionRequest())
    snapshot = await adapter.create_session(IGNORED_VALUES[field])
    baseline, with_field = fake.calls("create")
    assert sent_instructions(with_field) == sent_instructions(baseline)
    assert with_field.headers.keys() - {"authorization"} == baseline.headers.keys() - {
        "authorization"
    }
    assert snapshot.status is SessionStatus.CREATED
    await adapter.aclose()


async def test_expires_at_is_uqudos_documented_ttl_not_expires_in(fake: FakeUqudo) -> None:
    """scan-the-qr-code: the QR session "gets automatically deleted after 30 minutes after its
    creation"; `expiresIn` cannot change that (IGNORED, with a warning from the gateway)."""
    adapter = fake.adapter(clock=Clock())
    snapshot = await adapter.create_session(CreateSessionRequest(expires_in=86_400))
    assert snapshot.expires_at == NOW + timedelta(seconds=30 * 60)
    assert inferred.SESSION_TTL_S == 30 * 60
    await adapter.aclose()


async def test_client_reference_is_mapped_to_the_user_identifier(fake: FakeUqudo) -> None:
    adapter = fake.adapter()
    reference = "0f1e2d3c-4b5a-4968-8776-655443322110"
    kept = await adapter.create_session(CreateSessionRequest(client_reference=reference))
    other = await adapter.create_session(CreateSessionRequest(client_reference="order-42"))
    uuid_call, other_call = fake.calls("create")
    assert sent_instructions(uuid_call)["generalConfig"]["userIdentifier"] == reference
    assert sent_instructions(other_call)["generalConfig"]["userIdentifier"] is None
    assert "order-42" not in _body_text(other_call)
    assert kept.client_reference == reference and other.client_reference == "order-42"
    await adapter.aclose()


async def test_metadata_is_kept_by_the_gateway_not_sent(fake: FakeUqudo) -> None:
    adapter = fake.adapter()
    snapshot = await adapter.create_session(CreateSessionRequest(metadata={"basket": "b-9917"}))
    (call,) = fake.calls("create")
    assert "b-9917" not in _body_text(call)
    assert snapshot.metadata == {"basket": "b-9917"}
    await adapter.aclose()


async def test_document_types_are_mapped_to_uqudo_codes(fake: FakeUqudo) -> None:
    adapter = fake.adapter()
    person = ExpectedPerson(document_types=(DocumentType.PASSPORT,))
    await adapter.create_session(
        CreateSessionRequest(
            expected_person=person, provider_options={"document_types": ["UAE_ID"]}
        )
    )
    (call,) = fake.calls("create")
    assert [d["documentType"] for d in sent_instructions(call)["documents"]] == [
        "PASSPORT",
        "UAE_ID",
    ]
    await adapter.aclose()


async def test_provider_options_are_sent(fake: FakeUqudo) -> None:
    adapter = fake.adapter()
    await adapter.create_session(
        CreateSessionRequest(provider_options={"reading": True, "background_check": True})
    )
    data = sent_instructions(fake.calls("create")[0])
    assert data["documents"][0]["reading"]["enabled"] is True
    assert data["backgroundCheck"]["enabled"] is True
    await adapter.aclose()


async def test_idempotency_key_is_the_gateways(fake: FakeUqudo) -> None:
    """uqudo takes no key: nothing is sent, and the create does not fail."""
    adapter = fake.adapter()
    await adapter.create_session(CreateSessionRequest(idempotency_key="idem-7f3a"))
    (call,) = fake.calls("create")
    assert "idem-7f3a" not in _body_text(call)
    assert not any("idempotency" in name.lower() for name in call.headers)
    await adapter.aclose()
