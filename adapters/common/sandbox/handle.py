"""What every vendor emulator's `SandboxHandle` has in common: a FastAPI app with no routes
of its own, and an engine whose background work stops on `aclose()`.

Vendor-neutral: each sandbox's `sandbox.py` creates its credentials and its engine, and
installs that vendor's API and hosted page on `emulator_app(...)`.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import FastAPI

from adapters.base import SandboxHandle


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

    _app: FastAPI
    _engine: Engine

    @property
    def app(self) -> FastAPI:
        return self._app

    async def aclose(self) -> None:
        """Cancel the engine's background work: webhook deliveries queued or waiting to be
        retried (and whatever else the engine runs)."""
        await self._engine.aclose()
