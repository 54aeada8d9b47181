"""Request bodies. Unknown fields are refused, and money is a strict integer of fen: "100" or 1.5 is an
error, never a guess."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Fen = Annotated[int, Field(strict=True, description="integer fen (1/100 yuan)")]
Id = Annotated[int, Field(strict=True, ge=1)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCreate(Body):
    kind: str = Field(description="brand | store | distributor | agency | creator | consumer")
    name: str


class CertificationDecision(Body):
    decision: str = Field(description="approve | reject")


class ApiKeyCreate(Body):
    member_id: Id | None = None
    label: str = ""


class MemberCreate(Body):
    name: str
    role: str = Field(description="admin | operator | analyst | finance")


class AuthorizationCreate(Body):
    sub_account_id: Id


class KosCreate(Body):
    account_id: Id


class AgencyGrantCreate(Body):
    agency_id: Id
    scopes: list[str] = Field(description="any of read, operate, finance")


class TopUp(Body):
    amount_fen: Fen
    idempotency_key: str
    note: str = ""


class Allocation(Body):
    to_account_id: Id
    amount_fen: Fen
    idempotency_key: str | None = None


class Reclaim(Body):
    from_account_id: Id
    amount_fen: Fen
    idempotency_key: str | None = None


class Money(Body):
    amount_fen: Fen
    idempotency_key: str | None = None


class LeaseCreate(Body):
    amount_fen: Fen
    ttl_seconds: Annotated[int, Field(strict=True)] = 30
    holder: str = Field(default="", description="which serving process holds the lease")


class PoolLeaseCreate(LeaseCreate):
    store_id: Id


class LeaseCommitBody(Body):
    spent_fen: Fen = Field(description="the lease's cumulative spend so far, not an increment")


class LeaseCommitItem(LeaseCommitBody):
    lease_id: Id


class LeaseCommitBatch(Body):
    commits: list[LeaseCommitItem] = Field(max_length=10_000)


class LeaseRelease(Body):
    spent_fen: Fen | None = None


class NoteCreate(Body):
    author_id: Id
    title: str
    body: str = ""
    topics: list[str] = Field(default_factory=list, description="#tags; the # is optional")
    kind: str = Field(default="image", description="image | video")
    category: str | None = Field(default=None, description="a taxonomy code (GET /v1/categories); default other")
    sponsored: bool = Field(default=False, description="the author declares a paid partnership; notes from "
                            "marketplace deals are published by POST /v1/collaborations/{id}/publish")
    product_ids: list[int] = Field(default_factory=list)


class NoteStatusSet(Body):
    status: str = Field(description="published | in_review | restricted | deleted")
    reason: str = Field(default="", description="Kept in the audit log.")


class EngagementCreate(Body):
    consumer_id: Id
    kind: str = Field(description="read | like | collect | comment | share | follow")


class PoolCreate(Body):
    name: str


class PoolMemberSet(Body):
    store_id: Id
    daily_cap_fen: Fen


class CampaignFields(Body):
    name: str | None = None
    objective: str | None = Field(default=None, description="seeding | product_sales | lead_collection | "
                                  "live_promotion | live_warmup | store_traffic | keyword_capture | "
                                  "shop_new_customers | app_promotion")
    placement: str | None = Field(default=None, description="feed | search | all_site")
    bidding: str | None = Field(default=None, description="manual | cost_control | cost_cap")
    optimize_for: str | None = Field(default=None, description="click | engagement | lead | order | dm_consult | "
                                     "live_view | shop_visitor | dm_opener | live_order")
    daily_budget_fen: Fen | None = Field(default=None, description="null: unlimited; else 10,000..99,999,900")
    pacing: str | None = Field(default=None, description="even | accelerated")
    start_date: date | None = None
    end_date: date | None = None
    dayparts: list[str] | None = Field(default=None, description="7 strings (Monday first) of 24 characters 0/1, "
                                       "hours of the budget day (UTC+8)")
    holiday_uplift: bool | None = None
    billing_event: str | None = Field(default=None, description="click (CPC, the default) | impression (CPM: "
                                      "manual bids in fen per thousand impressions)")
    quick_cast: bool | None = Field(default=None, description="a feed campaign also serves in search")
    quick_cast_coefficient: float | None = Field(default=None, description="1.0..2.0")

    def given(self) -> dict[str, Any]:
        """The fields the client sent: the spec's defaults stand for the others."""
        return self.model_dump(exclude_unset=True, exclude={"account_id"})


