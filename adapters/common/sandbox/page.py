"""The hosted page of the vendor emulators: one layout (`templates/base.html`), styled
per vendor, with the vendor's own content.

Vendor-neutral HTML plumbing only. Each sandbox's `page.py` keeps its routes, which
buttons a status offers, what a session shows and where a finished flow goes. Everything put
into the page is escaped here or by the caller; forms post to relative URLs, so a page works
under whatever prefix the gateway mounts its sandbox at.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

BASE_TEMPLATE = Template(
    (Path(__file__).parent / "templates" / "base.html").read_text(encoding="utf-8")
)
#: (value, label) of the buttons a step offers.
Actions = Sequence[tuple[str, str]]


def page_headers(
    *, form_action_self: bool = True, images: bool = False, framed: bool = True
) -> dict[str, str]:
    """The page's response headers. The token in its URL is a capability: kept out of caches
    and referrers. `form_action_self=False` lets a form's answer redirect to another origin
    (browsers apply `form-action` to the redirects after a submit too); `images` allows
    `data:` images (a QR code); `framed=False` forbids framing the page."""
    csp = "default-src 'none'; " + ("img-src data:; " if images else "")
    csp += "style-src 'unsafe-inline'; base-uri 'none'"
    headers = {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    if not framed:
        headers["X-Frame-Options"] = "DENY"
    csp += "; form-action 'self'" if form_action_self else ""
    headers["Content-Security-Policy"] = csp + ("" if framed else "; frame-ancestors 'none'")
    return headers


@dataclass(frozen=True)
class HostedPage:
    """One vendor's page: titled "<vendor> sandbox", with a note that it is an emulation of
    that vendor's `flow`, in the vendor's colours, answered with `headers`.

    `theme` is CSS added after the shared rules: it sets the custom properties the layout
    uses (`--page`, `--ink`, `--muted`, `--badge`, `--accent`) and may add rules of its own.
    """

    vendor: str
    flow: str
    theme: str
    headers: Mapping[str, str] = field(default_factory=page_headers)
    #: What the note promises after the flow's name.
    promise: str = "nothing is checked and nothing leaves this machine."

    @property
    def title(self) -> str:
        return f"{self.vendor} sandbox"

    @property
    def note(self) -> str:
        return f"Emulated {self.vendor} {self.flow}: {self.promise}"

    def response(self, content: str, status_code: int = 200, *, lang: str = "en") -> HTMLResponse:
        body = BASE_TEMPLATE.substitute(
            lang=html.escape(lang),
            title=html.escape(self.title),
            note=html.escape(self.note),
            theme=self.theme,
            content=content,
        )
        return HTMLResponse(body, status_code=status_code, headers=dict(self.headers))

    def see_other(self, url: str) -> RedirectResponse:
        """The answer to a posted form: the browser GETs `url`."""
        return RedirectResponse(url, status_code=303, headers=dict(self.headers))


def details(rows: Iterable[tuple[str, str]]) -> str:
    """A definition list; keys and values are HTML already (escape values before)."""
    return "\n".join(["<dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows), "</dl>"])


def error_note(text: str) -> str:
    return f"<p class='error'>{html.escape(text)}</p>"


def action_form(actions: Actions, target: str) -> str:
    """A form posting `action=<value>` to `target` (relative), one button per action."""
    e = html.escape
    buttons = "".join(
        f"<button type='submit' name='action' value='{e(value)}'>{e(label)}</button>"
        for value, label in actions
    )
    return f"<form method='post' action='{e(target)}'>{buttons}</form>"


async def chosen_action(request: Request, actions: Actions, status: str) -> tuple[str, str]:
    """(the posted `action`, why it is refused — "" when it is one of `actions`)."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    action = (form.get("action") or [""])[0]
    if action in [value for value, _ in actions]:
        return action, ""
    return action, f"'{action}' is not possible while the session is '{status}'."
