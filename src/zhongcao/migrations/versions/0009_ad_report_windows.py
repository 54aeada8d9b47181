"""ad report: live, DM, shop, lead and off-site windows, and keyword positions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "position_sum",
    "top1_impressions",
    "top3_impressions",
    "top1_clicks",
    "top3_clicks",
    "live_entries",
    "dms",
    "shop_visits",
    "add_to_carts",
    "orders",
    "gmv_fen",
    "leads",
    "valid_leads",
    "offsite_orders_7d",
    "offsite_gmv_7d",
    "offsite_orders_15d",
    "offsite_gmv_15d",
    "offsite_orders_30d",
    "offsite_gmv_30d",
)


def upgrade() -> None:
    with op.batch_alter_table("ad_report", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("ad_report", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
