"""The emulated hosted capture flow at the session's `capture_url` (`/verify/{token}`).

One self-contained HTML page: the person starts the capture and submits it; then, standing in
for Verifa's checks (the sandbox's `sandbox_pending` "select an outcome"), the tester picks the
result. Every value shown is escaped; the form posts to a relative URL, so the page works under
whatever prefix the gateway mounts the sandbox at.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import Response

from adapters.common.sandbox import page as hosted
from adapters.common.sandbox.http import SandboxError
from adapters.verifa.sandbox.engine import VerifaEmulator
from adapters.verifa.sandbox.model import Status

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
PAGE = hosted.HostedPage(
    "Verifa",
    "capture flow",
    theme="""\
  :root { --page: #f3f5f9; --ink: #18202f; --muted: #586175; --badge: #e6ebf5; --accent: #3b5bdb; }
  button[value=decline], button[value=fail] { background: #c2410c; }""",
)


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
        actions = PAGE_ACTIONS.get(session.status_enum, ())
        action, refused = await hosted.chosen_action(request, actions, session.status)
        if refused:
            return render(engine, token, error=refused, code=409)
        client = request.client.host if request.client else None
        try:
            await engine.control(session, action, consent_ip=client)
        except SandboxError as exc:  # raced with another change
            return render(engine, token, error=str(exc.body.get("detail")), code=409)
        return PAGE.see_other(request.url.path.removesuffix("/action"))


def render(engine: VerifaEmulator, token: str, *, error: str = "", code: int = 200) -> Response:
    session = engine.store.by_token(token)
    if session is None or session.redacted:
        text = "This capture link is not valid (unknown, replaced or revoked)."
        return PAGE.response(hosted.error_note(text), 404)
    e = html.escape
    rows = [
        ("Session", e(session.id)),
        ("Status", f"<span class='status'>{e(session.status)}</span>"),
        ("External ref", e(session.external_ref) if session.external_ref else "&mdash;"),
        ("Metadata", f"<pre>{e(json.dumps(session.metadata, ensure_ascii=False, indent=1))}</pre>"),
    ]
    if session.result is not None:
        rows.append(("Result", f"<span class='status'>{e(session.result['status'])}</span>"))
    parts = [hosted.details(rows)]
    if error:
        parts.append(hosted.error_note(error))
    actions = PAGE_ACTIONS.get(session.status_enum, ())
    if actions:
        if session.status_enum not in (Status.PENDING, Status.CAPTURING):
            parts.append("<p>Sandbox: choose the outcome Verifa's checks produce.</p>")
        # Relative: resolves under whatever prefix (mount) the page was served at.
        parts.append(hosted.action_form(actions, f"{quote(token, safe='')}/action"))
    else:
        parts.append(f"<p>{e(_WAITING.get(session.status_enum, 'Nothing left to do here.'))}</p>")
    if session.redirect_url and session.status_enum not in (Status.PENDING, Status.CAPTURING):
        parts.append(f"<p><a href='{e(session.redirect_url)}'>Return to the application</a></p>")
    return PAGE.response("\n".join(parts), code)
