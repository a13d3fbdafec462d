"""The same store on a real PostgreSQL, chosen by URL alone: migrations, create, webhook
ordering and dedupe, and the sessions connection behave as on SQLite."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from gateway.settings import load_settings
from gateway.store.migrate import upgrade
from gateway.web.app import create_gateway
from tests.gateway.queries import CREATE, GET
from tests.support.services import fresh_postgres_database
from tests.support.signing.didit import didit_body, signed_request


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("KYCGW_") and key not in ("KYCGW_REQUIRE_SERVICES",):
            monkeypatch.delenv(key)


async def test_postgres_by_url_alone(tmp_path: Path) -> None:
    async with fresh_postgres_database() as url:
        upgrade(url)
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
            )
        await engine.dispose()
        assert diff == []

        settings = load_settings(
            data_dir=tmp_path, database_url=url, public_url="http://gateway.test"
        )
        gateway = create_gateway(settings, run_migrations=False)
        async with (
            gateway.app.router.lifespan_context(gateway.app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway.app), base_url="http://gateway.test"
            ) as client,
        ):

            async def gql(query: str, variables: dict) -> dict:
                body = (
                    await client.post("/graphql", json={"query": query, "variables": variables})
                ).json()
                assert "errors" not in body, body
                return body["data"]

            created = (await gql(CREATE, {"input": {"clientReference": "pg-1"}}))["createSession"]
            assert created["userErrors"] == []
            s = created["session"]
            adapter = gateway.providers.adapter("didit")
            assert adapter is not None
            secret = adapter.config.webhook_secret
            now = int(time.time())
            psid = s["providerSessionId"]
            newer = signed_request(didit_body(psid, "Approved", now, event_id="e1"), secret, now)
            older = signed_request(didit_body(psid, "In Progress", now - 3), secret, now - 3)
            for raw, headers in (newer, newer, older):
                response = await client.post("/webhooks/didit", content=raw, headers=headers)
                assert response.status_code == 200
            got = (await gql(GET, {"id": s["id"]}))["session"]
            assert got["status"] == "APPROVED"
            assert [h["status"] for h in got["history"]] == ["CREATED", "APPROVED"]
            assert got["createdAt"].endswith("+00:00")
