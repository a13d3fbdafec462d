"""The console follows a session live in a real browser; insights charts what `simulate` did."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import async_playwright

from gateway.ops.simulate import simulate
from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.server import GatewayProcess

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
URL = re.compile(r"""(?:https?:)?//[^\s"'<>()]+""", re.IGNORECASE)


@pytest.fixture
def gateway(tmp_path: Path):  # type: ignore[no-untyped-def]
    with GatewayProcess(tmp_path / "server") as server:
        yield server


def keep(path: Path) -> None:
    """Screenshots stay under tmp_path and are copied to `.artifacts/` (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)


async def test_console_timeline_follows_the_hosted_page_then_insights_charts(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    executable = chromium_path()
    base = gateway.base
    requested_hosts: set[str] = set()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = await browser.new_context()
        context.on("request", lambda r: requested_hosts.add(urlsplit(r.url).netloc))
        console = await context.new_page()
        await console.goto(f"{base}/console")
        await console.wait_for_selector("#provider option[value=didit]", state="attached")
        await console.select_option("#provider", "didit")
        await console.fill("#client-reference", "console-<b>e2e</b>")
        await console.click("#create")
        await console.wait_for_selector("#timeline li[data-status=CREATED]")
        await console.wait_for_selector("#live:has-text('(live)')")
        await console.wait_for_selector('#qr[src^="data:image/png"]')

        # The person opens the link (a new page) and goes through the Didit sandbox.
        async with context.expect_page() as opened:
            await console.click("#verification-link")
        hosted = await opened.value
        await hosted.wait_for_load_state()
        assert "Didit sandbox" in await hosted.content()
        await hosted.click("button[value=open]")
        await hosted.wait_for_selector("button[value=approve]")
        await console.wait_for_selector("#timeline li[data-status=IN_PROGRESS]")
        await hosted.click("button[value=approve]")

        # No reload: the subscription brings APPROVED into the timeline.
        await console.wait_for_selector("#timeline li[data-status=APPROVED]", timeout=20_000)
        assert await console.inner_text("#status") == "APPROVED"
        statuses = await console.eval_on_selector_all(
            "#timeline li", "items => items.map(li => li.dataset.status)"
        )
        assert statuses == ["CREATED", "IN_PROGRESS", "APPROVED"]
        shot = tmp_path / "console-approved.png"
        await console.bring_to_front()
        await console.screenshot(path=str(shot), full_page=True)
        keep(shot)

        summary = await simulate(base, 20, concurrency=6, seed=3, quiet=True)
        assert sum(summary.created.values()) == 20
        assert not summary.failed, summary.errors
        assert len(summary.created) == 5  # every sandboxed vendor

        insights = await context.new_page()
        await insights.goto(f"{base}/insights")
        for chart in ("funnel", "outcomes", "time-to-decision", "check-failures"):
            assert await insights.locator(f"svg[data-chart={chart}]").count() == 1
        for vendor in ("beltic", "didit", "uip", "uqudo", "verifa"):
            bars = insights.locator(f"svg[data-chart=funnel] rect.bar[data-provider={vendor}]")
            assert await bars.count() == 4
            assert (
                await insights.locator(
                    f"svg[data-chart=outcomes] rect.bar[data-provider={vendor}]"
                ).count()
                >= 1
            )
        didit_created = insights.locator(
            "svg[data-chart=funnel] rect.bar[data-provider=didit] title", has_text="created"
        )
        assert "didit created: " in (await didit_created.text_content() or "")
        # The console's approved Didit session reported its checks: a failure-rate bar per
        # kind, each telling its rate and runs.
        didit_checks = insights.locator(
            "svg[data-chart=check-failures] rect.bar[data-provider=didit] title"
        )
        assert await didit_checks.count() >= 1
        assert re.search(
            r"didit \w[\w ]*: \d+% failed of \d+", await didit_checks.first.text_content() or ""
        )
        shot = tmp_path / "insights.png"
        await insights.screenshot(path=str(shot), full_page=True)
        keep(shot)
        await browser.close()
    assert requested_hosts == {urlsplit(base).netloc}  # nothing fetched from elsewhere


async def test_console_says_how_a_session_without_a_hosted_page_progresses(
    gateway: GatewayProcess,
) -> None:
    """Beltic has no hosted page (docs/vendors/beltic.md): the console shows no link and the
    adapter's own words on how the person's part happens, not a dead end."""
    async with httpx.AsyncClient(base_url=gateway.base) as client:
        answer = await client.post("/graphql", json={"query": "{ providers { name personFlow } }"})
    notes = {p["name"]: p["personFlow"] for p in answer.json()["data"]["providers"]}
    assert notes["beltic"], notes
    assert notes["didit"] is None  # Didit hands the person a hosted page
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        console = await browser.new_page()
        await console.goto(f"{gateway.base}/console")
        await console.wait_for_selector("#provider option[value=beltic]", state="attached")
        await console.select_option("#provider", "beltic")
        await console.click("#create")
        await console.wait_for_selector("#timeline li[data-status=CREATED]")
        await console.wait_for_selector("#person-flow", state="visible")
        assert await console.inner_text("#person-flow") == notes["beltic"]
        assert await console.is_hidden("#verification-link")

        await console.select_option("#provider", "didit")
        await console.click("#create")
        await console.wait_for_selector("#verification-link", state="visible")
        assert await console.is_hidden("#person-flow")
        await browser.close()


async def test_pages_reference_no_other_host(gateway: GatewayProcess) -> None:
    own = urlsplit(gateway.base).netloc
    async with httpx.AsyncClient(base_url=gateway.base) as client:
        for path in ("/console", "/insights?from=2020-01-01&to=2020-01-31"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-type"].startswith("text/html")
            assert "default-src 'self'" in page.headers["content-security-policy"]
            for url in URL.findall(page.text):
                assert urlsplit(url if "//" != url[:2] else "http:" + url).netloc == own, url
            for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
                assert (await client.get(asset)).status_code == 200, asset
        bundled = (await client.get("/static/graphql-ws.min.js")).text
        assert "graphqlWs" in bundled
        assert (await client.get("/static/graphql-ws.LICENSE.md")).status_code == 200
        assert (await client.get("/static/..%2Fapp.py")).status_code == 404
        assert (await client.get("/insights?from=nonsense")).status_code == 400
        empty = await client.get("/insights?from=2020-01-01&to=2020-01-31")
        assert "No sessions in this period." in empty.text


def test_simulate_is_a_cli_command() -> None:
    from gateway.cli import build_parser

    args = build_parser().parse_args(["simulate", "--sessions", "3", "--base-url", "http://x:1"])
    assert (args.sessions, args.base_url, args.concurrency) == (3, "http://x:1", 8)
