"""uqudo's QR-session websocket (docs/vendors/uqudo.md, Endpoints we call): the progress
channel behind `follow_session`.

The channel is opened at `ws_url` and authenticated by sending the session's `qrCodeText` as
the first message; uqudo then pushes `{"service": …, "sessionId": …}` per milestone (`SCAN`,
`READ`, `FACE`, `BACKGROUND_CHECK`) and `INFO` at the end, after which we close. The
`qrCodeText` is a credential: it is sent, never logged, never put in an error.

The connector is injectable (`websockets.asyncio.client.connect` by default): in sandbox mode
the gateway points `ws_url` at its own public URL, in tests a local server stands in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from adapters.uqudo import inferred
from adapters.uqudo.errors import unavailable
from adapters.uqudo.statuses import INFO
from adapters.uqudo.wire import ChannelMessage

log = logging.getLogger(__name__)

#: `websockets.asyncio.client.connect`-compatible: called with the URL and keyword options,
#: used as `async with … as socket` (`await socket.send(text)`, `async for frame in socket`).
Connector = Callable[..., Any]


def parse_message(frame: str | bytes) -> ChannelMessage | None:
    """One channel frame, or None for anything that is not a uqudo message."""
    try:
        data = json.loads(frame)
        return ChannelMessage.model_validate(data)
    except (ValueError, ValidationError):
        return None


async def session_channel(
    url: str,
    credential: str,
    *,
    connector: Connector = connect,
    open_timeout_s: float = inferred.WS_OPEN_TIMEOUT_S,
    max_message_bytes: int = inferred.WS_MAX_MESSAGE_BYTES,
) -> AsyncIterator[ChannelMessage]:
    """Messages of one session's channel, in order, until `INFO` or the channel closes.

    A channel that fails (cannot open, drops abnormally) raises PROVIDER_UNAVAILABLE; one the
    vendor closes normally just ends.
    """
    try:
        async with connector(
            url, open_timeout=open_timeout_s, max_size=max_message_bytes
        ) as socket:
            await socket.send(credential)
            async for frame in socket:
                message = parse_message(frame)
                if message is None:
                    log.warning("uqudo channel sent an unreadable frame; ignored")
                    continue
                yield message
                if message.service == INFO:
                    return  # INFO is the last message (documented); we close
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise unavailable(f"uqudo session channel failed ({type(exc).__name__})") from exc
