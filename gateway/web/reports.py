"""`GET /sessions/{id}/report.pdf`: the vendor's report of a session, for a backend.

The report holds the person's data (document images, extracted fields), so it needs an API
key with both `sessions:read` and `pii:read`; a client token — bound to one session, for its
browser — never reads it, even for its own session. The bytes are handed on as the vendor
rendered them, never stored, cached (`Cache-Control: no-store`) or logged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from adapters.base import ErrorCode
from gateway.auth import Authenticator, Denied, PrincipalKind, Scope, require
from gateway.errors import ServiceError
from gateway.sessions.service import SessionService

#: Both scopes a report needs: it reads the session and the person in it.
REPORT_SCOPES = (Scope.SESSIONS_READ, Scope.PII_READ)
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}

#: How each refusal is answered over HTTP.
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,  # e.g. the session was redacted
    ErrorCode.PROVIDER_REJECTED: 409,  # e.g. not in a status the vendor reports on
    ErrorCode.UNSUPPORTED_BY_PROVIDER: 501,  # the session's vendor renders no report
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.PROVIDER_UNAVAILABLE: 502,
}


def _refusal(
    code: ErrorCode,
    message: str,
    *,
    provider_code: str | None = None,
    retry_after: int | None = None,
) -> JSONResponse:
    headers = dict(NO_STORE)
    if code is ErrorCode.UNAUTHENTICATED:
        headers["www-authenticate"] = 'Bearer realm="kyc-gateway"'
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    error: dict[str, object] = {"code": code.value, "message": message}
    if provider_code:
        error["providerCode"] = provider_code
    return JSONResponse({"error": error}, status_code=HTTP_STATUS.get(code, 500), headers=headers)


def report_router(service: SessionService, auth: Authenticator) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/sessions/{session_id}/report.pdf")
    async def session_report(session_id: str, request: Request) -> Response:
        principal = auth.from_headers(request.headers)
        try:
            if principal.kind is PrincipalKind.CLIENT_TOKEN:
                raise Denied(ErrorCode.FORBIDDEN, "a client token may not read session reports")
            for scope in REPORT_SCOPES:
                require(principal, scope)
        except Denied as denied:
            return _refusal(denied.code, denied.message)
        try:
            report = await service.report(session_id)
        except ServiceError as error:
            problem = error.problems[0]
            return _refusal(
                problem.code,
                problem.message,
                provider_code=problem.provider_code,
                retry_after=problem.retry_after,
            )
        return Response(
            report.content,
            media_type=report.media_type,
            headers={
                **NO_STORE,
                "content-disposition": f'attachment; filename="session-{session_id}.pdf"',
                "x-content-type-options": "nosniff",
            },
        )

    return router
