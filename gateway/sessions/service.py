"""The normalized session service: every entry point (GraphQL, webhooks, the reconciler) goes
through here, so deduplication, persistence and publishing happen in one place. How a vendor
snapshot changes a stored session is `gateway/sessions/applier.py`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import bindparam, func, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import (
    JSON,
    Capability,
    Clock,
    CreateSessionRequest,
    Environment,
    ErrorCode,
    InputDeclaration,
    KnownSession,
    ProviderAdapter,
    ProviderError,
    SessionSnapshot,
    SessionStatus,
    WebhookEvent,
    utc_now,
)
from adapters.registry import adapter_class
from gateway import metrics
from gateway.bus.events import EventBus, StatusChanged
from gateway.errors import FieldProblem, ServiceError, UnknownSessionForEvent
from gateway.sessions.actions import ADAPTER_METHOD, REFUSED_WHEN_REDACTED, SessionAction
from gateway.sessions.applier import (
    REDACTED_PAYLOAD,
    PendingChange,
    SnapshotApplier,
    Source,
    attach,
    count_unknown,
    insert_pending,
    payload_to_store,
    step_json,
)
from gateway.sessions.ordering import Verdict
from gateway.sessions.polling import EffectivePolicy
from gateway.sessions.stats import GroupBy, StatsRow, provider_stats
from gateway.sessions.validation import Limits, validate_create, validate_metadata
from gateway.sessions.watch import WatchFilter, watch
from gateway.store.db import truncate_wal
from gateway.store.group_commit import GroupCommit
from gateway.store.models import IdempotencyKeyRow, SessionRow, StatusChangeRow, VendorEventRow
from gateway.vendors.breakers import TRANSIENT, BreakerOpen, Breakers, BreakerState
from gateway.vendors.input_support import IgnoredInput, ignored_inputs
from gateway.vendors.providers import ProviderRegistry
from gateway.vendors.reads import VendorReadCache
from gateway.vendors.routing import RoutePlan, Router, RoutingConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

#: A concurrent request with the same idempotency key waits this long, at most, for the first.
IDEMPOTENCY_WAIT_S = 0.05
IDEMPOTENCY_WAIT_STEPS = 600

__all__ = [
    "IngestResult",
    "Page",
    "Redaction",
    "SessionFilter",
    "SessionService",
    "Source",
    "WatchFilter",
]


@dataclass(frozen=True)
class SessionFilter:
    provider: str | None = None
    status: SessionStatus | None = None
    client_reference: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class Page:
    rows: list[SessionRow]
    has_next: bool
    total: int


@dataclass(frozen=True)
class Redaction:
    """A redacted session and what stays at its vendor, in the adapter's words (reported to
    the caller as `VENDOR_DATA_RETAINED`; empty when nothing documented stays)."""

    session: SessionRow
    vendor_retains: tuple[str, ...]


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # applied | stale | unchanged | unknown_status | ignored | duplicate
    session_id: str | None = None
    refetch: bool = False


# Built once: constructing a SQLAlchemy expression costs more than running it on SQLite, and
# a reused statement keeps its cache key. Both are on the webhook hot path.
_STORED_KEYS = select(VendorEventRow.dedupe_key).where(
    VendorEventRow.provider == bindparam("provider"),
    col(VendorEventRow.dedupe_key).in_(bindparam("keys", expanding=True)),
)
_SESSIONS_TO_UPDATE = (
    select(SessionRow)
    .where(
        SessionRow.provider == bindparam("provider"),
        col(SessionRow.provider_session_id).in_(bindparam("ids", expanding=True)),
    )
    .order_by(col(SessionRow.id))
    .with_for_update()
)


async def _events_seen(
    db: AsyncSession, items: Sequence[tuple[str, WebhookEvent]]
) -> set[tuple[str, str]]:
    """Which of these (vendor, dedupe key) pairs are already stored: one query per vendor."""
    keys_by_provider: dict[str, set[str]] = {}
    for provider, event in items:
        keys_by_provider.setdefault(provider, set()).add(event.dedupe_key)
    seen: set[tuple[str, str]] = set()
    for provider, keys in keys_by_provider.items():
        found = await db.exec(_STORED_KEYS, params={"provider": provider, "keys": list(keys)})
        seen.update((provider, key) for key in found.all())
    return seen


def restore(adapter: ProviderAdapter, row: SessionRow) -> None:
    """Hand the adapter what we stored, for adapters that keep per-session state."""
    adapter.restore(
        KnownSession(
            provider_session_id=row.provider_session_id,
            provider_status=row.provider_status,
            raw=row.raw,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )
    )


def vendor_retains(adapter: ProviderAdapter) -> tuple[str, ...]:
    """What stays at the vendor after a redaction, as the adapter declares it; a vendor
    without erasure that declares nothing still gets a generic word, never silence."""
    if adapter.redaction_leaves:
        return adapter.redaction_leaves
    if Capability.REDACT not in adapter.capabilities:
        return (f"{adapter.name} offers no erasure: its copy of the session stays there.",)
    return ()


def _refuse_if_redacted(row: SessionRow, what: str) -> None:
    if row.redacted_at is not None:
        raise ServiceError.single(
            ErrorCode.BAD_USER_INPUT, f"this session was redacted: {what}", ("id",)
        )


def new_session_id() -> str:
    return f"ses_{uuid.uuid4().hex}"


def _request_hash(provider: str, request: CreateSessionRequest) -> str:
    body = asdict(request)
    body.pop("idempotency_key", None)
    body["provider"] = provider
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=_hashable).encode()).hexdigest()


def _hashable(value: object) -> str:
    """Uploaded files (a SIGN step's document) count by their digest, not their bytes."""
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return str(value)


@dataclass(frozen=True)
class ProviderView:
    """What the API shows of one vendor (`providers`), without reaching into the registry."""

    name: str
    environment: Environment
    configured: bool
    capabilities: frozenset[Capability]
    breaker: BreakerState
    input_support: Mapping[str, InputDeclaration]
    person_flow: str | None


class SessionService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        registry: ProviderRegistry,
        bus: EventBus,
        *,
        default_provider: str,
        limits: Limits,
        policies: Mapping[str, EffectivePolicy],
        write_factory: async_sessionmaker[AsyncSession] | None = None,
        router: Router | None = None,
        breakers: Breakers | None = None,
        read_cache_ttl_s: float = 2.0,
        clock: Clock = utc_now,
    ) -> None:
        self._db = session_factory
        #: Write transactions; on SQLite a factory whose BEGIN takes the write lock at once.
        self._write = write_factory or session_factory
        self.registry = registry
        self.bus = bus
        self.default_provider = default_provider
        self.limits = limits
        self.policies = policies
        self.clock = clock
        self.router = router or Router(
            RoutingConfig(), default_provider, registry.names(), registry.capabilities
        )
        self.breakers = breakers or Breakers()
        self.applier = SnapshotApplier(registry, policies)
        self._reads = VendorReadCache(read_cache_ttl_s)
        self._event_writer: GroupCommit[tuple[str, WebhookEvent], IngestResult] = GroupCommit(
            self._ingest_batch, on_batch=metrics.event_batch_size.observe
        )
        #: Called with each newly created session (e.g. to follow its vendor channel).
        self.created_hooks: list[Callable[[SessionRow], None]] = []

    @property
    def db_factory(self) -> async_sessionmaker[AsyncSession]:
        return self._db

    # -- reads ------------------------------------------------------------------------------
    async def get(self, session_id: str) -> SessionRow | None:
        async with self._db() as db:
            return await db.get(SessionRow, session_id)

    async def history(self, session_id: str) -> list[StatusChangeRow]:
        async with self._db() as db:
            result = await db.exec(
                select(StatusChangeRow)
                .where(StatusChangeRow.session_id == session_id)
                .order_by(col(StatusChangeRow.sequence))
            )
            return list(result.all())

    async def list(
        self, where: SessionFilter, first: int, after: tuple[datetime, str] | None
    ) -> Page:
        conditions = []
        if where.provider:
            conditions.append(SessionRow.provider == where.provider)
        if where.status:
            conditions.append(SessionRow.status == where.status.value)
        if where.client_reference is not None:
            conditions.append(SessionRow.client_reference == where.client_reference)
        if where.created_after:
            conditions.append(col(SessionRow.created_at) >= where.created_after)
        if where.created_before:
            conditions.append(col(SessionRow.created_at) < where.created_before)
        async with self._db() as db:
            total = (
                await db.exec(select(func.count()).select_from(SessionRow).where(*conditions))
            ).one()
            query = select(SessionRow).where(*conditions)
            if after is not None:
                created, last_id = after
                query = query.where(
                    (col(SessionRow.created_at) < created)
                    | ((col(SessionRow.created_at) == created) & (col(SessionRow.id) < last_id))
                )
            query = query.order_by(
                col(SessionRow.created_at).desc(), col(SessionRow.id).desc()
            ).limit(first + 1)
            rows = list((await db.exec(query)).all())
        return Page(rows=rows[:first], has_next=len(rows) > first, total=int(total))

    async def histories(self, session_ids: Sequence[str]) -> list[list[StatusChangeRow]]:
        """Each session's history, in order, with one query for all of them."""
        async with self._db() as db:
            rows = await db.exec(
                select(StatusChangeRow)
                .where(col(StatusChangeRow.session_id).in_(set(session_ids)))
                .order_by(col(StatusChangeRow.session_id), col(StatusChangeRow.sequence))
            )
            by_session: defaultdict[str, list[StatusChangeRow]] = defaultdict(list)
            for row in rows.all():
                by_session[row.session_id].append(row)
        return [by_session.get(session_id, []) for session_id in session_ids]

    async def stats(
        self, start: datetime, end: datetime, group_by: list[GroupBy]
    ) -> list[StatsRow]:
        """`providerStats` figures for sessions created in `[start, end)`
        (gateway/sessions/stats.py)."""
        return await provider_stats(self._db, start, end, group_by)

    async def provider_views(self) -> list[ProviderView]:
        """Every enabled vendor as callers see it: mode, capabilities, breaker, inputs."""
        views = []
        for name in self.registry.names():
            entry = self.registry.entries[name]
            cls = adapter_class(name)
            views.append(
                ProviderView(
                    name=name,
                    environment=entry.environment,
                    configured=entry.configured,
                    capabilities=entry.capabilities,
                    breaker=await self.breakers.state(name),
                    input_support=cls.input_support,
                    person_flow=cls.person_flow_note,
                )
            )
        return views

    def routing_view(self) -> tuple[str, RoutingConfig]:
        """The default vendor and the routing rules `createSession` follows."""
        return self.router.default, self.router.config

    def ignored_inputs(self, provider: str, request: CreateSessionRequest) -> list[IgnoredInput]:
        """The fields of `request` that `provider` cannot honour (reported, never dropped
        silently): the same answer for a first create and its idempotent replay."""
        adapter = self.registry.adapter(provider)
        if adapter is None:
            return []
        return ignored_inputs(provider, adapter.input_support, request)

    def capabilities(self, row: SessionRow) -> frozenset[Capability]:
        adapter = self.registry.adapter(row.provider)
        return adapter.session_capabilities(row.provider_status) if adapter else frozenset()

    def watch(self, where: WatchFilter, after: int | None) -> AsyncIterator[StatusChanged]:
        return watch(self._db, self.bus, where, after)

    # -- create -----------------------------------------------------------------------------
    async def create_session(
        self, provider: str | None, request: CreateSessionRequest
    ) -> SessionRow:
        """Route, validate, claim the idempotency key, create at the first healthy vendor
        (failing over on transient errors unless the caller named the vendor), persist."""
        if provider is not None:
            self._adapter_or_error(provider, field=("input", "provider"))
        plan = self.router.plan(request, provider)
        problems = validate_create(request, self.limits)
        if request.steps and not any(
            Capability.STEPS in self.registry.capabilities(name) for name in plan.candidates
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
        request_hash = _request_hash(provider or "", request)
        if request.idempotency_key:
            replay = await self._claim_idempotency_key(request.idempotency_key, request_hash)
            if replay is not None:
                return replay
        try:
            name, snapshot, attempts = await self._create_at_vendor(plan, request)
            row, changes = await self._persist_created(name, snapshot, request, plan.rule, attempts)
        except BaseException:
            if request.idempotency_key:
                await self._release_idempotency_key(request.idempotency_key)
            raise
        await self._publish(changes)
        for hook in self.created_hooks:
            hook(row)
        return row

    async def _create_at_vendor(
        self, plan: RoutePlan, request: CreateSessionRequest
    ) -> tuple[str, SessionSnapshot, list[JSON]]:
        attempts: list[JSON] = []
        last: ProviderError | None = None
        for name in plan.candidates:
            adapter = self._adapter_or_error(name, field=("input", "provider"))
            try:
                snapshot = await self.breakers.call(
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
        now = self.clock()
        changes: list[StatusChanged] = []
        async with self._write() as db, db.begin():
            row = await self._find(db, name, snapshot.provider_session_id)
            if row is not None:
                # The vendor handed back an existing unfinished session (Didit does this for
                # the same vendor_data): keep one gateway session per vendor session.
                changes += (
                    await self.applier.apply(db, row, snapshot, Source.API, None, now)
                ).changes
            else:
                row = self._new_row(name, snapshot, request, now)
                row.route_rule = rule
                row.route_attempts = attempts or None
                db.add(row)
                await db.flush()
                created = await self.applier.record_change(
                    db, row, None, SessionStatus(row.status), snapshot, Source.API, None, now
                )
                assert created is not None  # flushed at once: not deferred
                changes.append(created)
                self.applier.schedule_created(row, now)
                db.add(row)
            if request.idempotency_key:
                claim = await db.get(IdempotencyKeyRow, request.idempotency_key)
                if claim is not None:
                    claim.session_id = row.id
                    db.add(claim)
        return row, changes

    async def _claim_idempotency_key(self, key: str, request_hash: str) -> SessionRow | None:
        """Insert the key first, so that concurrent requests with it cannot both create a
        vendor session: the loser waits for the winner's session (or is told it differs)."""
        for _ in range(IDEMPOTENCY_WAIT_STEPS):
            try:
                async with self._write() as db, db.begin():
                    db.add(
                        IdempotencyKeyRow(
                            key=key, request_hash=request_hash, created_at=self.clock()
                        )
                    )
                return None  # ours: go and create
            except IntegrityError:
                pass
            async with self._db() as db:
                existing = await db.get(IdempotencyKeyRow, key)
                if existing is None:
                    continue  # released by a failed first attempt: claim it again
                if existing.request_hash != request_hash:
                    raise ServiceError.single(
                        ErrorCode.BAD_USER_INPUT,
                        "idempotencyKey was already used with a different request",
                        ("input", "idempotencyKey"),
                    )
                if existing.session_id is not None:
                    session = await db.get(SessionRow, existing.session_id)
                    if session is not None:
                        return session
            await asyncio.sleep(IDEMPOTENCY_WAIT_S)
        raise ServiceError.single(
            ErrorCode.PROVIDER_UNAVAILABLE,
            "a request with this idempotencyKey is still in progress; retry shortly",
            ("input", "idempotencyKey"),
        )

    async def _release_idempotency_key(self, key: str) -> None:
        async with self._write() as db, db.begin():
            claim = await db.get(IdempotencyKeyRow, key)
            if claim is not None and claim.session_id is None:
                await db.delete(claim)

    def _new_row(
        self,
        provider: str,
        snapshot: SessionSnapshot,
        request: CreateSessionRequest,
        now: datetime,
    ) -> SessionRow:
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
        )

    # -- actions ----------------------------------------------------------------------------
    async def refresh(self, session_id: str, *, fresh: bool = False) -> SessionRow:
        """Read the vendor now (through the read cache: a burst costs one vendor call).
        `fresh`: the vendor just told us something changed, so a cached read is too old."""
        row, _ = await self.poll(session_id, fresh=fresh)
        return row

    async def poll(self, session_id: str, *, fresh: bool = False) -> tuple[SessionRow, bool]:
        """One vendor read applied with source POLL; returns whether the session progressed."""
        row, adapter = await self._load(session_id)
        if fresh:
            self._reads.invalidate((row.provider, row.provider_session_id))
        snapshot = await self._reads.get(
            (row.provider, row.provider_session_id),
            lambda: self._call(row.provider, adapter.fetch_session(row.provider_session_id)),
        )
        return await self._apply_snapshot(row.id, snapshot, Source.POLL)

    async def act(self, session_id: str, action: SessionAction, *args: object) -> SessionRow:
        """Perform `action` at the vendor (gateway/sessions/actions.py declares which adapter
        method), then apply the vendor's answer, or a fresh read when it gives none."""
        row, adapter = await self._load(session_id)
        refusal = REFUSED_WHEN_REDACTED.get(action)
        if refusal is not None:
            _refuse_if_redacted(row, refusal)
        perform = getattr(adapter, ADAPTER_METHOD[action])
        snapshot = await self._call(row.provider, perform(row.provider_session_id, *args))
        return await self._after_mutation(row, adapter, snapshot)

    async def update_metadata(self, session_id: str, metadata: JSON) -> SessionRow:
        problems = validate_metadata(metadata, self.limits, ("metadata",))
        if problems:
            raise ServiceError(*problems)
        row, adapter = await self._load(session_id)
        _refuse_if_redacted(row, "its metadata can no longer be set")
        if not adapter.metadata_at_vendor:
            return await self._merge_metadata(row.id, metadata)
        snapshot = await self._call(
            row.provider, adapter.update_metadata(row.provider_session_id, metadata)
        )
        return await self._after_mutation(row, adapter, snapshot)

    async def _merge_metadata(self, session_id: str, metadata: JSON) -> SessionRow:
        """The vendor keeps no metadata: merge into our copy, the same way a vendor would
        (a null value removes the key), and nothing else of the session changes."""
        async with self._write() as db, db.begin():
            fresh = await db.get(SessionRow, session_id, with_for_update=True)
            assert fresh is not None
            _refuse_if_redacted(fresh, "its metadata can no longer be set")
            merged = {**(fresh.metadata_ or {}), **metadata}
            merged = {key: value for key, value in merged.items() if value is not None}
            problems = validate_metadata(merged, self.limits, ("metadata",))
            if problems:
                raise ServiceError(*problems)
            fresh.metadata_ = merged or None
            fresh.updated_at = self.clock()
            db.add(fresh)
        return fresh

    async def redact(self, session_id: str) -> Redaction:
        """Erase the vendor's copy where the vendor can, then our own copies of personal
        data (raw payloads, link, metadata, stored events), and mark the session redacted:
        nothing personal is stored for it again (`scrub_for_redacted` in
        `gateway/sessions/applier.py`).
        Status history is kept. Again on a redacted session: the vendor erased its copy the
        first time (we mark it only after that), so only our erasure runs again."""
        row, adapter = await self._load(session_id)
        if Capability.REDACT not in adapter.capabilities:
            # The vendor offers no erasure: ours still happens, and the answer says so.
            log.info(
                "vendor has no redaction; local copies erased",
                extra={"provider": row.provider, "session_id": row.id},
            )
        elif row.redacted_at is None:
            await self._call(row.provider, adapter.redact_session(row.provider_session_id))
        async with self._write() as db, db.begin():
            fresh = await db.get(SessionRow, row.id, with_for_update=True)
            assert fresh is not None
            now = self.clock()
            fresh.redacted_at = fresh.redacted_at or now
            fresh.raw = None
            fresh.metadata_ = None
            fresh.verification_url = None
            fresh.qr_code = None
            fresh.updated_at = now
            events = await db.exec(
                select(VendorEventRow).where(VendorEventRow.session_id == row.id)
            )
            for event in events.all():
                event.payload = dict(REDACTED_PAYLOAD)
                db.add(event)
            db.add(fresh)
        self._reads.invalidate((row.provider, row.provider_session_id))
        await truncate_wal(self._write)
        return Redaction(fresh, vendor_retains(adapter))

    async def _after_mutation(
        self, row: SessionRow, adapter: ProviderAdapter, snapshot: SessionSnapshot | None
    ) -> SessionRow:
        self._reads.invalidate((row.provider, row.provider_session_id))
        if snapshot is None:
            snapshot = await self._call(
                row.provider, adapter.fetch_session(row.provider_session_id)
            )
        updated, _ = await self._apply_snapshot(row.id, snapshot, Source.API, authoritative=True)
        return updated

    async def _apply_snapshot(
        self,
        session_id: str,
        snapshot: SessionSnapshot,
        source: str,
        *,
        authoritative: bool = False,
    ) -> tuple[SessionRow, bool]:
        now = self.clock()
        async with self._write() as db, db.begin():
            row = await db.get(SessionRow, session_id, with_for_update=True)
            if row is None:
                raise ServiceError.single(ErrorCode.NOT_FOUND, "session not found", ("id",))
            applied = await self.applier.apply(
                db, row, snapshot, source, None, now, authoritative=authoritative
            )
        await self._publish(applied.changes)
        return row, applied.progressed

    # -- webhooks ---------------------------------------------------------------------------
    async def ingest_webhook(self, provider: str, event: WebhookEvent) -> IngestResult:
        """Dedupe, order and persist one verified vendor event, then publish. Events arriving
        together share one transaction (`gateway/store/group_commit.py`); the answer comes after
        the commit.

        Raises `UnknownSessionForEvent` (nothing stored) so the vendor retries: the session
        may still be committing on our side.
        """
        return await self._event_writer.submit((provider, event))

    async def _ingest_batch(
        self, items: Sequence[tuple[str, WebhookEvent]]
    ) -> list[IngestResult | BaseException]:
        """One transaction for the batch. Should it conflict, each event is retried alone, so
        one bad event cannot fail its neighbours; alone, a conflict on the dedupe key means a
        concurrent delivery of the same event won, and anything else is a conflict the vendor
        must retry (never acknowledge unstored)."""
        try:
            return await self._write_batch(items)
        except IntegrityError as conflict:
            if len(items) > 1:
                return [await self._ingest_alone(item) for item in items]
            async with self._db() as db:
                if await _events_seen(db, items):
                    return [IngestResult("duplicate")]
            return [conflict]

    async def _ingest_alone(self, item: tuple[str, WebhookEvent]) -> IngestResult | BaseException:
        return (await self._ingest_batch([item]))[0]

    async def _write_batch(
        self, items: Sequence[tuple[str, WebhookEvent]]
    ) -> list[IngestResult | BaseException]:
        """One dedupe lookup, one (locking) session lookup, then each event in arrival order;
        the status changes and the events themselves go in with one insert each."""
        now = self.clock()
        outcomes: list[IngestResult | BaseException] = []
        deferred: list[PendingChange] = []
        event_rows: list[dict[str, object]] = []
        async with self._write() as db, db.begin():
            seen = await _events_seen(db, items)
            rows = await self._find_many(db, items)
            for provider, event in items:
                key = (provider, event.dedupe_key)
                if key in seen:
                    outcomes.append(IngestResult("duplicate"))
                    continue
                row = rows.get((provider, event.provider_session_id or ""))
                if event.snapshot is not None and row is None:
                    outcomes.append(UnknownSessionForEvent(event.provider_session_id))
                    continue
                stored = await self._store_event(db, provider, event, row, now, deferred)
                event_rows.append(stored)
                seen.add(key)
                outcomes.append(
                    IngestResult(
                        str(stored["outcome"]),
                        row.id if row else None,
                        refetch=event.refetch and row is not None,
                    )
                )
            await db.flush()
            changes = await insert_pending(db, deferred)
            if event_rows:
                conn = await db.connection()
                await conn.execute(insert(VendorEventRow.__table__), event_rows)  # type: ignore[attr-defined]
        await self._publish(changes)
        return outcomes

    async def _store_event(
        self,
        db: AsyncSession,
        provider: str,
        event: WebhookEvent,
        row: SessionRow | None,
        now: datetime,
        defer: list[PendingChange],
    ) -> dict[str, object]:
        """Apply the event's snapshot to its session (if any), its status changes queued in
        `defer` (see `SnapshotApplier.apply`); returns the event's row for the caller's one
        multi-row insert."""
        outcome = "ignored"
        if event.snapshot is not None and row is not None:
            applied = await self.applier.apply(
                db, row, event.snapshot, Source.WEBHOOK, event.dedupe_key, now, defer=defer
            )
            outcome = applied.verdict.value
            if event.snapshot.status is None:
                outcome = "unknown_status"
            elif applied.verdict is Verdict.APPLY and not applied.deferred:
                outcome = Verdict.UNCHANGED.value
        if event.refetch and row is not None:
            # Also due for the reconciler now, in case the immediate read fails.
            row.next_poll_at = now
            attach(db, row)
        return {
            "provider": provider,
            "dedupe_key": event.dedupe_key,
            "event_type": event.event_type,
            "provider_session_id": event.provider_session_id,
            "session_id": row.id if row else None,
            "outcome": str(outcome),
            "payload": payload_to_store(row, event.received_payload),
            "received_at": now,
        }

    async def apply_pushed(self, session_id: str, snapshot: SessionSnapshot) -> SessionRow:
        """A snapshot the vendor pushed over a channel we follow (not HTTP): applied exactly
        like a webhook's."""
        row, _ = await self._apply_snapshot(session_id, snapshot, Source.WEBHOOK)
        return row

    async def open_sessions(self, providers: list[str]) -> list[SessionRow]:
        if not providers:
            return []
        finals = [s.value for s in SessionStatus if s.is_final]
        async with self._db() as db:
            rows = await db.exec(
                select(SessionRow).where(
                    col(SessionRow.provider).in_(providers),
                    col(SessionRow.status).not_in(finals),
                )
            )
            return list(rows.all())

    # -- reconciler support -----------------------------------------------------------------
    async def due_for_poll(self, provider: str, limit: int) -> list[str]:
        """Ids of non-final sessions of `provider` whose next poll time has come, oldest first."""
        finals = [s.value for s in SessionStatus if s.is_final]
        async with self._db() as db:
            rows = await db.exec(
                select(SessionRow.id)
                .where(
                    SessionRow.provider == provider,
                    col(SessionRow.next_poll_at).is_not(None),
                    col(SessionRow.next_poll_at) <= self.clock(),
                    col(SessionRow.status).not_in(finals),
                )
                .order_by(col(SessionRow.next_poll_at))
                .limit(limit)
            )
            return list(rows.all())

    async def postpone_poll(self, session_id: str, seconds: float) -> None:
        """After a failed read: try this session again later, not at every tick."""
        async with self._write() as db, db.begin():
            row = await db.get(SessionRow, session_id, with_for_update=True)
            if row is not None and row.next_poll_at is not None:
                row.next_poll_at = self.clock() + timedelta(seconds=seconds)
                db.add(row)

    # -- helpers ----------------------------------------------------------------------------
    def _adapter_or_error(self, name: str, field: tuple[str, ...]) -> ProviderAdapter:
        entry = self.registry.get(name)
        if entry is None:
            known = ", ".join(self.registry.names())
            raise ServiceError.single(
                ErrorCode.BAD_USER_INPUT, f"unknown provider '{name}' (known: {known})", field
            )
        if entry.adapter is None:
            raise ServiceError.single(
                ErrorCode.PROVIDER_UNAVAILABLE, entry.problem or f"{name} is not configured"
            )
        return entry.adapter

    async def _load(self, session_id: str) -> tuple[SessionRow, ProviderAdapter]:
        """The session and its adapter, which is handed what we stored first: a read or an
        action on a session this process did not create (a restart, another replica) needs
        the same per-session state (e.g. uqudo's QR code, to delete it)."""
        row = await self.get(session_id)
        if row is None:
            raise ServiceError.single(ErrorCode.NOT_FOUND, "session not found", ("id",))
        adapter = self._adapter_or_error(row.provider, field=("id",))
        restore(adapter, row)
        return row, adapter

    async def _find_many(
        self, db: AsyncSession, items: Sequence[tuple[str, WebhookEvent]]
    ) -> dict[tuple[str, str], SessionRow]:
        """The sessions these events are about, locked in id order (no deadlock between two
        replicas' batches) on databases with row locks."""
        wanted: dict[str, set[str]] = {}
        for provider, event in items:
            if event.provider_session_id:
                wanted.setdefault(provider, set()).add(event.provider_session_id)
        rows: dict[tuple[str, str], SessionRow] = {}
        for provider, ids in wanted.items():
            found = await db.exec(
                _SESSIONS_TO_UPDATE, params={"provider": provider, "ids": list(ids)}
            )
            for row in found.all():
                rows[(provider, row.provider_session_id)] = row
        return rows

    async def _find(
        self, db: AsyncSession, provider: str, provider_session_id: str
    ) -> SessionRow | None:
        query = select(SessionRow).where(
            SessionRow.provider == provider,
            SessionRow.provider_session_id == provider_session_id,
        )
        return (await db.exec(query)).first()

    async def _call(self, provider: str, call: Awaitable[T]) -> T:
        operation = getattr(call, "__qualname__", "call").rsplit(".", 1)[-1][:32]
        started = time.perf_counter()
        try:
            return await call
        except ProviderError as error:
            metrics.vendor_errors_total.labels(provider, error.code.value).inc()
            raise ServiceError.from_provider(error) from None
        finally:
            metrics.vendor_call_seconds.labels(provider, operation).observe(
                time.perf_counter() - started
            )

    async def _publish(self, changes: list[StatusChanged]) -> None:
        for change in changes:
            await self.bus.publish(change)
