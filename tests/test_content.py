"""Notes and search through the API, and the engine that keeps each process in step with State."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import ADMIN_TOKEN, OP, Kob
from zhongcao import accounts
from zhongcao.api import create_app
from zhongcao.content import ContentEngine, do_create_note
from zhongcao.content.engine import CATEGORY_CODES
from zhongcao.content.models import Note
from zhongcao.content.ranking import RankSpec, contenders, personal, top_lift
from zhongcao.content.taxonomy import N_CATEGORIES
from zhongcao.core import ManualClock, Runtime
from zhongcao.events import EventKind, tail

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, money_jobs=False)) as c:
        yield c


def post_note(client: TestClient, author: int, title: str, body: str = "", **extra: object) -> dict:
    r = client.post("/v1/notes", json={"author_id": author, "title": title, "body": body, **extra}, headers=OPERATOR)
    assert r.status_code == 201, r.text
    return r.json()


def search(client: TestClient, q: str, **params: object) -> dict:
    r = client.get("/v1/search", params={"q": q, **params}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_note_is_published_and_found_at_once(client: TestClient, kob: Kob) -> None:
    note = post_note(client, kob.stores[0], "安装简单的热水器", "师傅上门，半小时装好", topics=["#家电", "装修"],
                     category="appliances", kind="video")
    assert (note["topics"], note["status"], note["category"]) == (["家电", "装修"], "published", "appliances")
    assert client.get(f"/v1/notes/{note['id']}", headers=OPERATOR).json()["title"] == "安装简单的热水器"
    page = search(client, "安装")
    assert page["items"][0] | {"score": 0} == {"note_id": note["id"], "position": 1, "score": 0, "ad": None}


def test_odd_queries(client: TestClient, kob: Kob) -> None:
    post_note(client, kob.stores[0], "ＹＳＬ口红色号测评", "显白")
    assert len(search(client, "ysl 口红")["items"]) == 1      # full-width folded, mixed scripts
    assert search(client, "😀✨")["items"] == []              # nothing searchable: an empty page, not an error
    assert search(client, "口" * 5_000)["page"] == 1
    too_long = client.get("/v1/search", params={"q": "口" * 5_001}, headers=OPERATOR)
    assert (too_long.status_code, too_long.json()["code"], too_long.json()["field"]) == (422, "invalid_request", "q")
    empty = client.get("/v1/search", params={"q": ""}, headers=OPERATOR)
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_query")


def test_pages_reserve_the_ad_positions(client: TestClient, kob: Kob) -> None:
    for i in range(25):
        post_note(client, kob.stores[0], f"早餐测评 {i}", "酒店早餐")
    first, second = search(client, "早餐", n=10), search(client, "早餐", n=10, page=2)
    assert (first["ad_positions"], second["ad_positions"]) == ([3], [13])
    assert search(client, "早餐", n=20)["ad_positions"] == [3, 13]
    positions = [i["position"] for i in first["items"] + second["items"]]
    assert positions == list(range(1, 21))
    assert len({i["note_id"] for i in first["items"] + second["items"]}) == 20


def test_kind_and_time_filters(client: TestClient, rt: Runtime, kob: Kob) -> None:
    old = post_note(client, kob.stores[0], "旧款 洗发水", kind="image")
    rt.clock.advance(timedelta(days=3))
    new = post_note(client, kob.stores[0], "新款 洗发水", kind="video")
    assert [i["note_id"] for i in search(client, "洗发水", kind="video")["items"]] == [new["id"]]
    since = (rt.now() - timedelta(days=1)).isoformat()
    assert [i["note_id"] for i in search(client, "洗发水", since=since)["items"]] == [new["id"]]
    assert {i["note_id"] for i in search(client, "洗发水")["items"]} == {old["id"], new["id"]}
    bad = client.get("/v1/search", params={"q": "洗发水", "kind": "gif"}, headers=OPERATOR).json()
    assert (bad["code"], bad["field"]) == ("invalid_note", "kind")


def test_proven_engagement_lifts_an_equally_relevant_note(client: TestClient, kob: Kob) -> None:
    a = post_note(client, kob.stores[0], "防晒霜 测评", "清爽")
    b = post_note(client, kob.stores[0], "防晒霜 测评", "清爽")
    engine: ContentEngine = client.app.state.content  # type: ignore[attr-defined]
    i = engine.state.indices(np.array([b["id"]]))[0]
    engine.state.exposures[i], engine.state.ces_w[i] = 100, 40.0
    assert [x["note_id"] for x in search(client, "防晒霜")["items"]] == [b["id"], a["id"]]


@pytest.mark.parametrize(("body", "field"), [
    ({"title": ""}, "title"), ({"title": "t" * 101}, "title"), ({"title": "t", "kind": "gif"}, "kind"),
    ({"title": "t", "category": "weapons"}, "category"), ({"title": "t", "topics": ["#" + "长" * 31]}, "topics"),
    ({"title": "t", "topics": [f"t{i}" for i in range(11)]}, "topics"),
])
def test_bad_notes_are_refused_and_nothing_is_stored(client: TestClient, rt: Runtime, kob: Kob, body: dict,
                                                      field: str) -> None:
    r = client.post("/v1/notes", json={"author_id": kob.stores[0], **body}, headers=OPERATOR)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "invalid_note", field)
    with rt.db.read() as s:
        assert s.query(Note).count() == 0


def test_an_agency_cannot_publish_as_itself(client: TestClient, kob: Kob) -> None:
    r = client.post("/v1/notes", json={"author_id": kob.agency, "title": "t"}, headers=OPERATOR)
    assert (r.status_code, r.json()["field"]) == (422, "author_id")


def test_another_process_picks_up_new_and_restricted_notes(rt: Runtime, kob: Kob) -> None:
    """Two engines on one database, as two API workers: each sees what the other wrote, on its next sync."""
    here, there = ContentEngine(rt), ContentEngine(rt)
    note = do_create_note(rt, kob.stores[0], title="露营装备清单", body="帐篷和睡袋", actor=OP)
    assert here.sync() == 1
    assert [i.note_id for i in here.search("露营").items] == [note.id]
    assert there.search("露营").items == []
    there.sync()
    assert [i.note_id for i in there.search("露营").items] == [note.id]
    with rt.db.transaction() as s:  # in the same instant as the create: only the version tells them apart
        row = s.get_one(Note, note.id)
        row.status, row.updated_at = "restricted", rt.now()
    assert there.sync() == 1
    assert there.search("露营").items == []
    assert there.state.status[there.state.indices(np.array([note.id]))[0]] != 0
    assert there.sync() == 0  # nothing new: a sync that finds nothing applies nothing


def test_a_restarted_engine_rebuilds_from_state(rt: Runtime, kob: Kob) -> None:
    for i in range(30):
        do_create_note(rt, kob.stores[i % 3], title=f"咖啡探店 {i}", body="拿铁", actor=OP)
    fresh = ContentEngine(rt)
    assert fresh.sync() == 30
    assert fresh.search("咖啡", n=50).items.__len__() == 30
    assert fresh.state.n == 30


def test_suggestions_complete_from_titles_and_topics(client: TestClient, rt: Runtime, kob: Kob) -> None:
    post_note(client, kob.stores[0], "洗发水测评", topics=["洗发水推荐"])
    post_note(client, kob.stores[1], "这款洗发水真的好用")
    hidden = post_note(client, kob.stores[2], "洗发露开箱")

    def suggest(q: str) -> list[tuple[str, int]]:
        r = client.get("/v1/search/suggestions", params={"q": q}, headers=OPERATOR)
        assert r.status_code == 200, r.text
        return [(x["text"], x["notes"]) for x in r.json()["suggestions"]]

    assert suggest("洗发") == [("洗发水", 2), ("洗发露", 1), ("洗发水推荐", 1)]
    assert suggest("ＸＸ") == []
    with rt.db.transaction() as s:
        s.get_one(Note, hidden["id"]).status = "deleted"
    client.app.state.content.sync()  # type: ignore[attr-defined]
    assert suggest("洗发") == [("洗发水", 2), ("洗发水推荐", 1)]
    empty = client.get("/v1/search/suggestions", params={"q": " "}, headers=OPERATOR).json()
    assert (empty["code"], empty["field"]) == ("invalid_query", "q")


def test_engagements_become_events_and_counters(client: TestClient, rt: Runtime, kob: Kob) -> None:
    note = post_note(client, kob.stores[0], "露营装备", "帐篷")
    for consumer, kind in [(1, "read"), (1, "like"), (2, "like"), (2, "collect"), (3, "share"), (3, "follow")]:
        r = client.post(f"/v1/notes/{note['id']}/engagements", json={"consumer_id": consumer, "kind": kind},
                        headers=OPERATOR)
        assert r.status_code == 201, r.text
    assert r.json() == {"exposures": 0, "reads": 1, "likes": 2, "collects": 1, "comments": 0, "shares": 1,
                        "follows": 1}
    assert client.get(f"/v1/notes/{note['id']}", headers=OPERATOR).json()["stats"]["likes"] == 2
    # another process sees the same counters: they come from the events, not from this process
    other = ContentEngine(rt)
    other.sync()
    assert other.stats(note["id"]).likes == 2
    bad = client.post(f"/v1/notes/{note['id']}/engagements", json={"consumer_id": 1, "kind": "dislike"},
                      headers=OPERATOR).json()
    assert (bad["code"], bad["field"], "like" in bad["allowed"]) == ("invalid_engagement", "kind", True)


def test_the_event_store_receives_the_engagements(client: TestClient, rt: Runtime, kob: Kob) -> None:
    from zhongcao.events import EventStore, ingest

    note = post_note(client, kob.stores[0], "咖啡", "拿铁")
    for consumer in range(5):
        client.post(f"/v1/notes/{note['id']}/engagements", json={"consumer_id": consumer + 1, "kind": "like"},
                    headers=OPERATOR)
    with EventStore(rt.settings.resolved_events_path()) as store:  # the app's ingester may hold it; same process
        ingest(rt, store)
        t = store.events()
        assert store.run(t.filter(t.note_id == note["id"]).count()).as_py() == 5


def test_no_engagement_on_a_hidden_note(client: TestClient, rt: Runtime, kob: Kob) -> None:
    note = post_note(client, kob.stores[0], "旧帖", "下架")
    with rt.db.transaction() as s:
        s.get_one(Note, note["id"]).status = "restricted"
    r = client.post(f"/v1/notes/{note['id']}/engagements", json={"consumer_id": 1, "kind": "like"}, headers=OPERATOR)
    assert (r.status_code, r.json()["code"]) == (404, "note_not_found")


def test_the_feed_serves_trials_without_repeats_and_logs_impressions(client: TestClient, rt: Runtime,
                                                                    kob: Kob) -> None:
    notes = [post_note(client, kob.stores[i % 3], f"笔记 {i}", "日常", category="food" if i % 2 else "travel")["id"]
             for i in range(24)]

    def feed(consumer: int, n: int = 10) -> list[dict]:
        r = client.get("/v1/feed", params={"consumer_id": consumer, "n": n}, headers=OPERATOR)
        assert r.status_code == 200, r.text
        assert r.json()["policy"] == "feed.pools.v1"
        return r.json()["items"]

    first, second = feed(7), feed(7)
    assert [i["position"] for i in first] == list(range(1, 11))
    assert all(i["explore"] and 0 < i["propensity"] <= 1 for i in first)  # nothing promoted yet: all trials
    assert not {i["note_id"] for i in first} & {i["note_id"] for i in second}
    assert {i["note_id"] for i in first + second} <= set(notes)
    shown = first[0]["note_id"]
    assert client.get(f"/v1/notes/{shown}", headers=OPERATOR).json()["stats"]["exposures"] == 1
    bad = client.get("/v1/feed", params={"consumer_id": 7, "n": 0}, headers=OPERATOR).json()
    assert (bad["code"], bad["field"]) == ("invalid_request", "n")


def test_the_feed_is_replayable_with_the_same_seed(rt: Runtime, kob: Kob) -> None:
    for i in range(30):
        do_create_note(rt, kob.stores[0], title=f"穿搭 {i}", body="通勤", category="fashion", actor=OP)

    def run() -> list[int]:
        engine = ContentEngine(rt, rng=np.random.default_rng(42))
        engine.sync()
        return [i.note_id for i in engine.feed(3, 8).items]

    assert run() == run()


def test_a_feed_batch_serves_many_consumers_as_single_feeds_would(rt: Runtime, kob: Kob) -> None:
    for i in range(40):
        do_create_note(rt, kob.stores[0], title=f"穿搭 {i}", body="通勤", category="fashion", actor=OP)
    engine = ContentEngine(rt, rng=np.random.default_rng(1))
    engine.sync()
    consumers = np.array([11, 12, 13], dtype=np.int64)
    batch = engine.feed_batch(consumers, 6)
    for c in consumers:
        mine = batch.note_id[batch.consumer == c]
        assert len(mine) == 6
        assert len(set(mine.tolist())) == 6  # no repeats within a page
        assert sorted(batch.position[batch.consumer == c].tolist()) == list(range(1, 7))
    assert sum(engine.stats(int(n)).exposures for n in set(batch.note_id.tolist())) == 18
    again = engine.feed_batch(consumers[:1], 6)
    assert not set(again.note_id.tolist()) & set(batch.note_id[batch.consumer == 11].tolist())  # seen stays seen
    engine.flush()
    events = [t.events for t in tail(rt, datetime(2000, 1, 1, tzinfo=UTC))]
    shown = [(int(c), int(n)) for e in events for c, n, k in zip(e.column("consumer_id").to_pylist(),
                                                                 e.column("note_id").to_pylist(),
                                                                 e.column("kind").to_pylist(), strict=True)
             if k == EventKind.IMPRESSION]
    assert sorted(shown) == sorted([(int(c), int(n)) for c, n in zip(batch.consumer, batch.note_id, strict=True)]
                                   + [(11, int(n)) for n in again.note_id])


def test_consumers_met_in_big_batches_keep_their_own_rows(rt: Runtime, kob: Kob) -> None:
    """Batches find consumers through a table rebuilt as more arrive, the newest one by one: what each
    consumer likes follows them whichever way they are found, and a look-up adds no one."""
    food = do_create_note(rt, kob.stores[0], title="火锅", body="好吃", category="food", actor=OP).id
    trip = do_create_note(rt, kob.stores[0], title="海边", body="出发", category="travel", actor=OP).id
    engine = ContentEngine(rt, rng=np.random.default_rng(3))
    engine.sync()
    for wave in (np.arange(1, 3_001), np.arange(2_001, 6_001), np.arange(5_001, 5_100)[::-1]):
        engine.feed_batch(wave.astype(np.int64), 2)
    engine.record_engagement(food, 2_500, "like")  # met in the first wave: in the table
    engine.record_engagement(trip, 5_050, "like")  # met in the second: the table's or one by one
    engine.record_engagement(trip, 9_000, "like")  # met just now
    engine.sync()
    asked = np.arange(1, 10_001, dtype=np.int64)
    flags = engine.interest_flags(asked, 3)
    liked = {int(c): {CATEGORY_CODES[k] for k in np.flatnonzero(row)} for c, row in zip(asked, flags, strict=True)
             if row.any()}
    assert liked == {2_500: {"food"}, 5_050: {"travel"}, 9_000: {"travel"}}
    # a single consumer's look-up (search personalization, the interests API) finds the same row
    assert [engine.interests(c) for c in (2_500, 5_050, 9_000)] == [{"food": 1.0}, {"travel": 1.0}, {"travel": 1.0}]
    assert engine.interests(7_000) == {}  # asked about, never met: still unknown


def test_search_leans_towards_what_a_consumer_engages_with(client: TestClient, kob: Kob) -> None:
    food = post_note(client, kob.stores[0], "周末 好去处", "吃饭", category="food")
    trip = post_note(client, kob.stores[0], "周末 好去处", "吃饭", category="travel")
    other = post_note(client, kob.stores[1], "路边小吃", "吃饭", category="travel")
    for kind in ("like", "collect", "comment"):  # consumer 5 engages with travel
        client.post(f"/v1/notes/{other['id']}/engagements", json={"consumer_id": 5, "kind": kind}, headers=OPERATOR)
    def scores(consumer: int) -> dict[int, float]:
        return {i["note_id"]: i["score"] for i in search(client, "周末 好去处", consumer_id=consumer)["items"]}

    mine, stranger = scores(5), scores(999)
    assert mine[trip["id"]] > mine[food["id"]]
    assert stranger[trip["id"]] == stranger[food["id"]]  # equally relevant: only interest tells them apart
    ranked = [i["note_id"] for i in search(client, "周末 好去处", consumer_id=5)["items"]]
    assert ranked.index(trip["id"]) < ranked.index(food["id"])


def test_a_search_batch_ranks_each_consumer_as_a_single_search_would(rt: Runtime, kob: Kob) -> None:
    for i, category in enumerate(["food", "travel", "fashion"] * 5):
        do_create_note(rt, kob.stores[i % 2], title=f"周末 好去处 {i}", body="吃饭 逛街", category=category, actor=OP)
    do_create_note(rt, kob.stores[0], title="露营 装备", body="帐篷", category="travel", actor=OP)
    engine = ContentEngine(rt, rng=np.random.default_rng(1))
    engine.sync()
    trip = engine.search("露营").items[0].note_id
    for kind in ("like", "collect", "comment"):  # consumer 5 learns to like travel; 6 and 7 are strangers
        engine.record_engagement(trip, 5, kind)
    queries = ["周末 好去处", "露营", "周末 好去处", "量子力学", "周末 好去处"]  # 15 matches, 1, none
    consumers = np.array([5, 5, 6, 5, 7], dtype=np.int64)
    batch = engine.search_batch(queries, consumers, 4)
    assert not (batch.request == 3).any()
    assert len(engine.search_batch([], np.zeros(0, dtype=np.int64), 4).note_id) == 0
    for r, (query, consumer) in enumerate(zip(queries, consumers.tolist(), strict=True)):
        single = [i.note_id for i in engine.search(query, n=4, consumer_id=consumer).items]
        assert batch.note_id[batch.request == r].tolist() == single
        assert batch.position[batch.request == r].tolist() == list(range(1, len(single) + 1))
    assert batch.note_id[batch.request == 0].tolist() != batch.note_id[batch.request == 2].tolist()  # personal


def test_ranking_the_contenders_alone_gives_every_consumer_the_same_page() -> None:
    """Rows of tied and spread scores, rows short of a page and an empty one, consumers with and without a
    lift: the narrowed grid ranks each page exactly as the whole grid does."""
    rng = np.random.default_rng(5)
    spec, n = RankSpec(), 10
    lengths = np.array([100, 60, 10, 7, 0, 100])
    valid = np.arange(100)[None, :] < lengths[:, None]
    base = np.where(valid, np.round(rng.gamma(2.0, 1.0, valid.shape), 1), -np.inf)  # rounding makes ties
    categories = rng.integers(0, N_CATEGORIES, valid.shape)
    interest = rng.dirichlet(np.full(N_CATEGORIES, 0.3), 40).astype(np.float32)
    interest[:5] = 0  # strangers: no lift
    row = rng.integers(0, len(lengths), 40)

    def pages(base: np.ndarray, categories: np.ndarray, valid: np.ndarray, columns: np.ndarray) -> list[list[int]]:
        """Each consumer's page, as the matches' columns in the whole grid."""
        score = personal(base[row], categories[row], interest, spec)
        top = np.argsort(-score, axis=1, kind="stable")[:, :n]
        kept = np.take_along_axis(valid[row], top, axis=1)
        return [c[t][k].tolist() for c, t, k in zip(columns[row], top, kept, strict=True)]

    order, narrowed = contenders(base, valid, n, top_lift(interest, spec))
    assert order.shape[1] < 100
    assert narrowed.sum(axis=1).tolist()[2:5] == [10, 7, 0]  # short rows keep every match
    kept_base = np.where(narrowed, np.take_along_axis(base, order, axis=1), -np.inf)
    whole = pages(base, categories, valid, np.broadcast_to(np.arange(100), base.shape))
    assert pages(kept_base, np.take_along_axis(categories, order, axis=1), narrowed, order) == whole
    assert sum(map(len, whole)) > 0


def test_an_engaging_note_climbs_through_the_api_and_a_dull_one_stops(rt: Runtime, kob: Kob) -> None:
    """The closed loop over HTTP in simulated time: feed requests, engagements, and the pools they move."""
    configured = dataclasses.replace(rt, settings=rt.settings.model_copy(
        update={"pools": {"quotas": [20, 60, 200], "ces_weights": {"like": 1, "collect": 1, "comment": 4,
                                                                    "share": 4, "follow": 8}}}))
    with TestClient(create_app(configured, money_jobs=False)) as client:
        good = post_note(client, kob.creator, "秋冬口红色号推荐", "显白不挑皮", category="beauty")["id"]
        dull = post_note(client, kob.creator, "今天的午饭", "普通", category="food")["id"]
        creator = {"Authorization": f"Bearer {accounts.do_create_api_key(rt, kob.creator, actor=OP).key}"}
        assert isinstance(rt.clock, ManualClock)
        for consumer in range(1, 121):
            rt.clock.advance(timedelta(minutes=1))
            feed = client.get("/v1/feed", params={"consumer_id": consumer, "n": 2}, headers=OPERATOR).json()
            for item in feed["items"]:
                if item["note_id"] == good:
                    for kind in ("read", "like"):
                        r = client.post(f"/v1/notes/{good}/engagements", json={"consumer_id": consumer, "kind": kind},
                                        headers=OPERATOR)
                        assert r.status_code == 201, r.text
        climbed = client.get(f"/v1/notes/{good}", headers=creator).json()
        stopped = client.get(f"/v1/notes/{dull}", headers=creator).json()
        assert (climbed["distribution"]["pool"], climbed["distribution"]["climbing"]) == (2, True)
        assert (stopped["distribution"]["pool"], stopped["distribution"]["climbing"]) == (0, False)
        assert stopped["stats"]["exposures"] == 20  # exactly its trial
        assert climbed["stats"]["likes"] == climbed["stats"]["reads"] > 80
        stranger = accounts.do_create_api_key(rt, kob.other_store, actor=OP).key
        public = client.get(f"/v1/notes/{good}", headers={"Authorization": f"Bearer {stranger}"}).json()
        assert public["stats"] == climbed["stats"]
        assert public["distribution"] is None  # pools are the author's side's business
        stats = client.get(f"/v1/creators/{kob.creator}/stats", headers=OPERATOR).json()
        assert (stats["notes"], stats["interactions"]) == (2, climbed["stats"]["likes"])


def test_a_restricted_note_leaves_search_and_the_feed(client: TestClient, kob: Kob) -> None:
    note = post_note(client, kob.stores[0], "露营装备清单", "帐篷")["id"]
    assert [i["note_id"] for i in search(client, "露营")["items"]] == [note]
    r = client.post(f"/v1/notes/{note}/status", json={"status": "restricted", "reason": "虚假宣传"}, headers=OPERATOR)
    assert (r.status_code, r.json()["status"]) == (200, "restricted")
    assert search(client, "露营")["items"] == []
    feed = client.get("/v1/feed", params={"consumer_id": 1, "n": 5}, headers=OPERATOR).json()
    assert feed["items"] == []
    engaged = client.post(f"/v1/notes/{note}/engagements", json={"consumer_id": 1, "kind": "like"}, headers=OPERATOR)
    assert (engaged.status_code, engaged.json()["code"]) == (404, "note_not_found")
    audit = client.get(f"/v1/accounts/{kob.stores[0]}/audit", headers=OPERATOR).json()
    assert any(e["action"] == "note.status" and e["after"]["reason"] == "虚假宣传" for e in audit)
