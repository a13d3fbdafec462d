"""Tables. Columns mirror the normalized model (docs/model.md); vendor payloads are kept raw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.store.types import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class SessionRow(SQLModel, table=True):
    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("provider", "provider_session_id", name="uq_sessions_provider_psid"),
        Index("ix_sessions_created_at_id", "created_at", "id"),
        Index("ix_sessions_client_reference", "client_reference"),
        Index("ix_sessions_provider_status", "provider", "status"),
        Index("ix_sessions_provider_next_poll", "provider", "next_poll_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    provider: str = Field(max_length=32)
    provider_session_id: str = Field(max_length=255)
    status: str = Field(max_length=32)
    provider_status: str = Field(max_length=128)
    environment: str = Field(max_length=16)
    client_reference: str | None = Field(default=None, max_length=2048)
    metadata_: dict[str, Any] | None = Field(default=None, sa_column=Column("metadata", JSON))
    verification_url: str | None = Field(default=None, max_length=2048)
    qr_code: str | None = Field(default=None)
    decision: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    workflow_id: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=16)
    return_url: str | None = Field(default=None, max_length=2048)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    #: Newest vendor time applied so far: what orders later events (docs/model.md, Ordering).
    order_time: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_sequence: int = Field(default=0)
    #: Last time the vendor told us anything about this session (webhook, poll or API).
    last_contact_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    #: When the reconciler should read this session next; NULL = never (final).
    next_poll_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    #: Current per-session polling interval (doubles while nothing changes).
    poll_interval_s: float | None = Field(default=None)
    #: Step progress for step-based vendors (no claims: those stay in `raw`).
    steps: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    current_step: int | None = Field(default=None)
    #: How the vendor was chosen ("explicit", a routing rule's name, "default") and what was
    #: tried first when a vendor failed ([{provider, code, message}]).
    route_rule: str | None = Field(default=None, max_length=128)
    route_attempts: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    #: When `redactSession` erased the personal data; from then on nothing personal is
    #: written to this session again (`gateway/sessions/applier.py`, `scrub_for_redacted`).
    redacted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    #: What the vendor found (docs/results.md): checks (not personal; also one row each in
    #: `session_checks`, for SQL), and the person and documents it read (personal: erased
    #: by `redactSession`, like the expected person sent at create).
    checks: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    person: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    documents: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    expected_person: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class CheckRow(SQLModel, table=True):
    """One check of one session, as the vendor last reported it: what `providerStats` and
    `report --checks` aggregate. Nothing personal (the person is on the session row)."""

    __tablename__ = "session_checks"
    __table_args__ = (Index("ix_session_checks_provider_kind", "provider", "kind", "outcome"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    session_id: str = Field(foreign_key="sessions.id", index=True, max_length=40)
    provider: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    outcome: str = Field(max_length=16)
    provider_name: str = Field(max_length=128)
    reasons: list[str] = Field(sa_column=Column(JSON, nullable=False))
    score: float | None = Field(default=None)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class StatusChangeRow(SQLModel, table=True):
    __tablename__ = "status_changes"
    __table_args__ = (
        UniqueConstraint("session_id", "sequence", name="uq_status_changes_session_seq"),
    )

    #: Global, increasing: the subscription cursor.
    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    session_id: str = Field(foreign_key="sessions.id", index=True, max_length=40)
    sequence: int
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    provider_status: str = Field(max_length=128)
    source: str = Field(max_length=16)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=255)


class VendorEventRow(SQLModel, table=True):
    __tablename__ = "vendor_events"
    __table_args__ = (UniqueConstraint("provider", "dedupe_key", name="uq_vendor_events_dedupe"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    provider: str = Field(max_length=32)
    dedupe_key: str = Field(max_length=255)
    event_type: str = Field(max_length=64)
    provider_session_id: str | None = Field(default=None, max_length=255)
    session_id: str | None = Field(default=None, max_length=40, index=True)
    #: applied | stale | unchanged | unknown_status | ignored
    outcome: str = Field(max_length=32)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdempotencyKeyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    #: NULL while the first request holding the key is still creating the session.
    session_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WebhookEndpointRow(SQLModel, table=True):
    """An integrator's receiver for outbound webhooks (docs/webhooks.md). `static` ones come
    from `KYCGW_WEBHOOK_ENDPOINTS` and are managed there, not through GraphQL."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(primary_key=True, max_length=40)
    url: str = Field(max_length=2048)
    description: str = Field(default="", max_length=512)
    #: Event types it receives (`session.status_changed`, `session.final`).
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    #: Vendors whose sessions it hears about; empty = every vendor.
    providers: list[str] = Field(sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=128)
    #: After a rotation the old secret signs too, until `previous_secret_until`.
    previous_secret: str | None = Field(default=None, max_length=128)
    previous_secret_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    static: bool = Field(default=False)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    disabled_reason: str | None = Field(default=None, max_length=256)
    #: First failed attempt since the last success: what disables an endpoint in time.
    failing_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class WebhookMessageRow(SQLModel, table=True):
    """The outbox: one row per outbound event, written in the transaction of its status
    change; the delivery worker fans each out to the endpoints that want it."""

    __tablename__ = "webhook_messages"
    __table_args__ = (Index("ix_webhook_messages_pending", "fanned_out", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    #: The `webhook-id` header: the same for every endpoint and every retry.
    message_id: str = Field(max_length=40, unique=True)
    change_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    session_id: str = Field(max_length=40, index=True)
    provider: str = Field(max_length=32)
    event_type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    fanned_out: bool = Field(default=False)


class WebhookDeliveryRow(SQLModel, table=True):
    """One message to one endpoint: PENDING (due at `next_attempt_at`), SENDING (claimed by a
    worker until `lease_until`), SUCCEEDED or FAILED (retries exhausted, or the endpoint was
    disabled); a FAILED one can be sent again."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "session_id", "id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    message_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("webhook_messages.id"), nullable=False, index=True)
    )
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", max_length=40)
    session_id: str = Field(max_length=40)
    status: str = Field(max_length=16)
    attempt_count: int = Field(default=0)
    #: Attempts since it was last queued (a redelivery starts the schedule again).
    round_attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=512)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class WebhookAttemptRow(SQLModel, table=True):
    """The delivery log: one row per HTTP attempt."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    delivery_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("webhook_deliveries.id"), nullable=False, index=True
        )
    )
    attempted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status_code: int | None = Field(default=None)
    error: str | None = Field(default=None, max_length=512)
    duration_ms: float = Field(default=0.0)


class ImportRunRow(SQLModel, table=True):
    """Where `kyc-gateway import` stands for one vendor and time window: the vendor's list
    cursor after the last page done, so an interrupted import resumes there."""

    __tablename__ = "import_runs"

    #: provider, since and until, e.g. "didit|2026-01-01T00:00:00+00:00|".
    key: str = Field(primary_key=True, max_length=160)
    provider: str = Field(max_length=32)
    cursor: str | None = Field(default=None, max_length=2048)
    listed: int = Field(default=0)
    imported: int = Field(default=0)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
