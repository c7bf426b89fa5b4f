"""Login that survives a reload, and login limits by client address.

* ``user.session_epoch``: the app's session cookies carry it; "Log out" raises it, so every
  cookie issued before is refused.
* ``loginattempt.client_address``: where an attempt came from (the socket's address, or a
  configured trusted proxy header), so failures are limited per address and per
  (address, username). Earlier rows get an empty address.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("loginattempt") as batch:
        batch.add_column(sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64),
                                   nullable=False, server_default=""))
    op.create_index("ix_loginattempt_client_address", "loginattempt", ["client_address"])


def downgrade() -> None:
    op.drop_index("ix_loginattempt_client_address", table_name="loginattempt")
    with op.batch_alter_table("loginattempt") as batch:
        batch.drop_column("client_address")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_epoch")
