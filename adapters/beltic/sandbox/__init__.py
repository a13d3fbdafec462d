"""A faithful local emulator of Beltic's Identity API (sessions), used when the gateway has
no Beltic credentials.

It is written from Beltic's pages (docs/vendors/beltic.md, What the sandbox emulates), not
from the adapter, so the adapter is tested against Beltic's contract rather than against itself:

- `api`: `/v1/identity/...` accounts, sessions (create, get, list with cursor
  pagination, PATCH, approve / decline / expire / redact), documents and verifications
  (read-only), JSON:API both ways (`?include=account,documents,verifications` gives compound
  documents); and the control endpoint `POST /sessions/{id}/simulate`, which plays the part
  of the integrator's own document upload and Beltic's checks. There is no hosted page and no
  verification link: Beltic has none.
- `engine`: keys and scopes, status rules, the one path a status change takes
- `webhooks`: signed *document* webhooks (Beltic sends no session webhooks)
- `store`: everything, persisted atomically to `state_path`

Keys: `api_key` has every identity scope; `no_decide_api_key` has all but
`sessions:decide`; `readonly_api_key` can only read. All are Beltic staging keys
(`sk_staging_…`, the environment the key prefix selects).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from types import MappingProxyType

from fastapi import FastAPI

from adapters.base import SandboxConfig
from adapters.beltic.sandbox.api import install_api
from adapters.beltic.sandbox.engine import BelticEmulator
from adapters.beltic.sandbox.model import ALL_SCOPES, NO_DECIDE_SCOPES, READ_ONLY_SCOPES
from adapters.beltic.sandbox.outcomes import DECLINE_CAUSES, REVIEW_CAUSES
from adapters.common.sandbox.control import SimulateAction as A
from adapters.common.sandbox.control import SimulatedPath, SimulationScript, reason_menu
from adapters.common.sandbox.handle import EmulatorHandle

__all__ = ["BelticSandbox"]


class BelticSandbox(EmulatorHandle):
    """The handle the gateway mounts (at e.g. /sandbox/beltic) and points the adapter at."""

    provider = "beltic"
    #: Beltic leaves the decision to the integrator: its paths end in one.
    simulation = SimulationScript(
        (
            SimulatedPath(5, (A.OPEN, A.SUBMIT, A.APPROVE), "APPROVED", decision="APPROVE"),
            SimulatedPath(2, (A.OPEN, A.SUBMIT, A.DECLINE), "DECLINED", decision="DECLINE"),
            SimulatedPath(1, (A.OPEN, A.SUBMIT, A.REVIEW), "IN_REVIEW"),
            SimulatedPath(1, (A.OPEN,), "IN_PROGRESS"),
        ),
        reasons=reason_menu(decline=DECLINE_CAUSES, review=REVIEW_CAUSES),
    )
    _engine: BelticEmulator

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        #: HMAC key of the document webhooks' `X-Webhook-Signature`.
        self.webhook_secret: str = secrets.token_urlsafe(32)
        #: The static `X-Webhook-Token` the document webhooks carry.
        self.webhook_token: str = secrets.token_urlsafe(24)
        self._engine = BelticEmulator(config, self.webhook_secret, self.webhook_token)
        self.api_key: str = self._engine.add_key(ALL_SCOPES, config.api_key).secret
        self.no_decide_api_key: str = self._engine.add_key(NO_DECIDE_SCOPES).secret
        self.readonly_api_key: str = self._engine.add_key(READ_ONLY_SCOPES).secret
        #: The adapter checks `X-Webhook-Token` against this option when it is set.
        self.options: Mapping[str, str] = MappingProxyType({"webhook_token": self.webhook_token})
        self._app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = self._new_app("Beltic sandbox")
        install_api(app, self._engine)
        return app
