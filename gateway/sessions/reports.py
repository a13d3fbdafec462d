"""A session's report as its vendor renders it (Capability.REPORT, e.g. a PDF): read on
request, never stored, never logged — it holds the person's data. The same local refusals as
an action (gateway/sessions/actions.py): not on a redacted session, not in a status the vendor
declares no report for."""

from __future__ import annotations

import logging

from adapters.base import SessionReport
from gateway.sessions.actions import REFUSED_WHEN_REDACTED, SessionAction
from gateway.sessions.core import SessionCore, refuse_if_redacted
from gateway.sessions.mutations import refuse_by_status

log = logging.getLogger(__name__)


class SessionReports:
    def __init__(self, core: SessionCore) -> None:
        self._core = core

    async def report(self, session_id: str) -> SessionReport:
        """The vendor's report, rendered now (UNSUPPORTED_BY_PROVIDER from the adapter's
        base class for a vendor without one)."""
        row, adapter = await self._core.load(session_id)
        refuse_if_redacted(row, REFUSED_WHEN_REDACTED[SessionAction.REPORT])
        refuse_by_status(row, adapter, SessionAction.REPORT)
        report = await self._core.call(
            row.provider, adapter.session_report(row.provider_session_id)
        )
        log.info(
            "session report read",
            extra={"provider": row.provider, "session_id": row.id, "bytes": len(report.content)},
        )
        return report
