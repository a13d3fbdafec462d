"""Checks a GraphQL POST body before strawberry sees it: JSON that is not an object (`0`,
`[]`, `"x"`), invalid JSON, invalid UTF-8 or JSON nested deep enough to exhaust the parser
answer 400 here instead of failing deep inside the server."""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]


def _problem(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # includes UnicodeDecodeError
        return "the request body is not valid JSON"
    if not isinstance(data, dict):
        return "the request body must be a JSON object with a `query`"
    return None


class GraphQLBodyGuard:
    def __init__(self, app: Any, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].rstrip("/") == self.path
            and b"json" in dict(scope.get("headers") or ()).get(b"content-type", b"")
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = _problem(body)
        if problem is not None:
            payload = json.dumps(
                {"errors": [{"message": problem, "extensions": {"code": "BAD_REQUEST"}}]}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
