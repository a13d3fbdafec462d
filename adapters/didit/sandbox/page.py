"""The emulated hosted flow (`/session/{token}`, `/{language}/session/{token}`).

One self-contained HTML page: the person "starts" the verification, then picks the outcome
Didit's checks would have produced. Like Didit, a finished flow sends the browser to the
session's `callback` with `verificationSessionId` and `status`.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response

from adapters.common.sandbox import page as hosted
from adapters.common.sandbox.http import SandboxError
from adapters.didit.sandbox.engine import DiditEmulator
from adapters.didit.sandbox.model import CALLBACK_STATUSES, LANGUAGES, SandboxSession, Status

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
PAGE = hosted.HostedPage(
    "Didit",
    "verification",
    theme="""\
  :root { --page: #f4f6fb; --ink: #1c2333; --muted: #5b6478; --badge: #e8ecf6; --accent: #2e5bff; }
  button[value=decline], button[value=abandon] { background: #c2410c; }""",
    # No `form-action 'self'`: a finished flow's form answer redirects to the callback.
    headers=hosted.page_headers(form_action_self=False),
)


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
        return PAGE.response(
            hosted.error_note("This verification link is not valid (unknown session)."), 404
        )
    e = html.escape
    rows = [
        ("Session", f"#{session.session_number}"),
        ("Status", f"<span class='status'>{e(session.status)}</span>"),
        ("Vendor data", e(session.vendor_data) if session.vendor_data is not None else "&mdash;"),
        ("Metadata", f"<pre>{e(json.dumps(session.metadata, ensure_ascii=False, indent=1))}</pre>"),
    ]
    parts = [hosted.details(rows)]
    if error:
        parts.append(hosted.error_note(error))
    actions = PAGE_ACTIONS.get(session.status_enum, ())
    if actions:
        # Relative: resolves under whatever prefix (language, mount) the page was served at.
        parts.append(hosted.action_form(actions, f"{quote(token, safe='')}/action"))
    else:
        parts.append("<p>This verification is finished; nothing left to do here.</p>")
        if session.callback and session.status_enum in CALLBACK_STATUSES:
            href = e(callback_url(session))
            parts.append(f"<p><a href='{href}'>Return to the application</a></p>")
    return PAGE.response("\n".join(parts), code, lang=session.language or language or "en")


async def apply_action(
    engine: DiditEmulator, request: Request, token: str, language: str | None
) -> Response:
    session = _find(engine, token, language)
    if session is None:
        return render(engine, token, language)
    actions = PAGE_ACTIONS.get(session.status_enum, ())
    action, refused = await hosted.chosen_action(request, actions, session.status)
    if refused:
        return render(engine, token, language, error=refused, code=409)
    try:
        await engine.simulate(session, action)
    except SandboxError as exc:  # raced with another change
        return render(engine, token, language, error=str(exc.body.get("detail")), code=409)
    if session.callback and session.status_enum in CALLBACK_STATUSES:
        return PAGE.see_other(callback_url(session))
    return PAGE.see_other(request.url.path.removesuffix("/action"))


def callback_url(session: SandboxSession) -> str:
    """Didit appends `verificationSessionId` and `status` to the callback (create-session)."""
    assert session.callback is not None
    query = urlencode(
        {"verificationSessionId": session.session_id, "status": session.status}, quote_via=quote
    )
    separator = "&" if "?" in session.callback else "?"
    return f"{session.callback}{separator}{query}"
