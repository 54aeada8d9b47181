"""/v1 routes for ad plans: campaigns, units, keywords, creatives, bulk status and change history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from zhongcao import ads
from zhongcao.accounts import AuditView
from zhongcao.api import schemas as s
from zhongcao.api.deps import RT, Who
from zhongcao.core import Invalid

router = APIRouter(prefix="/v1", tags=["ads"])


@router.post("/campaigns", status_code=201)
def create_campaign(body: s.CampaignCreate, rt: RT, who: Who) -> ads.CampaignView:
    """A campaign spends its account's wallet; limits follow the platform (a daily budget is unlimited or
    10,000–99,999,900 fen)."""
    return ads.do_create_campaign(rt, body.account_id, body.given(), actor=who)


@router.get("/campaigns")
def list_campaigns(rt: RT, who: Who, account_id: Annotated[int, Query(ge=1)], include_sub_accounts: bool = False,
                   status: str | None = None) -> list[ads.CampaignView]:
    """An advertiser's campaigns; ``include_sub_accounts`` adds its stores' and distributors' campaigns."""
    return ads.list_campaigns(rt, account_id, actor=who, include_sub_accounts=include_sub_accounts, status=status)


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: int, rt: RT, who: Who) -> ads.CampaignView:
    return ads.get_campaign(rt, campaign_id, actor=who)


@router.patch("/campaigns/{campaign_id}")
def update_campaign(campaign_id: int, body: s.CampaignFields, rt: RT, who: Who) -> ads.CampaignView:
    return ads.do_update_campaign(rt, campaign_id, body.given(), actor=who)


@router.get("/campaigns/{campaign_id}/history")
def campaign_history(campaign_id: int, rt: RT, who: Who,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditView]:
    """Every change to the campaign, its units, keywords and creatives: who, when, before and after."""
    return ads.campaign_history(rt, campaign_id, actor=who, limit=limit)


@router.get("/campaigns/{campaign_id}/delivery")
def delivery_status(campaign_id: int, request: Request, who: Who) -> ads.DeliveryStatus:
    """Why the campaign is or is not spending, with reasons (中文 and English) per campaign and unit:
    paused up the chain, outside schedule, insufficient balance, budget exhausted, targeting too narrow
    (with the share of recent traffic it reaches), bid below what is winning (with a suggested bid)."""
    engine: ads.AdEngine = request.app.state.ads
    return engine.delivery_status(campaign_id, actor=who)


@router.get("/campaigns/{campaign_id}/units")
def list_units(campaign_id: int, rt: RT, who: Who) -> list[ads.UnitView]:
    return ads.list_units(rt, campaign_id, actor=who)


@router.post("/units", status_code=201)
def create_unit(body: s.UnitCreate, rt: RT, who: Who) -> ads.UnitView:
    """A unit promotes 1–50 notes: the advertiser's own, or one authorized sub-account's (代投)."""
    return ads.do_create_unit(rt, body.campaign_id, body.given(), actor=who)


@router.get("/units/{unit_id}")
def get_unit(unit_id: int, rt: RT, who: Who) -> ads.UnitView:
    return ads.get_unit(rt, unit_id, actor=who)


@router.patch("/units/{unit_id}")
def update_unit(unit_id: int, body: s.UnitFields, rt: RT, who: Who) -> ads.UnitView:
    return ads.do_update_unit(rt, unit_id, body.given(), actor=who)


@router.post("/units/{unit_id}/keywords", status_code=201)
def add_keywords(unit_id: int, body: s.KeywordsAdd, rt: RT, who: Who) -> ads.UnitView:
    return ads.do_add_keywords(rt, unit_id, body.keywords, negative=body.negative, actor=who)


@router.patch("/keywords/{keyword_id}")
def update_keyword(keyword_id: int, body: s.KeywordUpdate, rt: RT, who: Who) -> ads.KeywordView:
    return ads.do_update_keyword(rt, keyword_id, body.model_dump(exclude_unset=True), actor=who)


@router.get("/units/{unit_id}/creatives")
def list_creatives(unit_id: int, rt: RT, who: Who) -> list[ads.CreativeView]:
    return ads.list_creatives(rt, unit_id, actor=who)


