"""The marketplace's analytics, authenticity, discovery and planner, on real State and a real event store."""

from __future__ import annotations

import csv
import itertools
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from conftest import OP, certified
from zhongcao import content, market
from zhongcao.core import Runtime, ZhongcaoError
from zhongcao.events import EventIds, EventKind, EventStore, make_batch
from zhongcao.market import fake_accounts
from zhongcao.market.audit import score_rows
from zhongcao.market.models import NoteDayRow
from zhongcao.sim import accounts as sim_accounts


def test_the_fake_account_model_separates_held_out_accounts() -> None:
    model = fake_accounts.shipped()
    columns, labels = sim_accounts.training_set(seed=sim_accounts.TRAINING_SEED + 1, n=20_000)
    auc = fake_accounts.auc(model.predict(fake_accounts.features(columns)), labels)
    assert auc >= 0.95


def test_the_shipped_model_is_what_the_training_command_fits() -> None:
    columns, labels = sim_accounts.training_set()
    refit = fake_accounts.fit(fake_accounts.features(columns), labels)
    shipped = fake_accounts.shipped()
    np.testing.assert_allclose(refit.weights, shipped.weights, rtol=1e-9, atol=1e-12)
    assert refit.bias == pytest.approx(shipped.bias, rel=1e-9)


def test_a_bot_and_a_person_get_plain_reasons() -> None:
    rows = [{"account_ref": "bot", "follower_count": "3", "following_count": "6200", "media_count": "0",
             "has_profile_pic": "0", "is_private": "0", "biography_length": "0", "username_length": "11",
             "username_digit_count": "6"},
            {"account_ref": "person", "follower_count": "240", "following_count": "180", "media_count": "35",
             "has_profile_pic": "true", "is_private": "false", "biography_length": "42", "username_length": "4",
             "username_digit_count": "0"},
            {"account_ref": "broken", "follower_count": "many"}]
    bot, person, broken = list(score_rows(rows))  # type: ignore[arg-type]
    assert float(bot["fake_probability"]) > 0.9 > 0.1 > float(person["fake_probability"])
    assert "follows very many accounts" in bot["reasons"]
    assert broken["error"] == "follower_count is 'many', not a number"
    assert broken["fake_probability"] == ""


def test_auc_counts_ties_as_half() -> None:
    assert fake_accounts.auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert fake_accounts.auc([0.5, 0.5], [False, True]) == 0.5


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zhongcao", *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_audit_accounts_scores_a_csv_and_reports_bad_rows(tmp_path: Path) -> None:
    columns, labels = sim_accounts.training_set(seed=5, n=300)
    src = tmp_path / "accounts.csv"
    with src.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["account_ref", *fake_accounts.COLUMNS])
        for i in range(300):
            writer.writerow([f"acct-{i}", *(int(columns[c][i]) for c in fake_accounts.COLUMNS)])
        writer.writerow(["acct-bad", "12", "-3", "1", "1", "0", "5", "6", "0"])
    out = tmp_path / "scores.csv"
    result = _cli("creators", "audit-accounts", str(src), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "300 scored" in result.stdout.replace("\n", " ")
    scored = list(csv.DictReader(out.open()))
    assert [r["account_ref"] for r in scored] == [f"acct-{i}" for i in range(300)] + ["acct-bad"]
    assert scored[-1]["error"] == "following_count is '-3', not a whole number >= 0"
    p = np.array([float(r["fake_probability"]) for r in scored[:-1]])
    assert fake_accounts.auc(p, labels) >= 0.95
    (tmp_path / "bad.csv").write_text("account_ref,follower_count\nx,1\n")
    refused = _cli("creators", "audit-accounts", str(tmp_path / "bad.csv"), "--out", str(out))
    assert refused.returncode != 0
    assert refused.stderr.startswith("error [invalid_accounts_file]")
    assert "Traceback" not in refused.stderr


def test_training_on_a_labelled_csv_writes_a_model_the_audit_uses(tmp_path: Path) -> None:
    columns, labels = sim_accounts.training_set(seed=9, n=2_000)
    src = tmp_path / "labelled.csv"
    with src.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*fake_accounts.COLUMNS, "is_fake"])
        for i in range(2_000):
            writer.writerow([*(int(columns[c][i]) for c in fake_accounts.COLUMNS), int(labels[i])])
    model = tmp_path / "model.json"
    trained = _cli("creators", "train-accounts", "--from", str(src), "--out", str(model))
    assert trained.returncode == 0, trained.stderr
    assert "held-out AUC 0.9" in trained.stdout.replace("\n", " ")
    assert fake_accounts.load(model).trained_on == "labelled.csv"


