"""The real thing: `zhongcao serve` in its own process, on a free 127.0.0.1 port, driven over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from conftest import OP, PG_URL, Kob, assert_books, make_db
from zhongcao.core import Database, Runtime
from zhongcao.events.models import OutboxBatch

TOKEN = "e2e-operator-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], port: int) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    """Start a server and wait for its health check; a slow machine gets a minute. The server runs in its
    own process group, so a failed start takes its worker processes down with it."""
    log = Path(env["ZHONGCAO_HOME"]) / "server.log"  # a file, not a pipe: a full pipe would block the server
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "zhongcao", "serve", "--port", str(port), *args], env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if client.get("/v1/health", timeout=2).status_code == 200:
                return proc, client
        except httpx.TransportError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    pytest.fail(f"server did not start: {log.read_text(errors='replace')}")


@pytest.fixture
def server(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[httpx.Client]:
    """The embedded default on SQLite; on PostgreSQL, the run's schema, emptied, through the URL."""
    port = free_port()
    env = {**os.environ, "ZHONGCAO_HOME": str(tmp_path / "home"), "ZHONGCAO_ADMIN_TOKEN": TOKEN,
           "ZHONGCAO_LEASE_SWEEP_SECONDS": "0.2", "ZHONGCAO_LEASE_SETTLE_GRACE_SECONDS": "0",
           "ZHONGCAO_CREATOR_STATS_SECONDS": "0.5", "ZHONGCAO_CREATOR_STATS_LAG_SECONDS": "0"}
    env.pop("ZHONGCAO_DATABASE_URL", None)
    if backend == "postgres":
        make_db(backend, request, tmp_path).dispose()
        env["ZHONGCAO_DATABASE_URL"] = f"{PG_URL}?options=-csearch_path%3D{request.getfixturevalue('pg_schema')}"
    proc, client = start([], env, port)
    try:
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
    assert (tmp_path / "home" / "state.db").exists() == (backend == "sqlite")


def test_kob_funding_and_a_dead_process_lease_over_real_http(server: httpx.Client) -> None:
    def ok(r: httpx.Response) -> dict:
        assert r.status_code < 300, r.text
        return r.json()

    brand = ok(server.post("/v1/accounts", json={"kind": "brand", "name": "品牌"}))["id"]
    store = ok(server.post("/v1/accounts", json={"kind": "store", "name": "门店"}))["id"]
    for a in (brand, store):
        ok(server.post(f"/v1/accounts/{a}/certification", json={"decision": "approve"}))
    store_key = {"Authorization": "Bearer " + ok(server.post(f"/v1/accounts/{store}/api-keys", json={}))["key"]}
    auth = ok(server.post(f"/v1/accounts/{brand}/authorizations", json={"sub_account_id": store}))
    ok(server.post(f"/v1/authorizations/{auth['id']}/confirm", headers=store_key))
    ok(server.post(f"/v1/accounts/{brand}/wallet/top-ups", json={"amount_fen": 10_000, "idempotency_key": "p"}))
    ok(server.post(f"/v1/accounts/{brand}/wallet/allocations", json={"to_account_id": store, "amount_fen": 6_000}))
    # A serving process reserves, commits part of its spend, then dies without releasing.
    lease = ok(server.post(f"/v1/accounts/{store}/wallet/leases", json={"amount_fen": 4_000, "ttl_seconds": 1},
                           headers=store_key))
    ok(server.post(f"/v1/leases/{lease['id']}/commit", json={"spent_fen": 1_000}, headers=store_key))
    assert ok(server.get(f"/v1/accounts/{store}/wallet", headers=store_key))["available_fen"] == 2_000
    for _ in range(100):  # the server's sweeper settles the lease once it expires
        if ok(server.get(f"/v1/leases/{lease['id']}", headers=store_key))["state"] == "closed":
            break
        time.sleep(0.1)
    wallet = ok(server.get(f"/v1/accounts/{store}/wallet", headers=store_key))
    assert wallet == {"account_id": store, "balance_fen": 5_000, "reserved_fen": 0, "available_fen": 5_000,
                      "delegated_fen": 5_000}
    refused = server.post(f"/v1/accounts/{brand}/wallet/allocations",
                          json={"to_account_id": store, "amount_fen": 5_000})
    assert (refused.status_code, refused.json()["code"]) == (409, "insufficient_funds")
    assert refused.headers["content-type"] == "application/problem+json"


