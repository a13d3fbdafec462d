"""The emulated hosted capture flow at the session's `capture_url` (`/verify/{token}`).

One self-contained HTML page: the person starts the capture and submits it; then, standing in
for Verifa's checks (the sandbox's `sandbox_pending` "select an outcome"), the tester picks the
result. Every value shown is escaped; the form posts to a relative URL, so the page works under
whatever prefix the gateway mounts the sandbox at.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.verifa.sandbox_engine import SandboxError, VerifaEmulator
from adapters.verifa.sandbox_model import Status

_TEMPLATE = Template(
    (Path(__file__).parent / "templates" / "sandbox_page.html").read_text(encoding="utf-8")
)
_OUTCOMES = (
    ("approve", "Approve"),
    ("decline", "Decline"),
    ("review", "Needs review"),
    ("fail", "Fail (processing error)"),
)
#: Buttons per status: the person's steps, then the sandbox outcome selection.
PAGE_ACTIONS: dict[Status, tuple[tuple[str, str], ...]] = {
    Status.PENDING: (("open", "Start capture"),),
    Status.CAPTURING: (("submit", "Submit documents"),),
    Status.PROCESSING: _OUTCOMES,
    Status.SANDBOX_PENDING: _OUTCOMES,
    Status.UNDER_REVIEW: (("approve", "Approve (reviewer)"), ("decline", "Decline (reviewer)")),
}
_WAITING = {
    Status.AWAITING_EXTERNAL: "The workflow waits for the integrator's external decision.",
    Status.EXPIRED: "This capture link has expired. Ask for a new one.",
    Status.FAILED: "Verification failed (processing error).",
}
#: The token is a capability: keep it out of caches and referrers.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'self'",
}


def install_page(app: FastAPI, engine: VerifaEmulator) -> None:
    @app.get("/verify/{token}")
    async def page(token: str) -> Response:
        engine.sweep()
        return render(engine, token)

    @app.post("/verify/{token}/action")
    async def act(token: str, request: Request) -> Response:
        engine.sweep()
        session = engine.store.by_token(token)
        if session is None or session.redacted:
            return render(engine, token)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        action = (form.get("action") or [""])[0]
        allowed = [value for value, _ in PAGE_ACTIONS.get(session.status_enum, ())]
        if action not in allowed:
            message = f"'{action}' is not possible while the session is '{session.status}'."
            return render(engine, token, error=message, code=409)
        client = request.client.host if request.client else None
        try:
            await engine.control(session, action, consent_ip=client)
        except SandboxError as exc:  # raced with another change
            return render(engine, token, error=str(exc.body.get("detail")), code=409)
        page_path = request.url.path.removesuffix("/action")
        return RedirectResponse(page_path, status_code=303, headers=PAGE_HEADERS)


def render(engine: VerifaEmulator, token: str, *, error: str = "", code: int = 200) -> Response:
    session = engine.store.by_token(token)
    if session is None or session.redacted:
        return _html(
            "<p class='error'>This capture link is not valid (unknown, replaced or revoked).</p>",
            404,
        )
    e = html.escape
    rows = [
        ("Session", e(session.id)),
        ("Status", f"<span class='status'>{e(session.status)}</span>"),
        ("External ref", e(session.external_ref) if session.external_ref else "&mdash;"),
        ("Metadata", f"<pre>{e(json.dumps(session.metadata, ensure_ascii=False, indent=1))}</pre>"),
    ]
    if session.result is not None:
        rows.append(("Result", f"<span class='status'>{e(session.result['status'])}</span>"))
    parts = ["<dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows), "</dl>"]
    if error:
        parts.append(f"<p class='error'>{e(error)}</p>")
    actions = PAGE_ACTIONS.get(session.status_enum, ())
    if actions:
        if session.status_enum not in (Status.PENDING, Status.CAPTURING):
            parts.append("<p>Sandbox: choose the outcome Verifa's checks produce.</p>")
        buttons = "".join(
            f"<button type='submit' name='action' value='{e(value)}'>{e(label)}</button>"
            for value, label in actions
        )
        # Relative: resolves under whatever prefix (mount) the page was served at.
        parts.append(
            f"<form method='post' action='{e(quote(token, safe=''))}/action'>{buttons}</form>"
        )
    else:
        parts.append(f"<p>{e(_WAITING.get(session.status_enum, 'Nothing left to do here.'))}</p>")
    if session.redirect_url and session.status_enum not in (Status.PENDING, Status.CAPTURING):
        parts.append(f"<p><a href='{e(session.redirect_url)}'>Return to the application</a></p>")
    return _html("\n".join(parts), code)


def _html(content: str, status_code: int) -> HTMLResponse:
    body = _TEMPLATE.substitute(content=content)
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)
