"""Issue 18's acceptance for outbound webhooks, against real gateway processes and a real
HTTP receiver on loopback that verifies every delivery with the `standardwebhooks` library:
each status change of a driven sandbox session arrives once and in sequence; a receiver that
answers 500 for a while gets everything afterwards, in order per session, with the same
`webhook-id` on retries and every attempt in the delivery log; exhausted deliveries are kept
FAILED and can be sent again; an endpoint failing for the configured time is disabled and
says why; secrets rotate with a grace period; unsafe targets are refused."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.server import GatewayProcess, metric
from tests.support import sandbox_paths
from tests.support.keys import env, graphql_as, key
from tests.support.webhook_receiver import DATA_FIELDS, Receiver, changes, running_receiver

FAST_RETRIES = {
    "KYCGW_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]",
    "KYCGW_WEBHOOK_POLL_INTERVAL_S": "0.1",
}
VENDORS = ["beltic", "didit", "uip", "uqudo", "verifa"]
CREATE_ENDPOINT = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    endpoint { id url events providers enabled }
    secret
    userErrors { code field message }
  }
}
"""
DELIVERIES = """
query($endpoint: ID, $session: ID, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $endpoint, sessionId: $session, status: $status, first: 100) {
    edges { node { id webhookId eventType status attemptCount lastStatusCode
                   attempts { statusCode error } } }
  }
}
"""
HISTORY = "query($id: ID!) { session(id: $id) { history { sequence status cursor } } }"


def gql(
    base: str, query: str, variables: dict | None = None, credential: str | None = None
) -> dict:
    body = graphql_as(base, credential, query, variables).json()
    assert "errors" not in body, body
    return body["data"]


def add_endpoint(
    base: str, receiver: Receiver, credential: str | None = None, **extra: object
) -> str:
    """An endpoint for `receiver`, whose secret it now verifies with; returns its id."""
    payload = gql(base, CREATE_ENDPOINT, {"input": {"url": receiver.url, **extra}}, credential)[
        "createWebhookEndpoint"
    ]
    assert payload["userErrors"] == [], payload
    receiver.secret = payload["secret"]
    return payload["endpoint"]["id"]


def approved(base: str, vendor: str) -> dict:
    """A sandbox session of `vendor` driven along its script to APPROVED."""
    vendor_script = sandbox_paths.script(base, vendor)
    session = sandbox_paths.create(base, vendor, vendor_script)
    sandbox_paths.drive(base, vendor, session, sandbox_paths.path_to(vendor_script, "APPROVED"))
    return session


def history(base: str, session_id: str) -> list[dict]:
    return gql(base, HISTORY, {"id": session_id})["session"]["history"]


def wait_final(base: str, session_id: str) -> list[dict]:
    deadline = time.monotonic() + 30
    while True:
        changes_so_far = history(base, session_id)
        if changes_so_far and changes_so_far[-1]["status"] == "APPROVED":
            return changes_so_far
        assert time.monotonic() < deadline, changes_so_far
        time.sleep(0.1)


def wait_metric(base: str, series: str, above: float, timeout_s: float = 10) -> float:
    deadline = time.monotonic() + timeout_s
    while (value := metric(base, series, default=0)) <= above:
        assert time.monotonic() < deadline, f"{series} stayed at {value}"
        time.sleep(0.2)
    return value


