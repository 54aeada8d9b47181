"""commerce: products, shops, orders, live, DMs, leads, webhooks, POI, pushes, UGC, followers

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('content_follower',
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('followed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'consumer_id', name=op.f('pk_content_follower'))
    )
    op.create_table('commerce_conversation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seat_account_id', sa.BigInteger(), nullable=True),
    sa.Column('seat_member_id', sa.BigInteger(), nullable=True),
    sa.Column('consumer_messages', sa.Integer(), nullable=False),
    sa.Column('account_messages', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('first_consumer_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=400), nullable=False),
    sa.Column('note_id', sa.BigInteger(), nullable=True),
    sa.Column('live_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('unit_id', sa.BigInteger(), nullable=True),
    sa.Column('creative_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("source_kind IN ('note', 'ad', 'live', 'search', 'profile', 'follow', 'push')", name=op.f('ck_commerce_conversation_source_kind_allowed')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_conversation_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_conversation'))
    )
    with op.batch_alter_table('commerce_conversation', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_conversation_account', ['account_id', 'created_at'], unique=False)

    op.create_table('commerce_featured_note',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('note_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('featured_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_featured_note_account_id_account')),
    sa.PrimaryKeyConstraint('account_id', 'note_id', name=op.f('pk_commerce_featured_note'))
    )
    op.create_table('commerce_live_session',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('host_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('pinned_product_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'live', 'ended')", name=op.f('ck_commerce_live_session_status_allowed')),
    sa.ForeignKeyConstraint(['host_account_id'], ['account.id'], name=op.f('fk_commerce_live_session_host_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_live_session'))
    )
    with op.batch_alter_table('commerce_live_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_live_session_host_account_id'), ['host_account_id'], unique=False)

    op.create_table('commerce_order',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), nullable=False),
    sa.Column('seller_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('shipped_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=400), nullable=False),
    sa.Column('note_id', sa.BigInteger(), nullable=True),
    sa.Column('live_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('unit_id', sa.BigInteger(), nullable=True),
    sa.Column('creative_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("source_kind IN ('note', 'ad', 'live', 'search', 'profile', 'follow', 'push')", name=op.f('ck_commerce_order_source_kind_allowed')),
    sa.CheckConstraint("status IN ('created', 'paid', 'shipped', 'completed', 'refunded', 'cancelled')", name=op.f('ck_commerce_order_status_allowed')),
    sa.ForeignKeyConstraint(['seller_id'], ['account.id'], name=op.f('fk_commerce_order_seller_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_order'))
    )
    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_order_consumer_id'), ['consumer_id'], unique=False)
        batch_op.create_index('ix_commerce_order_live', ['live_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_commerce_order_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index('ix_commerce_order_status_created', ['status', 'created_at'], unique=False)

    op.create_table('commerce_poi',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('city', sa.String(length=20), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_poi_account_id_account')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_commerce_poi'))
    )
    with op.batch_alter_table('commerce_poi', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_poi_city'), ['city'], unique=False)

    op.create_table('commerce_product',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('stock', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_commerce_product_price_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_commerce_product_stock_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_product_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_product'))
    )
    with op.batch_alter_table('commerce_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_product_account_id'), ['account_id'], unique=False)

    op.create_table('commerce_push',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('audience', sa.String(length=32), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('limited', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_push_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_push'))
    )
    with op.batch_alter_table('commerce_push', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_push_account_id'), ['account_id'], unique=False)

    op.create_table('commerce_shop',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('followers_at_open', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_shop_account_id_account')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_commerce_shop'))
    )
    op.create_table('commerce_webhook',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_webhook_account_id_account')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_commerce_webhook'))
    )
    op.create_table('commerce_lead',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('valid_at', sa.DateTime(), nullable=True),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=400), nullable=False),
    sa.Column('note_id', sa.BigInteger(), nullable=True),
    sa.Column('live_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('unit_id', sa.BigInteger(), nullable=True),
    sa.Column('creative_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("kind IN ('phone', 'wecom')", name=op.f('ck_commerce_lead_kind_allowed')),
    sa.CheckConstraint("source_kind IN ('note', 'ad', 'live', 'search', 'profile', 'follow', 'push')", name=op.f('ck_commerce_lead_source_kind_allowed')),
    sa.CheckConstraint("status IN ('new', 'contacted', 'valid', 'won', 'lost')", name=op.f('ck_commerce_lead_status_allowed')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_lead_account_id_account')),
    sa.ForeignKeyConstraint(['conversation_id'], ['commerce_conversation.id'], name=op.f('fk_commerce_lead_conversation_id_commerce_conversation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_lead'))
    )
    with op.batch_alter_table('commerce_lead', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_lead_account', ['account_id', 'id'], unique=False)

    op.create_table('commerce_live_activity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('live_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('comment', 'follow')", name=op.f('ck_commerce_live_activity_kind_allowed')),
    sa.ForeignKeyConstraint(['live_id'], ['commerce_live_session.id'], name=op.f('fk_commerce_live_activity_live_id_commerce_live_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_live_activity'))
    )
    with op.batch_alter_table('commerce_live_activity', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_live_activity', ['live_id', 'kind'], unique=False)

    op.create_table('commerce_live_product',
    sa.Column('live_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['live_id'], ['commerce_live_session.id'], name=op.f('fk_commerce_live_product_live_id_commerce_live_session')),
    sa.ForeignKeyConstraint(['product_id'], ['commerce_product.id'], name=op.f('fk_commerce_live_product_product_id_commerce_product')),
    sa.PrimaryKeyConstraint('live_id', 'product_id', name=op.f('pk_commerce_live_product'))
    )
    op.create_table('commerce_live_reservation',
    sa.Column('live_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['live_id'], ['commerce_live_session.id'], name=op.f('fk_commerce_live_reservation_live_id_commerce_live_session')),
    sa.PrimaryKeyConstraint('live_id', 'consumer_id', name=op.f('pk_commerce_live_reservation'))
    )
    op.create_table('commerce_live_viewer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), nullable=False),
    sa.Column('replay', sa.Boolean(), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.Column('watch_seconds', sa.Integer(), nullable=True),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=400), nullable=False),
    sa.Column('note_id', sa.BigInteger(), nullable=True),
    sa.Column('live_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('unit_id', sa.BigInteger(), nullable=True),
    sa.Column('creative_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("source_kind IN ('note', 'ad', 'live', 'search', 'profile', 'follow', 'push')", name=op.f('ck_commerce_live_viewer_source_kind_allowed')),
    sa.ForeignKeyConstraint(['session_id'], ['commerce_live_session.id'], name=op.f('fk_commerce_live_viewer_session_id_commerce_live_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_live_viewer'))
    )
    with op.batch_alter_table('commerce_live_viewer', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_live_viewer_open', ['session_id', 'consumer_id', 'left_at'], unique=False)

    op.create_table('commerce_message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sender', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('masked', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("sender IN ('consumer', 'account')", name=op.f('ck_commerce_message_sender_allowed')),
    sa.ForeignKeyConstraint(['conversation_id'], ['commerce_conversation.id'], name=op.f('fk_commerce_message_conversation_id_commerce_conversation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_message'))
    )
    with op.batch_alter_table('commerce_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_message_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('commerce_order_item',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('qty > 0', name=op.f('ck_commerce_order_item_qty_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['commerce_order.id'], name=op.f('fk_commerce_order_item_order_id_commerce_order')),
    sa.ForeignKeyConstraint(['product_id'], ['commerce_product.id'], name=op.f('fk_commerce_order_item_product_id_commerce_product')),
    sa.PrimaryKeyConstraint('order_id', 'product_id', name=op.f('pk_commerce_order_item'))
    )
    op.create_table('commerce_push_receipt',
    sa.Column('push_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('consumer_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['push_id'], ['commerce_push.id'], name=op.f('fk_commerce_push_receipt_push_id_commerce_push')),
    sa.PrimaryKeyConstraint('push_id', 'consumer_id', name=op.f('pk_commerce_push_receipt'))
    )
    with op.batch_alter_table('commerce_push_receipt', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_push_receipt_limit', ['account_id', 'consumer_id', 'at'], unique=False)

    op.create_table('commerce_visit_code',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.BigInteger(), nullable=True),
    sa.Column('consumer_id', sa.BigInteger(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['commerce_conversation.id'], name=op.f('fk_commerce_visit_code_conversation_id_commerce_conversation')),
    sa.ForeignKeyConstraint(['store_id'], ['account.id'], name=op.f('fk_commerce_visit_code_store_id_account')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_commerce_visit_code'))
    )
    with op.batch_alter_table('commerce_visit_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_visit_code_store_id'), ['store_id'], unique=False)

    op.create_table('commerce_webhook_delivery',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f('ck_commerce_webhook_delivery_status_allowed')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_commerce_webhook_delivery_account_id_account')),
    sa.ForeignKeyConstraint(['lead_id'], ['commerce_lead.id'], name=op.f('fk_commerce_webhook_delivery_lead_id_commerce_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_webhook_delivery')),
    sa.UniqueConstraint('account_id', 'lead_id', name=op.f('uq_commerce_webhook_delivery_account_id'))
    )
    with op.batch_alter_table('commerce_webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_webhook_delivery_due', ['status', 'next_at'], unique=False)

    op.create_table('commerce_webhook_attempt',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['commerce_webhook_delivery.id'], name=op.f('fk_commerce_webhook_attempt_delivery_id_commerce_webhook_delivery')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_webhook_attempt'))
    )
    with op.batch_alter_table('commerce_webhook_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_webhook_attempt_delivery_id'), ['delivery_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('commerce_webhook_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_webhook_attempt_delivery_id'))

    op.drop_table('commerce_webhook_attempt')
    with op.batch_alter_table('commerce_webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_webhook_delivery_due')

    op.drop_table('commerce_webhook_delivery')
    with op.batch_alter_table('commerce_visit_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_visit_code_store_id'))

    op.drop_table('commerce_visit_code')
    with op.batch_alter_table('commerce_push_receipt', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_push_receipt_limit')

    op.drop_table('commerce_push_receipt')
    op.drop_table('commerce_order_item')
    with op.batch_alter_table('commerce_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_message_conversation_id'))

    op.drop_table('commerce_message')
    with op.batch_alter_table('commerce_live_viewer', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_live_viewer_open')

    op.drop_table('commerce_live_viewer')
    op.drop_table('commerce_live_reservation')
    op.drop_table('commerce_live_product')
    with op.batch_alter_table('commerce_live_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_live_activity')

    op.drop_table('commerce_live_activity')
    with op.batch_alter_table('commerce_lead', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_lead_account')

    op.drop_table('commerce_lead')
    op.drop_table('commerce_webhook')
    op.drop_table('commerce_shop')
    with op.batch_alter_table('commerce_push', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_push_account_id'))

    op.drop_table('commerce_push')
    with op.batch_alter_table('commerce_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_product_account_id'))

    op.drop_table('commerce_product')
    with op.batch_alter_table('commerce_poi', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_poi_city'))

    op.drop_table('commerce_poi')
    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_order_status_created')
        batch_op.drop_index(batch_op.f('ix_commerce_order_seller_id'))
        batch_op.drop_index('ix_commerce_order_live')
        batch_op.drop_index(batch_op.f('ix_commerce_order_consumer_id'))

    op.drop_table('commerce_order')
    with op.batch_alter_table('commerce_live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_live_session_host_account_id'))

    op.drop_table('commerce_live_session')
    op.drop_table('commerce_featured_note')
    with op.batch_alter_table('commerce_conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_conversation_account')

    op.drop_table('commerce_conversation')
    op.drop_table('content_follower')
