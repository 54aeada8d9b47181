"""/v1 routes of the creator marketplace: creators (profiles, analytics, discovery, planning, account
audits), briefs, and collaborations stepped through their lifecycle."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request

from zhongcao import ads, market
from zhongcao.api import schemas as s
from zhongcao.api.deps import RT, Who
from zhongcao.core import Invalid, NotFound, ZhongcaoError
from zhongcao.market.audit import score_rows
from zhongcao.market.evaluation import Evaluation, do_boost, evaluate

router = APIRouter(prefix="/v1", tags=["market"])


def _index(request: Request) -> market.CreatorIndex:
    cache: market.IndexCache = request.app.state.creators
    return cache.get()


def _query(body: s.CreatorSearch) -> market.Query:
    return market.Query(**body.model_dump())


@router.put("/creators/{creator_id}/profile")
def set_profile(creator_id: int, body: s.CreatorProfileBody, rt: RT, who: Who) -> dict[str, object]:
    """A creator's marketplace profile: category, region, prices, and the account's public features."""
    market.do_set_creator_profiles(rt, [market.CreatorProfile(creator_id, **body.model_dump())], actor=who)
    return {"creator_id": creator_id, **body.model_dump()}


@router.get("/creators/{creator_id}")
def get_creator(creator_id: int, request: Request, rt: RT, who: Who) -> dict[str, object]:
    """The creator's analytics, estimates, tier, audience and authenticity with its reasons."""
    index = _index(request)
    at = np.flatnonzero(index.ids == creator_id)
    if not len(at):
        raise NotFound("creator_profile", creator_id)
    i = int(at[0])
    return {**index.stats[i], "authenticity": int(index.authenticity[i]), "authenticity_reasons": index.reasons[i]}


@router.post("/creators/search")
def search_creators(body: s.CreatorSearch, request: Request, rt: RT, who: Who) -> market.Page:
    """Filter creators and rank them by fit to the brief, each with its explanation."""
    return market.discover(rt, _index(request), _query(body))


@router.post("/creators/plan")
def plan_mix(body: s.PlanRequest, request: Request, rt: RT, who: Who) -> dict[str, object]:
    """The best KOL mix for a budget under each strategy, side by side."""
    query = market.check_query(_query(body.filters))
    candidates = _index(request).candidates(query, excluded=market.recent_deals(rt, query.exclude_brands,
                                                                                  query.exclude_days))
    plans = []
    for strategy in body.strategies:
        if isinstance(strategy, str):
            if strategy not in market.PRESETS:
                raise Invalid("invalid_plan", f"{strategy!r} is not a preset strategy", field="strategies",
                              allowed=sorted(market.PRESETS))
            chosen = market.PRESETS[strategy]
        else:
            chosen = market.Strategy(**strategy.model_dump())
        plans.append(market.plan(candidates, body.budget_fen, chosen, body.objective))
    return {"candidates": len(candidates.ids), "plans": plans}


@router.post("/creators/audit")
def audit_accounts(body: s.AccountsAudit, rt: RT, who: Who) -> dict[str, object]:
    """Score accounts' probability of being fake, with reasons; a bad row gets its error, not a refusal."""
    rows = [{k: None if v is None else str(int(v) if isinstance(v, bool) else v) for k, v in r.items()}
            for r in body.rows]
    return {"items": list(score_rows(rows))}


@router.get("/creators/{creator_id}/collaborations")
def creator_collaborations(creator_id: int, rt: RT, who: Who) -> dict[str, object]:
    return {"items": market.list_collaborations(rt, actor=who, creator_id=creator_id)}


@router.post("/briefs", status_code=201)
def create_brief(body: s.BriefCreate, rt: RT, who: Who) -> market.BriefView:
    spec = body.model_dump(exclude={"brand_id"})
    return market.do_create_brief(rt, body.brand_id, spec, actor=who)


@router.get("/briefs/{brief_id}")
def get_brief(brief_id: int, rt: RT, who: Who) -> market.BriefView:
    return market.get_brief(rt, brief_id, actor=who)


@router.get("/accounts/{account_id}/briefs")
def list_briefs(account_id: int, rt: RT, who: Who) -> dict[str, object]:
    return {"items": market.list_briefs(rt, account_id, actor=who)}


@router.post("/briefs/{brief_id}/close")
def close_brief(brief_id: int, rt: RT, who: Who) -> market.BriefView:
    return market.do_close_brief(rt, brief_id, actor=who)


@router.post("/briefs/{brief_id}/invitations", status_code=201)
def invite(brief_id: int, body: s.Invitation, rt: RT, who: Who) -> market.CollaborationView:
    """The brand invites a creator; the creator has 48 hours to quote or decline."""
    return market.do_invite(rt, brief_id, body.creator_id, actor=who)


@router.post("/briefs/{brief_id}/applications", status_code=201)
def apply(brief_id: int, body: s.Application, rt: RT, who: Who) -> market.CollaborationView:
    """A creator applies to an open brief with a quote."""
    return market.do_apply(rt, brief_id, body.creator_id, body.quote_fen, actor=who)


@router.get("/briefs/{brief_id}/collaborations")
def brief_collaborations(brief_id: int, rt: RT, who: Who) -> dict[str, object]:
    return {"items": market.list_collaborations(rt, actor=who, brief_id=brief_id)}


@router.get("/collaborations/{collaboration_id}")
def get_collaboration(collaboration_id: int, rt: RT, who: Who) -> market.CollaborationView:
    return market.get_collaboration(rt, collaboration_id, actor=who)


@router.get("/collaborations/{collaboration_id}/evaluation")
def collaboration_evaluation(collaboration_id: int, rt: RT, who: Who) -> Evaluation:
    """CPM, cost per read and per engagement, and the orders and GMV the note was the last touch of."""
    return evaluate(rt, collaboration_id, actor=who)


@router.post("/collaborations/{collaboration_id}/boost", status_code=201)
def boost(collaboration_id: int, body: s.Boost, rt: RT, who: Who) -> ads.UnitView:
    """Promote the published note with an ads unit in one of the brand's campaigns (KFS)."""
    return do_boost(rt, collaboration_id, body.campaign_id, body.given(), actor=who)


PARAMS: dict[str, tuple[str, ...]] = {"quote": ("quote_fen",), "submit_draft": ("title", "body"),
                                      "request_changes": ("feedback",), "rate": ("rating",)}
REQUIRED = {action: names[:1] for action, names in PARAMS.items()}


@router.post("/collaborations/{collaboration_id}/{action}")
def step(collaboration_id: int, action: str, rt: RT, who: Who,
         body: s.CollaborationStep | None = None) -> market.CollaborationView:
    """One lifecycle step: quote, decline, accept, fund, ship_sample, submit_draft, request_changes, approve,
    publish, settle, cancel, expire or rate. A step the state does not allow is 409 with the state."""
    if action not in market.ACT:
        raise ZhongcaoError("route_not_found", f"{action!r} is not a collaboration step", field="action",
                            allowed=sorted(market.ACT), status=404)
    given: dict[str, Any] = body.model_dump(exclude_unset=True) if body else {}
    for name in REQUIRED.get(action, ()):
        if given.get(name) is None:
            raise Invalid("invalid_request", f"{action} needs {name}", field=name, allowed=list(REQUIRED[action]))
    params = {k: v for k, v in given.items() if k in PARAMS.get(action, ())}
    if action == "submit_draft":
        params.setdefault("body", "")
    return market.ACT[action](rt, collaboration_id, actor=who, **params)
