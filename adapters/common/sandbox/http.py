"""HTTP plumbing shared by the vendor emulators' APIs: the one `SandboxError` (each sandbox
keeps its routes and its vendor's error bodies) and its default answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

JSON = dict[str, Any]


class SandboxError(Exception):
    """A refusal the HTTP layer turns into a response (`body` is the JSON to send, in the
    vendor's error shape; None for an empty body)."""

    def __init__(
        self, status_code: int, body: JSON | None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(body)
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}


def sandbox_error_response(error: SandboxError) -> Response:
    if error.body is None:
        return Response(status_code=error.status_code, headers=error.headers)
    return JSONResponse(error.body, status_code=error.status_code, headers=error.headers)


def answer_sandbox_errors(app: FastAPI) -> None:
    """Answer a `SandboxError` with its body as it is; an emulator whose vendor dresses its
    errors further (inflection, framework envelopes) registers its own handler after this."""

    @app.exception_handler(SandboxError)
    async def sandbox_error(_: Request, exc: SandboxError) -> Response:
        return sandbox_error_response(exc)


#: (status, code, message) → the vendor's error body.
ErrorBody = Callable[[int, str, str], JSON]


def answer_routing_errors(
    app: FastAPI, body: ErrorBody, *, not_allowed: str, not_found: str
) -> None:
    """Starlette's own refusals (no route: 404, wrong method: 405) in the vendor's error shape,
    with the vendor's texts; `not_allowed` may name the `{method}`."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            code, message = "method_not_allowed", not_allowed.format(method=request.method)
        elif exc.status_code == 404:
            code, message = "not_found", not_found
        else:
            code, message = "error", str(exc.detail)
        error = body(exc.status_code, code, message)
        return JSONResponse(error, status_code=exc.status_code, headers=exc.headers)


async def json_object_posted(request: Request) -> JSON | None:
    """The request's body if it is a JSON object, else None (e.g. a control endpoint's
    `{"action": …}` that is missing or malformed)."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def one_of(name: str, value: object, choices: tuple[object, ...]) -> None:
    """ValueError unless `value` is one of `choices` (an emulator option or setting)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}")
