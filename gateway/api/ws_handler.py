"""graphql-transport-ws with shared subscription streams (`gateway/api/shared_streams.py`).

Strawberry's handler runs every subscription on its own; this one runs a shareable
subscription as a member of its shape's shared stream and sends the payload serialized once
for all members. Protocol behaviour (errors, `complete`, close codes) stays strawberry's.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from gateway.api.context import Context
from gateway.api.shared_streams import Member, SharedResult, SharedStreams, share_key


class SharingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        shared: SharedStreams | None = getattr(self.view, "shared_streams", None)
        key = (
            share_key(operation.query, operation.variables, operation.operation_name, self.context)
            if shared is not None
            else None
        )
        if shared is None or key is None:
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
        try:
            await self.websocket.ws.send_text(frame)  # type: ignore[attr-defined]
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    def _encode(self, value: Any) -> str:
        encoded = self.view.encode_json(value)
        return encoded.decode() if isinstance(encoded, bytes) else encoded
