"""`gateway/ops/importer.py` on SQLite and PostgreSQL, against the in-process Didit sandbox
holding sessions made straight at its API: an import cut off after its first page resumes
at the kept cursor and ends with every session once; a finished one run again adds none;
`--since` keeps to the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from adapters.didit.sandbox import SANDBOX_WORKFLOW_ID
from gateway.ops import importer
from gateway.ops.importer import HistoryImport
from gateway.store.models import ImportRunRow, SessionRow
from tests.conftest import Harness

SESSIONS = 7


async def _made_outside(harness: Harness, count: int) -> list[str]:
    entry = harness.gateway.providers.entries["didit"]
    assert entry.sandbox is not None and entry.sandbox_app is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=entry.sandbox_app), base_url="http://didit.sandbox"
    ) as client:
        made = []
        for i in range(count):
            r = await client.post(
                "/v3/session/",
                headers={"x-api-key": entry.sandbox.api_key},
                json={"workflow_id": SANDBOX_WORKFLOW_ID, "vendor_data": f"old-{i}"},
            )
            assert r.status_code == 201, r.text
            made.append(r.json()["session_id"])
    return made


async def _stored(harness: Harness) -> list[SessionRow]:
    async with harness.gateway.service.db_factory() as db:
        return list((await db.exec(select(SessionRow))).all())


async def test_an_interrupted_import_resumes_at_its_cursor_and_stores_each_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _made_outside(harness, SESSIONS)
    monkeypatch.setattr(importer, "PAGE_SIZE", 3)
    service = harness.gateway.service
    pages = 0
    real_save = HistoryImport._save

    async def crash_after_first_page(self: HistoryImport, *args: object, **kw: object) -> None:
        nonlocal pages
        await real_save(self, *args, **kw)  # type: ignore[arg-type]
        pages += 1
        if pages == 1:
            raise RuntimeError("the import process died here")

    monkeypatch.setattr(HistoryImport, "_save", crash_after_first_page)
    with pytest.raises(RuntimeError):
        await HistoryImport(service, "didit", None, None).run()
    assert len(await _stored(harness)) == 3
    async with service.db_factory() as db:
        (run,) = (await db.exec(select(ImportRunRow))).all()
    assert run.cursor == "3" and run.finished_at is None and run.imported == 3

    resumed = await HistoryImport(service, "didit", None, None).run()
    assert resumed.resumed and resumed.imported == SESSIONS
    rows = await _stored(harness)
    assert sorted(r.provider_session_id for r in rows) == sorted(made)
    assert {r.route_rule for r in rows} == {"imported"}

    again = await HistoryImport(service, "didit", None, None).run()
    assert not again.resumed and again.imported == 0 and again.known == SESSIONS


async def test_since_keeps_the_import_to_its_window(harness: Harness) -> None:
    await _made_outside(harness, 3)
    later = datetime.now(UTC) + timedelta(days=1)
    counts = await HistoryImport(harness.gateway.service, "didit", later, None).run()
    assert counts.imported == 0 and counts.outside_window == 3
    assert await _stored(harness) == []
