"""`kyc-gateway import --provider P [--since] [--until]`: the sessions a vendor already has
(an earlier integration's, its SDK's), pulled through its list endpoint so the comparison
covers them from day one (docs/model.md, Adoption and import).

- **Idempotent**: a session the store has (by vendor id) is skipped; a second run adds none.
- **Resumable**: after each page the vendor's cursor is kept in `import_runs`; an import cut
  off resumes at that page (a finished one starts again from the first, adding only new
  sessions).
- **Within the vendor's budget**: every vendor call (a page, a session read) waits its turn
  under the vendor's request rate (`KYCGW_<VENDOR>_POLL_REQUESTS_PER_MINUTE`, else the
  adapter's).
- Each new session is read from the vendor and stored as an adopted one is
  (`gateway/sessions/adopt.py`): rule `imported`, its vendor times, source POLL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiolimiter import AsyncLimiter
from sqlmodel import select

from adapters.base import ErrorCode, SessionSnapshot
from gateway.errors import ServiceError
from gateway.sessions.adopt import IMPORTED_RULE
from gateway.sessions.service import SessionService
from gateway.store.models import ImportRunRow, SessionRow

log = logging.getLogger(__name__)

PAGE_SIZE = 100


@dataclass
class ImportCounts:
    listed: int = 0
    imported: int = 0
    known: int = 0
    outside_window: int = 0
    resumed: bool = False


def run_key(provider: str, since: datetime | None, until: datetime | None) -> str:
    return "|".join(
        (provider, since.isoformat() if since else "", until.isoformat() if until else "")
    )


def in_window(session: SessionSnapshot, since: datetime | None, until: datetime | None) -> bool:
    """A row without a creation time is taken: the window cannot place it."""
    created = session.created_at
    if created is None:
        return True
    return (since is None or created >= since) and (until is None or created < until)


class HistoryImport:
    def __init__(
        self,
        service: SessionService,
        provider: str,
        since: datetime | None,
        until: datetime | None,
        *,
        on_progress: Callable[[ImportCounts], None] = lambda counts: None,
    ) -> None:
        self.service = service
        self.provider = provider
        self.since = since
        self.until = until
        self.on_progress = on_progress
        self.key = run_key(provider, since, until)
        policy = service.policies.get(provider)
        rate = policy.requests_per_minute if policy else 60.0
        self.limiter = AsyncLimiter(max(rate, 1.0), 60)

    async def run(self) -> ImportCounts:
        core = self.service.core
        adapter = core.adapter_or_error(self.provider, ("provider",))
        counts = ImportCounts()
        cursor = await self._start(counts)
        while True:
            async with self.limiter:
                page = await core.call(
                    self.provider, adapter.list_page(cursor, page_size=PAGE_SIZE)
                )
            counts.listed += len(page.sessions)
            wanted = [s for s in page.sessions if in_window(s, self.since, self.until)]
            counts.outside_window += len(page.sessions) - len(wanted)
            known = await self._known([s.provider_session_id for s in wanted])
            for session in wanted:
                if session.provider_session_id in known:
                    counts.known += 1
                    continue
                async with self.limiter:
                    _, stored = await self.service.adoption.store_from_vendor(
                        self.provider,
                        session.provider_session_id,
                        rule=IMPORTED_RULE,
                        seen_at=session.created_at,
                    )
                counts.imported += stored
                counts.known += not stored
                self.on_progress(counts)
            cursor = page.next_cursor
            await self._save(
                cursor, counts, finished=cursor is None or self._past_since(page.sessions)
            )
            self.on_progress(counts)
            if cursor is None or self._past_since(page.sessions):
                return counts

    def _past_since(self, sessions: tuple[SessionSnapshot, ...]) -> bool:
        """Lists are newest first: a page wholly older than `since` ends the walk."""
        if self.since is None or not sessions:
            return False
        times = [s.created_at for s in sessions]
        return all(t is not None and t < self.since for t in times)

    async def _known(self, provider_session_ids: list[str]) -> set[str]:
        if not provider_session_ids:
            return set()
        async with self.service.core.db() as db:
            query = select(SessionRow.provider_session_id).where(
                SessionRow.provider == self.provider,
                SessionRow.provider_session_id.in_(provider_session_ids),  # type: ignore[attr-defined]
            )
            return set((await db.exec(query)).all())

    async def _start(self, counts: ImportCounts) -> str | None:
        """The cursor to start at: an unfinished run's, else the first page."""
        now = self.service.clock()
        async with self.service.core.write() as db, db.begin():
            run = await db.get(ImportRunRow, self.key)
            if run is not None and run.finished_at is None:
                counts.resumed = True
                counts.listed, counts.imported = run.listed, run.imported
                return run.cursor
            if run is None:
                run = ImportRunRow(
                    key=self.key, provider=self.provider, started_at=now, updated_at=now
                )
            run.cursor, run.listed, run.imported = None, 0, 0
            run.started_at, run.updated_at, run.finished_at = now, now, None
            db.add(run)
        return None

    async def _save(self, cursor: str | None, counts: ImportCounts, *, finished: bool) -> None:
        now = self.service.clock()
        async with self.service.core.write() as db, db.begin():
            run = await db.get(ImportRunRow, self.key)
            if run is None:  # removed meanwhile: nothing to resume from
                return
            run.cursor = cursor
            run.listed, run.imported = counts.listed, counts.imported
            run.updated_at = now
            run.finished_at = now if finished else None
            db.add(run)


def unsupported(error: ServiceError) -> bool:
    return any(p.code is ErrorCode.UNSUPPORTED_BY_PROVIDER for p in error.problems)