# --- analytics, authenticity and discovery over real State and events -------------------------------------


def _events(store: EventStore, rt: Runtime, rows: list[dict[str, object]]) -> None:
    keys = sorted({k for r in rows for k in r})
    now = rt.now().replace(tzinfo=None)
    store.write(make_batch({"event_id": EventIds(rt.clock).take(len(rows)), "ts": [now] * len(rows),
                            **{k: [r.get(k) for r in rows] for k in keys}}))


def _traffic(note: int, creator: int, exposures: int, reads: int, likes: int, comments: int = 0,
             paid_exposures: int = 0) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for kind, n in ((EventKind.IMPRESSION, exposures), (EventKind.READ, reads), (EventKind.LIKE, likes),
                    (EventKind.COMMENT, comments)):
        rows += [{"kind": int(kind), "note_id": note, "creator_id": creator, "consumer_id": 1_000 + i}
                 for i in range(n)]
    rows += [{"kind": int(EventKind.AD_IMPRESSION), "note_id": note, "campaign_id": 9, "consumer_id": 5_000 + i}
             for i in range(paid_exposures)]
    return rows


@pytest.fixture
def world(rt: Runtime, tmp_path: Path) -> dict[str, int]:
    """Two honest creators and one fraud, with notes, traffic, follower history, audiences and comments."""
    honest = certified(rt, "creator", "小美的护肤日记")
    other = certified(rt, "creator", "阿杰评测")
    fraud = certified(rt, "creator", "爆款好物推荐官")
    market.do_set_creator_profiles(rt, [
        market.CreatorProfile(honest, "skincare", "上海", "female", 300_000, 500_000),
        market.CreatorProfile(other, "digital", "深圳", "male", 200_000, 0),
        market.CreatorProfile(fraud, "skincare", "杭州", "female", 400_000, 600_000)], actor=OP)
    store = EventStore(tmp_path / "events.duckdb")
    rng = np.random.default_rng(4)
    notes: dict[int, list[int]] = {}
    for creator, n, category in ((honest, 4, "skincare"), (other, 3, "digital"), (fraud, 4, "skincare")):
        notes[creator] = [content.do_create_note(rt, creator, title=f"笔记 {i}", body="真实体验", category=category,
                                                 actor=OP).id for i in range(n)]
    rows: list[dict[str, object]] = []
    for i, note in enumerate(notes[honest]):
        rows += _traffic(note, honest, 2_000 + 500 * i, 400 + 100 * i, 100 + 20 * i, comments=8, paid_exposures=50)
    for note in notes[other]:
        rows += _traffic(note, other, 600, 200, 60)
    for note in notes[fraud]:  # bought likes: many likes, few reads
        rows += _traffic(note, fraud, 200, 10, 60, comments=6)
    _events(store, rt, rows)
    start = rt.now().date()
    for d in range(31):  # honest grows steadily; the fraud buys 40k followers on day 20
        day = start - timedelta(days=30 - d)
        market.do_record_followers(rt, day, [honest, other, fraud],
                                   [20_000 + 30 * d, 5_000 + 10 * d, 8_000 + 10 * d + (40_000 if d >= 20 else 0)],
                                   actor=OP)
    for creator, share in ((honest, 0.03), (other, 0.05), (fraud, 0.6)):
        columns, _ = sim_accounts.labelled(200, share, rng)
        columns |= {"gender": np.where(rng.random(200) < 0.8, 0, 1), "age": rng.integers(0, 5, 200),
                    "city_tier": rng.integers(1, 5, 200), "consumption": rng.integers(0, 3, 200),
                    "device": rng.integers(0, 2, 200)}
        market.do_record_audience(rt, np.full(200, creator), columns, actor=OP)
    market.do_record_comments(rt, [honest] * 20 + [fraud] * 20, [None] * 40,
                              [f"第{i}次回购，质地很舒服" for i in range(20)] + ["太好用了！！"] * 12 + ["已下单"] * 8,
                              actor=OP)
    rt.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert market.fold(rt, store) == 11
    assert market.fold(rt, store) == 0  # the watermark moved: nothing is folded twice
    assert market.refresh(rt) == 3
    store.close()
    return {"honest": honest, "other": other, "fraud": fraud}


