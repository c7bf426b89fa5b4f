"""Judge scores may be real numbers: ``tow`` root scores are weighted means of leaf scores.

``judgescore.score`` changes from INTEGER to a floating-point column; stored whole-number scores
keep their values. Downgrading rounds nothing: it casts back to INTEGER, which truncates any
real-valued (``tow``) score, so export those runs first.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("judgescore", schema=None) as batch_op:
        batch_op.alter_column("score", existing_type=sa.Integer(), type_=sa.Float(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("judgescore", schema=None) as batch_op:
        batch_op.alter_column("score", existing_type=sa.Float(), type_=sa.Integer(), existing_nullable=False)
