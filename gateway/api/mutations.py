"""Mutation root. Every mutation answers `{ session, userErrors }`: expected failures (bad
input, an action the vendor lacks, a vendor refusal) are user errors, never top-level errors."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from gateway.api.context import Info
from gateway.api.enums import DecisionAction
from gateway.api.inputs import CreateSessionInput
from gateway.api.types import Session, SessionPayload, UserError
from gateway.errors import ServiceError
from gateway.store.models import SessionRow


async def _payload(call: Awaitable[SessionRow]) -> SessionPayload:
    try:
        row = await call
    except ServiceError as error:
        return SessionPayload(
            session=None, user_errors=[UserError.from_problem(p) for p in error.problems]
        )
    return SessionPayload(session=Session.from_row(row), user_errors=[])


async def _create(info: Info, input: CreateSessionInput) -> SessionRow:
    return await info.context.service.create_session(input.provider, input.to_request())


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_session(self, info: Info, input: CreateSessionInput) -> SessionPayload:
        return await _payload(_create(info, input))

    @strawberry.mutation(description="Read the vendor's current state now.")
    async def refresh_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.refresh(str(id)))

    @strawberry.mutation
    async def cancel_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.cancel(str(id)))

    @strawberry.mutation
    async def decide_session(
        self,
        info: Info,
        id: strawberry.ID,
        decision: DecisionAction,
        reason: str | None = None,
    ) -> SessionPayload:
        return await _payload(info.context.service.decide(str(id), decision, reason))

    @strawberry.mutation(description="Let a session paused at a vendor gate go on.")
    async def continue_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.continue_(str(id)))

    @strawberry.mutation(description="Reopen a session the vendor allows to be resumed.")
    async def resume_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.resume(str(id)))

    @strawberry.mutation(description="Erase the vendor's data and our copies of it.")
    async def redact_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.redact(str(id)))