def has_final(session_id: str) -> object:
    return lambda r: bool(changes(r.accepted, session_id, "session.final"))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("outbound"), extra_env=FAST_RETRIES) as process:
        yield process


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_change_of_a_driven_session_arrives_once_in_sequence_verified(
    gateway: GatewayProcess, vendor: str
) -> None:
    with running_receiver() as receiver:
        add_endpoint(gateway.base, receiver, providers=[vendor])
        session = approved(gateway.base, vendor)
        recorded = wait_final(gateway.base, session["id"])
        receiver.wait_for(has_final(session["id"]), what="the final event")
        time.sleep(0.3)  # anything sent twice would arrive by now

    got = changes(receiver.accepted, session["id"], "session.status_changed")
    assert [c["sequence"] for c in got] == [c["sequence"] for c in recorded]
    assert [c["status"] for c in got] == [c["status"] for c in recorded]
    assert [c["cursor"] for c in got] == [c["cursor"] for c in recorded]
    assert [c["previousStatus"] for c in got] == [None] + [c["status"] for c in recorded[:-1]]
    final = changes(receiver.accepted, session["id"], "session.final")
    assert len(final) == 1 and final[0]["status"] == "APPROVED"
    assert final[0]["decision"]["outcome"] == "APPROVED"
    assert set(final[0]["decision"]) == {"outcome", "decidedBy", "reasonCodes"}
    ids = [r.webhook_id for r in receiver.accepted]
    assert len(ids) == len(set(ids)) == len(recorded) + 1, "each change exactly once"
    assert receiver.rejected_signatures == 0
    for delivery in receiver.accepted:
        assert set(delivery.payload) == {"type", "timestamp", "data"}
        assert set(delivery.payload["data"]) == DATA_FIELDS
        assert delivery.payload["data"]["provider"] == vendor


def test_no_personal_data_or_capability_url_in_a_payload(gateway: GatewayProcess) -> None:
    with running_receiver() as receiver:
        add_endpoint(gateway.base, receiver, providers=["didit"])
        session = approved(gateway.base, "didit")
        receiver.wait_for(has_final(session["id"]))
    read = gql(
        gateway.base,
        "query($id: ID!) { session(id: $id) { verificationUrl person { firstName lastName } } }",
        {"id": session["id"]},
    )["session"]
    sent = json.dumps([r.payload for r in receiver.accepted])
    assert read["verificationUrl"] and read["verificationUrl"] not in sent
    for value in (read["person"] or {}).values():
        assert not value or value not in sent


def test_a_receiver_down_for_a_while_gets_every_change_in_order_with_stable_ids(
    gateway: GatewayProcess,
) -> None:
    with running_receiver(Receiver(fail_with=500)) as receiver:
        endpoint = add_endpoint(gateway.base, receiver, providers=["didit"])
        sessions = [approved(gateway.base, "didit") for _ in range(3)]
        receiver.wait_for(lambda r: len(r.attempts) >= 6, what="failed attempts")
        waiting = wait_metric(gateway.base, "kycgw_outbound_webhook_queue_depth", above=0)
        assert waiting >= 1
        assert wait_metric(gateway.base, "kycgw_outbound_webhook_oldest_pending_seconds", above=0)
        receiver.fail_with = None
        for session in sessions:
            receiver.wait_for(has_final(session["id"]), what="recovery")

    for session in sessions:
        recorded = history(gateway.base, session["id"])
        got = changes(receiver.accepted, session["id"], "session.status_changed")
        assert [c["sequence"] for c in got] == [c["sequence"] for c in recorded]
        # Ordered per session: no attempt of a later event before the earlier one succeeded.
        attempted = [
            a.payload["data"]["sequence"]
            for a in receiver.attempts
            if a.payload["data"]["sessionId"] == session["id"]
            and a.payload["type"] == "session.status_changed"
        ]
        assert attempted == sorted(attempted), attempted
    failed_ids = {a.webhook_id for a in receiver.attempts if a.answered == 500}
    accepted_ids = {a.webhook_id for a in receiver.accepted}
    assert failed_ids and failed_ids <= accepted_ids, "a retry keeps its webhook-id"

    assert (
        metric(
            gateway.base, 'kycgw_outbound_webhook_deliveries_total{outcome="retrying"}', default=0
        )
        > 0
    )
    assert (
        metric(
            gateway.base, 'kycgw_outbound_webhook_deliveries_total{outcome="succeeded"}', default=0
        )
        > 0
    )
    assert metric(gateway.base, "kycgw_outbound_webhook_attempt_seconds_count", default=0) >= len(
        receiver.attempts
    )

    log = gql(gateway.base, DELIVERIES, {"endpoint": endpoint})["webhookDeliveries"]["edges"]
    retried = [e["node"] for e in log if e["node"]["webhookId"] in failed_ids]
    assert retried
    for node in retried:
        codes = [a["statusCode"] for a in node["attempts"]]
        assert node["status"] == "SUCCEEDED" and codes[-1] == 204 and set(codes[:-1]) == {500}
        assert node["attemptCount"] == len(codes)
        sent = [a for a in receiver.attempts if a.webhook_id == node["webhookId"]]
        assert len(sent) == len(codes), "the log shows every attempt"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """Three quick attempts, and an endpoint failing for a second is disabled."""
    extra = {
        "KYCGW_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.1, 0.1]",
        "KYCGW_WEBHOOK_POLL_INTERVAL_S": "0.1",
    }
    with GatewayProcess(tmp_path_factory.mktemp("strict"), extra_env=extra) as process:
        yield process