def test_creator_analytics_refresh_in_the_ingester_and_escrow_moves_over_real_http(server: httpx.Client) -> None:
    """The serving process records engagements; the ingester process folds them into the creator snapshot
    that discovery ranks; a deal's escrow is funded and refunded on cancel."""
    def ok(r: httpx.Response) -> dict:
        assert r.status_code < 300, r.text
        return r.json()

    brand = ok(server.post("/v1/accounts", json={"kind": "brand", "name": "品牌"}))["id"]
    creator = ok(server.post("/v1/accounts", json={"kind": "creator", "name": "小美护肤"}))["id"]
    ok(server.put(f"/v1/creators/{creator}/profile", json={"category": "skincare", "region": "上海",
                                                          "gender": "female", "quote_image_fen": 100_000}))
    note = ok(server.post("/v1/notes", json={"author_id": creator, "title": "面霜实测", "body": "好用",
                                             "category": "skincare"}))["id"]
    for consumer in range(1, 21):
        ok(server.post(f"/v1/notes/{note}/engagements", json={"consumer_id": consumer, "kind": "read"}))
        if consumer <= 6:
            ok(server.post(f"/v1/notes/{note}/engagements", json={"consumer_id": consumer, "kind": "like"}))
    stats: dict = {}
    for _ in range(150):
        r = server.get(f"/v1/creators/{creator}")
        if r.status_code == 200 and (stats := r.json())["median_reads"] == 20:
            break
        time.sleep(0.1)
    assert (stats["median_reads"], stats["median_engagements"], stats["notes_30d"]) == (20, 6, 1)
    found = ok(server.post("/v1/creators/search", json={"category": "skincare"}))
    assert [m["creator_id"] for m in found["items"]] == [creator]
    ok(server.post(f"/v1/accounts/{brand}/wallet/top-ups", json={"amount_fen": 200_000, "idempotency_key": "b"}))
    now = ok(server.get("/v1/health")) and time.time()
    window = {"publish_from": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now)),
              "publish_to": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now + 86_400 * 7))}
    brief = ok(server.post("/v1/briefs", json={"brand_id": brand, "title": "种草", "category": "skincare",
                                               "budget_fen": 150_000, **window}))["id"]
    deal = ok(server.post(f"/v1/briefs/{brief}/applications", json={"creator_id": creator, "quote_fen": 100_000}))
    ok(server.post(f"/v1/collaborations/{deal['id']}/accept"))
    assert ok(server.post(f"/v1/collaborations/{deal['id']}/fund"))["escrow_fen"] == 110_000
    assert ok(server.get(f"/v1/accounts/{brand}/wallet"))["balance_fen"] == 90_000
    cancelled = ok(server.post(f"/v1/collaborations/{deal['id']}/cancel"))
    assert (cancelled["state"], cancelled["escrow_fen"]) == ("cancelled", 0)
    assert ok(server.get(f"/v1/accounts/{brand}/wallet"))["balance_fen"] == 200_000


