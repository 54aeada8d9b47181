"""Commerce throughput: orders per second on SQLite and PostgreSQL, DM messages per second through the
contact rule, and lead-webhook deliveries per second to a local CRM.

Prints JSON. Each figure has a baseline measured in the same run, so the ratios travel across machines:
- orders: one bare write transaction (a single-row insert), the floor any order pays;
- the contact rule: a naive scan for 11 digits in a row, which catches far less;
- webhooks: raw HTTP posts to the same receiver, the ceiling a delivery can reach.

    uv run python benchmarks/commerce.py [--orders 2000] [--messages 20000] [--leads 1000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text

from zhongcao import accounts, commerce
from zhongcao.accounts import Actor
from zhongcao.core import Conflict, Database, Runtime, Settings
from zhongcao.events import EventIds
from zhongcao.migrations import upgrade

OP = Actor.operator()
MESSAGES = ["请问这款面霜适合油皮吗", "周末门店几点开门？", "我的电话 138 0013 8000 回电", "加我微信 lily_beauty88",
            "订单号 202611261380013800 还没发货", "价格 13800 元能便宜点吗", "扫码 https://u.wechat.com/abcdEFG",
            "型号 iPhone 15 Pro Max 256GB 有货吗", "幺三八零零幺三八零零零", "好的谢谢，明天到店"]


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def orders(rt: Runtime, n: int, threads: int = 8) -> dict[str, Any]:
    store = accounts.do_create_account(rt, "store", "bench store", actor=OP).id
    rt.settings.shop_min_followers = 0
    commerce.do_open_shop(rt, store, followers=0, actor=OP)
    products = [commerce.do_create_product(rt, store, name=f"SPU {i}", price_fen=9_900, category="beauty",
                                           stock=10**8, actor=OP).id for i in range(20)]
    ids = EventIds(rt.clock)
    source = commerce.Source("search", "面霜")

    t = time.perf_counter()
    for i in range(n // 4):
        with rt.db.transaction() as s:
            s.execute(text("INSERT INTO commerce_featured_note (account_id, note_id, featured_at) "
                           "VALUES (:a, :n, :t)"), {"a": store, "n": i + 1, "t": rt.now()})
    bare = rate(n // 4, time.perf_counter() - t)

    t = time.perf_counter()
    made = [commerce.do_create_order(rt, ids, 1 + i, [(products[i % 20], 1)], source, actor=OP).id for i in range(n)]
    create = rate(n, time.perf_counter() - t)
    t = time.perf_counter()
    for order in made:
        commerce.do_order_transition(rt, ids, order, "pay", actor=OP)
    pay = rate(n, time.perf_counter() - t)

    def shopper(k: int) -> None:
        for i in range(n // threads):
            commerce.do_create_order(rt, ids, 20_000 + k, [(products[(k + i * threads) % 20], 1)], source, actor=OP)

    t = time.perf_counter()
    workers = [threading.Thread(target=shopper, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    spread = rate(n // threads * threads, time.perf_counter() - t)

    hot = commerce.do_create_product(rt, store, name="限量 Limited", price_fen=100, category="beauty", stock=n // 2,
                                     actor=OP).id
    sold, refused = [0] * threads, [0] * threads

    def buyer(k: int) -> None:
        for _ in range(n // threads):
            try:
                commerce.do_create_order(rt, ids, 10_000 + k, [(hot, 1)], source, actor=OP)
                sold[k] += 1
            except Conflict:
                refused[k] += 1

    t = time.perf_counter()
    workers = [threading.Thread(target=buyer, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    contended = rate(sum(sold) + sum(refused), time.perf_counter() - t)
    left = commerce.get_product(rt, hot).stock
    return {"bare_write_transactions_per_s": bare, "orders_created_per_s": create, "orders_paid_per_s": pay,
            "orders_vs_bare_transaction": round(create / bare, 3),
            f"orders_per_s_{threads}_threads_20_products": spread,
            f"contended_orders_per_s_{threads}_threads_one_product": contended,
            "oversold": sum(sold) + left != n // 2 or left < 0, "sold": sum(sold), "stock_left": left}


def contact_rule(n: int, rt: Runtime) -> dict[str, Any]:
    texts = [MESSAGES[i % len(MESSAGES)] + f" {i % 7}" for i in range(n)]
    naive = re.compile(r"\d{11}")
    t = time.perf_counter()
    caught_naive = sum(1 for x in texts if naive.search(x))
    naive_rate = rate(n, time.perf_counter() - t)
    t = time.perf_counter()
    caught = sum(1 for x in texts if commerce.find_contacts(x))
    filter_rate = rate(n, time.perf_counter() - t)

    store = accounts.do_create_account(rt, "store", "dm store", actor=OP).id
    ids = EventIds(rt.clock)
    conversation = commerce.do_open_conversation(rt, ids, 1, store, commerce.Source("profile", str(store)), actor=OP)
    rt.settings.dm_contact_rule = "mask"
    m = min(n, 2_000)
    t = time.perf_counter()
    for x in texts[:m]:
        commerce.do_post_message(rt, conversation.id, "consumer", x, actor=OP)
    stored = rate(m, time.perf_counter() - t)
    return {"filter_messages_per_s": filter_rate, "naive_11_digit_scan_per_s": naive_rate,
            "filter_vs_naive_scan": round(filter_rate / naive_rate, 3),
            "caught_share": round(caught / n, 3), "naive_caught_share": round(caught_naive / n, 3),
            "dm_messages_stored_per_s_sqlite": stored}


class Receiver:
    """A CRM on 127.0.0.1 that answers 200 to every post."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhooks(rt: Runtime, leads: int) -> dict[str, Any]:
    crm = Receiver()
    try:
        store = accounts.do_create_account(rt, "store", "crm store", actor=OP).id
        rt.settings.webhook_allow_private = True  # the benchmark CRM listens on 127.0.0.1
        commerce.do_set_webhook(rt, store, crm.url, actor=OP)
        ids = EventIds(rt.clock)
        for i in range(leads):
            c = commerce.do_open_conversation(rt, ids, i + 1, store, commerce.Source("profile", str(store)), actor=OP)
            commerce.do_lead_card(rt, ids, c.id, "phone", "13800138000", actor=OP)
        with httpx.Client() as client:
            t = time.perf_counter()
            for _ in range(leads):
                client.post(crm.url, content=b'{"lead_id":1}')
            raw = rate(leads, time.perf_counter() - t)
            t = time.perf_counter()
            sent = 0
            while (done := commerce.deliver_due(rt, client, np.random.default_rng(0), limit=200)) > 0:
                sent += done
            delivered = rate(sent, time.perf_counter() - t)
        return {"webhook_deliveries_per_s": delivered, "raw_http_posts_per_s": raw,
                "deliveries_vs_raw_posts": round(delivered / raw, 3), "delivered": sent}
    finally:
        crm.close()


def run(rt: Runtime, args: argparse.Namespace) -> dict[str, Any]:
    return {"orders": orders(rt, args.orders), "webhooks": webhooks(rt, args.leads)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("ZHONGCAO_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    results: dict[str, Any] = {"orders": args.orders, "messages": args.messages, "leads": args.leads}
    with tempfile.TemporaryDirectory() as d:
        db = Database(f"sqlite:///{d}/bench.db")
        upgrade(db)
        rt = Runtime(db=db, settings=Settings(home=d))  # type: ignore[call-arg]
        results["contact_rule"] = contact_rule(args.messages, rt)
        results["sqlite"] = run(rt, args)
        db.dispose()
    schema = f"zc_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # no server: say so in the figures rather than fail
        results["postgres"] = {"skipped": f"no PostgreSQL at {args.postgres}: {type(exc).__name__}"}
    else:
        try:
            db = Database(args.postgres, schema=schema)
            upgrade(db)
            results["postgres"] = run(Runtime(db=db, settings=Settings()), args)
            db.dispose()
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
