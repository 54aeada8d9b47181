"""/v1 routes for products and the shop, orders, live sessions, DMs and leads, stores and visit codes,
pushes and featured UGC.

Consumers act through the platform's app: the calls that act *for* a consumer (place and pay an order,
enter a live room, write a DM, leave a lead card) take the operator's token, as the app's backend holds
it; an account's own key cannot fabricate its customers' orders or leads."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from zhongcao import accounts, ads, commerce, content
from zhongcao.api import schemas as s
from zhongcao.api.deps import RT, Who
from zhongcao.core import Invalid, Runtime
from zhongcao.events import EventIds

router = APIRouter(prefix="/v1", tags=["commerce"])


def _ids(request: Request) -> EventIds:
    engine: ads.AdEngine = request.app.state.ads
    return engine.ids


def _source(rt: Runtime, ref: s.SourceRef, consumer_id: int) -> commerce.Source:
    clicks = ads.click_resolver(rt) if ref.kind == "ad" else None
    return commerce.resolve(rt, ref.kind, ref.id, consumer_id, clicks)


# --- products and the shop -------------------------------------------------------------------------

@router.post("/products", status_code=201)
def create_product(body: s.ProductCreate, rt: RT, who: Who) -> commerce.ProductView:
    return commerce.do_create_product(rt, body.account_id, name=body.name, price_fen=body.price_fen,
                                      category=body.category, stock=body.stock, actor=who)


@router.get("/products/{product_id}")
def get_product(product_id: int, rt: RT, who: Who) -> commerce.ProductView:
    return commerce.get_product(rt, product_id)


@router.post("/products/{product_id}/restock")
def restock(product_id: int, body: s.Restock, rt: RT, who: Who) -> commerce.ProductView:
    """Add units (or withdraw them with a negative delta); relative, so it never undoes a sale."""
    return commerce.do_restock(rt, product_id, body.delta, actor=who)


@router.get("/accounts/{account_id}/products")
def list_products(account_id: int, rt: RT, who: Who) -> dict[str, object]:
    return {"items": commerce.list_products(rt, account_id)}


@router.get("/accounts/{account_id}/shop")
def get_shop(account_id: int, rt: RT, who: Who) -> commerce.ShopView:
    return commerce.get_shop(rt, account_id)


@router.post("/accounts/{account_id}/shop", status_code=201)
def open_shop(account_id: int, request: Request, rt: RT, who: Who) -> commerce.ShopView:
    """Open the account's shop (POP store) once it has ``min_followers`` followers."""
    engine: content.ContentEngine = request.app.state.content
    followers = engine.creator_stats(account_id).followers
    return commerce.do_open_shop(rt, account_id, followers=followers, actor=who)


@router.post("/shop-visits", status_code=201)
def visit_shop(body: s.ShopVisit, request: Request, rt: RT, who: Who) -> dict[str, object]:
    """A consumer opened a shop or one of its product pages (the SPU link on a note or in a broadcast)."""
    source = _source(rt, body.source, body.consumer_id)
    commerce.do_visit_shop(rt, _ids(request), body.consumer_id, body.account_id, source, product_id=body.product_id,
                           actor=who)
    return {"consumer_id": body.consumer_id, "account_id": body.account_id, "product_id": body.product_id}


@router.post("/cart-items", status_code=201)
def add_to_cart(body: s.CartAdd, request: Request, rt: RT, who: Who) -> commerce.Cart:
    """Put a product in a consumer's cart; the answer is the whole cart."""
    source = _source(rt, body.source, body.consumer_id)
    return commerce.do_add_to_cart(rt, _ids(request), body.consumer_id, body.product_id, body.qty, source, actor=who)


@router.get("/carts/{consumer_id}")
def cart(consumer_id: int, rt: RT, who: Who) -> commerce.Cart:
    return commerce.get_cart(rt, consumer_id, actor=who)


# --- orders ------------------------------------------------------------------------------------------

@router.post("/orders", status_code=201)
def create_order(body: s.OrderCreate, request: Request, rt: RT, who: Who) -> commerce.OrderView:
    """Place an order for a consumer: stock is taken now and returns if it is not paid in time. ``source``
    says what brought the consumer (note, ad click, live room, search, profile, push); a live order buys
    products linked in that session and counts in its room."""
    source = _source(rt, body.source, body.consumer_id)
    return commerce.do_create_order(rt, _ids(request), body.consumer_id,
                                    [(line.product_id, line.qty) for line in body.items], source, actor=who)


