"""A vendor's bad day: its sandbox answers 503, createSession fails over to the next vendor,
the breaker opens, and once the vendor recovers a half-open probe closes it again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from tests.e2e.server import GatewayProcess

CREATE = """
mutation { createSession(input: {clientReference: "outage"}) {
  session { id provider routing { rule attempts { provider code } } }
  userErrors { code message }
} }
"""
HEALTH = "{ providers { name health { breaker } } }"


async def gql(client: httpx.AsyncClient, query: str) -> dict:
    body = (await client.post("/graphql", json={"query": query})).json()
    assert "errors" not in body, body
    return body["data"]


async def breaker(client: httpx.AsyncClient, name: str) -> str:
    providers = (await gql(client, HEALTH))["providers"]
    return next(p["health"]["breaker"] for p in providers if p["name"] == name)


async def test_failover_breaker_open_and_half_open_recovery(tmp_path: Path) -> None:
    with GatewayProcess(
        tmp_path,
        extra_env={
            "KYCGW_ROUTING": json.dumps({"default": "didit", "failover": ["verifa"]}),
            "KYCGW_BREAKER_THRESHOLD": "2",
            "KYCGW_BREAKER_COOLDOWN_S": "1",
        },
    ) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            healthy = (await gql(client, CREATE))["createSession"]["session"]
            assert healthy["provider"] == "didit"
            assert healthy["routing"] == {"rule": "default", "attempts": []}

            r = await client.post("/sandbox/didit/_faults", json={"status": 503})
            assert r.status_code == 200
            landed = []
            for _ in range(3):
                payload = (await gql(client, CREATE))["createSession"]
                assert payload["userErrors"] == []
                landed.append(payload["session"])
            assert {s["provider"] for s in landed} == {"verifa"}
            assert landed[0]["routing"]["attempts"] == [
                {"provider": "didit", "code": "PROVIDER_UNAVAILABLE"}
            ]
            assert landed[-1]["routing"]["attempts"] == [
                {"provider": "didit", "code": "CIRCUIT_OPEN"}
            ]
            assert await breaker(client, "didit") == "OPEN"
            faults = (await client.get("/sandbox/didit/_faults")).json()
            assert faults["failed"] == 2  # the open breaker spared the sick vendor

            await client.delete("/sandbox/didit/_faults")
            await asyncio.sleep(1.1)
            assert await breaker(client, "didit") == "HALF_OPEN"
            probe = (await gql(client, CREATE))["createSession"]["session"]
            assert probe["provider"] == "didit"
            assert await breaker(client, "didit") == "CLOSED"
