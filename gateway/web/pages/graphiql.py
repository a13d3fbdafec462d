"""GraphiQL from the package: React, GraphiQL and its explorer plugin are served under
`/static/graphiql/` (pinned, gateway/web/pages/static/graphiql/NOTICE.md) instead of a CDN, so the
first page a newcomer opens works without internet."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.responses import HTMLResponse

from gateway.web.pages.headers import PAGE_HEADERS

PAGE = Path(__file__).parent / "templates" / "graphiql.html"


@cache
def _html() -> str:
    return PAGE.read_text()


def graphiql_response() -> HTMLResponse:
    return HTMLResponse(_html(), headers=PAGE_HEADERS)
