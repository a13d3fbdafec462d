"""uqudo adapter: OAuth client credentials, QR sessions, the session websocket, and RS256 JWS
results (webhook `jwsResult` or Info API) judged by our own policy (docs/vendors/uqudo.md).

uqudo has no session-status resource: the status is derived — `QR_CREATED` at create, the
websocket milestones while the person works, `INFO` when the result is ready, then the
policy's verdict on the verified JWS, `QR_DELETED` once we deleted the QR session
(cancelSession), or `EXPIRED` when the session's TTL passes without a result.
Translation only here — wire shapes in `wire.py`, statuses in `statuses.py`, tokens and
webhook callers in `auth.py`, JWS checks in `jws.py`, the decision in `policy.py`, the
websocket in `stream.py`, assumptions in `inferred.py`.

The adapter remembers, per process, the sessions it created (`qrCodeText`, creation time,
last milestone): the websocket needs the `qrCodeText`, and telling "no result yet" from
"expired" needs the creation time — neither is in what `follow_session` / `fetch_session`
receive (a session id only). After a restart, or on another replica, such a session cannot be
followed (UnsupportedByProvider) and reads as `PENDING_RESULT` until its result arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx
from cachetools import TTLCache
from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import connect

from adapters.base import (
    JSON,
    SESSION_BASICS,
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    ErrorCode,
    KnownSession,
    ProviderAdapter,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionSnapshot,
    UnsupportedByProvider,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.http import VendorHttp
from adapters.common.qr import qr_png_data_url
from adapters.common.scrub import Scrubber
from adapters.common.webhook_body import parse_json_object
from adapters.common.webhook_verify import check_size
from adapters.uqudo import inferred
from adapters.uqudo.auth import BearerAuth, CallerAuth, ClientCredentials, TokenCache
from adapters.uqudo.errors import bad_input, map_error, unavailable
from adapters.uqudo.inputs import INPUT_SUPPORT
from adapters.uqudo.jws import (
    Expectations,
    JwsInvalid,
    JwsVerifier,
    KeySet,
    ReplayGuard,
    UnknownSigningKey,
)
from adapters.uqudo.policy import PolicySettings, evaluate
from adapters.uqudo.results import CHECK_KINDS, CHECK_TABLES, read_results
from adapters.uqudo.statuses import (
    CANCELLABLE,
    CHANNEL_MILESTONES,
    EXPIRED,
    INFO,
    PENDING_RESULT,
    POLLED,
    QR_CREATED,
    QR_DELETED,
    RESULT_PENDING,
    RESULT_RECEIVED,
    UQUDO_STATUS_MAP,
)
from adapters.uqudo.stream import Connector, session_channel
from adapters.uqudo.wire import (
    BackgroundCheckConfig,
    ChannelMessage,
    CreateSessionBody,
    CreateSessionResponse,
    DocumentConfig,
    Endpoints,
    FacialRecognitionConfig,
    GeneralConfig,
    ReadingConfig,
    SessionInstructions,
    WebhookBody,
)

log = logging.getLogger(__name__)

VENDOR = "uqudo"
WEBHOOK_EVENT = "jwsResult"
MAX_RAW_STATUS_LENGTH = 64

#: uqudo-only create fields accepted through `providerOptions` (the QR session's `data`,
#: docs/vendors/uqudo.md, Endpoints we call).
BOOL_OPTIONS: frozenset[str] = frozenset(
    {
        "reading",
        "face_recognition",
        "background_check",
        "expired_document_allowed",
        "upload_enabled",
    }
)
PROVIDER_OPTIONS: frozenset[str] = BOOL_OPTIONS | {"document_types", "background_check_type"}

_Model = TypeVar("_Model", bound=BaseModel)


@dataclass
class _Known:
    """What this process knows about a session it created."""

    credential: str  # qrCodeText: authenticates the websocket, names the QR — never logged
    created_at: datetime
    expires_at: datetime
    raw: JSON  # the create answer (restricted)
    client_reference: str | None
    metadata: JSON | None
    milestone: str = QR_CREATED


class UqudoAdapter(ProviderAdapter):
    rate_limit_per_minute = inferred.RATE_LIMIT_PER_MINUTE
    name = "uqudo"
    default_base_url = inferred.API_BASE_URL
    credential_keys = ("client_id", "client_secret")
    poll_policy = inferred.POLL_POLICY
    input_support = INPUT_SUPPORT
    status_table = UQUDO_STATUS_MAP
    polled_statuses = POLLED
    #: A QR session has no metadata field (docs/vendors/uqudo.md): ours is the copy.
    metadata_at_vendor = False
    capabilities: ClassVar[frozenset[Capability]] = SESSION_BASICS | frozenset(
        {
            Capability.CANCEL,  # DELETE {qr}/api/v1/session/{qrCodeText}
            Capability.REDACT,  # that, then DELETE {api}/api/v1/info/{id}
            Capability.WEBHOOKS,
            Capability.POLLING,
            Capability.STREAMING,
        }
    )  # no decide / expire / list: uqudo has no such endpoints (docs/vendors/uqudo.md)
    #: docs/vendors/uqudo.md, Redaction: the QR session and the cached result are deleted,
    #: and uqudo documents no other copy of a session.
    redaction_leaves: tuple[str, ...] = ()
    #: docs/vendors/uqudo.md, Results: the result's blocks, each judged by its policy rule.
    check_tables = CHECK_TABLES
    check_kinds = CHECK_KINDS

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        options = config.options
        self.endpoints = Endpoints.from_config(config)
        self.policy = PolicySettings.from_options(options)
        self._client_id = (options.get("client_id") or "").strip()
        # `api_key` is the generic credential slot (the sandbox fills it); live deployments
        # give the secret as an option (KYCGW_UQUDO_CLIENT_SECRET).
        self._client_secret = config.api_key or options.get("client_secret") or ""
        self._caller = CallerAuth.from_config(config)
        self._scrub = Scrubber.of(config, self._client_secret, *self._caller.secrets)

        def mapper(response: httpx.Response) -> ProviderError:
            return map_error(response, self._scrub, now=config.clock())

        self._public = VendorHttp(
            config, vendor=VENDOR, headers={"Accept": "application/json"}, error_mapper=mapper
        )
        self.tokens = TokenCache(
            ClientCredentials(
                self._public,
                url=self.endpoints.auth_url,
                client_id=self._client_id,
                client_secret=self._client_secret,
                error_mapper=mapper,
            ),
            clock=config.clock,
        )
        self._api = VendorHttp(
            config,
            vendor=VENDOR,
            headers={"Accept": "application/json, application/jwt"},
            error_mapper=mapper,
            auth=BearerAuth(self.tokens),
        )
        self.keys = KeySet(self._read_jwks, clock=config.clock)
        self.verifier = JwsVerifier(
            self.keys,
            Expectations(
                audience=options.get("jws_audience") or self._client_id,
                issuer=options.get("jws_issuer") or inferred.JWS_ISSUER,
            ),
            clock=config.clock,
        )
        self._replays = ReplayGuard(clock=config.clock)
        self._known: TTLCache[str, _Known] = TTLCache(
            maxsize=inferred.LOCAL_SESSION_MAX,
            ttl=inferred.LOCAL_SESSION_MEMORY_S,
            timer=lambda: config.clock().timestamp(),
        )
        #: Opens the session websocket (tests and embedders may swap it).
        self.ws_connector: Connector = connect
        #: Pauses between Info API reads after `INFO` while the result is not there yet.
        self.info_retry_delays_s: tuple[float, ...] = inferred.INFO_RETRY_DELAYS_S
        self._background: set[asyncio.Task[None]] = set()

    # -- sessions -----------------------------------------------------------------------
    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot:
        body = CreateSessionBody(data=self._instructions(request).encode())
        response = await self._api.request(
            "POST",
            self.endpoints.session_url,
            json=body.to_json(),
            expected=inferred.CREATE_SUCCESS_STATUSES,
        )
        data = self._api.json_of(response)
        created = self._parse(CreateSessionResponse, data)
        now = self.config.clock()
        known = _Known(
            credential=created.qr_code_text,
            created_at=now,
            expires_at=now + timedelta(seconds=inferred.SESSION_TTL_S),
            raw=data,
            client_reference=request.client_reference,
            metadata=request.metadata,
        )
        self._known[created.session_id] = known
        link = created.qr_code_text_with_dynamic_link
        qr_text = link if inferred.QR_ENCODES_DYNAMIC_LINK and link else created.qr_code_text
        return self.snapshot_of(
            created.session_id,
            QR_CREATED,
            environment=self.environment,
            verification_url=link or created.qr_code_text,
            qr_code=qr_png_data_url(qr_text),
            client_reference=request.client_reference,
            metadata=request.metadata,
            expires_at=known.expires_at,
            occurred_at=None,  # the create answer carries no vendor time
            raw=data,  # holds qrCodeText: restricted, like every raw payload
        )

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        """There is no session resource: the Info API has the result, or not yet."""
        if not provider_session_id:
            raise bad_input("a provider session id is required", "providerSessionId")
        foreign = provider_session_id not in self._known and not inferred.SESSION_ID.fullmatch(
            provider_session_id
        )
        response = await self._api.request(
            "GET",
            self.endpoints.info_url(quote(provider_session_id, safe="")),
            expected=(
                200,
                *inferred.INFO_NOT_READY_STATUSES,
                *(inferred.NOT_A_SESSION_ID_STATUSES if foreign else ()),
            ),
        )
        if foreign and response.status_code != 200:
            raise ProviderError(
                ErrorCode.NOT_FOUND,
                "uqudo has no session with this id (uqudo session ids are UUIDs)",
                provider_code="not_found",
                http_status=response.status_code,
            )
        if response.status_code == 200:
            token = _jws_text(response)
            try:
                claims = await self.verifier.verify(token, session_id=provider_session_id)
            except JwsInvalid as exc:
                raise unavailable(
                    f"uqudo returned a result that does not verify ({exc.reason})",
                    http_status=200,
                ) from exc
            return self._judged(provider_session_id, token, claims)
        return self._without_result(provider_session_id, response)

    async def cancel_session(self, provider_session_id: str) -> SessionSnapshot:
        """Delete the QR session, so its QR code stops working at once (uqudo would drop it
        30 minutes after creation). Only while no result exists: afterwards there is nothing
        to stop, and a decided session stays decided."""
        if not provider_session_id:
            raise bad_input("a provider session id is required", "providerSessionId")
        known = self._known.get(provider_session_id)
        if known is None:
            raise ProviderError(
                ErrorCode.UNSUPPORTED_BY_PROVIDER,
                "uqudo deletes a QR session by its qrCodeText, which this gateway process "
                "does not hold for this session",
            )
        if known.milestone not in CANCELLABLE:
            raise ProviderError(
                ErrorCode.PROVIDER_REJECTED,
                "uqudo already has this session's result (or it ended): nothing to cancel",
                provider_code="not_cancellable",
            )
        await self._delete_qr_session(known)
        known.milestone = QR_DELETED
        return self._snapshot(
            provider_session_id, QR_DELETED, known=known, raw={"session": known.raw}
        )

    async def redact_session(self, provider_session_id: str) -> None:
        """Delete the QR session (when this process holds its qrCodeText), then uqudo's
        cached result and images, then forget the session here."""
        if not provider_session_id:
            raise bad_input("a provider session id is required", "providerSessionId")
        known = self._known.get(provider_session_id)
        if known is not None:
            await self._delete_qr_session(known)
        await self._api.request(
            "DELETE",
            self.endpoints.info_url(quote(provider_session_id, safe="")),
            expected=inferred.DELETE_SUCCESS_STATUSES,
        )
        self._known.pop(provider_session_id, None)  # the qrCodeText goes too

    async def _delete_qr_session(self, known: _Known) -> None:
        """`DELETE /api/v1/session/{qrCodeText}` on the QR host: 204, or (inferred) 404 when
        it is already gone — done either way."""
        await self._api.request(
            "DELETE",
            self.endpoints.qr_session_url(quote(known.credential, safe="")),
            expected=inferred.QR_DELETE_SUCCESS_STATUSES | inferred.QR_ALREADY_GONE_STATUSES,
        )

    async def follow_session(self, provider_session_id: str) -> AsyncIterator[SessionSnapshot]:
        """The session websocket: a snapshot per milestone (IN_PROGRESS), `INFO`
        (PROCESSING), then the verified, judged result read from the Info API."""
        known = self._known.get(provider_session_id)
        if known is None:
            raise UnsupportedByProvider(
                self.name, "following a session this process did not create (no qrCodeText)"
            )
        if self._is_final(known.milestone):
            return  # decided or expired: nothing more will come
        await self.warm_up(quiet=True)
        if known.milestone in RESULT_PENDING or self._past_ttl(known):
            yield await self.fetch_session(provider_session_id)
            return
        async for message in session_channel(
            self.endpoints.ws_url, known.credential, connector=self.ws_connector
        ):
            if message.session_id is not None and message.session_id != provider_session_id:
                log.warning("uqudo channel message for another session; ignored")
                continue
            service = message.service[:MAX_RAW_STATUS_LENGTH]
            if service in CHANNEL_MILESTONES:
                known.milestone = service
            yield self._channel_snapshot(provider_session_id, service, message, known)
            if service == INFO:
                break
        else:
            return  # closed before INFO: the reconciler polls the Info API from here
        final = await self._result_after_info(provider_session_id)
        if final is not None:
            yield final

    def session_capabilities(self, provider_status: str | None) -> frozenset[Capability]:
        """CANCEL while no result exists (a known, cancellable status), STREAMING until the
        session is final: what uqudo allows shrinks from everything, so it is said by what
        a status takes away."""
        allowed = self.capabilities
        if provider_status is not None and provider_status not in CANCELLABLE:
            allowed = allowed - {Capability.CANCEL}
        if provider_status is not None and self._is_final(provider_status):
            allowed = allowed - {Capability.STREAMING}
        return allowed

    # -- webhooks -----------------------------------------------------------------------
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        """`{"jwsResult": "<JWS>"}`: caller authentication first, then the JWS. Other keys
        of the envelope are ignored and not kept: only the verified JWS counts.

        Verification is synchronous, so it uses the cached JWKS; an unknown `kid` refreshes
        the keys in the background and is refused for now (uqudo retries).
        """
        # No HMAC over the bytes: the proof is the RS256 JWS inside the body, so only the
        # template's size and parse steps apply (adapters/common/webhook_verify.py).
        check_size(body, self.config.webhook_max_body_bytes)
        self._caller.check(headers)
        payload = parse_json_object(body)
        try:
            envelope = WebhookBody.model_validate(payload)
        except ValidationError as exc:
            raise WebhookRejected(
                WebhookRejectReason.MALFORMED,
                f"not a uqudo jwsResult webhook ({exc.error_count()} invalid fields)",
            ) from exc
        token = envelope.jws_result.strip()
        try:
            claims = self.verifier.verify_cached(token)
            self._replays.check(claims["jti"], token)
        except UnknownSigningKey as exc:
            self._refresh_keys_soon()
            raise WebhookRejected(
                WebhookRejectReason.SIGNATURE, f"uqudo result not verifiable yet ({exc.reason})"
            ) from exc
        except JwsInvalid as exc:
            raise WebhookRejected(
                WebhookRejectReason.SIGNATURE, f"uqudo result refused ({exc.reason})"
            ) from exc
        session_id: str = claims["jti"]
        self._replays.remember(session_id, token)
        partial = inferred.WEBHOOK_WITHOUT_VERIFICATIONS_REFETCHES and not _has_verifications(
            claims
        )
        snapshot = (
            self._received(session_id, token, claims)
            if partial
            else self._judged(session_id, token, claims)
        )
        return [
            WebhookEvent(
                dedupe_key=session_id,  # the signed jti: a redelivery is the same event
                event_type=WEBHOOK_EVENT,
                provider_session_id=session_id,
                snapshot=snapshot,
                received_payload={"jwsResult": token},  # the signed part only
                refetch=partial,  # read the Info API's full result (with scores) now
            )
        ]

    async def start(self) -> None:
        await self.warm_up(quiet=True)

    def restore(self, session: KnownSession) -> None:
        """Rebuild what `create_session` kept in memory from the stored raw payload, so a
        restart (or another replica) can still follow the websocket, detect expiry and delete
        the QR session; a stored result or cancel stays what it was (not cancellable)."""
        if session.provider_session_id in self._known:
            return
        raw = dict(session.raw or {})
        created = raw.get("session") if isinstance(raw.get("session"), dict) else raw
        credential = created.get("qrCodeText") if isinstance(created, dict) else None
        if not isinstance(credential, str) or not credential:
            return
        self._known[session.provider_session_id] = _Known(
            credential=credential,
            created_at=session.created_at,
            expires_at=session.expires_at
            or session.created_at + timedelta(seconds=inferred.SESSION_TTL_S),
            raw=created,
            client_reference=None,
            metadata=None,
            milestone=session.provider_status
            if session.provider_status in UQUDO_STATUS_MAP
            else QR_CREATED,
        )

    # -- keys ---------------------------------------------------------------------------------
    async def warm_up(self, *, quiet: bool = False) -> None:
        """Read uqudo's JWKS unless it is loaded, so webhooks verify without waiting."""
        if self.keys.loaded:
            return
        try:
            await self.keys.refresh()
        except ProviderError as exc:
            if not quiet:
                raise
            log.warning("uqudo JWKS read failed", extra={"code": exc.code.value})

    # -- sandbox ------------------------------------------------------------------------------
    @classmethod
    def build_sandbox(cls, config: SandboxConfig) -> SandboxHandle | None:
        try:  # lazy: sandbox deps load on demand
            from adapters.uqudo.sandbox import UqudoSandbox
        except ModuleNotFoundError as exc:
            if exc.name == "adapters.uqudo.sandbox":
                return None  # no emulator shipped (yet)
            raise
        return UqudoSandbox(config)

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._api.aclose()
        await self._public.aclose()

    # -- helpers ------------------------------------------------------------------------------
    async def _read_jwks(self) -> Any:
        response = await self._public.request("GET", self.endpoints.jwks_url)
        return self._public.json_of(response)

    def _refresh_keys_soon(self) -> None:
        if not self.keys.may_refetch():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # called outside an event loop: the next async read refreshes
        task = loop.create_task(self._refresh_keys_quietly())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh_keys_quietly(self) -> None:
        """Re-read the JWKS (throttled); failures are logged, not raised."""
        try:
            await self.keys.refresh()
        except ProviderError as exc:
            log.warning("uqudo JWKS read failed", extra={"code": exc.code.value})

    async def _result_after_info(self, session_id: str) -> SessionSnapshot | None:
        """After `INFO` the result should be at the Info API; read it, briefly retrying."""
        for delay in (0.0, *self.info_retry_delays_s):
            if delay:
                await asyncio.sleep(delay)
            snapshot = await self.fetch_session(session_id)
            if snapshot.provider_status not in RESULT_PENDING:
                return snapshot
        return None

    def _past_ttl(self, known: _Known) -> bool:
        grace = timedelta(seconds=inferred.RESULT_GRACE_S)
        return self.config.clock() >= known.expires_at + grace

    def _is_final(self, provider_status: str) -> bool:
        status = self.map_status(provider_status)
        return status is not None and status.is_final

    def _without_result(self, session_id: str, response: httpx.Response) -> SessionSnapshot:
        """The Info API has no result: what we know, else "no result yet"."""
        info = {"info": {"status": response.status_code}}
        known = self._known.get(session_id)
        if known is None:
            return self._snapshot(session_id, PENDING_RESULT, raw=info)
        raw = {**info, "session": known.raw}
        if not self._is_final(known.milestone) and self._past_ttl(known):
            known.milestone = EXPIRED
            return self._snapshot(
                session_id, EXPIRED, known=known, occurred_at=known.expires_at, raw=raw
            )
        return self._snapshot(session_id, known.milestone, known=known, raw=raw)

    def _channel_snapshot(
        self, session_id: str, service: str, message: ChannelMessage, known: _Known
    ) -> SessionSnapshot:
        return self._snapshot(
            session_id,
            service,
            known=known,
            raw={"message": message.model_dump(by_alias=True), "session": known.raw},
        )

    def _received(self, session_id: str, token: str, claims: JSON) -> SessionSnapshot:
        """A verified result that needs the Info API's full version before judging."""
        known = self._known.get(session_id)
        if known is not None:
            known.milestone = RESULT_RECEIVED
        return self._snapshot(
            session_id,
            RESULT_RECEIVED,
            known=known,
            occurred_at=_from_unix(claims.get("iat")),
            raw={"jws": token, "claims": claims, **_session_part(known)},
            results=read_results(claims, self.policy),  # without the scores: NOT_RUN
        )

    def _judged(self, session_id: str, token: str, claims: JSON) -> SessionSnapshot:
        result = evaluate(claims, self.policy)
        known = self._known.get(session_id)
        if known is not None:
            known.milestone = result.provider_status
        return self._snapshot(
            session_id,
            result.provider_status,
            known=known,
            decision=result.decision(self.config.clock()),
            results=read_results(claims, self.policy),  # the same rules as the decision
            occurred_at=_from_unix(claims.get("iat")),  # "stamped at scan completion"
            raw={
                "jws": token,
                "claims": claims,
                "policy": result.to_json(),
                **_session_part(known),
            },
        )

    def _snapshot(
        self,
        session_id: str,
        provider_status: str,
        *,
        known: _Known | None = None,
        raw: JSON,
        **fields: Any,
    ) -> SessionSnapshot:
        return self.snapshot_of(
            session_id,
            provider_status,
            environment=self.environment,
            client_reference=known.client_reference if known else None,
            metadata=known.metadata if known else None,
            expires_at=known.expires_at if known else None,
            raw=raw,
            **fields,
        )

    def _parse(self, model: type[_Model], data: Any) -> _Model:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise unavailable(
                f"uqudo answered an unexpected {model.__name__} ({exc.error_count()} fields)"
            ) from exc

    def _instructions(self, request: CreateSessionRequest) -> SessionInstructions:
        """The QR session's `data` from the normalized request and providerOptions."""
        options = dict(request.provider_options or {})
        for key in options:
            if key not in PROVIDER_OPTIONS:
                raise bad_input(f"unknown uqudo option '{key}'", "providerOptions", key)
        for key in BOOL_OPTIONS & options.keys():
            if not isinstance(options[key], bool):
                raise bad_input(f"{key} must be a boolean", "providerOptions", key)
        check_type = options.get("background_check_type", inferred.BACKGROUND_CHECK_TYPE)
        if not (isinstance(check_type, str) and inferred.DOCUMENT_TYPE_CODE.fullmatch(check_type)):
            raise bad_input(
                "background_check_type must be a uqudo check type code",
                "providerOptions",
                "background_check_type",
            )
        level = self.policy.min_face_match_level
        face_enabled = options.get("face_recognition", level > 0)
        face_level = level or 1  # the app's floor; 0 (no face check) is not a level
        documents = [
            DocumentConfig(
                documentType=code,
                reading=ReadingConfig(enabled=options.get("reading", False)),
                isExpiredDocumentAllowed=options.get("expired_document_allowed", False),
                isUploadEnabled=options.get("upload_enabled", False),
                faceScanMinimumMatchLevel=face_level,
                faceReadMinimumMatchLevel=face_level,
            )
            for code in self._document_types(request, options)
        ]
        return SessionInstructions(
            documents=documents,
            generalConfig=GeneralConfig(userIdentifier=_user_identifier(request.client_reference)),
            backgroundCheck=BackgroundCheckConfig(
                enabled=options.get("background_check", False), checkType=check_type
            ),
            facialRecognition=FacialRecognitionConfig(
                enabled=face_enabled,
                scanMinimumMatchLevel=face_level,
                readMinimumMatchLevel=face_level,
            ),
        )

    def _document_types(
        self, request: CreateSessionRequest, options: Mapping[str, Any]
    ) -> list[str]:
        codes: list[str] = []
        person = request.expected_person
        for document_type in person.document_types if person else ():
            code = inferred.DOCUMENT_TYPES.get(document_type)
            if code is None:
                raise ProviderError(
                    ErrorCode.UNSUPPORTED_BY_PROVIDER,
                    f"uqudo has no generic code for {document_type.value}: name the uqudo "
                    "documentType in providerOptions.document_types",
                    field=("input", "expectedPerson", "documentTypes"),
                )
            codes.append(code)
        given = options.get("document_types")
        if given is not None:
            if not (
                isinstance(given, list)
                and given
                and all(
                    isinstance(c, str) and inferred.DOCUMENT_TYPE_CODE.fullmatch(c) for c in given
                )
            ):
                raise bad_input(
                    "document_types must be a non-empty list of uqudo documentType codes",
                    "providerOptions",
                    "document_types",
                )
            codes.extend(given)
        if not codes:
            configured = self.config.options.get("document_types") or ""
            codes = [c.strip() for c in configured.split(",") if c.strip()]
        return list(dict.fromkeys(codes or inferred.DEFAULT_DOCUMENT_TYPES))


# -- helpers --------------------------------------------------------------------------------------
def _session_part(known: _Known | None) -> JSON:
    """The create answer (with its qrCodeText) kept in every later raw payload, so a restart
    can still delete the QR session when the session is redacted."""
    return {"session": known.raw} if known is not None else {}


def _jws_text(response: httpx.Response) -> str:
    """The Info API answers the compact JWS as `application/jwt` (documented); a JSON string
    or a `{"jwsResult": …}` object are tolerated."""
    text = response.text.strip()
    if text.startswith(("{", '"')):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, dict):
            value = value.get("jwsResult") or value.get("jws")
        if isinstance(value, str):
            return value.strip()
    return text


def _has_verifications(claims: JSON) -> bool:
    data = claims.get("data")
    verifications = data.get("verifications") if isinstance(data, dict) else None
    return isinstance(verifications, list) and bool(verifications)


def _user_identifier(client_reference: str | None) -> str | None:
    if client_reference is None:
        return None
    if inferred.USER_IDENTIFIER_MUST_BE_UUID and not inferred.SESSION_ID.fullmatch(
        client_reference
    ):
        return None  # not a UUID: the gateway keeps the reference itself
    return client_reference


def _from_unix(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