@router.post("/creatives", status_code=201)
def create_creative(body: s.CreativeCreate, rt: RT, who: Who) -> ads.CreativeView:
    return ads.do_create_creative(rt, body.unit_id, body.note_id, body.component, actor=who)


@router.post("/ads/status")
def set_status(body: s.StatusUpdate, rt: RT, who: Who) -> dict[str, Any]:
    """Pause, resume or delete many campaigns, units, creatives or keywords at once: all or none."""
    changes = ads.do_set_status(rt, body.level, body.ids, body.status, actor=who)
    return {"changed": changes}


Range = Annotated[str, Query(description="today | yesterday | 7d | 30d | YYYY-MM-DD..YYYY-MM-DD (budget days)")]


@router.get("/reports", response_model=None)
def reports(rt: RT, who: Who, account_id: Annotated[int, Query(ge=1)],
            level: Annotated[str, Query(description="account | campaign | unit | creative | keyword")] = "campaign",
            range: Range = "today",
            include_sub_accounts: bool = False, by_day: bool = False,
            format: Annotated[str, Query(description="json | csv")] = "json") -> dict[str, Any] | Response:
    """Delivery and results by level (FIELD_FACTS §2: fee, impressions, clicks, ctr, acp, cpm; engagement
    within an hour of the click, cpi; live and DMs within 24 h; shop, leads and valid leads within 7 days;
    off-site orders, GMV and ROI at 7, 15 and 30 days; keywords' average position and top-1/top-3 shares).
    ``include_sub_accounts`` puts a brand's stores beside it, each row naming its account. Today is realtime
    (refreshed every minute); earlier days are offline, and settle hourly as late results arrive."""
    if format not in ("json", "csv"):
        raise Invalid("invalid_report", f"{format!r} is not a report format", field="format", allowed=["json", "csv"])
    rows = ads.report(rt, account_id, level=level, range_=range, include_sub_accounts=include_sub_accounts,
                      by_day=by_day, actor=who)
    if format == "csv":
        return Response(ads.to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="report-{account_id}-{level}.csv"'})
    return {"account_id": account_id, "level": level, "range": range, "rows": rows}


@router.post("/accounts/{account_id}/conversion-secret", status_code=201)
def issue_conversion_secret(account_id: int, rt: RT, who: Who) -> ads.IssuedSecret:
    """Create or rotate the advertiser's postback secret; it is shown once. Sign each postback's raw body
    with it: ``X-Zhongcao-Signature: sha256=<hex HMAC-SHA256>``."""
    return ads.do_issue_conversion_secret(rt, account_id, actor=who)


@router.put("/accounts/{account_id}/offsite-totals")
def report_offsite_total(account_id: int, body: s.OffsiteTotal, rt: RT, who: Who) -> ads.TrackingRow:
    """The advertiser's own count of a day's off-site orders from this platform's traffic (its Taobao, JD or
    mini-program back office); a later report of the same day and platform corrects it."""
    return ads.do_report_offsite_total(rt, account_id, body.day, body.platform, body.orders, body.gmv_fen,
                                       actor=who)


@router.get("/accounts/{account_id}/offsite-tracking")
def offsite_tracking(account_id: int, rt: RT, who: Who, range: Range = "7d") -> dict[str, object]:
    """What share of off-site orders came back as postbacks, per budget day and platform: postbacks beside
    the advertiser's reported totals. Off-site ROI in reports counts only what came back."""
    return {"account_id": account_id, "range": range, "rows": ads.tracking(rt, account_id, range_=range, actor=who)}


@router.post("/conversions", status_code=201)
async def conversion(request: Request, rt: RT,
                     x_zhongcao_signature: Annotated[str | None, Header()] = None) -> ads.ConversionView:
    """A conversion postback from the advertiser's server: ``{click_id, type, value_fen, external_id}``, where
    type is order, lead, valid_lead, add_to_cart or shop_visit. Authenticated by the body's HMAC (no bearer
    token); idempotent by ``external_id``."""
    body = await request.body()
    engine: ads.AdEngine = request.app.state.ads
    return await run_in_threadpool(ads.record_conversion, rt, engine.ids, body, x_zhongcao_signature)
