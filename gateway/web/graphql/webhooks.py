"""Outbound webhooks in GraphQL (`webhooks:manage`): endpoints, the delivery log, resending.
The signing secret is in a payload only when it is made (create, rotate), never readable
afterwards. What is delivered and how: docs/webhooks.md."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry.scalars import JSON

from adapters.base import ErrorCode
from gateway.auth import Scope
from gateway.errors import ServiceError
from gateway.outbound.deliveries import Delivery
from gateway.outbound.endpoints import EndpointChange
from gateway.outbound.service import OutboundWebhooks
from gateway.outbound.tables import DeliveryStatus
from gateway.store.models import WebhookEndpointRow
from gateway.web.graphql.context import Info
from gateway.web.graphql.permissions import BadUserInput, check, guard
from gateway.web.graphql.types import PageInfo, UserError

MANAGE = Scope.WEBHOOKS_MANAGE
MAX_PAGE = 100
T = TypeVar("T")

WebhookDeliveryStatus = strawberry.enum(
    enum.Enum("WebhookDeliveryStatus", {s.value: s.value for s in DeliveryStatus}),
    description="PENDING (due at nextAttemptAt), SENDING (in flight), SUCCEEDED (a 2xx), "
    "FAILED (retries exhausted or the endpoint disabled; redeliverWebhook sends it again).",
)


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    events: list[str] = strawberry.field(description="session.status_changed and/or session.final.")
    providers: list[str] = strawberry.field(description="Vendors it hears about; [] = all.")
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    static: bool = strawberry.field(description="Set in KYCGW_WEBHOOK_ENDPOINTS: read-only here.")
    created_at: datetime
    updated_at: datetime
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="After a rotation, the old secret also signs until then."
    )

    @classmethod
    def from_row(cls, row: WebhookEndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(row.id),
            url=row.url,
            description=row.description,
            events=list(row.event_types),
            providers=list(row.providers),
            enabled=row.disabled_at is None,
            disabled_at=row.disabled_at,
            disabled_reason=row.disabled_reason,
            static=row.static,
            created_at=row.created_at,
            updated_at=row.updated_at,
            previous_secret_valid_until=row.previous_secret_until if row.previous_secret else None,
        )


@strawberry.type
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None = strawberry.field(description="Null when no answer came.")
    error: str | None
    duration_ms: float


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID
    webhook_id: str = strawberry.field(description="The webhook-id header, the same on retries.")
    event_type: str
    endpoint_id: strawberry.ID
    session_id: strawberry.ID
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    payload: JSON = strawberry.field(description="The body sent (no personal data).")
    attempts: list[WebhookAttempt]

    @classmethod
    def of(cls, delivery: Delivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(delivery.id)),
            webhook_id=delivery.webhook_id,
            event_type=delivery.event_type,
            endpoint_id=strawberry.ID(delivery.endpoint_id),
            session_id=strawberry.ID(delivery.session_id),
            status=WebhookDeliveryStatus(delivery.status.value),
            attempt_count=delivery.attempt_count,
            next_attempt_at=delivery.next_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            finished_at=delivery.finished_at,
            payload=delivery.payload,
            attempts=[
                WebhookAttempt(
                    attempted_at=a.attempted_at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in delivery.attempts
            ],
        )


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_…): shown here once, on create and rotate.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None
    user_errors: list[UserError]


@strawberry.type
class ReplayWebhooksPayload:
    queued: int | None = strawberry.field(description="Messages queued to send again.")
    user_errors: list[UserError]


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    events: list[str] | None = strawberry.field(
        default=None, description="Default: every event type."
    )
    providers: list[str] = strawberry.field(default_factory=list)
    description: str = ""


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = None
    events: list[str] | None = None
    providers: list[str] | None = None
    description: str | None = None
    enabled: bool | None = strawberry.field(
        default=None, description="true re-enables a disabled endpoint (and clears its reason)."
    )


def _webhooks(info: Info) -> OutboundWebhooks:
    webhooks = info.context.webhooks
    if webhooks is None:  # a context built without them (never in a served gateway)
        raise ServiceError.single(ErrorCode.BAD_USER_INPUT, "webhooks are not available here")
    return webhooks


def _errors(error: ServiceError) -> list[UserError]:
    return [UserError.from_problem(p) for p in error.problems]


async def _managed(info: Info, call: Callable[[OutboundWebhooks], Awaitable[T]]) -> T:
    guard(info, MANAGE)
    return await call(_webhooks(info))


def _delivery_id(value: strawberry.ID) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ServiceError.single(
            ErrorCode.NOT_FOUND, "webhook delivery not found", ("id",)
        ) from None


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="The outbound webhook endpoints (webhooks:manage).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        check(info, MANAGE)
        return [WebhookEndpoint.from_row(row) for row in await _webhooks(info).endpoints.list()]

    @strawberry.field(
        description="The delivery log, newest first, each delivery with its attempts "
        "(webhooks:manage)."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID | None = None,
        session_id: strawberry.ID | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
        first: int = 20,
        after: str | None = None,
    ) -> WebhookDeliveryConnection:
        check(info, MANAGE)
        if not 1 <= first <= MAX_PAGE:
            raise BadUserInput(f"first must be between 1 and {MAX_PAGE}", ["first"])
        before_id = None
        if after is not None:
            if not after.isdigit() or len(after) > 19:
                raise BadUserInput("after is not a cursor from this connection", ["after"])
            before_id = int(after)
        page = await _webhooks(info).deliveries.page(
            endpoint_id=str(endpoint_id) if endpoint_id is not None else None,
            session_id=str(session_id) if session_id is not None else None,
            status=DeliveryStatus(status.value) if status is not None else None,
            first=first,
            before_id=before_id,
        )
        edges = [
            WebhookDeliveryEdge(cursor=str(d.id), node=WebhookDelivery.of(d))
            for d in page.deliveries
        ]
        return WebhookDeliveryConnection(
            edges=edges,
            page_info=PageInfo.of(
                [edge.cursor for edge in edges], has_next=page.has_next, after=after
            ),
        )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="A new endpoint; its signing secret is in this payload only (webhooks:manage)."
    )
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        try:
            row, secret = await _managed(
                info,
                lambda w: w.endpoints.create(
                    input.url, input.events, input.providers, input.description
                ),
            )
        except ServiceError as error:
            return WebhookEndpointPayload(endpoint=None, user_errors=_errors(error))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row), secret=secret)

    @strawberry.mutation(description="Change an endpoint; null fields stay as they are.")
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        change = EndpointChange(
            url=input.url,
            events=input.events,
            providers=input.providers,
            description=input.description,
            enabled=input.enabled,
        )
        try:
            row = await _managed(info, lambda w: w.endpoints.update(str(input.id), change))
        except ServiceError as error:
            return WebhookEndpointPayload(endpoint=None, user_errors=_errors(error))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row))

    @strawberry.mutation(description="Delete an endpoint with its deliveries and their log.")
    async def delete_webhook_endpoint(
        self, info: Info, id: strawberry.ID
    ) -> DeleteWebhookEndpointPayload:
        try:
            await _managed(info, lambda w: w.endpoints.delete(str(id)))
        except ServiceError as error:
            return DeleteWebhookEndpointPayload(deleted_id=None, user_errors=_errors(error))
        return DeleteWebhookEndpointPayload(deleted_id=id, user_errors=[])

    @strawberry.mutation(
        description="A new signing secret (in this payload only); the old one keeps signing "
        "beside it for KYCGW_WEBHOOK_SECRET_GRACE_S."
    )
    async def rotate_webhook_endpoint_secret(
        self, info: Info, id: strawberry.ID
    ) -> WebhookEndpointPayload:
        try:
            row, secret = await _managed(info, lambda w: w.endpoints.rotate_secret(str(id)))
        except ServiceError as error:
            return WebhookEndpointPayload(endpoint=None, user_errors=_errors(error))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row), secret=secret)

    @strawberry.mutation(description="Send a finished delivery again, with a fresh schedule.")
    async def redeliver_webhook(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        async def redeliver(webhooks: OutboundWebhooks) -> Delivery:
            delivery = await webhooks.deliveries.redeliver(_delivery_id(id))
            webhooks.wake()
            return delivery

        try:
            delivery = await _managed(info, redeliver)
        except ServiceError as error:
            return WebhookDeliveryPayload(delivery=None, user_errors=_errors(error))
        return WebhookDeliveryPayload(delivery=WebhookDelivery.of(delivery), user_errors=[])

    @strawberry.mutation(
        description="Send an endpoint every message created in [from, to) again (the same "
        "webhook-id each)."
    )
    async def replay_webhooks(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime | None = None,
    ) -> ReplayWebhooksPayload:
        async def replay(webhooks: OutboundWebhooks) -> int:
            until = to or webhooks.deliveries.clock()
            if from_.tzinfo is None or until.tzinfo is None:
                raise ServiceError.single(
                    ErrorCode.BAD_USER_INPUT, "from and to need a time zone", ("from",)
                )
            queued = await webhooks.deliveries.replay(str(endpoint_id), from_, until)
            webhooks.wake()
            return queued

        try:
            queued = await _managed(info, replay)
        except ServiceError as error:
            return ReplayWebhooksPayload(queued=None, user_errors=_errors(error))
        return ReplayWebhooksPayload(queued=queued, user_errors=[])
