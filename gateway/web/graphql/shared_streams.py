"""Subscriptions of the same shape share one execution: each change's payload is computed and
serialized once, then fanned out to every subscriber of that shape.

A plain strawberry stack runs the selection set once per subscriber per event: a thousand
browsers following one session cost a thousand executions (and `session { ... }` reads) per
change. Here subscribers with the same document, operation, variables and principal — so the
same permissions, hence the same answer — join one `SharedStream`; the first one's execution
feeds them all. A subscription that replays from a cursor (`after`) has a history of its own
and is never shared; neither is anything that is not a subscription.

Each member's queue is bounded twice: in results and in the bytes of their serialized
payloads, which the pump computes once per result as it fans it out (issue 14: 256 queued
50 KB events pinned 13 MiB per stuck browser).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
)
from strawberry.schema import BaseSchema
from strawberry.types.execution import ExecutionResult, PreExecutionError

from gateway import metrics
from gateway.bus.mailbox import Mailbox, MailboxFull
from gateway.sessions.watch import COUNT_SUBSCRIPTION
from gateway.web.graphql.context import Context

log = logging.getLogger(__name__)

#: A subscription argument that makes a stream personal (replay after the caller's cursor).
REPLAY_ARGUMENT = "after"


@lru_cache(maxsize=512)
def _parsed(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLError:
        return None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


def _replays(operation: OperationDefinitionNode, variables: dict[str, Any]) -> bool:
    """Whether any root field is given a non-null `after` (inline or through a variable)."""
    defaults = {
        d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
    }
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return True  # fragments at the root: do not guess, do not share
        for argument in selection.arguments or ():
            if argument.name.value != REPLAY_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                name = value.name.value
                if variables.get(name) is not None:
                    return True
                default = defaults.get(name)
                if name not in variables and default is not None:
                    if not isinstance(default, NullValueNode):
                        return True
            elif not isinstance(value, NullValueNode):
                return True
    return False


def share_key(
    query: str, variables: dict[str, Any] | None, operation_name: str | None, context: Context
) -> Hashable | None:
    """What makes two subscriptions' answers identical, or None when this one must run alone
    (not a parseable subscription, or one that replays)."""
    document = _parsed(query)
    if document is None:
        return None
    operation = _operation(document, operation_name)
    if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
        return None
    variables = variables or {}
    if not isinstance(variables, dict) or _replays(operation, variables):
        return None
    try:
        canonical = json.dumps(variables, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):  # runs alone, where its input is checked
        return None
    return (query, operation_name, canonical, context.principal)


Encoder = Callable[[object], str]


def _encode_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class SharedResult:
    """One result of the shared execution; its `next` payload is serialized on first use."""

    result: ExecutionResult | PreExecutionError | Any
    _payload: str | None = None

    @property
    def size(self) -> int:
        """Bytes of the serialized payload (JSON with ASCII escapes: one byte a
        character), 0 before it is serialized or for a result that has none."""
        return len(self._payload) if self._payload is not None else 0

    def payload(self, encode: Encoder) -> str:
        if self._payload is None:
            assert isinstance(self.result, ExecutionResult)
            body: dict[str, Any] = {"data": self.result.data}
            if self.result.errors:
                body["errors"] = [error.formatted for error in self.result.errors]
            if self.result.extensions:
                body["extensions"] = self.result.extensions
            self._payload = encode(body)
        return self._payload

    @property
    def cursor(self) -> str | None:
        data = getattr(self.result, "data", None)
        if isinstance(data, dict) and len(data) == 1:
            event = next(iter(data.values()))
            if isinstance(event, dict) and isinstance(event.get("cursor"), str):
                return event["cursor"]
        return None


_END = object()


class Member:
    """One subscriber's place in a shared stream: a queue bounded in results and in payload
    bytes (`max_bytes`, None = no byte bound), so a slow client falls behind alone and is cut
    off (told its last cursor) rather than slowing the others or pinning memory. A result
    arriving at an empty queue is always taken, however large: the bound is on what waits."""

    def __init__(self, stream: SharedStream, maxsize: int, max_bytes: int | None = None) -> None:
        self._stream = stream
        self._queue: Mailbox[SharedResult | object] = Mailbox(maxsize)
        self._max_bytes = max_bytes
        self._queued_bytes = 0
        self.overflowed = False
        self.last_cursor: str | None = None

    def offer(self, item: SharedResult | object) -> None:
        if self.overflowed:
            return
        size = item.size if isinstance(item, SharedResult) else 0
        limit = self._max_bytes
        if limit is not None and self._queued_bytes and self._queued_bytes + size > limit:
            self._overflow("bytes")
            return
        try:
            self._queue.put_nowait(item)
        except MailboxFull:
            self._overflow("results")
            return
        self._queued_bytes += size

    def _overflow(self, bound: str) -> None:
        self.overflowed = True
        self._stream.leave(self)
        metrics.subscriber_overflows_total.labels("shared").inc()
        log.warning(
            "shared-stream subscriber overflow: its queue is full (a slow client); closing it",
            extra={"bound": bound},
        )

    async def __aiter__(self) -> AsyncIterator[SharedResult]:
        while True:
            if self.overflowed and self._queue.empty():
                return
            item = self._queue.get_nowait() if self.overflowed else await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, SharedResult)
            self._queued_bytes -= item.size
            self.last_cursor = item.cursor or self.last_cursor
            yield item

    def leave(self) -> None:
        self._stream.leave(self)


@dataclass(eq=False)
class SharedStream:
    """One execution of a subscription, fanned out to its members; it ends when its last
    member leaves or when the execution ends (then every member is told)."""

    key: Hashable
    owner: SharedStreams
    members: set[Member] = field(default_factory=set)
    pump: asyncio.Task[None] | None = None
    finished: bool = False

    def join(self, maxsize: int, max_bytes: int | None = None) -> Member:
        member = Member(self, maxsize, max_bytes)
        self.members.add(member)
        metrics.active_subscriptions.inc()
        return member

    def leave(self, member: Member) -> None:
        if member not in self.members:
            return
        self.members.discard(member)
        metrics.active_subscriptions.dec()
        if not self.members:
            self.finish()

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.owner.forget(self)
            if self.pump is not None and self.pump is not asyncio.current_task():
                self.pump.cancel()

    async def run(
        self,
        schema: BaseSchema,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
        root_value: Any,
    ) -> None:
        # The members are counted in the gauge; the one execution feeding them is not.
        COUNT_SUBSCRIPTION.set(False)
        try:
            stream = await schema.stream(
                query,
                variable_values=variables,
                context_value=context,
                root_value=root_value,
                operation_name=operation_name,
            )
            try:
                async for result in stream:
                    item = SharedResult(result)
                    if isinstance(result, ExecutionResult):
                        item.payload(self.owner.encode)  # once, and sized for the bound
                    for member in list(self.members):
                        member.offer(item)
                    if isinstance(result, PreExecutionError):
                        break
            finally:
                with suppress(Exception):
                    await stream.aclose()  # type: ignore[union-attr]
        finally:
            self.finished = True
            self.owner.forget(self)
            for member in list(self.members):
                member.offer(_END)


class SharedStreams:
    """The shared streams of one GraphQL endpoint. `encode` must be the
    endpoint's own JSON encoder: the payload it makes is sent as is."""

    def __init__(
        self,
        schema: BaseSchema,
        queue_size: int,
        queue_bytes: int | None = None,
        encode: Encoder = _encode_json,
    ) -> None:
        self._schema = schema
        self._queue_size = queue_size
        self._queue_bytes = queue_bytes
        self.encode = encode
        self._streams: dict[Hashable, SharedStream] = {}

    def subscribe(
        self,
        key: Hashable,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
        root_value: Any,
    ) -> Member:
        stream = self._streams.get(key)
        if stream is None or stream.finished:
            stream = SharedStream(key, self)
            self._streams[key] = stream
            metrics.shared_streams.inc()
            member = stream.join(self._queue_size, self._queue_bytes)
            stream.pump = asyncio.create_task(
                stream.run(self._schema, query, variables, operation_name, context, root_value)
            )
            return member
        return stream.join(self._queue_size, self._queue_bytes)

    def forget(self, stream: SharedStream) -> None:
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]
            metrics.shared_streams.dec()

    @property
    def stream_count(self) -> int:
        return len(self._streams)
