"""`kyc-gateway webhooks list | test | replay | listen` as a user runs them: fresh processes
against a dev-mode gateway (`GatewayProcess`) and its SQLite file. What arrives is checked
with the `standardwebhooks` library, by `listen` itself or by the
`tests/support/webhook_receiver.py` receiver."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from gateway.outbound.signing import new_secret
from tests.e2e.client import create_mutation
from tests.e2e.server import GatewayProcess
from tests.support.webhook_receiver import DATA_FIELDS, Receiver, running_receiver

CREATE_SESSION = create_mutation("didit", "id providerSessionId")
CREATE_ENDPOINT = """
mutation($url: String!) {
  createWebhookEndpoint(input: {url: $url}) { endpoint { id } secret userErrors { message } }
}
"""
UPDATE_ENDPOINT = """
mutation($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) { endpoint { id } userErrors { message } }
}
"""
DELETE_ENDPOINT = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId } }"
DELIVERIES = """
query($id: ID!) {
  webhookDeliveries(endpointId: $id, first: 100) { edges { node { webhookId status } } }
}
"""
#: What one session taken to APPROVED owes an endpoint of every event type, in order.
APPROVED_PATH = [
    ("session.status_changed", "null->CREATED", "seq=1"),
    ("session.status_changed", "CREATED->IN_PROGRESS", "seq=2"),
    ("session.status_changed", "IN_PROGRESS->APPROVED", "seq=3"),
    ("session.final", "IN_PROGRESS->APPROVED", "seq=3"),
]
WAIT_S = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """A dev-mode gateway (http receivers on loopback allowed) retrying once, at once, and
    waiting long for an answer (a held receiver must not time out while `list` runs)."""
    env = {
        "KYCGW_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.2]",
        "KYCGW_WEBHOOK_POLL_INTERVAL_S": "0.2",
        "KYCGW_WEBHOOK_READ_TIMEOUT_S": "25",
    }
    with GatewayProcess(tmp_path_factory.mktemp("webhooks-cli"), extra_env=env) as process:
        yield process


def cli(server: GatewayProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """`kyc-gateway webhooks …` with the gateway's settings (so its database)."""
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "webhooks", *args],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def gql(server: GatewayProcess, query: str, variables: dict) -> dict:
    body = httpx.post(
        f"{server.base}/graphql", json={"query": query, "variables": variables}, timeout=30
    ).json()
    assert "errors" not in body, body
    return body["data"]


@contextmanager
def endpoint(server: GatewayProcess, url: str) -> Iterator[tuple[str, str]]:
    """A new endpoint of every event type: its id and secret; deleted afterwards, so the
    next test's sessions are not sent to it."""
    created = gql(server, CREATE_ENDPOINT, {"url": url})["createWebhookEndpoint"]
    assert created["userErrors"] == [], created
    endpoint_id = created["endpoint"]["id"]
    try:
        yield endpoint_id, created["secret"]
    finally:
        gql(server, DELETE_ENDPOINT, {"id": endpoint_id})


