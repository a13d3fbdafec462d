"""The integrator's endpoints: created, changed, deleted and re-keyed through GraphQL
(`webhooks:manage`), or fixed in `KYCGW_WEBHOOK_ENDPOINTS` (static: changed there only).
A URL is checked against the target policy before it is saved; the secret is shown once."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import Clock, ErrorCode
from gateway.errors import ConfigError, FieldProblem, ServiceError
from gateway.logs import SCRUBBER
from gateway.outbound import tables
from gateway.outbound.signing import new_secret
from gateway.outbound.targets import TargetPolicy, TargetRefused
from gateway.store.models import WebhookEndpointRow
from gateway.webhook_config import EVENT_TYPES, StaticWebhookEndpoint, events_problem

MAX_DESCRIPTION = 512
STATIC_PREFIX = "ep_static_"


@dataclass(frozen=True)
class EndpointChange:
    """What `update` may change; None = leave as it is."""

    url: str | None = None
    events: Sequence[str] | None = None
    providers: Sequence[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def _problem(message: str, *field: str) -> ServiceError:
    return ServiceError(FieldProblem(ErrorCode.BAD_USER_INPUT, message, ("input", *field)))


class WebhookEndpoints:
    def __init__(
        self,
        read: async_sessionmaker[AsyncSession],
        write: async_sessionmaker[AsyncSession],
        policy: TargetPolicy,
        providers: Sequence[str],
        *,
        secret_grace_s: float,
        clock: Clock,
    ) -> None:
        self._read = read
        self._write = write
        self.policy = policy
        self.providers = tuple(providers)
        self.secret_grace = timedelta(seconds=secret_grace_s)
        self.clock = clock

    async def list(self) -> list[WebhookEndpointRow]:
        async with self._read() as db:
            query = select(WebhookEndpointRow).order_by(WebhookEndpointRow.created_at)  # type: ignore[arg-type]
            return list((await db.exec(query)).all())

    async def get(self, endpoint_id: str) -> WebhookEndpointRow | None:
        async with self._read() as db:
            return await db.get(WebhookEndpointRow, endpoint_id)

    async def create(
        self, url: str, events: Sequence[str] | None, providers: Sequence[str], description: str
    ) -> tuple[WebhookEndpointRow, str]:
        """The new endpoint and its secret (the only time it is shown)."""
        await self._check_url(url)
        now = self.clock()
        secret = new_secret()
        row = WebhookEndpointRow(
            id="ep_" + secrets.token_hex(10),
            url=url,
            description=self._description(description),
            event_types=self._events(events),
            providers=self._providers(providers),
            secret=secret,
            created_at=now,
            updated_at=now,
        )
        async with self._write() as db, db.begin():
            db.add(row)
        SCRUBBER.secrets.add(secret)
        return row, secret

    async def update(self, endpoint_id: str, change: EndpointChange) -> WebhookEndpointRow:
        if change.url is not None:
            await self._check_url(change.url)
        async with self._write() as db, db.begin():
            row = await self._editable(db, endpoint_id)
            if change.url is not None:
                row.url = change.url
            if change.events is not None:
                row.event_types = self._events(change.events)
            if change.providers is not None:
                row.providers = self._providers(change.providers)
            if change.description is not None:
                row.description = self._description(change.description)
            if change.enabled is True:
                row.disabled_at = None
                row.disabled_reason = None
                row.failing_since = None
            elif change.enabled is False and row.disabled_at is None:
                row.disabled_at = self.clock()
                row.disabled_reason = "disabled through updateWebhookEndpoint"
            row.updated_at = self.clock()
            db.add(row)
        return row

    async def delete(self, endpoint_id: str) -> None:
        """The endpoint, its deliveries and their log."""
        async with self._write() as db, db.begin():
            await self._editable(db, endpoint_id)
            await _delete_endpoint(db, endpoint_id)

    async def rotate_secret(self, endpoint_id: str) -> tuple[WebhookEndpointRow, str]:
        """A new secret; the old one keeps signing beside it for the grace period."""
        now = self.clock()
        async with self._write() as db, db.begin():
            row = await self._editable(db, endpoint_id)
            row.previous_secret = row.secret
            row.previous_secret_until = now + self.secret_grace
            row.secret = new_secret()
            row.updated_at = now
            db.add(row)
        SCRUBBER.secrets.add(row.secret)
        return row, row.secret

    async def sync_static(self, configured: Sequence[StaticWebhookEndpoint]) -> None:
        """Make the static endpoints in the store what the settings say (at start-up); one
        no longer configured goes, with its deliveries. An upsert: replicas starting at once
        write the same rows."""
        self.check_static(configured)
        now = self.clock()
        wanted = {static_id(entry.url): entry for entry in configured}
        e = tables.endpoints
        async with self._write() as db, db.begin():
            conn = await db.connection()
            stored = set((await conn.execute(sa_select(e.c.id).where(e.c.static))).scalars())
            for endpoint_id in stored - wanted.keys():
                await _delete_endpoint(db, endpoint_id)
            for endpoint_id, entry in wanted.items():
                values = {
                    "url": entry.url,
                    "secret": entry.secret.get_secret_value(),
                    "event_types": self._events(entry.events),
                    "providers": self._providers(entry.providers),
                    "description": self._description(entry.description),
                    "updated_at": now,
                }
                insert = upsert_for(conn.dialect.name)(e).values(
                    id=endpoint_id, static=True, created_at=now, **values
                )
                await conn.execute(
                    insert.on_conflict_do_update(index_elements=[e.c.id], set_=values)
                )

    def check_static(self, configured: Sequence[StaticWebhookEndpoint]) -> None:
        """What can be known without DNS (scheme, host, no credentials) is checked at
        start-up; the addresses at every attempt."""
        for index, entry in enumerate(configured):
            try:
                self.policy.parse(entry.url)
            except TargetRefused as refused:
                raise ConfigError(f"KYCGW_WEBHOOK_ENDPOINTS[{index}]: {refused}") from None

    async def _editable(self, db: AsyncSession, endpoint_id: str) -> WebhookEndpointRow:
        row = await db.get(WebhookEndpointRow, endpoint_id, with_for_update=True)
        if row is None:
            raise ServiceError.single(ErrorCode.NOT_FOUND, "webhook endpoint not found", ("id",))
        if row.static:
            raise ServiceError.single(
                ErrorCode.BAD_USER_INPUT,
                "this endpoint is set in KYCGW_WEBHOOK_ENDPOINTS: change it there",
                ("id",),
            )
        return row

    async def _check_url(self, url: str) -> None:
        try:
            await self.policy.resolve(url)
        except TargetRefused as refused:
            raise _problem(str(refused), "url") from None

    def _events(self, events: Sequence[str] | None) -> list[str]:
        if events is None:
            return list(EVENT_TYPES)
        problem = events_problem(events)
        if problem is not None:
            raise _problem(problem, "events")
        return [event for event in EVENT_TYPES if event in events]

    def _providers(self, providers: Sequence[str]) -> list[str]:
        unknown = sorted(set(providers) - set(self.providers))
        if unknown:
            raise _problem(
                f"unknown providers: {', '.join(unknown)} (known: {', '.join(self.providers)})",
                "providers",
            )
        return sorted(set(providers))

    @staticmethod
    def _description(description: str) -> str:
        if len(description) > MAX_DESCRIPTION:
            raise _problem(
                f"description is longer than {MAX_DESCRIPTION} characters", "description"
            )
        return description


def upsert_for(dialect: str):  # type: ignore[no-untyped-def]
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL both have it)."""
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def static_id(url: str) -> str:
    return STATIC_PREFIX + hashlib.sha256(url.encode()).hexdigest()[:16]


async def _delete_endpoint(db: AsyncSession, endpoint_id: str) -> None:
    attempts = tables.attempts
    deliveries = tables.deliveries
    endpoints = tables.endpoints
    conn = await db.connection()
    of_endpoint = sa_select(deliveries.c.id).where(deliveries.c.endpoint_id == endpoint_id)
    await conn.execute(delete(attempts).where(attempts.c.delivery_id.in_(of_endpoint)))
    await conn.execute(delete(deliveries).where(deliveries.c.endpoint_id == endpoint_id))
    await conn.execute(delete(endpoints).where(endpoints.c.id == endpoint_id))
    db.expunge_all()


def disabled_reason(failing_since: datetime, now: datetime) -> str:
    hours = (now - failing_since).total_seconds() / 3600
    return f"every attempt failed since {failing_since.isoformat()} ({hours:.1f} h)"
