"""A review note on material versions: a rejected pruning says why, like a rejected instruction.

Existing rows get an empty note.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("materialversion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("materialversion", schema=None) as batch_op:
        batch_op.drop_column("review_note")
