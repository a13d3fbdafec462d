"""Settings and provider wiring: live credentials disable the sandbox; partial ones fail loud."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.base import Environment
from gateway.errors import ConfigError
from gateway.settings import load_settings
from gateway.web.app import create_gateway


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("KYCGW_") and key != "KYCGW_REQUIRE_SERVICES":
            monkeypatch.delenv(key)


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.database_url == "sqlite+aiosqlite:///.kycgw/gateway.db"
    assert s.public_url == "http://127.0.0.1:8000"
    assert s.enable_legacy_graphql_ws is False


def test_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYCGW_PORT", "9123")
    monkeypatch.setenv("KYCGW_DIDIT_WORKFLOW_ID", "wf-1")
    s = load_settings()
    assert s.port == 9123 and s.public_url == "http://127.0.0.1:9123"
    assert s.vendor_value("didit", "workflow_id") == "wf-1"


async def test_live_credentials_mean_no_sandbox(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KYCGW_DIDIT_API_KEY", "live-key")
    monkeypatch.setenv("KYCGW_DIDIT_WEBHOOK_SECRET", "live-secret")
    gateway = create_gateway(load_settings(data_dir=tmp_path), run_migrations=False)
    entry = gateway.providers.get("didit")
    assert entry is not None and entry.sandbox is None
    assert entry.environment is Environment.LIVE
    assert entry.adapter is not None
    assert entry.adapter.config.base_url == "https://verification.didit.me"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway.app), base_url="http://127.0.0.1"
    ) as client:
        response = await client.post("/sandbox/didit/v3/session/", json={})
    assert response.status_code == 404
    await gateway.providers.aclose()


def test_partial_credentials_fail_loudly_without_echoing_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYCGW_DIDIT_API_KEY", "sk-very-secret")
    with pytest.raises(ConfigError) as info:
        create_gateway(load_settings(data_dir=tmp_path), run_migrations=False)
    assert "KYCGW_DIDIT_WEBHOOK_SECRET" in str(info.value)
    assert "sk-very-secret" not in str(info.value)


def test_unknown_provider_in_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        create_gateway(load_settings(data_dir=tmp_path, providers=["nope"]), run_migrations=False)


def test_tests_cannot_reach_beyond_loopback() -> None:
    import socket

    with socket.socket() as sock, pytest.raises(OSError, match="loopback only"):
        sock.connect(("203.0.113.7", 443))


def test_dev_mode_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        create_gateway(load_settings(data_dir=tmp_path, host="0.0.0.0"), run_migrations=False)
    assert "KYCGW_API_KEYS" in str(info.value)


def test_with_api_keys_any_address_is_allowed(tmp_path: Path) -> None:
    from gateway.auth import ApiKeyConfig, hash_key

    keys = [ApiKeyConfig(name="b", sha256=hash_key("k" * 20), scopes=["sessions:read"])]
    gateway = create_gateway(
        load_settings(data_dir=tmp_path, host="0.0.0.0", api_keys=keys), run_migrations=False
    )
    assert gateway.app is not None


async def test_dev_mode_says_so_loudly_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = create_gateway(load_settings(data_dir=tmp_path))
    with caplog.at_level("WARNING"):
        async with gateway.app.router.lifespan_context(gateway.app):
            pass
    assert any("DEV MODE" in r.getMessage() for r in caplog.records)
