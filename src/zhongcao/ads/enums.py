"""Juguang's (聚光) own enums, as its users know them (FIELD_FACTS §1 [O]).

The API speaks in names; ``OFFICIAL`` keeps each name's numeric code from the platform's API, so an
export or an import from the real platform maps one to one.
"""

from __future__ import annotations

from enum import StrEnum


class Objective(StrEnum):
    """营销诉求: what the campaign is for."""

    PRODUCT_SALES = "product_sales"
    SEEDING = "seeding"                      # 产品种草
    LIVE_PROMOTION = "live_promotion"
    LEAD_COLLECTION = "lead_collection"      # 客资收集
    KEYWORD_CAPTURE = "keyword_capture"      # 抢占赛道
    STORE_TRAFFIC = "store_traffic"          # seeding direct-to-store
    LIVE_WARMUP = "live_warmup"
    SHOP_NEW_CUSTOMERS = "shop_new_customers"
    APP_PROMOTION = "app_promotion"


class Placement(StrEnum):
    FEED = "feed"          # 信息流
    SEARCH = "search"
    ALL_SITE = "all_site"  # 全站智投: the platform places it in feed and search


class Bidding(StrEnum):
    MANUAL = "manual"
    COST_CONTROL = "cost_control"  # auto bid, automatic cost control
    COST_CAP = "cost_cap"          # auto bid, the advertiser's cost cap


class OptimizeFor(StrEnum):
    CLICK = "click"
    ENGAGEMENT = "engagement"
    LEAD = "lead"                  # form leads
    ORDER = "order"
    DM_CONSULT = "dm_consult"
    LIVE_VIEW = "live_view"
    SHOP_VISITOR = "shop_visitor"
    DM_OPENER = "dm_opener"
    LIVE_ORDER = "live_order"


class BillingEvent(StrEnum):
    """What the advertiser pays for: a click (CPC, bids per click) or impressions (CPM, bids per thousand)."""

    CLICK = "click"
    IMPRESSION = "impression"


class Pacing(StrEnum):
    EVEN = "even"                  # 匀速
    ACCELERATED = "accelerated"


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DELETED = "deleted"


class TargetingType(StrEnum):
    ALL = "all"
    SMART = "smart"
    ADVANCED = "advanced"


class Match(StrEnum):
    EXACT = "exact"
    PHRASE = "phrase"
    SMART = "smart"


class Component(StrEnum):
    """What a creative adds to its note."""

    LANDING_PAGE = "landing_page"
    DM = "dm"
    STORE_POI = "store_poi"
    LEAD_FORM = "lead_form"
    SEARCH_COMPONENT = "search_component"
    MINI_PROGRAM = "mini_program"


OFFICIAL: dict[StrEnum, int] = {
    Objective.PRODUCT_SALES: 3, Objective.SEEDING: 4, Objective.LIVE_PROMOTION: 8, Objective.LEAD_COLLECTION: 9,
    Objective.KEYWORD_CAPTURE: 10, Objective.STORE_TRAFFIC: 13, Objective.LIVE_WARMUP: 14,
    Objective.SHOP_NEW_CUSTOMERS: 15, Objective.APP_PROMOTION: 16,
    Placement.FEED: 1, Placement.SEARCH: 2, Placement.ALL_SITE: 4,
    Bidding.MANUAL: 2, Bidding.COST_CONTROL: 3, Bidding.COST_CAP: 7,
    OptimizeFor.CLICK: 0, OptimizeFor.ENGAGEMENT: 1, OptimizeFor.LEAD: 3, OptimizeFor.ORDER: 4,
    OptimizeFor.DM_CONSULT: 5, OptimizeFor.LIVE_VIEW: 6, OptimizeFor.SHOP_VISITOR: 11, OptimizeFor.DM_OPENER: 13,
    OptimizeFor.LIVE_ORDER: 24,
    Pacing.EVEN: 1, Pacing.ACCELERATED: 2,
}

# Which goals each objective may optimize for: our reading of the platform's campaign builder.
GOALS: dict[Objective, frozenset[OptimizeFor]] = {
    Objective.PRODUCT_SALES: frozenset({OptimizeFor.CLICK, OptimizeFor.ORDER, OptimizeFor.SHOP_VISITOR}),
    Objective.SEEDING: frozenset({OptimizeFor.CLICK, OptimizeFor.ENGAGEMENT}),
    Objective.LIVE_PROMOTION: frozenset({OptimizeFor.LIVE_VIEW, OptimizeFor.LIVE_ORDER}),
    Objective.LEAD_COLLECTION: frozenset({OptimizeFor.CLICK, OptimizeFor.LEAD, OptimizeFor.DM_CONSULT,
                                          OptimizeFor.DM_OPENER}),
    Objective.KEYWORD_CAPTURE: frozenset({OptimizeFor.CLICK, OptimizeFor.ENGAGEMENT}),
    Objective.STORE_TRAFFIC: frozenset({OptimizeFor.CLICK, OptimizeFor.ENGAGEMENT, OptimizeFor.DM_CONSULT}),
    Objective.LIVE_WARMUP: frozenset({OptimizeFor.CLICK, OptimizeFor.ENGAGEMENT}),
    Objective.SHOP_NEW_CUSTOMERS: frozenset({OptimizeFor.CLICK, OptimizeFor.ORDER, OptimizeFor.SHOP_VISITOR}),
    Objective.APP_PROMOTION: frozenset({OptimizeFor.CLICK}),
}

AGE_BUCKETS = ("18-22", "23-27", "28-32", "32-100")  # as the platform labels them
GENDERS = ("male", "female")
DEVICES = ("ios", "android")
KEYWORD_ACTIONS = ("searched", "engaged", "read")
KEYWORD_DAYS = (3, 7, 15, 30)
FAN_DAYS = (30, 90)
FAN_TRAFFIC = ("ad", "organic", "all")
