"""A faithful local emulator of UIP's v2 session API, used when the gateway has no UIP
credentials.

It is written from the vendor docs (docs/vendors/uip.md, What the sandbox emulates), not from
the adapter, so the adapter is tested against UIP's contract rather than against itself:

- `api`: `/v1/sessions` (create with steps, gates and `Idempotency-Key`; GET in both
  published shapes; continue / stop at a gate), `/v1/audits/{id}`, UIP's Bearer auth and
  `{error, code}` errors; and the sandbox control endpoints (`/sessions/{id}/simulate`,
  `/sandbox-settings`)
- `page`: the hosted page at the session's `url`, with first-open binding
- `engine`: status rules, lazy expiry and the one path a change takes (which event
  fires when is tabled there)
- `webhooks`: `X-UIP-*` signed, ordered, retried deliveries
- `payloads`: the documented bodies and the fake wallet's step results;
  `validation`: create checks; `store`: state, persisted atomically
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
from adapters.common.sandbox.http import one_of
from adapters.uip.sandbox.api import install_api
from adapters.uip.sandbox.engine import UipEmulator
from adapters.uip.sandbox.model import DECLINE_REASONS, GET_SHAPES, STEP_WINDOW_S
from adapters.uip.sandbox.page import install_page
from adapters.uip.sandbox.store import SandboxSettings

__all__ = ["UipSandbox"]


class UipSandbox(EmulatorHandle):
    """The handle the gateway mounts (at e.g. /sandbox/uip) and points the adapter at.

    `get_shape` ("a" | "b") chooses which published version of GET /v1/sessions/{id} is
    served; left None, the persisted setting (default "a") stays. It, the gate error status
    and an exhausted balance can also be changed at run time with `POST /sandbox-settings`.
    `step_window_s` is the per-step window (undocumented length; None switches it off).
    """

    provider = "uip"
    #: A UIP session is built of steps: the simplest has one, identifying the person, and
    #: verifying it completes the session.
    simulation = SimulationScript(
        (
            SimulatedPath(6, (A.OPEN, A.SUBMIT), "APPROVED"),
            SimulatedPath(1, (A.OPEN,), "IN_PROGRESS"),
            SimulatedPath(1, (), "CREATED"),
        ),
        create=MappingProxyType({"steps": ({"type": "IDENTIFY"},)}),
        reasons=reason_menu(decline=DECLINE_REASONS),
    )
    _engine: UipEmulator

    def __init__(
        self,
        config: SandboxConfig,
        *,
        get_shape: str | None = None,
        step_window_s: float | None = STEP_WINDOW_S,
    ) -> None:
        if get_shape is not None:
            one_of("get_shape", get_shape, GET_SHAPES)
        self.config = config
        # No test-key prefix is documented (api-reference/introduction); live keys look like
        # `uip_live_…`.
        self.api_key: str = config.api_key or "uip_sandbox_" + secrets.token_urlsafe(32)
        self.webhook_secret: str = "uip_whsec_" + secrets.token_urlsafe(32)
        #: UIP needs nothing beyond the key (the webhook URL lives in the dashboard).
        self.options: Mapping[str, str] = MappingProxyType({})
        self._engine = UipEmulator(
            config, self.webhook_secret, SandboxSettings(), step_window_s=step_window_s
        )
        if get_shape is not None:
            self._engine.settings.get_shape = get_shape
        self._app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = self._new_app("UIP sandbox")
        install_api(app, self._engine, self.api_key)
        install_page(app, self._engine)
        return app
