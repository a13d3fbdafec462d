"""Vendor reads go through a TTL cache with coalescing: a burst costs one vendor request."""

from __future__ import annotations

import asyncio

from tests.conftest import Harness
from tests.gateway.queries import CREATE, REFRESH


async def test_50_concurrent_refreshes_cost_one_vendor_request(harness: Harness) -> None:
    s = (await harness.gql(CREATE, {"input": {"clientReference": "burst"}}))["createSession"][
        "session"
    ]
    adapter = harness.gateway.providers.adapter("didit")
    assert adapter is not None
    sent: list[str] = []
    transport = adapter.config.transport  # in sandbox mode: ASGI into the Didit emulator
    assert transport is not None
    vendor_app = transport.app  # type: ignore[attr-defined]

    async def counting_vendor(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            sent.append(scope["path"])
            await asyncio.sleep(0.3)  # a vendor that takes a moment to answer
        await vendor_app(scope, receive, send)

    transport.app = counting_vendor  # type: ignore[attr-defined]
    results = await asyncio.gather(*(harness.gql(REFRESH, {"id": s["id"]}) for _ in range(50)))
    assert all(r["refreshSession"]["userErrors"] == [] for r in results)
    assert all(r["refreshSession"]["session"]["status"] == "CREATED" for r in results)
    decision_reads = [p for p in sent if p.endswith("/decision/")]
    assert len(decision_reads) == 1, sent
