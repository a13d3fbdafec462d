"""uqudo's HTTP and websocket surface, as the emulator serves it (docs/vendors/uqudo.md, What
the sandbox emulates), plus the sandbox control endpoint.

| route | uqudo page | auth |
|---|---|---|
| `POST /api/oauth/token` (form: grant_type, client_id, client_secret) | authorisation | client |
| `GET /api/.well-known/jwks.json` | validation-and-parsing | none |
| `POST /api/v1/session` `{"data": "<base64 JSON>"}` | create-a-session | Bearer |
| `GET /api/v1/session/{qrCodeText}` (or as `Authorization`) | scan-the-qr-code | `qrCodeText` |
| `DELETE /api/v1/session/{qrCodeText}` | scan-the-qr-code | Bearer |
| `WS /ws/v1/session` (first frame: `qrCodeText`) | javascript-component | `qrCodeText` |
| `GET / DELETE /api/v1/info/{sessionId}`, `GET /api/v1/info/img/{imageId}` | info | Bearer |
| `POST /sessions/{sessionId}/simulate` (sandbox control, not uqudo's) | — | none |
| `POST /sdk-sessions/simulate` (sandbox control: a session the SDK ran elsewhere) | — | none |
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import uuid
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocketDisconnect

from adapters.common.sandbox.control import posted_control
from adapters.common.sandbox.http import SandboxError
from adapters.uqudo.sandbox.engine import Item, UqudoEmulator, control_actions_text
from adapters.uqudo.sandbox.model import (
    INFO_PATH,
    JWKS_PATH,
    SDK_ACTIONS,
    SDK_SESSIONS_PATH,
    SESSION_PATH,
    TOKEN_PATH,
    WS_AUTH_TIMEOUT_S,
    WS_CLOSE_UNAUTHORIZED,
    WS_PATH,
    WS_REASON_UNAUTHORIZED,
    BadSessionData,
    parse_session_data,
    sdk_plan,
)
from adapters.uqudo.sandbox.payloads import (
    NOT_FOUND_TEXT,
    error_body,
    oauth_error,
    scan_body,
    session_body,
    spring_error,
)

#: A waiting socket re-checks expiry this often (real seconds; the sandbox clock may be fake).
SWEEP_INTERVAL_S = 1.0
#: RFC 6749 section 5.1: token answers must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def install_api(app: FastAPI, engine: UqudoEmulator) -> None:
    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> Response:
        if exc.body is None:
            return Response(status_code=exc.status_code, headers=exc.headers)
        body = exc.body
        if "message" in body:  # not an OAuth error: the full Spring Boot body
            body = spring_error(body, path=request.url.path, now=engine.now())
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        body = spring_error(
            error_body(exc.status_code, message), path=request.url.path, now=engine.now()
        )
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    # -- auth -----------------------------------------------------------------------------
    @app.post(TOKEN_PATH)
    async def token(request: Request) -> JSONResponse:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            raise SandboxError(
                400,
                oauth_error(
                    "invalid_request",
                    "The token request must be application/x-www-form-urlencoded",
                ),
            )
        form = parse_qs((await request.body()).decode("utf-8", "replace"))

        def field(name: str) -> str:
            return (form.get(name) or [""])[0]

        client_id, client_secret = field("client_id"), field("client_secret")
        if not client_id and not client_secret:
            # RFC 6749 section 2.3.1 HTTP Basic, the other standard form (inferred: uqudo
            # documents the body parameters only).
            client_id, client_secret = _basic(request.headers.get("authorization"))
        grant_type = field("grant_type") or None
        body = engine.issue_token(grant_type, client_id, client_secret)
        return JSONResponse(body, headers=NO_STORE)

    @app.get(JWKS_PATH)
    async def jwks() -> JSONResponse:
        return JSONResponse(engine.store.key.jwks())

    # -- QR sessions ----------------------------------------------------------------------
    @app.post(SESSION_PATH)
    async def create_session(request: Request) -> JSONResponse:
        engine.sweep()
        engine.check_bearer(request.headers.get("authorization"))
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, str) or not data.strip():
            raise SandboxError(
                400, error_body(400, "data: required, the Base64-encoded JSON instructions")
            )
        try:
            plan = parse_session_data(data)
        except BadSessionData as exc:
            raise SandboxError(400, error_body(400, f"data: {exc}")) from None
        session = engine.create(plan, data)
        return JSONResponse(session_body(session, engine.dynamic_link(session)))

    @app.get(SESSION_PATH)
    async def scan_by_header(request: Request) -> JSONResponse:
        """The reader app's scan with the `qrCodeText` as the Authorization header."""
        return _scanned(engine, request.headers.get("authorization") or "")

    @app.get(SESSION_PATH + "/{qr_code_text}")
    async def scan(qr_code_text: str) -> JSONResponse:
        """The reader app's scan with the `qrCodeText` as a path variable."""
        return _scanned(engine, qr_code_text)

    @app.delete(SESSION_PATH + "/{qr_code_text}")
    async def delete_session(qr_code_text: str, request: Request) -> Response:
        """Delete the QR session at once (uqudo would 30 minutes after its creation)."""
        engine.check_bearer(request.headers.get("authorization"))
        engine.delete_qr(qr_code_text)
        return Response(status_code=204)

    # -- Info API -------------------------------------------------------------------------
    @app.get(INFO_PATH + "/img/{image_id}")
    async def info_image(image_id: str, request: Request) -> Response:
        engine.check_bearer(request.headers.get("authorization"))
        return _stored(engine.image(image_id), "image/jpeg")

    @app.get(INFO_PATH + "/{session_id}")
    async def info(session_id: str, request: Request) -> Response:
        engine.check_bearer(request.headers.get("authorization"))
        _check_uuid(session_id)
        return _stored(engine.info(session_id), "application/jwt")

    @app.delete(INFO_PATH + "/{session_id}")
    async def delete_info(session_id: str, request: Request) -> Response:
        engine.check_bearer(request.headers.get("authorization"))
        _check_uuid(session_id)
        engine.delete_info(session_id)
        return Response(status_code=204)

    # -- the progress websocket -----------------------------------------------------------
    @app.websocket(WS_PATH)
    async def session_socket(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await _serve_socket(websocket, engine)

    # -- sandbox control (not a uqudo endpoint) ---------------------------------------------
    @app.post("/sessions/{session_id}/simulate")
    async def simulate(session_id: str, request: Request) -> JSONResponse:
        """Play the person's / uqudo's part: {"action": "open"|"submit"|"approve"|…}; a
        decline or review may name its failing signal: {"action": "decline", "reason": R}."""
        engine.sweep()
        control = await posted_control(request)
        if control is None:
            raise SandboxError(
                400,
                error_body(
                    400,
                    'Expected a JSON body {"action": "<action>"}; actions: '
                    f"{control_actions_text()}.",
                ),
            )
        session = engine.get(session_id)
        result = await engine.act(session, control.action, control.reason)
        return JSONResponse(
            {
                "session_id": session.id,
                "status": session.status.value,
                "milestones": list(session.milestones),
                "webhook": result.to_json(),
            }
        )

    @app.post(SDK_SESSIONS_PATH)
    async def sdk_session(request: Request) -> JSONResponse:
        """A session uqudo's SDK (or Hosted KYC) ran outside the gateway, finished:
        {"action": "approve"|"decline"|"review"|"documented_example", "reason"?, and the SDK's
        configuration: "document_type"?, "face"?, "reading"?, "background_check"?,
        "user_identifier"?}. Answers its new session id and the webhook's first attempt."""
        engine.sweep()
        control = await posted_control(request)
        if control is None:
            raise SandboxError(
                400,
                error_body(
                    400,
                    'Expected a JSON body {"action": "<outcome>"}; outcomes: '
                    f"{', '.join(SDK_ACTIONS)}.",
                ),
            )
        try:
            plan = sdk_plan(json.loads(await request.body()))
        except BadSessionData as exc:
            raise SandboxError(400, error_body(400, str(exc))) from None
        session, result = await engine.sdk_session(plan, control.action, control.reason)
        return JSONResponse(
            {
                "session_id": session.id,
                "origin": session.origin,
                "status": session.status.value,
                "webhook": result.to_json(),
            }
        )


async def _serve_socket(websocket: WebSocket, engine: UqudoEmulator) -> None:
    """`socket.send(qrCodeText)` authenticates the channel; then the milestones already
    reached, then live ones; the server closes after INFO (or when the session expires)."""
    try:
        first = await asyncio.wait_for(websocket.receive(), WS_AUTH_TIMEOUT_S)
    except TimeoutError:
        await websocket.close(WS_CLOSE_UNAUTHORIZED, WS_REASON_UNAUTHORIZED)
        return
    if first["type"] == "websocket.disconnect":
        return
    text = first.get("text")
    if text is None and first.get("bytes") is not None:
        text = first["bytes"].decode("utf-8", "replace")
    subscription = engine.subscribe(text) if text else None
    if subscription is None:
        await websocket.close(WS_CLOSE_UNAUTHORIZED, WS_REASON_UNAUTHORIZED)
        return
    session, backlog, queue = subscription
    try:
        for message in backlog:
            await websocket.send_text(message)
        if queue is None:
            await websocket.close(1000, engine.close_reason(session))
            return
        await _pump(websocket, engine, queue)
    finally:
        if queue is not None:
            engine.unsubscribe(session.id, queue)


async def _pump(websocket: WebSocket, engine: UqudoEmulator, queue: asyncio.Queue[Item]) -> None:
    """Forward live items until a close item or the client leaves; client frames are ignored."""
    receiver: asyncio.Future[Any] = asyncio.ensure_future(websocket.receive())
    getter: asyncio.Future[Item] | None = None
    try:
        while True:
            if getter is None:
                getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                {getter, receiver}, timeout=SWEEP_INTERVAL_S, return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                item, getter = getter.result(), None
                if item[0] == "message":
                    await websocket.send_text(item[1])
                else:
                    await websocket.close(item[1], item[2])
                    return
            if receiver in done:
                if receiver.result()["type"] == "websocket.disconnect":
                    return
                receiver = asyncio.ensure_future(websocket.receive())
            if not done:
                engine.sweep()
    finally:
        for pending in (receiver, getter):
            if pending is not None and not pending.done():
                pending.cancel()


def _scanned(engine: UqudoEmulator, qr_code_text: str) -> JSONResponse:
    """`{sessionId, token, data}`: what the reader app starts the SDK with (404 once the QR
    session is deleted or expired)."""
    session = engine.scan(qr_code_text.strip())
    return JSONResponse(
        scan_body(session, engine.sdk_token()), headers={"Cache-Control": "no-store"}
    )


def _stored(content: str | bytes | None, media_type: str) -> Response:
    """An Info API read: uqudo's 404 when nothing is stored, and never cached when something is."""
    if content is None:
        raise SandboxError(404, error_body(404, NOT_FOUND_TEXT))
    return Response(content, media_type=media_type, headers={"Cache-Control": "no-store"})


def _check_uuid(value: str) -> None:
    """The Info API's `sessionId` has a UUID pattern; a mismatch is its documented 400."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise SandboxError(400, error_body(400, "sessionId: must be a UUID")) from None


def _basic(authorization: str | None) -> tuple[str, str]:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret
