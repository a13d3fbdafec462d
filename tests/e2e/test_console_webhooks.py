"""The console's Webhooks section in a real browser: a real gateway delivers to a real receiver
on loopback, and the page shows the endpoint and the followed session's deliveries with their
attempts, refreshing when the session's status changes and on its button. A credential
without `webhooks:manage` gets one line saying so, never a broken page."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, async_playwright

from gateway.auth import hash_key
from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.client import create_mutation, created_session, gql, simulate
from tests.e2e.server import GatewayProcess
from tests.support.keys import TOKEN_SECRET, key
from tests.support.webhook_receiver import Receiver, running_receiver

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
PHONE = {"width": 390, "height": 844}
CREATE_ENDPOINT = """
mutation($url: String!) {
  createWebhookEndpoint(input: {url: $url, description: "console e2e"}) {
    endpoint { id url } secret userErrors { code field message }
  }
}
"""
DELIVERIES = """
query($id: ID!) {
  webhookDeliveries(sessionId: $id, first: 20) { edges { node { id webhookId status } } }
}
"""
REDELIVER = "mutation($id: ID!) { redeliverWebhook(id: $id) { userErrors { code message } } }"
CREATE_DIDIT = create_mutation("didit", "id providerSessionId")
#: A delivery row's cells, each by its column, and its attempts as the page lists them.
ROWS = """rows => rows.map(tr => ({
  eventType: tr.dataset.eventType,
  status: tr.dataset.status,
  webhookId: tr.querySelector('[data-label="webhook id"]').textContent,
  attemptCount: tr.querySelector('[data-label="attempts"]').textContent,
  last: tr.querySelector('[data-label="last answer"]').textContent,
  attempts: Array.from(tr.querySelectorAll('.attempts li')).map(li => li.dataset.answer),
}))"""


def keep(path: Path) -> None:
    """Screenshots stay under tmp_path and are copied to `.artifacts/` (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


async def create_endpoint(base: str, receiver: Receiver) -> dict[str, Any]:
    created = (await gql(base, CREATE_ENDPOINT, {"url": receiver.url}))["createWebhookEndpoint"]
    assert created["userErrors"] == [], created
    receiver.secret = created["secret"]
    return created["endpoint"]


async def delivery_rows(page: Page) -> list[dict[str, Any]]:
    return await page.eval_on_selector_all("#webhook-deliveries tr[data-status]", ROWS)


async def delivery_settled(base: str, session_id: str) -> None:
    """Until the gateway has recorded the redelivered attempt (after the receiver answered)."""
    for _ in range(200):
        edges = (await gql(base, DELIVERIES, {"id": session_id}))["webhookDeliveries"]["edges"]
        if [e["node"]["status"] for e in edges] == ["SUCCEEDED"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the redelivery was not recorded")


async def open_console(page: Page, base: str, session_id: str) -> None:
    await page.goto(f"{base}/console#session={session_id}")
    await page.wait_for_selector("#live:has-text('(live)')")


async def test_the_console_shows_the_endpoint_and_the_sessions_deliveries(
    tmp_path: Path, receiver: Receiver
) -> None:
    with GatewayProcess(tmp_path / "server") as gateway:
        base = gateway.base
        endpoint = await create_endpoint(base, receiver)
        session = await created_session(base, CREATE_DIDIT, {"ref": "console-webhooks-ok"})
        requested_hosts: set[str] = set()
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            context = await browser.new_context()
            context.on("request", lambda r: requested_hosts.add(urlsplit(r.url).netloc))
            console = await context.new_page()
            await open_console(console, base, session["id"])

            row = console.locator(f'#webhook-endpoints tr[data-endpoint-id="{endpoint["id"]}"]')
            await row.wait_for()
            assert await row.locator('[data-label="url"]').inner_text() == receiver.url
            assert await row.locator('[data-label="events"]').inner_text() == (
                "session.status_changed, session.final"
            )
            assert await row.locator('[data-label="providers"]').inner_text() == "all"
            assert await row.locator('[data-label="state"]').inner_text() == "enabled"
            assert await row.locator('[data-label="static"]').inner_text() == "no"

            # CREATED's delivery, then the person's progress: each status change refreshes.
            await console.wait_for_selector(
                "#webhook-deliveries tr[data-event-type='session.status_changed']"
                "[data-status=SUCCEEDED]"
            )
            await simulate(base, "didit", session["providerSessionId"], "open")
            await simulate(base, "didit", session["providerSessionId"], "approve")
            await console.wait_for_selector("#timeline li[data-status=APPROVED]", timeout=20_000)
            await asyncio.to_thread(
                receiver.wait_for,
                lambda r: any(a.payload["type"] == "session.final" for a in r.accepted),
                what="session.final",
            )
            await console.wait_for_selector(
                "#webhook-deliveries tr[data-event-type='session.final'][data-status=SUCCEEDED]",
                timeout=20_000,
            )
            await console.wait_for_function(
                "n => document.querySelectorAll("
                "'#webhook-deliveries tr[data-status=SUCCEEDED]').length === n",
                arg=len(receiver.accepted),
                timeout=20_000,
            )
            rows = await delivery_rows(console)
            shot = tmp_path / "console-webhooks.png"
            await console.screenshot(path=str(shot), full_page=True)
            keep(shot)
            # On a phone each row becomes a labelled list: nothing wider than the screen.
            await console.set_viewport_size(PHONE)
            width = await console.evaluate("document.scrollingElement.scrollWidth")
            assert width <= PHONE["width"]
            shot = tmp_path / "console-webhooks-phone.png"
            await console.screenshot(path=str(shot), full_page=True)
            keep(shot)
            await browser.close()

    # The page lists exactly what reached the receiver, newest first, one 204 attempt each.
    arrived = [(a.payload["type"], a.webhook_id) for a in receiver.accepted]
    assert [(r["eventType"], r["webhookId"]) for r in rows] == arrived[::-1]
    assert {r["eventType"] for r in rows} == {"session.status_changed", "session.final"}
    assert [r["eventType"] for r in rows].count("session.status_changed") >= 2
    for r in rows:
        assert (r["status"], r["attemptCount"], r["last"], r["attempts"]) == (
            "SUCCEEDED",
            "1",
            "204",
            ["204"],
        ), r
    assert requested_hosts == {urlsplit(base).netloc}  # nothing fetched from elsewhere


async def test_the_console_lists_failed_attempts_and_refreshes_on_its_button(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.fail_with = 500
    env = {"KYCGW_WEBHOOK_RETRY_SCHEDULE_S": "[0,0.3,0.3]"}
    with GatewayProcess(tmp_path / "server", extra_env=env) as gateway:
        base = gateway.base
        await create_endpoint(base, receiver)
        session = await created_session(base, CREATE_DIDIT, {"ref": "console-webhooks-500"})
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            console = await browser.new_page()
            await open_console(console, base, session["id"])
            failed = "#webhook-deliveries tr[data-status=FAILED]"
            await console.wait_for_selector(failed, timeout=20_000)
            [row] = await delivery_rows(console)
            assert (row["eventType"], row["attemptCount"], row["last"]) == (
                "session.status_changed",
                "3",
                "500",
            )
            assert row["attempts"] == ["500", "500", "500"]
            assert [a.answered for a in receiver.attempts] == [500, 500, 500]
            assert row["webhookId"] == receiver.attempts[0].webhook_id

            # Sent again behind the page's back: only the button shows what happened.
            receiver.fail_with = None
            [edge] = (await gql(base, DELIVERIES, {"id": session["id"]}))["webhookDeliveries"][
                "edges"
            ]
            again = await gql(base, REDELIVER, {"id": edge["node"]["id"]})
            assert again["redeliverWebhook"]["userErrors"] == []
            await asyncio.to_thread(receiver.wait_for, lambda r: len(r.accepted) == 1)
            await delivery_settled(base, session["id"])
            assert await console.locator(failed).count() == 1  # nothing refreshed by itself
            await console.click("#webhooks-refresh")
            await console.wait_for_selector("#webhook-deliveries tr[data-status=SUCCEEDED]")
            [row] = await delivery_rows(console)
            assert (row["attemptCount"], row["last"]) == ("4", "204")
            assert row["attempts"] == ["500", "500", "500", "204"]
            await browser.close()


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[GatewayProcess]:
    """Two keys: `operator` may do everything but manage webhooks; `hooks` may also do that."""
    scopes = {
        "operator": ["sessions:read", "sessions:write", "sandbox:control"],
        "hooks": ["sessions:read", "sessions:write", "webhooks:manage"],
    }
    env = {
        "KYCGW_API_KEYS": json.dumps(
            [{"name": n, "sha256": hash_key(key(n)), "scopes": s} for n, s in scopes.items()]
        ),
        "KYCGW_CLIENT_TOKEN_SECRET": TOKEN_SECRET,
        "KYCGW_SANDBOXES": '["*"]',
    }
    with GatewayProcess(tmp_path / "keyed", extra_env=env) as server:
        yield server


async def test_without_webhooks_manage_the_section_says_so_and_the_page_works(
    keyed: GatewayProcess,
) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        console = await browser.new_page()
        await console.goto(f"{keyed.base}/console")
        note = console.locator("#webhooks-note")
        await note.wait_for()
        assert "API key" in await note.inner_text()

        await console.fill("#api-key", key("operator"))
        await console.press("#api-key", "Tab")  # the key counts once the field is left
        await console.wait_for_selector("#webhooks-note:has-text('lacks')")
        assert await note.inner_text() == "This API key lacks the webhooks:manage scope."
        assert await console.locator("#webhook-endpoints").is_hidden()
        # The rest of the page is unaffected: a session is created and followed.
        await console.wait_for_selector("#provider option[value=didit]", state="attached")
        await console.select_option("#provider", "didit")
        await console.click("#create")
        await console.wait_for_selector("#timeline li[data-status=CREATED]")
        await console.wait_for_selector("#live:has-text('(live)')")
        assert await note.inner_text() == "This API key lacks the webhooks:manage scope."

        await console.fill("#api-key", key("hooks"))
        await console.press("#api-key", "Tab")
        await console.wait_for_selector("#webhooks-note:has-text('createWebhookEndpoint')")
        words = await note.inner_text()
        assert "No webhook endpoints" in words and "KYCGW_WEBHOOK_ENDPOINTS" in words
        await browser.close()