def test_note_traffic_and_active_days_are_kept_by_the_platforms_day(rt: Runtime, tmp_path: Path) -> None:
    """A note and an exposure at 23:30 and again at 00:30 Beijing time fall on two days, as the ad reports
    count them (UTC's day would hold all of them)."""
    creator = certified(rt, "creator", "深夜种草")
    market.do_set_creator_profiles(rt, [market.CreatorProfile(creator, "skincare", "上海", "female", 100_000, 0)],
                                   actor=OP)
    rt.clock.advance(rt.day_ends_at() - rt.now() - timedelta(minutes=30))  # type: ignore[attr-defined]
    evening = rt.today()
    with EventStore(tmp_path / "events.duckdb") as store:
        for consumer in (1, 2):
            note = content.do_create_note(rt, creator, title="夜读", body="睡前护肤", category="skincare", actor=OP).id
            _events(store, rt, [{"kind": int(EventKind.IMPRESSION), "note_id": note, "consumer_id": consumer}])
            rt.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        assert market.fold(rt, store) == 2
    with rt.db.read() as s:
        days = s.execute(select(NoteDayRow.day, NoteDayRow.exposures).where(NoteDayRow.creator_id == creator)
                         .order_by(NoteDayRow.day)).all()
    assert [tuple(d) for d in days] == [(evening, 1), (evening + timedelta(days=1), 1)]
    assert market.refresh(rt) == 1
    assert _stats(rt)[creator][0]["active_days_7"] == 2


def _stats(rt: Runtime) -> dict[int, tuple[dict, int, list[str]]]:
    index = market.CreatorIndex.load(rt)
    return {int(i): (s, int(a), r) for i, s, a, r in zip(index.ids, index.stats, index.authenticity, index.reasons,
                                                         strict=True)}


def test_analytics_fold_traffic_and_split_organic_and_sponsored(rt: Runtime, world: dict[str, int]) -> None:
    from sqlalchemy import select

    from zhongcao.accounts.models import AuditEntry

    with rt.db.read() as s:  # the three profiles, set in one call, are audited one by one
        audited = s.scalars(select(AuditEntry.account_id).where(AuditEntry.action == "creator.profile")).all()
        assert sorted(audited) == sorted(world.values())
    honest, _, _ = _stats(rt)[world["honest"]]
    assert honest["followers"] == 20_900
    assert honest["followers_growth_30d"] == pytest.approx(900 / 20_900, abs=1e-4)
    assert honest["notes_30d"] == 4
    assert honest["median_exposures"] == 2_800.0      # 2,000 to 3,500 organic, with 50 paid each
    assert honest["organic_median_exposures"] == 2_750.0
    assert honest["median_reads"] == 550.0
    assert honest["median_engagements"] == 138.0      # likes 100, 120, 140, 160 plus 8 comments each
    assert (honest["everyday_notes"], honest["sponsored_notes"]) == (4, 0)
    assert honest["comment_like_ratio"] == pytest.approx(32 / 520, abs=1e-4)
    assert honest["engagement_rate"] == pytest.approx(552 / 2_200, abs=1e-4)
    assert honest["tier"] == "micro"
    assert honest["koc"] is True
    assert honest["cost_per_engagement_fen"] == 2_174  # ¥3,000 over 138 engagements
    assert honest["cpm_fen"] == 107_143
    assert honest["category_shares"] == {"skincare": 1.0}
    assert sum(honest["audience"]["gender"].values()) == pytest.approx(1.0, abs=1e-3)
    assert honest["audience"]["gender"]["female"] > 0.7


