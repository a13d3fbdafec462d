"""outbound webhooks: endpoints, the outbox, deliveries and their attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import gateway.store.types


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, gateway.store.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        _text("id", 40),
        _text("url", 2048),
        _text("description", 512),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("providers", sa.JSON(), nullable=False),
        _text("secret", 128),
        _text("previous_secret", 128, nullable=True),
        _time("previous_secret_until"),
        sa.Column("static", sa.Boolean(), nullable=False),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        _time("disabled_at"),
        _text("disabled_reason", 256, nullable=True),
        _time("failing_since"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_messages",
        sa.Column("id", BIG_ID, nullable=False),
        _text("message_id", 40),
        sa.Column("change_id", sa.BigInteger(), nullable=False),
        _text("session_id", 40),
        _text("provider", 32),
        _text("event_type", 64),
        sa.Column("payload", sa.JSON(), nullable=False),
        _time("created_at", nullable=False),
        sa.Column("fanned_out", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(
        op.f("ix_webhook_messages_session_id"), "webhook_messages", ["session_id"], unique=False
    )
    op.create_index("ix_webhook_messages_pending", "webhook_messages", ["fanned_out", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        _text("endpoint_id", 40),
        _text("session_id", 40),
        _text("status", 16),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("round_attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        _time("lease_until"),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        _text("last_error", 512, nullable=True),
        _time("created_at", nullable=False),
        _time("finished_at"),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoints.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["webhook_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webhook_deliveries_message_id"), "webhook_deliveries", ["message_id"])
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_order", "webhook_deliveries", ["endpoint_id", "session_id", "id"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        _time("attempted_at", nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        _text("error", 512, nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_messages")
    op.drop_table("webhook_endpoints")
