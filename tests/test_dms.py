"""DMs with their origin, the contact rule, lead cards and leads across the KOB tree, the inbox's numbers,
store visits, pushes and featured UGC."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import OP, OPERATOR, Kob, call, key
from zhongcao import accounts, commerce
from zhongcao.core import Runtime
from zhongcao.events import EventKind, EventStore

# (text, what the rule finds: None for legal text)
CONTACT_TABLE = [
    ("我的电话13800138000", "phone"),
    ("电话 138 0013 8000 随时打", "phone"),
    ("138-0013-8000", "phone"),
    ("+86 139.1234.5678", "phone"),
    ("１３８００１３８０００", "phone"),                  # full-width digits
    ("幺三八零零幺三八零零零", "phone"),                  # Chinese numerals
    ("壹叁捌零零壹叁捌零零零", "phone"),
    ("座机 021-62345678", "landline"),
    ("加我微信 abc_12345", "wechat"),
    ("vx：Zhang-San88", "wechat"),
    ("V信号是 meili2024", "wechat"),
    ("WeChat: lily_beauty", "wechat"),
    ("qq 123456789", "qq"),
    ("扣扣号:87654321", "qq"),
    ("mail me: lily@example.com", "email"),
    ("扫码 https://u.wechat.com/abcdEFG", "qr_link"),
    ("wxp://f2f0abcdef", "qr_link"),
    ("https://example.com/qrcode?id=9", "qr_link"),
    # near misses: legal text that looks a little like a contact
    ("订单号 202611261380013800", None),               # a long order number
    ("价格 13800 元, 满 2000 减 300", None),
    ("2026-11-26 13:00 到店", None),
    ("型号 iPhone 15 Pro Max 256GB", None),
    ("12345678901 不是手机号", None),                  # 11 digits, no mobile prefix
    ("微信支付可以吗", None),                           # WeChat, but no id
    ("用微信付款还是支付宝", None),
    ("我一三五有空", None),
    ("vxzy 是个品牌", None),
    ("尺码 38 39 40 41 42 43 44 45 46 47 48", None),  # digits separated by spaces, but no mobile number
    ("https://www.xiaohongshu.com/explore/123", None),
    ("第1380013800期", None),                          # ten digits
]


@pytest.mark.parametrize(("text", "kind"), CONTACT_TABLE, ids=[t for t, _ in CONTACT_TABLE])
def test_contact_rule(text: str, kind: str | None) -> None:
    found = commerce.find_contacts(text)
    assert [f.kind for f in found][:1] == ([kind] if kind else [])
    if kind:
        masked = commerce.mask(text, found)
        assert not commerce.find_contacts(masked), masked
        assert len(masked) == len(text)


def test_masking_keeps_the_rest_of_the_message() -> None:
    text = "您好，电话 138 0013 8000，周末到店"
    assert commerce.mask(text, commerce.find_contacts(text)) == "您好，电话 *** **** ****，周末到店"




def note(client: TestClient, author: int, title: str = "到店体验 Store visit") -> int:
    return int(call(client, "POST", "/v1/notes", {"author_id": author, "title": title, "body": "推荐"},
                    status=201)["id"])


def conversation(client: TestClient, consumer: int, account: int, origin: dict) -> int:
    return int(call(client, "POST", "/v1/conversations", {"consumer_id": consumer, "account_id": account,
                                                          "origin": origin}, status=201)["id"])


def test_a_dm_keeps_its_origin_and_contact_details_travel_only_on_cards(rt: Runtime, client: TestClient,
                                                                       kob: Kob) -> None:
    store = kob.stores[0]
    n = note(client, store)
    cid = conversation(client, 42, store, {"kind": "note", "id": n})
    store_key = key(rt, store)
    seen = call(client, "GET", f"/v1/conversations/{cid}", headers=store_key)
    assert seen["origin"] == {"kind": "note", "id": str(n), "note_id": n, "live_id": None, "campaign_id": None}

    def say(sender: str, text: str, status: int = 201, headers: dict[str, str] = OPERATOR) -> dict:
        return call(client, "POST", f"/v1/conversations/{cid}/messages", {"sender": sender, "text": text},
                    headers=headers, status=status)

    say("consumer", "请问周末营业吗")
    rt.clock.advance(timedelta(seconds=90))  # type: ignore[attr-defined]
    refused = say("account", "加我微信 shop_beauty88 详聊", 422, store_key)
    assert (refused["code"], refused["field"]) == ("contact_info_not_allowed", "text")
    say("account", "营业的，欢迎到店", headers=store_key)
    assert call(client, "GET", f"/v1/conversations/{cid}", headers=store_key)["first_response_seconds"] == 90
    assert say("consumer", "hi", 403, store_key)["code"] == "operator_only"  # only the app writes as a consumer
    assert say("account", "hi", 404, key(rt, kob.stores[1]))["code"] == "conversation_not_found"
    texts = [m["text"] for m in call(client, "GET", f"/v1/conversations/{cid}/messages", headers=store_key)["items"]]
    assert texts == ["请问周末营业吗", "营业的，欢迎到店"]  # the refused message left nothing

    rt.settings.dm_contact_rule = "mask"
    masked = say("consumer", "我电话 13912345678")
    assert (masked["text"], masked["masked"]) == ("我电话 ***********", True)

    card = call(client, "POST", f"/v1/conversations/{cid}/lead-cards", {"kind": "phone", "value": "+86 139 1234 5678"},
                status=201)
    assert card["value"] == "13912345678"
    assert card["origin"]["note_id"] == n
    assert card["status"] == "new"
    same = call(client, "POST", f"/v1/conversations/{cid}/lead-cards", {"kind": "phone", "value": "13912345678"},
                status=201)
    assert same["lead_id"] == card["lead_id"]
    bad = call(client, "POST", f"/v1/conversations/{cid}/lead-cards", {"kind": "phone", "value": "12345"}, status=422)
    assert bad["code"] == "invalid_lead_card"
    wecom = call(client, "POST", f"/v1/conversations/{cid}/lead-cards", {"kind": "wecom", "value": "lily_beauty"},
                 status=201)
    assert wecom["lead_id"] != card["lead_id"]


def test_leads_follow_the_kob_tree(rt: Runtime, client: TestClient, kob: Kob) -> None:
    """A brand sees its stores' and its distributor's stores' leads; a store sees only its own."""
    leads = {}
    for account in (kob.brand, kob.stores[0], kob.stores[1], kob.dist_store, kob.other_store):
        cid = conversation(client, 100 + account, account, {"kind": "profile", "id": account})
        leads[account] = call(client, "POST", f"/v1/conversations/{cid}/lead-cards",
                              {"kind": "phone", "value": "13800138000"}, status=201)["lead_id"]

    def visible(viewer: int, of: int, status: int = 200) -> set[int] | str:
        r = call(client, "GET", f"/v1/accounts/{of}/leads", headers=key(rt, viewer), status=status)
        return {i["lead_id"] for i in r["items"]} if status == 200 else r["code"]

    assert visible(kob.brand, kob.brand) == {leads[a] for a in (kob.brand, kob.stores[0], kob.stores[1],
                                                                kob.dist_store)}
    assert visible(kob.brand, kob.stores[0]) == {leads[kob.stores[0]]}
    assert visible(kob.stores[0], kob.stores[0]) == {leads[kob.stores[0]]}
    assert visible(kob.distributor, kob.distributor) == {leads[kob.dist_store]}
    assert visible(kob.stores[0], kob.brand, 404) == "account_not_found"
    assert visible(kob.stores[0], kob.stores[1], 404) == "account_not_found"
    assert visible(kob.other_brand, kob.brand, 404) == "account_not_found"
    assert visible(kob.other_brand, kob.other_brand) == {leads[kob.other_store]}

    lead = leads[kob.stores[0]]
    sibling = call(client, "POST", f"/v1/leads/{lead}/status", {"status": "contacted"}, headers=key(rt, kob.stores[1]),
                   status=404)
    assert sibling["code"] == "lead_not_found"
    by_brand = call(client, "POST", f"/v1/leads/{lead}/status", {"status": "contacted"}, headers=key(rt, kob.brand))
    assert by_brand["status"] == "contacted"