def test_authenticity_flags_the_fraud_with_reasons(rt: Runtime, world: dict[str, int]) -> None:
    stats = _stats(rt)
    fraud_stats, fraud_score, fraud_reasons = stats[world["fraud"]]
    honest_score = stats[world["honest"]][1]
    assert honest_score >= 85, stats[world["honest"]]
    assert fraud_score <= 40
    assert fraud_stats["fake_share"] > 0.4
    text = " | ".join(fraud_reasons)
    assert "sampled followers look fake" in text
    assert "single day" in text
    assert "likes per read" in text
    assert "repeat word for word" in text
    assert stats[world["honest"]][2] == ["no anomalies found"]


def test_discovery_filters_ranks_and_explains(rt: Runtime, world: dict[str, int]) -> None:
    index = market.CreatorIndex.load(rt)
    page = market.discover(rt, index, market.Query(category="skincare", target={"gender": {"female": 1.0}}))
    assert [m.creator_id for m in page.items] == [world["honest"], world["fraud"]]
    top = page.items[0]
    assert top.rank == 1
    assert top.fit > page.items[1].fit
    assert top.explanation[0].startswith("topic 1.00: 100% of recent notes are skincare")
    assert any(e.startswith("cost ") for e in top.explanation)
    assert market.discover(rt, index, market.Query(min_authenticity=80)).total == 2
    assert [m.creator_id for m in market.discover(rt, index, market.Query(regions=["深圳"])).items] == [world["other"]]
    assert market.discover(rt, index, market.Query(followers_min=30_000)).total == 1
    assert market.discover(rt, index, market.Query(price_max_fen=250_000)).total == 1
    assert market.discover(rt, index, market.Query(tiers=["macro"])).total == 0
    assert market.discover(rt, index, market.Query(audience_min={"gender.female": 0.7})).total >= 1
    by_followers = market.discover(rt, index, market.Query(sort="followers"))
    assert by_followers.items[0].creator_id == world["fraud"]
    for bad, field in ((market.Query(category="cars!"), "category"), (market.Query(tiers=["huge"]), "tiers"),
                       (market.Query(sort="random"), "sort"), (market.Query(limit=0), "limit"),
                       (market.Query(audience_min={"age.99": 0.1}), "audience_min")):
        with pytest.raises(ZhongcaoError) as refused:
            market.discover(rt, index, bad)
        assert (refused.value.code, refused.value.field) == ("invalid_discovery", field)


def test_discovery_excludes_creators_with_recent_deals_with_named_brands(rt: Runtime, world: dict[str, int]) -> None:
    from zhongcao import billing
    rival = certified(rt, "brand", "竞品 Rival")
    billing.do_top_up(rt, rival, 10_000_000, idempotency_key="rival", actor=OP)
    now = rt.now()
    brief = market.do_create_brief(rt, rival, {
        "title": "竞品面霜", "category": "skincare", "budget_fen": 1_000_000, "sample_required": False,
        "publish_from": now.isoformat(), "publish_to": (now + timedelta(days=10)).isoformat()}, actor=OP).id
    deal = market.do_invite(rt, brief, world["honest"], actor=OP).id
    market.do_quote(rt, deal, 300_000, actor=OP)
    for step in (market.do_accept, market.do_fund):
        step(rt, deal, actor=OP)
    market.do_submit_draft(rt, deal, title="面霜实测", body="好用", actor=OP)
    market.do_approve(rt, deal, actor=OP)
    market.do_publish(rt, deal, actor=OP)
    index = market.CreatorIndex.load(rt)
    query = market.Query(category="skincare", exclude_brands=[rival])
    assert [m.creator_id for m in market.discover(rt, index, query).items] == [world["fraud"]]


# --- the planner -----------------------------------------------------------------------------------------


def _candidates(n: int, seed: int) -> market.Candidates:
    rng = np.random.default_rng(seed)
    tier = rng.integers(0, 4, n).astype(np.int8)
    quote = (np.array([500, 3_000, 20_000, 100_000])[tier] * rng.uniform(0.5, 2.0, n) * 100).astype(np.int64)
    engagements = np.array([30, 200, 1_500, 8_000])[tier] * rng.lognormal(0, 0.6, n)
    return market.Candidates(np.arange(1, n + 1), tier, (tier <= 1) & (rng.random(n) < 0.6), quote,
                             engagements * 20, engagements * 5, engagements, rng.uniform(0.5, 1.0, n),
                             rng.uniform(0.2, 1.0, n))


