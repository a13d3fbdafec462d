"""`/insights` in a keyed deployment: a browser signs in with a stats:read key and gets a
short-lived signed cookie, never the key; cross-site posts, forged, tampered and revoked
cookies get nothing; the pages fit a 390 px phone. The console follows its session across a
reload (issue 15, item 8)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import jwt
import jwt.utils
import pytest
from playwright.async_api import Page, async_playwright

from gateway.auth import hash_key
from gateway.ops.simulate import simulate
from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.server import GatewayProcess
from tests.support.keys import KEYS, TOKEN_SECRET, env, key

COOKIE = "kycgw_insights"
PHONE = {"width": 390, "height": 844}
WRONG_KEY = "kgw_test_wrong_key_but_plausible_000000"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("insights"), extra_env=env()) as server:
        yield server


@pytest.fixture(scope="module")
def with_sessions(keyed: GatewayProcess) -> GatewayProcess:
    summary = asyncio.run(
        simulate(keyed.base, 6, concurrency=3, seed=5, api_key=key("operator"), quiet=True)
    )
    assert sum(summary.created.values()) == 6, summary.errors
    return keyed


def own_origin(server: GatewayProcess) -> dict[str, str]:
    return {"origin": server.base}


def sign_in(client: httpx.Client, server: GatewayProcess, api_key: str) -> httpx.Response:
    return client.post("/insights/sign-in", data={"key": api_key}, headers=own_origin(server))


async def scroll_width(page: Page) -> int:
    return int(await page.evaluate("document.scrollingElement.scrollWidth"))


async def test_a_browser_signs_in_sees_insights_on_a_phone_and_signs_out(
    with_sessions: GatewayProcess, tmp_path: Path
) -> None:
    base = with_sessions.base
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = await browser.new_context(viewport=PHONE)
        page = await context.new_page()
        first = await page.goto(f"{base}/insights")
        assert first is not None and first.status == 401
        await page.wait_for_selector("form#sign-in")
        assert await scroll_width(page) <= PHONE["width"]

        for wrong, status, says in (
            (WRONG_KEY, 401, "not a valid API key"),
            (key("reader"), 403, "lacks the stats:read scope"),
        ):
            await page.fill("#key", wrong)
            async with page.expect_response(f"{base}/insights/sign-in") as answer:
                await page.click("form#sign-in button")
            assert (await answer.value).status == status
            assert says in await page.inner_text("#sign-in-error")
            assert await context.cookies() == []

        await page.fill("#key", key("stats"))
        await page.click("form#sign-in button")
        await page.wait_for_selector("svg[data-chart=funnel]")
        assert page.url.startswith(f"{base}/insights")
        assert await page.locator("#figures td[data-label=vendor]").count() >= 1
        assert await scroll_width(page) <= PHONE["width"]
        await page.screenshot(path=str(tmp_path / "insights-phone.png"), full_page=True)

        (cookie,) = await context.cookies()
        assert cookie["name"] == COOKIE
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/insights"
        assert cookie["secure"] is False  # plain http on loopback; https sets it
        assert time.time() + 3000 < cookie["expires"] <= time.time() + 3660
        assert key("stats") not in cookie["value"]
        assert await page.evaluate("document.cookie") == ""  # no script can read it

        await page.reload()
        await page.wait_for_selector("svg[data-chart=funnel]")
        await page.click("form#sign-out button")
        await page.wait_for_selector("form#sign-in")
        assert await context.cookies() == []
        reopened = await page.goto(f"{base}/insights")
        assert reopened is not None and reopened.status == 401
        await browser.close()
    log = with_sessions.log_text()
    for secret in (key("stats"), key("reader"), WRONG_KEY):
        assert secret not in log


def test_sign_in_and_out_refuse_other_origins(keyed: GatewayProcess) -> None:
    """A page elsewhere cannot sign a browser in (login CSRF) or out."""
    with httpx.Client(base_url=keyed.base, timeout=10) as client:
        for headers in (
            {"origin": "http://evil.example"},
            {"origin": "null", "sec-fetch-site": "cross-site"},
            {"sec-fetch-site": "same-site"},
            {},
        ):
            for path in ("/insights/sign-in", "/insights/sign-out"):
                answer = client.post(path, data={"key": key("stats")}, headers=headers)
                assert answer.status_code == 403, (path, headers)
                assert "set-cookie" not in answer.headers
        # A browser whose referrer policy hides the Origin still says where the form was.
        fine = client.post(
            "/insights/sign-in",
            data={"key": key("stats")},
            headers={"origin": "null", "sec-fetch-site": "same-origin"},
        )
        assert fine.status_code == 303 and COOKIE in fine.headers["set-cookie"]


def test_the_cookie_is_signed_short_lived_and_no_credential_elsewhere(
    keyed: GatewayProcess,
) -> None:
    with httpx.Client(base_url=keyed.base, timeout=10) as client:
        answer = sign_in(client, keyed, key("stats"))
        assert answer.status_code == 303 and answer.headers["location"] == "/insights"
        header = answer.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
        assert {"httponly", "path", "max-age"} <= attributes
        assert "samesite=strict" in header.lower() and "max-age=3600" in header.lower()
        morsel = SimpleCookie(header)[COOKIE]
        value = morsel.value
        assert key("stats") not in value and hash_key(key("stats")) not in value
        claims = jwt.decode(value, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 3600 and claims["sub"] == "stats"

        def insights(cookie: str) -> httpx.Response:
            return httpx.get(f"{keyed.base}/insights", cookies={COOKIE: cookie}, timeout=10)

        assert insights(value).status_code == 200
        assert 'id="sign-out"' in insights(value).text
        head, body, signature = value.split(".")
        # Tampered: the same claims for another key; any byte of the signature changed.
        other = dict(claims, sub="admin")
        forged_body = jwt.utils.base64url_encode(json.dumps(other).encode()).decode()
        assert insights(f"{head}.{forged_body}.{signature}").status_code == 401
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        assert insights(f"{head}.{body}.{flipped}").status_code == 401
        # Signed with the client-token secret itself: the cookie has a key of its own.
        assert insights(jwt.encode(claims, TOKEN_SECRET, algorithm="HS256")).status_code == 401
        assert insights("").status_code == 401
        # The cookie opens /insights only: not GraphQL, not /metrics.
        graphql = client.post(
            "/graphql",
            json={"query": "{ providers { name } }"},
            headers={"authorization": f"Bearer {value}"},
        )
        assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert httpx.get(f"{keyed.base}/metrics", cookies={COOKIE: value}).status_code in (
            401,
            403,
        )
        out = client.post("/insights/sign-out", headers=own_origin(keyed))
        assert out.status_code == 303
        assert "max-age=0" in out.headers["set-cookie"].lower()


def test_the_cookie_outlives_a_restart_but_not_its_key(tmp_path: Path) -> None:
    """Replicas share the client-token secret, so a cookie made by one works on another;
    removing the key from KYCGW_API_KEYS ends it."""
    with GatewayProcess(tmp_path / "gw", extra_env=env()) as server:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            value = SimpleCookie(sign_in(client, server, key("stats")).headers["set-cookie"])[
                COOKIE
            ].value
    with GatewayProcess(tmp_path / "gw", port=server.port, extra_env=env()) as again:
        page = httpx.get(f"{again.base}/insights", cookies={COOKIE: value}, timeout=10)
        assert page.status_code == 200
    without = {
        **env(),
        "KYCGW_API_KEYS": json.dumps(
            [
                {"name": n, "sha256": hash_key(key(n)), "scopes": s}
                for n, s in KEYS.items()
                if n != "stats"
            ]
        ),
    }
    with GatewayProcess(tmp_path / "gw", port=server.port, extra_env=without) as revoked:
        page = httpx.get(f"{revoked.base}/insights", cookies={COOKIE: value}, timeout=10)
        assert page.status_code == 401 and 'id="sign-in"' in page.text


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path / "dev") as server:
        yield server


async def test_the_console_follows_its_session_across_a_reload(dev: GatewayProcess) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = await browser.new_context()
        console = await context.new_page()
        await console.goto(f"{dev.base}/console")
        await console.wait_for_selector("#provider option[value=didit]", state="attached")
        await console.select_option("#provider", "didit")
        await console.click("#create")
        await console.wait_for_selector("#timeline li[data-status=CREATED]")
        session_id = await console.inner_text("#session-id")
        assert session_id and console.url.endswith(f"#session={session_id}")

        await console.reload()
        await console.wait_for_selector("#live:has-text('(live)')")
        assert await console.inner_text("#session-id") == session_id
        await console.wait_for_selector("#timeline li[data-status=CREATED]")

        # Still following: the person's progress after the reload reaches the timeline.
        async with context.expect_page() as opened:
            await console.click("#verification-link")
        hosted = await opened.value
        await hosted.wait_for_load_state()
        await hosted.click("button[value=open]")
        await console.wait_for_selector("#timeline li[data-status=IN_PROGRESS]", timeout=20_000)
        statuses = await console.eval_on_selector_all(
            "#timeline li", "items => items.map(li => li.dataset.status)"
        )
        assert statuses == ["CREATED", "IN_PROGRESS"]
        await browser.close()
