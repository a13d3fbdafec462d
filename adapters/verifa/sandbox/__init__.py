"""A faithful local emulator of Verifa's `/api/v1` session API, used when the gateway has no
Verifa credentials.

It is written from Verifa's pages (docs/vendors/verifa.md lists them), not from the adapter,
so the adapter is tested against Verifa's contract rather than against itself:

- `api`: `/api/v1` session and review-case endpoints, Verifa's headers and error
  bodies, the sandbox control endpoints (`/sessions/{id}/simulate`, `/sandbox-settings`)
- `page`: the hosted capture flow the `capture_url` points at
- `engine`: status rules and the one path a status change takes (which event fires
  when is tabled there)
- `webhooks`: signed (`t=,v1=` or legacy), ordered, retried `session.*` deliveries
- `payloads`: the documented bodies; `validation`: request checks
- `store`: sessions, idempotency keys and settings, persisted atomically
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from fastapi import FastAPI

from adapters.base import SandboxConfig
from adapters.common.sandbox.control import SUBMIT_THEN_DECIDE, reason_menu
from adapters.common.sandbox.handle import EmulatorHandle
from adapters.common.sandbox.http import one_of
from adapters.verifa.sandbox.api import RateLimit, install_api
from adapters.verifa.sandbox.engine import VerifaEmulator
from adapters.verifa.sandbox.model import SANDBOX_REVIEWER_ID
from adapters.verifa.sandbox.outcomes import DECLINE_CODES, REVIEW_SIGNALS
from adapters.verifa.sandbox.page import install_page
from adapters.verifa.sandbox.webhooks import PAYLOAD_SHAPES, SIGNATURE_FORMATS, WebhookSettings

__all__ = ["VerifaSandbox"]


class VerifaSandbox(EmulatorHandle):
    """The handle the gateway mounts (at e.g. /sandbox/verifa) and points the adapter at.

    `signature_format` ("v1" | "legacy") and `payload_shape` ("flat" | "nested") choose how
    webhooks are signed and shaped; left None, the persisted setting (default v1 + flat)
    stays. Both can also be changed at run time with `POST /sandbox-settings`.
    """

    provider = "verifa"
    simulation = replace(
        SUBMIT_THEN_DECIDE, reasons=reason_menu(decline=DECLINE_CODES, review=REVIEW_SIGNALS)
    )
    _engine: VerifaEmulator

    def __init__(
        self,
        config: SandboxConfig,
        *,
        signature_format: str | None = None,
        payload_shape: str | None = None,
    ) -> None:
        if signature_format is not None:
            one_of("signature_format", signature_format, SIGNATURE_FORMATS)
        if payload_shape is not None:
            one_of("payload_shape", payload_shape, PAYLOAD_SHAPES)
        self.config = config
        self.api_key: str = config.api_key or "vk_sandbox_" + secrets.token_urlsafe(32)
        self.webhook_secret: str = "whsec_" + secrets.token_urlsafe(32)
        #: Create falls back to the org default workflow; review-case decisions are made as
        #: the sandbox org's reviewer (the adapter's `reviewer_id` option).
        self.options: Mapping[str, str] = MappingProxyType({"reviewer_id": SANDBOX_REVIEWER_ID})
        settings = WebhookSettings()
        self._engine = VerifaEmulator(config, self.webhook_secret, settings)
        if signature_format is not None:
            settings.signature_format = signature_format
        if payload_shape is not None:
            settings.payload_shape = payload_shape
        self._app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = self._new_app("Verifa sandbox")
        install_api(app, self._engine, self.api_key)
        install_page(app, self._engine)
        app.add_middleware(RateLimit, engine=self._engine)
        return app
