"""A session's audit at its vendor, as GraphQL shows it (`Session.audit`): read on demand
through the service, never stored. The records need `sessions:read` (never a client token,
`gateway/web/graphql/visibility.py`); each record's `proof` needs `pii:read` as well."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from adapters import base
from gateway.auth import Scope
from gateway.errors import ServiceError
from gateway.web.graphql.context import Info
from gateway.web.graphql.permissions import check


@strawberry.type(
    description="One record of the vendor's audit of a session: a verified step, what it "
    "verified, when, with which wallet, and the record's place in the vendor's chain."
)
class AuditEntry:
    record_id: str = strawberry.field(description="The vendor's id of this record.")
    step: int = strawberry.field(description="Zero-based index of the step it records.")
    type: str = strawberry.field(
        description="What the step verified: a StepType value, or the vendor's own name."
    )
    verified_at: datetime | None = strawberry.field(description="When the step verified.")
    wallet: str | None = strawberry.field(
        description="The wallet that fulfilled the step, in the vendor's words."
    )
    record_hash: str | None = strawberry.field(description="The vendor's hash of this record.")
    previous_hash: str | None = strawberry.field(
        description="The hash of the session's previous record (the vendor's hash chain)."
    )
    timestamp_token: str | None = strawberry.field(
        description="The vendor's trusted-timestamp token (RFC 3161, base64), when it has one."
    )
    identity_sealed: bool | None = strawberry.field(
        description="The vendor sealed the person's identity behind this record (a flag only)."
    )
    _proof: strawberry.Private[base.JSON | None]

    @strawberry.field(
        description="The vendor's evidence for the step, as it keeps it (e.g. an age threshold "
        "and its answer, a signature, a digest of disclosed claims): pii:read; null with "
        "FORBIDDEN otherwise."
    )
    def proof(self, info: Info) -> JSON | None:
        check(info, Scope.PII_READ)
        return self._proof

    @classmethod
    def of(cls, entry: base.AuditEntry) -> AuditEntry:
        return cls(
            record_id=entry.record_id,
            step=entry.step,
            type=entry.type,
            verified_at=entry.verified_at,
            wallet=entry.wallet,
            record_hash=entry.record_hash,
            previous_hash=entry.previous_hash,
            timestamp_token=entry.timestamp_token,
            identity_sealed=entry.identity_sealed,
            _proof=dict(entry.proof) if entry.proof is not None else None,
        )


async def read_audit(info: Info, session_id: str) -> list[AuditEntry] | None:
    """The vendor's audit now; null for a vendor that keeps none. A vendor failure is an
    error on the field (its code, and the vendor's code when it gave one)."""
    try:
        entries = await info.context.service.audit(session_id)
    except ServiceError as error:
        problem = error.problems[0]
        extensions: dict[str, object] = {"code": problem.code.value}
        if problem.provider_code:
            extensions["providerCode"] = problem.provider_code
        raise GraphQLError(problem.message, extensions=extensions) from None
    return None if entries is None else [AuditEntry.of(entry) for entry in entries]
