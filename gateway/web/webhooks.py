"""`POST /webhooks/{provider}`: verify → dedupe → order → persist (one transaction) → 2xx → publish
(docs/model.md, Ordering). Answers: 2xx applied or duplicate, 400 malformed, 401 bad signature or
stale timestamp, 404 unknown provider or a session not known yet (vendors retry 404), 413 oversized,
503 transient failure (vendors retry 5xx)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from adapters.base import ErrorCode, WebhookRejected, WebhookRejectReason
from gateway import metrics
from gateway.errors import ServiceError, UnknownSessionForEvent
from gateway.logs import failure
from gateway.sessions.service import IngestOutcome, SessionService

log = logging.getLogger(__name__)

#: A vendor waits for our answer (Didit: 5 s); an immediate read must not make it time out.
REFETCH_TIMEOUT_S = 3.0

_STATUS_FOR_REJECT = {
    WebhookRejectReason.SIGNATURE: 401,
    WebhookRejectReason.TIMESTAMP: 401,
    WebhookRejectReason.MALFORMED: 400,
}


async def _refetch(service: SessionService, provider: str, session_id: str) -> None:
    """The event is stored; reading the vendor now is a bonus. If it fails, the session is
    already due for the reconciler, so the answer to the vendor stays 2xx."""
    try:
        await asyncio.wait_for(service.refresh(session_id, fresh=True), REFETCH_TIMEOUT_S)
    except (ServiceError, TimeoutError, SQLAlchemyError) as error:
        log.warning(
            "read after webhook hint failed; the reconciler will retry",
            extra={
                "provider": provider,
                "session_id": session_id,
                **failure(error),
                **({"timeout_s": REFETCH_TIMEOUT_S} if isinstance(error, TimeoutError) else {}),
            },
        )


def webhook_routes(service: SessionService, max_body_bytes: int) -> Mount:
    """A plain Starlette mount, not a FastAPI route: vendors post thousands of these, and
    FastAPI's per-route machinery (dependency solving, exit stacks) cost more than the
    signature check; nothing here needs it."""

    async def receive(request: Request) -> JSONResponse:
        provider = str(request.path_params["provider"])
        if not service.is_configured(provider):
            return JSONResponse({"error": "unknown provider"}, status_code=404)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body_bytes:
            metrics.webhooks_total.labels(provider, "too_large").inc()
            return JSONResponse({"error": "body too large"}, status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_body_bytes:
                metrics.webhooks_total.labels(provider, "too_large").inc()
                return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            events = service.parse_webhook(provider, bytes(body), request.headers) or []
        except (RecursionError, UnicodeDecodeError):
            metrics.webhooks_total.labels(provider, "rejected_malformed").inc()
            return JSONResponse({"error": WebhookRejectReason.MALFORMED.value}, status_code=400)
        except WebhookRejected as rejected:
            metrics.webhooks_total.labels(provider, f"rejected_{rejected.reason}").inc()
            log.warning(
                "webhook rejected",
                extra={
                    "provider": provider,
                    "reason": rejected.reason.value,
                    "detail": str(rejected)[:200],
                },
            )
            return JSONResponse(
                {"error": rejected.reason.value}, status_code=_STATUS_FOR_REJECT[rejected.reason]
            )
        outcomes: list[IngestOutcome] = []
        refetch: set[str] = set()
        try:
            for event in events:
                try:
                    result = await service.ingest_webhook(provider, event)
                except UnknownSessionForEvent as unknown:
                    if not service.adopts(provider):
                        raise
                    seen_at = event.snapshot.occurred_at if event.snapshot else None
                    await _adopt(service, provider, str(unknown), seen_at)
                    result = await service.ingest_webhook(provider, event)
                outcomes.append(result.outcome)
                if result.refetch and result.session_id:
                    refetch.add(result.session_id)
                metrics.webhooks_total.labels(provider, result.outcome).inc()
                # Each event is kept in vendor_events with its outcome, and counted: the
                # per-event line is for debugging, not a second audit trail at INFO.
                log.debug(
                    "webhook processed",
                    extra={
                        "provider": provider,
                        "event_type": event.event_type,
                        "outcome": result.outcome,
                        "session_id": result.session_id or "",
                    },
                )
        except UnknownSessionForEvent as unknown:
            metrics.webhooks_total.labels(provider, "unknown_session").inc()
            log.warning(
                "webhook for a session this gateway does not know (yet); the vendor retries",
                extra={"provider": provider, "provider_session_id": str(unknown)[:128]},
            )
            return JSONResponse({"error": "unknown session"}, status_code=404)
        except AdoptionUnavailable:
            metrics.webhooks_total.labels(provider, "transient_error").inc()
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        except (SQLAlchemyError, OSError) as error:
            metrics.webhooks_total.labels(provider, "transient_error").inc()
            log.exception(
                "webhook not stored; asking the vendor to retry (503)",
                extra={"provider": provider, **failure(error)},
            )
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        for session_id in sorted(refetch):
            await _refetch(service, provider, session_id)
        return JSONResponse({"received": True, "outcomes": outcomes}, status_code=200)

    return Mount("/webhooks", routes=[Route("/{provider}", receive, methods=["POST"])])


class AdoptionUnavailable(Exception):
    """The vendor could not be read to adopt a session: 503, so the vendor retries."""


async def _adopt(
    service: SessionService, provider: str, provider_session_id: str, seen_at: datetime | None
) -> None:
    """Adoption is on for this vendor: read and store the session it names. The vendor not
    knowing it either keeps the 404; a vendor that cannot be read now is a 503."""
    try:
        await service.adopt(provider, provider_session_id, seen_at)
    except ServiceError as error:
        codes = {problem.code for problem in error.problems}
        log.warning(
            "a session to adopt could not be read from the vendor",
            extra={"provider": provider, "codes": ",".join(sorted(codes))},
        )
        if ErrorCode.NOT_FOUND in codes:
            raise UnknownSessionForEvent(provider_session_id) from None
        raise AdoptionUnavailable from None
