"""Issue 14, item 1: documents that cost far more to validate than to send.

A kilobyte of nested fragment spreads (`F24` stands for 2^24 fields) took over a minute to
validate and froze the replica meanwhile. Against real servers, dev mode and keyed: such
documents are refused in well under a second, `/healthz` keeps answering while they arrive
in a loop, and in a keyed deployment a caller without valid credentials is refused before
its document is even parsed."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import GatewayProcess
from tests.support.bombs import fragment_bomb
from tests.support.keys import env, key
from tests.support.latency import healthz_latencies, p95, summary


@pytest.fixture(scope="module", params=["dev", "keyed"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    extra = env() if request.param == "keyed" else {}
    with GatewayProcess(
        tmp_path_factory.mktemp(f"limits-{request.param}"), extra_env=extra
    ) as gateway:
        yield gateway


#: A reader key for the keyed deployment (dev mode ignores it).
READER = {"x-api-key": key("reader")}


def _messages(body: dict) -> list[str]:
    return [error["message"] for error in body.get("errors") or []]


def test_the_fragment_bomb_is_refused_in_well_under_a_second(server: GatewayProcess) -> None:
    with httpx.Client(base_url=server.base, timeout=10, headers=READER) as client:
        started = time.perf_counter()
        r = client.post("/graphql", json={"query": fragment_bomb(24)})
        elapsed = time.perf_counter() - started
    print(f"F24 answered in {elapsed:.3f} s")
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None
    assert "Operation selects more than 2000 fields once fragments are expanded" in _messages(body)
    assert elapsed < 1.0


def test_healthz_answers_normally_while_bombs_arrive(server: GatewayProcess) -> None:
    stop = threading.Event()
    answered: list[float] = []
    failures: list[BaseException] = []

    def send_bombs() -> None:
        with httpx.Client(base_url=server.base, timeout=10, headers=READER) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    r = client.post("/graphql", json={"query": fragment_bomb(24)})
                    assert r.json()["data"] is None
                except BaseException as error:  # reported by the main thread
                    failures.append(error)
                    return
                answered.append(time.perf_counter() - started)

    sender = threading.Thread(target=send_bombs)
    sender.start()
    try:
        latencies = healthz_latencies(server.base, 3.0, timeout_s=5)
    finally:
        stop.set()
        sender.join(15)
    print(
        f"{summary(latencies)}; {len(answered)} bombs answered,"
        f" slowest {max(answered or [0]):.3f} s"
    )
    assert not failures, failures
    assert len(answered) >= 3
    assert p95(latencies) < 0.2


def test_a_document_with_fragments_still_works(server: GatewayProcess) -> None:
    document = (
        "query Providers { providers { ...Names ...Health } }"
        " fragment Names on Provider { name mode }"
        " fragment Health on Provider { health { breaker } ...Names }"
    )
    with httpx.Client(base_url=server.base, timeout=10, headers=READER) as client:
        body = client.post("/graphql", json={"query": document}).json()
    assert "errors" not in body, body
    assert body["data"]["providers"] and all(
        p["name"] and p["health"] for p in body["data"]["providers"]
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        # 2^11 = 2048 leaf fields in a few hundred bytes.
        (fragment_bomb(11), "Operation selects more than 2000 fields once fragments are expanded"),
        # 31 aliases, all inside one fragment.
        (
            "{ ...A } fragment A on Query { "
            + " ".join(f"a{i}: providers {{ name }}" for i in range(31))
            + " }",
            "Operation uses more than 30 aliases once fragments are expanded",
        ),
        # Depth 13 (the limit is 12), one level per fragment. The schema nests no deeper
        # than a few levels, so the fields are unknown ones: depth is measured all the same.
        (
            "{ ...D1 } "
            + " ".join(
                f"fragment D{k} on Query {{ deeper {{ ...D{k + 1} }} }}" for k in range(1, 13)
            )
            + " fragment D13 on Query { deeper { leaf } }",
            "Query depth 13 exceeds the limit of 12",
        ),
    ],
    ids=["fields", "aliases", "depth"],
)
def test_expanded_limits_are_reported(server: GatewayProcess, document: str, message: str) -> None:
    with httpx.Client(base_url=server.base, timeout=10, headers=READER) as client:
        body = client.post("/graphql", json={"query": document}).json()
    assert body["data"] is None
    assert message in _messages(body), body


def test_many_fields_with_one_response_name_are_refused_quickly(server: GatewayProcess) -> None:
    """graphql-core's overlapping-fields rule compares every pair of same-named fields:
    490 of them took about a second."""
    document = "{ " + "providers { name } " * 490 + "} # " + uuid.uuid4().hex
    with httpx.Client(base_url=server.base, timeout=10, headers=READER) as client:
        started = time.perf_counter()
        body = client.post("/graphql", json={"query": document}).json()
        elapsed = time.perf_counter() - started
    print(f"490 same-named fields answered in {elapsed:.3f} s")
    assert body["data"] is None and body["errors"]
    assert elapsed < 0.5


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("limits-anon"), extra_env=env()) as gateway:
        yield gateway


@pytest.mark.parametrize("credential", [None, "kgw_not_a_key_at_all"])
def test_without_valid_credentials_the_bomb_is_refused_before_parsing(
    keyed: GatewayProcess, credential: str | None
) -> None:
    headers = {"authorization": f"Bearer {credential}"} if credential else {}
    with httpx.Client(base_url=keyed.base, timeout=10, headers=headers) as client:
        started = time.perf_counter()
        r = client.post("/graphql", json={"query": fragment_bomb(24)})
        elapsed = time.perf_counter() - started
        # Not even parsed: a syntax error, or a body that is no JSON, is answered the same way.
        broken = client.post("/graphql", json={"query": "{ providers { name "}).json()
        not_json = client.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        ).json()
        strict = client.post(
            "/graphql",
            headers={"accept": "application/graphql-response+json"},
            json={"query": fragment_bomb(24)},
        )
    print(f"anonymous F24 answered in {elapsed:.3f} s")
    assert elapsed < 1.0
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert [e["extensions"]["code"] for e in broken["errors"]] == ["UNAUTHENTICATED"]
    assert [e["extensions"]["code"] for e in not_json["errors"]] == ["UNAUTHENTICATED"]
    assert strict.status_code == 401
    assert strict.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in strict.json()
