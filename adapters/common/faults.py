"""A fault switch in front of any vendor emulator, so tests and demos can take a vendor down.

`POST …/_faults {"status": 503}` makes every other request to that sandbox answer that status
(with `Retry-After` when given) until `DELETE …/_faults`; `{"status": 503, "count": 3}` fails
only the next three. Vendor-neutral ASGI middleware: it knows nothing of the emulator inside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Scope = dict[str, Any]
FAULTS_PATH = "/_faults"


@dataclass
class Fault:
    status: int
    count: int | None = None  # None = until cleared
    retry_after: int | None = None


class FaultSwitch:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.fault: Fault | None = None
        self.failed = 0  # requests answered with the fault since it was set

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.endswith(FAULTS_PATH):
            await self._control(scope, receive, send)
            return
        fault = self.fault
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.count is not None:
            fault.count -= 1
            if fault.count <= 0:
                self.fault = None
        self.failed += 1
        headers = [(b"content-type", b"application/json")]
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(fault.retry_after).encode()))
        await _reply(send, fault.status, {"error": "sandbox fault injected"}, headers)

    async def _control(self, scope: Scope, receive: Any, send: Any) -> None:
        method = scope["method"]
        if method == "DELETE":
            self.fault = None
            await _reply(send, 200, {"fault": None, "failed": self.failed})
            return
        if method == "GET":
            await _reply(
                send, 200, {"fault": self.fault and vars(self.fault), "failed": self.failed}
            )
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            data = json.loads(body or b"{}")
            status = int(data["status"])
            if not 400 <= status <= 599:
                raise ValueError("status must be 4xx or 5xx")
            count = data.get("count")
            retry_after = data.get("retry_after")
            self.fault = Fault(
                status,
                int(count) if count is not None else None,
                int(retry_after) if retry_after is not None else None,
            )
        except (ValueError, KeyError, TypeError) as error:
            await _reply(send, 400, {"error": f"expected {{'status': 5xx}}: {error}"})
            return
        self.failed = 0
        await _reply(send, 200, {"fault": vars(self.fault)})


async def _reply(
    send: Any, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": (headers or [(b"content-type", b"application/json")])
            + [(b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
