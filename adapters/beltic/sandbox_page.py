"""The emulated hosted flow (`/hosted/{token}`, the session's hosted-URL attribute).

One self-contained HTML page: the person starts the verification, submits their documents,
and then picks what Beltic's checks would have found (pass, fail, flag for review, or a
processing error). The form posts back to the page's own (relative) URL, so it works under
any mount prefix; the answer is a 303 back to the page.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import Response

from adapters.beltic.sandbox_engine import BelticEmulator
from adapters.beltic.sandbox_jsonapi import ApiError
from adapters.beltic.sandbox_model import Session, Status
from adapters.common import sandbox_page as hosted

#: Buttons the person gets, per status (the integrator's decision is not on this page).
PAGE_ACTIONS: dict[Status, tuple[tuple[str, str], ...]] = {
    Status.CREATED: (("open", "Start verification"),),
    Status.STARTED: (("submit", "Submit documents"),),
    Status.PENDING: (
        ("approve", "Finish: checks pass"),
        ("decline", "Finish: checks fail"),
        ("review", "Finish: flag for review"),
        ("fail", "Finish: processing error"),
    ),
}
DONE_TEXT: dict[Status, str] = {
    Status.COMPLETED: "Your verification is complete; the service you came from will decide.",
    Status.MARKED_FOR_REVIEW: "Your verification is complete and waits for a manual review.",
}
PAGE = hosted.HostedPage(
    "Beltic",
    "identity verification",
    theme="""\
  :root { --page: #f3f4f1; --ink: #1d211c; --muted: #5c6358; --badge: #e6eae2; --accent: #1f7a4d; }
  button[value=decline], button[value=fail] { background: #b42318; }""",
)


def install_page(app: FastAPI, engine: BelticEmulator) -> None:
    @app.get("/hosted/{token}")
    async def page(token: str) -> Response:
        engine.expire_due()
        return render(engine, token)

    @app.post("/hosted/{token}")
    async def act(token: str, request: Request) -> Response:
        engine.expire_due()
        session = engine.store.session_by_token(token)
        if session is None:
            return render(engine, token)
        actions = PAGE_ACTIONS.get(session.status_enum, ())
        action, refused = await hosted.chosen_action(request, actions, session.status)
        if refused:
            return render(engine, token, error=refused, code=409)
        try:
            await engine.simulate(session, action)
        except ApiError as exc:  # raced with another change
            return render(engine, token, error=str(exc.errors[0]["detail"]), code=409)
        return PAGE.see_other(request.url.path)


def render(engine: BelticEmulator, token: str, *, error: str = "", code: int = 200) -> Response:
    session = engine.store.session_by_token(token)
    if session is None:
        return PAGE.response(
            hosted.error_note("This verification link is not valid (unknown session)."), 404
        )
    e = html.escape
    rows = [
        ("Session", e(session.id)),
        ("Status", f"<span class='status'>{e(session.status)}</span>"),
        ("Entity type", e(session.entity_type)),
        ("Account reference", _or_dash(_external_id(engine, session))),
        ("Name", _or_dash(_name(session))),
    ]
    parts = [hosted.details(rows)]
    if error:
        parts.append(hosted.error_note(error))
    actions = PAGE_ACTIONS.get(session.status_enum, ())
    if actions:
        # Relative: the page's own URL under whatever prefix it was served at.
        parts.append(hosted.action_form(actions, quote(token, safe="")))
    else:
        text = DONE_TEXT.get(session.status_enum, "This verification is finished.")
        parts.append(f"<p>{e(text)} Nothing left to do here.</p>")
    return PAGE.response("\n".join(parts), code)


def _external_id(engine: BelticEmulator, session: Session) -> str | None:
    account = engine.store.accounts.get(session.account_id)
    return account.external_id if account else None


def _name(session: Session) -> str | None:
    name = (session.person or {}).get("name") or {}
    parts = [name.get(k) for k in ("first", "middle", "last")]
    text = " ".join(p for p in parts if p)
    return text or None


def _or_dash(value: str | None) -> str:
    return html.escape(value) if value else "&mdash;"
