"""The emulated hosted page the QR session's dynamic link points at (`/qr/{sessionId}`).

It stands in for uqudo's QR reader app: the QR (a PNG data URL of this page's own link, to
open it on a phone), the steps the session's `data` enables — scan, NFC read, face, background
check, each one websocket milestone — then the outcome uqudo's checks produce. Every value
shown is escaped; the form posts to a relative URL, so the page works under whatever prefix
the gateway mounts the sandbox at.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from adapters.common.sandbox import page as hosted
from adapters.common.sandbox.http import SandboxError
from adapters.uqudo.sandbox.engine import UqudoEmulator
from adapters.uqudo.sandbox.model import ORIGIN_QR, Milestone, Outcome, Status, UqudoSession

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
#: The dynamic link is a capability: keep it out of caches and referrers. The QR is a
#: `data:` image.
PAGE_HEADERS = hosted.page_headers(images=True)
PAGE = hosted.HostedPage(
    "uqudo",
    "QR-code onboarding",
    theme="""\
  :root { --page: #f1f4f8; --ink: #14202e; --muted: #56627a; --badge: #e4ebf5; --accent: #0f6cbd; }
  main { max-width: 36rem; }
  .qr { display: block; margin: 0 auto 1.5rem; width: 12rem; height: 12rem;
        image-rendering: pixelated; }
  ol { margin: 0; padding-left: 1.2rem; }
  .done { color: #1b7f3a; } .todo { color: #8a94a6; }
  button[value=decline] { background: #c2410c; }""",
    headers=PAGE_HEADERS,
    promise="nothing is scanned and nothing leaves this machine.",
)


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
        actions = page_actions(session)
        action, refused = await hosted.chosen_action(request, actions, session.status)
        if refused:
            return render(engine, session_id, error=refused, code=409)
        try:
            await engine.act(session, action)
        except SandboxError as exc:  # raced with another change
            return render(engine, session_id, error=str((exc.body or {}).get("message")), code=409)
        return PAGE.see_other(request.url.path.removesuffix("/action"))


def render(engine: UqudoEmulator, session_id: str, *, error: str = "", code: int = 200) -> Response:
    session = engine.store.get(session_id)
    if session is None or session.origin != ORIGIN_QR:  # an SDK session has no QR page
        return _html(hosted.error_note("This QR session does not exist."), 404)
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
        hosted.details(rows),
    ]
    if error:
        parts.append(hosted.error_note(error))
    actions = page_actions(session)
    if actions:
        if session.next_planned() is None:
            parts.append("<p>Sandbox: choose the result uqudo's checks produce.</p>")
        # Relative: resolves under whatever prefix (mount) the page was served at.
        parts.append(hosted.action_form(actions, quote(session.id, safe="") + "/action"))
    elif session.status == Status.EXPIRED:
        parts.append("<p>This QR session has expired. Ask for a new one.</p>")
    elif session.status == Status.DELETED:
        parts.append("<p>This QR session was deleted: its QR code no longer works.</p>")
    else:
        parts.append("<p>Onboarding complete: the result has been sent.</p>")
    return _html("\n".join(parts), code)


def _html(content: str, status_code: int) -> HTMLResponse:
    return PAGE.response(content, status_code)
