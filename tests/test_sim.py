"""The simulator's world: scenarios and their refusals, seeded generation, calibration of who the
consumers are, and a world created in State through the slices' own actions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from zhongcao import billing, commerce, content, events, sim
from zhongcao.ads.models import AdClick, ConversionRow
from zhongcao.cli.simulate import run_dir, simulate
from zhongcao.commerce.models import LiveViewerRow, OrderRow
from zhongcao.core import Database, Invalid, Runtime

ROOT = Path(__file__).resolve().parents[1]
SMALL = sim.Scenario(seed=3, consumers=2_000, days=2, creators=40, creator_notes=120, brands=(
    sim.Brand("小样美妆 Xiaoyang Beauty", stores=6, store_notes=2),))


def test_the_shipped_scenario_loads() -> None:
    assert sim.DEFAULT in sim.shipped()
    scenario = sim.load(sim.DEFAULT)
    brand, rival = scenario.brands
    assert (scenario.consumers, scenario.days, brand.stores, len(brand.campaigns)) == (100_000, 30, 100, 2)
    assert brand.campaigns[1].keywords == ("面霜", "精华", "修护")
    assert set(rival.campaigns[1].keywords) & set(brand.campaigns[1].keywords)  # they bid for the same words
    assert rival.creator_programme is None


@pytest.mark.parametrize("name", ["auto_dealers", "home_furnishing", "kob_100_stores", "local_services"])
def test_every_shipped_sector_scenario_loads_with_a_creator_programme(name: str) -> None:
    assert name in sim.shipped()
    brand = sim.load(name).brands[0]
    assert brand.creator_programme is not None
    assert brand.campaigns


@pytest.mark.parametrize(("toml", "field"), [
    ("consumers = 10", "consumers"),
    ("dayz = 3", "dayz"),
    ("start = \"March\"", "start"),
    ("[[brands]]\nname = \"B\"\ncategory = \"cars\"", "brands[0].category"),
    ("[[brands]]\nname = \"B\"\n[[brands.campaigns]]\nname = \"c\"\nplacement = \"tv\"",
     "brands[0].campaigns[0].placement"),
    ("[[brands]]\ncategory = \"beauty\"", "brands[0]"),
    ("[[brands]]\nname = \"B\"\nbudget_fen_by_tier = [1, 2]", "brands[0].budget_fen_by_tier"),
    ("[[brands]]\nname = \"B\"\npostback_coverage = 1.5", "brands[0].postback_coverage"),
    ("seed = = 3", "path"),
    ("[[brands]]\nname = \"A\"\n[[brands]]\nname = \"B\"\n[brands.creator_programme]\nbudget_fen = 100",
     "brands[1].creator_programme"),
])
def test_a_bad_scenario_is_refused_with_the_path_of_its_field(tmp_path: Path, toml: str, field: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(Invalid) as exc:
        sim.load(path)
    assert (exc.value.code, exc.value.field) == ("invalid_scenario", field)
    assert exc.value.allowed


def test_a_missing_scenario_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as exc:
        sim.load(tmp_path / "nowhere.toml")
    assert (exc.value.code, exc.value.field) == ("invalid_scenario", "path")


def test_overrides_are_checked_like_the_file() -> None:
    assert SMALL.with_overrides(consumers=5_000, days=None).consumers == 5_000
    with pytest.raises(Invalid):
        SMALL.with_overrides(days=0)


def test_the_same_seed_gives_the_same_people_and_creators() -> None:
    a, b, c = (sim.streams(s) for s in (11, 11, 12))
    pa, pb, pc = (sim.population.generate(5_000, r["consumers"]) for r in (a, b, c))
    for name in ("female", "age", "city", "interests", "activity", "search_rate"):
        assert np.array_equal(getattr(pa, name), getattr(pb, name))
    assert not np.array_equal(pa.age, pc.age)
    ca, cb = sim.creators.generate(500, a["creators"]), sim.creators.generate(500, b["creators"])
    assert np.array_equal(ca.followers, cb.followers)
    assert np.array_equal(ca.fraud, cb.fraud)


def test_default_consumers_land_on_the_field_numbers() -> None:
    rngs = sim.streams(7)
    people = sim.population.generate(100_000, rngs["consumers"])
    report = sim.population_calibration(people, rngs["behaviour"])
    assert [m.name for m in report if not m.passed] == [], report
    assert np.allclose(people.interests.sum(axis=1), 1, atol=1e-5)
    female, male = people.interests[people.female].mean(0), people.interests[~people.female].mean(0)
    assert female[content.CODE["beauty"]] > 2 * male[content.CODE["beauty"]]
    assert male[content.CODE["auto"]] > 2 * female[content.CODE["auto"]]


def test_creators_follow_a_power_law_and_frauds_show_more_than_they_have() -> None:
    makers = sim.creators.generate(20_000, sim.streams(5)["creators"])
    tiers = np.bincount(makers.tier, minlength=4) / makers.n
    assert tiers[0] > tiers[1] > tiers[2] > tiers[3] > 0  # nano most, mega fewest
    assert 0.03 < makers.fraud.mean() < 0.07
    assert np.all(makers.followers[makers.fraud] > makers.real_followers[makers.fraud])
    assert np.array_equal(makers.followers[~makers.fraud], makers.real_followers[~makers.fraud])


def test_a_world_is_created_through_the_slices_and_its_books_balance(rt: Runtime) -> None:
    world = sim.build(rt, SMALL)
    (brand,) = world.brands
    assert len(world.creator_ids) == 40
    assert len(world.note_ids) == 120 + 6 * 2
    assert len(brand.stores) == 6
    assert len(brand.campaign_ids) == 2 * 6  # a feed and a search campaign per store
    assert billing.check_books(rt) == billing.LedgerCheck(0, 0, 0, 0)
    for store in brand.stores:
        assert billing.get_wallet(rt, store.account_id, actor=sim.world.OP).balance_fen == store.allocated_fen
        assert store.tier == sim.CITIES[store.city][1]
    views = content.notes_by_id(rt, [int(i) for i in world.note_ids[world.note_brand == 0]])
    assert all("小样美妆" in v.title and v.product_ids and v.product_ids[0] in brand.product_ids for v in views)
    assert {p.account_id for p in commerce.list_pois(rt)} == {s.account_id for s in brand.stores}
    assert commerce.get_shop(rt, brand.account_id).open
    # the notes' categories are what the world says they are
    stored = {v.id: v.category for v in content.notes_by_id(rt, [int(i) for i in world.note_ids])}
    assert [stored[int(i)] for i in world.note_ids] == [content.CATEGORIES[int(c)][0] for c in world.note_category]


def test_the_same_seed_builds_the_same_world(rt: Runtime, tmp_path: Path) -> None:
    from zhongcao.core import Database, ManualClock, Settings
    from zhongcao.migrations import upgrade

    first = sim.build(rt, SMALL)
    db = Database(f"sqlite:///{tmp_path / 'again.db'}")
    upgrade(db)
    again = Runtime(db=db, clock=ManualClock(rt.now()), settings=Settings(home=tmp_path / "again"))
    second = sim.build(again, SMALL)

    def titles(runtime: Runtime, world: sim.World) -> list[str]:
        return [v.title for v in content.notes_by_id(runtime, [int(i) for i in world.note_ids])]

    assert titles(rt, first) == titles(again, second)
    assert [s.allocated_fen for s in first.brands[0].stores] == [s.allocated_fen for s in second.brands[0].stores]
    other = sim.build(again, replace(SMALL, seed=4))
    assert titles(again, other) != titles(again, second)
    db.dispose()


def test_bulk_notes_are_checked_and_audited_like_single_ones(rt: Runtime) -> None:
    from zhongcao.accounts.models import AuditEntry

    (author,) = sim.world.accounts.do_create_accounts(rt, "creator", ["达人"], certified=True, actor=sim.world.OP)
    with pytest.raises(Invalid) as exc:
        content.do_create_notes(rt, [content.NoteDraft(author, "好"), content.NoteDraft(author, " ")],
                                actor=sim.world.OP)
    assert exc.value.field == "title"
    ids = content.do_create_notes(rt, [content.NoteDraft(author, f"第{i}篇") for i in range(3)], actor=sim.world.OP)
    assert [v.title for v in content.notes_by_id(rt, ids)] == ["第0篇", "第1篇", "第2篇"]
    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "note.create")) == 3


def test_a_simulation_charges_through_the_ledger_and_replays(tmp_path: Path) -> None:
    """Money: the simulated spend is the ledger's; determinism: the same seed, the same summary; truth: every
    conversion has its row in the event store, with shares that add up."""
    first = simulate(SMALL, tmp_path / "a")
    again = simulate(SMALL, tmp_path / "b")
    assert first.to_dict() == again.to_dict()
    assert first.ledger_spend_fen == first.totals["spend_fen"] == sum(s["spend_fen"] for s in first.stores) > 0
    for name in ("feed_ads", "search_ads"):
        channel = next(c for c in first.channels if c["channel"] == name)
        assert channel["impressions"] > 0, name
        assert channel["clicks"] > 0, name
    assert first.extra["searches"] > 0
    assert first.extra["search_ad_clicks"] > 0
    e = first.extra  # a brand's own notes are read, and seldom engaged with, next to creators'
    assert e["brand_note_reads"] > 100
    brand_rate = e["brand_note_interactions"] / e["brand_note_reads"]
    assert brand_rate < e["creator_note_interactions"] / e["creator_note_reads"] / 3
    truth = first.truth
    assert truth["conversions"] == truth["shop"] + truth["offsite"] + truth["store"] > 0
    assert abs(sum(truth[f"{c}_share"] for c in sim.CHANNELS) - 1) < 1e-3
    assert sum(first.aipl.values()) > 0
    with events.EventStore(tmp_path / "a" / "simulations" / f"seed-{SMALL.seed}" / "events.duckdb") as store:
        rows = store.run(store.table(sim.TRUTH_TABLE)).to_pylist()
        assert store.run(store.events().count()).as_py() > first.extra["feed_impressions"]  # events are stored
    assert len(rows) == truth["conversions"]
    assert {r["route"] for r in rows} <= {"shop", "offsite", "store"}
    assert all(abs(sum(r[f"{c}_share"] for c in sim.CHANNELS) - 1) < 1e-4
               for r in rows)
    assert sum(not r["posted_back"] for r in rows) == truth["offsite"] - truth["offsite_posted_back"]
    other = simulate(replace(SMALL, seed=4), tmp_path / "c")
    assert other.to_dict() != first.to_dict()


def _small_run(tmp_path: Path, with_store: bool) -> tuple[sim.Simulation, sim.Summary]:
    """A day of the small world, run in this process so the test can look inside the engines."""
    from zhongcao.core import Database, ManualClock, Settings
    from zhongcao.migrations import upgrade

    scenario = replace(SMALL, days=1)
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    rt = Runtime(db=db, clock=ManualClock(sim.start_of(scenario, 8)), settings=Settings(home=tmp_path))
    store = events.EventStore(tmp_path / "events.duckdb") if with_store else None
    try:
        run = sim.Simulation(rt, sim.build(rt, scenario), store)
        return run, run.run()
    finally:
        if store is not None:
            store.close()


@pytest.mark.parametrize("with_store", [True, False])
def test_the_ads_engine_learns_every_impression_it_served(tmp_path: Path, with_store: bool) -> None:
    """With a store the run's serving events skip the outbox; its ads engine must still count them, or its
    click-through estimates would see clicks without impressions."""
    run, summary = _small_run(tmp_path, with_store)
    assert run.ads.delivery is not None
    served = summary.extra["ad_impressions"] + summary.extra["search_ad_impressions"]
    assert int(run.ads.delivery.estimates.impressions.sum()) == served > 0


def test_a_restarted_engine_learns_from_the_rollups_what_the_run_taught(tmp_path: Path) -> None:
    """The run adds its consumers' interests apart from the rest of each fold, beside its next ticks; a
    content engine started on its store must still know every consumer as the run's own engine did."""
    run, _ = _small_run(tmp_path, with_store=True)
    restarted = content.ContentEngine(run.rt)
    restarted.sync()
    live, loaded = run.content._rows(run.ids, add=False), restarted._rows(run.ids, add=False)
    both = (live >= 0) & (loaded >= 0)
    assert both.sum() > 500
    assert np.array_equal(run.content._interests[live[both]], restarted._interests[loaded[both]])
    never_learned = (live >= 0) & (loaded < 0)  # served, never engaged: the flat prior, nothing to fold
    assert (run.content._interests[live[never_learned]] == 1.0).all()
    assert run.content._interests[live[both]].sum() > both.sum() * content.N_CATEGORIES  # something was learned


