"""Outbound webhooks as the rest of the gateway holds them: the endpoints, the delivery log
and, where this process delivers, the worker. Built from settings in one place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.base import Clock
from gateway.logs import SCRUBBER
from gateway.outbound.deliveries import WebhookDeliveries
from gateway.outbound.endpoints import WebhookEndpoints
from gateway.outbound.sender import Sender
from gateway.outbound.targets import TargetPolicy
from gateway.outbound.worker import DeliveryConfig, DeliveryWorker
from gateway.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class OutboundWebhooks:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    worker: DeliveryWorker | None
    settings: Settings

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    async def start(self) -> None:
        await self.endpoints.sync_static(self.settings.webhook_endpoints)
        # Signing secrets are scrubbed from logs like every other secret (gateway/logs.py).
        for endpoint in await self.endpoints.list():
            SCRUBBER.secrets.update(s for s in (endpoint.secret, endpoint.previous_secret) if s)
        if self.worker is not None:
            self.worker.start()

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()


def target_policy(settings: Settings) -> TargetPolicy:
    return TargetPolicy(
        dev_mode=settings.dev_mode, allowed=list(settings.webhook_allow_private_targets)
    )


def build_outbound(
    settings: Settings,
    read: async_sessionmaker[AsyncSession],
    write: async_sessionmaker[AsyncSession],
    providers: Sequence[str],
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> OutboundWebhooks:
    policy = target_policy(settings)
    worker = None
    if settings.webhook_delivery_enabled:
        sender = Sender(
            policy,
            connect_timeout_s=settings.webhook_connect_timeout_s,
            read_timeout_s=settings.webhook_read_timeout_s,
            concurrency=settings.webhook_concurrency,
            transport=transport,
        )
        worker = DeliveryWorker(
            read,
            write,
            sender,
            DeliveryConfig(
                schedule_s=tuple(settings.webhook_retry_schedule_s),
                disable_after_s=settings.webhook_disable_after_s,
                lease_s=settings.webhook_claim_lease_s,
                concurrency=settings.webhook_concurrency,
                poll_interval_s=settings.webhook_poll_interval_s,
                retention_s=settings.webhook_retention_s,
                prune_interval_s=settings.webhook_prune_interval_s,
            ),
            clock,
        )
        attempt_bound = settings.webhook_connect_timeout_s + 2 * settings.webhook_read_timeout_s
        if settings.webhook_claim_lease_s <= attempt_bound:
            log.warning(
                "KYCGW_WEBHOOK_CLAIM_LEASE_S is not longer than one attempt may take: a slow "
                "attempt may be sent twice",
                extra={"lease_s": settings.webhook_claim_lease_s, "attempt_s": attempt_bound},
            )
    endpoints = WebhookEndpoints(
        read, write, policy, providers, secret_grace_s=settings.webhook_secret_grace_s, clock=clock
    )
    endpoints.check_static(settings.webhook_endpoints)
    return OutboundWebhooks(
        endpoints=endpoints,
        deliveries=WebhookDeliveries(read, write, clock),
        worker=worker,
        settings=settings,
    )