def test_lead_statuses_and_the_valid_lead_window(rt: Runtime, client: TestClient, kob: Kob) -> None:
    store = kob.stores[0]
    headers = key(rt, store)
    n = note(client, store)

    def lead() -> int:
        cid = conversation(client, 7, store, {"kind": "note", "id": n})
        return int(call(client, "POST", f"/v1/conversations/{cid}/lead-cards", {"kind": "phone",
                                                                                "value": "13800138000"},
                        status=201)["lead_id"])

    def move(lead_id: int, status: str, code: int = 200) -> dict:
        return call(client, "POST", f"/v1/leads/{lead_id}/status", {"status": status}, headers=headers, status=code)

    quick = lead()
    assert move(quick, "won", 409)["allowed"] == ["contacted", "valid", "lost"]
    move(quick, "contacted")
    assert move(quick, "valid")["valid_at"] is not None
    move(quick, "won")
    assert move(quick, "lost", 409)["code"] == "invalid_lead_transition"
    assert move(quick, "maybe", 422)["code"] == "invalid_status"

    slow = lead()
    rt.clock.advance(timedelta(days=7, seconds=1))  # type: ignore[attr-defined]
    move(slow, "valid")
    client.app.state.ingester(everything=True)  # type: ignore[attr-defined]
    store_events: EventStore = client.app.state.ingester.store  # type: ignore[attr-defined]
    rows = store_events.run(store_events.events()).to_pylist()
    valid = [e["lead_id"] for e in rows if e["kind"] == EventKind.VALID_LEAD]
    assert valid == [quick]  # the one confirmed after 7 days is not a valid-lead conversion
    assert sorted(e["lead_id"] for e in rows if e["kind"] == EventKind.LEAD) == sorted([quick, slow])
    assert {e["note_id"] for e in rows if e["kind"] in (EventKind.LEAD, EventKind.VALID_LEAD)} == {n}