@router.get("/orders/{order_id}")
def get_order(order_id: int, rt: RT, who: Who) -> commerce.OrderView:
    return commerce.get_order(rt, order_id, actor=who)


def _order_action(action: str, doc: str) -> None:
    def act(order_id: int, request: Request, rt: RT, who: Who) -> commerce.OrderView:
        return commerce.do_order_transition(rt, _ids(request), order_id, action, actor=who)

    act.__doc__ = doc
    router.post(f"/orders/{{order_id}}/{action}", name=f"order_{action}")(act)


_order_action("pay", "The consumer paid (created → paid); an order left unpaid past the limit is refused.")
_order_action("ship", "The seller shipped it (paid → shipped).")
_order_action("complete", "The consumer confirmed receipt (shipped → completed).")
_order_action("refund", "Refund a paid, shipped or completed order inside the refund window; stock returns "
              "if it had not shipped.")
_order_action("cancel", "Cancel an unpaid order; its stock returns.")


# --- live ----------------------------------------------------------------------------------------------

@router.post("/live-sessions", status_code=201)
def create_live(body: s.LiveCreate, rt: RT, who: Who) -> commerce.LiveView:
    return commerce.do_create_live(rt, body.host_account_id, title=body.title, product_ids=body.product_ids,
                                   scheduled_at=body.scheduled_at, actor=who)


@router.get("/live-sessions/{live_id}")
def live_room(live_id: int, rt: RT, who: Who) -> dict[str, Any]:
    """The room's numbers for the host's side: entries (live and replay), entries of 5 s or more, average
    watch minutes, new followers, comments, orders and GMV (paid orders), and ROI against what ads spent on
    the clicks that brought viewers in."""
    r = commerce.room(rt, live_id, actor=who)
    spend = ads.spend_on_clicks(rt, r.ad_clicks)
    out = asdict(r)
    live = out.pop("live")
    out.pop("ad_clicks")
    return live | out | {"ad_spend_fen": spend, "roi": round(r.gmv_fen / spend, 4) if spend else None}


def _live_action(action: str, doc: str) -> None:
    def act(live_id: int, rt: RT, who: Who) -> commerce.LiveView:
        return commerce.do_live_transition(rt, live_id, action, actor=who)

    act.__doc__ = doc
    router.post(f"/live-sessions/{{live_id}}/{action}", name=f"live_{action}")(act)


_live_action("start", "Go live: reservations close, viewers enter.")
_live_action("end", "End the broadcast: open entries close; the session stays watchable as a replay.")


@router.post("/live-sessions/{live_id}/pin")
def pin(live_id: int, body: s.LivePin, rt: RT, who: Who) -> commerce.LiveView:
    """Pin one of the session's product links in the broadcast; null unpins."""
    return commerce.do_pin(rt, live_id, body.product_id, actor=who)


@router.post("/live-sessions/{live_id}/reservations", status_code=201)
def reserve(live_id: int, body: s.ConsumerRef, rt: RT, who: Who) -> dict[str, int]:
    """A consumer reserves a scheduled session (the warm-up)."""
    return {"reservations": commerce.do_reserve(rt, live_id, body.consumer_id, actor=who)}


@router.post("/live-sessions/{live_id}/viewers", status_code=201)
def join(live_id: int, body: s.ViewerJoin, request: Request, rt: RT, who: Who) -> commerce.EntryView:
    """A viewer enters, with what brought them (followers: ``profile``; feed: ``note``; search; an ad click)."""
    source = _source(rt, body.source, body.consumer_id)
    return commerce.do_join(rt, _ids(request), live_id, body.consumer_id, source, actor=who)


@router.post("/live-sessions/{live_id}/viewers/{consumer_id}/leave")
def leave(live_id: int, consumer_id: int, rt: RT, who: Who) -> dict[str, int]:
    return {"closed": commerce.do_leave(rt, live_id, consumer_id, actor=who)}


@router.post("/live-sessions/{live_id}/activity", status_code=201)
def live_activity(live_id: int, body: s.LiveActivity, request: Request, rt: RT, who: Who) -> dict[str, int]:
    """A viewer comments (under the contact rule) or follows the host from the room."""
    if body.kind not in ("comment", "follow"):
        raise Invalid("invalid_live", f"{body.kind!r} is not a room activity", field="kind",
                      allowed=["comment", "follow"])
    return {"id": commerce.do_interact(rt, _ids(request), live_id, body.consumer_id, body.kind, body.text,
                                       actor=who)}


# --- DMs, leads and stores ------------------------------------------------------------------------------