def test_an_off_platform_order_after_a_click_is_posted_back_signed(tmp_path: Path) -> None:
    run, _ = _small_run(tmp_path, with_store=False)
    row = next(iter(run.last_click))
    first = run._postback(row, 12_900)
    assert first > 0
    assert run._postback(row, 12_900) == first  # the shop retries: the same external id, the same conversion
    assert run.routes["postbacks_recorded"] == 2
    with run.rt.db.read() as s:
        (stored,) = s.scalars(select(ConversionRow)).all()
    assert (stored.id, stored.account_id, stored.value_fen, stored.type) == (first, run.last_click[row][2], 12_900,
                                                                              "order")
    never_clicked = next(r for r in range(run.world.consumers.n) if r not in run.last_click)
    assert run._postback(never_clicked, 12_900) == 0


def test_stages_fade_without_exposure_and_buyers_come_back(tmp_path: Path) -> None:
    run, summary = _small_run(tmp_path, with_store=False)
    buyers = run.stage >= 4
    assert buyers.sum() == summary.aipl["purchase"] + summary.aipl["loyal"] > 0
    assert (run.baseline[buyers] >= sim.run.REPURCHASE_SHARE / (2 * run.tau_days)).all()  # running out brings them back
    rows = np.arange(4)
    run.stage[rows], run.engaged[rows] = [1, 3, 4, 2], 5
    run.touched[rows] = [run._day - int(run.tau_days) - 1] * 3 + [run._day]  # the last one was touched today
    run._fade()
    assert run.stage[rows].tolist() == [0, 2, 4, 2]  # aware → none, deep → interest; buyers and the fresh stay
    assert run.engaged[rows].tolist() == [0, 0, 5, 5]


