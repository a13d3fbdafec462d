"""session results: checks, person, documents, expected person; session_checks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import gateway.store.types


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        for name in ("checks", "person", "documents", "expected_person"):
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))
    op.create_table(
        "session_checks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("provider_name", sa.String(length=128), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("recorded_at", gateway.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_session_checks_provider_kind",
        "session_checks",
        ["provider", "kind", "outcome"],
        unique=False,
    )
    op.create_index(
        op.f("ix_session_checks_session_id"), "session_checks", ["session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_session_checks_session_id"), table_name="session_checks")
    op.drop_index("ix_session_checks_provider_kind", table_name="session_checks")
    op.drop_table("session_checks")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        for name in ("expected_person", "documents", "person", "checks"):
            batch_op.drop_column(name)
