"""`/console`, `/insights` and their local assets under `/static` (no asset from the internet).

The console is a static page whose script talks to `/graphql` (fetch for queries and
mutations, graphql-transport-ws through the bundled `graphql-ws` client for the live
timeline). Insights renders `provider_stats` as inline SVG on the server, every text escaped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from html import escape
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

from gateway.auth import Authenticator, Scope
from gateway.sessions.service import SessionService
from gateway.settings import Settings
from gateway.web.pages.charts import (
    check_failure_chart,
    decision_time_chart,
    duration_text,
    funnel_chart,
    outcome_chart,
    vendor_label,
)
from gateway.web.pages.headers import PAGE_HEADERS
from gateway.web.pages.qr import QrRenderer, read_text
from gateway.web.pages.signin import InsightsSignIn, same_origin, sign_in_page, sign_out_form

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".md": "text/markdown; charset=utf-8",
}
DEFAULT_DAYS = 30
BEARER_CHALLENGE = {"www-authenticate": "Bearer"}

FIGURE_COLUMNS = (
    "vendor",
    "created",
    "in progress",
    "final",
    "approval",
    "median decision",
    "p90 decision",
)


def pages_router(
    service: SessionService, auth: Authenticator, settings: Settings | None = None
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    # Only the files shipped here, looked up by name: no path from the URL reaches the disk.
    static_files = {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}

    @router.get("/static/{name:path}")
    async def static(name: str) -> FileResponse:
        path = static_files.get(name)
        if path is None:
            raise HTTPException(404)
        return FileResponse(
            path,
            media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
            headers={"x-content-type-options": "nosniff", "cache-control": "max-age=300"},
        )

    @router.get("/console")
    async def console() -> HTMLResponse:
        return HTMLResponse((TEMPLATES / "console.html").read_text(), headers=PAGE_HEADERS)

    qr = QrRenderer()

    @router.post("/console/qr")
    async def console_qr(request: Request) -> JSONResponse:
        """A QR code (PNG data URL) of a link, for vendors whose session has none.

        The console sends its API key like its GraphQL calls do; in dev mode anyone may."""
        principal = auth.from_headers(request.headers)
        if not principal.authenticated:
            raise HTTPException(
                401, "send an API key (Authorization: Bearer <key>)", BEARER_CHALLENGE
            )
        if not (principal.has(Scope.SESSIONS_READ) or principal.has(Scope.SESSIONS_WRITE)):
            raise HTTPException(403, "this credential lacks the sessions:read scope")
        text = await read_text(request)
        return JSONResponse(
            {"dataUrl": await qr.data_url(text)}, headers={"cache-control": "no-store"}
        )

    signin = InsightsSignIn(
        auth,
        settings.api_keys if settings else [],
        settings.client_token_secret.get_secret_value()
        if settings and settings.client_token_secret
        else None,
        settings.public_url if settings else None,
    )

    def form(error: str, status: int) -> HTMLResponse:
        headers = {**PAGE_HEADERS, "cache-control": "no-store"}
        return HTMLResponse(sign_in_page(error), status_code=status, headers=headers)

    @router.get("/insights")
    async def insights(request: Request) -> HTMLResponse:
        """A key in the headers (scripts, curl) or the sign-in cookie (browsers); else the form."""
        principal = auth.from_headers(request.headers)
        by_cookie = not principal.has(Scope.STATS_READ) and signin.signed_in(request) is not None
        if not (principal.has(Scope.STATS_READ) or by_cookie):
            return form("", 401)
        try:
            start, end = period(request.query_params.get("from"), request.query_params.get("to"))
        except ValueError as error:
            raise HTTPException(400, str(error)) from error
        from gateway.sessions.stats import GroupBy

        rows = await service.stats(start, end, [GroupBy.PROVIDER])
        page = render_insights(rows, start, end, sign_out_form() if by_cookie else "")
        return HTMLResponse(page, headers={**PAGE_HEADERS, "cache-control": "no-store"})

    @router.post("/insights/sign-in")
    async def sign_in(request: Request) -> Response:
        if not same_origin(request):
            return PlainTextResponse("sign in from this gateway's own page", status_code=403)
        try:
            key = await signin.key_from_form(request)
        except ValueError:
            return form("That form was too large.", 413)
        name, status, error = signin.check_key(key)
        if name is None:
            return form(error, status)
        response = RedirectResponse("/insights", status_code=303)
        signin.set_cookie(response, request, name)
        return response

    @router.post("/insights/sign-out")
    async def sign_out(request: Request) -> Response:
        if not same_origin(request):
            return PlainTextResponse("sign out from this gateway's own page", status_code=403)
        response = RedirectResponse("/insights", status_code=303)
        signin.clear_cookie(response, request)
        return response

    return router


def _parse(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: expected a date (YYYY-MM-DD) or an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def period(start_text: str | None, end_text: str | None) -> tuple[datetime, datetime]:
    """`[from, to)`; a bare `to` date includes that whole day; default: the last 30 days."""
    end = _parse(end_text, "to")
    if end is not None and end_text and len(end_text) == 10:
        end += timedelta(days=1)
    end = end or datetime.now(UTC)
    start = _parse(start_text, "from") or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValueError("from must be before to")
    return start, end


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def render_insights(  # type: ignore[type-arg]
    rows: list, start: datetime, end: datetime, sign_out: str = ""
) -> str:
    shown_end = end - timedelta(microseconds=1)
    if rows:
        charts = (
            f'<section class="card"><h2>Funnel</h2>{funnel_chart(rows)}</section>'
            f'<section class="card"><h2>Outcome mix</h2>{outcome_chart(rows)}</section>'
            f'<section class="card"><h2>Time to decision</h2>{decision_time_chart(rows)}</section>'
            '<section class="card"><h2>Check failure rate by vendor</h2>'
            f"{check_failure_chart(rows)}</section>"
        )
        # data-label: on a narrow screen each row becomes a labelled list (pages.css).
        table_rows = "".join(
            "<tr>"
            + "".join(
                f'<td data-label="{label}">{escape(str(value))}</td>'
                for label, value in zip(
                    FIGURE_COLUMNS,
                    (
                        vendor_label(r),
                        r.created,
                        r.reached_in_progress,
                        r.reached_final,
                        _pct(r.approval_rate),
                        duration_text(r.time_to_decision_median_s),
                        duration_text(r.time_to_decision_p90_s),
                    ),
                    strict=True,
                )
            )
            + "</tr>"
            for r in rows
        )
        table = (
            '<section class="card"><h2>Figures</h2><table id="figures"><tr>'
            + "".join(f"<th>{label}</th>" for label in FIGURE_COLUMNS)
            + f"</tr>{table_rows}</table></section>"
        )
    else:
        charts, table = (
            '<section class="card"><p id="empty">No sessions in this period.</p></section>',
            "",
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kyc-gateway insights</title><link rel="stylesheet" href="/static/pages.css"></head>
<body><header><h1>kyc-gateway insights</h1><nav><a href="/console">Console</a>
<a href="/insights">Insights</a> <a href="/graphql">GraphiQL</a></nav>{sign_out}</header>
<main><section class="card period"><form method="get" action="/insights">
<label>From <input type="date" name="from" value="{escape(start.date().isoformat())}"></label>
<label>To <input type="date" name="to" value="{escape(shown_end.date().isoformat())}"></label>
<button type="submit">Show</button></form>
<p class="muted">Sessions created from {escape(start.isoformat(timespec="seconds"))}
to {escape(end.isoformat(timespec="seconds"))} (UTC).</p></section>
<div class="charts">{charts}</div>{table}</main></body></html>
"""
