"""Ops endpoints against real servers (issue 14, items 3 and 4).

Item 3: every unmatched path used to become its own `kycgw_http_requests_total` series, and
anyone could read `/metrics`. Item 4: `/console/qr` drew a QR code on the event loop for
anyone (stalling `/healthz`) and answered 500 to a bad body."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import HTTPException

from gateway.web.pages import qr
from tests.e2e.server import GatewayProcess
from tests.support.keys import env, key
from tests.support.latency import healthz_latencies, p95, summary

METRIC = "kycgw_http_requests_total{"
METRICS_TOKEN = "test-only-metrics-token-0123456789"


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, **extra: str) -> Iterator[str]:
    with GatewayProcess(tmp_path_factory.mktemp(name), extra_env=extra) as server:
        yield server.base


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Dev mode (no API keys, no metrics token): everything open, as today."""
    yield from _serve(tmp_path_factory, "ops-dev")


@pytest.fixture(scope="module")
def dev_with_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory, "ops-dev-token", KYCGW_METRICS_TOKEN=METRICS_TOKEN)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory, "ops-keyed", KYCGW_METRICS_TOKEN=METRICS_TOKEN, **env())


def _series(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(METRIC)]


def _label_sets(text: str) -> set[str]:
    """`{route="…",status="…"}` of every series (without the value)."""
    return {line.rsplit(" ", 1)[0] for line in _series(text)}


def _metrics(base: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{base}/metrics", headers=headers, timeout=10)


def _bearer(credential: str) -> dict[str, str]:
    return {"authorization": f"Bearer {credential}"}


# -- item 3: cardinality ----------------------------------------------------------------------
def test_random_paths_add_at_most_a_couple_of_series(dev: str) -> None:
    _metrics(dev)  # /metrics itself now has its series
    before = _metrics(dev)
    noise = [secrets.token_hex(6) for _ in range(300)]
    with httpx.Client(base_url=dev, timeout=10) as client:
        for word in noise:
            client.get(f"/{word}/{secrets.token_hex(3)}")
        for word in noise[:100]:
            client.get(f"/sandbox/{word}/x")  # no such vendor: no mount
            client.get(f"/sandbox/didit/{word}")  # the mount matches, nothing inside it does
            client.post(f"/webhooks/{word}", content=b"{}")  # the route matches: a template
    after = _metrics(dev)
    added = _label_sets(after.text) - _label_sets(before.text)
    print(
        f"series {len(_series(before.text))} -> {len(_series(after.text))}, "
        f"/metrics {len(before.text)} -> {len(after.text)} bytes"
    )
    assert len(added) <= 3, sorted(added)[:10]
    # Each new route label set costs its counter and its duration histogram (~20 lines):
    # a few kB, where a label per path would be hundreds.
    assert len(after.text) - len(before.text) < 8_000
    assert not any(word in after.text for word in noise)
    unmatched = [s for s in _series(after.text) if 'route="<unmatched>"' in s]
    assert unmatched and float(unmatched[0].rsplit(" ", 1)[1]) >= 500


def test_route_labels_keep_their_mount_prefix_and_never_raw_ids(dev: str) -> None:
    session_id = secrets.token_hex(8)
    with httpx.Client(base_url=dev, timeout=10) as client:
        assert client.post("/webhooks/didit", content=b"{}").status_code in (400, 401)
        # A route inside the sandbox mount (no vendor key: 403, still that route).
        client.get(f"/sandbox/didit/v3/session/{session_id}/decision/")
    labels = {s.split('route="', 1)[1].split('"', 1)[0] for s in _series(_metrics(dev).text)}
    assert "/webhooks/{provider}" in labels
    assert "/{provider}" not in labels
    assert "/sandbox/didit/v3/session/{session_id}/decision/" in labels
    assert not any(session_id in label for label in labels)


# -- item 3: who may read /metrics --------------------------------------------------------------
def test_dev_mode_metrics_are_open_without_a_token(dev: str) -> None:
    assert _metrics(dev).status_code == 200


def test_dev_mode_metrics_token_closes_metrics(dev_with_token: str) -> None:
    refused = _metrics(dev_with_token)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].lower().startswith("bearer")
    assert METRIC not in refused.text
    assert _metrics(dev_with_token, **_bearer("not-the-token")).status_code == 401
    assert METRIC in _metrics(dev_with_token, **_bearer(METRICS_TOKEN)).text


def test_keyed_metrics_need_the_token_or_a_stats_key(keyed: str) -> None:
    refused = _metrics(keyed)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].lower().startswith("bearer")
    assert METRIC not in refused.text
    assert _metrics(keyed, **_bearer("kgw_not_a_key")).status_code == 401
    assert _metrics(keyed, **_bearer(key("reader"))).status_code in (401, 403)
    assert METRIC in _metrics(keyed, **_bearer(key("stats"))).text
    assert METRIC in _metrics(keyed, **{"x-api-key": key("stats")}).text
    assert METRIC in _metrics(keyed, **_bearer(METRICS_TOKEN)).text