def test_the_brand_goes_live_and_viewers_buy_in_the_room(tmp_path: Path) -> None:
    run, summary = _small_run(tmp_path, with_store=False)
    (live_id,) = run.live_sessions  # the first evening
    view = commerce.get_live(run.rt, live_id)
    assert view.status == "ended"
    live = next(c for c in summary.channels if c["channel"] == "live")
    assert live["impressions"] > 0
    assert live["spend_fen"] == 0
    with run.rt.db.read() as s:
        entries = s.scalar(select(func.count()).select_from(LiveViewerRow).where(LiveViewerRow.session_id == live_id))
        in_room = s.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.live_id == live_id))
    assert entries == live["impressions"]  # every viewer entered the room through the commerce slice
    assert summary.truth["live"] == in_room  # and who bought while watching bought in the room


def test_switching_off_search_ads_leaves_no_search_ad_clicks_and_measures_their_lift(tmp_path: Path) -> None:
    base = simulate(SMALL, tmp_path)
    off = sim.Switch.parse("channel=search_ads off", 6)
    without = simulate(SMALL, tmp_path, off=off)
    assert (without.extra["search_ad_clicks"], without.extra["search_ad_impressions"]) == (0, 0)
    assert without.ledger_spend_fen == without.totals["spend_fen"] < base.totals["spend_fen"]
    assert without.extra["searches"] > 0  # people still search; only the ads are gone
    lift = sim.incremental(base, without, off)
    assert lift["incremental_conversions"] == base.truth["conversions"] - without.truth["conversions"]
    assert lift["spend_saved_fen"] == base.totals["spend_fen"] - without.totals["spend_fen"]
    assert next(c["spend_fen"] for c in without.channels if c["channel"] == "search_ads") == 0
    # common random numbers: the same consumers open the app; only who is primed to search (seeding that a
    # purchase resets) can move, so the active days stay within a fraction of a percent
    assert abs(without.extra["active_consumer_days"] / base.extra["active_consumer_days"] - 1) < 0.005


