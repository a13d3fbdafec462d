"""HTTP face of the UIP emulator: the documented business API (docs/vendors/uip.md, Endpoints
we call) with UIP's manners (Bearer key, `Idempotency-Key` on create, `{error, code}` errors),
and the sandbox control endpoints (`POST /sessions/{id}/simulate`,
`GET|POST /sandbox-settings`), which are not UIP's and need no key, like every vendor sandbox
of the gateway.

Routes are at the app's root (`/v1/sessions…`); the gateway mounts the app at /sandbox/uip.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.common.sandbox.control import posted_control
from adapters.common.sandbox.http import SandboxError
from adapters.common.sandbox.webhooks import DeliveryResult
from adapters.results import REASON_CODES
from adapters.uip.sandbox.engine import UipEmulator, control_actions_text
from adapters.uip.sandbox.model import (
    DECLINE_REASONS,
    IDEMPOTENCY_KEY_MAX,
    JSON_BODY_MAX,
    MAX_STEPS,
    SIGN_MAX_FILES,
    FailReason,
    SandboxSession,
)
from adapters.uip.sandbox.payloads import (
    JSON,
    audit_body,
    continue_body,
    create_body,
    error_body,
    get_body_a,
    get_body_b,
    stop_body,
)
from adapters.uip.sandbox.store import SandboxSettings
from adapters.uip.sandbox.validation import InvalidRequest, Upload, form_body, validate_create

API = "/v1"
MISSING_KEY = error_body("Missing API key", "auth/missing-api-key")
INVALID_KEY = error_body("Invalid API key", "auth/invalid-api-key")
#: A simulated verification failure's reason: free text, bounded [INFERRED].
REASON_MAX = 200


def install_api(app: FastAPI, engine: UipEmulator, api_key: str) -> None:
    """Register the vendor API and the control endpoints on `app` (routes at its root)."""

    def authenticate(request: Request) -> None:
        """`Authorization: Bearer <key>` (api-reference/introduction); 401 otherwise."""
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise SandboxError(401, MISSING_KEY)
        if not hmac.compare_digest(token.encode(), api_key.encode()):
            raise SandboxError(401, INVALID_KEY)

    @app.exception_handler(InvalidRequest)
    async def invalid_request(request: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse(error_body(exc.message, "request/invalid-payload"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            body = error_body(
                f"No route for {request.method} {request.url.path}", "request/invalid-path"
            )
        elif exc.status_code == 400:  # e.g. an unreadable multipart body
            body = error_body(str(exc.detail), "request/invalid-payload")
        else:
            body = error_body(str(exc.detail), "internal/server-error")
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    # -- sessions -------------------------------------------------------------------------
    @app.post(f"{API}/sessions")
    async def create_session(request: Request) -> JSONResponse:
        authenticate(request)
        key = request.headers.get("idempotency-key")
        if key is not None and not 0 < len(key.strip()) <= IDEMPOTENCY_KEY_MAX:
            raise InvalidRequest(f"Idempotency-Key: must be 1 to {IDEMPOTENCY_KEY_MAX} characters.")
        clean = validate_create(*await read_create(request))
        if key is not None:
            earlier = engine.replay(key, clean)
            if earlier is not None:  # "returns the original session"
                return JSONResponse(create_body(earlier, engine.page_url(earlier)), 201)
        session = engine.create(clean)
        if key is not None:
            engine.remember(key, clean, session)
        return JSONResponse(create_body(session, engine.page_url(session)), 201)

    @app.get(API + "/sessions/{session_id}")
    async def get_session(session_id: str, request: Request) -> JSONResponse:
        authenticate(request)
        session = engine.get(session_id)
        shape = get_body_b if engine.settings.get_shape == "b" else get_body_a
        return JSONResponse(shape(session))

    async def at_gate(
        session_id: str,
        request: Request,
        act: Callable[[SandboxSession], Awaitable[DeliveryResult]],
        body: Callable[[SandboxSession], JSON],
    ) -> JSONResponse:
        """continue and stop: "No body" (whatever is sent is ignored), the gate's answer back."""
        authenticate(request)
        session = engine.get(session_id)
        await act(session)
        return JSONResponse(body(session))

    @app.post(API + "/sessions/{session_id}/continue")
    async def continue_session(session_id: str, request: Request) -> JSONResponse:
        return await at_gate(session_id, request, engine.continue_, continue_body)

    @app.post(API + "/sessions/{session_id}/stop")
    async def stop_session(session_id: str, request: Request) -> JSONResponse:
        return await at_gate(session_id, request, engine.stop, stop_body)

    @app.get(API + "/audits/{audit_id}")
    async def get_audit(audit_id: str, request: Request) -> JSONResponse:
        authenticate(request)
        session, result = engine.audit(audit_id)
        return JSONResponse(audit_body(session, result))

    # -- sandbox control (not UIP endpoints) ---------------------------------------------------
    @app.post("/sessions/{session_id}/simulate")
    async def simulate(session_id: str, request: Request) -> JSONResponse:
        """Play the person's / UIP's part: {"action": "open"|"submit"|…, "reason"?}."""
        control = await posted_control(request)
        if control is None:
            raise SandboxError(
                400,
                error_body(
                    'Expected a JSON body {"action": "<action>"} (decline and fail take an '
                    'optional "reason"); actions: ' + control_actions_text() + ".",
                    "request/invalid-payload",
                ),
            )
        _check_reason(control.action, control.reason)
        session = engine.get(session_id)
        result = await engine.control(session, control.action, reason=control.reason)
        return JSONResponse(
            {"session_id": session.id, "status": session.status, "webhook": result.to_json()}
        )

    @app.get("/sandbox-settings")
    async def get_settings() -> JSONResponse:
        return JSONResponse(asdict(engine.settings))

    @app.post("/sandbox-settings")
    async def set_settings(request: Request) -> JSONResponse:
        """Which GET shape is served, the gate error status, and the business balance."""
        body = _json_or_none(await request.body())
        names = {f.name for f in fields(SandboxSettings)}
        if not isinstance(body, dict) or not body or set(body) - names:
            raise SandboxError(400, error_body(_settings_help(), "request/invalid-payload"))
        candidate = SandboxSettings(**{**asdict(engine.settings), **body})
        try:
            candidate.check()
        except ValueError:
            raise SandboxError(
                400, error_body(_settings_help(), "request/invalid-payload")
            ) from None
        engine.settings.__dict__.update(asdict(candidate))
        engine.store.save()
        return JSONResponse(asdict(engine.settings))


