"""A SessionService over a real SQLite file with scripted FakeVendors as its providers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from gateway.bus.events import InProcessBus
from gateway.routing_rules import RoutingConfig
from gateway.sessions.polling import effective_policy
from gateway.sessions.service import SessionService
from gateway.sessions.validation import Limits
from gateway.settings import load_settings
from gateway.store.db import make_engine, make_session_factory
from gateway.store.migrate import upgrade
from gateway.vendors.breakers import Breakers
from gateway.vendors.providers import ProviderEntry, Providers
from gateway.vendors.routing import Router
from tests.conftest import FakeClock
from tests.support.fake_vendor import FakeVendor


def named_vendor(name: str) -> FakeVendor:
    cls = type(f"Fake_{name}", (FakeVendor,), {"name": name})
    return cls()


@asynccontextmanager
async def fake_service(
    tmp_path: Path,
    clock: FakeClock,
    vendor: FakeVendor | None = None,
    *,
    others: tuple[FakeVendor, ...] = (),
    routing: RoutingConfig | None = None,
    breakers: Breakers | None = None,
) -> AsyncIterator[tuple[SessionService, FakeVendor]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fake.db'}"
    upgrade(url)
    vendor = vendor or FakeVendor()
    vendors = (vendor, *others)
    registry = Providers({v.name: ProviderEntry(v.name, v) for v in vendors})
    settings = load_settings(data_dir=tmp_path)
    engine = make_engine(url)
    write_engine = make_engine(url, immediate=True)
    service = SessionService(
        make_session_factory(engine),
        registry,
        InProcessBus(),
        default_provider=vendor.name,
        limits=Limits(max_metadata_bytes=16384, min_expires_in_s=60, max_expires_in_s=86400),
        policies={v.name: effective_policy(settings, v.name, v.poll_policy) for v in vendors},
        write_factory=make_session_factory(write_engine),
        router=Router(
            routing or RoutingConfig(),
            vendor.name,
            registry.names(),
            registry.capabilities,
        ),
        breakers=breakers,
        read_cache_ttl_s=0,
        clock=clock,
    )
    try:
        yield service, vendor
    finally:
        await engine.dispose()
        await write_engine.dispose()
