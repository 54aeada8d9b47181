"""Lead webhooks against a real local receiver: signed bodies, retries with backoff, at-least-once with
dedupe by lead id, the brand's CRM receiving its stores' leads, and the delivery log."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest

from conftest import OP, Kob
from zhongcao import commerce
from zhongcao.core import Invalid, Runtime
from zhongcao.events import EventIds


class Crm:
    """A CRM endpoint on 127.0.0.1: fails the first ``fail`` posts with 500, then answers 200, and keeps
    each lead once however often it is delivered."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.leads: dict[int, dict] = {}
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                crm.posts.append((dict(self.headers), body))
                if len(crm.posts) <= crm.fail:
                    self.send_response(500)
                else:
                    lead = json.loads(body)
                    crm.leads.setdefault(lead["lead_id"], lead)
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/leads"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def local_crms(rt: Runtime) -> None:
    rt.settings.webhook_allow_private = True  # the test CRMs listen on 127.0.0.1


@pytest.fixture
def crm() -> Iterator[Crm]:
    c = Crm(fail=2)
    yield c
    c.close()


def lead(rt: Runtime, account: int, consumer: int = 8) -> int:
    ids = EventIds(rt.clock)
    conversation = commerce.do_open_conversation(rt, ids, consumer, account, commerce.Source("profile", str(account)),
                                                 actor=OP)
    return commerce.do_lead_card(rt, ids, conversation.id, "phone", "13800138000", actor=OP).lead_id


def test_a_failing_crm_gets_the_lead_after_backoff_signed_and_once(rt: Runtime, kob: Kob, crm: Crm) -> None:
    store = kob.stores[0]
    hook = commerce.do_set_webhook(rt, store, crm.url, actor=OP)
    assert hook.secret
    lead_id = lead(rt, store)
    rng = np.random.default_rng(7)
    with httpx.Client() as client:
        assert commerce.deliver_due(rt, client, rng) == 1  # 500
        assert commerce.deliver_due(rt, client, rng) == 0  # backing off
        log = commerce.list_deliveries(rt, store, actor=OP)[0]
        assert (log.status, log.attempts) == ("pending", 1)
        assert log.next_at is not None
        first_wait = (log.next_at - rt.now()).total_seconds()
        assert 0.8 * rt.settings.webhook_backoff_seconds <= first_wait <= 1.2 * rt.settings.webhook_backoff_seconds
        rt.clock.advance(timedelta(seconds=first_wait))  # type: ignore[attr-defined]
        assert commerce.deliver_due(rt, client, rng) == 1  # 500 again; the wait doubles
        log = commerce.list_deliveries(rt, store, actor=OP)[0]
        assert log.next_at is not None
        second_wait = (log.next_at - rt.now()).total_seconds()
        assert 1.6 * rt.settings.webhook_backoff_seconds <= second_wait <= 2.4 * rt.settings.webhook_backoff_seconds
        rt.clock.advance(timedelta(seconds=second_wait))  # type: ignore[attr-defined]
        assert commerce.deliver_due(rt, client, rng) == 1  # 200
        assert commerce.deliver_due(rt, client, rng) == 0
    log = commerce.list_deliveries(rt, store, actor=OP)[0]
    assert (log.status, log.attempts, [a.status_code for a in log.log]) == ("delivered", 3, [500, 500, 200])
    assert [a.error for a in log.log] == ["HTTP 500", "HTTP 500", ""]
    assert list(crm.leads) == [lead_id]
    assert crm.leads[lead_id]["origin"]["kind"] == "profile"
    for headers, body in crm.posts:
        assert hmac.compare_digest(headers["X-Zhongcao-Signature"], commerce.sign(body, hook.secret or ""))
        assert headers["Idempotency-Key"] == f"lead-{lead_id}"
    assert [h["X-Zhongcao-Attempt"] for h, _ in crm.posts] == ["1", "2", "3"]


def test_a_sender_that_dies_mid_post_delivers_again_and_the_crm_dedupes(rt: Runtime, kob: Kob) -> None:
    crm = Crm()
    try:
        store = kob.stores[0]
        commerce.do_set_webhook(rt, store, crm.url, actor=OP)
        lead_id = lead(rt, store)
        from zhongcao.commerce import webhooks

        claimed = webhooks._claim(rt, 10)  # a sender claims the row and posts, then dies before recording it
        assert len(claimed) == 1
        with httpx.Client() as client:
            _, _, url, secret, body = claimed[0]
            client.post(url, content=body, headers={"X-Zhongcao-Signature": commerce.sign(body, secret)})
            assert commerce.deliver_due(rt, client, np.random.default_rng(1)) == 0  # still held by the dead sender
            rt.clock.advance(timedelta(seconds=rt.settings.webhook_timeout_seconds * 2 + 31))  # type: ignore[attr-defined]
            assert commerce.deliver_due(rt, client, np.random.default_rng(1)) == 1
        assert len(crm.posts) == 2  # at least once: twice here
        assert list(crm.leads) == [lead_id]  # and the CRM keeps it once, by lead id
        assert commerce.list_deliveries(rt, store, actor=OP)[0].status == "delivered"
    finally:
        crm.close()


def test_the_brands_crm_gets_its_stores_leads_and_a_dead_one_fails_in_the_end(rt: Runtime, kob: Kob) -> None:
    crm = Crm()
    try:
        commerce.do_set_webhook(rt, kob.brand, crm.url, actor=OP)
        commerce.do_set_webhook(rt, kob.stores[1], "http://127.0.0.1:9/nothing-listens", actor=OP)
        ours = [lead(rt, kob.stores[0], 1), lead(rt, kob.dist_store, 2), lead(rt, kob.stores[1], 3)]
        theirs = lead(rt, kob.other_store, 4)
        rt.settings.webhook_max_attempts = 3
        rng = np.random.default_rng(3)
        with httpx.Client() as client:
            for _ in range(5):
                commerce.deliver_due(rt, client, rng)
                rt.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        assert sorted(crm.leads) == sorted(ours)
        assert theirs not in crm.leads
        dead = commerce.list_deliveries(rt, kob.stores[1], actor=OP)
        assert [(d.status, d.attempts, d.next_at) for d in dead] == [("failed", 3, None)]
        assert all(a.status_code is None and a.error.startswith("ConnectError") for a in dead[0].log)
    finally:
        crm.close()


def test_a_webhook_url_is_http_to_a_public_host(rt: Runtime, kob: Kob) -> None:
    rt.settings.webhook_allow_private = False
    for url in ("ftp://crm.example.com", "crm.example.com/leads", "https://", "http://127.0.0.1:8080/x",
                "http://localhost/leads", "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/crm",
                "http://[::1]/crm"):
        with pytest.raises(Invalid) as exc:
            commerce.do_set_webhook(rt, kob.brand, url, actor=OP)
        assert exc.value.code == "invalid_webhook", url
    assert commerce.do_set_webhook(rt, kob.brand, "https://crm.example.com/leads", actor=OP).url.startswith("https")
