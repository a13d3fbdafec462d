"""An integrator's webhook receiver for the tests: a real HTTP server on loopback (in a thread
of the test process) that verifies every delivery with the `standardwebhooks` library, as
the spec's receivers do, and records what arrived, what it answered and how many copies of
one `webhook-id` were in flight at once. It can be told to fail (answer 500) for a while."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

#: The payload's `data`, as docs/webhooks.md documents it for integrators.
DATA_FIELDS = frozenset(
    {
        "sessionId",
        "provider",
        "providerSessionId",
        "clientReference",
        "previousStatus",
        "status",
        "providerStatus",
        "source",
        "occurredAt",
        "sequence",
        "cursor",
        "decision",
    }
)


@dataclass(frozen=True)
class Received:
    webhook_id: str
    payload: dict[str, Any]
    headers: dict[str, str]
    answered: int


@dataclass
class Receiver:
    secret: str | None = None
    #: Seconds each request is held before answering (widens races in replica tests).
    hold_s: float = 0.0
    #: Answer this status instead of 204 while set.
    fail_with: int | None = None
    attempts: list[Received] = field(default_factory=list)
    rejected_signatures: int = 0
    max_in_flight_per_id: int = 0
    _in_flight: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def accepted(self) -> list[Received]:
        """Deliveries answered 2xx, in arrival order."""
        with self._lock:
            return [a for a in self.attempts if 200 <= a.answered < 300]

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        webhook_id = headers.get("webhook-id", "")
        with self._lock:
            self._in_flight[webhook_id] += 1
            self.max_in_flight_per_id = max(self.max_in_flight_per_id, self._in_flight[webhook_id])
        try:
            if self.hold_s:
                time.sleep(self.hold_s)
            try:
                payload = Webhook(self.secret or "whsec_AAAA").verify(body, headers)
            except WebhookVerificationError:
                with self._lock:
                    self.rejected_signatures += 1
                return 400
            status = self.fail_with or 204
            with self._lock:
                self.attempts.append(Received(webhook_id, payload, headers, status))
            return status
        finally:
            with self._lock:
                self._in_flight[webhook_id] -= 1

    def wait_for(
        self, done: Callable[[Receiver], bool], timeout_s: float = 30.0, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not done(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"receiver: timed out waiting for {what or 'deliveries'}; got "
                    f"{len(self.accepted)} accepted of {len(self.attempts)} attempts"
                )
            time.sleep(0.05)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.handle(body, headers)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return

    return Handler


class QuietServer(ThreadingHTTPServer):
    """A sender that dies mid-request (a SIGKILLed gateway) is no error of the receiver's."""

    def handle_error(self, request: object, client_address: object) -> None:
        return


@contextmanager
def running_receiver(receiver: Receiver | None = None) -> Iterator[Receiver]:
    receiver = receiver or Receiver()
    server = QuietServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def changes(received: list[Received], session_id: str, event_type: str) -> list[dict[str, Any]]:
    """The `data` of one session's deliveries of one type, in arrival order."""
    return [
        r.payload["data"]
        for r in received
        if r.payload["type"] == event_type and r.payload["data"]["sessionId"] == session_id
    ]


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True)