async def read_create(request: Request) -> tuple[Any, list[Upload]]:
    """The create body: JSON, or multipart/form-data when a sign step carries files."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=SIGN_MAX_FILES * MAX_STEPS, max_fields=100)
        text: dict[str, str] = {}
        uploads: list[Upload] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads.append(await _digest_upload(name, value))
            elif name in text:
                raise InvalidRequest(f"{name[:40]}: given more than once.")
            else:
                text[name] = value
        return form_body(text), uploads
    raw = await request.body()
    if len(raw) > JSON_BODY_MAX:
        raise InvalidRequest("The request body is too large.")
    body = _json_or_none(raw)
    if body is None:
        raise InvalidRequest("The request body must be a JSON object.")
    return body, []


async def _digest_upload(part: str, upload: UploadFile) -> Upload:
    digest, size = hashlib.sha256(), 0
    while chunk := await upload.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    await upload.close()
    return Upload(part, upload.filename or "", digest.hexdigest(), size)


def _check_reason(action: str, reason: Any) -> None:
    if reason is None:
        return
    if action == "fail" and not (isinstance(reason, str) and reason in set(FailReason)):
        raise SandboxError(
            400,
            error_body(
                "reason: fail takes " + " or ".join(FailReason) + ".", "request/invalid-payload"
            ),
        )
    if action == "decline" and (
        not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX
    ):
        raise SandboxError(
            400,
            error_body(
                f"reason: a verification error message of at most {REASON_MAX} characters.",
                "request/invalid-payload",
            ),
        )
    if action == "decline" and reason in REASON_CODES and reason not in DECLINE_REASONS:
        raise SandboxError(
            400,
            error_body(
                f"reason: UIP cannot decline with '{reason}'; normalized reasons it can: "
                + ", ".join(sorted(DECLINE_REASONS))
                + " (or a verification error message; fail takes the technical ones).",
                "request/invalid-payload",
            ),
        )
    if action not in ("fail", "decline"):
        raise SandboxError(
            400, error_body(f"reason: '{action[:40]}' takes no reason.", "request/invalid-payload")
        )


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _settings_help() -> str:
    return "Settings are get_shape: a|b; gate_error_status: 409|400; funds_exhausted: true|false."
