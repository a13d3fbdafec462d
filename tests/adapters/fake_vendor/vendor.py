"""Acme's API played in memory, behind an httpx transport: sessions by id, a bearer key."""

from __future__ import annotations

import json
from itertools import count

import httpx


class AcmeVendor:
    """`transport()` answers like Acme: 401 for another key, 404 for an unknown session."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.sessions: dict[str, dict[str, object]] = {}
        self._ids = count(1)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return httpx.Response(401, json={"error": "unknown key", "code": "unauthorized"})
        parts = request.url.path.strip("/").split("/")
        if request.method == "POST" and parts == ["sessions"]:
            body = json.loads(request.content)
            sid = f"acme-{next(self._ids)}"
            self.sessions[sid] = {
                "id": sid,
                "status": "new",
                "url": f"https://verify.acme.invalid/{sid}",
                "reference": body.get("reference"),
            }
            return httpx.Response(201, json=self.sessions[sid])
        session = self.sessions.get(parts[1]) if len(parts) > 1 else None
        if session is None:
            return httpx.Response(404, json={"error": "no such session", "code": "not_found"})
        if request.method == "POST" and parts[2:] == ["cancel"]:
            session["status"] = "cancelled"
        return httpx.Response(200, json=session)
