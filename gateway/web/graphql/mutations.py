"""Mutation root. Every mutation answers `{ session, userErrors }`: expected failures (bad
input, an action the vendor lacks, a vendor refusal) are user errors, never top-level errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from adapters.base import DecisionOptions, ErrorCode
from gateway.auth import Scope
from gateway.errors import ServiceError
from gateway.sessions.actions import SessionAction
from gateway.store.models import SessionRow
from gateway.web.graphql.context import Info
from gateway.web.graphql.enums import DecisionAction, WarningCode
from gateway.web.graphql.inputs import CreateSessionInput
from gateway.web.graphql.permissions import guard
from gateway.web.graphql.types import PayloadWarning, Session, SessionPayload, UserError
from gateway.web.graphql.webhooks import WebhookMutations


async def _payload(
    info: Info, scopes: tuple[Scope, ...], call: Callable[[], Awaitable[SessionRow]]
) -> SessionPayload:
    try:
        guard(info, *scopes)
        row = await call()
    except ServiceError as error:
        return SessionPayload(
            session=None, user_errors=[UserError.from_problem(p) for p in error.problems]
        )
    return SessionPayload(session=Session.from_row(row), user_errors=[])


async def _act(
    info: Info, scopes: tuple[Scope, ...], id: strawberry.ID, action: SessionAction, *args: object
) -> SessionPayload:
    """A vendor action on one session (gateway/sessions/actions.py), answered like every
    mutation."""
    return await _payload(info, scopes, lambda: info.context.service.act(str(id), action, *args))


WRITE = (Scope.SESSIONS_WRITE,)


async def _create(info: Info, input: CreateSessionInput) -> SessionPayload:
    """Like `_payload`, plus a warning for each input field the chosen vendor ignores."""
    try:
        guard(info, *WRITE)
        request = await input.to_request()
        service = info.context.service
        row = await service.create_session(input.provider, request)
    except ServiceError as error:
        return SessionPayload(
            session=None, user_errors=[UserError.from_problem(p) for p in error.problems]
        )
    warnings = [
        PayloadWarning(code=WarningCode.INPUT_IGNORED, field=list(w.field), message=w.message)
        for w in service.ignored_inputs(row.provider, request)
    ]
    return SessionPayload(session=Session.from_row(row), user_errors=[], warnings=warnings)


@strawberry.type
class ClientTokenPayload:
    token: str | None = strawberry.field(
        description="Give this to the browser: it may read and follow this session only."
    )
    expires_at: datetime | None
    session_id: strawberry.ID | None
    user_errors: list[UserError]


SCOPES_REFRESH = SCOPES_CANCEL = SCOPES_CONTINUE_ = SCOPES_RESUME = SCOPES_REPROCESS = WRITE
SCOPES_ISSUE_LINK = SCOPES_UPDATE_METADATA = WRITE
SCOPES_DECIDE = (Scope.SESSIONS_DECIDE,)
SCOPES_REDACT = (Scope.SESSIONS_WRITE, Scope.PII_READ)


@strawberry.type
class Mutation(WebhookMutations):
    @strawberry.mutation
    async def create_session(self, info: Info, input: CreateSessionInput) -> SessionPayload:
        return await _create(info, input)

    @strawberry.mutation(description="Read the vendor's current state now.")
    async def refresh_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _payload(info, SCOPES_REFRESH, lambda: info.context.service.refresh(str(id)))

    @strawberry.mutation
    async def cancel_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _act(info, SCOPES_CANCEL, id, SessionAction.CANCEL)

    @strawberry.mutation
    async def decide_session(
        self,
        info: Info,
        id: strawberry.ID,
        decision: DecisionAction,
        reason: str | None = None,
        resubmit: Annotated[
            list[str] | None,
            strawberry.argument(
                description="REQUEST_RESUBMISSION only: the steps the person redoes, in the "
                "vendor's names (e.g. its step ids); default the vendor's choice. "
                "A vendor that takes none refuses it (UNSUPPORTED_BY_PROVIDER)."
            ),
        ] = None,
        notify_person: Annotated[
            bool | None,
            strawberry.argument(
                description="Whether the vendor itself tells the person (e.g. by e-mail); "
                "default the vendor's. A vendor that takes none refuses it."
            ),
        ] = None,
    ) -> SessionPayload:
        options = DecisionOptions(
            resubmit=None if resubmit is None else tuple(resubmit), notify_person=notify_person
        )
        return await _payload(
            info,
            SCOPES_DECIDE,
            lambda: info.context.service.decide(str(id), decision, reason, options),
        )

    @strawberry.mutation(description="Let a session paused at a vendor gate go on.")
    async def continue_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _act(info, SCOPES_CONTINUE_, id, SessionAction.CONTINUE)

    @strawberry.mutation(description="Reopen a session the vendor allows to be resumed.")
    async def resume_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _act(info, SCOPES_RESUME, id, SessionAction.RESUME)

    @strawberry.mutation(description="Run the vendor's checks again (e.g. after a failure).")
    async def reprocess_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _act(info, SCOPES_REPROCESS, id, SessionAction.REPROCESS)

    @strawberry.mutation(
        description="A fresh link (and QR code, where the vendor has one) for the person."
    )
    async def issue_verification_link(self, info: Info, id: strawberry.ID) -> SessionPayload:
        return await _act(info, SCOPES_ISSUE_LINK, id, SessionAction.ISSUE_LINK)

    @strawberry.mutation(
        description="Merge keys into the session's metadata (null removes a key): at the vendor, "
        "or in the gateway's copy where the vendor keeps none."
    )
    async def update_session_metadata(
        self, info: Info, id: strawberry.ID, metadata: JSON
    ) -> SessionPayload:
        return await _payload(
            info,
            SCOPES_UPDATE_METADATA,
            lambda: info.context.service.update_metadata(str(id), metadata),
        )

    @strawberry.mutation(
        description="A short-lived token for a browser, bound to one session (needs "
        "sessions:write). ttl in seconds (default 900, at most the configured maximum)."
    )
    async def issue_client_token(
        self, info: Info, session_id: strawberry.ID, ttl: int = 900
    ) -> ClientTokenPayload:
        try:
            guard(info, Scope.SESSIONS_WRITE)
            auth = info.context.auth
            if not 60 <= ttl <= auth.max_token_ttl_s:
                raise ServiceError.single(
                    ErrorCode.BAD_USER_INPUT,
                    f"ttl must be between 60 and {auth.max_token_ttl_s} seconds",
                    ("ttl",),
                )
            if await info.context.service.get(str(session_id)) is None:
                raise ServiceError.single(ErrorCode.NOT_FOUND, "session not found", ("sessionId",))
        except ServiceError as error:
            return ClientTokenPayload(
                token=None,
                expires_at=None,
                session_id=None,
                user_errors=[UserError.from_problem(p) for p in error.problems],
            )
        token, expires = auth.issue_client_token(str(session_id), ttl)
        return ClientTokenPayload(
            token=token, expires_at=expires, session_id=session_id, user_errors=[]
        )

    @strawberry.mutation(
        description="Erase the vendor's data and our copies of it. What the vendor keeps is "
        "named by a VENDOR_DATA_RETAINED warning."
    )
    async def redact_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        retains: list[str] = []

        async def redact() -> SessionRow:
            done = await info.context.service.redact(str(id))
            retains.extend(done.vendor_retains)
            return done.session

        payload = await _payload(info, SCOPES_REDACT, redact)
        if retains:
            payload.warnings = [
                PayloadWarning(
                    code=WarningCode.VENDOR_DATA_RETAINED, field=None, message=" ".join(retains)
                )
            ]
        return payload
