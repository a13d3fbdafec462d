"""`/console/qr`: a QR code of a link, drawn off the event loop, one at a time, cached.

Drawing one takes up to ~150 ms of pure-Python CPU (segno); on the event loop four callers
stalled every other request (issue 14). Here the body is capped before it is read, at most
`MAX_RENDERS` drawings run at once in worker threads, a caller waits `RENDER_WAIT_S` at most
for a turn (then 429), and the same link is drawn once."""

from __future__ import annotations

import asyncio
import json

from cachetools import LRUCache
from fastapi import HTTPException, Request

from adapters.common.qr import qr_png_data_url

#: UTF-8 bytes of text: a QR code (version 40, level M) holds 2,331, so this always fits.
MAX_QR_TEXT = 2048
#: A JSON body for the longest text, even with every character escaped (`\u0061`).
MAX_QR_BODY = 16 * 1024
#: segno draws in pure Python, holding the GIL: a second thread draws no faster, it only
#: takes more turns from the event loop (measured: /healthz p95 18 ms with one, 48 with two).
MAX_RENDERS = 1
RENDER_WAIT_S = 2.0
CACHE_SIZE = 256


async def read_text(request: Request) -> str:
    """The `text` of a `{"text": "…"}` body, or 400/413 (never echoing the body)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_QR_BODY:
        raise HTTPException(413, f"body larger than {MAX_QR_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_QR_BODY:
            raise HTTPException(413, f"body larger than {MAX_QR_BODY} bytes")
    try:
        data = json.loads(bytes(body).decode("utf-8"))
    except (ValueError, RecursionError):  # bad UTF-8 is a ValueError too
        raise HTTPException(400, "body: expected a JSON object in UTF-8") from None
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise HTTPException(400, 'body: expected {"text": "<link>"}')
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate (`"\ud800"`) has no UTF-8 form
        raise HTTPException(400, "text: not valid Unicode") from None
    if not 1 <= size <= MAX_QR_TEXT:
        raise HTTPException(400, f"text: 1 to {MAX_QR_TEXT} bytes of UTF-8")
    return text


class QrRenderer:
    def __init__(self, max_renders: int = MAX_RENDERS, wait_s: float = RENDER_WAIT_S) -> None:
        self._turns = asyncio.Semaphore(max_renders)
        self._wait_s = wait_s
        #: Touched on the event loop only (before and after the worker thread runs).
        self._cache: LRUCache[str, str] = LRUCache(maxsize=CACHE_SIZE)

    async def data_url(self, text: str) -> str:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        try:
            async with asyncio.timeout(self._wait_s):
                await self._turns.acquire()
        except TimeoutError:
            raise HTTPException(429, "busy drawing QR codes", {"retry-after": "1"}) from None
        try:
            url = await asyncio.to_thread(qr_png_data_url, text)
        finally:
            self._turns.release()
        self._cache[text] = url
        return url
