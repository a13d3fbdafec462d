"""import runs: where `kyc-gateway import` stands per vendor and window

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

import gateway.store.types


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cursor", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("started_at", gateway.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", gateway.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("import_runs")
