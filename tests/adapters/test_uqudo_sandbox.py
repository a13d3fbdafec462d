"""The uqudo sandbox emulator against uqudo's documented contract (docs/vendors/uqudo.md).

Results are verified here from scratch with PyJWT against the sandbox's JWKS (RS256, `aud`,
`iss`, `jti` = sessionId), the MRZ check digits are recomputed with ICAO's rule, the outcomes
are judged by a default policy written here, and the documented-shape tests compare the
emulator's answers with the documented payloads the cassettes hold, so neither the emulator
nor the adapter can quietly drift from the vendor docs. The websocket is exercised over a real
socket (uvicorn on 127.0.0.1) under the gateway's mount prefix.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
import uvicorn
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.routing import Mount
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

import adapters.uqudo.sandbox.api as sandbox_api
from adapters.base import SandboxConfig
from adapters.uqudo.sandbox import UqudoSandbox
from adapters.uqudo.sandbox.keys import SigningKey
from tests.adapters.sandbox_conformance import HostedPageConformance, SandboxConformance
from tests.support.sandbox_harness import FakeClock as SettableClock
from tests.support.sandbox_harness import HarnessFactory, SandboxHarness, form_target
from tests.support.shapes import shape_drift

PUBLIC = "http://127.0.0.1:8000/sandbox/uqudo"
WEBHOOK_URL = "http://gateway.test/webhooks/uqudo"
HOST = "http://uqudo.sandbox"
MOUNT = "/sandbox/uqudo"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "uqudo"
TOKEN = "/api/oauth/token"
JWKS = "/api/.well-known/jwks.json"
SESSION = "/api/v1/session"
INFO = "/api/v1/info"
SESSION_TTL_S = 30 * 60
ALL = ("SCAN", "READ", "FACE", "BACKGROUND_CHECK", "INFO")


# -- harness ----------------------------------------------------------------------------------

_KEY_POOL: list[rsa.RSAPrivateKey] = []


@pytest.fixture
def real_keys() -> None:
    """Requested by the tests that need the sandbox's own key generation."""


@pytest.fixture(autouse=True)
def _key_pool(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """An RSA key costs ~0.25 s: the sandboxes here take turns on three ready-made ones (so two
    sandboxes of one test never share a key), each under its own kid."""
    if "real_keys" in request.fixturenames:
        return
    if not _KEY_POOL:
        _KEY_POOL.extend(
            rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)
        )
    turn = itertools.count()

    def generate(cls: type[SigningKey]) -> SigningKey:
        return cls(kid=uuid.uuid4().hex, private_key=_KEY_POOL[next(turn) % len(_KEY_POOL)])

    monkeypatch.setattr(SigningKey, "generate", classmethod(generate))


class FakeClock(SettableClock):
    """Starts at the wall clock (PyJWT checks `exp` against it), then moves only when told."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC).replace(microsecond=0))


def session_data(
    *,
    reading: bool = True,
    face: bool = True,
    background_check: bool = True,
    document_type: str = "PASSPORT",
    user: str | None = None,
) -> str:
    """The documented `data` example (https://docs.uqudo.com/docs/kyc/qr-code-app/
    create-a-session), with the services switched as asked."""
    instructions = {
        "documents": [
            {
                "documentType": document_type,
                "reading": {
                    "enabled": reading,
                    "isForceReading": False,
                    "isForceReadingIfSupported": False,
                    "timeoutInSeconds": -1,
                },
                "isExpiredDocumentAllowed": False,
                "isFrontSideReviewEnabled": False,
                "isBackSideReviewEnabled": False,
                "isUploadEnabled": False,
                "isHelpPageDisabled": False,
                "faceScanMinimumMatchLevel": 2,
                "faceReadMinimumMatchLevel": 3,
            }
        ],
        "generalConfig": {
            "secureWindowsEnabled": True,
            "userIdentifier": user,
            "returnDataForIncompleteSession": False,
        },
        "backgroundCheck": {
            "enabled": background_check,
            "checkType": "RDC",
            "disableConsent": False,
            "enableMonitoring": False,
            "skipView": False,
        },
        "facialRecognition": {
            "enabled": face,
            "isEnrollFace": False,
            "scanMinimumMatchLevel": 2,
            "readMinimumMatchLevel": 3,
            "maxAttempts": 3,
        },
    }
    return base64.b64encode(json.dumps(instructions).encode()).decode()


@dataclass
class Harness(SandboxHarness[UqudoSandbox]):
    _token: tuple[str, datetime] | None = None

    async def token(self) -> str:
        response = await self.client.post(
            TOKEN,
            data={
                "grant_type": "client_credentials",
                "client_id": self.sandbox.client_id,
                "client_secret": self.sandbox.api_key,
            },
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def auth(self) -> dict[str, str]:
        """A bearer header; a new token once the cached one is near its 1800 s."""
        if self._token is None or self.clock() >= self._token[1]:
            self._token = (await self.token(), self.clock() + timedelta(seconds=1700))
        return {"Authorization": f"Bearer {self._token[0]}"}

    async def create(self, data: str | None = None, **flags: Any) -> dict[str, Any]:
        body = {"data": data if data is not None else session_data(**flags)}
        response = await self.client.post(SESSION, json=body, headers=await self.auth())
        assert response.status_code == 200, response.text
        return response.json()

    async def info(self, session_id: str) -> httpx.Response:
        return await self.client.get(f"{INFO}/{session_id}", headers=await self.auth())

    async def jwks(self) -> jwt.PyJWKSet:
        return jwt.PyJWKSet.from_dict((await self.client.get(JWKS)).json())

    async def verify(self, jws: str, session_id: str) -> dict[str, Any]:
        return await verify_result(self, jws, session_id)

    async def result(self, session_id: str) -> dict[str, Any]:
        response = await self.info(session_id)
        assert response.status_code == 200, response.text
        return await self.verify(response.text, session_id)


Factory = Callable[..., Harness]


@pytest.fixture
async def make() -> AsyncIterator[Factory]:
    factory = HarnessFactory(
        Harness,
        UqudoSandbox,
        start=datetime.now(UTC),  # unused: every harness gets its own wall-clock FakeClock
        public_base_url=PUBLIC,
        webhook_url=WEBHOOK_URL,
        headers=lambda sandbox: {},
        base_url=HOST,
    )

    def make_one(*, clock: FakeClock | None = None, **options: Any) -> Harness:
        return factory(clock=clock or FakeClock(), **options)

    yield make_one
    await factory.aclose()


@pytest.fixture
def uqudo(make: Factory) -> Harness:
    return make()


# -- independent checks of uqudo's result contract (docs/vendors/uqudo.md, Webhooks and signature)


async def verify_result(harness: Harness, jws: str, session_id: str) -> dict[str, Any]:
    """docs/vendors/uqudo.md, Webhooks and signature, from scratch: JWKS by `kid`, RS256 only,
    aud, iss, times, binding."""
    header = jwt.get_unverified_header(jws)
    assert header == {"alg": "RS256", "kid": header["kid"]}  # no typ, as observed
    key = (await harness.jwks())[header["kid"]]
    options = harness.sandbox.options
    claims = jwt.decode(
        jws,
        key.key,
        algorithms=["RS256"],
        audience=options["jws_audience"],
        issuer=options["jws_issuer"],
        leeway=60,
        options={"require": ["exp", "iat", "jti", "iss", "aud"]},
    )
    assert claims["jti"] == session_id
    assert claims["exp"] - claims["iat"] == 7200
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(jws, key.key, algorithms=["RS256"], audience="someone-else", leeway=60)
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(jws, key.key, algorithms=["HS256"], audience=options["jws_audience"])
    return claims


def payload_of(jws: str) -> dict[str, Any]:
    """A JWS payload without verification (for documented examples signed by nobody)."""
    part = jws.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def icao_digit(field: str) -> int:
    values = {str(d): d for d in range(10)} | {chr(65 + i): 10 + i for i in range(26)}
    return sum(values.get(c, 0) * (7, 3, 1)[i % 3] for i, c in enumerate(field)) % 10


def mrz_valid(mrz_text: str) -> bool:
    """TD3 line 2: document number, birth, expiry, optional data, and the composite."""
    line = mrz_text.split("\n")[1]
    assert len(line) == 44
    fields = [(0, 9), (13, 19), (21, 27), (28, 42)]
    if any(icao_digit(line[a:b]) != int(line[b]) for a, b in fields):
        return False
    composite = line[0:10] + line[13:20] + line[21:43]
    return icao_digit(composite) == int(line[43])


def default_policy(claims: dict[str, Any]) -> str:
    """A demanding integrator's default rules (docs/vendors/uqudo.md, Decision policy)."""
    data = claims["data"]
    document, check = data["documents"][0], data["verifications"][0]
    failures = []
    face = document.get("face")
    if face is not None and (not face["match"] or face["matchLevel"] < 3):
        failures.append("face")
    if check["idPhotoTamperingDetection"]["score"] > 70:
        failures.append("tampering")
    if check["idPrintDetection"]["score"] > 50 or check["idScreenDetection"]["score"] > 50:
        failures.append("spoof")
    if not (check["mrzChecksum"]["valid"] and document["scan"]["front"]["mrzVerified"]):
        failures.append("mrz")
    if not mrz_valid(document["scan"]["front"]["mrzText"]):
        failures.append("mrz digits")
    if failures:
        return "declined"
    if (data.get("backgroundCheck") or {}).get("match"):
        return "review"
    if check["idPhotoTamperingDetection"]["score"] > 40:
        return "review"
    return "approved"


