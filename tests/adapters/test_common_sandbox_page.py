"""The shared layout and form plumbing of the sandboxes' hosted pages."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.common.sandbox import page as page

PAGE = page.HostedPage(
    "Acme",
    "verification",
    theme="  :root { --page: #fff; --ink: #000; --muted: #555; --badge: #eee; --accent: #00f; }",
)


def test_page_has_the_vendor_title_note_theme_and_headers() -> None:
    response = PAGE.response("<p>hi</p>", 201, lang="pt-BR")
    body = response.body.decode()
    assert response.status_code == 201
    assert '<html lang="pt-BR">' in body
    assert "<title>Acme sandbox</title>" in body and "<h1>Acme sandbox</h1>" in body
    assert "Emulated Acme verification: nothing is checked" in body
    assert "--accent: #00f;" in body.split("</style>")[0]
    assert "<p>hi</p>" in body.split("</style>")[1]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "http" not in body.split("</style>")[1]  # no external assets


def test_lang_is_escaped() -> None:
    body = PAGE.response("", lang='x"><script>').body.decode()
    assert "<script>" not in body


def test_form_action_self_is_optional() -> None:
    assert page.page_headers()["Content-Security-Policy"].endswith("; form-action 'self'")
    assert "form-action" not in page.page_headers(form_action_self=False)["Content-Security-Policy"]


def test_see_other_keeps_the_headers() -> None:
    response = PAGE.see_other("/hosted/t")
    assert response.status_code == 303
    assert response.headers["location"] == "/hosted/t"
    assert response.headers["cache-control"] == "no-store"


def test_fragments_escape_what_they_are_given() -> None:
    assert (
        page.details([("A", "1"), ("B", "2")])
        == "<dl>\n<dt>A</dt><dd>1</dd>\n<dt>B</dt><dd>2</dd>\n</dl>"
    )
    assert page.error_note("<b>no</b>") == "<p class='error'>&lt;b&gt;no&lt;/b&gt;</p>"
    form = page.action_form([("go", "Go <now>")], "t'1/action")
    assert form == (
        "<form method='post' action='t&#x27;1/action'>"
        "<button type='submit' name='action' value='go'>Go &lt;now&gt;</button></form>"
    )


async def test_chosen_action_refuses_what_the_step_does_not_offer() -> None:
    app = FastAPI()

    @app.post("/act")
    async def act(request: Request) -> JSONResponse:
        return JSONResponse(list(await page.chosen_action(request, [("open", "Open")], "created")))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://page"
    ) as client:
        ok = await client.post("/act", data={"action": "open"})
        refused = await client.post("/act", data={"action": "approve"})
        empty = await client.post("/act", content=b"")
    assert ok.json() == ["open", ""]
    assert refused.json() == [
        "approve",
        "'approve' is not possible while the session is 'created'.",
    ]
    assert empty.json() == ["", "'' is not possible while the session is 'created'."]