def test_inbox_seats_and_dm_numbers(rt: Runtime, client: TestClient, kob: Kob) -> None:
    brand = kob.brand
    member = accounts.do_add_member(rt, brand, "客服 Agent", "operator", actor=OP).id
    kos = accounts.do_create_account(rt, "consumer", "导购 KOS", actor=OP).id
    binding = accounts.do_bind_kos(rt, brand, kos, actor=OP)
    accounts.do_answer_kos(rt, binding.id, True, actor=OP)
    since = rt.now()
    conversation(client, 1, brand, {"kind": "search", "id": "面霜推荐"})  # opened, never written in
    opener = conversation(client, 2, brand, {"kind": "profile", "id": brand})
    consult = conversation(client, 3, brand, {"kind": "profile", "id": brand})
    call(client, "POST", f"/v1/conversations/{opener}/messages", {"sender": "consumer", "text": "在吗"}, status=201)
    call(client, "POST", f"/v1/conversations/{consult}/messages", {"sender": "consumer", "text": "价格?"}, status=201)
    assert call(client, "POST", f"/v1/conversations/{consult}/assign", {"member_id": member, "kos_account_id": kos},
                status=422)["code"] == "invalid_seat"
    assert call(client, "POST", f"/v1/conversations/{consult}/assign", {"kos_account_id": kob.creator},
                status=422)["code"] == "invalid_seat"
    call(client, "POST", f"/v1/conversations/{consult}/assign", {"kos_account_id": kos})
    call(client, "POST", f"/v1/conversations/{opener}/assign", {"member_id": member})
    rt.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    kos_key = key(rt, kos)
    call(client, "POST", f"/v1/conversations/{consult}/messages", {"sender": "account", "text": "199 元"},
         headers=kos_key, status=201)  # the KOS seat answers for the brand
    assert call(client, "POST", f"/v1/conversations/{opener}/messages", {"sender": "account", "text": "x"},
                headers=kos_key, status=404)["code"] == "conversation_not_found"  # not its seat
    call(client, "POST", f"/v1/conversations/{consult}/lead-cards", {"kind": "wecom", "value": "buyer_003"}, status=201)
    brand_key = key(rt, brand)

    def inbox(query: str, headers: dict[str, str] = brand_key, status: int = 200) -> list[int] | str:
        r = call(client, "GET", f"/v1/accounts/{brand}/conversations?{query}", headers=headers, status=status)
        return [c["id"] for c in r["items"]] if status == 200 else r["code"]

    assert inbox("unanswered=true") == [opener]  # the consult was answered; the silent one never wrote
    assert inbox(f"kos_account_id={kos}", headers=kos_key) == [consult]  # a KOS reads its own seat
    assert inbox(f"member_id={member}") == [opener]
    assert inbox("", headers=kos_key, status=404) == "account_not_found"  # but not the whole inbox
    until = rt.now() + timedelta(seconds=1)
    stats = call(client, "GET", f"/v1/accounts/{brand}/dm-stats?since={since.isoformat().replace('+', '%2B')}"
                                f"&until={until.isoformat().replace('+', '%2B')}", headers=key(rt, brand))
    assert (stats["conversations"], stats["openers"], stats["consults"], stats["leads"]) == (3, 2, 1, 1)
    assert (stats["consumer_messages"], stats["account_messages"]) == (2, 1)
    assert stats["avg_first_response_seconds"] == 30
    assert stats["by_origin"] == {"search": 1, "profile": 2}
    assert stats["by_seat"] == [
        {"kos_account_id": kos, "conversations": 1, "consults": 1, "leads": 1, "avg_first_response_seconds": 30.0},
        {"member_id": member, "conversations": 1, "consults": 0, "leads": 0, "avg_first_response_seconds": None}]


