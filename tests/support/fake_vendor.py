"""A scripted in-memory vendor for gateway tests that need exact control over what a vendor
says and counts of how often it was asked (the reconciler budget, read coalescing)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from adapters.base import (
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    Environment,
    PollPolicy,
    ProviderAdapter,
    SessionSnapshot,
    SessionStatus,
    WebhookEvent,
)

STATUSES = {
    "new": SessionStatus.CREATED,
    "busy": SessionStatus.IN_PROGRESS,
    "checking": SessionStatus.PROCESSING,
    "waiting": SessionStatus.AWAITING_DECISION,
    "ok": SessionStatus.APPROVED,
}


class FakeVendor(ProviderAdapter):
    name = "fake"
    capabilities = frozenset({Capability.CREATE, Capability.READ, Capability.POLLING})
    default_base_url = "https://fake.invalid"
    status_table = STATUSES
    poll_policy = PollPolicy(interval_s=10, max_interval_s=80, requests_per_minute=120)

    def __init__(self, config: AdapterConfig | None = None) -> None:
        super().__init__(
            config
            or AdapterConfig(
                environment=Environment.SANDBOX, base_url="", api_key="", webhook_secret=""
            )
        )
        self.states: dict[str, SessionSnapshot] = {}
        self.fetches: list[str] = []
        self.fetch_delay_s = 0.0
        self._next = 0

    def snapshot(self, psid: str, status: str, **kw: object) -> SessionSnapshot:
        return SessionSnapshot(
            provider_session_id=psid,
            provider_status=status,
            status=STATUSES.get(status),
            environment=Environment.SANDBOX,
            **kw,  # type: ignore[arg-type]
        )

    def set_state(self, psid: str, status: str, **kw: object) -> None:
        self.states[psid] = self.snapshot(psid, status, **kw)

    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot:
        self._next += 1
        psid = f"fake-{self._next}"
        self.set_state(psid, "new", client_reference=request.client_reference)
        return self.states[psid]

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        self.fetches.append(provider_session_id)
        if self.fetch_delay_s:
            await asyncio.sleep(self.fetch_delay_s)
        return replace(self.states[provider_session_id])

    def needs_polling(self, provider_status: str) -> bool:
        return True

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        raise NotImplementedError


def at(base: datetime, seconds: float) -> datetime:
    from datetime import timedelta

    return base + timedelta(seconds=seconds)
