"""Subscription root: live status changes, optionally resumed from a cursor with no gap."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from gateway.auth import PrincipalKind, Scope
from gateway.bus.events import SubscriberOverflow
from gateway.sessions.watch import WatchFilter
from gateway.web.graphql.context import Info
from gateway.web.graphql.permissions import check, principal
from gateway.web.graphql.types import SessionStatusEvent

#: An event cursor: a change's id, ASCII digits that fit a 64-bit integer (`"²".isdigit()` is
#: true, and a 40-digit number overflows the database's integer).
CURSOR = re.compile(r"[0-9]{1,18}")


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Status changes of the sessions matching every given argument. With "
        "`after` (a cursor from an earlier event), missed changes are replayed first."
    )
    async def session_status_changed(
        self,
        info: Info,
        session_id: strawberry.ID | None = None,
        provider: str | None = None,
        client_reference: str | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[SessionStatusEvent, None]:
        who = principal(info)
        if who.kind is PrincipalKind.CLIENT_TOKEN:
            # A browser's token follows its own session only, named explicitly.
            if session_id is None or str(session_id) != who.session_id:
                raise GraphQLError(
                    "this client token may only follow its own session (pass its sessionId)",
                    extensions={"code": "FORBIDDEN"},
                )
        else:
            check(info, Scope.SESSIONS_READ)
        if after is not None and not CURSOR.fullmatch(after):
            raise GraphQLError(
                "after must be a cursor from an earlier event",
                extensions={"code": "BAD_USER_INPUT", "field": ["after"]},
            )
        where = WatchFilter(
            session_id=str(session_id) if session_id else None,
            provider=provider,
            client_reference=client_reference,
        )
        events = info.context.service.watch(where, int(after) if after is not None else None)
        try:
            async for event in events:
                yield SessionStatusEvent.from_event(event)
        except SubscriberOverflow as overflow:
            raise GraphQLError(
                str(overflow),
                extensions={"code": "SUBSCRIBER_OVERFLOW", "lastCursor": overflow.last_cursor},
            ) from None
        finally:
            await events.aclose()