class CampaignCreate(CampaignFields):
    account_id: Id


class UnitFields(Body):
    name: str | None = None
    bid_fen: Fen | None = Field(default=None, description="manual bidding: the bid per result")
    target_cost_fen: Fen | None = Field(default=None, description="auto bidding: the target (cost control) or "
                                        "the cap (cost cap)")
    note_ids: list[int] | None = None
    product_id: Id | None = Field(default=None, description="SPU seeding: the product all 5–50 notes link")
    targeting: dict[str, Any] | None = Field(default=None, description="type all | smart | advanced, then genders, "
                                             "ages, devices, cities, interests, keyword_behaviour, "
                                             "audience_packages, expansion, creator_fans")

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"campaign_id"})


class UnitCreate(UnitFields):
    campaign_id: Id
    keywords: list[dict[str, Any]] = Field(default_factory=list, description="[{keyword, match, bid_fen}]")
    negative_keywords: list[str] = Field(default_factory=list)


class KeywordsAdd(Body):
    keywords: list[Any] = Field(description="[{keyword, match, bid_fen}], or plain words when negative")
    negative: bool = False


class KeywordUpdate(Body):
    bid_fen: Fen | None = None
    match: str | None = Field(default=None, description="exact | phrase | smart")


class CreativeCreate(Body):
    unit_id: Id
    note_id: Id
    component: dict[str, Any] = Field(description="{kind: landing_page | dm | store_poi | lead_form | "
                                      "search_component | mini_program, url?, store_id?, text?, app_id?}")


class StatusUpdate(Body):
    level: str = Field(description="campaign | unit | creative | keyword")
    ids: list[int]
    status: str = Field(description="active | paused | deleted")


class AdClickCreate(Body):
    click_id: str = Field(max_length=200, description="the click_id of an ad item in a feed or search page")


class ProductCreate(Body):
    account_id: Id
    name: str
    price_fen: Fen
    category: str = Field(description="a taxonomy code (GET /v1/categories)")
    stock: Annotated[int, Field(strict=True)]


class Restock(Body):
    delta: Annotated[int, Field(strict=True, description="units to add; negative withdraws")]


class SourceRef(Body):
    kind: str = Field(description="note | ad | live | search | profile | follow | push")
    id: str | int = Field(description="a note, live session or push id; an account id (profile: its page; follow: "
                          "the followed account); an ad click id; a search query")


class OrderLine(Body):
    product_id: Id
    qty: Annotated[int, Field(strict=True)]


class OrderCreate(Body):
    consumer_id: Id
    items: list[OrderLine]
    source: SourceRef


class LiveCreate(Body):
    host_account_id: Id
    title: str
    product_ids: list[int] = Field(default_factory=list)
    scheduled_at: datetime | None = None


class LivePin(Body):
    product_id: Id | None = None


class ConsumerRef(Body):
    consumer_id: Id


class ViewerJoin(Body):
    consumer_id: Id
    source: SourceRef


class LiveActivity(Body):
    consumer_id: Id
    kind: str = Field(description="comment | follow")
    text: str = ""


class ConversationCreate(Body):
    consumer_id: Id
    account_id: Id
    origin: SourceRef


class MessageCreate(Body):
    sender: str = Field(description="consumer | account")
    text: str


class SeatAssign(Body):
    member_id: Id | None = None
    kos_account_id: Id | None = None


class LeadCardCreate(Body):
    kind: str = Field(description="phone | wecom")
    value: str = Field(max_length=64)


class LeadStatusSet(Body):
    status: str = Field(description="new | contacted | valid | won | lost")


class WebhookSet(Body):
    url: str


class PoiSet(Body):
    name: str
    address: str
    city: str
    lat: float
    lng: float


class VisitCodeRedeem(Body):
    code: str = Field(max_length=16)


class PushCreate(Body):
    text: str
    audience: str = Field(description="followers | reservations | buyers | conversations | consumers")
    live_id: Id | None = Field(default=None, description="reservations: the live session")
    consumer_ids: list[int] = Field(default_factory=list, description="consumers: a segment's consumer ids")


