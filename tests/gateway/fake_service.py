"""A SessionService over a real SQLite file with the scripted FakeVendor as its only provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from gateway.events import InProcessBus
from gateway.polling import effective_policy
from gateway.providers import ProviderEntry, ProviderRegistry
from gateway.service import SessionService
from gateway.settings import load_settings
from gateway.store.db import make_engine, make_session_factory
from gateway.store.migrate import upgrade
from gateway.validation import Limits
from tests.conftest import FakeClock
from tests.support.fake_vendor import FakeVendor


@asynccontextmanager
async def fake_service(
    tmp_path: Path, clock: FakeClock, vendor: FakeVendor | None = None
) -> AsyncIterator[tuple[SessionService, FakeVendor]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fake.db'}"
    upgrade(url)
    vendor = vendor or FakeVendor()
    registry = ProviderRegistry({"fake": ProviderEntry("fake", vendor)})
    settings = load_settings(data_dir=tmp_path)
    engine = make_engine(url)
    service = SessionService(
        make_session_factory(engine),
        registry,
        InProcessBus(),
        default_provider="fake",
        limits=Limits(max_metadata_bytes=16384, min_expires_in_s=60, max_expires_in_s=86400),
        policies={"fake": effective_policy(settings, "fake", vendor.poll_policy)},
        read_cache_ttl_s=0,
        clock=clock,
    )
    try:
        yield service, vendor
    finally:
        await engine.dispose()
