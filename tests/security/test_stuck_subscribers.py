"""Issue 14, item 8: a websocket client that stops reading is reaped, and a slow one is cut
off by the bytes it has waiting, not only by the count (real server, dev mode).

The client is a plain socket with a tiny receive buffer, driven by websockets' sans-I/O
protocol, so it reads exactly when the test says: once it stops, the server's sends back up
through the kernel buffers into the server's own transport."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.e2e.server import GatewayProcess, active_subscriptions

if not hasattr(socket, "TCP_INFO"):  # pragma: no cover
    pytest.skip("reads the TCP state through Linux's TCP_INFO", allow_module_level=True)

#: Every change of every session, with the session's (large) metadata in each event.
FOLLOW_ALL = "subscription { sessionStatusChanged { cursor session { metadata } } }"
#: A fresh client reference each time: the same one would reuse the vendor's open session.
CREATE = (
    "mutation($r: String!, $m: JSON) { createSession(input: {clientReference: $r, "
    "metadata: $m}) { session { id } userErrors { code } } }"
)
#: Linux lets a socket's send buffer grow to tcp_wmem's maximum (4 MiB by default) for a
#: peer that reads nothing: the server only feels the stall once that is full.
EVENT_BYTES = 200_000
EVENTS = 40  # 8 MB
QUEUE_BYTES = 600_000  # three events
TCP_ESTABLISHED = 1


class RawSubscriber:
    """A graphql-transport-ws client that reads only when asked to."""

    def __init__(self, base: str) -> None:
        self.sock = socket.socket()
        # Set before connecting, so the advertised window stays small.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = base.removeprefix("http://").split(":")
        self.sock.connect((host, int(port)))
        self.sock.settimeout(10)
        self.protocol = ClientProtocol(
            parse_uri(f"ws://{host}:{port}/graphql"),
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_size=None,
        )
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.messages: list[dict] = []
        self.upgraded = False
        while not self.upgraded:
            assert self.read(), "no handshake answer"

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            self.sock.sendall(chunk)

    def send(self, message: dict) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    def read(self) -> bool:
        """Take what the socket has (blocking until something); False at end of stream."""
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.messages.append(json.loads(event.data))
            elif isinstance(event, Response):
                assert event.status_code == 101, event
                self.upgraded = True
        self._flush()  # pongs
        return bool(data)

    def next_message(self) -> dict:
        while not self.messages:
            assert self.read(), "connection ended"
        return self.messages.pop(0)

    def subscribe(self, query: str) -> None:
        self.send({"type": "connection_init", "payload": {}})
        assert self.next_message()["type"] == "connection_ack"
        self.send({"id": "1", "type": "subscribe", "payload": {"query": query}})

    def tcp_state(self) -> int:
        """Linux `struct tcp_info`: its first byte is the connection's state."""
        info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        return int(struct.unpack("B", info[:1])[0])

    def close(self) -> None:
        self.sock.close()


def _server(tmp: pytest.TempPathFactory, name: str, send_timeout_s: str) -> GatewayProcess:
    return GatewayProcess(
        tmp.mktemp(name),
        extra_env={
            "KYCGW_MAX_METADATA_BYTES": str(EVENT_BYTES + 1000),
            "KYCGW_SUBSCRIBER_QUEUE_BYTES": str(QUEUE_BYTES),
            "KYCGW_SUBSCRIBER_SEND_TIMEOUT_S": send_timeout_s,
        },
    )


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """Gives a websocket one second to take each frame."""
    with _server(tmp_path_factory, "impatient", "1") as server:
        yield server


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """The default send timeout (30 s): only the byte bound can cut a subscriber off here."""
    with _server(tmp_path_factory, "patient", "30") as server:
        yield server


def _publish(base: str, count: int) -> None:
    """`count` status changes, each event carrying EVENT_BYTES of metadata."""
    metadata = {"blob": "x" * EVENT_BYTES}
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(count):
            variables = {"r": f"stuck-{uuid.uuid4().hex}", "m": metadata}
            body = client.post("/graphql", json={"query": CREATE, "variables": variables})
            assert body.json()["data"]["createSession"]["userErrors"] == [], body.text


def _until(predicate: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def _following_all(server: GatewayProcess) -> Iterator[tuple[RawSubscriber, int]]:
    """A subscriber to FOLLOW_ALL the server counts, and the count before it came."""
    before = active_subscriptions(server.base)
    client = RawSubscriber(server.base)
    try:
        client.subscribe(FOLLOW_ALL)
        assert _until(lambda: active_subscriptions(server.base) == before + 1, 10)
        yield client, before
    finally:
        client.close()


def test_a_client_that_stops_reading_is_disconnected(impatient: GatewayProcess) -> None:
    with _following_all(impatient) as (client, before):
        _publish(impatient.base, EVENTS)  # the client never reads another byte
        # The server gives up on the socket about a second after its buffer fills; a
        # generous bound, and no reading on our side: the state comes from our kernel.
        dropped = _until(lambda: client.tcp_state() != TCP_ESTABLISHED, 15)
        assert dropped, "the server still holds the connection of a client that stopped reading"
        assert _until(lambda: active_subscriptions(impatient.base) == before, 5)
    # The gateway serves the next subscriber as before.
    with _following_all(impatient) as (again, _):
        _publish(impatient.base, 1)
        message = again.next_message()
        assert message["type"] == "next"
        assert message["payload"]["data"]["sessionStatusChanged"]["session"]["metadata"]


def test_a_slow_reader_is_cut_off_by_bytes_waiting(patient: GatewayProcess) -> None:
    with _following_all(patient) as (client, before):
        _publish(patient.base, EVENTS)  # far fewer than the 256-event count bound
        # It stopped reading for a moment: once more than QUEUE_BYTES wait for it, the
        # server drops its place in the stream (the gauge counts it out) ...
        assert _until(lambda: active_subscriptions(patient.base) == before, 10), (
            "a subscriber with far more than its byte bound queued was kept"
        )
        # ... and when it reads again it gets what was queued, then SUBSCRIBER_OVERFLOW with
        # the cursor of the last event it was given, then `complete`.
        cursors: list[str] = []
        while (message := client.next_message())["type"] == "next":
            payload = message["payload"]
            if payload.get("errors"):
                break
            cursors.append(payload["data"]["sessionStatusChanged"]["cursor"])
        error = message["payload"]["errors"][0]
        assert error["extensions"] == {"code": "SUBSCRIBER_OVERFLOW", "lastCursor": cursors[-1]}
        assert 0 < len(cursors) < EVENTS
        assert client.next_message() == {"id": "1", "type": "complete"}