@router.post("/conversations", status_code=201)
def open_conversation(body: s.ConversationCreate, request: Request, rt: RT, who: Who) -> commerce.ConversationView:
    """A consumer opens a DM with a brand, store or KOS account; ``origin`` is what it came from."""
    origin = _source(rt, body.origin, body.consumer_id)
    return commerce.do_open_conversation(rt, _ids(request), body.consumer_id, body.account_id, origin, actor=who)


@router.get("/accounts/{account_id}/conversations")
def inbox(account_id: int, rt: RT, who: Who, member_id: int | None = None, kos_account_id: int | None = None,
          unanswered: bool = False, after_id: Annotated[int, Query(ge=0)] = 0,
          limit: Annotated[int, Query(ge=1, le=1_000)] = 100) -> dict[str, object]:
    """The multi-seat inbox: the account's DMs, one seat's with ``member_id`` or ``kos_account_id``, and
    ``unanswered`` for those still waiting for a first answer. A KOS reads its own seat."""
    items = commerce.list_conversations(rt, account_id, member_id=member_id, kos_account_id=kos_account_id,
                                        unanswered=unanswered, after_id=after_id, limit=limit, actor=who)
    return {"items": items, "next_after_id": items[-1].id if len(items) == limit else None}


@router.get("/conversations/{conversation_id}")
def get_conversation(conversation_id: int, rt: RT, who: Who) -> commerce.ConversationView:
    return commerce.get_conversation(rt, conversation_id, actor=who)


@router.get("/conversations/{conversation_id}/messages")
def list_messages(conversation_id: int, rt: RT, who: Who) -> dict[str, object]:
    return {"items": commerce.list_messages(rt, conversation_id, actor=who)}


@router.post("/conversations/{conversation_id}/messages", status_code=201)
def post_message(conversation_id: int, body: s.MessageCreate, rt: RT, who: Who) -> commerce.MessageView:
    """Free text carrying a phone number, WeChat/QQ id, e-mail or QR link is refused (422
    ``contact_info_not_allowed``) or masked, as ``ZHONGCAO_DM_CONTACT_RULE`` says; use a lead card."""
    return commerce.do_post_message(rt, conversation_id, body.sender, body.text, actor=who)


@router.post("/conversations/{conversation_id}/assign")
def assign(conversation_id: int, body: s.SeatAssign, rt: RT, who: Who) -> commerce.ConversationView:
    """Give the conversation to a seat: a member of the account or a KOS bound to it."""
    return commerce.do_assign(rt, conversation_id, member_id=body.member_id, kos_account_id=body.kos_account_id,
                              actor=who)


@router.post("/conversations/{conversation_id}/lead-cards", status_code=201)
def lead_card(conversation_id: int, body: s.LeadCardCreate, request: Request, rt: RT, who: Who) -> commerce.LeadView:
    """The consumer leaves a phone or WeCom card: a lead with the conversation's origin, sent to the CRM."""
    return commerce.do_lead_card(rt, _ids(request), conversation_id, body.kind, body.value, actor=who)


@router.post("/conversations/{conversation_id}/visit-codes", status_code=201)
def issue_visit_code(conversation_id: int, rt: RT, who: Who) -> commerce.VisitCodeView:
    """The store gives the consumer a code to redeem at the counter: the verified store visit."""
    return commerce.do_issue_visit_code(rt, conversation_id, actor=who)


@router.post("/visit-codes/redeem")
def redeem_visit_code(body: s.VisitCodeRedeem, request: Request, rt: RT, who: Who) -> commerce.VisitCodeView:
    return commerce.do_redeem_visit_code(rt, _ids(request), body.code, actor=who)


@router.get("/accounts/{account_id}/leads")
def list_leads(account_id: int, rt: RT, who: Who, status: str | None = None,
               after_id: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=1_000)] = 100) -> dict[str, object]:
    """The account's leads; a brand's include its stores' and distributors'. Page with ``after_id``."""
    items = commerce.list_leads(rt, account_id, status=status, after_id=after_id, limit=limit, actor=who)
    return {"items": items, "next_after_id": items[-1].lead_id if len(items) == limit else None}


@router.post("/leads/{lead_id}/status")
def set_lead_status(lead_id: int, body: s.LeadStatusSet, request: Request, rt: RT, who: Who) -> commerce.LeadView:
    """new → contacted → valid → won, or lost; valid within 7 days of the card is a valid-lead conversion."""
    return commerce.do_set_lead_status(rt, _ids(request), lead_id, body.status, actor=who)