def deliveries(base: str, endpoint: str, status: str | None = None) -> list[dict]:
    edges = gql(base, DELIVERIES, {"endpoint": endpoint, "status": status})["webhookDeliveries"]
    return [e["node"] for e in edges["edges"]]


def wait_deliveries(base: str, endpoint: str, status: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 20
    while len(found := deliveries(base, endpoint, status)) < count:
        assert time.monotonic() < deadline, deliveries(base, endpoint)
        time.sleep(0.1)
    return found


REDELIVER = """
mutation($id: ID!) { redeliverWebhook(id: $id) {
  delivery { id status } userErrors { code field message } } }
"""
REPLAY = """
mutation($e: ID!, $from: DateTime!) { replayWebhooks(endpointId: $e, from: $from) {
  queued userErrors { code field message } } }
"""


def test_an_exhausted_delivery_is_kept_failed_and_can_be_sent_again(
    strict: GatewayProcess,
) -> None:
    with running_receiver(Receiver(fail_with=503)) as receiver:
        endpoint = add_endpoint(strict.base, receiver, providers=["verifa"])
        session = sandbox_paths.create(
            strict.base, "verifa", sandbox_paths.script(strict.base, "verifa")
        )
        failed = wait_deliveries(strict.base, endpoint, "FAILED", 1)[0]
        assert [a["statusCode"] for a in failed["attempts"]] == [503, 503, 503]
        assert failed["lastStatusCode"] == 503
        receiver.fail_with = None
        answer = gql(strict.base, REDELIVER, {"id": failed["id"]})["redeliverWebhook"]
        assert answer["userErrors"] == [] and answer["delivery"]["status"] == "PENDING"
        receiver.wait_for(lambda r: len(r.accepted) == 1, what="the redelivery")
        assert receiver.accepted[0].webhook_id == failed["webhookId"]
        assert receiver.accepted[0].payload["data"]["sessionId"] == session["id"]
        again = gql(strict.base, REDELIVER, {"id": "999999"})["redeliverWebhook"]
        assert again["userErrors"][0]["code"] == "NOT_FOUND"


def test_replay_sends_a_window_of_messages_again_with_their_ids(strict: GatewayProcess) -> None:
    with running_receiver() as receiver:
        endpoint = add_endpoint(strict.base, receiver, providers=["didit"])
        since = datetime.now(UTC) - timedelta(seconds=1)
        session = approved(strict.base, "didit")
        receiver.wait_for(has_final(session["id"]))
        first = [r.webhook_id for r in receiver.accepted]
        answer = gql(strict.base, REPLAY, {"e": endpoint, "from": since.isoformat()})
        assert answer["replayWebhooks"]["queued"] == len(first)
        receiver.wait_for(lambda r: len(r.accepted) == 2 * len(first), what="the replay")
    assert [r.webhook_id for r in receiver.accepted[len(first) :]] == first


def test_an_endpoint_failing_for_the_configured_time_is_disabled_and_says_why(
    tmp_path: Path,
) -> None:
    extra = {
        "KYCGW_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]",
        "KYCGW_WEBHOOK_POLL_INTERVAL_S": "0.1",
        "KYCGW_WEBHOOK_DISABLE_AFTER_S": "1",
    }
    with (
        GatewayProcess(tmp_path, extra_env=extra) as server,
        running_receiver(Receiver(fail_with=500)) as receiver,
    ):
        endpoint = add_endpoint(server.base, receiver)
        sandbox_paths.create(server.base, "didit", sandbox_paths.script(server.base, "didit"))
        deadline = time.monotonic() + 20
        while True:
            listed = gql(server.base, "{ webhookEndpoints { id enabled disabledReason } }")
            (state,) = [e for e in listed["webhookEndpoints"] if e["id"] == endpoint]
            if not state["enabled"]:
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.1)
        assert "every attempt failed since" in state["disabledReason"]
        attempts = len(receiver.attempts)
        assert attempts >= 2
        sandbox_paths.create(server.base, "didit", sandbox_paths.script(server.base, "didit"))
        time.sleep(1.0)
        assert len(receiver.attempts) == attempts, "a disabled endpoint is sent nothing"
        assert all(d["status"] == "FAILED" for d in deliveries(server.base, endpoint))
        assert (
            "kycgw_outbound_webhook_endpoints_disabled_total 1.0"
            in httpx.get(f"{server.base}/metrics", timeout=10).text
        )