# -- a real socket: uvicorn serving the sandbox under the gateway's mount ---------------------


@asynccontextmanager
async def live_server(make: Factory, **options: Any) -> AsyncIterator[Harness]:
    """The sandbox mounted at /sandbox/uqudo of an app served on 127.0.0.1 (random port);
    `options["ws_url"]` points at it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    harness = make(public=f"http://127.0.0.1:{port}{MOUNT}", **options)
    outer = Starlette(routes=[Mount(MOUNT, app=harness.sandbox.app)])
    server = uvicorn.Server(uvicorn.Config(outer, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(5):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.01)
        yield harness
    finally:
        await harness.sandbox.aclose()
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def live(make: Factory) -> AsyncIterator[Harness]:
    async with live_server(make) as harness:
        yield harness


class Listener:
    """One websocket client, the way uqudo's javascript component uses it
    (https://docs.uqudo.com/docs/kyc/qr-code-app/javascript-component)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.close: tuple[int, str] | None = None

    async def take(self, count: int) -> list[dict[str, Any]]:
        async with asyncio.timeout(3):
            while len(self.messages) < count:
                self.messages.append(json.loads(await self.ws.recv()))
        return self.messages

    async def closed(self) -> tuple[int, str]:
        """Every message until the server closes; (code, reason)."""
        async with asyncio.timeout(5):
            try:
                while True:
                    self.messages.append(json.loads(await self.ws.recv()))
            except ConnectionClosed as exc:
                assert exc.rcvd is not None, "the client, not the server, closed"
                self.close = (exc.rcvd.code, exc.rcvd.reason)
        return self.close

    @property
    def services(self) -> list[str]:
        return [m["service"] for m in self.messages]


@asynccontextmanager
async def listen(harness: Harness, text: str) -> AsyncIterator[Listener]:
    url = harness.sandbox.options["ws_url"]
    async with connect(url) as ws:
        await ws.send(text)  # socket.addEventListener('open', () => socket.send(qrCodeText))
        yield Listener(ws)


# -- the handle -------------------------------------------------------------------------------


# -- OAuth token (docs/vendors/uqudo.md, Endpoints we call) ----------------------------------------


async def test_token_flow_answers_the_documented_fields(uqudo: Harness) -> None:
    response = await uqudo.client.post(
        TOKEN,
        content=(
            f"grant_type=client_credentials&client_id={uqudo.sandbox.client_id}"
            f"&client_secret={uqudo.sandbox.api_key}"
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "jti"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert body["scope"].split() == [
        "KYC_SCAN_API",
        "KYC_FACE_SEARCH_SDK",
        "KYC_FACE_FLOW",
        "KYC_INFO_SDK",
        "KYC_SCAN_SDK",
        "KYC_EVENT_SDK",
    ]
    uuid.UUID(body["jti"])
    # "access_token (itself a JWS)": signed by the tenant's key, tenant-scoped.
    header = jwt.get_unverified_header(body["access_token"])
    key = (await uqudo.jwks())[header["kid"]]
    claims = jwt.decode(body["access_token"], key.key, algorithms=["RS256"])
    assert claims["client_id"] == uqudo.sandbox.client_id
    assert claims["jti"] == body["jti"]
    assert claims["exp"] - claims["iat"] == 1800
    assert (await uqudo.token()) != body["access_token"]  # a fresh token per request


async def test_token_accepts_http_basic_client_authentication(uqudo: Harness) -> None:
    response = await uqudo.client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        auth=(uqudo.sandbox.client_id, uqudo.sandbox.api_key),
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_secret": "wrong"},
        {"client_id": "00000000-0000-0000-0000-000000000000"},
        {"client_id": "", "client_secret": ""},
    ],
)
async def test_token_with_wrong_credentials_is_401(
    uqudo: Harness, credentials: dict[str, str]
) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": uqudo.sandbox.client_id,
        "client_secret": uqudo.sandbox.api_key,
        **credentials,
    }
    response = await uqudo.client.post(TOKEN, data=form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.text
    assert uqudo.sandbox.api_key not in response.text


async def test_token_needs_the_client_credentials_grant_and_a_form(uqudo: Harness) -> None:
    creds = {"client_id": uqudo.sandbox.client_id, "client_secret": uqudo.sandbox.api_key}
    wrong_grant = await uqudo.client.post(TOKEN, data={"grant_type": "password", **creds})
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    as_json = await uqudo.client.post(TOKEN, json={"grant_type": "client_credentials", **creds})
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"


async def test_tokens_expire_after_expires_in(uqudo: Harness) -> None:
    headers = await uqudo.auth()
    uqudo.clock.advance(1799)
    ok = await uqudo.client.post(SESSION, json={"data": session_data()}, headers=headers)
    assert ok.status_code == 200
    uqudo.clock.advance(1)
    expired = await uqudo.client.post(SESSION, json={"data": session_data()}, headers=headers)
    assert expired.status_code == 401
    assert expired.content == b""  # RFC 6750: the challenge says it
    assert expired.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="Token expired or invalid"'
    )


# -- JWKS -------------------------------------------------------------------------------------


async def test_jwks_publishes_the_public_key_with_a_kid(uqudo: Harness) -> None:
    response = await uqudo.client.get(JWKS)  # public: no token
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert {key["kty"], key["use"], key["alg"]} == {"RSA", "sig", "RS256"}
    assert len(key["kid"]) == 32 and int(key["kid"], 16) >= 0  # hex, like the documented kid
    assert set(key) == {"kty", "n", "e", "kid", "use", "alg"}  # no private parameters
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    jws = (await uqudo.info(sid)).text
    assert jwt.get_unverified_header(jws)["kid"] == key["kid"]


async def test_sign_result_signs_any_claims_under_the_published_key(uqudo: Harness) -> None:
    now = int(uqudo.clock().timestamp())
    sid = str(uuid.uuid4())
    claims = {
        "iss": HOST,
        "aud": uqudo.sandbox.client_id,
        "iat": now,
        "exp": now + 7200,
        "jti": sid,
        "data": {"documents": []},
    }
    jws = uqudo.sandbox.sign_result(claims)
    assert await uqudo.verify(jws, sid) == claims


# -- QR session (docs/vendors/uqudo.md, Endpoints we call) -----------------------------------------


