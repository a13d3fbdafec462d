"""Gives the websocket handler a way to drop a connection whose peer stopped reading.

A close frame queues behind everything unsent, so a peer with full buffers never gets it,
and a transport's `close()` waits for its buffer to drain first: forever, for a peer that
reads nothing. Only aborting the transport frees the connection, and ASGI does not expose
the transport. The server's own `send` does: with uvicorn (`gateway/cli.py`) it is a method
of the connection's protocol object, which holds the transport. This middleware sees that
`send` (every layer outside it passes a websocket's `send` through unchanged) and leaves a
reset in the scope under `RESET_KEY`; under a server where it finds no transport there is
no reset, and the handler falls back to a close frame.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from contextlib import suppress
from functools import partial

from starlette.types import ASGIApp, Receive, Scope, Send

#: Scope key of a `() -> None` that resets the websocket's connection.
RESET_KEY = "kycgw.reset_connection"

#: SO_LINGER on, zero seconds: closing sends a TCP reset and discards what is unsent.
_LINGER_ZERO = struct.pack("ii", 1, 0)


def reset(transport: asyncio.Transport) -> None:
    """Abort with a reset, not a FIN: a FIN would queue behind the unsent data too, keeping
    the kernel's copy of it (and the connection) until the peer read it all."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    transport.abort()


def connection_reset(send: Send) -> Callable[[], None] | None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not callable(getattr(transport, "abort", None)):
        return None
    return partial(reset, transport)


class WebSocketReset:
    """Pure ASGI middleware: puts `RESET_KEY` in each websocket scope it can."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            handle = connection_reset(send)
            if handle is not None:
                scope[RESET_KEY] = handle
        await self.app(scope, receive, send)