def test_a_rotated_secret_signs_beside_the_old_one_for_the_grace_period(
    gateway: GatewayProcess,
) -> None:
    rotate = """mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) {
      endpoint { previousSecretValidUntil } secret userErrors { code message } } }"""
    with running_receiver() as receiver:
        endpoint = add_endpoint(gateway.base, receiver, providers=["uqudo"])
        old = receiver.secret
        answer = gql(gateway.base, rotate, {"id": endpoint})["rotateWebhookEndpointSecret"]
        assert answer["userErrors"] == [] and answer["secret"] != old
        assert answer["endpoint"]["previousSecretValidUntil"]
        new = answer["secret"]
        receiver.secret = new
        session = sandbox_paths.create(
            gateway.base, "uqudo", sandbox_paths.script(gateway.base, "uqudo")
        )
        receiver.wait_for(
            lambda r: len(changes(r.accepted, session["id"], "session.status_changed")) >= 1
        )
    delivery = receiver.accepted[0]
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, delivery.headers)  # raises when it does not match


def test_the_signing_secret_is_never_readable_after_it_is_made(gateway: GatewayProcess) -> None:
    with running_receiver() as receiver:
        add_endpoint(gateway.base, receiver, providers=["beltic"])
        listed = httpx.post(
            f"{gateway.base}/graphql",
            json={"query": "{ webhookEndpoints { id url events providers description } }"},
            timeout=10,
        ).text
        assert receiver.secret and receiver.secret not in listed
        assert receiver.secret not in gateway.log_text()


UNSAFE = [
    "https://127.0.0.1/hooks",
    "https://10.0.0.1/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hooks",
    "https://localhost/hooks",
    "http://127.0.0.1:9/hooks",
    "ftp://example.com/hooks",
    "https://user:pass@example.com/hooks",
]


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("keyed"), extra_env=env()) as process:
        yield process


@pytest.mark.parametrize("url", UNSAFE)
def test_an_unsafe_target_is_refused_outside_dev_mode(keyed: GatewayProcess, url: str) -> None:
    payload = gql(keyed.base, CREATE_ENDPOINT, {"input": {"url": url}}, key("webhooks"))[
        "createWebhookEndpoint"
    ]
    assert payload["endpoint"] is None and payload["secret"] is None
    (error,) = payload["userErrors"]
    assert error["code"] == "BAD_USER_INPUT" and error["field"] == ["input", "url"], error


