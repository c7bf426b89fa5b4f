"""Instruction version 1 stored by reference to the query's original text.

``instructionversion.text`` becomes nullable; NULL means "the query's ``original_text``".
An import writes version 1 that way instead of a second copy of every query. Existing
rows whose version 1 repeats the original text are set to NULL (the copy is dropped);
the downgrade writes the copies back before the column is made NOT NULL again.

Also drops two indexes that duplicated the leading column of a unique constraint
(``instructionversion.query_id``, ``criterion.criteria_set_id``): every insert paid for them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ORIGINAL = 'SELECT q.original_text FROM "query" q WHERE q.id = instructionversion.query_id'


def upgrade() -> None:
    op.drop_index("ix_instructionversion_query_id", table_name="instructionversion")
    op.drop_index("ix_criterion_criteria_set_id", table_name="criterion")
    with op.batch_alter_table("instructionversion", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=True)
    op.execute(f"UPDATE instructionversion SET text = NULL WHERE version_no = 1 AND text = ({_ORIGINAL})")


def downgrade() -> None:
    op.execute(f"UPDATE instructionversion SET text = ({_ORIGINAL}) WHERE text IS NULL")
    with op.batch_alter_table("instructionversion", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=False)
    op.create_index("ix_criterion_criteria_set_id", "criterion", ["criteria_set_id"])
    op.create_index("ix_instructionversion_query_id", "instructionversion", ["query_id"])