def approved_session(server: GatewayProcess) -> str:
    """A sandbox session taken to APPROVED (open, approve); its id."""
    ref = f"cli-{uuid.uuid4().hex[:8]}"
    created = gql(server, CREATE_SESSION, {"ref": ref})["createSession"]
    assert created["userErrors"] == [], created
    session = created["session"]
    for action in ("open", "approve"):
        answer = httpx.post(
            f"{server.base}/sandbox/didit/sessions/{session['providerSessionId']}/simulate",
            json={"action": action},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    return str(session["id"])


def statuses(server: GatewayProcess, endpoint_id: str) -> list[str]:
    edges = gql(server, DELIVERIES, {"id": endpoint_id})["webhookDeliveries"]["edges"]
    return sorted(edge["node"]["status"] for edge in edges)


def eventually(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Listen:
    """`kyc-gateway webhooks listen --port 0` in a subprocess; its lines as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "webhooks", "listen", "--port", "0", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        assert self.process.stdout is not None and self.process.stderr is not None
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, lines), daemon=True).start()

    @staticmethod
    def _read(stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))

    def url(self, lines: list[str]) -> str:
        """The address from its first line (`listening on http://…/`), once printed."""
        eventually(lambda: bool(lines) or self.process.poll() is not None, "listen to start")
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/)", lines[0])
        assert match, (self.out, self.err)
        return match.group(1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def listening(env: dict[str, str], *args: str) -> Iterator[Listen]:
    listen = Listen(env, *args)
    try:
        yield listen
    finally:
        listen.stop()


def signed(secret: str, payload: dict, message_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    now = datetime.now(UTC)
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
        "content-type": "application/json",
    }
    return body, headers


def test_listen_prints_each_change_in_order_verified_and_rejects_a_forged_one(
    server: GatewayProcess,
) -> None:
    with endpoint(server, "http://127.0.0.1:9/not-yet") as (endpoint_id, secret):
        env = {**server.env, "KYCGW_WEBHOOK_LISTEN_SECRET": secret}
        with listening(env) as listen:
            url = listen.url(listen.out)
            moved = gql(server, UPDATE_ENDPOINT, {"input": {"id": endpoint_id, "url": url}})
            assert moved["updateWebhookEndpoint"]["userErrors"] == []
            session_id = approved_session(server)

            def lines() -> list[list[str]]:
                return [line.split() for line in listen.out[1:] if session_id in line]

            eventually(lambda: len(lines()) >= len(APPROVED_PATH), "four deliveries")
            got = lines()
            assert [(w[1], w[3], w[4]) for w in got] == APPROVED_PATH
            assert all(w[2] == session_id and w[5] == "verified" and len(w) == 6 for w in got)
            assert all(w[0].startswith("msg_") for w in got)
            assert len({w[0] for w in got}) == len(got)

            body, headers = signed(new_secret(), {"type": "forged"}, "msg_forged")
            forged = httpx.post(url, content=body, headers=headers, timeout=10)
            assert forged.status_code == 401
            unsigned = httpx.post(url, content=body, timeout=10)
            assert unsigned.status_code == 401
            eventually(lambda: len(listen.out) >= len(got) + 3, "the rejections")
            assert listen.out[-2:] == [
                "REJECTED msg_forged: No matching signature found",
                "REJECTED -: Missing required headers",
            ]
        assert listen.process.returncode == 0  # SIGTERM ends it cleanly
        assert secret not in "\n".join(listen.out + listen.err)
        assert statuses(server, endpoint_id) == ["SUCCEEDED"] * len(APPROVED_PATH)


def test_listen_json_prints_verified_payloads_only_and_needs_a_secret(
    server: GatewayProcess,
) -> None:
    secret = new_secret()
    env = {**server.env, "KYCGW_WEBHOOK_LISTEN_SECRET": "ignored-for-the-flag"}
    with listening(env, "--secret", secret, "--json") as listen:
        url = listen.url(listen.err)  # stdout is kept for payloads
        payload = {"type": "session.final", "timestamp": "t", "data": {"sequence": 1}}
        body, headers = signed(secret, payload, "msg_json")
        assert httpx.post(url, content=body, headers=headers, timeout=10).status_code == 204
        body, headers = signed(new_secret(), payload, "msg_other")
        assert httpx.post(url, content=body, headers=headers, timeout=10).status_code == 401
        eventually(lambda: len(listen.out) >= 1 and len(listen.err) >= 2, "two deliveries")
        assert [json.loads(line) for line in listen.out] == [payload]
        assert listen.err[1:] == ["REJECTED msg_other: No matching signature found"]

    bare = {k: v for k, v in server.env.items() if k != "KYCGW_WEBHOOK_LISTEN_SECRET"}
    refused = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "webhooks", "listen", "--port", "0"],
        env=bare,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "KYCGW_WEBHOOK_LISTEN_SECRET" in refused.stderr


@dataclass
class HeldReceiver(Receiver):
    """Holds every request until `release` is set: the first delivery of a session stays
    SENDING, and the session's later ones wait behind it, PENDING."""

    release: threading.Event = field(default_factory=threading.Event)

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        self.release.wait(WAIT_S)
        return super().handle(body, headers)


def test_list_shows_each_endpoint_its_state_and_counts_and_no_secret(
    server: GatewayProcess,
) -> None:
    path = len(APPROVED_PATH)
    with (
        running_receiver(Receiver(fail_with=500)) as failing,
        endpoint(server, failing.url) as (failing_id, failing_secret),
    ):
        failing.secret = failing_secret
        approved_session(server)
        eventually(lambda: statuses(server, failing_id) == ["FAILED"] * path, "FAILED")
        off = {"input": {"id": failing_id, "enabled": False}}
        assert gql(server, UPDATE_ENDPOINT, off)["updateWebhookEndpoint"]["userErrors"] == []
        held = HeldReceiver()
        try:
            with (
                running_receiver(held) as receiver,
                endpoint(server, receiver.url) as (held_id, held_secret),
            ):
                held.secret = held_secret
                approved_session(server)
                waiting = ["PENDING"] * (path - 1) + ["SENDING"]
                eventually(lambda: statuses(server, held_id) == waiting, "PENDING behind SENDING")
                table = cli(server, "list")
                listed = cli(server, "list", "--json")
                held.release.set()
                held.wait_for(lambda r: len(r.accepted) == path, what="the held deliveries")
        finally:
            held.release.set()

    for result in (table, listed):
        assert result.returncode == 0, result.stderr
        everything = result.stdout + result.stderr
        assert failing_secret not in everything and held_secret not in everything
        assert "whsec_" not in everything
    rows = {
        cells[0]: cells
        for cells in (re.split(r"\s{2,}", line) for line in table.stdout.splitlines())
    }
    assert rows["ID"] == [
        "ID",
        "URL",
        "EVENTS",
        "PROVIDERS",
        "STATE",
        "STATIC",
        "PENDING",
        "FAILED",
    ]
    events = "session.status_changed,session.final"
    assert rows[failing_id] == [
        failing_id,
        failing.url,
        events,
        "all",
        "disabled: disabled through updateWebhookEndpoint",
        "no",
        "0",
        str(path),
    ]
    assert rows[held_id] == [
        held_id,
        receiver.url,
        events,
        "all",
        "enabled",
        "no",
        str(path - 1),
        "0",
    ]
    by_id = {entry["id"]: entry for entry in json.loads(listed.stdout)}
    assert by_id[failing_id] == {
        "id": failing_id,
        "url": failing.url,
        "events": ["session.status_changed", "session.final"],
        "providers": [],
        "enabled": False,
        "disabledReason": "disabled through updateWebhookEndpoint",
        "static": False,
        "pending": 0,
        "failed": path,
    }
    assert (by_id[held_id]["enabled"], by_id[held_id]["pending"], by_id[held_id]["failed"]) == (
        True,
        path - 1,
        0,
    )


def test_test_sends_one_signed_example_and_exits_by_the_answer(server: GatewayProcess) -> None:
    with running_receiver() as receiver, endpoint(server, receiver.url) as (endpoint_id, secret):
        receiver.secret = secret
        sent = cli(server, "test", endpoint_id)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert re.fullmatch(r"(msg_\w+): HTTP 204 in [\d.]+ ms\n", sent.stdout), sent.stdout
        [arrived] = receiver.accepted  # verified with the endpoint's secret
        assert arrived.webhook_id == sent.stdout.split(":")[0]
        payload = arrived.payload
        assert list(payload) == ["type", "timestamp", "test", "data"]
        assert payload["type"] == "session.status_changed" and payload["test"] is True
        assert set(payload["data"]) == DATA_FIELDS
        assert (payload["data"]["previousStatus"], payload["data"]["status"]) == (
            "IN_PROGRESS",
            "APPROVED",
        )
        assert secret not in sent.stdout + sent.stderr

        receiver.fail_with = 500
        refused = cli(server, "test", endpoint_id)
        assert refused.returncode == 1
        assert re.fullmatch(r"msg_\w+: failed: HTTP 500 \([\d.]+ ms\)\n", refused.stdout)
        assert len(receiver.attempts) == 2

    unknown = cli(server, "test", "ep_nobody")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines() == [
        "kyc-gateway webhooks test: no webhook endpoint ep_nobody (see `webhooks list`)"
    ]


def test_replay_queues_the_window_and_the_receiver_gets_the_same_ids(
    server: GatewayProcess,
) -> None:
    path = len(APPROVED_PATH)
    with running_receiver() as receiver, endpoint(server, receiver.url) as (endpoint_id, secret):
        receiver.secret = secret
        since = datetime.now(UTC) - timedelta(milliseconds=1)
        approved_session(server)
        receiver.wait_for(lambda r: len(r.accepted) == path, what="the first deliveries")
        until = datetime.now(UTC) + timedelta(milliseconds=1)
        window = ["--from", since.isoformat(), "--to", until.isoformat()]
        replayed = cli(server, "replay", "--endpoint", endpoint_id, *window)
        assert replayed.returncode == 0, replayed.stderr
        assert replayed.stdout.startswith(f"queued {path} deliveries to {endpoint_id} ")
        receiver.wait_for(lambda r: len(r.accepted) == 2 * path, what="the replayed deliveries")
        ids = [received.webhook_id for received in receiver.accepted]
        assert ids[path:] == ids[:path]
        assert [r.payload for r in receiver.accepted[path:]] == [
            r.payload for r in receiver.accepted[:path]
        ]

        naive = cli(server, "replay", "--endpoint", endpoint_id, "--from", "2026-01-05T10:00:00")
        backwards = cli(
            server, "replay", "--endpoint", endpoint_id, "--from", window[3], "--to", window[1]
        )
    unknown = cli(server, "replay", "--endpoint", "ep_nobody", *window)
    for result, says in (
        (naive, "needs a time zone"),
        (backwards, "must be after --from"),
        (unknown, "webhook endpoint not found"),
    ):
        assert result.returncode == 2 and result.stdout == ""
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("kyc-gateway webhooks replay: ") and says in line
    assert len(receiver.accepted) == 2 * path  # nothing more was queued