def test_a_store_visit_is_redeemed_once_with_the_dms_origin(rt: Runtime, client: TestClient, kob: Kob) -> None:
    store = kob.stores[0]
    headers = key(rt, store)
    n = note(client, store)
    cid = conversation(client, 55, store, {"kind": "note", "id": n})
    assert call(client, "POST", f"/v1/conversations/{cid}/visit-codes", headers=headers,
                status=409)["code"] == "store_not_located"
    poi = {"name": "静安店 Jing'an", "address": "南京西路 1 号", "city": "上海", "lat": 31.23, "lng": 121.45}
    assert call(client, "PUT", f"/v1/accounts/{kob.brand}/poi", poi, status=422)["code"] == "invalid_poi"
    assert call(client, "PUT", f"/v1/accounts/{store}/poi", poi | {"lat": 95}, headers=headers,
                status=422)["field"] == "lat"
    call(client, "PUT", f"/v1/accounts/{store}/poi", poi, headers=headers)
    assert [p["account_id"] for p in call(client, "GET", "/v1/stores?city=上海")["items"]] == [store]
    code = call(client, "POST", f"/v1/conversations/{cid}/visit-codes", headers=headers, status=201)["code"]
    assert call(client, "POST", "/v1/visit-codes/redeem", {"code": code}, headers=key(rt, kob.stores[1]),
                status=404)["code"] == "visit_code_not_found"
    redeemed = call(client, "POST", "/v1/visit-codes/redeem", {"code": code.lower()}, headers=headers)
    assert redeemed["redeemed_at"] is not None
    assert call(client, "POST", "/v1/visit-codes/redeem", {"code": code}, headers=headers,
                status=409)["code"] == "visit_code_used"
    stale = call(client, "POST", f"/v1/conversations/{cid}/visit-codes", headers=headers, status=201)["code"]
    rt.clock.advance(timedelta(days=rt.settings.visit_code_days, seconds=1))  # type: ignore[attr-defined]
    assert call(client, "POST", "/v1/visit-codes/redeem", {"code": stale}, headers=headers,
                status=409)["code"] == "visit_code_expired"
    client.app.state.ingester(everything=True)  # type: ignore[attr-defined]
    store_events: EventStore = client.app.state.ingester.store  # type: ignore[attr-defined]
    visits = [e for e in store_events.run(store_events.events()).to_pylist() if e["kind"] == EventKind.STORE_VISIT]
    assert [(e["consumer_id"], e["store_id"], e["note_id"], e["conversation_id"]) for e in visits] == [
        (55, store, n, cid)]


