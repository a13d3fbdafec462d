"""Reads Apollo's multipart subscription protocol (`multipart/mixed; boundary=graphql`) the
way a curl-like client would: part by part, as the bytes arrive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

#: What Apollo Client sends for a subscription over its HttpLink.
MULTIPART_ACCEPT = 'multipart/mixed;subscriptionSpec="1.0", application/json'
BOUNDARY = "\r\n--graphql"


async def parts(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON body of every part, heartbeats (`{}`) included; ends with the stream (its
    closing `--graphql--`)."""
    assert response.headers["content-type"].startswith("multipart/mixed"), response.headers
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while True:
            start = buffer.find("\r\n\r\n")
            end = buffer.find(BOUNDARY, start + 4) if start != -1 else -1
            if end == -1:
                break
            yield json.loads(buffer[start + 4 : end])
            buffer = buffer[end + len(BOUNDARY) :]


async def all_parts(base: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every part of the multipart answer to `body`, read until the server ends the stream."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as client,
        client.stream("POST", "/graphql", json=body, headers={"accept": MULTIPART_ACCEPT}) as r,
    ):
        return [part async for part in parts(r)]
