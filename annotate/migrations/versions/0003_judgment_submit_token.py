"""Submit tokens for exactly-once judgments; pinned versions on judgment revisions.

Adds ``submit_token`` to judgment, judgmentrevision (unique) and pointwiserating, the
shown instruction version and content revision to each judgmentrevision, and a revision
counter to pointwiserating.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _token() -> sa.Column:
    return sa.Column("submit_token", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("judgment", schema=None) as batch_op:
        batch_op.add_column(_token())
    with op.batch_alter_table("judgmentrevision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instruction_version_no", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("content_revision", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(_token())
        batch_op.create_index(batch_op.f("ix_judgmentrevision_submit_token"), ["submit_token"], unique=True)
    with op.batch_alter_table("pointwiserating", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(_token())


def downgrade() -> None:
    with op.batch_alter_table("pointwiserating", schema=None) as batch_op:
        batch_op.drop_column("submit_token")
        batch_op.drop_column("revision")
    with op.batch_alter_table("judgmentrevision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_judgmentrevision_submit_token"))
        batch_op.drop_column("submit_token")
        batch_op.drop_column("content_revision")
        batch_op.drop_column("instruction_version_no")
    with op.batch_alter_table("judgment", schema=None) as batch_op:
        batch_op.drop_column("submit_token")
