"""Mutation root. Every mutation answers `{ session, userErrors }`: expected failures (bad
input, an action the vendor lacks, a vendor refusal) are user errors, never top-level errors."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry
from strawberry.scalars import JSON

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

    @strawberry.mutation(description="Run the vendor's checks again (e.g. after a failure).")
    async def reprocess_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.reprocess(str(id)))

    @strawberry.mutation(
        description="A fresh link (and QR code, where the vendor has one) for the person."
    )
    async def issue_verification_link(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.issue_link(str(id)))

    @strawberry.mutation(
        description="Merge keys into the session's metadata at the vendor (null removes a key)."
    )
    async def update_session_metadata(
        self, info: Info, id: strawberry.ID, metadata: JSON
    ) -> SessionPayload:
        return await _payload(info.context.service.update_metadata(str(id), metadata))

    @strawberry.mutation(description="Erase the vendor's data and our copies of it.")
    async def redact_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info.context.service.redact(str(id)))