def test_a_counterfactual_with_nothing_switched_off_is_the_base_run(tmp_path: Path) -> None:
    base = simulate(SMALL, tmp_path)
    same = simulate(SMALL, tmp_path, off=sim.Switch())
    assert same.to_dict() == base.to_dict()
    assert sim.incremental(base, same, sim.Switch())["incremental_conversions"] == 0


def test_one_stores_ads_switch_off_alone(tmp_path: Path) -> None:
    off = sim.Switch.parse("store=2", 6)
    run = simulate(SMALL, tmp_path, off=off)
    assert run.stores[1]["spend_fen"] == 0
    assert run.stores[1]["clicks"] == 0
    assert sum(s["spend_fen"] for s in run.stores) == run.ledger_spend_fen > 0


@pytest.mark.parametrize("spec", ["channel=tv", "store=0", "store=7", "", "budget=2"])
def test_a_bad_counterfactual_is_refused(spec: str) -> None:
    with pytest.raises(Invalid) as exc:
        sim.Switch.parse(spec, 6)
    assert (exc.value.code, exc.value.field) == ("invalid_counterfactual", "counterfactual")


def test_no_campaign_spends_more_than_its_daily_budget_on_any_day(tmp_path: Path) -> None:
    """Budgets that run out: each budget day's clicks cost at most the daily budget,
    though the simulator's leases live a day and are taken at any hour."""
    plans = (sim.CampaignPlan("门店种草 Store seeding", bid_fen=2_000, daily_budget_fen=10_000),
             sim.CampaignPlan("搜索拦截 Search capture", placement="search", bid_fen=2_000, daily_budget_fen=10_000,
                              keywords=("面霜", "精华", "修护")))
    rivals = tuple(replace(p, bid_fen=1_900) for p in plans)  # prices near the bids: a few clicks fill a day
    scenario = replace(SMALL, consumers=20_000, days=3, brands=(replace(SMALL.brands[0], stores=2, campaigns=plans),
                                                                sim.Brand("对手 Rival", stores=2, campaigns=rivals)))
    simulate(scenario, tmp_path)
    db = Database(f"sqlite:///{run_dir(tmp_path, scenario.seed) / 'state.db'}")
    try:
        with db.read() as s:
            spent = s.execute(select(AdClick.campaign_id, AdClick.day, func.sum(AdClick.charged_fen))
                              .group_by(AdClick.campaign_id, AdClick.day)).all()
    finally:
        db.dispose()
    assert len({day for _, day, _ in spent}) == 3
    assert max(fen for _, _, fen in spent) <= 10_000
    assert sum(fen > 10_000 - 2_000 for _, _, fen in spent) >= 3  # the budgets ran out: they bound