@router.get("/accounts/{account_id}/dm-stats")
def dm_stats(account_id: int, rt: RT, who: Who, since: datetime, until: datetime) -> commerce.DmStats:
    """Conversations, openers, consults, leads, messages and first-response time, overall and per seat."""
    return commerce.dm_stats(rt, account_id, since, until, actor=who)


@router.put("/accounts/{account_id}/lead-webhook")
def set_webhook(account_id: int, body: s.WebhookSet, rt: RT, who: Who) -> commerce.WebhookView:
    """Send the account's leads (and its sub-accounts') to a CRM URL, signed with the secret shown once:
    ``X-Zhongcao-Signature: sha256=<hex HMAC-SHA256 of the body>``."""
    return commerce.do_set_webhook(rt, account_id, body.url, actor=who)


@router.get("/accounts/{account_id}/lead-webhook/deliveries")
def deliveries(account_id: int, rt: RT, who: Who,
               limit: Annotated[int, Query(ge=1, le=1_000)] = 100) -> dict[str, object]:
    """The delivery log: each lead's status, attempts and every try's answer."""
    return {"items": commerce.list_deliveries(rt, account_id, limit=limit, actor=who)}


@router.put("/accounts/{account_id}/poi")
def set_poi(account_id: int, body: s.PoiSet, rt: RT, who: Who) -> commerce.PoiView:
    return commerce.do_set_poi(rt, account_id, name=body.name, address=body.address, city=body.city, lat=body.lat,
                               lng=body.lng, actor=who)


@router.get("/stores")
def stores(rt: RT, who: Who, city: Annotated[str | None, Query(max_length=20)] = None,
           limit: Annotated[int, Query(ge=1, le=1_000)] = 100) -> dict[str, object]:
    return {"items": commerce.list_pois(rt, city=city, limit=limit)}


# --- official-account tools -------------------------------------------------------------------------

@router.post("/accounts/{account_id}/pushes", status_code=201)
def push(account_id: int, body: s.PushCreate, request: Request, rt: RT, who: Who) -> commerce.PushView:
    """A targeted message to followers, a live session's reservations, buyers, DM contacts or a segment's
    consumer ids, each consumer at most ``ZHONGCAO_PUSH_WEEKLY_LIMIT`` times a week from one account."""
    if body.audience == "followers":
        consumers: Any = content.followers_of(rt, account_id)
    elif body.audience == "consumers":
        consumers = body.consumer_ids
    elif body.audience in commerce.AUDIENCES:
        if body.audience == "reservations" and body.live_id is None:
            raise Invalid("invalid_push", "a reservations push names its live session", field="live_id",
                          allowed="a live session id")
        consumers = commerce.audience_of(rt, account_id, body.audience, body.live_id)
    else:
        consumers = []
    return commerce.do_push(rt, _ids(request), account_id, body.text, body.audience, consumers, actor=who)


@router.get("/accounts/{account_id}/mentions")
def mentions(account_id: int, request: Request, rt: RT, who: Who,
             n: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, object]:
    """UGC to feature: published notes by others that name the account (its name or a part of it of two
    characters or more), newest first."""
    name = accounts.get_account(rt, account_id, actor=who).name
    engine: content.ContentEngine = request.app.state.content
    found = {int(i) for part in commerce.name_parts(name) for i in engine.notes_about(part)}
    notes = [v for v in content.notes_by_id(rt, sorted(found)) if v.author_id != account_id and
             v.status == "published"]
    notes.sort(key=lambda v: (v.created_at, v.id), reverse=True)
    return {"items": [{"note_id": v.id, "author_id": v.author_id, "title": v.title, "created_at": v.created_at}
                      for v in notes[:n]]}


@router.get("/accounts/{account_id}/featured-notes")
def featured(account_id: int, rt: RT, who: Who) -> dict[str, object]:
    """The UGC the account features on its profile."""
    return {"note_ids": commerce.featured_notes(rt, account_id)}


@router.post("/accounts/{account_id}/featured-notes", status_code=201)
def feature(account_id: int, body: s.FeatureNote, rt: RT, who: Who) -> dict[str, object]:
    """Feature a published note by someone else that names the account."""
    return {"note_ids": commerce.do_feature_note(rt, account_id, body.note_id, actor=who)}


@router.delete("/accounts/{account_id}/featured-notes/{note_id}")
def unfeature(account_id: int, note_id: int, rt: RT, who: Who) -> dict[str, object]:
    return {"note_ids": commerce.do_feature_note(rt, account_id, note_id, featured=False, actor=who)}
