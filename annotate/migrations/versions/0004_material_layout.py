"""Material placement and joiner: where a material goes relative to the instruction.

Adds ``placement`` ("after"|"before") and ``joiner`` (the exact text between the
instruction and the material) to ``materialdocument``, so that a query split into
instruction and material renders back to its original text byte for byte.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("materialdocument", schema=None) as batch_op:
        batch_op.add_column(sa.Column("placement", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                      server_default="after"))
        batch_op.add_column(sa.Column("joiner", sa.Text(), nullable=False, server_default="\n\n"))


def downgrade() -> None:
    with op.batch_alter_table("materialdocument", schema=None) as batch_op:
        batch_op.drop_column("joiner")
        batch_op.drop_column("placement")