def test_more_budget_buys_more_impressions_with_diminishing_returns(tmp_path: Path) -> None:
    """Wallets, not daily budgets, bind here: a month's allocation per store of ¥10, scaled 1x, 2x, 4x and 20x
    (the small world's feed-ad supply runs out near ¥40), as ``zhongcao plan`` runs the levels."""
    base = replace(SMALL, brands=(replace(SMALL.brands[0], budget_fen_by_tier=(1_000,) * 4),))
    scales = (1, 2, 4, 20)
    curve = sim.response_curve([(s, simulate(base, tmp_path, budget_scale=s)) for s in scales])
    assert [r["budget_scale"] for r in curve] == list(scales)
    assert all(run_dir(tmp_path, base.seed, budget_scale=s).exists() for s in scales)
    allocated = [r["allocated_fen"] for r in curve]
    assert allocated == pytest.approx([allocated[0] * s for s in scales], rel=0.01)  # stores' draws round to ¥1
    seen = [r["ad_impressions"] for r in curve]
    assert seen[0] < seen[1] < seen[2] <= seen[3]
    assert (seen[3] - seen[2]) / (20 - 4) < (seen[1] - seen[0]) / (2 - 1)
    spend = [r["spend_fen"] for r in curve]
    assert spend[0] < spend[1] < spend[2]
    assert all(r["spend_fen"] <= r["allocated_fen"] for r in curve)
    assert curve[0]["marginal_spend_fen"] is None
    assert curve[0]["marginal_roi"] is None
    for below, row in itertools.pairwise(curve):
        assert row["marginal_spend_fen"] == row["spend_fen"] - below["spend_fen"]
        assert row["marginal_gmv_fen"] == row["gmv_fen"] - below["gmv_fen"]
        assert row["marginal_roi"] == (round(row["marginal_gmv_fen"] / row["marginal_spend_fen"], 4)
                                       if row["marginal_spend_fen"] > 0 else None)


