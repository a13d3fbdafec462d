"""`createSession`: route, validate, claim the idempotency key, create at the first healthy
vendor (failing over on transient errors unless the caller named the vendor), persist."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import (
    JSON,
    Capability,
    CreateSessionRequest,
    ErrorCode,
    ProviderError,
    SessionSnapshot,
    SessionStatus,
)
from gateway import metrics
from gateway.bus.events import StatusChanged, StatusSource
from gateway.errors import FieldProblem, ServiceError
from gateway.sessions.applier import count_unknown, step_json
from gateway.sessions.core import SessionCore
from gateway.sessions.idempotency import IdempotencyClaims, request_hash
from gateway.sessions.results import apply_results, expected_person_json
from gateway.sessions.validation import validate_create
from gateway.store.models import SessionRow
from gateway.vendors.breakers import TRANSIENT, BreakerOpen
from gateway.vendors.routing import RoutePlan

log = logging.getLogger(__name__)


def new_session_id() -> str:
    return f"ses_{uuid.uuid4().hex}"


class SessionCreator:
    def __init__(self, core: SessionCore, claims: IdempotencyClaims) -> None:
        self._core = core
        self._claims = claims
        #: Called with each newly created session (e.g. to follow its vendor channel).
        self.created_hooks: list[Callable[[SessionRow], None]] = []

    async def create_session(
        self, provider: str | None, request: CreateSessionRequest
    ) -> SessionRow:
        if provider is not None:
            self._core.adapter_or_error(provider, field=("input", "provider"))
        plan = self._core.router.plan(request, provider)
        self._validate(request, plan)
        key = request.idempotency_key
        if key:
            replay = await self._claims.claim(key, request_hash(provider or "", request))
            if replay is not None:
                return replay
        try:
            name, snapshot, attempts = await self._create_at_vendor(plan, request)
            row, changes = await self._persist_created(name, snapshot, request, plan.rule, attempts)
        except BaseException:
            if key:
                await self._claims.release(key)
            raise
        await self._core.publish(changes)
        for hook in self.created_hooks:
            hook(row)
        return row

    def _validate(self, request: CreateSessionRequest, plan: RoutePlan) -> None:
        problems = validate_create(request, self._core.limits)
        providers = self._core.providers
        if request.steps and not any(
            Capability.STEPS in providers.capabilities(name) for name in plan.candidates
        ):
            problems.append(
                FieldProblem(
                    ErrorCode.BAD_USER_INPUT,
                    f"{plan.candidates[0] if plan.candidates else 'no provider'} does not take "
                    "steps; leave steps out or choose a provider that has the STEPS capability",
                    ("input", "steps"),
                )
            )
        if problems:
            raise ServiceError(*problems)

    async def _create_at_vendor(
        self, plan: RoutePlan, request: CreateSessionRequest
    ) -> tuple[str, SessionSnapshot, list[JSON]]:
        attempts: list[JSON] = []
        last: ProviderError | None = None
        for name in plan.candidates:
            adapter = self._core.adapter_or_error(name, field=("input", "provider"))
            try:
                snapshot = await self._core.breakers.call(
                    name, lambda a=adapter: a.create_session(request)
                )
                return name, snapshot, attempts
            except BreakerOpen as open_:
                attempts.append({"provider": name, "code": "CIRCUIT_OPEN", "message": str(open_)})
                last = ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, str(open_))
            except ProviderError as error:
                metrics.vendor_errors_total.labels(name, error.code.value).inc()
                attempts.append(
                    {"provider": name, "code": error.code.value, "message": error.message[:200]}
                )
                if error.code not in TRANSIENT or plan.explicit:
                    raise ServiceError.from_provider(error) from None
                last = error
            log.warning(
                "vendor failed on create; trying the next",
                extra={
                    "provider": name,
                    "code": attempts[-1]["code"],
                    "reason": attempts[-1]["message"],
                },
            )
        tried = ", ".join(a["provider"] for a in attempts) or "none"
        raise ServiceError(
            FieldProblem(
                ErrorCode.PROVIDER_UNAVAILABLE if last is None else last.code,
                f"no vendor could create the session (tried: {tried})",
                retry_after=last.retry_after if last else None,
            )
        )

    async def _persist_created(
        self,
        name: str,
        snapshot: SessionSnapshot,
        request: CreateSessionRequest,
        rule: str,
        attempts: list[JSON],
    ) -> tuple[SessionRow, list[StatusChanged]]:
        now = self._core.clock()
        applier = self._core.applier
        changes: list[StatusChanged] = []
        async with self._core.write() as db, db.begin():
            row = await find_by_vendor_id(db, name, snapshot.provider_session_id)
            if row is not None:
                # The vendor handed back an existing unfinished session (Didit does this for
                # the same vendor_data): keep one gateway session per vendor session.
                changes += (
                    await applier.apply(db, row, snapshot, StatusSource.API, None, now)
                ).changes
            else:
                row = new_row(name, snapshot, request, now)
                row.route_rule = rule
                row.route_attempts = attempts or None
                db.add(row)
                await db.flush()
                await apply_results(db, row, snapshot.results, now)
                created = await applier.record_change(
                    db, row, None, SessionStatus(row.status), snapshot, StatusSource.API, None, now
                )
                assert created is not None  # flushed at once: not deferred
                changes.append(created)
                applier.schedule_created(row, now)
                db.add(row)
            if request.idempotency_key:
                await self._claims.settle(db, request.idempotency_key, row.id)
        return row, changes


async def find_by_vendor_id(
    db: AsyncSession, provider: str, provider_session_id: str
) -> SessionRow | None:
    """The stored session for a vendor's session id, in the caller's transaction."""
    query = select(SessionRow).where(
        SessionRow.provider == provider,
        SessionRow.provider_session_id == provider_session_id,
    )
    return (await db.exec(query)).first()


def new_row(
    provider: str, snapshot: SessionSnapshot, request: CreateSessionRequest, now: datetime
) -> SessionRow:
    """A new session as its vendor first reported it, with what the caller asked for."""
    status = snapshot.status
    if status is None:
        count_unknown(provider, snapshot.provider_status)
        status = SessionStatus.CREATED
    return SessionRow(
        id=new_session_id(),
        provider=provider,
        provider_session_id=snapshot.provider_session_id,
        status=status.value,
        provider_status=snapshot.provider_status,
        environment=snapshot.environment.value,
        client_reference=snapshot.client_reference or request.client_reference,
        metadata_=snapshot.metadata if snapshot.metadata is not None else request.metadata,
        verification_url=snapshot.verification_url,
        qr_code=snapshot.qr_code,
        decision=snapshot.decision.to_json() if snapshot.decision else None,
        raw=snapshot.raw,
        workflow_id=request.workflow_id,
        language=request.language,
        return_url=request.return_url,
        created_at=now,
        updated_at=now,
        # Only the vendor's own expiry: one it never set is not ours to invent.
        expires_at=snapshot.expires_at,
        order_time=snapshot.occurred_at,
        last_sequence=0,
        steps=[step_json(step) for step in snapshot.steps] or None,
        current_step=snapshot.current_step,
        expected_person=expected_person_json(request),
    )
