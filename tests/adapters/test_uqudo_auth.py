"""uqudo OAuth (adapters/uqudo/auth.py): the client-credentials request, the token cache,
and the one refresh a 401 earns."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from adapters.base import CreateSessionRequest, ErrorCode, ProviderError
from adapters.uqudo import inferred
from adapters.uqudo.auth import AccessToken, BearerAuth, TokenCache
from tests.adapters.test_uqudo_adapter import (
    CLIENT_SECRET,
    NOT_READY,
    FakeUqudo,
    created_reply,
    jws_reply,
    token_reply,
)
from tests.support.signing.uqudo import CLIENT_ID, SID, Clock, documented_claims, sign


@pytest.fixture
def fake() -> FakeUqudo:
    return FakeUqudo()


# -- the token request ---------------------------------------------------------------------------
async def test_token_request_is_the_documented_form(fake: FakeUqudo) -> None:
    adapter = fake.adapter()
    await adapter.fetch_session(SID)
    (token,) = fake.calls("token")
    assert token.method == "POST"
    assert str(token.url) == "https://auth.uqudo.io/api/oauth/token"
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token.headers
    assert parse_qs(token.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    (info,) = fake.calls("info")
    assert info.headers["Authorization"] == "Bearer access-1"
    await adapter.aclose()


async def test_api_key_slot_overrides_the_client_secret_option(fake: FakeUqudo) -> None:
    adapter = fake.adapter(api_key="sandbox-secret")
    await adapter.tokens.get()
    assert parse_qs(fake.calls("token")[0].content.decode())["client_secret"] == ["sandbox-secret"]
    await adapter.aclose()


async def test_missing_credentials_fail_without_a_call(fake: FakeUqudo) -> None:
    adapter = fake.adapter(options={"client_id": ""})
    with pytest.raises(ProviderError) as info:
        await adapter.fetch_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert info.value.provider_code == "missing_credentials"
    assert fake.requests == []


# -- caching -------------------------------------------------------------------------------------
async def test_token_is_cached_across_calls(fake: FakeUqudo) -> None:
    adapter = fake.adapter()
    for _ in range(3):
        await adapter.fetch_session(SID)
    assert len(fake.calls("token")) == 1
    assert {r.headers["Authorization"] for r in fake.calls("info")} == {"Bearer access-1"}
    await adapter.aclose()


async def test_token_is_refreshed_shortly_before_it_expires(fake: FakeUqudo) -> None:
    clock = Clock()
    adapter = fake.adapter(clock=clock)
    await adapter.fetch_session(SID)
    clock.advance(1800 - inferred.TOKEN_REFRESH_MARGIN_S - 1)
    await adapter.fetch_session(SID)
    assert len(fake.calls("token")) == 1
    clock.advance(1)
    await adapter.fetch_session(SID)
    assert len(fake.calls("token")) == 2
    assert fake.calls("info")[-1].headers["Authorization"] == "Bearer access-2"
    await adapter.aclose()


@pytest.mark.parametrize(
    ("expires_in", "usable"),
    [(None, 1800 - 60), (1859, 1859 - 60), (60, 30), (10, 5)],
)
async def test_token_lifetime(fake: FakeUqudo, expires_in: float | None, usable: float) -> None:
    clock = Clock()
    fake.token_replies = [token_reply("t", expires_in=expires_in)]
    adapter = fake.adapter(clock=clock)
    await adapter.tokens.get()
    clock.advance(usable - 0.5)
    await adapter.tokens.get()
    assert adapter.tokens.fetches == 1
    clock.advance(1)
    await adapter.tokens.get()
    assert adapter.tokens.fetches == 2
    await adapter.aclose()


async def test_concurrent_callers_share_one_fetch() -> None:
    calls = 0

    async def fetch() -> AccessToken:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return AccessToken(f"token-{calls}", 100)

    tokens = TokenCache(fetch, clock=Clock())
    values = await asyncio.gather(*(tokens.get() for _ in range(10)))
    assert set(values) == {"token-1"} and calls == 1


async def test_invalidate_only_drops_the_token_it_names() -> None:
    issued = iter(["old", "new"])

    async def fetch() -> AccessToken:
        return AccessToken(next(issued), 100)

    tokens = TokenCache(fetch, clock=Clock())
    assert await tokens.get() == "old"
    tokens.invalidate("old")
    assert await tokens.get() == "new"
    tokens.invalidate("old")  # a late 401 for the old token keeps the fresh one
    assert await tokens.get() == "new" and tokens.fetches == 2


async def test_unusable_token_is_not_cached() -> None:
    async def fetch() -> AccessToken:
        return AccessToken("short", 0)

    tokens = TokenCache(fetch, clock=Clock())
    await tokens.get()
    await tokens.get()
    assert tokens.fetches == 2


# -- 401: refresh once ---------------------------------------------------------------------------
async def test_a_401_refreshes_the_token_once_and_retries(fake: FakeUqudo) -> None:
    fake.script("info", httpx.Response(401), jws_reply(sign(documented_claims())))
    adapter = fake.adapter()
    snap = await adapter.fetch_session(SID)
    assert snap.provider_status == "RESULT_APPROVED"
    first, second = fake.calls("info")
    assert first.headers["Authorization"] == "Bearer access-1"
    assert second.headers["Authorization"] == "Bearer access-2"
    assert len(fake.calls("token")) == 2
    await adapter.aclose()


async def test_a_second_401_is_provider_rejected(fake: FakeUqudo) -> None:
    fake.script("info", httpx.Response(401))
    adapter = fake.adapter()
    with pytest.raises(ProviderError) as info:
        await adapter.fetch_session(SID)
    assert info.value.code is ErrorCode.PROVIDER_REJECTED
    assert len(fake.calls("info")) == 2 and len(fake.calls("token")) == 2
    await adapter.aclose()


async def test_a_401_on_create_retries_the_same_body(fake: FakeUqudo) -> None:
    fake.script("create", httpx.Response(401), created_reply())
    adapter = fake.adapter()
    await adapter.create_session(CreateSessionRequest())
    first, second = fake.calls("create")
    assert first.content == second.content
    assert second.headers["Authorization"] == "Bearer access-2"
    await adapter.aclose()


async def test_refresh_is_per_call_not_sticky(fake: FakeUqudo) -> None:
    fake.script("info", httpx.Response(401), NOT_READY)
    adapter = fake.adapter()
    await adapter.fetch_session(SID)
    await adapter.fetch_session(SID)
    assert len(fake.calls("token")) == 2  # the refreshed token is cached and reused
    assert fake.calls("info")[-1].headers["Authorization"] == "Bearer access-2"
    await adapter.aclose()


def test_bearer_auth_is_async_only() -> None:
    async def fetch() -> AccessToken:
        return AccessToken("t", 1)

    auth = BearerAuth(TokenCache(fetch, clock=Clock()))
    with pytest.raises(RuntimeError):
        httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)), auth=auth).get(
            "https://id.uqudo.io/x"
        )


# -- token endpoint failures ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "code", "provider_code"),
    [
        (
            httpx.Response(
                401,
                json={"error": "invalid_client", "error_description": "Bad client credentials"},
            ),
            ErrorCode.PROVIDER_REJECTED,
            "invalid_client",
        ),
        (
            httpx.Response(400, json={"error": "unsupported_grant_type"}),
            ErrorCode.PROVIDER_REJECTED,
            "unsupported_grant_type",
        ),
        (
            httpx.Response(429, headers={"Retry-After": "7"}),
            ErrorCode.RATE_LIMITED,
            "rate_limited",
        ),
        (httpx.Response(500, text="oops"), ErrorCode.PROVIDER_UNAVAILABLE, "server_error"),
        (httpx.Response(200, text="not json"), ErrorCode.PROVIDER_UNAVAILABLE, None),
        (httpx.Response(200, json={"token_type": "bearer"}), ErrorCode.PROVIDER_UNAVAILABLE, None),
        (
            httpx.Response(200, json={"access_token": "x", "token_type": "mac"}),
            ErrorCode.PROVIDER_UNAVAILABLE,
            None,
        ),
        (httpx.ConnectError("refused"), ErrorCode.PROVIDER_UNAVAILABLE, None),
        (httpx.ReadTimeout("slow"), ErrorCode.PROVIDER_UNAVAILABLE, None),
    ],
)
async def test_token_endpoint_failures(
    fake: FakeUqudo, reply: Any, code: ErrorCode, provider_code: str | None
) -> None:
    fake.token_replies = [reply]
    adapter = fake.adapter()
    with pytest.raises(ProviderError) as info:
        await adapter.fetch_session(SID)
    assert info.value.code is code
    if provider_code is not None:
        assert info.value.provider_code == provider_code
    assert fake.calls("info") == []
    await adapter.aclose()


async def test_rate_limited_token_carries_retry_after(fake: FakeUqudo) -> None:
    fake.token_replies = [httpx.Response(429)]
    adapter = fake.adapter()
    with pytest.raises(ProviderError) as info:
        await adapter.tokens.get()
    assert info.value.retry_after == inferred.DEFAULT_RETRY_AFTER_S
    await adapter.aclose()


async def test_capitalised_bearer_token_type_is_accepted(fake: FakeUqudo) -> None:
    fake.token_replies = [httpx.Response(200, json={"access_token": "t", "token_type": "Bearer"})]
    adapter = fake.adapter()
    assert await adapter.tokens.get() == "t"
    await adapter.aclose()


async def test_token_errors_never_echo_the_secret(fake: FakeUqudo) -> None:
    fake.token_replies = [
        httpx.Response(
            401,
            json={"error": "invalid_client", "error_description": f"unknown {CLIENT_SECRET}"},
        )
    ]
    adapter = fake.adapter()
    with pytest.raises(ProviderError) as info:
        await adapter.tokens.get()
    assert CLIENT_SECRET not in info.value.message
    assert "[redacted]" in info.value.message
    await adapter.aclose()
