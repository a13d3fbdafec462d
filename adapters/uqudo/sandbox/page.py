"""The emulated hosted page the QR session's dynamic link points at (`/qr/{sessionId}`).

It stands in for uqudo's QR reader app: the QR (a PNG data URL of this page's own link, to
open it on a phone), the steps the session's `data` enables — scan, NFC read, face, background
check, each one websocket milestone — then the outcome uqudo's checks produce. Every value
shown is escaped; the form posts to a relative URL, so the page works under whatever prefix
the gateway mounts the sandbox at.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.common.sandbox.http import SandboxError
from adapters.uqudo.sandbox.engine import UqudoEmulator
from adapters.uqudo.sandbox.model import Milestone, Outcome, Status, UqudoSession

_TEMPLATE = Template(
    (Path(__file__).parent / "templates" / "page.html").read_text(encoding="utf-8")
)
STEP_LABELS: dict[Milestone, tuple[str, str]] = {
    Milestone.SCAN: ("scan", "Scan document"),
    Milestone.READ: ("read", "Read NFC chip"),
    Milestone.FACE: ("face", "Face match"),
    Milestone.BACKGROUND_CHECK: ("background_check", "Background check"),
}
OUTCOME_LABELS: tuple[tuple[str, str], ...] = (
    (Outcome.APPROVE.value, "Finish: approve"),
    (Outcome.DECLINE.value, "Finish: decline"),
    (Outcome.REVIEW.value, "Finish: review"),
    (Outcome.DOCUMENTED.value, "Finish: uqudo's documented example"),
)
#: The dynamic link is a capability: keep it out of caches and referrers.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'self'",
}


def page_actions(session: UqudoSession) -> tuple[tuple[str, str], ...]:
    """The buttons now: the next enabled step, or the outcomes once every step is done."""
    if session.finished:
        return ()
    step = session.next_planned()
    return (STEP_LABELS[step],) if step is not None else OUTCOME_LABELS


def install_page(app: FastAPI, engine: UqudoEmulator) -> None:
    @app.get("/qr/{session_id}")
    async def page(session_id: str) -> Response:
        engine.sweep()
        return render(engine, session_id)

    @app.post("/qr/{session_id}/action")
    async def act(session_id: str, request: Request) -> Response:
        engine.sweep()
        session = engine.store.get(session_id)
        if session is None:
            return render(engine, session_id)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        action = (form.get("action") or [""])[0]
        if action not in [value for value, _ in page_actions(session)]:
            message = f"'{action}' is not possible while the session is '{session.status}'."
            return render(engine, session_id, error=message, code=409)
        try:
            await engine.act(session, action)
        except SandboxError as exc:  # raced with another change
            return render(engine, session_id, error=str((exc.body or {}).get("message")), code=409)
        page_path = request.url.path.removesuffix("/action")
        return RedirectResponse(page_path, status_code=303, headers=PAGE_HEADERS)


def render(engine: UqudoEmulator, session_id: str, *, error: str = "", code: int = 200) -> Response:
    session = engine.store.get(session_id)
    if session is None:
        return _html("<p class='error'>This QR session does not exist.</p>", 404)
    e = html.escape
    plan = session.plan_obj
    reached = set(session.milestones)
    steps = "".join(
        f"<li class='{'done' if m.value in reached else 'todo'}'>{e(STEP_LABELS[m][1])}"
        f"{' &#10003;' if m.value in reached else ''}</li>"
        for m in session.planned
    )
    rows = [
        ("Session", e(session.id)),
        ("Status", f"<span class='status'>{e(session.status.value)}</span>"),
        ("Document", e(plan.document_type)),
        ("User", e(plan.user_identifier) if plan.user_identifier else "&mdash;"),
        ("Steps", f"<ol>{steps}</ol>"),
    ]
    if session.outcome is not None:
        rows.append(("Outcome", f"<span class='status'>{e(session.outcome)}</span>"))
    qr = engine.qr_code(engine.dynamic_link(session))
    parts = [
        f"<img class='qr' alt='QR code of this session' src='{e(qr)}'>",
        "<dl>",
        *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows),
        "</dl>",
    ]
    if error:
        parts.append(f"<p class='error'>{e(error)}</p>")
    actions = page_actions(session)
    if actions:
        if session.next_planned() is None:
            parts.append("<p>Sandbox: choose the result uqudo's checks produce.</p>")
        buttons = "".join(
            f"<button type='submit' name='action' value='{e(value)}'>{e(label)}</button>"
            for value, label in actions
        )
        # Relative: resolves under whatever prefix (mount) the page was served at.
        parts.append(
            f"<form method='post' action='{e(quote(session.id, safe=''))}/action'>{buttons}</form>"
        )
    elif session.status == Status.EXPIRED:
        parts.append("<p>This QR session has expired. Ask for a new one.</p>")
    elif session.status == Status.DELETED:
        parts.append("<p>This QR session was deleted: its QR code no longer works.</p>")
    else:
        parts.append("<p>Onboarding complete: the result has been sent.</p>")
    return _html("\n".join(parts), code)


def _html(content: str, status_code: int) -> HTMLResponse:
    return HTMLResponse(
        _TEMPLATE.substitute(content=content), status_code=status_code, headers=PAGE_HEADERS
    )
