"""HTTP face of the Verifa emulator: the documented `/api/v1` session and review-case API,
Verifa's manners (`X-API-Key`, `Verifa-Version`, `Key-Inflection`, `Idempotency-Key`,
`{error, detail, status_code}` errors, rate-limit headers), and the sandbox control
endpoints (`POST /sessions/{id}/simulate`, `GET|POST /sandbox-settings`), which are not
Verifa's and need no key, like every vendor sandbox of the gateway."""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.common.sandbox.control import posted_control
from adapters.common.sandbox.http import SandboxError, answer_routing_errors, json_object_posted
from adapters.common.sandbox.times import parse_iso
from adapters.verifa.sandbox.engine import VerifaEmulator, fingerprint, not_found
from adapters.verifa.sandbox.model import (
    API_VERSIONS,
    CONTROL_ACTIONS,
    DEFAULT_PAGE_SIZE,
    IDEMPOTENCY_KEY_MAX,
    JSON,
    MAX_PAGE_SIZE,
    ResultStatus,
    SandboxSession,
    Status,
)
from adapters.verifa.sandbox.payloads import (
    INFLECTIONS,
    case_body,
    create_body,
    error_body,
    expire_body,
    external_decision_body,
    inflect,
    link_body,
    redact_body,
    reprocess_body,
    result_body,
    resume_body,
    session_body,
    simulate_body,
)
from adapters.verifa.sandbox.validation import (
    ValidationFailed,
    validate_case_claim,
    validate_case_decision,
    validate_create,
    validate_external_decision,
    validate_link,
    validate_update,
)
from adapters.verifa.sandbox.webhooks import PAYLOAD_SHAPES, SIGNATURE_FORMATS

API = "/api/v1"
UNAUTHORIZED = error_body(401, "unauthorized", "Invalid or missing API key.")


@dataclass(frozen=True)
class Call:
    """What the headers of one API call asked for."""

    inflection: str
    idempotency_key: str | None


def _inflection_of(request: Request) -> str:
    value = request.headers.get("key-inflection", "snake").strip().lower()
    return value if value in INFLECTIONS else "snake"


