"""`kyc-gateway webhooks listen`: a receiver for trying outbound webhooks on one machine. It
checks each delivery as an integrator's receiver must (the `standardwebhooks` library: the
signature over id, timestamp and raw body, the timestamp within five minutes), answers 204,
or 401 to a bad signature, and prints one line per delivery, flushed, so a script can follow
it. The secret is never printed: a rejection says only why."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

from gateway.webhook_config import SECRET_PREFIX

SECRET_ENV = "KYCGW_WEBHOOK_LISTEN_SECRET"
#: Far above any delivery the gateway sends (no personal data in a payload).
MAX_BODY_BYTES = 1 << 20
#: What of a header an attacker chose may reach the terminal.
MAX_ECHO_CHARS = 100
PREFIX = "kyc-gateway webhooks listen"


def clean(text: str) -> str:
    """Printable characters only: a header or payload never steers the terminal."""
    return "".join(c if c.isprintable() else "?" for c in text)


def summary(webhook_id: str, payload: Any) -> str:
    """`<webhook-id> <type> <sessionId> <previousStatus>-><status> seq=<n> verified`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return clean(f"{webhook_id} {type(payload).__name__} payload verified")
    data = payload["data"]
    previous = data.get("previousStatus") or "null"
    line = (
        f"{webhook_id} {payload.get('type')} {data.get('sessionId')} "
        f"{previous}->{data.get('status')} seq={data.get('sequence')} verified"
    )
    return clean(line + (" (test)" if payload.get("test") is True else ""))


class Listener:
    """What one delivery gets back, and the line it is told as."""

    def __init__(self, webhook: Webhook, *, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.webhook = webhook
        self.as_json = as_json
        self.out = out
        #: Where lines other than deliveries go: stdout, unless --json keeps it for payloads.
        self.notes = err if as_json else out
        self._lock = threading.Lock()

    def say(self, line: str, stream: TextIO) -> None:
        with self._lock:
            print(line, file=stream, flush=True)

    def reject(self, webhook_id: str, reason: str) -> None:
        self.say(f"REJECTED {webhook_id}: {reason}", self.notes)

    def handle(self, body: bytes, headers: Mapping[str, str]) -> int:
        webhook_id = clean((headers.get("webhook-id") or "-")[:MAX_ECHO_CHARS])
        try:
            payload = self.webhook.verify(body, dict(headers))
        except WebhookVerificationError as error:
            self.reject(webhook_id, str(error))
            return 401
        except ValueError:  # the signature matched; the body is not JSON
            self.reject(webhook_id, "the signed body is not JSON")
            return 400
        if self.as_json:
            self.say(json.dumps(payload, separators=(",", ":")), self.out)
        else:
            self.say(summary(webhook_id, payload), self.out)
        return 204


def _handler(listener: Listener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = self.headers.get("content-length", "")
            if not length.isdigit():
                self._answer(411, close=True)
                return
            if int(length) > MAX_BODY_BYTES:
                listener.reject(
                    clean(self.headers.get("webhook-id", "-")[:MAX_ECHO_CHARS]),
                    f"body larger than {MAX_BODY_BYTES} bytes",
                )
                self._answer(413, close=True)
                return
            body = self.rfile.read(int(length))
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._answer(listener.handle(body, headers))

        def _answer(self, status: int, *, close: bool = False) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            if close:
                self.send_header("connection", "close")
                self.close_connection = True
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return

    return Handler


def make_server(host: str, port: int, listener: Listener) -> ThreadingHTTPServer:
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    return Server((host, port), _handler(listener))


def _stop(*_: object) -> None:
    raise KeyboardInterrupt


def run_listener(
    host: str,
    port: int,
    secret: str | None,
    *,
    as_json: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM): 0; no usable secret: 2; no port: 1."""
    secret = secret or os.environ.get(SECRET_ENV)
    if not secret:
        print(
            f"{PREFIX}: no secret: pass --secret whsec_… or set {SECRET_ENV} (the endpoint's "
            "secret, shown by createWebhookEndpoint)",
            file=err,
        )
        return 2
    try:
        if not secret.startswith(SECRET_PREFIX):
            raise ValueError(secret)
        webhook = Webhook(secret)
    except (ValueError, EmptyWebhookSecretError):
        print(f"{PREFIX}: the secret is not {SECRET_PREFIX} followed by base64", file=err)
        return 2
    listener = Listener(webhook, as_json=as_json, out=out, err=err)
    try:
        server = make_server(host, port, listener)
    except OSError as error:
        print(f"{PREFIX}: cannot listen on {host}:{port}: {error.strerror or error}", file=err)
        return 1
    shown = f"[{host}]" if ":" in host else host
    listener.say(f"listening on http://{shown}:{server.server_address[1]}/", listener.notes)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    return 0
