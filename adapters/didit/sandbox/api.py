"""HTTP face of the Didit emulator: the documented `/v3` session API, the health check, the
sandbox control endpoint, and Django REST Framework's manners (trailing-slash 301s, 403 for
any key problem, `{"detail": ...}` errors)."""

from __future__ import annotations

import hmac
import json
from datetime import UTC
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.common.sandbox.control import posted_control
from adapters.common.sandbox.http import SandboxError, answer_routing_errors, json_object_posted
from adapters.didit.sandbox.engine import DiditEmulator
from adapters.didit.sandbox.model import REPORT_STATUSES
from adapters.didit.sandbox.payloads import (
    create_response,
    delete_response,
    list_row,
    report_filename,
    report_pdf,
)
from adapters.didit.sandbox.validation import FieldErrors, validate_create, validate_update_status

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
DEFAULT_PAGE_SIZE = 50  # list-sessions: "Defaults to 50"
MAX_PAGE_SIZE = 100


class AppendSlash:
    """Django's APPEND_SLASH: a path that only exists with a trailing slash answers 301 to it,
    before authentication (so a client that follows it loses its key, like on Didit)."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not path.endswith("/") and self._only_slashed(scope):
            query = scope.get("query_string", b"").decode("latin-1")
            location = path + "/" + (f"?{query}" if query else "")
            await Response(status_code=301, headers={"location": location})(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _only_slashed(self, scope: Scope) -> bool:
        def matches(candidate: Scope) -> bool:
            return any(r.matches(candidate)[0] != Match.NONE for r in self.router.routes)

        return not matches(scope) and matches({**scope, "path": scope["path"] + "/"})


def install_api(app: FastAPI, engine: DiditEmulator, api_key: str) -> None:
    """Register the vendor API and the control endpoint on `app` (routes at its root)."""

    def authorize(request: Request) -> None:
        sent = request.headers.get("x-api-key", "")
        if not hmac.compare_digest(sent.encode(), api_key.encode()):
            raise SandboxError(403, FORBIDDEN)

    @app.exception_handler(FieldErrors)
    async def field_errors(_: Request, exc: FieldErrors) -> JSONResponse:
        return JSONResponse(exc.errors, status_code=400)

    answer_routing_errors(
        app,
        lambda _status, _code, message: {"detail": message},
        not_allowed='Method "{method}" not allowed.',
        not_found="Not found.",
    )

    @app.get("/system/healthcheck")
    async def healthcheck() -> JSONResponse:
        stamp = engine.now().astimezone(UTC).isoformat(timespec="milliseconds")
        return JSONResponse({"status": "ok", "timestamp": stamp.replace("+00:00", "Z")})

    @app.post("/v3/session/")
    async def create_session(request: Request) -> JSONResponse:
        authorize(request)
        clean = validate_create(await read_json(request))
        session = engine.create(clean)
        return JSONResponse(create_response(session, engine.hosted_url(session)), status_code=201)

    @app.get("/v3/session/{session_id}/decision/")
    async def get_decision(session_id: str, request: Request) -> JSONResponse:
        authorize(request)
        return JSONResponse(engine.decision(engine.get(session_id)))

    @app.patch("/v3/session/{session_id}/update-status/")
    async def update_status(session_id: str, request: Request) -> JSONResponse:
        authorize(request)
        session = engine.get(session_id)
        clean = validate_update_status(await read_json(request))
        await engine.update_status(session, clean)
        return JSONResponse({"session_id": session.session_id})

    @app.get("/v3/session/{session_id}/generate-pdf/")
    async def generate_pdf(session_id: str, request: Request) -> Response:
        """A report for a session with a final or reviewable status, re-rendered on every
        call; any other status is a 403 with a `detail` (generate-pdf, Eligible statuses)."""
        authorize(request)
        session = engine.get(session_id)
        if session.status_enum not in REPORT_STATUSES:
            raise SandboxError(
                403,
                {
                    "detail": f"A PDF report cannot be generated for a session in status "
                    f"'{session.status}'."
                },
            )
        return Response(
            report_pdf(session),
            media_type="application/pdf",
            headers={"content-disposition": f"attachment; filename={report_filename(session)}"},
        )

    @app.delete("/v3/session/{session_id}/delete/")
    async def delete_session(session_id: str, request: Request) -> JSONResponse:
        authorize(request)
        session = engine.get(session_id)
        if await request.body():
            await read_json(request)  # a body is optional, but must be JSON when present
        engine.delete(session)
        return JSONResponse(delete_response(session))

    @app.get("/v3/sessions/")
    async def list_sessions(request: Request) -> JSONResponse:
        authorize(request)
        params = request.query_params
        rows = sorted(engine.store, key=lambda s: -s.session_number)
        if params.get("session_kind", "user") == "business":
            rows = []  # the sandbox application has no KYB workflow
        for key in ("status", "vendor_data", "workflow_id"):
            if params.get(key):
                rows = [s for s in rows if getattr(s, key) == params[key]]
        limit = min(
            _positive_int(params.get("limit"), DEFAULT_PAGE_SIZE, strict=True), MAX_PAGE_SIZE
        )
        offset = _positive_int(params.get("offset"), 0)
        url = request.url
        next_url = (
            str(url.include_query_params(limit=limit, offset=offset + limit))
            if offset + limit < len(rows)
            else None
        )
        if offset <= 0:
            previous_url = None
        elif offset - limit <= 0:
            previous_url = str(url.include_query_params(limit=limit).remove_query_params("offset"))
        else:
            previous_url = str(url.include_query_params(limit=limit, offset=offset - limit))
        return JSONResponse(
            {
                "count": len(rows),
                "next": next_url,
                "previous": previous_url,
                "results": [list_row(s) for s in rows[offset : offset + limit]],
            }
        )

    @app.post("/sessions/{session_id}/simulate")
    async def simulate(session_id: str, request: Request) -> JSONResponse:
        """Sandbox control (not a Didit endpoint): play the user's / Didit's part."""
        control = await posted_control(request)
        if control is None:
            raise SandboxError(400, {"detail": 'Expected a JSON body {"action": "<action>"}.'})
        session = engine.get(session_id)
        result = await engine.simulate(session, control.action, control.reason)
        return JSONResponse(
            {
                "session_id": session.session_id,
                "status": session.status,
                "webhook": result.to_json(),
            }
        )

    @app.post("/sessions/{session_id}/redeliver")
    async def redeliver(session_id: str, request: Request) -> JSONResponse:
        """Sandbox control (Didit's console redelivery): send the session's event `index`
        (0 = its first, -1 = its latest) again, signed afresh."""
        body = await json_object_posted(request)
        index = body.get("index", -1) if isinstance(body, dict) else None
        if isinstance(index, bool) or not isinstance(index, int):
            raise SandboxError(400, {"detail": 'Expected a JSON body {"index": <int>}.'})
        session = engine.get(session_id)
        envelope, result = await engine.redeliver(session, index)
        return JSONResponse(
            {
                "session_id": session.session_id,
                "status": envelope["status"],
                "created_at": envelope["created_at"],
                "webhook": result.to_json(),
            }
        )


async def read_json(request: Request) -> Any:
    """DRF's JSONParser: 415 for another media type, 400 for bad JSON, {} for no body."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    raw = await request.body()
    if not raw:
        return {}
    if media != "application/json":
        raise SandboxError(415, {"detail": f'Unsupported media type "{media}" in request.'})
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise SandboxError(400, {"detail": f"JSON parse error - {exc}"}) from None


def _positive_int(value: str | None, default: int, *, strict: bool = False) -> int:
    """DRF LimitOffsetPagination: unparsable values fall back to the default."""
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    if number < 0 or (strict and number == 0):
        return default
    return number
