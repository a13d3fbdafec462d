"""The emulated hosted flow (`/session/{token}`, `/{language}/session/{token}`).

One self-contained HTML page: the person "starts" the verification, then picks the outcome
Didit's checks would have produced. Like Didit, a finished flow sends the browser to the
session's `callback` with `verificationSessionId` and `status`.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.didit.sandbox_engine import DiditEmulator, SandboxError
from adapters.didit.sandbox_model import CALLBACK_STATUSES, LANGUAGES, SandboxSession, Status

_TEMPLATE = Template(
    (Path(__file__).parent / "templates" / "sandbox_page.html").read_text(encoding="utf-8")
)
#: Buttons the person gets, per status (the reviewer's choices are not on this page).
PAGE_ACTIONS: dict[Status, tuple[tuple[str, str], ...]] = {
    Status.NOT_STARTED: (("open", "Start verification"),),
    Status.RESUBMITTED: (("open", "Start verification"),),
    Status.IN_PROGRESS: (
        ("approve", "Approve"),
        ("decline", "Decline"),
        ("review", "Send to review"),
        ("abandon", "Abandon"),
    ),
}
#: The token is a capability: keep it out of caches and referrers.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
}


def install_page(app: FastAPI, engine: DiditEmulator) -> None:
    @app.get("/session/{token}")
    async def page(token: str) -> Response:
        return render(engine, token, None)

    @app.get("/{language}/session/{token}")
    async def page_in_language(language: str, token: str) -> Response:
        return render(engine, token, language)

    @app.post("/session/{token}/action")
    async def act(token: str, request: Request) -> Response:
        return await apply_action(engine, request, token, None)

    @app.post("/{language}/session/{token}/action")
    async def act_in_language(language: str, token: str, request: Request) -> Response:
        return await apply_action(engine, request, token, language)


def _find(engine: DiditEmulator, token: str, language: str | None) -> SandboxSession | None:
    if language is not None and language not in LANGUAGES:
        return None
    return engine.store.by_token(token)


def render(
    engine: DiditEmulator, token: str, language: str | None, *, error: str = "", code: int = 200
) -> Response:
    session = _find(engine, token, language)
    if session is None:
        return _html(
            "<p class='error'>This verification link is not valid (unknown session).</p>", 404
        )
    e = html.escape
    rows = [
        ("Session", f"#{session.session_number}"),
        ("Status", f"<span class='status'>{e(session.status)}</span>"),
        ("Vendor data", e(session.vendor_data) if session.vendor_data is not None else "&mdash;"),
        ("Metadata", f"<pre>{e(json.dumps(session.metadata, ensure_ascii=False, indent=1))}</pre>"),
    ]
    parts = ["<dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows), "</dl>"]
    if error:
        parts.append(f"<p class='error'>{e(error)}</p>")
    actions = PAGE_ACTIONS.get(session.status_enum, ())
    if actions:
        buttons = "".join(
            f"<button type='submit' name='action' value='{e(value)}'>{e(label)}</button>"
            for value, label in actions
        )
        # Relative: resolves under whatever prefix (language, mount) the page was served at.
        parts.append(
            f"<form method='post' action='{e(quote(token, safe=''))}/action'>{buttons}</form>"
        )
    else:
        parts.append("<p>This verification is finished; nothing left to do here.</p>")
        if session.callback and session.status_enum in CALLBACK_STATUSES:
            href = e(callback_url(session))
            parts.append(f"<p><a href='{href}'>Return to the application</a></p>")
    return _html("\n".join(parts), code, lang=session.language or language or "en")


async def apply_action(
    engine: DiditEmulator, request: Request, token: str, language: str | None
) -> Response:
    session = _find(engine, token, language)
    if session is None:
        return render(engine, token, language)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    action = (form.get("action") or [""])[0]
    allowed = [value for value, _ in PAGE_ACTIONS.get(session.status_enum, ())]
    if action not in allowed:
        message = f"'{action}' is not possible while the session is '{session.status}'."
        return render(engine, token, language, error=message, code=409)
    try:
        await engine.simulate(session, action)
    except SandboxError as exc:  # raced with another change
        return render(engine, token, language, error=str(exc.body.get("detail")), code=409)
    if session.callback and session.status_enum in CALLBACK_STATUSES:
        return RedirectResponse(callback_url(session), status_code=303, headers=PAGE_HEADERS)
    page_path = request.url.path.removesuffix("/action")
    return RedirectResponse(page_path, status_code=303, headers=PAGE_HEADERS)


def callback_url(session: SandboxSession) -> str:
    """Didit appends `verificationSessionId` and `status` to the callback (didit.md §A2.1)."""
    assert session.callback is not None
    query = urlencode(
        {"verificationSessionId": session.session_id, "status": session.status}, quote_via=quote
    )
    separator = "&" if "?" in session.callback else "?"
    return f"{session.callback}{separator}{query}"


def _html(content: str, status_code: int, *, lang: str = "en") -> HTMLResponse:
    body = _TEMPLATE.substitute(content=content, lang=html.escape(lang))
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)
