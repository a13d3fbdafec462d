"""Session output types. `Session` is built from a stored row; nested lists resolve lazily.
What the API shows of the vendors and routing is `gateway/web/graphql/provider_types.py`."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from adapters import base
from gateway.auth import Scope
from gateway.bus.events import StatusChanged
from gateway.errors import FieldProblem
from gateway.store.models import SessionRow, StatusChangeRow
from gateway.web.graphql.audit_types import AuditEntry, read_audit
from gateway.web.graphql.context import Info
from gateway.web.graphql.enums import (
    Capability,
    DecidedBy,
    Environment,
    ErrorCode,
    Outcome,
    SessionStatus,
    StatusSource,
    StepResult,
    StepState,
    WarningCode,
)
from gateway.web.graphql.permissions import check
from gateway.web.graphql.result_types import Check, VerifiedDocument, VerifiedPerson
from gateway.web.graphql.visibility import session_field


def _check_link(info: Info, session_id: str) -> None:
    if not info.context.principal.can_see_link(session_id):
        raise GraphQLError(
            "verificationUrl and qrCode need sessions:write or this session's client token",
            extensions={"code": "FORBIDDEN"},
        )


@strawberry.type
class Decision:
    outcome: Outcome
    decided_by: DecidedBy
    decided_at: datetime | None
    _reason_codes: strawberry.Private[list[str]]
    _warnings: strawberry.Private[list[str]]
    _risk_score: strawberry.Private[float | None]

    @strawberry.field(description="Why (sessions:read; not for client tokens).")
    def reason_codes(self, info: Info) -> list[str] | None:
        check(info, Scope.SESSIONS_READ)
        return self._reason_codes

    @strawberry.field
    def warnings(self, info: Info) -> list[str] | None:
        check(info, Scope.SESSIONS_READ)
        return self._warnings

    @strawberry.field
    def risk_score(self, info: Info) -> float | None:
        check(info, Scope.SESSIONS_READ)
        return self._risk_score

    @classmethod
    def from_json(cls, data: dict) -> Decision:
        d = base.Decision.from_json(data)
        return cls(
            outcome=d.outcome,
            decided_by=d.decided_by,
            decided_at=d.decided_at,
            _reason_codes=list(d.reason_codes),
            _warnings=list(d.warnings),
            _risk_score=d.risk_score,
        )


@strawberry.type
class StatusChange:
    sequence: int
    previous_status: SessionStatus | None
    status: SessionStatus
    provider_status: str
    source: StatusSource
    occurred_at: datetime
    received_at: datetime
    cursor: str

    @classmethod
    def from_row(cls, row: StatusChangeRow) -> StatusChange:
        return cls(
            sequence=row.sequence,
            previous_status=base.SessionStatus(row.from_status) if row.from_status else None,
            status=base.SessionStatus(row.to_status),
            provider_status=row.provider_status,
            source=StatusSource(row.source),
            occurred_at=row.occurred_at,
            received_at=row.received_at,
            cursor=str(row.id),
        )


@strawberry.type
class SessionStep:
    index: int
    type: str = strawberry.field(description="A StepType value, or the vendor's own name.")
    state: StepState
    gate: bool
    completed_at: datetime | None
    result: StepResult | None = strawberry.field(
        description="The step's verdict once the vendor gave one; null while unknown."
    )

    @classmethod
    def from_json(cls, data: dict) -> SessionStep:
        completed = data.get("completed_at")
        result = data.get("result")
        return cls(
            index=int(data["index"]),
            type=str(data["type"]),
            state=base.StepState(data["state"]),
            gate=bool(data.get("gate")),
            completed_at=datetime.fromisoformat(completed) if completed else None,
            result=base.StepResult(result) if result else None,
        )


@strawberry.type(
    description="What a credential may read of it is in the README's Access control: a "
    "denied field is null with a FORBIDDEN error on it."
)
class Session:
    id: strawberry.ID = session_field()
    provider: str | None = session_field()
    provider_session_id: str | None = session_field(
        description="The vendor's id (not for client tokens)."
    )
    status: SessionStatus = session_field()
    provider_status: str | None = session_field(description="The vendor's own status, verbatim.")
    environment: Environment | None = session_field()
    client_reference: str | None = session_field()
    created_at: datetime | None = session_field()
    updated_at: datetime | None = session_field()
    expires_at: datetime | None = session_field()
    _row: strawberry.Private[SessionRow]

    @session_field(description="The integrator's metadata (API keys with sessions:read).")
    def metadata(self, info: Info) -> JSON | None:
        check(info, Scope.SESSIONS_READ)
        return self._row.metadata_

    @session_field(
        description="Capability URL for the person's hosted flow: a secret. Needs "
        "sessions:write, or this session's client token."
    )
    def verification_url(self, info: Info) -> str | None:
        _check_link(info, self._row.id)
        return self._row.verification_url

    @session_field(description="QR code (PNG data URL) of the link; same rule.")
    def qr_code(self, info: Info) -> str | None:
        _check_link(info, self._row.id)
        return self._row.qr_code

    @session_field(description="The vendor's last payload, personal data included (pii:read).")
    def raw(self, info: Info) -> JSON | None:
        check(info, Scope.PII_READ)
        return self._row.raw

    @session_field()
    def is_final(self) -> bool | None:
        return base.SessionStatus(self.status).is_final

    @session_field()
    def decision(self) -> Decision | None:
        return Decision.from_json(self._row.decision) if self._row.decision else None

    @session_field(description="Step progress, for step-based vendors (empty otherwise).")
    def steps(self) -> list[SessionStep] | None:
        return [SessionStep.from_json(step) for step in self._row.steps or ()]

    @session_field(description="Index of the step the person is on, when known.")
    def current_step(self) -> int | None:
        return self._row.current_step

    @session_field(
        description="When redactSession erased this session's personal data (null: never). "
        "From then on only its state changes are stored."
    )
    def redacted_at(self) -> datetime | None:
        return self._row.redacted_at

    @session_field(description="Which vendor routing chose, and why.")
    def routing(self, info: Info) -> SessionRouting | None:
        check(info, Scope.SESSIONS_READ)
        if self._row.route_rule is None:
            return None
        return SessionRouting(
            rule=self._row.route_rule,
            attempts=[
                RouteAttempt(
                    provider=str(a.get("provider")),
                    code=str(a.get("code")),
                    message=str(a.get("message", "")),
                )
                for a in self._row.route_attempts or ()
            ],
        )

    @session_field()
    async def history(self, info: Info) -> list[StatusChange] | None:
        rows = await info.context.histories.load(self._row.id)
        return [StatusChange.from_row(r) for r in rows]

    @session_field(description="What the vendor checked, normalized (docs/results.md).")
    def checks(self) -> list[Check] | None:
        return [Check.from_json(c) for c in self._row.checks or ()]

    @session_field(
        description="The person as the vendor read them (pii:read; never a client token). "
        "Null until the vendor reports them, and after redactSession."
    )
    def person(self, info: Info) -> VerifiedPerson | None:
        check(info, Scope.PII_READ)
        if not self._row.person:
            return None
        return VerifiedPerson.of(self._row.person, self._row.expected_person)

    @session_field(
        description="The documents as the vendor read them (pii:read; same rule). Null until "
        "the vendor reports any, and after redactSession."
    )
    def documents(self, info: Info) -> list[VerifiedDocument] | None:
        check(info, Scope.PII_READ)
        if self._row.documents is None:
            return None
        return [VerifiedDocument.from_json(d) for d in self._row.documents]

    @session_field(
        description="The vendor's audit of the session, one record per verified step, read "
        "from the vendor on each request (sessions:read; never a client token; each record's "
        "proof needs pii:read). Null for a vendor that keeps none."
    )
    async def audit(self, info: Info) -> list[AuditEntry] | None:
        return await read_audit(info, self._row.id)

    @session_field(description="Actions the vendor allows on this session now.")
    def capabilities(self, info: Info) -> list[Capability] | None:
        return sorted(info.context.service.capabilities(self._row), key=lambda c: c.value)

    @classmethod
    def from_row(cls, row: SessionRow) -> Session:
        return cls(
            id=strawberry.ID(row.id),
            provider=row.provider,
            provider_session_id=row.provider_session_id,
            status=base.SessionStatus(row.status),
            provider_status=row.provider_status,
            environment=base.Environment(row.environment),
            client_reference=row.client_reference,
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
            _row=row,
        )


@strawberry.type
class UserError:
    code: ErrorCode
    field: list[str] | None
    message: str
    provider_code: str | None = None
    retry_after: int | None = strawberry.field(
        default=None, description="Seconds to wait before retrying (RATE_LIMITED)."
    )

    @classmethod
    def from_problem(cls, problem: FieldProblem) -> UserError:
        return cls(
            code=problem.code,
            field=list(problem.field) if problem.field else None,
            message=problem.message,
            provider_code=problem.provider_code,
            retry_after=problem.retry_after,
        )


@strawberry.type(description="Something the caller should know although the call succeeded.")
class PayloadWarning:
    code: WarningCode
    field: list[str] | None = strawberry.field(
        description='The input field concerned, e.g. ["input", "expiresIn"].'
    )
    message: str


@strawberry.type
class SessionPayload:
    session: Session | None
    user_errors: list[UserError]
    warnings: list[PayloadWarning] = strawberry.field(
        default_factory=list,
        description="E.g. INPUT_IGNORED for an input field the chosen vendor cannot honour.",
    )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, after: str | None) -> PageInfo:
        """A forward page's info from its edges' cursors (`after`: where it started)."""
        return cls(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type
class SessionEdge:
    cursor: str
    node: Session


@strawberry.type
class SessionConnection:
    edges: list[SessionEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class RouteAttempt:
    provider: str
    code: str
    message: str


@strawberry.type
class SessionRouting:
    rule: str = strawberry.field(
        description='How the vendor was chosen: "explicit", a rule name, "default", ...'
    )
    attempts: list[RouteAttempt] = strawberry.field(
        description="Vendors tried first that failed (failover), in order."
    )


@strawberry.type
class SessionStatusEvent:
    previous_status: SessionStatus | None
    status: SessionStatus
    provider_status: str
    source: StatusSource
    occurred_at: datetime
    cursor: str
    sequence: int
    session_id: strawberry.ID

    @strawberry.field
    async def session(self, info: Info) -> Session | None:
        row = await info.context.service.get(str(self.session_id))
        return Session.from_row(row) if row else None

    @classmethod
    def from_event(cls, event: StatusChanged) -> SessionStatusEvent:
        return cls(
            previous_status=event.previous_status,
            status=event.status,
            provider_status=event.provider_status,
            source=StatusSource(event.source),
            occurred_at=event.occurred_at,
            cursor=str(event.cursor),
            sequence=event.sequence,
            session_id=strawberry.ID(event.session_id),
        )
