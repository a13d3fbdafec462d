"""DNS rebinding (issue 14, item 7): a page on evil.example whose name is rebound to 127.0.0.1
reaches a dev-mode gateway with `Host: evil.example:<port>` and a same-origin `Origin`. Binding
to loopback does not stop it; only refusing foreign host names does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.e2e.server import GatewayProcess

CREATE = 'mutation { createSession(input: {clientReference: "rebound"}) { session { id } } }'
COUNT = "{ sessions(first: 1) { totalCount } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("rebinding")) as process:
        yield process


def _count(server: GatewayProcess) -> int:
    r = httpx.post(f"{server.base}/graphql", json={"query": COUNT}, timeout=10)
    return int(r.json()["data"]["sessions"]["totalCount"])


def test_a_rebound_host_name_cannot_create_a_session(server: GatewayProcess) -> None:
    before = _count(server)
    evil = f"evil.example:{server.port}"
    r = httpx.post(
        f"{server.base}/graphql",
        headers={"host": evil, "origin": f"http://{evil}"},
        json={"query": CREATE},
        timeout=10,
    )
    assert r.status_code == 400, r.text
    assert "session" not in r.text
    assert _count(server) == before


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_names_are_served(server: GatewayProcess, host: str) -> None:
    r = httpx.post(
        f"{server.base}/graphql",
        headers={"host": f"{host}:{server.port}"},
        json={"query": "{ __typename }"},
        timeout=5,
    )
    assert r.status_code == 200


def test_health_probes_answer_whatever_the_host(server: GatewayProcess) -> None:
    """A load balancer probes a replica by its address, which is no configured name."""
    for path in ("/healthz", "/readyz"):
        r = httpx.get(f"{server.base}{path}", headers={"host": "10.0.0.5:8000"}, timeout=5)
        assert r.status_code == 200, path


async def test_a_rebound_host_name_cannot_open_a_websocket(server: GatewayProcess) -> None:
    url = f"ws://evil.example:{server.port}/graphql"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            url,
            host="127.0.0.1",
            port=server.port,
            subprotocols=["graphql-transport-ws"],
            origin=f"http://evil.example:{server.port}",  # type: ignore[arg-type]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await asyncio.wait_for(ws.recv(), 5)
    assert refused.value.response.status_code == 400


def test_allowed_hosts_setting_admits_a_named_host(tmp_path: Path) -> None:
    with GatewayProcess(
        tmp_path, extra_env={"KYCGW_ALLOWED_HOSTS": '["gateway.internal"]'}
    ) as process:
        named = httpx.get(
            f"{process.base}/console", headers={"host": "gateway.internal"}, timeout=5
        )
        other = httpx.get(f"{process.base}/console", headers={"host": "evil.example"}, timeout=5)
    assert named.status_code == 200
    assert other.status_code == 400