def test_pushes_reach_followers_within_the_weekly_limit(rt: Runtime, client: TestClient, kob: Kob) -> None:
    brand = kob.brand
    n = note(client, brand, "新品发布 Launch")
    for consumer in (1, 2, 3):
        call(client, "POST", f"/v1/notes/{n}/engagements", {"consumer_id": consumer, "kind": "follow"}, status=201)
    client.app.state.ingester(everything=True)  # type: ignore[attr-defined]
    headers = key(rt, brand)

    def push(body: dict, status: int = 201) -> dict:
        return call(client, "POST", f"/v1/accounts/{brand}/pushes", body, headers=headers, status=status)

    first = push({"text": "双11 上新", "audience": "followers"})
    assert (first["sent"], first["limited"]) == (3, 0)
    second = push({"text": "最后一天", "audience": "consumers", "consumer_ids": [3, 4]})
    assert (second["sent"], second["limited"]) == (2, 0)
    third = push({"text": "返场", "audience": "followers"})
    assert (third["sent"], third["limited"]) == (2, 1)  # consumer 3 had two this week
    assert push({"text": "加微信 brand_vip01", "audience": "followers"}, 422)["code"] == "contact_info_not_allowed"
    assert push({"text": "x", "audience": "everyone"}, 422)["code"] == "invalid_push"
    rt.clock.advance(timedelta(days=7, seconds=1))  # type: ignore[attr-defined]
    assert push({"text": "下周见", "audience": "followers"})["sent"] == 3
    assert call(client, "POST", f"/v1/accounts/{brand}/pushes", {"text": "x", "audience": "followers"},
                headers=key(rt, kob.stores[0]), status=404)["code"] == "account_not_found"


def test_a_brand_features_ugc_that_names_it(rt: Runtime, client: TestClient, kob: Kob) -> None:
    brand = kob.brand  # named "品牌 Brand"
    headers = key(rt, brand)
    about = note(client, kob.creator, "Brand 面霜真实测评")
    unrelated = note(client, kob.creator, "今天的午饭")
    own = note(client, brand, "品牌 新品")
    assert call(client, "POST", f"/v1/accounts/{brand}/featured-notes", {"note_id": unrelated}, headers=headers,
                status=422)["code"] == "invalid_featured_note"
    assert call(client, "POST", f"/v1/accounts/{brand}/featured-notes", {"note_id": own}, headers=headers,
                status=422)["code"] == "invalid_featured_note"
    assert [m["note_id"] for m in call(client, "GET", f"/v1/accounts/{brand}/mentions", headers=headers)[
        "items"]] == [about]  # not its own note, not the unrelated one
    assert call(client, "POST", f"/v1/accounts/{brand}/featured-notes", {"note_id": about}, headers=headers,
                status=201)["note_ids"] == [about]
    assert call(client, "GET", f"/v1/accounts/{brand}/featured-notes", headers=key(rt, kob.other_brand))[
        "note_ids"] == [about]
    assert call(client, "DELETE", f"/v1/accounts/{brand}/featured-notes/{about}", headers=headers)["note_ids"] == []


def test_scheduled_sessions_take_a_time_zone(rt: Runtime, client: TestClient, kob: Kob) -> None:
    at = datetime(2026, 11, 11, 20, 0, tzinfo=UTC).isoformat()
    made = call(client, "POST", "/v1/live-sessions",
                {"host_account_id": kob.creator, "title": "双11", "scheduled_at": at}, status=201)
    assert made["scheduled_at"].startswith("2026-11-11T20:00")


def _dm_state(rt: Runtime) -> dict[str, Counter[tuple[object, ...]]]:
    """What DMs leave behind, without the ids and times that depend on when they were written."""
    from sqlalchemy import select

    from zhongcao.commerce.models import ConversationRow, DeliveryRow, LeadRow, MessageRow
    from zhongcao.events import pending

    with rt.db.read() as s:
        return {
            "conversations": Counter((c.consumer_id, c.account_id, c.source_kind, c.consumer_messages,
                                      c.account_messages, c.first_response_at is not None)
                                     for c in s.scalars(select(ConversationRow))),
            "messages": Counter((m.sender, m.text, m.masked) for m in s.scalars(select(MessageRow))),
            "leads": Counter((x.account_id, x.consumer_id, x.kind, x.value, x.status, x.note_id)
                             for x in s.scalars(select(LeadRow))),
            "deliveries": Counter((d.account_id,) for d in s.scalars(select(DeliveryRow))),
            "events": Counter((e["kind"], e["consumer_id"], e["store_id"], e["note_id"], e["surface"],
                               e["lead_id"] is not None) for t in pending(s) for e in t.events.to_pylist()
                              if e["kind"] in (EventKind.DM, EventKind.LEAD)),
        }


