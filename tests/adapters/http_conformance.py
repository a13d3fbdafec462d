"""How every adapter behaves over HTTP, said once: reads retried, writes never, transport
failures and unreadable answers as PROVIDER_UNAVAILABLE, session ids quoted, vendor messages
scrubbed and never an echo of what we sent. A vendor's test class subclasses `HttpConformance`
and supplies the vendor's replies and calls (after LiteLLM's `BaseLLMChatTest`); the scripted
vendor answers (tests/support/scripted_vendor.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.base import CreateSessionRequest, ErrorCode, ProviderAdapter, ProviderError
from adapters.common.scrub import EMAIL_PLACEHOLDER, REDACTED
from tests.support.scripted_vendor import Reply, ScriptedVendor, assert_unavailable

Call = Callable[[ProviderAdapter], Awaitable[object]]
#: An error document of the vendor's own shape: (HTTP status, message, provider code).
ErrorReply = Callable[[int, str, str | None], httpx.Response]

#: Personal data and a capability-URL token a vendor message may echo back.
LEAKED_NAME = "jane.doe"
LEAKED_EMAIL = f"{LEAKED_NAME}@example.com"
LEAKED_TOKEN = "tok_9f8e7d6c5b4a39281706abcd"
ECHOED_REFERENCE = "private-ref-123"


class HttpConformance:
    """Fixtures to provide: `adapter` (live config, no retry waits), `session_id`,
    `read_reply` with `read_status`, `quoted_read`, `unretried_writes`, `retried_call`,
    `error_reply`; `refusal`, `unexpected_read_bodies` and `create_prelude` have defaults, and
    `create_request` comes from `AdapterConformance`."""

    @pytest.fixture
    def scripted(self, adapter: ProviderAdapter) -> Callable[..., ProviderAdapter]:
        """The adapter talking to a `ScriptedVendor` (config fields may be overridden)."""

        def build(script: ScriptedVendor, **overrides: Any) -> ProviderAdapter:
            config = replace(adapter.config, transport=script.transport(), **overrides)
            return type(adapter)(config)

        return build

    @pytest.fixture
    def session_id(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def read_reply(self) -> httpx.Response:
        """The vendor's answer to a read of `session_id`."""
        raise NotImplementedError

    @pytest.fixture
    def read_status(self) -> object:
        """The normalized status `read_reply` stands for."""
        raise NotImplementedError

    @pytest.fixture
    def quoted_read(self) -> tuple[str, bytes]:
        """A session id that tries to leave its path, and the raw path it must be sent to."""
        raise NotImplementedError

    @pytest.fixture
    def unretried_writes(self) -> list[Call]:
        """Writes a failure must not repeat (they carry no idempotency key)."""
        raise NotImplementedError

    @pytest.fixture
    def retried_call(self) -> Call:
        """An idempotent call: retried on transport errors up to `retry_attempts`."""
        raise NotImplementedError

    @pytest.fixture
    def error_reply(self) -> ErrorReply:
        raise NotImplementedError

    @pytest.fixture
    def refusal(self, session_id: str) -> tuple[int, Call]:
        """An HTTP status the vendor refuses with, and a call it refuses (default: a read)."""
        return 403, lambda a: a.fetch_session(session_id)

    @pytest.fixture
    def unexpected_read_bodies(self) -> list[Any]:
        """Success answers to a read that are not a session the adapter can read."""
        return [{"unexpected": True}]

    @pytest.fixture
    def create_prelude(self) -> list[Reply]:
        """Replies to what a create asks before the create itself (e.g. Beltic's account)."""
        return []

    # -- retries ----------------------------------------------------------------------------
    async def test_get_is_retried_on_503_then_succeeds(
        self,
        scripted: Callable[..., ProviderAdapter],
        session_id: str,
        read_reply: httpx.Response,
        read_status: object,
    ) -> None:
        script = ScriptedVendor(httpx.Response(503), httpx.Response(502), read_reply)
        snap = await scripted(script).fetch_session(session_id)
        assert snap.status is read_status
        assert len(script.requests) == 3

    @pytest.mark.parametrize(
        "failure", [httpx.Response(503), httpx.ReadTimeout("slow")], ids=["503", "timeout"]
    )
    async def test_writes_are_never_retried(
        self,
        scripted: Callable[..., ProviderAdapter],
        unretried_writes: list[Call],
        read_reply: httpx.Response,
        failure: Reply,
    ) -> None:
        for call in unretried_writes:
            script = ScriptedVendor(failure, read_reply)
            await assert_unavailable(script, call(scripted(script)), attempts=1)

    async def test_transport_errors_become_provider_unavailable(
        self, scripted: Callable[..., ProviderAdapter], retried_call: Call
    ) -> None:
        script = ScriptedVendor(httpx.ConnectError("refused"))
        # three attempts: the call is idempotent, so it is retried
        await assert_unavailable(script, retried_call(scripted(script)), attempts=3)

    # -- answers we cannot read -------------------------------------------------------------
    async def test_non_json_success_body_is_provider_unavailable(
        self,
        scripted: Callable[..., ProviderAdapter],
        session_id: str,
        create_request: CreateSessionRequest,
        create_prelude: list[Reply],
    ) -> None:
        calls: list[tuple[list[Reply], int, Call]] = [
            ([], 200, lambda a: a.fetch_session(session_id)),
            (create_prelude, 201, lambda a: a.create_session(create_request)),
        ]
        for before, status, call in calls:
            script = ScriptedVendor(*before, httpx.Response(status, content=b"<html>"))
            with pytest.raises(ProviderError) as info:
                await call(scripted(script))
            assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE

    async def test_fetch_unexpected_body_is_provider_unavailable(
        self,
        scripted: Callable[..., ProviderAdapter],
        session_id: str,
        unexpected_read_bodies: list[Any],
    ) -> None:
        for body in unexpected_read_bodies:
            script = ScriptedVendor(httpx.Response(200, json=body))
            with pytest.raises(ProviderError) as info:
                await scripted(script).fetch_session(session_id)
            assert info.value.code is ErrorCode.PROVIDER_UNAVAILABLE, body

    # -- paths --------------------------------------------------------------------------------
    async def test_fetch_quotes_the_session_id(
        self,
        scripted: Callable[..., ProviderAdapter],
        quoted_read: tuple[str, bytes],
        read_reply: httpx.Response,
    ) -> None:
        session_id, raw_path = quoted_read
        script = ScriptedVendor(read_reply)
        await scripted(script).fetch_session(session_id)
        assert script.requests[0].url.raw_path == raw_path

    async def test_empty_session_id_is_bad_input(
        self, scripted: Callable[..., ProviderAdapter], read_reply: httpx.Response
    ) -> None:
        script = ScriptedVendor(read_reply)
        with pytest.raises(ProviderError) as info:
            await scripted(script).fetch_session("")
        assert info.value.code is ErrorCode.BAD_USER_INPUT
        assert not script.requests

    # -- what a message may say -------------------------------------------------------------
    async def test_vendor_messages_are_scrubbed(
        self,
        scripted: Callable[..., ProviderAdapter],
        adapter: ProviderAdapter,
        error_reply: ErrorReply,
        refusal: tuple[int, Call],
    ) -> None:
        key, secret = adapter.config.api_key, adapter.config.webhook_secret
        leak = (
            f"Key {key}-extra and {secret} rejected for {LEAKED_EMAIL} "
            f"at https://verify.example.com/s/{LEAKED_TOKEN}"
        )
        status, call = refusal
        script = ScriptedVendor(error_reply(status, leak, f"bad-{key}"))
        with pytest.raises(ProviderError) as info:
            await call(scripted(script))
        message = info.value.message
        assert key not in message and secret not in message
        assert LEAKED_NAME not in message and LEAKED_TOKEN not in message
        assert REDACTED in message and EMAIL_PLACEHOLDER in message
        assert key not in (info.value.provider_code or "")

    async def test_request_body_is_never_echoed(
        self,
        scripted: Callable[..., ProviderAdapter],
        error_reply: ErrorReply,
        create_prelude: list[Reply],
        create_request: CreateSessionRequest,
    ) -> None:
        script = ScriptedVendor(*create_prelude, error_reply(400, "Bad request.", None))
        request = replace(create_request, client_reference=ECHOED_REFERENCE)
        with pytest.raises(ProviderError) as info:
            await scripted(script).create_session(request)
        assert ECHOED_REFERENCE not in info.value.message
