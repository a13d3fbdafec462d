"""A faithful local emulator of Didit's v3 session API, used when the gateway has no Didit
credentials.

It is written from Didit's pages (docs/vendors/didit.md, What the sandbox emulates), not from
the adapter, so the adapter is tested against Didit's contract rather than against itself:

- `api`: `/v3` session endpoints, health check, control endpoint, DRF manners
- `page`: the hosted flow the session `url` points at
- `engine`: status rules and the one path a status change takes
- `webhooks`: signed, ordered, retried (and redelivered) `status.updated` deliveries
- `store`: sessions, persisted atomically to `state_path`
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from types import MappingProxyType

from fastapi import FastAPI

from adapters.base import SandboxConfig
from adapters.common.sandbox.control import SimulateAction as A
from adapters.common.sandbox.control import SimulatedPath, SimulationScript, reason_menu
from adapters.common.sandbox.handle import EmulatorHandle
from adapters.didit.sandbox.api import AppendSlash, install_api
from adapters.didit.sandbox.engine import DiditEmulator
from adapters.didit.sandbox.model import SANDBOX_WORKFLOW_ID
from adapters.didit.sandbox.page import install_page
from adapters.didit.sandbox.reasons import DECLINE_FINDINGS, REVIEW_FINDINGS

__all__ = ["SANDBOX_WORKFLOW_ID", "DiditSandbox"]


class DiditSandbox(EmulatorHandle):
    """The handle the gateway mounts (at e.g. /sandbox/didit) and points the adapter at."""

    provider = "didit"
    simulation = SimulationScript(
        (
            SimulatedPath(6, (A.OPEN, A.APPROVE), "APPROVED"),
            SimulatedPath(2, (A.OPEN, A.DECLINE), "DECLINED"),
            SimulatedPath(1, (A.OPEN, A.REVIEW), "IN_REVIEW"),
            SimulatedPath(1, (A.OPEN, A.ABANDON), "ABANDONED"),
            SimulatedPath(1, (A.OPEN,), "IN_PROGRESS"),
            SimulatedPath(1, (), "CREATED"),
        ),
        reasons=reason_menu(decline=DECLINE_FINDINGS, review=REVIEW_FINDINGS),
    )
    _engine: DiditEmulator

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.api_key: str = config.api_key or secrets.token_urlsafe(32)
        self.webhook_secret: str = secrets.token_urlsafe(32)
        self.options: Mapping[str, str] = MappingProxyType({"workflow_id": SANDBOX_WORKFLOW_ID})
        self._engine = DiditEmulator(config, self.webhook_secret)
        self._app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = self._new_app("Didit sandbox")
        install_api(app, self._engine, self.api_key)
        install_page(app, self._engine)
        # Didit answers 301 to a path without its trailing slash, not Starlette's 307.
        app.add_middleware(AppendSlash, router=app.router)
        return app