def _brute(c: market.Candidates, budget: int, s: market.Strategy, objective: str) -> float:
    best = -1.0
    value, cost = c.value(objective), c.cost_fen
    for r in range(len(c.ids) + 1):
        for pick in itertools.combinations(range(len(c.ids)), r):
            idx = list(pick)
            if cost[idx].sum() > budget:
                continue
            counts = {t: int((c.tier[idx] == k).sum()) for k, t in enumerate(("nano", "micro", "macro", "mega"))}
            if any(counts[t] < m for t, m in s.tier_min.items()) or any(counts[t] > m for t, m in s.tier_max.items()):
                continue
            kocs = int(c.koc[idx].sum())
            if kocs < s.koc_min or (s.koc_max is not None and kocs > s.koc_max):
                continue
            if r < s.count_min or (s.count_max is not None and r > s.count_max):
                continue
            best = max(best, float(value[idx].sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("strategy", ["any", "one_top_kol", "kocs", "mid_plus_koc"])
def test_the_planner_is_optimal_against_brute_force(seed: int, strategy: str) -> None:
    c = _candidates(11, seed)
    s = market.PRESETS[strategy]
    budget = int(c.cost_fen.sum() * 0.35)
    for objective in ("engagements", "conversions"):
        got = market.plan(c, budget, s, objective)
        best = _brute(c, budget, s, objective)
        if best < 0:
            assert got.status == "infeasible"
            assert got.picks == []
            continue
        assert got.status == "optimal"
        assert got.cost_fen <= budget
        value = c.value(objective)
        picked = [int(np.flatnonzero(c.ids == p.creator_id)[0]) for p in got.picks]
        assert float(value[picked].sum()) == pytest.approx(best, rel=1e-9)


def test_plans_compare_strategies_and_refuse_bad_bounds() -> None:
    c = _candidates(200, 1)
    budget = 5_000_000
    plans = {name: market.plan(c, budget, market.PRESETS[name]) for name in ("one_top_kol", "kocs", "mid_plus_koc")}
    assert len(plans["one_top_kol"].picks) == 1
    assert all(p.tier in ("macro", "mega") for p in plans["one_top_kol"].picks)
    assert 1 <= len(plans["kocs"].picks) <= 20
    assert all(p.tier in ("nano", "micro") for p in plans["kocs"].picks)
    assert all(p.cost_fen <= budget for p in plans.values())  # type: ignore[attr-defined]
    for plan in plans.values():
        assert plan.cost_fen == sum(p.fee_fen + p.platform_fee_fen for p in plan.picks)
    with pytest.raises(ZhongcaoError) as refused:
        market.plan(c, budget, market.Strategy("x", tier_min={"mega": 3}, tier_max={"mega": 1}))
    assert (refused.value.code, refused.value.field) == ("invalid_plan", "tier_min")
    with pytest.raises(ZhongcaoError):
        market.plan(c, 0, market.PRESETS["any"])


def test_unknown_signals_cost_nothing_and_each_signal_costs_its_points() -> None:
    nan = np.full(3, np.nan)
    unknown = market.Signals(nan, nan, np.zeros(3, dtype=np.int8), np.full(3, 5_000.0), nan, np.zeros(3), nan, nan)
    scores, reasons = market.authenticity_score(unknown)
    assert scores.tolist() == [100, 100, 100]
    assert reasons == [["no anomalies found"]] * 3
    worst = market.Signals(np.array([0.9]), np.array([0.0001]), np.array([1], dtype=np.int8), np.array([50_000.0]),
                           np.array([1.0]), np.array([0.5]), np.array([3.0]), np.array([0.9]))
    score, said = market.authenticity_score(worst)
    assert score[0] == 0  # 45 + 20 + 15 + 10 + 10: every signal at its worst (engagement against the field value)
    assert len(said[0]) == 5
    assert said[0][0].startswith("about 90% of sampled followers look fake")