def test_managing_webhooks_needs_the_webhooks_manage_scope(keyed: GatewayProcess) -> None:
    refused = gql(
        keyed.base, CREATE_ENDPOINT, {"input": {"url": "https://example.com/h"}}, key("admin")
    )["createWebhookEndpoint"]
    assert refused["userErrors"][0]["code"] == "FORBIDDEN" and refused["secret"] is None
    listed = graphql_as(keyed.base, key("admin"), "{ webhookEndpoints { id } }").json()
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = graphql_as(keyed.base, None, "{ webhookDeliveries { edges { cursor } } }").json()
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_endpoint_gets_only_the_event_types_and_vendors_it_asked_for(
    gateway: GatewayProcess,
) -> None:
    with (
        running_receiver() as finals,
        running_receiver() as elsewhere,
        running_receiver() as everything,
    ):
        add_endpoint(gateway.base, finals, events=["session.final"], providers=["didit"])
        add_endpoint(gateway.base, elsewhere, providers=["verifa"])
        add_endpoint(gateway.base, everything)
        session = approved(gateway.base, "didit")
        everything.wait_for(has_final(session["id"]))
        finals.wait_for(has_final(session["id"]))
        time.sleep(0.5)  # anything else for these endpoints would arrive by now
    mine = [r for r in everything.accepted if r.payload["data"]["sessionId"] == session["id"]]
    assert [r.payload["type"] for r in mine][-1] == "session.final" and len(mine) >= 3
    assert [r.payload["type"] for r in finals.accepted] == ["session.final"]
    assert finals.accepted[0].webhook_id == mine[-1].webhook_id, "one message, one id"
    assert not [r for r in elsewhere.accepted if r.payload["data"]["provider"] != "verifa"]


def test_an_endpoint_hears_nothing_of_what_happened_before_it_was_made(
    gateway: GatewayProcess,
) -> None:
    session = approved(gateway.base, "beltic")
    wait_final(gateway.base, session["id"])
    with running_receiver() as receiver:
        add_endpoint(gateway.base, receiver, providers=["beltic"])
        later = approved(gateway.base, "beltic")
        receiver.wait_for(has_final(later["id"]))
    assert {r.payload["data"]["sessionId"] for r in receiver.accepted} == {later["id"]}


def test_finished_deliveries_are_forgotten_after_the_retention_pending_ones_never(
    tmp_path: Path,
) -> None:
    extra = {
        **FAST_RETRIES,
        "KYCGW_WEBHOOK_RETENTION_S": "1",
        "KYCGW_WEBHOOK_PRUNE_INTERVAL_S": "0.2",
    }
    with (
        GatewayProcess(tmp_path, extra_env=extra) as server,
        running_receiver() as receiver,
        running_receiver(Receiver(fail_with=500)) as failing,
    ):
        delivered = add_endpoint(server.base, receiver)
        stuck = add_endpoint(server.base, failing)
        session = approved(server.base, "didit")
        receiver.wait_for(has_final(session["id"]))
        assert deliveries(server.base, delivered)
        deadline = time.monotonic() + 15
        while deliveries(server.base, delivered):
            assert time.monotonic() < deadline, "finished deliveries were never pruned"
            time.sleep(0.2)
        # The failing endpoint's deliveries are still retrying: they stay, with their log.
        waiting = deliveries(server.base, stuck)
        assert waiting and all(d["status"] in ("PENDING", "SENDING") for d in waiting)
        assert any(d["attempts"] for d in waiting)
        db = sqlite3.connect(tmp_path / "gateway.db")
        try:
            kept = db.execute("select count(*) from webhook_messages").fetchone()[0]
            done = db.execute(
                "select count(*) from webhook_deliveries where status = 'SUCCEEDED'"
            ).fetchone()[0]
        finally:
            db.close()
        assert done == 0 and kept == len(waiting), "a message stays while it is owed"
