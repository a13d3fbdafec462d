"""Query root."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.auth import Scope
from gateway.errors import ServiceError
from gateway.sessions.service import SessionFilter
from gateway.sessions.stats import GroupBy
from gateway.vendors.input_support import support_rows
from gateway.web.graphql import cursors
from gateway.web.graphql.context import Info
from gateway.web.graphql.inputs import SessionFilterInput
from gateway.web.graphql.permissions import BadUserInput, check, check_session
from gateway.web.graphql.provider_types import (
    BreakerState,
    InputFieldSupport,
    Provider,
    ProviderHealth,
    RoutingInfo,
    RoutingRuleInfo,
    RoutingSplit,
)
from gateway.web.graphql.stats_types import ProviderStats, StatsGroupBy
from gateway.web.graphql.types import PageInfo, Session, SessionConnection, SessionEdge
from gateway.web.graphql.webhooks import WebhookQueries

MAX_PAGE = 100
DEFAULT_STATS_GROUP_BY = [GroupBy.PROVIDER]


@strawberry.type
class Query(WebhookQueries):
    @strawberry.field
    async def session(self, info: Info, id: strawberry.ID) -> Session | None:
        check_session(info, str(id))
        row = await info.context.service.get(str(id))
        return Session.from_row(row) if row else None

    @strawberry.field
    async def sessions(
        self,
        info: Info,
        filter: SessionFilterInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> SessionConnection:
        check(info, Scope.SESSIONS_READ)
        if not 1 <= first <= MAX_PAGE:
            raise BadUserInput(f"first must be between 1 and {MAX_PAGE}", ["first"])
        try:
            position = cursors.decode(after) if after else None
        except ServiceError as error:
            raise BadUserInput(error.problems[0].message, ["after"]) from None
        f = filter or SessionFilterInput()
        page = await info.context.service.list(
            SessionFilter(
                provider=f.provider,
                status=f.status,
                client_reference=f.client_reference,
                created_after=f.created_after,
                created_before=f.created_before,
            ),
            first,
            position,
        )
        edges = [
            SessionEdge(cursor=cursors.encode(r.created_at, r.id), node=Session.from_row(r))
            for r in page.rows
        ]
        return SessionConnection(
            edges=edges,
            page_info=PageInfo.of(
                [edge.cursor for edge in edges], has_next=page.has_next, after=after
            ),
            total_count=page.total,
        )

    @strawberry.field
    async def providers(self, info: Info) -> list[Provider]:
        check(info, Scope.SESSIONS_READ)
        result = []
        for view in await info.context.service.provider_views():
            result.append(
                Provider(
                    name=view.name,
                    mode=view.environment,
                    configured=view.configured,
                    capabilities=sorted(view.capabilities, key=lambda c: c.value),
                    health=ProviderHealth(breaker=BreakerState(view.breaker.value)),
                    input_support=[
                        InputFieldSupport(field=row.field, support=row.support, note=row.note)
                        for row in support_rows(view.input_support)
                    ],
                    person_flow=view.person_flow,
                )
            )
        return result

    @strawberry.field(description="How createSession without a provider chooses a vendor.")
    def routing(self, info: Info) -> RoutingInfo:
        check(info, Scope.SESSIONS_READ)
        default, config = info.context.service.routing_view()
        return RoutingInfo(
            default=default,
            failover=list(config.failover),
            rules=[
                RoutingRuleInfo(
                    name=rule.name,
                    provider=rule.provider,
                    split=[RoutingSplit(provider=p, weight=w) for p, w in rule.split.items()],
                    document_country=rule.when.document_country,
                    nationality=rule.when.nationality,
                    capability=list(rule.when.capability),
                )
                for rule in config.rules
            ],
        )

    @strawberry.field(
        description="Conversion, outcomes and timings of sessions created in [from, to) "
        "(stats:read). groupBy [] gives one total row; null means [PROVIDER]."
    )
    async def provider_stats(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        group_by: list[StatsGroupBy] | None = DEFAULT_STATS_GROUP_BY,
    ) -> list[ProviderStats]:
        check(info, Scope.STATS_READ)
        if not from_ < to:
            raise BadUserInput("from must be before to", ["to"])
        dims = DEFAULT_STATS_GROUP_BY if group_by is None else group_by
        rows = await info.context.service.stats(from_, to, list(dims))
        return [ProviderStats.from_row(r) for r in rows]
