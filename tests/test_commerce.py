"""Commerce over HTTP: products and the shop, the order and refund state machines, no oversell under
concurrency, live rooms and their GMV, and the events each step emits."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import OP, OPERATOR, Kob, call, key
from zhongcao import ads, commerce
from zhongcao.core import Conflict, Invalid, NotFound, Runtime
from zhongcao.events import EventIds, EventKind, EventStore


def note(client: TestClient, author: int, title: str = "新品测评 review") -> int:
    return int(call(client, "POST", "/v1/notes", {"author_id": author, "title": title, "body": "好用"},
                    status=201)["id"])


def shop(rt: Runtime, client: TestClient, seller: int, *, price: int = 9_900, stock: int = 100) -> int:
    """A seller with an open shop and one product; returns the product id."""
    rt.settings.shop_min_followers = 0
    call(client, "POST", f"/v1/accounts/{seller}/shop", status=201)
    return int(call(client, "POST", "/v1/products", {"account_id": seller, "name": "面霜 Cream", "price_fen": price,
                                                     "category": "beauty", "stock": stock}, status=201)["id"])


def events(client: TestClient, tmp_path: object) -> list[dict]:
    """Every event that reached the store, after an ingest."""
    client.app.state.ingester(everything=True)  # type: ignore[attr-defined]
    store: EventStore = client.app.state.ingester.store  # type: ignore[attr-defined]
    return store.run(store.events().order_by("event_id")).to_pylist()


def test_a_shop_opens_at_its_follower_threshold(rt: Runtime, client: TestClient, kob: Kob) -> None:
    store = kob.stores[0]
    rt.settings.shop_min_followers = 2
    n = note(client, store)
    refused = call(client, "POST", f"/v1/accounts/{store}/shop", status=409)
    assert refused["code"] == "shop_not_eligible"
    assert refused["allowed"] == ">= 2"
    assert call(client, "GET", f"/v1/accounts/{store}/shop")["open"] is False
    for consumer in (11, 12):
        call(client, "POST", f"/v1/notes/{n}/engagements", {"consumer_id": consumer, "kind": "follow"}, status=201)
    opened = call(client, "POST", f"/v1/accounts/{store}/shop", headers=key(rt, store), status=201)
    assert opened["open"] is True
    assert opened["followers_at_open"] == 2


def test_an_order_needs_an_open_shop_and_records_its_source(rt: Runtime, client: TestClient, kob: Kob) -> None:
    store = kob.stores[0]
    product = int(call(client, "POST", "/v1/products", {"account_id": store, "name": "面霜", "price_fen": 100,
                                                        "category": "beauty", "stock": 5}, status=201)["id"])
    n = note(client, store)
    order = {"consumer_id": 7, "items": [{"product_id": product, "qty": 2}], "source": {"kind": "note", "id": n}}
    assert call(client, "POST", "/v1/orders", order, status=409)["code"] == "shop_not_open"
    rt.settings.shop_min_followers = 0
    call(client, "POST", f"/v1/accounts/{store}/shop", status=201)
    made = call(client, "POST", "/v1/orders", order, status=201)
    assert (made["status"], made["total_fen"]) == ("created", 200)
    assert made["source"]["kind"] == "note"
    assert made["source"]["note_id"] == n
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 3
    bad = call(client, "POST", "/v1/orders", order | {"source": {"kind": "note", "id": 999_999}}, status=422)
    assert (bad["code"], bad["field"]) == ("invalid_source", "source.id")
    # A store's own key cannot place orders for consumers: the platform's app does.
    assert call(client, "POST", "/v1/orders", order, headers=key(rt, store), status=403)["code"] == "operator_only"
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 3


def test_order_state_machine(rt: Runtime, client: TestClient, kob: Kob) -> None:
    store = kob.stores[0]
    product = shop(rt, client, store, stock=10)
    store_key = key(rt, store)

    def order(qty: int = 1) -> int:
        return int(call(client, "POST", "/v1/orders", {"consumer_id": 5, "items": [{"product_id": product, "qty": qty}],
                                                       "source": {"kind": "search", "id": "面霜"}}, status=201)["id"])

    def act(order_id: int, action: str, status: int = 200, headers: dict[str, str] = OPERATOR) -> dict:
        return call(client, "POST", f"/v1/orders/{order_id}/{action}", headers=headers, status=status)

    first = order(2)
    for refused in ("ship", "complete", "refund"):
        body = act(first, refused, 409, store_key if refused != "complete" else OPERATOR)
        assert body["code"] == "invalid_order_transition"
    assert act(first, "pay")["status"] == "paid"
    assert act(first, "pay", 409)["allowed"] == ["created"]
    assert act(first, "complete", 409)["code"] == "invalid_order_transition"
    assert act(first, "ship", headers=store_key)["status"] == "shipped"
    assert act(first, "complete")["status"] == "completed"
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 8  # shipped goods do not come back by refund
    assert act(first, "refund", headers=store_key)["status"] == "refunded"
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 8
    assert act(first, "refund", 409)["code"] == "invalid_order_transition"

    paid = order(3)
    act(paid, "pay")
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 5
    assert act(paid, "refund")["status"] == "refunded"  # before shipping: the stock returns
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 8

    late = order()
    act(late, "pay")
    rt.clock.advance(timedelta(days=rt.settings.refund_days, seconds=1))  # type: ignore[attr-defined]
    closed = act(late, "refund", 409)
    assert closed["code"] == "refund_window_closed"
    assert call(client, "GET", f"/v1/orders/{late}")["status"] == "paid"

    unpaid = order(4)
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 3
    rt.clock.advance(timedelta(minutes=rt.settings.order_pay_minutes, seconds=1))  # type: ignore[attr-defined]
    assert act(unpaid, "pay", 409)["code"] == "invalid_order_transition"
    assert commerce.expire_unpaid_orders(rt, EventIds(rt.clock)) == 1
    assert call(client, "GET", f"/v1/orders/{unpaid}")["status"] == "cancelled"
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 7
    cancelled = order()
    assert act(cancelled, "cancel")["status"] == "cancelled"
    assert act(cancelled, "pay", 409)["code"] == "invalid_order_transition"
    assert call(client, "GET", f"/v1/products/{product}")["stock"] == 7


def test_orders_emit_order_paid_and_refund_events(rt: Runtime, client: TestClient, kob: Kob, tmp_path: object) -> None:
    store = kob.stores[0]
    product = shop(rt, client, store, price=1_250)
    n = note(client, store)
    made = call(client, "POST", "/v1/orders", {"consumer_id": 9, "items": [{"product_id": product, "qty": 2}],
                                               "source": {"kind": "note", "id": n}}, status=201)
    call(client, "POST", f"/v1/orders/{made['id']}/pay")
    call(client, "POST", f"/v1/orders/{made['id']}/refund")
    got = [e for e in events(client, tmp_path) if e["order_id"] == made["id"]]
    assert [e["kind"] for e in got] == [EventKind.ORDER, EventKind.ORDER_PAID, EventKind.REFUND]
    assert {(e["consumer_id"], e["note_id"], e["store_id"], e["value_fen"], e["source"]) for e in got} == {
        (9, n, store, 2_500, "note")}
    assert got[0]["quantity"] == 2


def limited(rt: Runtime, store: int, stock: int) -> int:
    """A store with an open shop and ``stock`` units of one product at ¥1; returns the product id."""
    rt.settings.shop_min_followers = 0
    commerce.do_open_shop(rt, store, followers=0, actor=OP)
    return commerce.do_create_product(rt, store, name="限量 Limited", price_fen=100, category="beauty", stock=stock,
                                      actor=OP).id


def test_eight_threads_never_oversell_the_last_ten_units(rt: Runtime, kob: Kob) -> None:
    product = limited(rt, kob.stores[0], 10)
    ids = EventIds(rt.clock)
    sold: list[int] = []
    refused: list[str] = []
    barrier = threading.Barrier(8)

    def buyer(consumer: int) -> None:
        barrier.wait()
        for _ in range(5):
            try:
                sold.append(commerce.do_create_order(rt, ids, consumer, [(product, 1)], commerce.Source("search", "q"),
                                                     actor=OP).id)
            except Conflict as exc:
                refused.append(exc.code)

    threads = [threading.Thread(target=buyer, args=(c,)) for c in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sold) == 10
    assert len(set(sold)) == 10
    assert refused == ["out_of_stock"] * 30
    assert commerce.get_product(rt, product).stock == 0
    from zhongcao.commerce.models import OrderItemRow

    with rt.db.read() as s:
        assert s.scalar(select(func.sum(OrderItemRow.qty))) == 10


def test_live_room_counts_entries_watch_time_and_gmv(rt: Runtime, client: TestClient, kob: Kob,
                                                     tmp_path: object) -> None:
    host = kob.stores[0]
    product = shop(rt, client, host, price=5_000)
    other = int(call(client, "POST", "/v1/products", {"account_id": host, "name": "不在直播 Not live",
                                                      "price_fen": 100, "category": "beauty", "stock": 5},
                     status=201)["id"])
    host_key = key(rt, host)
    live = call(client, "POST", "/v1/live-sessions", {"host_account_id": host, "title": "周末直播 Weekend live",
                                                      "product_ids": [product]}, headers=host_key, status=201)
    lid = live["id"]
    assert live["status"] == "scheduled"
    for consumer in (1, 2, 2):
        reserved = call(client, "POST", f"/v1/live-sessions/{lid}/reservations", {"consumer_id": consumer},
                        status=201)
    assert reserved["reservations"] == 2
    join = {"consumer_id": 1, "source": {"kind": "follow", "id": host}}  # a follower, from the go-live notice
    assert call(client, "POST", f"/v1/live-sessions/{lid}/viewers", join, status=409)["code"] == "live_not_started"
    call(client, "POST", f"/v1/live-sessions/{lid}/start", headers=host_key)
    n = note(client, host)
    call(client, "POST", f"/v1/live-sessions/{lid}/viewers", join, status=201)
    again = call(client, "POST", f"/v1/live-sessions/{lid}/viewers", join, status=201)  # a reconnect, not an entry
    call(client, "POST", f"/v1/live-sessions/{lid}/viewers", {"consumer_id": 2, "source": {"kind": "note", "id": n}},
         status=201)
    call(client, "POST", f"/v1/live-sessions/{lid}/pin", {"product_id": product}, headers=host_key)
    assert call(client, "POST", f"/v1/live-sessions/{lid}/pin", {"product_id": other}, headers=host_key,
                status=422)["code"] == "invalid_live"
    rt.clock.advance(timedelta(seconds=3))  # type: ignore[attr-defined]
    assert call(client, "POST", f"/v1/live-sessions/{lid}/viewers/2/leave")["closed"] == 1
    call(client, "POST", f"/v1/live-sessions/{lid}/activity", {"consumer_id": 1, "kind": "follow"}, status=201)
    call(client, "POST", f"/v1/live-sessions/{lid}/activity", {"consumer_id": 1, "kind": "follow"}, status=201)
    call(client, "POST", f"/v1/live-sessions/{lid}/activity", {"consumer_id": 1, "kind": "comment", "text": "多少钱"},
         status=201)
    refused = call(client, "POST", f"/v1/live-sessions/{lid}/activity",
                   {"consumer_id": 1, "kind": "comment", "text": "加我微信 abc_12345"}, status=422)
    assert refused["code"] == "contact_info_not_allowed"

    live_order = {"consumer_id": 1, "items": [{"product_id": product, "qty": 1}], "source": {"kind": "live", "id": lid}}
    paid = [call(client, "POST", "/v1/orders", live_order, status=201)["id"] for _ in range(3)]
    unpaid = call(client, "POST", "/v1/orders", live_order, status=201)["id"]
    for order_id in paid:
        call(client, "POST", f"/v1/orders/{order_id}/pay")
    not_linked = call(client, "POST", "/v1/orders", live_order | {"items": [{"product_id": other, "qty": 1}]},
                      status=422)
    assert not_linked["code"] == "invalid_source"
    rt.clock.advance(timedelta(seconds=57))  # type: ignore[attr-defined]
    call(client, "POST", f"/v1/live-sessions/{lid}/end", headers=host_key)
    replay = call(client, "POST", f"/v1/live-sessions/{lid}/viewers", join | {"consumer_id": 3}, status=201)
    assert replay["replay"] is True
    assert again["joined_at"] == call(client, "GET", f"/v1/live-sessions/{lid}", headers=host_key)["started_at"]

    r = call(client, "GET", f"/v1/live-sessions/{lid}", headers=host_key)
    assert (r["status"], r["reservations"], r["viewers"], r["unique_viewers"], r["replay_viewers"]) == (
        "ended", 2, 3, 3, 1)
    assert r["engaged_entries"] == 1  # 60 s; the 3-second entry and the fresh replay are not
    assert r["avg_watch_minutes"] == pytest.approx((60 + 3 + 0) / 3 / 60, abs=1e-3)
    assert r["entries_by_source"] == {"follow": 2, "note": 1}
    assert (r["new_followers"], r["comments"], r["orders"], r["paid_orders"]) == (1, 1, 4, 3)
    assert r["gmv_fen"] == 3 * 5_000 == sum(call(client, "GET", f"/v1/orders/{o}")["total_fen"] for o in paid)
    assert unpaid not in paid
    assert (r["ad_spend_fen"], r["roi"]) == (0, None)
    assert call(client, "GET", f"/v1/live-sessions/{lid}", headers=key(rt, kob.stores[1]), status=404)["code"] == (
        "live_session_not_found")

    got = events(client, tmp_path)
    assert sum(1 for e in got if e["kind"] == EventKind.LIVE_VIEW and e["live_id"] == lid) == 3
    assert sum(1 for e in got if e["kind"] == EventKind.LIVE_ORDER and e["live_id"] == lid) == 4
    follows = [e for e in got if e["kind"] == EventKind.FOLLOW and e["live_id"] == lid]
    assert [(e["consumer_id"], e["creator_id"]) for e in follows] == [(1, host)]


def test_an_ad_click_into_a_live_room_prices_its_roi_and_attributes_its_orders(rt: Runtime, client: TestClient,
                                                                               kob: Kob) -> None:
    from test_ads_serving import advertise, click, feed_ads, fund, organic, settle

    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    unit, note_id = advertise(rt, store, 200)
    organic(rt, kob.creator)
    settle(client)
    served = feed_ads(client, 31)
    assert served, "the campaign serves"
    click_id = served[0]["ad"]["click_id"]
    charged = click(client, click_id)["charged_fen"]
    assert charged > 0

    product = shop(rt, client, store, price=30_000)
    live = call(client, "POST", "/v1/live-sessions",
                {"host_account_id": store, "title": "直播", "product_ids": [product]}, status=201)["id"]
    call(client, "POST", f"/v1/live-sessions/{live}/start")
    stranger = call(client, "POST", f"/v1/live-sessions/{live}/viewers",
                    {"consumer_id": 32, "source": {"kind": "ad", "id": click_id}}, status=422)
    assert (stranger["code"], stranger["detail"]) == ("invalid_source", "the ad click was another consumer's")
    call(client, "POST", f"/v1/live-sessions/{live}/viewers",
         {"consumer_id": 31, "source": {"kind": "ad", "id": click_id}}, status=201)
    order = call(client, "POST", "/v1/orders", {"consumer_id": 31, "items": [{"product_id": product, "qty": 1}],
                                                "source": {"kind": "live", "id": live}}, status=201)
    assert order["source"] | {"id": None} == {"kind": "live", "id": None, "note_id": note_id, "live_id": live,
                                              "campaign_id": ads.get_unit(rt, unit, actor=OP).campaign_id}
    call(client, "POST", f"/v1/orders/{order['id']}/pay")
    room = call(client, "GET", f"/v1/live-sessions/{live}")
    assert (room["gmv_fen"], room["ad_spend_fen"]) == (30_000, charged)
    assert room["roi"] == round(30_000 / charged, 4)


def test_shop_visits_and_the_cart_emit_their_events_and_an_order_empties_the_cart(
        rt: Runtime, client: TestClient, kob: Kob, tmp_path: object) -> None:
    store = kob.stores[0]
    product = shop(rt, client, store, price=2_000)
    n = note(client, store)
    visit = {"consumer_id": 4, "account_id": store, "product_id": product, "source": {"kind": "note", "id": n}}
    call(client, "POST", "/v1/shop-visits", visit, status=201)
    other_shop = call(client, "POST", "/v1/shop-visits", visit | {"account_id": kob.stores[1]}, status=404)
    assert other_shop["code"] == "product_not_found"  # the product is not that shop's
    add = {"consumer_id": 4, "product_id": product, "qty": 2, "source": {"kind": "note", "id": n}}
    call(client, "POST", "/v1/cart-items", add, status=201)
    cart = call(client, "POST", "/v1/cart-items", add | {"qty": 1}, status=201)
    assert [(i["product_id"], i["qty"]) for i in cart["items"]] == [(product, 3)]
    assert cart["total_fen"] == 6_000
    assert call(client, "GET", "/v1/carts/4", headers=key(rt, store), status=403)["code"] == "operator_only"
    call(client, "POST", "/v1/orders", {"consumer_id": 4, "items": [{"product_id": product, "qty": 3}],
                                        "source": {"kind": "note", "id": n}}, status=201)
    assert call(client, "GET", "/v1/carts/4")["items"] == []
    got = [e for e in events(client, tmp_path) if e["consumer_id"] == 4]
    assert [(e["kind"], e["product_id"], e["quantity"], e["note_id"]) for e in got] == [
        (EventKind.SHOP_VISIT, product, None, n), (EventKind.ADD_TO_CART, product, 2, n),
        (EventKind.ADD_TO_CART, product, 1, n), (EventKind.ORDER, product, 3, n)]


def test_notes_link_products_that_exist_and_an_spu_unit_needs_five_to_fifty_of_them(
        rt: Runtime, client: TestClient, kob: Kob) -> None:
    store = kob.stores[0]
    product = shop(rt, client, store)
    missing = call(client, "POST", "/v1/notes", {"author_id": store, "title": "t", "product_ids": [999_999]},
                   status=404)
    assert missing["code"] == "product_not_found"
    twice = call(client, "POST", "/v1/notes", {"author_id": store, "title": "t", "product_ids": [product, product]},
                 status=422)
    assert (twice["code"], twice["field"]) == ("invalid_note", "product_ids")
    linked = [int(call(client, "POST", "/v1/notes", {"author_id": store, "title": f"种草 {i}",
                                                     "product_ids": [product]}, status=201)["id"]) for i in range(5)]
    plain = note(client, store)
    campaign = ads.do_create_campaign(rt, store, {"name": "SPU", "objective": "product_sales", "placement": "feed",
                                                  "bidding": "manual", "optimize_for": "click"}, actor=OP).id
    unit = {"campaign_id": campaign, "name": "SPU", "bid_fen": 100, "product_id": product}
    few = call(client, "POST", "/v1/units", unit | {"note_ids": linked[:4]}, status=422)
    assert (few["code"], few["allowed"]) == ("invalid_unit", "5..50 note ids")
    unlinked = call(client, "POST", "/v1/units", unit | {"note_ids": [*linked[:4], plain]}, status=422)
    assert unlinked["detail"] == f"notes [{plain}] do not link product {product}"
    made = call(client, "POST", "/v1/units", unit | {"note_ids": linked}, status=201)
    assert made["product_id"] == product
    assert call(client, "PATCH", f"/v1/units/{made['id']}", {"note_ids": linked[:3]}, status=422)["code"] == (
        "invalid_unit")


def test_viewers_joining_together_enter_as_each_would_alone(rt: Runtime, client: TestClient, kob: Kob,
                                                            tmp_path: object) -> None:
    """``do_join_many``: one transaction and one event batch, with do_join's rules: a viewer already in the
    room keeps the entry, a room not started refuses the whole batch and records nothing."""
    host = kob.stores[0]
    product = shop(rt, client, host)
    live = commerce.do_create_live(rt, host, title="新品直播 Launch", product_ids=[product], actor=OP)
    ids = EventIds(rt.clock, node=7)  # beside the server's own generator
    follow = commerce.Source("follow", str(host))
    with pytest.raises(Conflict) as refused:
        commerce.do_join_many(rt, ids, live.id, [(1, follow), (2, follow)], actor=OP)
    assert refused.value.code == "live_not_started"
    assert commerce.room(rt, live.id, actor=OP).viewers == 0
    commerce.do_live_transition(rt, live.id, "start", actor=OP)
    first = commerce.do_join(rt, ids, live.id, 1, follow, actor=OP)
    n = note(client, host)
    entries = commerce.do_join_many(rt, ids, live.id, [(1, follow), (2, commerce.Source("note", str(n), note_id=n)),
                                                       (3, follow), (2, follow)], actor=OP)
    assert [e.consumer_id for e in entries] == [1, 2, 3, 2]
    assert entries[0].id == first.id  # already inside: the same entry
    assert entries[1].id == entries[3].id
    report = commerce.room(rt, live.id, actor=OP)
    assert (report.viewers, report.entries_by_source) == (3, {"follow": 2, "note": 1})
    views = [e for e in events(client, tmp_path) if e["kind"] == EventKind.LIVE_VIEW and e["live_id"] == live.id]
    assert sorted((e["consumer_id"], e["note_id"], e["store_id"]) for e in views) == [
        (1, None, host), (2, n, host), (3, None, host)]


def _order_events(rt: Runtime) -> list[dict]:
    from zhongcao.events import pending

    with rt.db.read() as s:
        rows = [r for t in pending(s) for r in t.events.to_pylist() if r["order_id"] is not None]
    return [{k: v for k, v in r.items() if k not in ("event_id", "ts")} for r in rows]


def test_orders_placed_and_paid_in_a_batch_are_the_orders_placed_one_by_one(rt: Runtime, kob: Kob) -> None:
    store, other = kob.stores[0], kob.stores[1]
    rt.settings.shop_min_followers = 0
    for seller in (store, other):
        commerce.do_open_shop(rt, seller, followers=0, actor=OP)
    cream, serum = (commerce.do_create_product(rt, store, name=n, price_fen=p, category="beauty", stock=50, actor=OP).id
                    for n, p in (("面霜", 1_000), ("精华", 2_500)))
    theirs = commerce.do_create_product(rt, other, name="面膜", price_fen=300, category="beauty", stock=50, actor=OP).id
    asks = [commerce.OrderAsk(7, [(cream, 2)], commerce.Source("search", "面霜")),
            commerce.OrderAsk(8, [(serum, 1), (cream, 1)], commerce.Source("search", "精华")),
            commerce.OrderAsk(7, [(theirs, 3)], commerce.Source("search", "面膜"))]
    ids = EventIds(rt.clock)
    one_by_one = [commerce.do_create_order(rt, ids, a.consumer_id, a.items, a.source, actor=OP) for a in asks]
    paid_alone = [commerce.do_order_transition(rt, ids, o.id, "pay", actor=OP) for o in one_by_one]
    alone = _order_events(rt)
    batch = commerce.do_create_orders(rt, ids, asks, actor=OP)
    paid = commerce.do_order_transition_many(rt, ids, [o.id for o in batch], "pay", actor=OP)

    def same(view: commerce.OrderView) -> tuple:
        items = sorted(view.items, key=lambda i: i.product_id)
        return (view.consumer_id, view.seller_id, view.status, view.total_fen, items, view.source)

    assert [same(v) for v in batch] == [same(v) for v in one_by_one]
    assert [same(v) for v in paid] == [same(v) for v in paid_alone]
    assert [v.total_fen for v in paid] == [2_000, 3_500, 900]
    assert [v.status for v in paid] == ["paid"] * 3
    assert [commerce.get_product(rt, p).stock for p in (cream, serum, theirs)] == [44, 48, 44]
    together = _order_events(rt)[len(alone):]
    key = {o.id: k for k, o in enumerate(one_by_one)} | {o.id: k for k, o in enumerate(batch)}

    def shape(rows: list[dict]) -> list[tuple]:
        return sorted((r["kind"], key[r["order_id"]], *sorted((k, str(v)) for k, v in r.items() if k != "order_id"))
                      for r in rows)

    assert shape(together) == shape(alone)
    assert len(together) == 6


def test_a_refused_order_batch_names_the_order_and_changes_nothing(rt: Runtime, kob: Kob) -> None:
    product = limited(rt, kob.stores[0], 5)
    ids = EventIds(rt.clock)
    first = commerce.do_create_order(rt, ids, 1, [(product, 1)], commerce.Source("search", "q"), actor=OP)
    before = (_order_events(rt), commerce.get_product(rt, product).stock)
    asks = [commerce.OrderAsk(c, [(product, 2)], commerce.Source("search", "q")) for c in (2, 3, 4)]
    with pytest.raises(Conflict) as refused:
        commerce.do_create_orders(rt, ids, asks, actor=OP)
    assert (refused.value.code, refused.value.field, refused.value.allowed) == (
        "out_of_stock", "orders[2].items.qty", "at most 0")
    with pytest.raises(NotFound):  # the second order does not exist: neither is paid
        commerce.do_order_transition_many(rt, ids, [first.id, first.id + 10**6], "pay", actor=OP)
    assert (_order_events(rt), commerce.get_product(rt, product).stock) == before
    commerce.do_order_transition(rt, ids, first.id, "pay", actor=OP)
    second = commerce.do_create_order(rt, ids, 5, [(product, 1)], commerce.Source("search", "q"), actor=OP)
    paid_before = (_order_events(rt), commerce.get_product(rt, product).stock)
    with pytest.raises(Conflict) as again:  # the second order is paid already: neither is paid now
        commerce.do_order_transition_many(rt, ids, [second.id, first.id], "pay", actor=OP)
    assert (again.value.code, again.value.field) == ("invalid_order_transition", "order_ids[1].status")
    assert (_order_events(rt), commerce.get_product(rt, product).stock) == paid_before
    assert commerce.get_order(rt, second.id, actor=OP).status == "created"
    assert before[1] == 4
    assert paid_before[1] == 3
    with pytest.raises(Invalid) as bad:
        commerce.do_create_orders(rt, ids, [asks[0], commerce.OrderAsk(6, [(product, 0)], asks[0].source)], actor=OP)
    assert (bad.value.code, bad.value.field) == ("invalid_order", "orders[1].items.qty")
