"""Acme adapter: declarations plus create, read and cancel over `VendorHttp`, and webhooks
signed with HMAC-SHA256 over the raw body."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import quote

import httpx

from adapters.base import (
    JSON,
    SESSION_BASICS,
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    ErrorCode,
    ProviderAdapter,
    ProviderError,
    SessionSnapshot,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
    ignored,
    input_fields,
    sent,
)
from adapters.common import errors as common
from adapters.common.http import VendorHttp
from adapters.common.scrub import Scrubber
from adapters.common.validation import bad_input
from tests.adapters.fake_vendor.statuses import (
    ACTIONS_BY_STATUS,
    ALWAYS_ALLOWED,
    POLLED,
    STATUS_TABLE,
)

SIGNATURE_HEADER = "x-acme-signature"


class AcmeAdapter(ProviderAdapter):
    name = "acme"
    default_base_url = "https://api.acme.invalid"
    capabilities: ClassVar[frozenset[Capability]] = SESSION_BASICS | frozenset(
        {
            Capability.CANCEL,
            Capability.WEBHOOKS,
            Capability.POLLING,
        }
    )
    input_support = {
        name: sent() if name in ("client_reference", "metadata") else ignored("not offered")
        for name in input_fields()
    }
    status_table = STATUS_TABLE
    always_allowed = ALWAYS_ALLOWED
    actions_by_status = ACTIONS_BY_STATUS
    polled_statuses = POLLED

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        self._scrub = Scrubber((*config.secrets_to_scrub, config.api_key, config.webhook_secret))
        self._http = VendorHttp(
            config,
            vendor="Acme",
            headers={"authorization": f"Bearer {config.api_key}"},
            error_mapper=self._error,
        )

    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot:
        body = {"reference": request.client_reference, "metadata": request.metadata}
        response = await self._http.request("POST", "/sessions", json=body, expected=(201,))
        return self._snapshot(self._http.json_of(response))

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        response = await self._http.request("GET", _path(provider_session_id))
        return self._snapshot(self._http.json_of(response))

    async def cancel_session(self, provider_session_id: str) -> SessionSnapshot | None:
        response = await self._http.request("POST", _path(provider_session_id, "cancel"))
        return self._snapshot(self._http.json_of(response))

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
        want = sign(body, self.config.webhook_secret)
        if not self.config.webhook_secret or not hmac.compare_digest(given, want):
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "bad signature")
        try:
            payload = json.loads(body)
            snapshot = self._snapshot(payload["session"])
        except (ValueError, KeyError, TypeError, ProviderError) as exc:
            raise WebhookRejected(WebhookRejectReason.MALFORMED, "not an Acme event") from exc
        return [
            WebhookEvent(
                dedupe_key=str(payload["id"]),
                event_type="session.updated",
                provider_session_id=snapshot.provider_session_id,
                snapshot=snapshot,
                received_payload=payload,
            )
        ]

    async def aclose(self) -> None:
        await self._http.aclose()

    def _snapshot(self, data: JSON) -> SessionSnapshot:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, "Acme answered no session")
        status = data.get("status")
        if not isinstance(status, str):
            raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, "Acme answered no status")
        return SessionSnapshot(
            provider_session_id=data["id"],
            provider_status=status,
            status=self.map_status(status),
            environment=self.environment,
            verification_url=data.get("url"),
            client_reference=data.get("reference"),
            raw=data,
        )

    def _error(self, response: httpx.Response) -> ProviderError:
        body = common.response_json(response)
        body = body if isinstance(body, dict) else {}
        status = response.status_code
        message = common.scrubbed_message(
            str(body.get("error") or f"Acme answered HTTP {status}"), self._scrub
        )
        code = common.error_code_for_status(status)
        wait = common.wait_seconds(response, self.config.clock()) if status == 429 else None
        return ProviderError(
            code,
            message,
            provider_code=common.scrubbed_code(body.get("code"), self._scrub),
            retry_after=wait,
            http_status=status,
        )


def _path(session_id: str, action: str | None = None) -> str:
    if not session_id:
        raise bad_input("a provider session id is required", "providerSessionId")
    path = f"/sessions/{quote(session_id, safe='')}"
    return f"{path}/{action}" if action else path


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