def install_api(app: FastAPI, engine: VerifaEmulator, api_key: str) -> None:
    """Register the vendor API and the control endpoints on `app` (routes at its root)."""

    def begin(request: Request) -> Call:
        """Auth, then the version and casing headers, then the clock."""
        sent = request.headers.get("x-api-key", "")
        if not hmac.compare_digest(sent.encode(), api_key.encode()):
            raise SandboxError(401, UNAUTHORIZED)
        version = request.headers.get("verifa-version")
        if version is not None and version.strip() not in API_VERSIONS:
            raise SandboxError(
                400,
                error_body(
                    400,
                    "unsupported_version",
                    f"Verifa-Version '{version}' is not supported; supported: "
                    + ", ".join(sorted(API_VERSIONS))
                    + ".",
                ),
            )
        inflection = request.headers.get("key-inflection", "snake").strip().lower()
        if inflection not in INFLECTIONS:
            raise SandboxError(
                400,
                error_body(
                    400,
                    "invalid_key_inflection",
                    "Key-Inflection must be one of snake, camel, kebab.",
                ),
            )
        key = request.headers.get("idempotency-key")
        if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
            raise SandboxError(
                400,
                error_body(
                    400,
                    "invalid_idempotency_key",
                    f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters.",
                ),
            )
        engine.sweep()
        return Call(inflection, key)

    def reply(call: Call, body: Any, status_code: int = 200) -> JSONResponse:
        return JSONResponse(inflect(body, call.inflection), status_code=status_code)

    async def idempotent(
        request: Request, call: Call, params: Any, run: Callable[[], Any]
    ) -> JSONResponse:
        """Replay the first answer to the same key + same call; 422 for different params."""
        if call.idempotency_key is None:
            status_code, body = await run()
            return reply(call, body, status_code)
        digest = fingerprint(request.method, request.url.path, params)
        record = engine.replay(call.idempotency_key, digest)
        if record is not None:
            return reply(call, record["body"], record["status_code"])
        status_code, body = await run()
        engine.remember(call.idempotency_key, digest, status_code, body)
        return reply(call, body, status_code)

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        body = inflect(exc.body, _inflection_of(request))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(ValidationFailed)
    async def validation_failed(request: Request, exc: ValidationFailed) -> JSONResponse:
        return JSONResponse(inflect(exc.body, _inflection_of(request)), status_code=422)

    answer_routing_errors(
        app, error_body, not_allowed="Method {method} not allowed.", not_found="Not found."
    )

    # -- sessions -------------------------------------------------------------------------
    @app.post(f"{API}/sessions")
    async def create_session(request: Request) -> JSONResponse:
        call = begin(request)
        clean = validate_create(await read_json(request))

        async def run() -> tuple[int, Any]:
            session = engine.create(clean)
            url = engine.capture_url(session)
            assert url is not None
            return 201, create_body(session, url, engine.qr_code(url))

        return await idempotent(request, call, clean, run)

    @app.get(f"{API}/sessions")
    async def list_sessions(request: Request) -> JSONResponse:
        call = begin(request)
        params = request.query_params
        limit = _int_param(params, "limit", DEFAULT_PAGE_SIZE, minimum=1)
        limit = min(limit, MAX_PAGE_SIZE)
        offset = _int_param(params, "offset", 0, minimum=0)
        # Newest first by the creation time itself: as strings, `…:00Z` (whole seconds print
        # without a fraction) would sort after `…:00.250000Z`.
        rows = sorted(engine.store, key=lambda s: (parse_iso(s.created_at), s.id), reverse=True)
        status = params.get("status")
        if status:
            if status not in set(Status):
                raise ValidationFailed([("status", "Unknown session status.")])
            rows = [s for s in rows if s.status == status]
        query = (params.get("q") or "").strip().lower()
        if query:
            rows = [
                s
                for s in rows
                if query in s.id.lower() or (s.external_ref and query in s.external_ref.lower())
            ]
        page = rows[offset : offset + limit]
        return reply(
            call,
            {
                "data": [session_body(s, engine.capture_url(s)) for s in page],
                "pagination": {"total": len(rows), "limit": limit, "offset": offset},
            },
        )

    @app.get(API + "/sessions/{session_id}")
    async def get_session(session_id: str, request: Request) -> JSONResponse:
        call = begin(request)
        session = engine.get(session_id)
        return reply(call, session_body(session, engine.capture_url(session)))

    @app.patch(API + "/sessions/{session_id}")
    async def update_session(session_id: str, request: Request) -> JSONResponse:
        call = begin(request)
        session = engine.get(session_id)
        clean = validate_update(await read_json(request))

        async def run() -> tuple[int, Any]:
            engine.update(session, clean)
            return 200, session_body(session, engine.capture_url(session))

        return await idempotent(request, call, clean, run)

    @app.get(API + "/sessions/{session_id}/result")
    async def get_result(session_id: str, request: Request) -> JSONResponse:
        call = begin(request)
        session = engine.get(session_id)
        if session.result is None:
            raise not_found("No result yet")
        return reply(call, result_body(session))

    async def session_action(
        session_id: str, request: Request, act: Callable[[SandboxSession], Awaitable[JSON]]
    ) -> JSONResponse:
        """expire and resume: an optional body (JSON when present), the action run once per
        idempotency key."""
        call = begin(request)
        session = engine.get(session_id)
        await read_json(request)

        async def run() -> tuple[int, Any]:
            return 200, await act(session)

        return await idempotent(request, call, {}, run)

    @app.post(API + "/sessions/{session_id}/expire")
    async def expire_session(session_id: str, request: Request) -> JSONResponse:
        async def expire(session: SandboxSession) -> JSON:
            await engine.expire(session)
            return expire_body(session)

        return await session_action(session_id, request, expire)

    @app.post(API + "/sessions/{session_id}/resume")
    async def resume_session(session_id: str, request: Request) -> JSONResponse:
        async def resume(session: SandboxSession) -> JSON:
            engine.resume(session)
            url = engine.capture_url(session)
            assert url is not None
            return resume_body(session, url, engine.qr_code(url))

        return await session_action(session_id, request, resume)

    @app.post(API + "/sessions/{session_id}/reprocess")
    async def reprocess_session(session_id: str, request: Request) -> JSONResponse:
        call = begin(request)
        session = engine.get(session_id)
        await read_json(request)
        engine.reprocess(session)
        return reply(call, reprocess_body(session), 202)

    @app.post(API + "/sessions/{session_id}/generate-one-time-link")
    async def one_time_link(session_id: str, request: Request) -> JSONResponse:
        call = begin(request)
        session = engine.get(session_id)
        if not (await request.body()).strip():  # "This endpoint expects an object."
            raise ValidationFailed([("body", "Expected a JSON object.")])
        minutes = validate_link(await read_json(request))

        async def run() -> tuple[int, Any]:
            link_id, created_at = await engine.generate_link(session, minutes)
            url = engine.capture_url(session)
            assert url is not None
            return 200, link_body(session, link_id, url, created_at, engine.qr_code(url))

        return await idempotent(request, call, {"expires_in_minutes": minutes}, run)

    @app.delete(API + "/sessions/{session_id}/data")
    async def redact_session(session_id: str, request: Request) -> JSONResponse:
        call = begin(request)
        session = engine.get(session_id)
        removed, first_time = await engine.redact(session)
        return reply(call, redact_body(session, removed, first_time))

    @app.post(API + "/sessions/{session_id}/simulate")
    async def simulate_documented(session_id: str, request: Request) -> JSONResponse:
        """Verifa's own sandbox simulate: needs the key; answers `{id, action, status,
        simulated}`."""
        call = begin(request)
        session = engine.get(session_id)
        body = await read_json(request)
        action = body.get("action") if isinstance(body, dict) else None
        action = action if isinstance(action, str) else ""
        await engine.api_simulate(session, action)
        return reply(call, simulate_body(session, action))

    @app.post(API + "/sessions/{session_id}/external-decision")
    async def external_decision(session_id: str, request: Request) -> JSONResponse:
        """Submit external gate decision (no Idempotency-Key on its page)."""
        call = begin(request)
        session = engine.get(session_id)
        decision, metadata = validate_external_decision(await read_json(request))
        await engine.external_decision(session, decision, metadata)
        return reply(call, external_decision_body(session, decision))

    # -- review cases ---------------------------------------------------------------------
    @app.post(API + "/cases/{case_id}/claim")
    async def claim_case(case_id: str, request: Request) -> JSONResponse:
        call = begin(request)
        session = engine.get_case(case_id)
        engine.claim_case(session, validate_case_claim(await read_json(request)))
        return reply(call, case_body(session))

    async def decide_case(case_id: str, request: Request, result: ResultStatus) -> JSONResponse:
        """approve and reject take the same body; only a rejection keeps its reason."""
        call = begin(request)
        session = engine.get_case(case_id)
        reviewer, reason = validate_case_decision(await read_json(request))
        kept = reason if result is ResultStatus.REJECTED else None
        await engine.decide_case(session, reviewer, result, kept)
        return reply(call, case_body(session))

    @app.post(API + "/cases/{case_id}/approve")
    async def approve_case(case_id: str, request: Request) -> JSONResponse:
        return await decide_case(case_id, request, ResultStatus.APPROVED)

    @app.post(API + "/cases/{case_id}/reject")
    async def reject_case(case_id: str, request: Request) -> JSONResponse:
        return await decide_case(case_id, request, ResultStatus.REJECTED)

    # -- sandbox control (not Verifa endpoints) ---------------------------------------------
    @app.post("/sessions/{session_id}/simulate")
    async def simulate(session_id: str, request: Request) -> JSONResponse:
        """Play the person's / Verifa's part: {"action": "open"|"submit"|…}."""
        engine.sweep()
        control = await posted_control(request)
        if control is None or not isinstance(control.reason, str | None):
            raise SandboxError(
                400,
                error_body(
                    400,
                    "invalid_request",
                    'Expected a JSON body {"action": "<action>"} (optionally "reason", the '
                    "result's rejection_reason); actions: " + ", ".join(CONTROL_ACTIONS) + ".",
                ),
            )
        session = engine.get(session_id)
        client = request.client.host if request.client else None
        result = await engine.control(
            session, control.action, rejection_reason=control.reason, consent_ip=client
        )
        return JSONResponse(
            {"session_id": session.id, "status": session.status, "webhook": result.to_json()}
        )

    @app.get("/sandbox-settings")
    async def get_settings() -> JSONResponse:
        return JSONResponse(_settings_json(engine))

    @app.post("/sandbox-settings")
    async def set_settings(request: Request) -> JSONResponse:
        """How the following webhooks are signed and shaped, and the optional rate limit."""
        body = await json_object_posted(request)
        choices = {
            "signature_format": SIGNATURE_FORMATS,
            "payload_shape": PAYLOAD_SHAPES,
            "payload_inflection": INFLECTIONS,
        }
        if not isinstance(body, dict) or not body:
            raise SandboxError(400, error_body(400, "invalid_request", _settings_help(choices)))
        for name, value in body.items():
            if name in choices:
                if value not in choices[name]:
                    raise SandboxError(
                        400, error_body(400, "invalid_request", _settings_help(choices))
                    )
            elif name == "rate_limit_per_minute":
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 1
                ):
                    raise SandboxError(
                        400,
                        error_body(
                            400,
                            "invalid_request",
                            "rate_limit_per_minute: a positive integer, or null for none.",
                        ),
                    )
            else:
                raise SandboxError(400, error_body(400, "invalid_request", _settings_help(choices)))
        settings = engine.store.settings
        for name in choices:
            if name in body:
                setattr(settings, name, body[name])
        if "rate_limit_per_minute" in body:
            engine.store.rate_limit_per_minute = body["rate_limit_per_minute"]
        engine.store.save()
        return JSONResponse(_settings_json(engine))


