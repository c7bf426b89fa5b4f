"""Experts resolve the flags annotators set on judgments ("Problem with the query", ...).

``flagresolution`` is append-only: one row per resolution or reopening of a judgment's flag,
with the expert, the time, the note and the new status. Existing judgments keep their flags;
with no row, a flag is open.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flagresolution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("judgment_id", sa.Integer(), nullable=False),
        sa.Column("flag", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["judgment_id"], ["judgment.id"]),
        sa.ForeignKeyConstraint(["expert_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flagresolution_judgment_id", "flagresolution", ["judgment_id"])


def downgrade() -> None:
    op.drop_index("ix_flagresolution_judgment_id", table_name="flagresolution")
    op.drop_table("flagresolution")
