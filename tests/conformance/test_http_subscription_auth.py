"""Multipart HTTP subscriptions in a keyed deployment get the websocket's auth: anonymous
callers are refused before anything is parsed, scopes and client-token ownership are checked
as on a websocket, and a client token's stream ends when the token expires (as its websocket
is closed then)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conformance.multipart import MULTIPART_ACCEPT, parts
from tests.e2e.server import GatewayProcess
from tests.support.keys import client_token, create_sessions, env, expired_token, key

WATCH = """
    subscription Watch($id: ID!) {
      sessionStatusChanged(sessionId: $id, after: "0") { status cursor }
    }
    """
#: A client token's stream must end this soon after the token's `exp` (generous).
EXPIRY_SLACK_S = 5.0


@dataclass(frozen=True)
class Keyed:
    server: GatewayProcess
    own: str
    other: str


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keyed]:
    with GatewayProcess(tmp_path_factory.mktemp("keyed-multipart"), extra_env=env()) as server:
        ids = create_sessions(server.base, ["own", "other"], provider="didit")
        yield Keyed(server, ids[0], ids[1])


@dataclass
class Stream:
    status: int
    content_type: str
    payloads: list[dict[str, Any]]
    body: Any = None
    seconds: float = 0.0


async def _subscribe(
    base: str, session_id: str, credential: str | None, first: int, within_s: float = 30.0
) -> Stream:
    """Up to `first` payloads of a multipart subscription (those that arrive `within_s`: a
    stream that should have ended keeps sending heartbeats), or the plain answer if refused."""
    headers = {"accept": MULTIPART_ACCEPT}
    if credential is not None:
        headers["authorization"] = f"Bearer {credential}"
    body = {"query": WATCH, "variables": {"id": session_id}}
    started = time.monotonic()
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as client,
        client.stream("POST", "/graphql", json=body, headers=headers) as r,
    ):
        content_type = r.headers.get("content-type", "")
        if not content_type.startswith("multipart/mixed"):
            await r.aread()
            return Stream(r.status_code, content_type, [], r.json())
        payloads = []
        with suppress(TimeoutError):
            async with asyncio.timeout(within_s):
                async for part in parts(r):
                    if "payload" in part:
                        payloads.append(part["payload"])
                        if len(payloads) == first:
                            break
        return Stream(r.status_code, content_type, payloads, seconds=time.monotonic() - started)


def _codes(response: dict[str, Any]) -> set[str]:
    return {(e.get("extensions") or {}).get("code") for e in response.get("errors") or []}


@pytest.mark.parametrize(
    "credential",
    [None, "kgw_not_a_key_at_all", "expired"],
    ids=["none", "wrong_key", "expired_client_token"],
)
def test_unauthenticated_multipart_subscription_is_refused_before_streaming(
    keyed: Keyed, credential: str | None
) -> None:
    if credential == "expired":
        credential = expired_token(keyed.own)
    stream = asyncio.run(_subscribe(keyed.server.base, keyed.own, credential, first=1))
    assert not stream.content_type.startswith("multipart"), stream
    assert stream.body["data"] is None
    assert _codes(stream.body) == {"UNAUTHENTICATED"}, stream.body


@pytest.mark.parametrize(
    "who,session,code",
    [
        ("reader", "own", None),
        ("stats", "own", "FORBIDDEN"),  # an API key without sessions:read
        ("own_token", "own", None),
        ("own_token", "other", "FORBIDDEN"),  # a client token follows its own session only
    ],
)
def test_multipart_subscription_checks_scopes_and_ownership(
    keyed: Keyed, who: str, session: str, code: str | None
) -> None:
    credential = client_token(keyed.own, 300) if who == "own_token" else key(who)
    session_id = keyed.own if session == "own" else keyed.other
    stream = asyncio.run(_subscribe(keyed.server.base, session_id, credential, first=1))
    assert stream.content_type.startswith("multipart/mixed"), stream
    [payload] = stream.payloads
    if code is None:
        assert "errors" not in payload, payload
        assert payload["data"]["sessionStatusChanged"]["status"] == "CREATED"
    else:
        assert payload["data"] is None
        assert _codes(payload) == {code}, payload


def test_client_token_stream_ends_when_the_token_expires(keyed: Keyed) -> None:
    ttl_s = 2
    token = client_token(keyed.own, ttl_s)
    within_s = ttl_s + EXPIRY_SLACK_S
    stream = asyncio.run(_subscribe(keyed.server.base, keyed.own, token, 10, within_s))
    # The replayed CREATED change, then the stream's last part: the expiry.
    assert len(stream.payloads) == 2, stream.payloads
    assert stream.payloads[0]["data"]["sessionStatusChanged"]["status"] == "CREATED"
    last = stream.payloads[-1]
    assert last["data"] is None
    assert _codes(last) == {"UNAUTHENTICATED"}, last
    assert last["errors"][0]["message"] == "client token expired"
    assert stream.seconds < within_s, stream.seconds
