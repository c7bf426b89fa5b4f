"""History of pointwise ratings: ``pointwiseratingrevision``, one row per submitted revision.

A revised rating used to be overwritten in place (only its ``revision`` counter went up).
Existing ratings get one history row each, holding their current values under their
current revision number (what they were before that is not known).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pointwiseratingrevision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("error_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column("instruction_version_no", sa.Integer(), nullable=False),
        sa.Column("content_revision", sa.Integer(), nullable=False),
        sa.Column("submit_token", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["rating_id"], ["pointwiserating.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rating_id", "revision"),
    )
    op.create_index("ix_pointwiseratingrevision_submit_token", "pointwiseratingrevision", ["submit_token"],
                    unique=True)
    op.execute(
        "INSERT INTO pointwiseratingrevision (rating_id, revision, score, error_type, rationale, elapsed_s, "
        "instruction_version_no, content_revision, submit_token, created_at) "
        "SELECT id, revision, score, error_type, rationale, elapsed_s, instruction_version_no, content_revision, "
        "submit_token, updated_at FROM pointwiserating")


def downgrade() -> None:
    op.drop_index("ix_pointwiseratingrevision_submit_token", table_name="pointwiseratingrevision")
    op.drop_table("pointwiseratingrevision")