def test_several_worker_processes_share_one_database(tmp_path: Path) -> None:
    env = {**os.environ, "ZHONGCAO_HOME": str(tmp_path), "ZHONGCAO_ADMIN_TOKEN": TOKEN}
    env.pop("ZHONGCAO_DATABASE_URL", None)
    proc, client = start(["--workers", "2"], env, free_port())
    try:
        ids = [client.post("/v1/accounts", json={"kind": "store", "name": f"门店 {i}"}).json()["id"] for i in range(20)]
        assert ids == list(range(ids[0], ids[0] + 20))
        assert all(client.get(f"/v1/accounts/{i}").status_code == 200 for i in ids)
        # A note written through one worker becomes searchable on every worker (each tails State).
        note = client.post("/v1/notes", json={"author_id": ids[0], "title": "露营装备清单", "body": "帐篷"}).json()
        hits = 0
        for _ in range(200):  # new connections spread over both workers; ten finds in a row from any of them
            with httpx.Client(base_url=str(client.base_url), headers=client.headers) as fresh:
                found = [i["note_id"] for i in fresh.get("/v1/search", params={"q": "露营"}).json()["items"]]
            hits = hits + 1 if found == [note["id"]] else 0
            if hits == 10:
                break
            time.sleep(0.05)
        assert hits == 10
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=15)


def ingested(home: Path, within: float = 30) -> bool:
    """Whether the outbox drains into the event store: engagements are written at once, so batches wait."""
    db = Database(f"sqlite:///{home / 'state.db'}")
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with db.read() as s:
                waiting = s.scalar(select(func.count()).select_from(OutboxBatch)
                                   .where(OutboxBatch.ingested_at.is_(None)))
            if waiting == 0:
                return True
            time.sleep(0.1)
        return False
    finally:
        db.dispose()


