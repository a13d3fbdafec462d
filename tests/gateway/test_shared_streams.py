"""Which subscriptions may share one execution (gateway/web/graphql/shared_streams.py), and how a
shared stream treats a slow subscriber."""

from __future__ import annotations

import asyncio
from typing import Any

from strawberry.types.execution import ExecutionResult

from gateway.auth import DEV, Principal, PrincipalKind, Scope
from gateway.web.graphql.context import Context
from gateway.web.graphql.shared_streams import SharedResult, SharedStream, SharedStreams, share_key

FOLLOW = "subscription F($id: ID!) { sessionStatusChanged(sessionId: $id) { status cursor } }"


def context(principal: Principal = DEV) -> Context:
    return Context(service=None, auth=None, principal=principal)  # type: ignore[arg-type]


def key(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Any:
    return share_key(query, variables, name, context())


def test_same_document_variables_and_principal_share() -> None:
    assert key(FOLLOW, {"id": "s1"}) == key(FOLLOW, {"id": "s1"})
    assert key(FOLLOW, {"id": "s1"}) != key(FOLLOW, {"id": "s2"})
    reader = Principal(PrincipalKind.API_KEY, "reader", frozenset({Scope.SESSIONS_READ}))
    assert share_key(FOLLOW, {"id": "s1"}, None, context(reader)) != key(FOLLOW, {"id": "s1"})


def test_replaying_subscriptions_run_alone() -> None:
    inline = 'subscription { sessionStatusChanged(sessionId: "s1", after: "12") { status } }'
    assert key(inline) is None
    by_variable = (
        'subscription F($a: String) { sessionStatusChanged(sessionId: "s1", after: $a) { status } }'
    )
    assert key(by_variable, {"a": "12"}) is None
    assert key(by_variable, {"a": None}) is not None
    assert key(by_variable, {}) is not None
    with_default = by_variable.replace("$a: String)", '$a: String = "7")')
    assert key(with_default, {}) is None
    null_inline = 'subscription { sessionStatusChanged(sessionId: "s1", after: null) { status } }'
    assert key(null_inline) is not None


def test_only_parseable_subscriptions_are_shared() -> None:
    assert key('query { session(id: "s1") { id } }') is None
    assert key("subscription {") is None
    fragment = (
        "subscription { ...F } fragment F on Subscription { sessionStatusChanged { status } }"
    )
    assert key(fragment) is None
    two = FOLLOW + " subscription G { sessionStatusChanged { status } }"
    assert key(two, {"id": "s1"}) is None  # ambiguous without an operation name
    assert key(two, {"id": "s1"}, "G") is not None


def result(cursor: str) -> SharedResult:
    return SharedResult(
        ExecutionResult(data={"sessionStatusChanged": {"cursor": cursor}}, errors=None)
    )


async def test_a_slow_member_is_cut_off_alone_and_knows_its_last_cursor() -> None:
    streams = SharedStreams(schema=None, queue_size=2)  # type: ignore[arg-type]
    stream = SharedStream("k", streams)
    slow, fast = stream.join(2), stream.join(2)
    received: list[str] = []

    async def consume() -> None:
        async for item in fast:
            received.append(item.cursor or "")

    consumer = asyncio.create_task(consume())
    for cursor in ("1", "2", "3", "4"):
        item = result(cursor)
        for member in list(stream.members):
            member.offer(item)
        await asyncio.sleep(0)
    assert slow.overflowed and slow not in stream.members and fast in stream.members
    drained = [item.cursor async for item in slow]
    assert drained == ["1", "2"] and slow.last_cursor == "2"
    fast.leave()
    await asyncio.sleep(0)
    assert received == ["1", "2", "3", "4"]
    assert stream.finished  # the last member left
    consumer.cancel()


def test_payload_is_serialized_once() -> None:
    calls = 0

    def encode(value: Any) -> str:
        nonlocal calls
        calls += 1
        return repr(value)

    item = result("9")
    assert item.payload(encode) == item.payload(encode)
    assert calls == 1
