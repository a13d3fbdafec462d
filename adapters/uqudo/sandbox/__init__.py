"""A faithful local emulator of uqudo's QR-code onboarding (OAuth token, QR session, progress
websocket, Info API, signed `jwsResult` webhook), used when the gateway has no uqudo
credentials.

It is written from uqudo's public pages (docs/vendors/uqudo.md, Sources), not from the adapter, so
the adapter is tested against uqudo's contract rather than against itself:

- `api`: the token endpoint, JWKS, `POST /api/v1/session`, the `/ws/v1/session`
  websocket, the Info API, and the sandbox control endpoint (`/sessions/{id}/simulate`)
- `page`: the hosted page the QR session's dynamic link points at
- `engine`: the rules, and which milestone / result / webhook each step produces
- `payloads`: the documented bodies and the JWS claims per outcome
- `keys`: the RSA key pair (RS256 + JWKS `kid`); `webhooks`: `jwsResult`
- `store`: tenant (client id, key pair) and sessions, persisted atomically
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI

from adapters.base import SandboxConfig
from adapters.common.sandbox.control import SUBMIT_THEN_DECIDE, reason_menu
from adapters.common.sandbox.handle import EmulatorHandle
from adapters.uqudo.sandbox.api import install_api
from adapters.uqudo.sandbox.engine import UqudoEmulator
from adapters.uqudo.sandbox.model import (
    DECLINE_REASONS,
    JWKS_PATH,
    REVIEW_REASONS,
    SANDBOX_HOST,
    TOKEN_PATH,
    WEBHOOK_AUTH_HEADER,
    WEBHOOK_AUTH_SCHEME,
    WS_PATH,
)
from adapters.uqudo.sandbox.page import install_page

__all__ = ["UqudoSandbox"]


def websocket_base(url: str) -> str:
    """http://… → ws://…, https://… → wss://…"""
    if url.startswith("https://"):
        return "wss://" + url.removeprefix("https://")
    if url.startswith("http://"):
        return "ws://" + url.removeprefix("http://")
    return url


class UqudoSandbox(EmulatorHandle):
    """The handle the gateway mounts (at e.g. /sandbox/uqudo) and points the adapter at.

    The adapter reaches HTTP through `httpx.ASGITransport(app)` at `http://uqudo.sandbox` and
    the websocket over a real socket at `options["ws_url"]` (under the gateway's mount).
    `api_key` is the OAuth client secret (fresh on every start); the client id, the key pair
    and the sessions persist in `state_path`. `webhook_verifications=True` puts the fraud
    scores into the webhook's JWS too (observed uqudo leaves them to the Info API).
    """

    provider = "uqudo"
    simulation = replace(
        SUBMIT_THEN_DECIDE, reasons=reason_menu(decline=DECLINE_REASONS, review=REVIEW_REASONS)
    )
    _engine: UqudoEmulator

    def __init__(self, config: SandboxConfig, *, webhook_verifications: bool = False) -> None:
        self.config = config
        self.api_key: str = config.api_key or secrets.token_urlsafe(32)
        self.webhook_secret: str = secrets.token_urlsafe(32)
        webhook_auth_value = f"{WEBHOOK_AUTH_SCHEME} {self.webhook_secret}"
        self._engine = UqudoEmulator(
            config,
            client_secret=self.api_key,
            webhook_auth_value=webhook_auth_value,
            issuer=SANDBOX_HOST,
            webhook_verifications=webhook_verifications,
        )
        self.client_id: str = self._engine.client_id
        public = config.public_base_url.rstrip("/")
        self.options: Mapping[str, str] = MappingProxyType(
            {
                "client_id": self.client_id,
                "client_secret": self.api_key,
                "webhook_auth_header": WEBHOOK_AUTH_HEADER,
                "webhook_auth_value": webhook_auth_value,
                "api_base_url": SANDBOX_HOST,
                "qr_base_url": SANDBOX_HOST,
                "auth_url": SANDBOX_HOST + TOKEN_PATH,
                "jwks_url": SANDBOX_HOST + JWKS_PATH,
                "ws_url": websocket_base(public) + WS_PATH,
                "jws_issuer": SANDBOX_HOST,
                "jws_audience": self.client_id,
            }
        )
        self._app = self._build_app()

    def sign_result(self, claims: Mapping[str, Any]) -> str:
        """Any claims as an RS256 JWS under the sandbox's key and `kid` (for tests)."""
        return self._engine.sign(dict(claims))

    def _build_app(self) -> FastAPI:
        app = self._new_app("uqudo sandbox")
        install_api(app, self._engine)
        install_page(app, self._engine)
        return app