def _settings_json(engine: VerifaEmulator) -> dict[str, Any]:
    return {
        **asdict(engine.store.settings),
        "rate_limit_per_minute": engine.store.rate_limit_per_minute,
    }


def _settings_help(choices: dict[str, tuple[str, ...]]) -> str:
    parts = [f"{name}: {'|'.join(values)}" for name, values in choices.items()]
    return "Settings are " + "; ".join(parts) + "; rate_limit_per_minute: integer|null."


async def read_json(request: Request) -> Any:
    """A JSON body, or {} when there is none; 400 for anything that is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise SandboxError(
            400, error_body(400, "invalid_json", "The request body is not valid JSON.")
        ) from None


def _int_param(params: Any, name: str, default: int, *, minimum: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed([(name, "Must be an integer.")]) from None
    if number < minimum:
        raise ValidationFailed([(name, f"Must be at least {minimum}.")])
    return number


class RateLimit:
    """Verifa's per-minute request limit on `/api/v1`, when switched on in
    the sandbox settings: `X-RateLimit-*` headers on every answer, 429 + `Retry-After` past
    the limit. Fixed one-minute windows on the sandbox clock."""

    def __init__(self, app: ASGIApp, engine: VerifaEmulator) -> None:
        self.app = app
        self.engine = engine
        self._window: int | None = None
        self._count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.engine.store.rate_limit_per_minute
        if scope["type"] != "http" or limit is None or not scope["path"].startswith(API + "/"):
            await self.app(scope, receive, send)
            return
        now = self.engine.now().timestamp()
        window = math.floor(now / 60)
        if window != self._window:
            self._window, self._count = window, 0
        self._count += 1
        reset = (window + 1) * 60
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - self._count)),
            "X-RateLimit-Reset": str(reset),
        }
        if self._count > limit:
            wait = max(1, math.ceil(reset - now))
            body = error_body(
                429, "rate_limited", f"Rate limit exceeded. Retry after {wait} seconds."
            )
            response = JSONResponse(
                body, status_code=429, headers={**headers, "Retry-After": str(wait)}
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    *((k.lower().encode(), v.encode()) for k, v in headers.items()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
