"""/v1 routes for notes, search and the category taxonomy."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from zhongcao import ads, commerce, content
from zhongcao.api import schemas as s
from zhongcao.api.deps import RT, Who

router = APIRouter(prefix="/v1", tags=["content"])


def engine(request: Request) -> content.ContentEngine:
    e: content.ContentEngine = request.app.state.content
    return e


@router.post("/notes", status_code=201)
def create_note(body: s.NoteCreate, request: Request, rt: RT, who: Who) -> content.NoteView:
    """Publish a note; ``product_ids`` are the SPU links it carries, and each must exist."""
    for product in body.product_ids:
        commerce.get_product(rt, product)
    note = content.do_create_note(
        rt, body.author_id, title=body.title, body=body.body, topics=body.topics, kind=body.kind,
        category=body.category, sponsored=body.sponsored, product_ids=body.product_ids, actor=who)
    engine(request).sync()  # searchable here at once; other processes within a sync interval
    return note


@router.get("/notes/{note_id}")
def get_note(note_id: int, request: Request, rt: RT, who: Who) -> dict[str, object]:
    """The note, with its public engagement counted from events. The author's side (and the operator) also
    see its ``distribution``: the traffic pool it is in and whether it still climbs; others get null."""
    note = content.get_note(rt, note_id, actor=who)
    dist = engine(request).distribution(note_id) if content.is_author_side(rt, note, actor=who) else None
    return asdict(note) | {"stats": asdict(engine(request).stats(note_id)),
                           "distribution": asdict(dist) if dist else None}


@router.post("/notes/{note_id}/status")
def set_note_status(note_id: int, body: s.NoteStatusSet, request: Request, rt: RT, who: Who) -> content.NoteView:
    """Moderate a note (operator: published, in_review, restricted) or delete it (its author's side).
    A restricted or deleted note leaves search and the feed at once here, elsewhere within a sync."""
    note = content.do_set_note_status(rt, note_id, body.status, reason=body.reason, actor=who)
    engine(request).sync()
    return note


@router.get("/creators/{account_id}/stats")
def creator_stats(account_id: int, request: Request, who: Who) -> content.CreatorStats:
    """An author's public numbers from events: followers gained, published notes, exposures, reads,
    interactions, and the engagement rate (interactions per exposure)."""
    return engine(request).creator_stats(account_id)


@router.post("/notes/{note_id}/engagements", status_code=201)
def engage(note_id: int, body: s.EngagementCreate, request: Request, who: Who) -> content.NoteStats:
    """A consumer read or interacted with a note; the answer is the note's counters after it."""
    return engine(request).record_engagement(note_id, body.consumer_id, body.kind)


def ad_engine(request: Request) -> ads.AdEngine:
    e: ads.AdEngine = request.app.state.ads
    return e


Device = Annotated[str | None, Query(description="ios | android: the request's device, for ad targeting")]
City = Annotated[str | None, Query(max_length=20, description="the request's city (e.g. 上海), for ad targeting")]
Gender = Annotated[Literal["male", "female"] | None, Query(description="the consumer's gender, for ad targeting")]
Age = Annotated[int | None, Query(ge=1, le=120, description="the consumer's age in years, for ad targeting")]


@router.get("/search")
async def search(request: Request, who: Who, q: Annotated[str, Query(max_length=5_000)],
                 n: Annotated[int, Query(ge=1, le=50)] = 10, page: Annotated[int, Query(ge=1, le=100)] = 1,
                 kind: Annotated[list[str] | None, Query(description="image | video; repeat for both")] = None,
                 since: datetime | None = None, until: datetime | None = None,
                 consumer_id: int | None = None, device: Device = None, city: City = None,
                 gender: Gender = None, age: Age = None,
                 offset: Annotated[int | None, Query(ge=0, le=1_000,
                                                     description="the previous page's next_offset")] = None,
                 ) -> ads.SearchWithAds:
    """Organic results, with the ads sold at ``ad_positions`` (3, then every 10th) placed among them;
    organic items carry ``ad: null``.

    Served on the event loop, like the feed: the engines work in memory for a millisecond or two and hold
    the GIL while they do, so a thread per request would only add a hop and queue on the engines' locks;
    requests served in turn keep arrival order, which is what keeps the tail latency low."""
    for k in kind or ():
        if k not in content.NOTE_KINDS:
            raise content.invalid_kind(k)
    return ad_engine(request).search(q, n=n, page=page, offset=offset, consumer_id=consumer_id, device=device,
                                     city=city, gender=gender, age=age, kinds=tuple(kind or ()), since=since,
                                     until=until)


@router.get("/search/hot")
def hot_queries(request: Request, rt: RT, who: Who, n: Annotated[int, Query(ge=1, le=50)] = 10) -> content.HotQueries:
    """热搜: the most searched queries of the last 24 hours, each from at least three consumers; recomputed
    every minute from search events."""
    return content.read_hot_queries(rt, n)


@router.get("/search/suggestions")
def suggestions(request: Request, who: Who, q: Annotated[str, Query(max_length=100)],
                n: Annotated[int, Query(ge=1, le=20)] = 10) -> dict[str, object]:
    """Completions of what was typed, from note titles and topics, most used first."""
    return {"q": q, "suggestions": engine(request).suggester.suggest(q, n)}


@router.get("/feed")
async def feed(request: Request, who: Who, consumer_id: Annotated[int, Query(ge=1)],
               n: Annotated[int, Query(ge=1, le=50)] = 10, device: Device = None, city: City = None,
               gender: Gender = None, age: Age = None) -> ads.FeedWithAds:
    """The consumer's next notes, ranked by interest × predicted engagement × freshness, with trial notes
    in the exploration slots and ads at positions 4, 14, …; every impression is logged with its policy
    and propensity. Served on the event loop (see ``search``)."""
    return ad_engine(request).feed(consumer_id, n, device=device, city=city, gender=gender, age=age)


@router.post("/ad-clicks")
def ad_click(body: s.AdClickCreate, request: Request, who: Who) -> ads.ClickResult:
    """A consumer clicked an ad: charged once, through a budget lease, at the auction's price. A replayed
    click id gets its first answer; a repeat click on the same creative the same day is free."""
    return ad_engine(request).click(body.click_id)


@router.get("/categories")
def categories() -> list[dict[str, str]]:
    """The note taxonomy: code, 中文 and English names."""
    return [{"code": code, "zh": zh, "en": en} for code, zh, en in content.CATEGORIES]