def test_counters_survive_a_restart(tmp_path: Path) -> None:
    """Engagement recorded by one server process is shown, exactly, by the next one: some of it folded into
    the rollups by the ingester, the rest still in the outbox when the first process stops."""
    env = {**os.environ, "ZHONGCAO_HOME": str(tmp_path), "ZHONGCAO_ADMIN_TOKEN": TOKEN,
           "ZHONGCAO_EVENTS_INGEST_SECONDS": "0.2"}
    env.pop("ZHONGCAO_DATABASE_URL", None)
    proc, client = start([], env, free_port())
    try:
        creator = client.post("/v1/accounts", json={"kind": "creator", "name": "小红"}).json()["id"]
        note = client.post("/v1/notes", json={"author_id": creator, "title": "露营装备清单", "body": "帐篷"}).json()
        for consumer in range(1, 31):
            client.get("/v1/feed", params={"consumer_id": consumer, "n": 3})
            for kind in ("read", "like", "follow") if consumer % 3 == 0 else ("read",):
                r = client.post(f"/v1/notes/{note['id']}/engagements", json={"consumer_id": consumer, "kind": kind})
                assert r.status_code == 201, r.text
        before = client.get(f"/v1/notes/{note['id']}").json()
        creator_before = client.get(f"/v1/creators/{creator}/stats").json()
        assert ingested(tmp_path)  # by `zhongcao ingest`, the process `serve` runs beside its workers
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=15)
    assert (before["stats"]["reads"], before["stats"]["likes"], creator_before["followers"]) == (30, 10, 10)
    proc, client = start([], env, free_port())
    try:
        after = client.get(f"/v1/notes/{note['id']}").json()
        assert (after["stats"], after["distribution"]) == (before["stats"], before["distribution"])
        assert client.get(f"/v1/creators/{creator}/stats").json() == creator_before
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=15)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")
def test_a_killed_servers_ingester_stops_too(tmp_path: Path) -> None:
    """A server killed outright must not leave its ingester running against its database, even when it dies
    while the ingester is still starting."""
    env = {**os.environ, "ZHONGCAO_HOME": str(tmp_path), "ZHONGCAO_ADMIN_TOKEN": TOKEN,
           "ZHONGCAO_EVENTS_INGEST_SECONDS": "0.2"}
    env.pop("ZHONGCAO_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "zhongcao", "serve", "--port", str(free_port())], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while not (kids := children(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(kids) == 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 30
    while running(kids[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(kids[0])


def test_workers_on_a_port_in_use_fail_in_one_line(tmp_path: Path) -> None:
    """Several workers bind the port each (SO_REUSEPORT on Linux); a port another program holds stops the
    server at once, in one readable line, with its ingester, instead of workers failing one by one."""
    env = {**os.environ, "ZHONGCAO_HOME": str(tmp_path), "ZHONGCAO_ADMIN_TOKEN": TOKEN}
    env.pop("ZHONGCAO_DATABASE_URL", None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "zhongcao", "serve", "--port", str(port), "--workers", "2"],
                              env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "address already in use" in done.stderr.lower()


def test_two_server_processes_never_overspend_a_campaign(rt: Runtime, kob: Kob, backend: str,
                                                         request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Ads served and clicked through two worker processes sharing one database: the campaign's daily
    budget holds, and every fen charged is a committed lease spend and a click record."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from zhongcao import ads, billing
    from zhongcao.ads.models import AdClick
    from zhongcao.billing.models import Lease
    from zhongcao.content import do_create_note

    budget = 20_000
    for store in kob.stores[:2]:
        billing.do_top_up(rt, kob.brand, 1_000_000, idempotency_key=f"e2e-{store}", actor=OP)
        billing.do_allocate(rt, kob.brand, store, 1_000_000, actor=kob.actor(kob.brand))
    seeding = {"objective": "seeding", "placement": "feed", "bidding": "manual", "optimize_for": "click"}
    for store, bid, cap in ((kob.stores[0], 3_000, budget), (kob.stores[1], 2_900, None)):
        c = ads.do_create_campaign(rt, store, seeding | {"name": f"c{store}", "daily_budget_fen": cap}, actor=OP).id
        note = do_create_note(rt, store, title=f"口红 {store}", body="显白", actor=OP).id
        u = ads.do_create_unit(rt, c, {"name": "u", "bid_fen": bid, "note_ids": [note]}, actor=OP).id
        ads.do_create_creative(rt, u, note, {"kind": "dm"}, actor=OP)
    for i in range(12):
        do_create_note(rt, kob.creator, title=f"日常 {i}", body="随手记", actor=OP)
    env = {**os.environ, "ZHONGCAO_HOME": str(tmp_path / "home"), "ZHONGCAO_ADMIN_TOKEN": TOKEN,
           "ZHONGCAO_ADS_SYNC_SECONDS": "0.2"}
    env["ZHONGCAO_DATABASE_URL"] = (f"sqlite:///{tmp_path / 'state.db'}" if backend == "sqlite" else
                                    f"{PG_URL}?options=-csearch_path%3D{request.getfixturevalue('pg_schema')}")
    proc, client = start(["--workers", "2"], env, free_port())

    def shopper(first: int) -> int:
        charged = 0
        for consumer in range(first, first + 30):
            with httpx.Client(base_url=str(client.base_url), headers=client.headers, timeout=30) as fresh:
                items = fresh.get("/v1/feed", params={"consumer_id": consumer, "n": 10}).json()["items"]
                for item in items:
                    if item["ad"]:
                        r = fresh.post("/v1/ad-clicks", json={"click_id": item["ad"]["click_id"]})
                        assert r.status_code == 200, r.text
                        charged += r.json()["charged_fen"]
        return charged

    try:
        with ThreadPoolExecutor(6) as pool:
            charged = sum(pool.map(shopper, range(1, 181, 30)))
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)
    with rt.db.read() as s:
        spent = s.scalar(select(func.coalesce(func.sum(AdClick.charged_fen), 0)).where(AdClick.campaign_id == 1))
        clicks = s.scalar(select(func.coalesce(func.sum(AdClick.charged_fen), 0)))
        committed = s.scalar(select(func.coalesce(func.sum(Lease.spent_fen), 0)))
    assert spent is not None
    assert 0 < spent <= budget
    assert charged == clicks == committed
    assert_books(rt)