def test_a_batch_of_dm_leads_records_what_one_call_at_a_time_does(rt: Runtime, client: TestClient, kob: Kob) -> None:
    """The simulator's path: open, ask, answer and leave a card for many consumers in one transaction."""
    from zhongcao.events import EventIds

    store, other = kob.stores[0], kob.stores[1]
    rt.settings.webhook_allow_private = True
    for account in (store, kob.brand):  # the store's CRM and the brand's above it both get each lead
        commerce.do_set_webhook(rt, account, f"http://127.0.0.1:9/{account}", actor=OP)
    n = note(client, store)
    origin = commerce.Source("note", str(n), note_id=n)
    asks = [commerce.DmLead(50 + k, account, origin, "请问门店地址在哪里？", "欢迎到店体验", "phone", f"1380013800{k}")
            for k, account in enumerate((store, other, store))]
    ids = EventIds(rt.clock)
    before = _dm_state(rt)
    one_by_one = []
    for a in asks:
        c = commerce.do_open_conversation(rt, ids, a.consumer_id, a.account_id, a.origin, actor=OP)
        commerce.do_post_message(rt, c.id, "consumer", a.question, actor=OP)
        commerce.do_post_message(rt, c.id, "account", a.answer, actor=kob.actor(a.account_id))
        one_by_one.append(commerce.do_lead_card(rt, ids, c.id, a.card_kind, a.card_value, actor=OP))
    singles = _dm_state(rt)
    batch = commerce.do_dm_leads(rt, ids, asks, actor=OP)
    doubled = _dm_state(rt)
    for name in before:  # the batch added what the single calls added
        assert doubled[name] - singles[name] == singles[name] - before[name], name
    assert (singles["deliveries"] - before["deliveries"]).total() == 5  # 3 leads to the brand's CRM, 2 to the store's
    assert [(b.account_id, b.consumer_id, b.value, b.origin) for b in batch] == [
        (s.account_id, s.consumer_id, s.value, s.origin) for s in one_by_one]


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"card_value": "12345"}, "asks[1].card_value", "invalid_lead_card"),
    ({"answer": "加我微信 shop_beauty88"}, "asks[1].answer", "contact_info_not_allowed"),
    ({"question": ""}, "asks[1].question", "invalid_message"),
])
def test_a_refused_ask_refuses_the_batch_and_writes_nothing(rt: Runtime, kob: Kob, change: dict[str, str],
                                                           field: str, code: str) -> None:
    from dataclasses import replace

    from zhongcao.core import Forbidden, Invalid
    from zhongcao.events import EventIds

    good = commerce.DmLead(60, kob.stores[0], commerce.Source("profile", str(kob.stores[0])), "在吗", "在的",
                           "phone", "13800138000")
    before = _dm_state(rt)
    with pytest.raises(Invalid) as refused:
        commerce.do_dm_leads(rt, EventIds(rt.clock), [good, replace(good, **change)], actor=OP)
    assert (refused.value.code, refused.value.field) == (code, field)
    with pytest.raises(Invalid) as not_dm:
        commerce.do_dm_leads(rt, EventIds(rt.clock), [good, replace(good, account_id=kob.agency)], actor=OP)
    assert (not_dm.value.code, not_dm.value.field) == ("invalid_conversation", "asks[1].account_id")
    with pytest.raises(Forbidden):  # only the platform writes for consumers
        commerce.do_dm_leads(rt, EventIds(rt.clock), [good], actor=kob.actor(kob.stores[0]))
    assert _dm_state(rt) == before
