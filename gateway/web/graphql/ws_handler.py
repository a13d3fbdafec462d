"""The GraphQL websocket protocols: strawberry's handlers plus what the gateway enforces on
every connection (`ConnectionGuard`), and shared subscription streams.

- Shared streams (graphql-transport-ws): strawberry runs every subscription on its own; a
  shareable one runs here as a member of its shape's shared stream
  (`gateway/web/graphql/shared_streams.py`) and its payload is serialized once for all members.
- Credential lifetime: the principal is fixed at `connection_init`, so a client token's socket
  would outlive the token. A timer closes it (4403 "client token expired") at the token's
  `exp`, and every operation and every `next` frame re-checks, should the timer be late.
- Send deadline: a frame the peer cannot take within `subscriber_send_timeout_s` means it
  stopped reading. No error or close frame can reach a peer whose buffers are full, so its
  connection is reset (`gateway/web/graphql/ws_reset.py`): the client sees an abnormal
  closure (1006) and resumes from its last cursor, as after SUBSCRIBER_OVERFLOW. Where the
  server offers no reset, close 1008 ("subscriber too slow") is tried instead, within the
  same deadline.

Protocol behaviour otherwise (errors, `complete`, close codes) stays strawberry's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    OperationMessage,
    StartMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from gateway.web.graphql.context import Context
from gateway.web.graphql.shared_streams import Member, SharedResult, SharedStreams, share_key
from gateway.web.graphql.ws_reset import RESET_KEY

log = logging.getLogger(__name__)

EXPIRED = (4403, "client token expired")
TOO_SLOW = (1008, "subscriber too slow")
DEFAULT_SEND_TIMEOUT_S = 30.0


class ConnectionGuard:
    """One connection's credential lifetime and send deadline, for either protocol."""

    def __init__(
        self, websocket: AsyncWebSocketAdapter, context: Context, send_timeout_s: float
    ) -> None:
        self._websocket = websocket
        self._context = context
        self._send_timeout_s = send_timeout_s
        scope = getattr(getattr(websocket, "ws", None), "scope", None) or {}
        self._reset: Callable[[], None] | None = scope.get(RESET_KEY)
        self._expiry: asyncio.Task[None] | None = None
        #: Closed or dropped by this guard: nothing more is sent.
        self.ended = False

    # -- credential lifetime ----------------------------------------------------------------
    def expired(self) -> bool:
        expires_at = self._context.principal.expires_at
        return expires_at is not None and self._context.auth.now() >= expires_at

    def watch_expiry(self) -> None:
        """Once the connection is acknowledged: close it when its credential expires."""
        expires_at = self._context.principal.expires_at
        if expires_at is None or self._expiry is not None:
            return
        delay = (expires_at - self._context.auth.now()).total_seconds()
        self._expiry = asyncio.create_task(self._close_at(max(delay, 0.0)))

    async def _close_at(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await self.close_expired()

    async def close_expired(self) -> None:
        if self.ended:
            return
        self.ended = True
        log.info("closing a websocket: its client token expired")
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await self._websocket.close(*EXPIRED)
        except TimeoutError:
            self._drop()
        except (WebSocketDisconnected, WebSocketDisconnect, RuntimeError):
            pass  # already gone

    # -- send deadline ----------------------------------------------------------------------
    async def send(self, frame: Coroutine[Any, Any, None], *, data: bool) -> None:
        """Send one frame within the deadline. `data`: it carries an answer, which a
        connection whose credential expired must not get."""
        if self.ended:
            frame.close()
            raise WebSocketDisconnected
        if data and self.expired():
            frame.close()
            await self.close_expired()
            raise WebSocketDisconnected
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await frame
        except TimeoutError:
            self.ended = True
            log.warning(
                "dropping a websocket that took no frame in time",
                extra={"timeout_s": self._send_timeout_s},
            )
            if self._reset is not None:
                self._drop()
            else:
                with suppress(Exception):
                    async with asyncio.timeout(self._send_timeout_s):
                        await self._websocket.close(*TOO_SLOW)
            raise WebSocketDisconnected from None
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    def _drop(self) -> None:
        self.ended = True
        if self._reset is not None:
            self._reset()

    def stop(self) -> None:
        if self._expiry is not None and self._expiry is not asyncio.current_task():
            self._expiry.cancel()


def _guard(view: Any, websocket: AsyncWebSocketAdapter, context: Context) -> ConnectionGuard:
    timeout = getattr(view, "subscriber_send_timeout_s", DEFAULT_SEND_TIMEOUT_S)
    return ConnectionGuard(websocket, context, timeout)


class SharingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = _guard(self.view, self.websocket, self.context)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.guard.watch_expiry()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and self.guard.expired():
            await self.guard.close_expired()
            return
        await super().handle_subscribe(message)

    async def send_message(self, message: Message) -> None:
        await self.guard.send(super().send_message(message), data=message["type"] == "next")

    async def shutdown(self) -> None:
        self.guard.stop()
        await super().shutdown()

    async def handle_task_exception(self, error: Exception) -> None:
        if not isinstance(error, WebSocketDisconnected):  # the peer left or was dropped
            await super().handle_task_exception(error)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        shared: SharedStreams | None = getattr(self.view, "shared_streams", None)
        key = (
            share_key(operation.query, operation.variables, operation.operation_name, self.context)
            if shared is not None
            else None
        )
        if shared is None or key is None:
            with suppress(WebSocketDisconnected):
                await super().run_operation(operation)
            return
        member = shared.subscribe(
            key,
            operation.query,
            operation.variables,
            operation.operation_name,
            self.context,
            self.root_value,
        )
        try:
            await self._follow(operation, member)
        except (_OperationStreamClosed, WebSocketDisconnected):
            return
        except Exception as error:
            await self.handle_task_exception(error)
            self.operations.pop(operation.id, None)
            raise
        finally:
            member.leave()

    async def _follow(self, operation: Operation[Context, None], member: Member) -> None:
        first = True
        async for item in member:
            result = item.result
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            await self._send_shared(operation, item)
            first = False
        if member.overflowed:
            cursor = member.last_cursor
            await operation.send_next(
                ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"subscriber fell behind; resubscribe with after: {cursor}"
                            if cursor is not None
                            else "subscriber fell behind; resubscribe",
                            extensions={"code": "SUBSCRIBER_OVERFLOW", "lastCursor": cursor},
                        )
                    ],
                )
            )
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _send_shared(self, operation: Operation[Context, None], item: SharedResult) -> None:
        if operation.completed:
            return
        frame = (
            f'{{"id":{self._encode(operation.id)},"type":"next",'
            f'"payload":{item.payload(self._encode)}}}'
        )
        await self.guard.send(self.websocket.ws.send_text(frame), data=True)  # type: ignore[attr-defined]

    def _encode(self, value: Any) -> str:
        encoded = self.view.encode_json(value)
        return encoded.decode() if isinstance(encoded, bytes) else encoded


class GuardedLegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol (`enable_legacy_graphql_ws`) under the same guard."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = _guard(self.view, self.websocket, self.context)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.guard.watch_expiry()

    async def handle_start(self, message: StartMessage) -> None:
        if self.connection_acknowledged and self.guard.expired():
            await self.guard.close_expired()
            return
        await super().handle_start(message)

    async def send_message(self, message: OperationMessage) -> None:
        await self.guard.send(super().send_message(message), data=message["type"] == "data")

    async def cleanup(self) -> None:
        self.guard.stop()
        await super().cleanup()