def test_a_budget_scale_multiplies_the_brands_money_and_leaves_its_rivals_alone() -> None:
    scenario = sim.load(sim.DEFAULT)
    brand, rival = scenario.brands
    doubled = scenario.with_budget_scale(2)
    assert doubled.brands[1] == rival
    more = doubled.brands[0]
    assert more.budget_fen_by_tier == tuple(2 * b for b in brand.budget_fen_by_tier)
    assert [c.daily_budget_fen for c in more.campaigns] == [2 * c.daily_budget_fen for c in brand.campaigns]
    assert more.creator_programme is not None
    assert brand.creator_programme is not None
    assert more.creator_programme.budget_fen == 2 * brand.creator_programme.budget_fen
    assert [c.daily_budget_fen for c in scenario.with_budget_scale(0.1).brands[0].campaigns] == [10_000, 10_000]
    assert scenario.with_budget_scale(1) is scenario


@pytest.mark.parametrize("scale", [0, 0.01, 25, float("nan"), True])
def test_a_budget_scale_out_of_range_is_refused(scale: float) -> None:
    with pytest.raises(Invalid) as exc:
        sim.load(sim.DEFAULT).with_budget_scale(scale)
    assert (exc.value.code, exc.value.field) == ("invalid_scenario", "budget_scale")


def test_budget_levels_run_ascending_each_once_and_a_bad_list_is_refused() -> None:
    assert sim.parse_scales("2, 0.5,1,2") == [0.5, 1.0, 2.0]
    for spec in ("", "a,1", "0,1", "1,30", ",".join(str(k) for k in range(1, 11))):
        with pytest.raises(Invalid) as exc:
            sim.parse_scales(spec)
        assert (exc.value.code, exc.value.field) == ("invalid_plan", "budget_scales")


def test_a_run_is_calibrated_on_what_was_served() -> None:
    served = {"ad_impressions": 10_000, "ad_clicks": 200, "ad_charged_fen": 400_000, "likes": 1_000, "comments": 80,
              "reads": 5_000, "interactions": 600, "creator_note_reads": 4_000, "creator_note_interactions": 560,
              "brand_note_reads": 1_000, "brand_note_interactions": 40}
    got = {m.name: (m.value, m.passed) for m in sim.run_calibration(served)}
    assert {k: v for k, v in got.items() if k != "daily_active_users_who_search"} == {
        "feed_ad_ctr": (0.02, True), "feed_ad_cpm_yuan": (400.0, False), "ad_cpc_yuan": (20.0, False),
        "comment_like_ratio": (0.08, True), "note_engagement_per_read": (0.12, True),
        "creator_engagement_rate": (0.14, True), "brand_account_engagement_rate": (0.04, False)}
    # a creator programme whose notes were read is held to the field's cost per read and per engagement
    programme = {"programme_spend_fen": 90_000, "programme_reads": 1_000, "programme_engagements": 100}
    got = {m.name: (m.value, m.passed) for m in sim.run_calibration(served | programme)}
    assert (got["programme_cost_per_read_yuan"], got["programme_cost_per_engagement_yuan"]) == ((0.9, True),
                                                                                                (9.0, True))
    # T+7 (about 40% of off-platform sales come more than a week after the click), once there are enough
    lagged = {"clicked_offsite_conversions": 200, "clicked_offsite_after_7_days": 84}
    assert {m.name: (m.value, m.passed) for m in sim.run_calibration(served | lagged)}[
        "offsite_sales_after_7_days"] == (0.42, True)
    few = {"clicked_offsite_conversions": 20, "clicked_offsite_after_7_days": 19}
    assert "offsite_sales_after_7_days" not in {m.name for m in sim.run_calibration(served | few)}


