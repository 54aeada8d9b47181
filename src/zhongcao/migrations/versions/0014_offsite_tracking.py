"""off-site tracking: postback platforms and advertiser totals

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ad_offsite_total',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('platform', sa.String(length=24), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gmv_fen', sa.BigInteger(), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_ad_offsite_total_account_id_account')),
    sa.PrimaryKeyConstraint('account_id', 'day', 'platform', name=op.f('pk_ad_offsite_total'))
    )
    with op.batch_alter_table('ad_conversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sa.String(length=24), server_default='other', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('ad_conversion', schema=None) as batch_op:
        batch_op.drop_column('platform')

    op.drop_table('ad_offsite_total')
