"""The emulated hosted page at the session's `url` (`/s/{id}`, core-concepts/sessions
"The hosted page & capability URLs").

The URL is a capability, and UIP binds it to the first browser that opens it ("first-open
binding"): the first GET sets a binding cookie and moves a `created` session to
`in_progress`; any other browser gets 403. The page lists the steps; standing in for the
person's wallet it offers: verify the current step, finish every remaining step, or fail
verification. At a gate it waits for the business (continue/stop by API). After the end it
shows a "Return to …" link to `return_url` (never an automatic redirect).

Every value shown is escaped; the form posts to a relative URL, so the page works under
whatever prefix the gateway mounts the sandbox at.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from adapters.common.sandbox import page as hosted
from adapters.common.sandbox.http import SandboxError
from adapters.uip.sandbox.engine import UipEmulator
from adapters.uip.sandbox.model import LIGHT_SIGN_TEXT_PARAM, SandboxSession, Status

BINDING_COOKIE = "uip_sandbox_binding"
#: What the person can do on the page while a step is open.
PAGE_ACTIONS = (
    ("submit", "Verify this step"),
    ("approve", "Finish all steps"),
    ("decline", "Fail verification"),
)
_LABELS = {
    "identify": "Share identity details",
    "age_verify": "Prove age",
    "sign": "Sign documents",
    "light_sign": "Accept terms",
}
_MESSAGES = {
    Status.AWAITING_DECISION: "Verified. Waiting for the business to continue or stop.",
    Status.COMPLETED: "All steps are verified.",
    Status.STOPPED: "The business ended this session.",
    Status.FAILED: "Verification failed.",
    Status.EXPIRED: "This session has expired.",
}
#: The URL is a capability: kept out of caches and referrers, and never framed.
PAGE_HEADERS = hosted.page_headers(framed=False)
PAGE = hosted.HostedPage(
    "UIP",
    "wallet flow",
    theme="""\
  :root { --page: #f4f4f1; --ink: #1c1c1a; --muted: #5f5f58; --badge: #ecece6; --accent: #1c1c1a; }
  main { border-radius: 14px; box-shadow: 0 2px 14px rgba(0, 0, 0, .08); }
  ol { padding-left: 1.4rem; } li { margin: .35rem 0; }
  .state { font-size: .8rem; padding: .05rem .45rem; border-radius: 6px; background: #ecece6; }
  .state.verified { background: #dcf3e3; color: #125c2b; }
  .state.current { background: #dfe8fb; color: #1d3f8f; }
  .gate { font-size: .8rem; color: #7a4b00; }
  blockquote { margin: .4rem 0; padding: .4rem .7rem; border-left: 3px solid #c9c9bf;
               white-space: pre-wrap; font-size: .9rem; }
  button[value=decline] { background: #b3261e; }""",
    headers=PAGE_HEADERS,
    promise="no wallet is asked, every credential is fake, nothing leaves this machine.",
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bound_here(request: Request, session: SandboxSession) -> bool:
    """The page is bound to the browser of this request (its cookie holds the binding token)."""
    token = request.cookies.get(BINDING_COOKIE, "")
    return bool(
        token and session.binding is not None and hmac.compare_digest(_hash(token), session.binding)
    )


def install_page(app: FastAPI, engine: UipEmulator) -> None:
    async def guarded(
        session_id: str,
        request: Request,
        then: Callable[[SandboxSession, Request], Awaitable[Response]],
    ) -> Response:
        """`then` on the session if this browser may use its page (first-open binding), else
        the page that says why not."""
        session = engine.find(session_id)
        if session is None:
            return _not_found()
        if session.binding is not None and not bound_here(request, session):
            return _elsewhere()
        return await then(session, request)

    async def opened(session: SandboxSession, request: Request) -> Response:
        new_token: str | None = None
        if session.binding is None:  # first open: the page is this browser's from now on
            new_token = secrets.token_urlsafe(24)
            engine.bind(session, _hash(new_token))
        engine.open(session)
        response = render(session)
        if new_token is not None:
            response.set_cookie(
                BINDING_COOKIE,
                new_token,
                path=request.url.path,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return response

    async def acted(session: SandboxSession, request: Request) -> Response:
        if session.binding is None:  # never opened
            return _elsewhere()
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        action = (form.get("action") or [""])[0]
        if action not in dict(PAGE_ACTIONS) or session.status_enum != Status.IN_PROGRESS:
            message = f"'{action}' is not possible while the session is {session.status}."
            return render(session, error=message, code=409)
        try:
            await engine.control(session, action)
        except SandboxError as exc:  # raced with another change
            return render(session, error=str(exc.body.get("error")), code=409)
        return PAGE.see_other(request.url.path.removesuffix("/action"))

    @app.get("/s/{session_id}")
    async def page(session_id: str, request: Request) -> Response:
        return await guarded(session_id, request, opened)

    @app.post("/s/{session_id}/action")
    async def act(session_id: str, request: Request) -> Response:
        return await guarded(session_id, request, acted)


def render(session: SandboxSession, *, error: str = "", code: int = 200) -> HTMLResponse:
    e = html.escape
    verified = {result["step"] for result in session.results}
    items = []
    for index, step in enumerate(session.steps):
        if index in verified:
            state = "<span class='state verified'>verified</span>"
        elif index == session.current_step and session.status_enum == Status.IN_PROGRESS:
            state = "<span class='state current'>now</span>"
        elif session.terminal:
            state = "<span class='state'>skipped</span>"
        else:
            state = "<span class='state'>to do</span>"
        detail = ""
        if step.primitive == "light_sign":
            detail = f"<blockquote>{e(step.params.get(LIGHT_SIGN_TEXT_PARAM, ''))}</blockquote>"
        elif step.primitive == "sign" and step.files:
            names = ", ".join(e(f["name"] or "unnamed") for f in step.files)
            detail = f"<br><small>{len(step.files)} file(s): {names}</small>"
        elif step.primitive == "age_verify":
            detail = f" <small>(at least {e(str(step.params.get('min_age', 18)))})</small>"
        gate = " <span class='gate'>then the business decides</span>" if step.gate else ""
        label = _LABELS.get(step.primitive, step.primitive)
        items.append(f"<li>{e(label)} {state}{gate}{detail}</li>")
    status = f"<span class='status'>{e(session.status)}</span>"
    parts = [
        hosted.details([("Session", e(session.id)), ("Status", status)]),
        f"<ol>{''.join(items)}</ol>",
    ]
    if error:
        parts.append(hosted.error_note(error))
    if session.status_enum == Status.IN_PROGRESS:
        # Relative: resolves under whatever prefix (mount) the page was served at.
        parts.append(hosted.action_form(PAGE_ACTIONS, quote(session.id, safe="") + "/action"))
    else:
        parts.append(f"<p>{e(_MESSAGES.get(session.status_enum, ''))}</p>")
    if session.terminal and session.return_url:
        host = urlsplit(session.return_url).hostname or session.return_url
        parts.append(f"<p><a href='{e(session.return_url)}'>Return to {e(host)}</a></p>")
    return _html("\n".join(parts), code)


def _not_found() -> HTMLResponse:
    return _html(hosted.error_note("This session link is not valid."), 404)


def _elsewhere() -> HTMLResponse:
    return _html(
        "<p class='error'>This session was already opened in another browser. UIP binds a "
        "session to the first browser that opens it.</p>",
        403,
    )


def _html(content: str, status_code: int) -> HTMLResponse:
    return PAGE.response(content, status_code)
