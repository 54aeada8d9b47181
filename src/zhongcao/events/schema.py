"""One typed schema for every event the platform records.

Kinds and surfaces are small integer codes: stable forever, never reused, only appended, so a later
slice adds a kind without forking the schema or rewriting history.
"""

from __future__ import annotations

import enum

import pyarrow as pa


class EventKind(enum.IntEnum):
    IMPRESSION = 1
    READ = 2
    LIKE = 3
    COLLECT = 4
    COMMENT = 5
    SHARE = 6
    FOLLOW = 7
    SEARCH = 8
    DM = 9
    LEAD = 10
    SHOP_VISIT = 11
    ADD_TO_CART = 12
    ORDER = 13
    AD_IMPRESSION = 14
    AD_CLICK = 15
    AD_CHARGE = 16
    LIVE_VIEW = 17
    VALID_LEAD = 18      # a lead the advertiser confirmed, posted back
    OFFSITE_ORDER = 19   # an order in an off-platform shop, posted back through a tracked link
    REFUND = 20          # value_fen: what went back to the consumer
    LIVE_ORDER = 21      # an order placed in a live room (ORDER is every other on-platform order)
    STORE_VISIT = 22     # a visit code redeemed at a store (POI)
    PUSH = 23            # a targeted message push reached a consumer
    ORDER_PAID = 24      # an order (shop or live) was paid; value_fen is its total


class Surface(enum.IntEnum):
    FEED = 1
    SEARCH = 2
    LIVE = 3
    PROFILE = 4
    SHOP = 5
    DM = 6
    PUSH = 7


# (name, Arrow type, DuckDB type, required). Order is the storage order; new columns go at the end.
COLUMNS: list[tuple[str, pa.DataType, str, bool]] = [
    ("event_id", pa.uint64(), "UBIGINT", True),        # time-ordered, unique: see ids.py
    ("ts", pa.timestamp("us"), "TIMESTAMP", True),      # UTC
    ("kind", pa.uint8(), "UTINYINT", True),             # EventKind
    ("consumer_id", pa.uint64(), "UBIGINT", False),
    ("brand_id", pa.int64(), "BIGINT", False),
    ("store_id", pa.int64(), "BIGINT", False),
    ("creator_id", pa.int64(), "BIGINT", False),
    ("note_id", pa.int64(), "BIGINT", False),
    ("campaign_id", pa.int64(), "BIGINT", False),
    ("unit_id", pa.int64(), "BIGINT", False),
    ("creative_id", pa.int64(), "BIGINT", False),
    ("surface", pa.uint8(), "UTINYINT", False),         # Surface
    ("position", pa.int16(), "SMALLINT", False),        # 1-based slot
    ("query", pa.string(), "VARCHAR", False),
    ("price_fen", pa.int64(), "BIGINT", False),         # what was charged (ads)
    ("value_fen", pa.int64(), "BIGINT", False),         # what was bought (orders, leads)
    ("policy", pa.string(), "VARCHAR", False),          # which serving policy chose this exposure
    ("propensity", pa.float32(), "FLOAT", False),       # its probability under that policy
    ("lease_id", pa.int64(), "BIGINT", False),          # the budget lease an ad charge drew on
    ("keyword_id", pa.int64(), "BIGINT", False),        # the keyword that triggered a search ad
    ("product_id", pa.int64(), "BIGINT", False),        # commerce: the SPU added to cart
    ("order_id", pa.int64(), "BIGINT", False),
    ("live_id", pa.int64(), "BIGINT", False),           # the live session
    ("conversation_id", pa.int64(), "BIGINT", False),   # the DM conversation
    ("lead_id", pa.int64(), "BIGINT", False),
    ("source", pa.string(), "VARCHAR", False),          # what brought the consumer: note, ad, live, search, ...
    ("quantity", pa.int32(), "INTEGER", False),         # items ordered, or seconds a live viewer watched
]
NAMES = [c[0] for c in COLUMNS]
REQUIRED = {c[0] for c in COLUMNS if c[3]}
ARROW_SCHEMA = pa.schema([pa.field(name, typ, nullable=not req) for name, typ, _, req in COLUMNS])
