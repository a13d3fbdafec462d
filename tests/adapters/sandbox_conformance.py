"""What every vendor emulator (sandbox) must do, said once. A vendor's sandbox test module
subclasses `SandboxConformance` as `Test<Vendor>SandboxConformance`, supplies its `make`
fixture (a `HarnessFactory`) and the few hooks below, and inherits the tests unchanged
(the sandbox side of `tests/adapters/conformance.py`).

The tests: the handle the gateway mounts (provider, fresh credentials per start), the
control endpoint (malformed bodies 400, unknown session 404), the state file (an unreadable
one is set aside), and webhook delivery (retries give up after the configured delays, logs
hold no secrets or personal data, `aclose()` cancels pending retries).

What each vendor's module adds is that vendor's contract, checked from the vendor's docs, not
from the emulator or the adapter: signatures re-computed there with hmac (or PyJWT) directly,
and the documented-shape tests comparing the emulator's answers with the documented payloads
the cassettes hold, so neither the emulator nor the adapter can quietly drift from the docs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from adapters.base import SandboxConfig
from tests.support.sandbox_harness import FAST_RETRIES, SandboxHarness

Factory = Callable[..., Any]


class SandboxConformance:
    """Subclasses set the class attributes and override the hooks their vendor needs."""

    provider: ClassVar[str]
    #: The shortest API key a fresh sandbox may make.
    min_key_length: ClassVar[int] = 32
    #: Control bodies every emulator must refuse with 400.
    bad_control_bodies: ClassVar[tuple[bytes, ...]] = (
        b"",
        b"not json",
        b"{nope",
        b"[]",
        b"{}",
        b'{"action": 3}',
        b'{"action": "teleport"}',
        b'{"verb": "open"}',
        b'{"status": "open"}',
    )
    #: A session id of the vendor's shape that no emulator has made.
    unknown_session_id: ClassVar[str]
    #: Webhooks a create sends before `one_webhook`'s own (e.g. a `session.created`).
    webhooks_on_create: ClassVar[int] = 0
    #: The status the webhook sink answers in the retry tests (one the vendor retries).
    retry_status: ClassVar[int] = 503
    #: The retry delays of the give-up test.
    retry_delays: ClassVar[tuple[float, ...]] = FAST_RETRIES
    #: The control actions after which a new session has sent exactly one webhook.
    webhook_actions: ClassVar[tuple[str, ...]] = ("open",)
    #: (where a session is, a control action its vendor does not allow from there): each
    #: is refused with `refusal_status` and changes nothing.
    out_of_turn: ClassVar[tuple[tuple[Any, str], ...]]
    refusal_status: ClassVar[int] = 409
    #: Control actions the vendor has no state for (400), and the ones the answer names.
    lacking_actions: ClassVar[tuple[str, ...]]
    supported_actions: ClassVar[tuple[str, ...]]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """The per-vendor tables become test parameters."""
        if "bad_body" in metafunc.fixturenames:
            metafunc.parametrize("bad_body", self.bad_control_bodies)
        if "lacking" in metafunc.fixturenames:
            metafunc.parametrize("lacking", self.lacking_actions)
        if "move" in metafunc.fixturenames:
            ids = [f"{where}-{action}" for where, action in self.out_of_turn]
            metafunc.parametrize("move", self.out_of_turn, ids=ids)

    #: Where the test modules' emulators say they are served (a gateway's mount) and where
    #: their webhooks go: set from `provider`.
    public: ClassVar[str]
    webhook_url: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.public = f"http://127.0.0.1:8000/sandbox/{cls.provider}"
        cls.webhook_url = f"http://gateway.test/webhooks/{cls.provider}"

    # -- hooks -----------------------------------------------------------------------------
    async def new_session(self, harness: Any) -> str:
        """Create a session through the vendor API; its id."""
        return str((await harness.create())["id"])

    async def one_webhook(self, harness: Any) -> str:
        """Create a session and make exactly one webhook of it go out (after the create's
        own `webhooks_on_create`); the session's id."""
        sid = await self.new_session(harness)
        await harness.drive(sid, *self.webhook_actions)
        return sid

    async def after_retries_gave_up(self, harness: Any, session_id: str) -> None:
        """Vendor checks once one delivery's retries are spent (the sink still answers
        `retry_status` once more)."""

    async def personal_data_in_flight(self, harness: Any) -> list[str]:
        """Drive a session carrying personal data through deliveries (failed ones too);
        the values the logs must not show, beyond the handle's secrets. By default: one
        failed delivery, and only the secrets."""
        harness.sink.script = [self.retry_status]
        await self.one_webhook(harness)
        await harness.sandbox.idle()
        return []

    def stored_id(self, saved: Any) -> str:
        """The first session's id in the state file."""
        return str(saved["sessions"][0]["id"])

    def check_state(self, saved: Any, harness: Any) -> None:
        """Vendor checks of a state file written afresh."""

    def check_refusal(self, response: httpx.Response, status: int) -> None:
        """Vendor checks of a refusal's body (its vendor's error shape)."""

    async def session_at(self, harness: Any, where: Any) -> str:
        """A new session moved to `where` (by default: the control actions it lists)."""
        sid = await self.new_session(harness)
        await harness.drive(sid, *where)
        return sid

    async def observe(self, harness: Any, session_id: str) -> Any:
        """What a refused action must leave as it was, beyond the webhooks sent."""
        return None

    def check_out_of_turn(self, response: httpx.Response, where: Any, action: str) -> None:
        """Vendor checks of an out-of-turn refusal (which action, or status, it names)."""

    def lacking_text(self, response: httpx.Response, action: str) -> str:
        """The human text of a refused unknown action (vendor checks of its body here)."""
        raise NotImplementedError

    def other_config(self) -> SandboxConfig:
        return SandboxConfig(public_base_url=self.public, webhook_url=self.webhook_url)

    def check_handle(self, sandbox: Any, other: Any) -> None:
        """Vendor checks of the handle: key prefixes, options, constructor refusals."""

    # -- the handle ------------------------------------------------------------------------
    async def test_handle_exposes_the_gateway_interface(self, make: Factory) -> None:
        sandbox = make().sandbox
        other = type(sandbox)(self.other_config())
        try:
            assert sandbox.provider == self.provider
            assert sandbox.api_key != other.api_key
            assert sandbox.webhook_secret != other.webhook_secret
            assert len(sandbox.api_key) >= self.min_key_length
            assert len(sandbox.webhook_secret) >= 32
            self.check_handle(sandbox, other)
        finally:
            await other.aclose()

    # -- the control endpoint --------------------------------------------------------------
    async def test_simulate_rejects_bad_bodies(self, make: Factory, bad_body: bytes) -> None:
        harness: SandboxHarness[Any] = make()
        sid = await self.new_session(harness)
        response = await harness.client.post(
            f"/sessions/{sid}/simulate",
            content=bad_body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400, response.text
        self.check_refusal(response, 400)

    async def test_actions_its_vendor_lacks_are_400_naming_the_supported_ones(
        self, make: Factory, lacking: str
    ) -> None:
        harness: SandboxHarness[Any] = make()
        sid = await self.new_session(harness)
        before = (await self.observe(harness, sid), len(harness.sink.requests))
        response = await harness.simulate(sid, lacking)
        assert response.status_code == 400, response.text
        text = self.lacking_text(response, lacking)
        for supported in self.supported_actions:
            assert supported in text
        assert (await self.observe(harness, sid), len(harness.sink.requests)) == before

    async def test_actions_out_of_turn_are_refused(
        self, make: Factory, move: tuple[Any, str]
    ) -> None:
        where, action = move
        harness: SandboxHarness[Any] = make()
        sid = await self.session_at(harness, where)
        before = (await self.observe(harness, sid), len(harness.sink.requests))
        response = await harness.simulate(sid, action)
        assert response.status_code == self.refusal_status, response.text
        self.check_out_of_turn(response, where, action)
        assert (await self.observe(harness, sid), len(harness.sink.requests)) == before

    async def test_simulate_unknown_session_is_404(self, make: Factory) -> None:
        harness: SandboxHarness[Any] = make()
        response = await harness.simulate(self.unknown_session_id, "open")
        assert response.status_code == 404
        self.check_refusal(response, 404)
        assert harness.sink.requests == []

    async def test_the_simulation_script_is_served(self, make: Factory) -> None:
        harness: SandboxHarness[Any] = make()
        response = await harness.client.get("/simulate")
        assert response.status_code == 200
        script = response.json()
        assert script["paths"] and all(p["weight"] > 0 for p in script["paths"])
        assert harness.sandbox.is_control_path("/simulate")

    # -- the state file --------------------------------------------------------------------
    async def test_unreadable_state_is_set_aside(self, make: Factory, tmp_path: Path) -> None:
        state = tmp_path / f"{self.provider}.json"
        state.write_text("{not json")
        harness = make(state_path=str(state))
        created = await self.new_session(harness)
        assert (tmp_path / f"{self.provider}.json.corrupt").read_text() == "{not json"
        saved = json.loads(state.read_text())
        assert self.stored_id(saved) == created
        self.check_state(saved, harness)

    # -- webhook delivery ------------------------------------------------------------------
    async def test_retries_give_up_after_the_configured_delays(self, make: Factory) -> None:
        harness: SandboxHarness[Any] = make(delays=self.retry_delays)
        failing = [self.retry_status] * (len(self.retry_delays) + 2)
        harness.sink.script = [200] * self.webhooks_on_create + failing
        sid = await self.one_webhook(harness)
        expected = self.webhooks_on_create + 1 + len(self.retry_delays)  # + one per delay
        await harness.sink.wait_for(expected)
        await harness.sandbox.idle()  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
        assert len(harness.sink.requests) == expected
        await self.after_retries_gave_up(harness, sid)

    async def test_aclose_cancels_pending_retries(self, make: Factory) -> None:
        harness: SandboxHarness[Any] = make(delays=(30.0, 30.0))
        harness.sink.script = [200] * self.webhooks_on_create + [self.retry_status]
        await self.one_webhook(harness)
        await harness.sink.wait_for(self.webhooks_on_create + 1)
        async with asyncio.timeout(1):
            await harness.sandbox.aclose()
        assert len(harness.sink.requests) == self.webhooks_on_create + 1

    async def test_webhook_log_has_no_secrets_or_pii(
        self, make: Factory, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="adapters")
        harness: SandboxHarness[Any] = make()
        private = await self.personal_data_in_flight(harness)
        text = caplog.text
        assert caplog.records and "webhook" in text
        for value in (harness.sandbox.webhook_secret, harness.sandbox.api_key, *private):
            assert value not in text


class HostedPageConformance:
    """For an emulator with a hosted page: its form refuses what the session's step does not
    offer (409, the posted value never echoed unescaped) and sends nothing. Mixed into a
    `SandboxConformance` subclass."""

    #: Actions the page of a new session does not offer.
    page_refusals: ClassVar[tuple[str, ...]]
    webhooks_on_create: ClassVar[int]

    async def hosted_page(self, harness: Any) -> tuple[str, str]:
        """A new session's hosted page: (its path under the emulator, the session id)."""
        raise NotImplementedError

    async def after_page_refusals(self, harness: Any, session_id: str, path: str) -> None:
        """Vendor checks once the refusals are done (the page still works)."""

    async def test_hosted_form_refuses_actions_of_another_step(self, make: Factory) -> None:
        harness: SandboxHarness[Any] = make()
        path, sid = await self.hosted_page(harness)
        for action in (*self.page_refusals, "<b>x</b>"):
            response = await harness.client.post(f"{path}/action", data={"action": action})
            assert response.status_code == 409
            assert "<b>x</b>" not in response.text
        assert len(harness.sink.requests) == self.webhooks_on_create
        await self.after_page_refusals(harness, sid, path)
