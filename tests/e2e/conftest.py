"""The gateway most end-to-end modules read: one `kyc-gateway serve` per module, sandboxes on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import running_gateway


@pytest.fixture(scope="module")
def base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Module-scoped so a module's tests share one server (start-up is the slow part); a module
    that needs another configuration defines its own `base`."""
    with running_gateway(tmp_path_factory.mktemp(request.module.__name__.rsplit(".")[-1])) as url:
        yield url
