"""Verifa's documented `session.*` webhook bodies that carry a result (the flat shape of
docs/vendors/verifa.md, Webhooks and signature; Results), and the wiring of the adapter to its
emulator for the results tests.

Sources: https://docs.withverifa.com/tutorials/handling-webhook-events (session.approved with
`result` {face_match_passed, age_check_passed, extracted_data}; session.declined "Included on
some paths: rejection_reason"; session.requires-review). Field values follow the pages'
examples; the person is the docs' fictitious Jane Doe.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.base import AdapterConfig, Environment, SandboxConfig
from adapters.verifa.adapter import VerifaAdapter
from adapters.verifa.sandbox import VerifaSandbox

#: session.approved, flat shape, as the tutorial shows it (its `result` object).
APPROVED_WEBHOOK: dict[str, Any] = {
    "event": "session.approved",
    "idempotency_key": "idk_a1b2c3d4e5f6...",
    "session_id": "session_abc123",
    "external_ref": "user_456",
    "status": "approved",
    "is_sandbox": False,
    "identity_id": "identity_def789",
    "result": {
        "face_match_passed": True,
        "age_check_passed": True,
        "extracted_data": {"first_name": "Jane", "last_name": "Doe"},
    },
}

#: session.declined, flat shape, with the optional `rejection_reason` and a `result`.
DECLINED_WEBHOOK: dict[str, Any] = {
    "event": "session.declined",
    "idempotency_key": "idk_b2c3d4e5f6a1...",
    "session_id": "session_abc123",
    "external_ref": "user_456",
    "status": "declined",
    "is_sandbox": False,
    "rejection_reason": "document_unreadable",
    "result": {
        "face_match_passed": True,
        "age_check_passed": True,
        "extracted_data": {"first_name": "Jane", "last_name": "Doe"},
    },
}

#: session.requires-review, flat shape, with a `result` whose face match failed.
REVIEW_WEBHOOK: dict[str, Any] = {
    "event": "session.requires-review",
    "idempotency_key": "idk_c3d4e5f6a1b2...",
    "session_id": "session_abc123",
    "external_ref": "user_456",
    "status": "under_review",
    "is_sandbox": False,
    "result": {"face_match_passed": False, "age_check_passed": True, "extracted_data": {}},
}


@dataclass
class Wired:
    """The adapter talking to its emulator in-process, as the gateway does in sandbox mode;
    `webhooks` holds what the emulator delivered."""

    adapter: VerifaAdapter
    sandbox: VerifaSandbox
    webhooks: list[httpx.Request] = field(default_factory=list)

    async def simulate(self, session_id: str, action: str, **extra: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.sandbox.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.post(
                f"/sessions/{session_id}/simulate", json={"action": action, **extra}
            )

    def last_webhook(self, event: str) -> httpx.Request:
        return next(r for r in reversed(self.webhooks) if event.encode() in r.content)


@asynccontextmanager
async def wired() -> AsyncIterator[Wired]:
    delivered: list[httpx.Request] = []

    def sink(request: httpx.Request) -> httpx.Response:
        delivered.append(request)
        return httpx.Response(200)

    sandbox = VerifaSandbox(
        SandboxConfig(
            public_base_url="http://gateway.test/sandbox/verifa",
            webhook_url="http://gateway.test/webhooks/verifa",
            webhook_transport=httpx.MockTransport(sink),
        )
    )
    adapter = VerifaAdapter(
        AdapterConfig(
            environment=Environment.SANDBOX,
            base_url="http://verifa.sandbox",
            api_key=sandbox.api_key,
            webhook_secret=sandbox.webhook_secret,
            options=dict(sandbox.options),
            transport=httpx.ASGITransport(app=sandbox.app),
            retry_wait_s=0,
        )
    )
    try:
        yield Wired(adapter, sandbox, delivered)
    finally:
        await adapter.aclose()
        await sandbox.aclose()
