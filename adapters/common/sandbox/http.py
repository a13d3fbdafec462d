"""HTTP plumbing shared by the vendor emulators' APIs (each sandbox keeps its routes, its
vendor's error bodies and its own control actions).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

JSON = dict[str, Any]


class SandboxError(Exception):
    """A refusal the HTTP layer turns into a response (`body` is the JSON to send)."""

    def __init__(self, status_code: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(body)
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}


async def json_object_posted(request: Request) -> JSON | None:
    """The request's body if it is a JSON object, else None (e.g. a control endpoint's
    `{"action": …}` that is missing or malformed)."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