PROGRAMME = sim.Scenario(seed=5, consumers=2_000, days=10, creators=400, creator_notes=1_200, brands=(
    sim.Brand("小样美妆 Xiaoyang Beauty", stores=4, store_notes=2, creator_programme=sim.CreatorProgramme(
        budget_fen=2_000_000, strategy="any", start_day=1, publish_days=4, evaluation_days=2, min_authenticity=50)),))


def test_the_creator_programme_runs_through_the_marketplace(tmp_path: Path) -> None:
    """Briefed, planned, invited, published and settled through the market slice; the kol channel's spend is
    what left the brand's wallet, and the whole run still replays."""
    first = simulate(PROGRAMME, tmp_path / "a")
    assert first.to_dict() == simulate(PROGRAMME, tmp_path / "b").to_dict()
    assert first.creators, "the planner picked nobody"
    states = {c["state"] for c in first.creators}
    assert "settled" in states
    assert states <= {"settled", "published", "expired", "declined", "cancelled", "approved", "draft_submitted",
                      "changes_requested", "sample_shipped"}
    kol = next(c for c in first.channels if c["channel"] == "kol")
    assert kol["impressions"] > 0
    assert kol["spend_fen"] == sum(c["spend_fen"] for c in first.creators) > 0
    assert first.ledger_spend_fen == first.totals["spend_fen"]
    assert all(c["authenticity"] >= 50 for c in first.creators)
    published = [c for c in first.creators if c["state"] in ("published", "settled")]
    assert sum(c["exposures"] for c in published) > 0
    without = simulate(PROGRAMME, tmp_path / "c", off=sim.Switch(channel="kol"))
    assert next(c for c in without.channels if c["channel"] == "kol")["impressions"] == 0
    assert without.creators == []


def test_the_creator_analytics_count_every_exposure_and_read_the_store_holds(tmp_path: Path) -> None:
    """The marketplace's note-day traffic, folded day by day beside the run and on the programme's launch
    day up to that day's start, adds up to the store's own count: no event folded twice, none skipped
    (a launch that folded up to its own hour once skipped the morning's events, not yet landed)."""
    from sqlalchemy import func, select

    from zhongcao.core import Database, ManualClock, Settings
    from zhongcao.events import EventKind
    from zhongcao.market.models import NoteDayRow
    from zhongcao.migrations import upgrade

    scenario = replace(PROGRAMME, days=3)
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    rt = Runtime(db=db, clock=ManualClock(sim.start_of(scenario, 8)), settings=Settings(home=tmp_path))
    with events.EventStore(tmp_path / "events.duckdb") as store:
        sim.Simulation(rt, sim.build(rt, scenario), store).run()
        e = store.events()
        noted = e.filter(e.note_id.notnull())
        stored = [store.run(noted.filter(noted.kind.isin(kinds)).count()).as_py() for kinds in (
            [int(EventKind.IMPRESSION), int(EventKind.AD_IMPRESSION)], [int(EventKind.READ)])]
    with db.read() as s:
        folded = list(s.execute(select(func.sum(NoteDayRow.exposures), func.sum(NoteDayRow.reads))).one())
    assert stored[0] > 0
    assert folded == stored


