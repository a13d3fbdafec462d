"""uqudo's documented result payloads for the results tests (not a test module).

The payloads are the `cassettes/uqudo/results_*.yaml` Info API answers (each cites the uqudo
pages it follows at its top; docs/vendors/uqudo.md, Results). The webhook carries the same JWS
in `{"jwsResult": …}` (https://docs.uqudo.com/docs/kyc/readme/customer-portal/webhook), signed
here with the TEST-ONLY key, with or without the verification object (as seen on a real
tenant, webhook results lack it). Also: an adapter wired to the uqudo sandbox, in-process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import vcr
import yaml

from adapters.base import AdapterConfig, Environment
from adapters.uqudo import inferred
from adapters.uqudo.adapter import UqudoAdapter
from adapters.uqudo.sandbox import UqudoSandbox
from tests.support.sandbox_harness import FakeClock, WebhookSink, emulator_config
from tests.support.signing.uqudo import (
    CASSETTES,
    CLIENT_ID,
    UQUDO_SERIALIZER,
    Clock,
    compact,
    sign,
    uqudo_body,
)

CLIENT_SECRET = "test-client-secret"
WEBHOOK_AUTH = "test-webhook-auth"
RESULT_CASSETTES = ("results_approved.yaml", "results_declined.yaml", "results_review.yaml")

recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    serializer="uqudo",
    match_on=("method", "uri", "uqudo_body"),
)
recorder.register_serializer("uqudo", UQUDO_SERIALIZER)
recorder.register_matcher("uqudo_body", uqudo_body)


def adapter_config(**overrides: Any) -> AdapterConfig:
    """A live-mode adapter configuration matching the cassettes' placeholders."""
    options = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "webhook_auth_value": WEBHOOK_AUTH,
        **overrides.pop("options", {}),
    }
    values: dict[str, Any] = {
        "environment": Environment.LIVE,
        "base_url": inferred.API_BASE_URL,
        "api_key": "",
        "webhook_secret": "",
        "options": options,
        "retry_wait_s": 0.0,
        "clock": Clock(),
    }
    values.update(overrides)
    return AdapterConfig(**values)


def cassette_claims(name: str) -> dict[str, Any]:
    """The JWS payload of a results cassette's Info API answer (a fresh copy)."""
    raw = yaml.safe_load((CASSETTES / name).read_text(encoding="utf-8"))
    template = json.loads(raw["interactions"][0]["response"]["body"]["string"])
    return json.loads(json.dumps(template["$jws"]["payload"]))


def webhook_body(claims: dict[str, Any], *, verifications: bool) -> tuple[bytes, dict[str, str]]:
    """The global webhook's `{"jwsResult"}` for `claims`, signed, with the caller header."""
    payload = json.loads(json.dumps(claims))
    if not verifications:
        payload["data"].pop("verifications", None)
    body = compact({"jwsResult": sign(payload)}).encode("utf-8")
    return body, {"x-api-key": WEBHOOK_AUTH}


# -- the adapter against its sandbox ------------------------------------------------------------
@dataclass
class SandboxRig:
    """The uqudo sandbox and an adapter talking to it in-process (as the gateway wires them)."""

    sandbox: UqudoSandbox
    adapter: UqudoAdapter
    sink: WebhookSink
    client: httpx.AsyncClient

    @classmethod
    def build(cls) -> SandboxRig:
        sink, clock = WebhookSink(), FakeClock(datetime.now(UTC).replace(microsecond=0))
        config = emulator_config(
            sink,
            clock,
            public_base_url="http://127.0.0.1:8000/sandbox/uqudo",
            webhook_url="http://gateway.test/webhooks/uqudo",
        )
        sandbox = UqudoSandbox(config)
        transport = httpx.ASGITransport(app=sandbox.app)
        adapter = UqudoAdapter(
            AdapterConfig(
                environment=Environment.SANDBOX,
                base_url=sandbox.options["api_base_url"],
                api_key=sandbox.api_key,
                webhook_secret=sandbox.webhook_secret,
                options=dict(sandbox.options),
                transport=transport,
                retry_wait_s=0.0,
                clock=clock,
            )
        )
        client = httpx.AsyncClient(transport=transport, base_url=sandbox.options["api_base_url"])
        return cls(sandbox, adapter, sink, client)

    async def simulate(self, session_id: str, action: str, **extra: Any) -> httpx.Response:
        return await self.client.post(
            f"/sessions/{session_id}/simulate", json={"action": action, **extra}
        )

    async def finish(self, session_id: str, action: str, **extra: Any) -> httpx.Response:
        """Open and submit (every enabled step), then `action`."""
        for step in ("open", "submit"):
            response = await self.simulate(session_id, step)
            assert response.status_code == 200, response.text
        return await self.simulate(session_id, action, **extra)

    async def aclose(self) -> None:
        await self.adapter.aclose()
        await self.sandbox.aclose()
        await self.client.aclose()