def test_keyed_probes_stay_open(keyed: str) -> None:
    """Load balancers and orchestrators probe without credentials."""
    assert httpx.get(f"{keyed}/healthz", timeout=10).json()["status"] == "ok"
    assert httpx.get(f"{keyed}/readyz", timeout=10).json()["ready"] is True


# -- item 4: /console/qr ----------------------------------------------------------------------
QR = "/console/qr"
LINK = "https://verify.example/session/"


def test_keyed_qr_needs_a_session_key(keyed: str) -> None:
    with httpx.Client(base_url=keyed, timeout=10) as client:
        assert client.post(QR, json={"text": LINK}).status_code == 401
        assert client.post(QR, json={"text": LINK}, headers=_bearer("kgw_nope")).status_code == 401
        assert (
            client.post(QR, json={"text": LINK}, headers=_bearer(key("stats"))).status_code == 403
        )
        ok = client.post(QR, json={"text": LINK}, headers=_bearer(key("writer")))
        assert ok.status_code == 200
        assert ok.json()["dataUrl"].startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"text": "\xff\xfe"}', "application/json"),  # invalid UTF-8
        (b'{"text": "\\ud800"}', "application/json"),  # a lone surrogate: no UTF-8 form
        (b'["a list"]', "application/json"),
        (b'{"text": 5}', "application/json"),
        (b'{"text": ""}', "application/json"),
    ],
    ids=["bad-json", "bad-utf8", "lone-surrogate", "not-an-object", "not-a-string", "empty"],
)
def test_bad_qr_bodies_are_400(keyed: str, body: bytes, content_type: str) -> None:
    r = httpx.post(
        f"{keyed}{QR}",
        content=body,
        headers={"content-type": content_type, **_bearer(key("reader"))},
        timeout=10,
    )
    assert r.status_code == 400, r.text


def test_oversize_qr_input_is_refused_before_it_is_read(keyed: str) -> None:
    headers = _bearer(key("reader"))
    with httpx.Client(base_url=keyed, timeout=10) as client:
        # 2,049 bytes of text: more than the cap (in UTF-8 bytes, what a QR code holds).
        assert client.post(QR, json={"text": "a" * 2049}, headers=headers).status_code in (400, 413)
        assert client.post(QR, json={"text": "€" * 700}, headers=headers).status_code in (400, 413)
        big = b'{"text": "' + b"a" * 5_000_000 + b'"}'
        r = client.post(QR, content=big, headers={**headers, "content-type": "application/json"})
        assert r.status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while reading
            yield b'{"text": "'
            for _ in range(100):
                yield b"a" * 50_000
            yield b'"}'

        r = client.post(
            QR, content=chunks(), headers={**headers, "content-type": "application/json"}
        )
        assert r.status_code == 413


def test_qr_rendering_does_not_stall_healthz(dev: str) -> None:
    """Four clients drawing distinct (uncacheable) long links for ~3 s; /healthz stays fast."""
    stop = threading.Event()
    drawn = [0] * 4

    def draw(slot: int) -> None:
        with httpx.Client(base_url=dev, timeout=30) as client:
            while not stop.is_set():
                text = LINK + secrets.token_hex(4) + "a" * 1900
                if client.post(QR, json={"text": text}).status_code == 200:
                    drawn[slot] += 1

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)  # the drawing has started
        latencies = healthz_latencies(dev, 3, timeout_s=30)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    print(f"{summary(latencies)}; QR codes drawn={sum(drawn)}")
    assert sum(drawn) > 4  # the load really ran
    assert p95(latencies) < 0.2


async def test_one_drawing_at_a_time_a_busy_caller_gets_429_and_a_link_is_drawn_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, release = threading.Event(), threading.Event()
    drawn: list[str] = []

    def slow_draw(text: str) -> str:
        drawn.append(text)
        started.set()
        release.wait(10)
        return f"data:image/png;base64,{text}"

    monkeypatch.setattr(qr, "qr_png_data_url", slow_draw)
    renderer = qr.QrRenderer(max_renders=1, wait_s=0.05)
    first = asyncio.create_task(renderer.data_url("one"))
    assert await asyncio.to_thread(started.wait, 10)  # it holds the only turn
    with pytest.raises(HTTPException) as busy:
        await renderer.data_url("two")
    assert busy.value.status_code == 429
    release.set()
    assert await first == "data:image/png;base64,one"
    assert await renderer.data_url("one") == "data:image/png;base64,one"
    assert drawn == ["one"]
