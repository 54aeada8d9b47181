"""commerce carts, SPU units, report columns

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('commerce_cart_item',
    sa.Column('consumer_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_commerce_cart_item_qty_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['commerce_product.id'], name=op.f('fk_commerce_cart_item_product_id_commerce_product')),
    sa.PrimaryKeyConstraint('consumer_id', 'product_id', name=op.f('pk_commerce_cart_item'))
    )
    with op.batch_alter_table('ad_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_orders', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paid_gmv_fen', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('live_orders', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('live_gmv_fen', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('store_visits', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('ad_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_id', sa.BigInteger(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('ad_unit', schema=None) as batch_op:
        batch_op.drop_column('product_id')

    with op.batch_alter_table('ad_report', schema=None) as batch_op:
        batch_op.drop_column('store_visits')
        batch_op.drop_column('live_gmv_fen')
        batch_op.drop_column('live_orders')
        batch_op.drop_column('paid_gmv_fen')
        batch_op.drop_column('paid_orders')

    op.drop_table('commerce_cart_item')
