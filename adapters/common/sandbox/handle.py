"""What every vendor emulator's `SandboxHandle` has in common: a FastAPI app with no routes
of its own but the simulation script, and an engine whose background work stops on
`aclose()`.

Vendor-neutral: each sandbox's `__init__.py` creates its credentials and its engine,
declares its `simulation` script, and installs that vendor's API and hosted page on
`self._new_app(...)`.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from fastapi import FastAPI

from adapters.base import SandboxHandle
from adapters.common.sandbox.control import DEFAULT_SCRIPT, SimulationScript, install_script
from adapters.common.sandbox.http import answer_sandbox_errors


class Engine(Protocol):
    async def aclose(self) -> None: ...


def emulator_app(title: str) -> FastAPI:
    """An app that answers only what the emulator installs: no docs or OpenAPI routes, and
    no slash redirects (a path is answered, or refused, the way its vendor does)."""
    return FastAPI(
        title=title,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )


class EmulatorHandle(SandboxHandle):
    """A `SandboxHandle` over `_app`, built by the subclass, and its `_engine`."""

    #: The paths `kyc-gateway simulate` drives this emulator's sessions along.
    simulation: ClassVar[SimulationScript] = DEFAULT_SCRIPT
    _app: FastAPI
    _engine: Engine

    @property
    def app(self) -> FastAPI:
        return self._app

    def _new_app(self, title: str) -> FastAPI:
        """The emulator's app, serving its simulation script at `GET /simulate` and
        answering a `SandboxError` with its body."""
        app = emulator_app(title)
        answer_sandbox_errors(app)
        install_script(app, self.simulation)
        return app

    async def idle(self) -> None:
        """Until background work (webhook deliveries, retries included) is done; for tests."""
        idle = getattr(self._engine, "idle", None)
        if idle is not None:
            await idle()

    async def aclose(self) -> None:
        """Cancel the engine's background work: webhook deliveries queued or waiting to be
        retried (and whatever else the engine runs)."""
        await self._engine.aclose()
