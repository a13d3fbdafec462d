"""GraphiQL works on a machine without internet: every asset comes from the gateway (issue 15).

The browser is cut off from every host but loopback; GraphiQL must still render, run a query
and follow a subscription (graphql-transport-ws, through the bundled client)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.async_api import Route, async_playwright

from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.server import GatewayProcess

LOOPBACK = {"127.0.0.1", "localhost"}
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("graphiql")) as server:
        yield server


async def test_graphiql_renders_and_runs_a_query_and_a_subscription_offline(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    blocked: list[str] = []

    async def offline(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    query = "{ providers { name } }"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = await browser.new_context()
        await context.route("**/*", offline)
        page = await context.new_page()
        await page.goto(f"{gateway.base}/graphql?q={quote(query)}")
        run = page.locator("button.graphiql-execute-button")
        await run.wait_for(timeout=15_000)
        assert query in await page.locator(".graphiql-query-editor").inner_text()
        await run.click()
        response = page.locator(".graphiql-response")
        await response.filter(has_text='"didit"').wait_for(timeout=15_000)
        assert '"providers"' in await response.inner_text()

        # A subscription runs over the websocket; a session created elsewhere shows up.
        subscription = 'subscription { sessionStatusChanged(provider: "didit") { status } }'
        await page.goto(f"{gateway.base}/graphql?q={quote(subscription)}")
        await run.wait_for(timeout=15_000)
        await run.click()
        await page.locator("button.graphiql-execute-button[aria-label^='Stop']").wait_for()
        async with httpx.AsyncClient(base_url=gateway.base, timeout=10) as client:
            created = await client.post(
                "/graphql",
                json={
                    "query": 'mutation { createSession(input: {provider: "didit"}) '
                    "{ session { id } } }"
                },
            )
        assert created.json()["data"]["createSession"]["session"]["id"]
        await response.filter(has_text='"CREATED"').wait_for(timeout=15_000)
        await page.screenshot(path=str(tmp_path / "graphiql.png"))
        await browser.close()
    assert blocked == []  # the page asked for nothing beyond the gateway


async def test_graphiql_page_references_only_bundled_pinned_assets(
    gateway: GatewayProcess,
) -> None:
    async with httpx.AsyncClient(base_url=gateway.base) as client:
        page = await client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src" not in page.headers["content-security-policy"]  # default-src
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert not re.search(r"(?:https?:)?//", page.text), "a URL to another host"
        assets = re.findall(r'(?:src|href)="(/static/graphiql/[^"]+)"', page.text)
        assert len(assets) == 7
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", page.text):
            assert "start.js" in tag or 'integrity="sha384-' in tag, tag
        for asset in [*assets, "/static/graphiql/NOTICE.md"]:
            answer = await client.get(asset)
            assert answer.status_code == 200, asset
        assert (await client.get("/static/graphiql/..%2F..%2Frouter.py")).status_code == 404
