"""The marketplace over HTTP: profiles, briefs, a collaboration stepped to settlement with its money, the
problem bodies of refused steps, discovery, plans, account audits, evaluation and boosting."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import OPERATOR, Kob, assert_books, call, key
from zhongcao import billing, market
from zhongcao.core import Runtime


def _brief(client: TestClient, rt: Runtime, kob: Kob, **over: object) -> dict:
    now = rt.now()
    body = {"brand_id": kob.brand, "title": "修护面霜种草", "category": "skincare", "budget_fen": 500_000,
            "sample_required": False, "max_revisions": 1, "roi_target": 2.0, "publish_from": now.isoformat(),
            "publish_to": (now + timedelta(days=20)).isoformat(), "evaluation_days": 7, **over}
    return call(client, "POST", "/v1/briefs", body, headers=key(rt, kob.brand), status=201)


def test_a_collaboration_runs_over_http_and_refusals_are_problems(rt: Runtime, client: TestClient, kob: Kob) -> None:
    billing.do_top_up(rt, kob.brand, 1_000_000, idempotency_key="t", actor=market.collaborations.Actor.operator())
    brand, creator = key(rt, kob.brand), key(rt, kob.creator)
    profile = {"category": "skincare", "region": "上海", "gender": "female", "quote_image_fen": 200_000}
    call(client, "PUT", f"/v1/creators/{kob.creator}/profile", profile, headers=creator)
    brief = _brief(client, rt, kob)
    assert (brief["committed_fen"], brief["contract"]) == (0, "fixed")
    deal = call(client, "POST", f"/v1/briefs/{brief['id']}/invitations", {"creator_id": kob.creator}, headers=brand,
                status=201)
    assert deal["state"] == "invited"
    assert deal["actions"] == ["quote", "decline", "cancel", "expire"]
    cid = deal["id"]
    early = call(client, "POST", f"/v1/collaborations/{cid}/accept", headers=brand, status=409)
    assert (early["code"], early["state"], early["allowed"]) == ("invalid_collaboration_transition", "invited",
                                                                 ["quote", "decline", "cancel", "expire"])
    missing = call(client, "POST", f"/v1/collaborations/{cid}/quote", {}, headers=creator, status=422)
    assert (missing["code"], missing["field"]) == ("invalid_request", "quote_fen")
    assert call(client, "POST", f"/v1/collaborations/{cid}/fly", {}, headers=brand, status=404)["code"] == \
        "route_not_found"
    call(client, "POST", f"/v1/collaborations/{cid}/quote", {"quote_fen": 200_000}, headers=creator)
    call(client, "POST", f"/v1/collaborations/{cid}/accept", {}, headers=brand)
    funded = call(client, "POST", f"/v1/collaborations/{cid}/fund", {}, headers=brand)
    assert funded["escrow_fen"] == 220_000
    call(client, "POST", f"/v1/collaborations/{cid}/submit_draft", {"title": "面霜一周实测", "body": "细节"},
         headers=creator)
    call(client, "POST", f"/v1/collaborations/{cid}/approve", {}, headers=brand)
    published = call(client, "POST", f"/v1/collaborations/{cid}/publish", {}, headers=creator)
    note = published["note_id"]
    assert call(client, "GET", f"/v1/notes/{note}")["sponsored"] is True

    campaign = call(client, "POST", "/v1/campaigns", {"account_id": kob.brand, "name": "KFS", "objective": "seeding",
                                                      "placement": "feed", "bidding": "manual", "optimize_for": "click",
                                                      "daily_budget_fen": 20_000}, headers=brand, status=201)
    unit = call(client, "POST", f"/v1/collaborations/{cid}/boost", {"campaign_id": campaign["id"], "bid_fen": 150},
                headers=brand, status=201)
    assert unit["note_ids"] == [note]
    stranger = call(client, "POST", "/v1/campaigns", {"account_id": kob.other_brand, "name": "x", "objective":
                                                      "seeding", "placement": "feed", "bidding": "manual",
                                                      "optimize_for": "click", "daily_budget_fen": 20_000},
                    status=201)
    refused = call(client, "POST", "/v1/units", {"campaign_id": stranger["id"], "name": "x", "bid_fen": 150,
                                                 "note_ids": [note]},
                   status=422)
    assert refused["code"] == "not_authorized_sub_account"

    rt.clock.advance(timedelta(days=7))  # type: ignore[attr-defined]
    settled = call(client, "POST", f"/v1/collaborations/{cid}/settle", {}, headers=brand)
    assert settled["settlement"]["payout_fen"] == 200_000
    assert call(client, "GET", f"/v1/accounts/{kob.creator}/wallet", headers=creator)["balance_fen"] == 200_000
    evaluation = call(client, "GET", f"/v1/collaborations/{cid}/evaluation", headers=brand)
    assert (evaluation["cost_fen"], evaluation["orders"], evaluation["roi"], evaluation["meets_target"]) == \
        (220_000, 0, 0.0, False)
    listed = call(client, "GET", f"/v1/briefs/{brief['id']}/collaborations", headers=brand)["items"]
    assert [c["state"] for c in listed] == ["settled"]
    assert call(client, "GET", f"/v1/collaborations/{cid}", headers=key(rt, kob.other_brand), status=404)["code"] \
        == "collaboration_not_found"
    assert_books(rt)


def test_a_refused_brief_or_step_changes_nothing(rt: Runtime, client: TestClient, kob: Kob) -> None:
    brand = key(rt, kob.brand)
    bad = call(client, "POST", "/v1/briefs", {"brand_id": kob.brand, "title": "x", "category": "skincare",
                                              "budget_fen": 500_000, "contract": "cps", "cps_rate_bp": 9_000,
                                              "publish_from": rt.now().isoformat(),
                                              "publish_to": (rt.now() + timedelta(days=3)).isoformat()},
               headers=brand, status=422)
    assert (bad["code"], bad["field"], bad["allowed"]) == ("invalid_brief", "cps_rate_bp", "1..5000")
    assert call(client, "GET", f"/v1/accounts/{kob.brand}/briefs", headers=brand)["items"] == []
    brief = _brief(client, rt, kob)
    cid = call(client, "POST", f"/v1/briefs/{brief['id']}/invitations", {"creator_id": kob.creator}, headers=brand,
               status=201)["id"]
    call(client, "POST", f"/v1/collaborations/{cid}/quote", {"quote_fen": 300_000}, headers=key(rt, kob.creator))
    call(client, "POST", f"/v1/collaborations/{cid}/accept", {}, headers=brand)
    short = call(client, "POST", f"/v1/collaborations/{cid}/fund", {}, headers=brand, status=409)
    assert short["code"] == "insufficient_funds"
    after = call(client, "GET", f"/v1/collaborations/{cid}", headers=brand)
    assert (after["state"], after["escrow_fen"]) == ("accepted", 0)
    with rt.db.read() as s:
        assert s.scalar(select(billing.models.Txn.id).where(billing.models.Txn.kind == "escrow_fund")) is None


def test_discovery_plans_and_audits_over_http(rt: Runtime, client: TestClient, kob: Kob) -> None:
    market.do_set_creator_profiles(rt, [market.CreatorProfile(kob.creator, "skincare", "上海", "female", 200_000)],
                                   actor=market.collaborations.Actor.operator())
    market.do_record_followers(rt, rt.now().date(), [kob.creator], [30_000], actor=market.collaborations.Actor.system())
    assert market.refresh(rt) == 1
    page = call(client, "POST", "/v1/creators/search", {"category": "skincare", "target": {"gender": {"female": 1}}})
    assert page["total"] == 1
    assert page["items"][0]["creator_id"] == kob.creator
    assert page["items"][0]["explanation"]
    bad = call(client, "POST", "/v1/creators/search", {"sort": "random"}, status=422)
    assert (bad["code"], bad["field"]) == ("invalid_discovery", "sort")
    creator = call(client, "GET", f"/v1/creators/{kob.creator}")
    assert (creator["followers"], creator["tier"]) == (30_000, "micro")
    plans = call(client, "POST", "/v1/creators/plan", {"budget_fen": 1_000_000, "strategies": [
        "any", {"name": "mega only", "tier_min": {"mega": 1}}]})
    assert plans["candidates"] == 1
    assert [p["status"] for p in plans["plans"]] == ["optimal", "infeasible"]
    assert plans["plans"][0]["picks"] == []  # no engagement on record yet: buying the creator gains nothing
    audit = call(client, "POST", "/v1/creators/audit", {"rows": [
        {"account_ref": "a", "follower_count": 2, "following_count": 7000, "media_count": 0, "has_profile_pic": False,
         "is_private": False, "biography_length": 0, "username_length": 11, "username_digit_count": 6},
        {"account_ref": "b", "follower_count": "x"}]}, headers=OPERATOR)
    assert float(audit["items"][0]["fake_probability"]) > 0.9
    assert audit["items"][1]["error"].startswith("follower_count")
