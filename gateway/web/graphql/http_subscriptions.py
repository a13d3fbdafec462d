"""Subscriptions over plain HTTP, for clients that cannot open a websocket: Apollo's multipart
subscription protocol (`Accept: multipart/mixed;subscriptionSpec="1.0"`), which strawberry
streams. Any other HTTP transport of a subscription has no way to deliver more than one result
and is refused with a 400 that names the transports that work (docs/clients.md).

A client token's websocket is closed when the token expires (gateway/web/graphql/ws_handler.py); its
multipart stream ends then too, with an UNAUTHENTICATED error as its last part."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import suppress
from typing import Any

from graphql import GraphQLError
from strawberry.http.streaming import MultipartSubscriptionTransport
from strawberry.subscriptions import MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.web.graphql.context import Context
from gateway.web.graphql.ws_handler import EXPIRED

__all__ = [
    "MULTIPART_SUBSCRIPTION_PROTOCOL",
    "SUBSCRIPTION_TRANSPORTS",
    "MultipartSubscriptions",
    "until_expiry",
]

#: The 400's reason for a subscription sent as a plain HTTP request (JSON POST or GET).
SUBSCRIPTION_TRANSPORTS = (
    "Subscriptions need a streaming transport: a websocket with the graphql-transport-ws "
    "protocol, or Apollo's multipart subscriptions over HTTP (send "
    "'Accept: multipart/mixed;subscriptionSpec=\"1.0\", application/json'). See docs/clients.md."
)


class MultipartSubscriptions(MultipartSubscriptionTransport):
    """strawberry's transport runs only subscriptions: a query or mutation sent with its
    Accept (a client that sends it on every request) was a masked crash. It is answered as a
    stream of one result instead; the HTTP method still decides what may run."""

    def allowed_operation_types(
        self, allowed_operation_types: set[OperationType]
    ) -> set[OperationType]:
        return allowed_operation_types


def _expired_result() -> ExecutionResult:
    return ExecutionResult(
        data=None,
        errors=[GraphQLError(EXPIRED[1], extensions={"code": "UNAUTHENTICATED"})],
    )


async def until_expiry(results: AsyncIterator[Any], context: Context) -> AsyncGenerator[Any]:
    """`results`, ended at the caller's credential expiry (client tokens only; API keys do
    not expire) with an UNAUTHENTICATED result, so no change reaches a token past its `exp`."""
    expires_at = context.principal.expires_at
    try:
        while True:
            if expires_at is None:
                step = await anext(results, None)
            else:
                remaining = (expires_at - context.auth.now()).total_seconds()
                try:
                    async with asyncio.timeout(max(remaining, 0.0)):
                        step = await anext(results, None)
                except TimeoutError:
                    step = _expired_result()
                    yield step
                    return
            if step is None:
                return
            if expires_at is not None and context.auth.now() >= expires_at:
                yield _expired_result()
                return
            yield step
    finally:
        with suppress(Exception):
            await results.aclose()  # type: ignore[attr-defined]