class FeatureNote(Body):
    note_id: Id


class ShopVisit(Body):
    consumer_id: Id
    account_id: Id
    product_id: Id | None = Field(default=None, description="a product page of the shop; null for the shop itself")
    source: SourceRef


class CartAdd(Body):
    consumer_id: Id
    product_id: Id
    qty: Annotated[int, Field(strict=True)] = 1
    source: SourceRef


class OffsiteTotal(Body):
    day: date
    platform: str = Field(description="taobao | tmall | jd | pinduoduo | wechat_mini_program | own_site | other")
    orders: Annotated[int, Field(strict=True)]
    gmv_fen: Fen


# --- the creator marketplace ------------------------------------------------------------------------

class CreatorProfileBody(Body):
    category: str = Field(description="the creator's home category (taxonomy code)")
    region: str = Field(description="city or province")
    gender: str = Field(default="unknown", description="female | male | unknown")
    quote_image_fen: Fen = Field(default=0, description="price of one image note")
    quote_video_fen: Fen = Field(default=0, description="price of one video note")
    following_count: int = Field(default=0, ge=0)
    has_avatar: bool = True
    is_private: bool = False
    bio_length: int = Field(default=0, ge=0)


class CreatorSearch(Body):
    category: str | None = None
    regions: list[str] = Field(default_factory=list)
    gender: str | None = None
    followers_min: int | None = None
    followers_max: int | None = None
    price_min_fen: Fen | None = None
    price_max_fen: Fen | None = None
    format: str = Field(default="image", description="image | video: which quote the price filters read")
    tiers: list[str] = Field(default_factory=list, description="nano | micro | macro | mega")
    koc: bool | None = None
    audience_min: dict[str, float] = Field(default_factory=dict, description='e.g. {"gender.female": 0.6, '
                                           '"age.18-24": 0.3}: minimum shares of the real audience')
    min_authenticity: int = 0
    exclude_brands: list[int] = Field(default_factory=list, description="brands whose recent deals exclude a "
                                      "creator (competitors)")
    exclude_days: int = 90
    target: dict[str, dict[str, float]] = Field(default_factory=dict, description='the brand\'s target audience, '
                                                'e.g. {"gender": {"female": 1}, "age": {"18-24": 0.5, "25-34": 0.5}}')
    sort: str = Field(default="fit", description="fit | followers | engagement | cost_per_engagement | authenticity")
    limit: int = 20
    offset: int = 0


class StrategyBody(Body):
    name: str = "custom"
    tier_min: dict[str, int] = Field(default_factory=dict)
    tier_max: dict[str, int] = Field(default_factory=dict)
    koc_min: int = 0
    koc_max: int | None = None
    count_min: int = 0
    count_max: int | None = None


def _any_strategy() -> list[str | StrategyBody]:
    return ["any"]


class PlanRequest(Body):
    budget_fen: Fen
    objective: str = Field(default="engagements", description="engagements | reads | exposures | conversions")
    strategies: list[str | StrategyBody] = Field(default_factory=_any_strategy, description="preset names "
                                                 "(one_top_kol, kocs, mid_plus_koc, any) or custom bounds; several "
                                                 "are planned side by side")
    filters: CreatorSearch = Field(default_factory=CreatorSearch)


class AccountsAudit(Body):
    rows: list[dict[str, Any]] = Field(max_length=10_000, description="account_ref and the eight public columns")


class BriefCreate(Body):
    brand_id: Id
    title: str
    product_id: Id | None = None
    category: str
    format: str = "image"
    deliverables: str = ""
    budget_fen: Fen
    roi_target: float | None = None
    contract: str = Field(default="fixed", description="fixed | cps | trial")
    cps_rate_bp: int = Field(default=0, description="CPS commission in basis points of GMV")
    sample_required: bool = True
    max_revisions: int = 2
    publish_from: datetime
    publish_to: datetime
    evaluation_days: int = 14


class Invitation(Body):
    creator_id: Id


class Application(Body):
    creator_id: Id
    quote_fen: Fen


class CollaborationStep(Body):
    quote_fen: Fen | None = None
    title: str | None = None
    body: str | None = None
    feedback: str | None = None
    rating: int | None = None


class Boost(UnitFields):
    campaign_id: Id
