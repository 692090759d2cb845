"""Transactions are reversed, not deleted: a reversal is an entry of its own.

Revision ID: 0011
Revises: 0010

Reversing a transaction appends a reversal entry (`reverses` names the transaction it
reverses, at most one per transaction) and marks both inactive; the ledger replays active
entries only. The reversed transaction stays, unchanged but for `active`, so the listing and
the audit trail show what was booked, when it was reversed and why.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reverses", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_index(
        "ux_transactions_reverses", "transactions", ["portfolio_id", "reverses"], unique=True
    )


def downgrade() -> None:
    # Reversed transactions leave the ledger, as deleting them did before 0011.
    op.execute("DELETE FROM transactions WHERE NOT active")
    op.drop_index("ux_transactions_reverses", table_name="transactions")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("reverses")
