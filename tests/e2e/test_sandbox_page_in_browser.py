"""A person finishes a Didit sandbox verification in a real browser, and the gateway sees it."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.server import running_gateway

CREATE = """
mutation Create($ref: String!, $returnUrl: String) {
  createSession(input: {provider: "didit", clientReference: $ref, returnUrl: $returnUrl}) {
    session { id verificationUrl }
    userErrors { code message }
  }
}
"""
GET = "query($id: ID!) { session(id: $id) { status providerStatus history { status source } } }"


async def test_person_approves_in_the_hosted_page(tmp_path: Path) -> None:
    executable = chromium_path()
    ref = f"browser-<b>{uuid.uuid4().hex[:6]}</b>"  # markup must be shown escaped
    with running_gateway(tmp_path) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            created = (
                await client.post(
                    "/graphql",
                    json={
                        "query": CREATE,
                        "variables": {"ref": ref, "returnUrl": f"{base}/healthz"},
                    },
                )
            ).json()["data"]["createSession"]
            assert created["userErrors"] == []
            session = created["session"]
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
                page = await browser.new_page(
                    user_agent="kyc-gateway-test", java_script_enabled=True
                )
                await page.goto(session["verificationUrl"])
                assert "Didit sandbox" in await page.title() or "Didit sandbox" in (
                    await page.content()
                )
                # The reference is rendered as text, not markup.
                assert await page.locator("b", has_text=ref[9:15]).count() == 0
                assert ref in await page.inner_text("body")
                await page.click("button[value=open]")
                await page.wait_for_selector("button[value=approve]")
                await page.screenshot(path=str(tmp_path / "sandbox-page.png"))
                await page.click("button[value=approve]")
                # Didit redirects to the callback with its documented query parameters.
                await page.wait_for_url(f"{base}/healthz?*")
                assert "status=Approved" in page.url
                assert "verificationSessionId=" in page.url
                await browser.close()
            got = (
                await client.post(
                    "/graphql",
                    json={
                        "query": GET,
                        "variables": {"id": session["id"]},
                    },
                )
            ).json()["data"]["session"]
    assert got["status"] == "APPROVED"
    assert got["providerStatus"] == "Approved"
    assert [h["source"] for h in got["history"]] == ["API", "WEBHOOK", "WEBHOOK"]