def test_creator_authenticity_separates_the_simulated_frauds(tmp_path: Path) -> None:
    """The creator score, from the platform's own records of a simulated world after a few days of traffic
    (bought followers, bought likes and comments included), ranks the labelled frauds below the honest."""
    from zhongcao import market
    from zhongcao.core import Database, ManualClock, Settings
    from zhongcao.market.fake_accounts import auc
    from zhongcao.migrations import upgrade

    scenario = replace(PROGRAMME, creators=1_200, creator_notes=3_000, days=3, seed=11)
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    rt = Runtime(db=db, clock=ManualClock(sim.start_of(scenario, 8)), settings=Settings(home=tmp_path))
    with events.EventStore(tmp_path / "events.duckdb") as store:
        world = sim.build(rt, scenario)
        sim.Simulation(rt, world, store).run()
        market.fold(rt, store)
    market.refresh(rt)
    index = market.CreatorIndex.load(rt)
    order = np.searchsorted(index.ids, world.creator_ids)
    fraud = world.creators.fraud
    assert fraud.sum() >= 30
    score = index.authenticity[order].astype(float)
    assert auc(-score, fraud) >= 0.95
    buyers = world.creator_truth.buys_engagement
    flagged = [index.reasons[int(i)] for i in order[buyers]]
    assert any(any("likes per read" in r for r in reasons) for reasons in flagged)
    assert any(any("repeat word for word" in r for r in reasons) for reasons in flagged)


RIVAL = sim.Brand("对手美妆 Rival Beauty", stores=4, store_notes=2, budget_fen_by_tier=(3_000_000,) * 4,
                  campaigns=(sim.CampaignPlan("种草", bid_fen=600, daily_budget_fen=60_000),
                             sim.CampaignPlan("搜索", placement="search", bid_fen=900, daily_budget_fen=60_000,
                                              keywords=("面霜", "精华"))))


def test_a_competing_brand_bids_in_the_same_auctions_on_its_own_wallets(tmp_path: Path) -> None:
    """The rival's stores outbid the brand's for the same slots and words: the brand sells fewer ad
    impressions, the rival's clicks are charged to the rival's wallets (ledger = simulated), and the
    brand's own books are still exact."""
    alone = simulate(SMALL, tmp_path / "a")
    against = simulate(replace(SMALL, brands=(SMALL.brands[0], RIVAL)), tmp_path / "b")
    (rival,) = against.competition["brands"]
    assert rival["spend_fen"] == rival["simulated_spend_fen"] > 0
    assert rival["impressions"] > 0
    assert rival["clicks"] > 0
    assert rival["stores"] == 4
    assert against.ledger_spend_fen == against.totals["spend_fen"]
    paid = [sum(c["impressions"] for c in run.channels if c["channel"] in ("feed_ads", "search_ads"))
            for run in (alone, against)]
    assert paid[1] < paid[0]
    assert 0 < against.competition["share_of_ad_impressions"] < 1
    assert alone.competition == {"brands": [], "share_of_ad_impressions": 1.0}


def test_channels_are_credited_their_true_share_of_each_conversion(tmp_path: Path) -> None:
    """Each channel's orders, leads and GMV are its summed true shares, rounded: within one unit of the
    ground-truth table, and adding up to the totals."""
    summary = simulate(replace(SMALL, days=4), tmp_path)
    with events.EventStore(tmp_path / "simulations" / f"seed-{SMALL.seed}" / "events.duckdb") as store:
        rows = store.run(store.table(sim.TRUTH_TABLE)).to_pylist()
    sold = [r for r in rows if r["value_fen"] > 0]
    assert len(sold) == summary.totals["orders"] > 0
    assert sum(r["route"] == "store" for r in rows) == summary.totals["leads"]
    assert sum(r["value_fen"] for r in rows) == summary.totals["gmv_fen"]
    for c in summary.channels:
        share = f"{c['channel']}_share"
        assert abs(c["orders"] - sum(r[share] for r in sold)) < 1 + 1e-3, c["channel"]
        assert abs(c["gmv_fen"] - sum(r[share] * r["value_fen"] for r in sold)) < 1 + len(sold), c["channel"]


def test_fractional_credit_rounds_by_largest_remainder() -> None:
    credit = np.array([[0.4, 1.5, 2.0], [0.4, 1.5, 0.0], [0.2, 0.0, 1.0]])
    assert sim.whole(credit).tolist() == [[1, 2, 2], [0, 1, 0], [0, 0, 1]]
    assert sim.whole(np.zeros((3, 3))).sum() == 0
