"""ad campaign billing event: CPC or CPM

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ad_campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("billing_event", sa.String(length=16), server_default="click", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("ad_campaign", schema=None) as batch_op:
        batch_op.drop_column("billing_event")
