"""Active time per showing of a task.

``taskshowing`` holds one row per (task, revision to come): the active seconds the browser
reported for it (summed across reloads), the time of the last heartbeat and when it was
submitted. Each answer and answer revision gets ``active_s``, copied from its showing at
submit; rows stored before keep ``NULL``.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ANSWER_TABLES = ("judgment", "judgmentrevision", "pointwiserating", "pointwiseratingrevision")


def upgrade() -> None:
    op.create_table(
        "taskshowing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("active_s", sa.Float(), nullable=False),
        sa.Column("last_beat_at", sa.Float(), nullable=True),
        sa.Column("submitted_at", sa.Float(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", "revision"),
    )
    for table in ANSWER_TABLES:
        op.add_column(table, sa.Column("active_s", sa.Float(), nullable=True))


def downgrade() -> None:
    for table in ANSWER_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("active_s")
    op.drop_table("taskshowing")