async def test_create_qr_session_returns_the_documented_fields(uqudo: Harness) -> None:
    created = await uqudo.create()
    assert set(created) == {"sessionId", "qrCodeText", "qrCodeTextWithDynamicLink"}
    uuid.UUID(created["sessionId"])
    assert len(created["qrCodeText"]) >= 32
    assert created["qrCodeTextWithDynamicLink"] == f"{PUBLIC}/qr/{created['sessionId']}"
    again = await uqudo.create()
    assert again["sessionId"] != created["sessionId"]
    assert again["qrCodeText"] != created["qrCodeText"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-jwt", "Basic abc", "token-without-scheme"],
)
async def test_create_qr_session_needs_a_token(uqudo: Harness, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await uqudo.client.post(SESSION, json={"data": session_data()}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.content == b""


async def test_tokens_of_another_tenant_or_results_are_not_tokens(
    uqudo: Harness, make: Factory
) -> None:
    other = make()
    foreign = await other.auth()
    response = await uqudo.client.post(SESSION, json={"data": session_data()}, headers=foreign)
    assert response.status_code == 401
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    result = (await uqudo.info(sid)).text  # signed by the right key, but not an access token
    response = await uqudo.client.post(
        SESSION, json={"data": session_data()}, headers={"Authorization": f"Bearer {result}"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": ""},
        {"data": 7},
        {"data": "not base64 json"},
        {"data": base64.b64encode(b"[1, 2]").decode()},
        {"data": base64.b64encode(b'{"documents": ["PASSPORT"]}').decode()},
        {"data": json.dumps({"documents": [{"documentType": "PASSPORT"}]})},  # not encoded
    ],
)
async def test_create_needs_base64_json_data(uqudo: Harness, body: dict[str, Any]) -> None:
    response = await uqudo.client.post(SESSION, json=body, headers=await uqudo.auth())
    assert response.status_code == 400
    error = response.json()
    assert list(error) == ["timestamp", "status", "error", "message", "path"]
    assert (error["status"], error["error"], error["path"]) == (400, "Bad Request", SESSION)
    assert "data" in error["message"]


# -- the websocket (docs/vendors/uqudo.md, Endpoints we call) --------------------------------------


@pytest.mark.parametrize("wrong", ["nope", "session-id", ""])
async def test_websocket_refuses_a_wrong_qr_code_text(live: Harness, wrong: str) -> None:
    created = await live.create()
    text = created["sessionId"] if wrong == "session-id" else wrong
    async with listen(live, text) as listener:
        assert await listener.closed() == (1008, "Unauthorized")
        assert listener.messages == []


async def test_a_deleted_qr_session_closes_its_socket_and_refuses_new_ones(live: Harness) -> None:
    """scan-the-qr-code: `DELETE /api/v1/session/{qrCodeText}` ends the QR session at once
    (https://docs.uqudo.com/docs/kyc/qr-code-app/scan-the-qr-code)."""
    created = await live.create()
    text = created["qrCodeText"]
    async with listen(live, text) as listener:
        await live.drive(created["sessionId"], "open")
        await listener.take(2)
        deleted = await live.client.delete(f"{SESSION}/{text}", headers=await live.auth())
        assert deleted.status_code == 204 and deleted.content == b""
        assert await listener.closed() == (1000, "Session deleted")
    async with listen(live, text) as again:
        assert await again.closed() == (1008, "Unauthorized")
    gone = await live.client.delete(f"{SESSION}/{text}", headers=await live.auth())
    assert gone.status_code == 404


async def test_websocket_needs_the_qr_code_text_promptly(
    live: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_api, "WS_AUTH_TIMEOUT_S", 0.1)
    async with connect(live.sandbox.options["ws_url"]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(3):
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_websocket_emits_the_milestones_in_order_then_closes(live: Harness) -> None:
    created = await live.create()
    sid = created["sessionId"]
    async with listen(live, created["qrCodeText"]) as listener:
        await live.drive(sid, "open")
        await listener.take(2)
        await live.drive(sid, "submit")
        await listener.take(4)
        assert listener.services == ["SCAN", "READ", "FACE", "BACKGROUND_CHECK"]
        await live.drive(sid, "approve")
        assert await listener.closed() == (1000, "Session completed")
    assert listener.services == list(ALL)
    assert all(m == {"service": m["service"], "sessionId": sid} for m in listener.messages)
    # After INFO the SDK has the JWS: the Info API has it too.
    assert (await live.info(sid)).status_code == 200


async def test_late_joiners_get_the_milestones_already_reached_first(live: Harness) -> None:
    created = await live.create()
    sid, text = created["sessionId"], created["qrCodeText"]
    await live.drive(sid, "open")
    async with listen(live, text) as early, listen(live, text) as late:
        assert [m["service"] for m in await late.take(2)] == ["SCAN", "READ"]
        await early.take(2)
        await live.drive(sid, "submit", "decline")
        assert await late.closed() == (1000, "Session completed")
        assert await early.closed() == (1000, "Session completed")
    assert late.services == early.services == list(ALL)
    async with listen(live, text) as after:  # after the end: the whole story, then close
        assert await after.closed() == (1000, "Session completed")
    assert after.services == list(ALL)


async def test_only_the_services_enabled_in_data_occur(live: Harness) -> None:
    created = await live.create(reading=False, face=False, background_check=False)
    sid = created["sessionId"]
    async with listen(live, created["qrCodeText"]) as listener:
        assert (await live.drive(sid, "open"))["milestones"] == ["SCAN"]
        assert (await live.drive(sid, "submit"))["milestones"] == ["SCAN"]
        await live.drive(sid, "approve")
        await listener.closed()
    assert listener.services == ["SCAN", "INFO"]
    claims = await live.result(sid)
    document = claims["data"]["documents"][0]
    assert "reading" not in document and "face" not in document
    assert "backgroundCheck" not in claims["data"]


async def test_single_steps_follow_the_enabled_order(live: Harness) -> None:
    created = await live.create(face=False)
    sid = created["sessionId"]
    async with listen(live, created["qrCodeText"]) as listener:
        for step, reached in (
            ("scan", ["SCAN"]),
            ("read", ["SCAN", "READ"]),
            ("background_check", ["SCAN", "READ", "BACKGROUND_CHECK"]),
        ):
            assert (await live.drive(sid, step))["milestones"] == reached
        await live.drive(sid, "review")
        await listener.closed()
    assert listener.services == ["SCAN", "READ", "BACKGROUND_CHECK", "INFO"]


async def test_expiry_closes_the_socket_without_info(live: Harness) -> None:
    created = await live.create()
    sid = created["sessionId"]
    await live.drive(sid, "open")
    async with listen(live, created["qrCodeText"]) as listener:
        await listener.take(2)
        live.clock.advance(SESSION_TTL_S)
        await live.info(sid)  # any request notices the TTL has passed
        assert await listener.closed() == (1000, "Session expired")
    assert listener.services == ["SCAN", "READ"]
    async with listen(live, created["qrCodeText"]) as later:
        assert await later.closed() == (1000, "Session expired")
    assert later.services == ["SCAN", "READ"]


async def test_expire_action_closes_open_sockets(live: Harness) -> None:
    created = await live.create()
    async with listen(live, created["qrCodeText"]) as listener:
        body = await live.drive(created["sessionId"], "expire")
        assert await listener.closed() == (1000, "Session expired")
    assert body["status"] == "expired" and listener.messages == []


async def test_client_frames_are_ignored_and_a_client_that_leaves_is_forgotten(
    live: Harness,
) -> None:
    created = await live.create()
    sid = created["sessionId"]
    async with listen(live, created["qrCodeText"]) as listener:
        await listener.ws.send("anything")  # only the first frame means something
        await live.drive(sid, "open")
        assert [m["service"] for m in await listener.take(2)] == ["SCAN", "READ"]
    listeners = live.sandbox._engine._listeners  # internal: nothing left behind
    async with asyncio.timeout(3):
        while listeners:  # noqa: ASYNC110 - the server notices the close on its own time
            await asyncio.sleep(0.01)
    assert (await live.drive(sid, "submit", "approve"))["status"] == "completed"


async def test_aclose_closes_open_sockets(live: Harness) -> None:
    created = await live.create()
    async with listen(live, created["qrCodeText"]) as listener:
        await live.drive(created["sessionId"], "open")
        await listener.take(2)
        await live.sandbox.aclose()
        assert (await listener.closed())[0] == 1001


async def test_the_documented_python_recipe_verifies_a_result_over_http(live: Harness) -> None:
    """The documented recipe as is (docs/vendors/uqudo.md, Webhooks and signature): PyJWKClient
    against the JWKS URL (real HTTP)."""
    created = await live.create()
    sid = created["sessionId"]
    await live.drive(sid, "open", "submit", "approve")
    jws = (await live.info(sid)).text
    jwks_url = (
        live.sandbox.options["ws_url"].replace("ws://", "http://").replace("/ws/v1/session", JWKS)
    )
    client = jwt.PyJWKClient(jwks_url, cache_keys=True)
    key = (await asyncio.to_thread(client.get_signing_key_from_jwt, jws)).key
    claims = jwt.decode(
        jws,
        key,
        algorithms=["RS256"],
        audience=live.sandbox.client_id,
        issuer=live.sandbox.options["jws_issuer"],
        leeway=60,
        options={"require": ["exp", "iat", "jti"]},
    )
    assert claims["jti"] == sid


# -- Info API (docs/vendors/uqudo.md, Endpoints we call) -------------------------------------------


async def test_info_is_404_until_there_is_a_result_then_a_verified_jws(uqudo: Harness) -> None:
    sid = (await uqudo.create())["sessionId"]
    for actions in ((), ("open",), ("submit",)):
        await uqudo.drive(sid, *actions)
        pending = await uqudo.info(sid)
        assert pending.status_code == 404
        assert pending.json()["message"] == "Resource not found or expired"
    uqudo.clock.advance(42)
    await uqudo.drive(sid, "approve")
    response = await uqudo.info(sid)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwt"
    claims = await uqudo.verify(response.text, sid)
    assert claims["iss"] == HOST and claims["aud"] == uqudo.sandbox.client_id
    assert claims["iat"] == int(uqudo.clock().timestamp())
    assert set(claims) == {"iss", "aud", "iat", "exp", "jti", "data"}
    assert set(claims["data"]) == {"source", "documents", "verifications", "backgroundCheck"}
    assert (await uqudo.info(sid)).text == response.text  # the same token on every read


async def test_info_needs_a_token_and_a_uuid(uqudo: Harness) -> None:
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    assert (await uqudo.client.get(f"{INFO}/{sid}")).status_code == 401
    assert (await uqudo.client.delete(f"{INFO}/{sid}")).status_code == 401
    headers = await uqudo.auth()
    assert (await uqudo.client.get(f"{INFO}/not-a-uuid", headers=headers)).status_code == 400
    assert (await uqudo.client.delete(f"{INFO}/not-a-uuid", headers=headers)).status_code == 400
    unknown = await uqudo.client.get(f"{INFO}/{uuid.uuid4()}", headers=headers)
    assert unknown.status_code == 404


async def test_delete_is_204_for_any_id_and_purges_the_result(uqudo: Harness) -> None:
    headers = await uqudo.auth()
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    claims = await uqudo.result(sid)
    image_id = claims["data"]["documents"][0]["scan"]["frontImageId"]
    unknown = await uqudo.client.delete(f"{INFO}/{uuid.uuid4()}", headers=headers)
    assert unknown.status_code == 204 and unknown.content == b""
    deleted = await uqudo.client.delete(f"{INFO}/{sid}", headers=headers)
    assert deleted.status_code == 204
    assert (await uqudo.info(sid)).status_code == 404
    image = await uqudo.client.get(f"{INFO}/img/{image_id}", headers=headers)
    assert image.status_code == 404
    again = await uqudo.client.delete(f"{INFO}/{sid}", headers=headers)
    assert again.status_code == 204


async def test_images_are_served_with_their_checksums(uqudo: Harness) -> None:
    headers = await uqudo.auth()
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    document = (await uqudo.result(sid))["data"]["documents"][0]
    pairs = [
        (document["scan"][key], document["scan"][f"{key}Checksum"])
        for key in ("frontImageId", "frontFrameImageId", "faceImageId")
    ]
    pairs.append(
        (document["face"]["auditTrailImageId"], document["face"]["auditTrailImageIdChecksum"])
    )
    assert document["scan"]["backImageId"] is None  # a passport has no back
    assert len({image_id for image_id, _ in pairs}) == 4
    for image_id, checksum in pairs:
        response = await uqudo.client.get(f"{INFO}/img/{image_id}", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content[:2] == b"\xff\xd8" and response.content[-2:] == b"\xff\xd9"
        assert checksum == "sha256:" + hashlib.sha256(response.content).hexdigest()
    assert (await uqudo.client.get(f"{INFO}/img/{pairs[0][0]}")).status_code == 401
    missing = await uqudo.client.get(f"{INFO}/img/0123456789abcdef01234567", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["message"] == "Resource not found or expired"


async def test_results_and_images_go_when_the_jws_expires(uqudo: Harness) -> None:
    headers = await uqudo.auth()
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    image_id = (await uqudo.result(sid))["data"]["documents"][0]["scan"]["faceImageId"]
    uqudo.clock.advance(7199)
    headers = {"Authorization": f"Bearer {await uqudo.token()}"}
    assert (await uqudo.client.get(f"{INFO}/{sid}", headers=headers)).status_code == 200
    uqudo.clock.advance(1)
    assert (await uqudo.client.get(f"{INFO}/{sid}", headers=headers)).status_code == 404
    image = await uqudo.client.get(f"{INFO}/img/{image_id}", headers=headers)
    assert image.status_code == 404


# -- outcomes: what the JWS says (docs/vendors/uqudo.md, Decision policy) --------------------------


async def finished(harness: Harness, outcome: str, **flags: Any) -> dict[str, Any]:
    sid = (await harness.create(**flags))["sessionId"]
    await harness.drive(sid, "open", "submit", outcome)
    return await harness.result(sid)


async def test_approve_passes_a_default_policy(uqudo: Harness) -> None:
    claims = await finished(uqudo, "approve")
    assert default_policy(claims) == "approved"
    data = claims["data"]
    document, check = data["documents"][0], data["verifications"][0]
    assert document["face"]["match"] is True and document["face"]["matchLevel"] == 5
    assert check["biometric"] == {"type": "FACIAL_RECOGNITION", "enabled": True, "matchLevel": 5}
    assert check["idPhotoTamperingDetection"]["score"] <= 40
    assert check["mrzChecksum"]["valid"] is True
    assert all(digit["valid"] for digit in check["mrzChecksum"]["checkDigits"])
    assert mrz_valid(document["scan"]["front"]["mrzText"])
    assert int(document["scan"]["front"]["mrzText"][-1]) == check["mrzChecksum"]["finalCheckDigit"]
    assert data["backgroundCheck"] == {"match": False, "content": None}
    assert check["reading"]["passiveAuthentication"]["documentDataSignatureValid"] is True
    mrz = document["reading"]["data"]["mrz"]
    assert mrz["documentNumber"] == document["scan"]["front"]["documentNumber"]
    expiry = datetime.strptime(document["scan"]["front"]["dateOfExpiry"], "%y%m%d")
    assert expiry.replace(tzinfo=UTC) > uqudo.clock()  # a valid document


async def test_decline_fails_a_default_policy(uqudo: Harness) -> None:
    claims = await finished(uqudo, "decline")
    assert default_policy(claims) == "declined"
    data = claims["data"]
    document, check = data["documents"][0], data["verifications"][0]
    assert document["face"]["match"] is False and document["face"]["matchLevel"] == 1
    assert check["idPhotoTamperingDetection"]["score"] > 70
    assert check["mrzChecksum"]["valid"] is False
    assert document["scan"]["front"]["mrzVerified"] is False
    assert not mrz_valid(document["scan"]["front"]["mrzText"])
    assert data["backgroundCheck"]["match"] is False


async def test_decline_without_face_still_fails(uqudo: Harness) -> None:
    claims = await finished(uqudo, "decline", face=False)
    assert "face" not in claims["data"]["documents"][0]
    assert default_policy(claims) == "declined"


async def test_review_carries_a_background_check_hit(uqudo: Harness) -> None:
    claims = await finished(uqudo, "review")
    assert default_policy(claims) == "review"
    hit = claims["data"]["backgroundCheck"]
    assert hit["match"] is True
    assert hit["content"]["alertEntity"][0]["entityName"] == "DOE, JANE"
    assert claims["data"]["verifications"][0]["idPhotoTamperingDetection"]["score"] <= 40


async def test_review_without_background_check_is_a_borderline_score(uqudo: Harness) -> None:
    claims = await finished(uqudo, "review", background_check=False)
    assert "backgroundCheck" not in claims["data"]
    score = claims["data"]["verifications"][0]["idPhotoTamperingDetection"]["score"]
    assert 40 < score <= 70
    assert default_policy(claims) == "review"


async def test_the_outcomes_differ_only_in_their_signals(uqudo: Harness) -> None:
    approve, decline, review = [await finished(uqudo, o) for o in ("approve", "decline", "review")]
    for claims in (approve, decline, review):
        document = claims["data"]["documents"][0]
        assert document["documentType"] == "PASSPORT"
        assert document["scan"]["front"]["primaryId"] == "DOE"
        assert claims["data"]["source"]["sdkType"] == "ANDROID"
    assert {default_policy(c) for c in (approve, decline, review)} == {
        "approved",
        "declined",
        "review",
    }


async def test_data_shapes_the_result(uqudo: Harness) -> None:
    user = str(uuid.uuid4())
    claims = await finished(uqudo, "approve", reading=False, document_type="UAE_ID", user=user)
    document, check = claims["data"]["documents"][0], claims["data"]["verifications"][0]
    assert document["documentType"] == check["documentType"] == "UAE_ID"
    assert "reading" not in document
    assert check["reading"]["enabled"] is False


# -- webhook (docs/vendors/uqudo.md, Webhooks and signature) ---------------------------------------


async def test_approve_posts_the_jws_result_with_the_caller_auth(uqudo: Harness) -> None:
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit")
    assert uqudo.sink.requests == []  # milestones send nothing
    body = await uqudo.drive(sid, "approve")
    assert body == {
        "session_id": sid,
        "status": "completed",
        "milestones": list(ALL),
        "webhook": {"delivered": True, "status_code": 200},
    }
    [request] = uqudo.sink.requests
    assert request.method == "POST" and str(request.url) == WEBHOOK_URL
    assert request.headers["authorization"] == f"Bearer {uqudo.sandbox.webhook_secret}"
    assert request.headers["authorization"] == uqudo.sandbox.options["webhook_auth_value"]
    assert request.headers["content-type"] == "application/json"
    assert not any(name.lower().startswith("x-") for name in request.headers)  # no HMAC
    payload = json.loads(request.content)
    assert set(payload) == {"jwsResult"}
    claims = await uqudo.verify(payload["jwsResult"], sid)
    info = await uqudo.result(sid)
    # Observed: the webhook's JWT has no fraud scores; the Info API's has them.
    assert "verifications" not in claims["data"]
    assert {
        **claims,
        "data": {**claims["data"], "verifications": info["data"]["verifications"]},
    } == info


async def test_the_webhook_can_carry_the_scores_too(make: Factory) -> None:
    uqudo = make(webhook_verifications=True)
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "decline")
    assert uqudo.sink.bodies[0]["jwsResult"] == (await uqudo.info(sid)).text


@pytest.mark.parametrize("outcome", ["approve", "decline", "review"])
async def test_every_result_fires_one_webhook(uqudo: Harness, outcome: str) -> None:
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", outcome)
    await uqudo.sandbox.idle()
    assert len(uqudo.sink.requests) == 1
    assert payload_of(uqudo.sink.bodies[0]["jwsResult"])["jti"] == sid


async def test_expiry_fires_no_webhook(uqudo: Harness) -> None:
    first = (await uqudo.create())["sessionId"]
    second = (await uqudo.create())["sessionId"]
    body = await uqudo.drive(first, "open", "expire")
    assert body["webhook"] == {"delivered": False, "status_code": None}
    uqudo.clock.advance(SESSION_TTL_S)
    assert (await uqudo.simulate(second, "open")).status_code == 409
    await uqudo.sandbox.idle()
    assert uqudo.sink.requests == []


async def test_failed_deliveries_are_retried_with_the_same_body(make: Factory) -> None:
    uqudo = make(delays=(0.01, 0.01, 0.01))
    uqudo.sink.script = [500, httpx.ConnectError("down"), 404]
    sid = (await uqudo.create())["sessionId"]
    body = await uqudo.drive(sid, "open", "submit", "approve")
    assert body["webhook"] == {"delivered": False, "status_code": 500}
    await uqudo.sink.wait_for(4)
    await uqudo.sandbox.idle()
    assert len(uqudo.sink.requests) == 4
    assert len({r.content for r in uqudo.sink.requests}) == 1
    assert all(
        r.headers["authorization"] == f"Bearer {uqudo.sandbox.webhook_secret}"
        for r in uqudo.sink.requests
    )


async def test_deliveries_keep_their_order_and_a_retry_blocks_no_other_session(
    make: Factory,
) -> None:
    uqudo = make(delays=(0.2,))
    first, second, third = [(await uqudo.create())["sessionId"] for _ in range(3)]
    uqudo.sink.script = [500]  # the first session's first attempt fails
    for sid in (first, second, third):
        await uqudo.drive(sid, "open", "submit", "approve")
    await uqudo.sink.wait_for(4)
    order = [payload_of(body["jwsResult"])["jti"] for body in uqudo.sink.bodies]
    assert order == [first, second, third, first]  # the retry comes after the others


async def test_webhook_log_has_no_secrets(uqudo: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    text = caplog.text
    assert "jwsResult" in text  # the event label
    for secret in (uqudo.sandbox.webhook_secret, uqudo.sandbox.api_key, "DOE", "eyJ"):
        assert secret not in text


# -- the control endpoint ---------------------------------------------------------------------


async def test_steps_not_enabled_in_data_are_409(uqudo: Harness) -> None:
    sid = (await uqudo.create(reading=False))["sessionId"]
    await uqudo.drive(sid, "scan")
    response = await uqudo.simulate(sid, "read")
    assert response.status_code == 409
    assert "not enabled" in response.json()["message"]


async def test_submit_after_the_steps_is_allowed_once(uqudo: Harness) -> None:
    sid = (await uqudo.create(face=False, background_check=False))["sessionId"]
    assert (await uqudo.drive(sid, "open"))["status"] == "in_progress"
    await uqudo.drive(sid, "submit", "approve")
    assert (await uqudo.simulate(sid, "submit")).status_code == 409


async def test_status_follows_the_session(uqudo: Harness) -> None:
    sid = (await uqudo.create())["sessionId"]
    assert (await uqudo.drive(sid, "open"))["status"] == "in_progress"
    assert (await uqudo.drive(sid, "submit"))["status"] == "in_progress"
    assert (await uqudo.drive(sid, "review"))["status"] == "completed"


# -- expiry -----------------------------------------------------------------------------------


async def test_a_session_expires_after_its_ttl_without_a_result(uqudo: Harness) -> None:
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open")
    uqudo.clock.advance(SESSION_TTL_S - 1)
    assert (await uqudo.drive(sid, "submit"))["status"] == "in_progress"
    uqudo.clock.advance(1)
    response = await uqudo.simulate(sid, "approve")
    assert response.status_code == 409
    assert "expired" in response.json()["message"]
    assert (await uqudo.info(sid)).status_code == 404


async def test_a_result_before_the_ttl_is_kept(uqudo: Harness) -> None:
    sid = (await uqudo.create())["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    uqudo.clock.advance(SESSION_TTL_S + 60)
    assert (await uqudo.info(sid)).status_code == 200
    assert (await uqudo.simulate(sid, "expire")).status_code == 409


# -- hosted page (the dynamic link) -----------------------------------------------------------


def _page_path(link: str) -> str:
    return urlsplit(link).path.removeprefix(MOUNT)


async def test_hosted_page_shows_the_qr_and_escapes_everything(uqudo: Harness) -> None:
    created = await uqudo.create(user="<script>alert(1)</script>", document_type="<img src=x>")
    page = await uqudo.client.get(_page_path(created["qrCodeTextWithDynamicLink"]))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "img-src data:" in page.headers["content-security-policy"]
    html = page.text
    assert "uqudo sandbox" in html and created["sessionId"] in html
    assert "<script>" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x&gt;" in html
    src = html.split("class='qr' alt='QR code of this session' src='", 1)[1].split("'", 1)[0]
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.removeprefix("data:image/png;base64,"))[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http" not in html.split("</style>")[1]  # no external assets, no absolute links
    assert created["qrCodeText"] not in html  # the socket's secret stays out of the page
    assert "Scan document" in html and "Finish: approve" not in html


async def test_hosted_page_buttons_follow_the_steps(uqudo: Harness) -> None:
    created = await uqudo.create()
    sid, path = created["sessionId"], _page_path(created["qrCodeTextWithDynamicLink"])
    for action, label in (
        ("scan", "Read NFC chip"),
        ("read", "Face match"),
        ("face", "Background check"),
    ):
        await uqudo.drive(sid, action)
        html = (await uqudo.client.get(path)).text
        assert label in html and html.count("<button") == 1
    await uqudo.drive(sid, "background_check")
    html = (await uqudo.client.get(path)).text
    for label in ("Finish: approve", "Finish: decline", "Finish: review"):
        assert label in html
    await uqudo.drive(sid, "approve")
    html = (await uqudo.client.get(path)).text
    assert "completed" in html and "approve" in html and "<form" not in html


async def test_hosted_flow_through_the_gateway_mount(uqudo: Harness) -> None:
    async with uqudo.through_the_gateway() as client:
        created = await uqudo.create(reading=False)
        path = urlsplit(created["qrCodeTextWithDynamicLink"]).path
        assert path == f"{MOUNT}/qr/{created['sessionId']}"
        target = await form_target(client, path)
        for step in ("scan", "face", "background_check", "review"):
            moved = await client.post(target, data={"action": step})
            assert (moved.status_code, moved.headers["location"]) == (303, path)
        html = (await client.get(path)).text
        assert "completed" in html and "<form" not in html
    await uqudo.sink.wait_for(1)
    claims = await uqudo.verify(uqudo.sink.bodies[0]["jwsResult"], created["sessionId"])
    assert claims["data"]["backgroundCheck"]["match"] is True


async def test_hosted_page_of_an_expired_or_unknown_session(uqudo: Harness) -> None:
    created = await uqudo.create()
    path = _page_path(created["qrCodeTextWithDynamicLink"])
    uqudo.clock.advance(SESSION_TTL_S)
    html = (await uqudo.client.get(path)).text
    assert "expired" in html and "<form" not in html
    unknown = await uqudo.client.get(f"/qr/{uuid.uuid4()}")
    assert unknown.status_code == 404 and "uqudo sandbox" in unknown.text
    posted = await uqudo.client.post(f"/qr/{uuid.uuid4()}/action", data={"action": "scan"})
    assert posted.status_code == 404


async def test_hosted_page_of_a_deleted_session(uqudo: Harness) -> None:
    created = await uqudo.create()
    path = _page_path(created["qrCodeTextWithDynamicLink"])
    deleted = await uqudo.client.delete(
        f"{SESSION}/{created['qrCodeText']}", headers=await uqudo.auth()
    )
    assert deleted.status_code == 204
    html = (await uqudo.client.get(path)).text
    assert "deleted" in html and "<form" not in html
    posted = await uqudo.client.post(f"{path}/action", data={"action": "scan"})
    assert posted.status_code == 409


async def test_a_completed_session_can_be_deleted_and_keeps_its_result(uqudo: Harness) -> None:
    """ "e.g. after the KYC session is completed": the QR goes, the Info API result stays
    until its own delete."""
    created = await uqudo.create()
    sid = created["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    deleted = await uqudo.client.delete(
        f"{SESSION}/{created['qrCodeText']}", headers=await uqudo.auth()
    )
    assert deleted.status_code == 204
    assert (await uqudo.info(sid)).status_code == 200
    assert (await uqudo.client.get(f"{SESSION}/{created['qrCodeText']}")).status_code == 404


async def test_an_expired_qr_session_is_already_gone(uqudo: Harness) -> None:
    """ "automatically deleted after 30 minutes after its creation": nothing left to delete."""
    created = await uqudo.create()
    uqudo.clock.advance(SESSION_TTL_S)
    gone = await uqudo.client.delete(
        f"{SESSION}/{created['qrCodeText']}", headers=await uqudo.auth()
    )
    assert gone.status_code == 404


# -- persistence ------------------------------------------------------------------------------


async def test_key_pair_and_sessions_survive_a_restart(make: Factory, tmp_path: Path) -> None:
    state = tmp_path / "state" / "uqudo.json"
    clock = FakeClock()
    first = make(state_path=str(state), clock=clock)
    done = (await first.create())["sessionId"]
    await first.drive(done, "open", "submit", "approve")
    jws = (await first.info(done)).text
    open_session = await first.create()
    await first.drive(open_session["sessionId"], "open")
    old_token = await first.token()
    jwks = (await first.client.get(JWKS)).json()
    await first.sandbox.aclose()
    saved = json.loads(state.read_text())
    assert saved["client_id"] == first.sandbox.client_id
    assert "BEGIN PRIVATE KEY" in saved["signing_key"]["private_key_pem"]
    assert first.sandbox.api_key not in state.read_text()  # the secret is not persisted
    assert [p.name for p in state.parent.iterdir()] == ["uqudo.json"]  # no temp files left

    second = make(state_path=str(state), clock=clock)
    assert second.sandbox.client_id == first.sandbox.client_id
    assert second.sandbox.api_key != first.sandbox.api_key
    assert (await second.client.get(JWKS)).json() == jwks
    assert (await second.info(done)).text == jws
    await second.verify(jws, done)  # signed before the restart, verifies after it
    still = await second.client.get(
        f"{INFO}/{done}", headers={"Authorization": f"Bearer {old_token}"}
    )
    assert still.status_code == 200  # tokens are tenant-scoped JWS: still valid
    stale = await second.client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": first.sandbox.client_id,
            "client_secret": first.sandbox.api_key,
        },
    )
    assert stale.status_code == 401  # the old secret is gone
    sid = open_session["sessionId"]
    assert (await second.drive(sid, "submit", "decline"))["milestones"] == list(ALL)
    await second.sink.wait_for(1)
    assert payload_of(second.sink.bodies[0]["jwsResult"])["jti"] == sid
    page = await second.client.get(_page_path(open_session["qrCodeTextWithDynamicLink"]))
    assert page.status_code == 200 and "decline" in page.text


async def test_the_websocket_knows_sessions_from_before_a_restart(
    make: Factory, tmp_path: Path
) -> None:
    state = str(tmp_path / "uqudo.json")
    first = make(state_path=state)
    created = await first.create()
    await first.drive(created["sessionId"], "open")
    await first.sandbox.aclose()
    async with live_server(make, state_path=state) as second:
        async with listen(second, created["qrCodeText"]) as listener:
            await listener.take(2)
            await second.drive(created["sessionId"], "submit", "approve")
            await listener.closed()
    assert listener.services == list(ALL)


async def test_each_sandbox_generates_its_own_key_once(
    make: Factory, tmp_path: Path, real_keys: None
) -> None:
    state = tmp_path / "uqudo.json"
    first, other = make(state_path=str(state)), make()
    assert json.loads(state.read_text())["signing_key"] is None  # not before it is needed
    jwk = (await first.client.get(JWKS)).json()["keys"][0]
    assert json.loads(state.read_text())["signing_key"]["kid"] == jwk["kid"]
    assert (await first.client.get(JWKS)).json()["keys"][0] == jwk
    other_jwk = (await other.client.get(JWKS)).json()["keys"][0]
    assert other_jwk["n"] != jwk["n"] and other_jwk["kid"] != jwk["kid"]
    public = jwt.PyJWK(jwk).key
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048


# -- documented shapes (the cassettes hold the vendor's documented payloads) ------------------


def materialise(value: Any) -> Any:
    """The cassettes' JSON templates, as far as shapes go: `{"$base64json": x}` → the Base64
    of x, `{"$form": x}` → x, `{"$jws": {"header", "payload"}}` → that dict."""
    if isinstance(value, dict):
        if set(value) == {"$base64json"}:
            return base64.b64encode(json.dumps(value["$base64json"]).encode()).decode()
        if set(value) in ({"$form"}, {"$jws"}):
            return next(iter(value.values()))
        return {key: materialise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [materialise(item) for item in value]
    return value


def cassette(name: str, index: int = 0) -> tuple[Any, int, dict[str, str], Any]:
    """(request body, status, response headers, response body) of one interaction, with the
    templates materialised; bodies that are not JSON stay text."""
    path = CASSETTES / name
    if not path.exists():
        pytest.fail(f"cassettes/uqudo/{name} is missing (the adapter's cassettes)")
    interaction = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"][index]
    request, response = interaction["request"], interaction["response"]

    def parse(raw: Any) -> Any:
        if isinstance(raw, dict):  # vcrpy may store {"string": ...}
            raw = raw.get("string")
        if not raw:
            return None
        try:
            return materialise(json.loads(raw))
        except ValueError:
            return raw

    headers = {k.lower(): v[0] for k, v in response["headers"].items()}
    return parse(request.get("body")), response["status"]["code"], headers, parse(response["body"])


def documented_jws(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a documented JWS: a `$jws` template or a compact token."""
    if isinstance(body, dict):
        return body["header"], body["payload"]
    part = body.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return header, payload_of(body)


#: Info API payload keys beyond the cassette's example, each documented (docs/vendors/uqudo.md,
#: Webhooks and signature, or the doc example it quotes). Anything else extra is drift.
INFO_EXTRAS = frozenset(
    {
        "$.data.source",  # "data.source (undocumented) = {sdkType, …}", observed present
        "$.data.documents[].scan.frontFrameImageId",  # the scan object's documented keys
        "$.data.documents[].scan.frontFrameImageIdChecksum",
        "$.data.documents[].scan.backImageIdChecksum",
        "$.data.documents[].face.auditTrailImageIdChecksum",  # "each image id has a sibling"
        "$.data.documents[].reading.data.documentSigningCertificate",  # the doc example
    }
)


async def test_token_matches_the_documented_response(uqudo: Harness) -> None:
    form, status, headers, documented = cassette("token_200.yaml")
    assert form["grant_type"] == "client_credentials"
    form = {**form, "client_id": uqudo.sandbox.client_id, "client_secret": uqudo.sandbox.api_key}
    response = await uqudo.client.post(TOKEN, data=form)
    assert response.status_code == status
    assert response.headers["cache-control"] == headers["cache-control"]
    assert shape_drift(documented, response.json()) == []


async def test_create_matches_the_documented_response(uqudo: Harness) -> None:
    request, status, _, documented = cassette("create_qr_session_200.yaml")
    response = await uqudo.client.post(SESSION, json=request, headers=await uqudo.auth())
    assert response.status_code == status
    assert shape_drift(documented, response.json()) == []
    # The adapter's own `data` drives the flow: face on, reading and background check off.
    body = await uqudo.drive(response.json()["sessionId"], "open", "submit", "approve")
    assert body["milestones"] == ["SCAN", "FACE", "INFO"]


async def test_info_matches_the_documented_jws(uqudo: Harness) -> None:
    _, status, headers, documented = cassette("info_200.yaml")
    assert headers["content-type"].startswith("application/jwt")
    header, payload = documented_jws(documented)
    sid = (await uqudo.create(reading=True, face=True, background_check=False))["sessionId"]
    await uqudo.drive(sid, "open", "submit", "approve")
    response = await uqudo.info(sid)
    assert response.status_code == status
    assert response.headers["content-type"] == headers["content-type"]
    assert set(jwt.get_unverified_header(response.text)) == set(header)
    actual = payload_of(response.text)
    assert shape_drift(payload, actual, extras=INFO_EXTRAS) == []
    assert default_policy(payload) == default_policy(actual) == "approved"


async def test_info_404_matches_the_documented_error(uqudo: Harness) -> None:
    _, status, _, documented = cassette("info_404.yaml")
    sid = (await uqudo.create())["sessionId"]
    response = await uqudo.info(sid)
    assert response.status_code == status
    assert shape_drift(documented, response.json()) == []
    assert response.json()["message"] == documented["message"]


def test_shape_check_detects_drift() -> None:
    _, _, _, documented = cassette("info_200.yaml")
    _, payload = documented_jws(documented)
    assert shape_drift(payload, json.loads(json.dumps(payload))) == []

    renamed = json.loads(json.dumps(payload))
    renamed["sessionId"] = renamed.pop("jti")
    assert shape_drift(payload, renamed) == ["$.jti: missing", "$.sessionId: not documented"]

    retyped = json.loads(json.dumps(payload))
    retyped["data"]["documents"][0]["face"]["matchLevel"] = "4"
    assert shape_drift(payload, retyped) == [
        "$.data.documents[].face.matchLevel: documented number, got string"
    ]

    flattened = json.loads(json.dumps(payload))
    flattened["data"]["verifications"] = {"score": 5}
    assert shape_drift(payload, flattened) == ["$.data.verifications: documented array, got object"]

    # An emulator-only key passes only when listed as documented.
    extra = json.loads(json.dumps(payload))
    extra["data"]["source"] = {"sdkType": "ANDROID"}
    extra["data"]["surprise"] = 1
    assert shape_drift(payload, extra, extras=INFO_EXTRAS) == ["$.data.surprise: not documented"]


class TestUqudoSandboxConformance(HostedPageConformance, SandboxConformance):
    page_refusals = ("approve", "read", "expire", "open")
    provider = "uqudo"
    lacking_actions = ("abandon", "fail", "cancel", "<b>x</b>")
    supported_actions = ("open", "submit", "approve", "decline", "review", "expire")
    webhook_actions = ("open", "submit", "approve")
    unknown_session_id = "6f1f9d4e-3c1b-4f55-9a7e-0c3d2b1a9e8f"
    retry_delays = (0.01,)
    out_of_turn = [
        ((), "submit"),
        ((), "approve"),
        ((), "read"),
        (("open",), "open"),
        (("open",), "approve"),
        (("open",), "background_check"),
        (("open", "submit"), "submit"),
        (("open", "submit", "approve"), "approve"),
        (("open", "submit", "approve"), "expire"),
        (("open", "submit", "approve"), "decline"),
        (("expire",), "open"),
        (("expire",), "expire"),
    ]

    async def new_session(self, harness: Harness) -> str:
        return str((await harness.create())["sessionId"])

    def check_state(self, saved: Any, harness: Harness) -> None:
        assert saved["client_id"] == harness.sandbox.client_id

    def other_config(self) -> SandboxConfig:
        return SandboxConfig(public_base_url="https://kyc.example/sandbox/uqudo", webhook_url="")

    def check_handle(self, sandbox: UqudoSandbox, other: UqudoSandbox) -> None:
        assert dict(sandbox.options) == {
            "client_id": sandbox.client_id,
            "client_secret": sandbox.api_key,
            "webhook_auth_header": "Authorization",
            "webhook_auth_value": f"Bearer {sandbox.webhook_secret}",
            "api_base_url": HOST,
            "qr_base_url": HOST,
            "auth_url": f"{HOST}/api/oauth/token",
            "jwks_url": f"{HOST}/api/.well-known/jwks.json",
            "ws_url": "ws://127.0.0.1:8000/sandbox/uqudo/ws/v1/session",
            "jws_issuer": HOST,
            "jws_audience": sandbox.client_id,
        }
        assert other.options["ws_url"] == "wss://kyc.example/sandbox/uqudo/ws/v1/session"
        uuid.UUID(sandbox.client_id)
        assert sandbox.client_id != other.client_id

    def check_out_of_turn(self, response: httpx.Response, where: Any, action: str) -> None:
        assert response.json()["status"] == 409

    async def hosted_page(self, harness: Harness) -> tuple[str, str]:
        created = await harness.create()
        return _page_path(created["qrCodeTextWithDynamicLink"]), str(created["sessionId"])

    async def after_page_refusals(self, harness: Harness, session_id: str, path: str) -> None:
        assert (await harness.drive(session_id, "scan"))["milestones"] == ["SCAN"]

    def lacking_text(self, response: httpx.Response, action: str) -> str:
        return str(response.json()["message"])


# -- sessions started by the SDK outside the gateway (docs/vendors/uqudo.md, Sessions started by
# the SDK) ------------------------------------------------------------------------------------

SDK_SESSIONS = "/sdk-sessions/simulate"


async def sdk_session(uqudo: Harness, action: str, **body: Any) -> dict[str, Any]:
    response = await uqudo.client.post(SDK_SESSIONS, json={"action": action, **body})
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_sdk_session_stores_its_result_and_sends_the_same_webhook(
    uqudo: Harness,
) -> None:
    body = await sdk_session(uqudo, "approve")
    sid = body["session_id"]
    assert uuid.UUID(sid).version == 4
    assert body == {
        "session_id": sid,
        "origin": "sdk",
        "status": "completed",
        "webhook": {"delivered": True, "status_code": 200},
    }
    [request] = uqudo.sink.requests
    assert str(request.url) == WEBHOOK_URL
    assert request.headers["authorization"] == uqudo.sandbox.options["webhook_auth_value"]
    payload = json.loads(request.content)
    assert set(payload) == {"jwsResult"}
    claims = await uqudo.verify(payload["jwsResult"], sid)
    info = await uqudo.result(sid)
    # The same shapes as a QR session's result: the webhook without the scores, the Info API
    # with them, and the sandbox's approve signals.
    assert "verifications" not in claims["data"]
    assert {**claims, "data": {**claims["data"], "verifications": ANY_LIST}} == info
    assert default_policy(info) == "approved"
    assert info["data"]["documents"][0]["face"]["match"] is True
    assert "reading" not in info["data"]["documents"][0]
    assert "backgroundCheck" not in info["data"]


class _AnyList:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, list)


ANY_LIST = _AnyList()


async def test_sdk_and_qr_sessions_with_the_same_configuration_get_the_same_result(
    uqudo: Harness,
) -> None:
    qr = (await uqudo.create(reading=False, background_check=False))["sessionId"]
    await uqudo.drive(qr, "open", "submit", "decline")
    sdk = (await sdk_session(uqudo, "decline"))["session_id"]

    def signals(claims: dict[str, Any]) -> dict[str, Any]:
        document, check = claims["data"]["documents"][0], claims["data"]["verifications"][0]
        return {
            "face": (document["face"]["match"], document["face"]["matchLevel"]),
            "scores": [
                check[k]["score"]
                for k in ("idPhotoTamperingDetection", "idPrintDetection", "idScreenDetection")
            ],
            "mrz": (check["mrzChecksum"]["valid"], document["scan"]["front"]["mrzVerified"]),
            "reading": check["reading"]["enabled"],
            "keys": sorted(claims["data"]),
            "policy": default_policy(claims),
        }

    qr_claims, sdk_claims = await uqudo.result(qr), await uqudo.result(sdk)
    assert signals(qr_claims) == signals(sdk_claims)
    assert signals(sdk_claims)["policy"] == "declined"


@pytest.mark.parametrize(
    ("action", "body", "expected"),
    [
        ("decline", {}, "declined"),
        ("decline", {"reason": "face_mismatch"}, "declined"),
        ("review", {"background_check": True}, "review"),
        ("review", {}, "review"),
    ],
)
async def test_sdk_session_variants_follow_the_result_builders(
    uqudo: Harness, action: str, body: dict[str, Any], expected: str
) -> None:
    sid = (await sdk_session(uqudo, action, **body))["session_id"]
    claims = await uqudo.result(sid)
    assert default_policy(claims) == expected
    if body.get("reason") == "face_mismatch":
        face = claims["data"]["documents"][0]["face"]
        assert face["match"] is False
        assert claims["data"]["verifications"][0]["idPhotoTamperingDetection"]["score"] <= 40
    if body.get("background_check"):
        assert claims["data"]["backgroundCheck"]["match"] is True


async def test_an_sdk_session_with_the_documented_example(uqudo: Harness) -> None:
    sid = (await sdk_session(uqudo, "documented_example"))["session_id"]
    await uqudo.sink.wait_for(1)
    assert payload_of(uqudo.sink.bodies[0]["jwsResult"])["jti"] == sid
    assert (await uqudo.info(sid)).status_code == 200


async def test_an_sdk_session_has_no_qr_session(uqudo: Harness) -> None:
    sid = (await sdk_session(uqudo, "approve"))["session_id"]
    assert (await uqudo.client.get(f"{SESSION}/")).status_code in (404, 405)
    assert (await uqudo.client.get(SESSION, headers={"authorization": ""})).status_code == 404
    assert (await uqudo.client.get(f"/qr/{sid}")).status_code == 404
    again = await uqudo.client.post(f"/sessions/{sid}/simulate", json={"action": "approve"})
    assert again.status_code == 409
    assert len(uqudo.sink.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"action": "open"},
        {"action": "expire"},
        {"action": "approve", "face": "yes"},
        {"action": "approve", "document_type": ""},
        {"action": "review", "reason": "backgroundCheck"},  # no background check configured
        {"action": "decline", "reason": "nothing_like_it"},
        {"nothing": True},
    ],
)
async def test_sdk_session_bodies_the_sandbox_cannot_play_are_400(
    uqudo: Harness, body: dict[str, Any]
) -> None:
    response = await uqudo.client.post(SDK_SESSIONS, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == 400
    assert uqudo.sink.requests == []
    assert list(uqudo.sandbox._engine.store) == []


def test_the_sdk_session_endpoint_is_a_control_path(uqudo: Harness) -> None:
    assert uqudo.sandbox.is_control_path(SDK_SESSIONS)
    assert not uqudo.sandbox.is_control_path(SESSION)


async def test_sdk_sessions_survive_a_restart(make: Factory, tmp_path: Path) -> None:
    state = str(tmp_path / "uqudo.json")
    first = make(state_path=state)
    sid = (await sdk_session(first, "approve"))["session_id"]
    second = make(state_path=state)
    assert (await second.info(sid)).status_code == 200
    assert second.sandbox._engine.store.get(sid).origin == "sdk"
    assert (await second.client.get(f"/qr/{sid}")).status_code == 404
