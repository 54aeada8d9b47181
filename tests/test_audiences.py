"""Behaviour audiences on hand-built event sets: keyword behaviour (searched, read, engaged, and the look-back
days) and creator fans (traffic, days), and a unit that only they can reach."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from conftest import OP, Kob
from zhongcao.ads.audiences import members
from zhongcao.ads.spec import Targeting
from zhongcao.content import ContentEngine, do_create_note
from zhongcao.core import Runtime
from zhongcao.events import EventKind, EventStore, make_batch


def events(rows: list[dict[str, Any]]) -> Any:
    cols = {k: [r.get(k) for r in rows] for k in {k for r in rows for k in r}}
    return make_batch({"event_id": np.arange(1, len(rows) + 1, dtype=np.uint64), **cols})


def at(rt: Runtime, days_ago: float) -> datetime:
    return (rt.now() - timedelta(days=days_ago)).replace(tzinfo=None)


def rule(**advanced: Any) -> Targeting:
    return Targeting.parse({"type": "advanced", **advanced})


@pytest.fixture
def world(rt: Runtime, kob: Kob) -> tuple[ContentEngine, int, int]:
    engine = ContentEngine(rt)
    lipstick = do_create_note(rt, kob.creator, title="秋冬口红色号推荐", body="显白", category="beauty", actor=OP).id
    tent = do_create_note(rt, kob.brand, title="露营帐篷怎么选", body="轻量", category="travel", actor=OP).id
    engine.sync()
    return engine, lipstick, tent


def test_keyword_behaviour_admits_searchers_readers_and_engagers_within_the_days(
        rt: Runtime, world: tuple[ContentEngine, int, int]) -> None:
    engine, lipstick, tent = world
    with EventStore() as store:
        store.write(events([
            {"ts": at(rt, 1), "kind": EventKind.SEARCH.value, "consumer_id": 1, "query": "口红 推荐"},
            {"ts": at(rt, 10), "kind": EventKind.SEARCH.value, "consumer_id": 2, "query": "口红"},   # too long ago
            {"ts": at(rt, 2), "kind": EventKind.READ.value, "consumer_id": 3, "note_id": lipstick},
            {"ts": at(rt, 2), "kind": EventKind.LIKE.value, "consumer_id": 4, "note_id": lipstick},
            {"ts": at(rt, 2), "kind": EventKind.READ.value, "consumer_id": 5, "note_id": tent},    # another topic
            {"ts": at(rt, 2), "kind": EventKind.SEARCH.value, "consumer_id": 6, "query": "帐篷"},
        ]))

        def who(actions: list[str], days: int = 7) -> list[int]:
            t = rule(keyword_behaviour={"keywords": ["口红"], "actions": actions, "days": days})
            return members(rt, store, t, engine.notes_about).tolist()

        assert who(["searched"]) == [1]
        assert who(["searched"], days=15) == [1, 2]
        assert who(["read"]) == [3]
        assert who(["engaged"]) == [4]
        assert who(["searched", "read", "engaged"]) == [1, 3, 4]


def test_creator_fans_follow_traffic_and_days_and_both_rules_must_hold(
        rt: Runtime, kob: Kob, world: tuple[ContentEngine, int, int]) -> None:
    engine, lipstick, tent = world
    with EventStore() as store:
        store.write(events([
            {"ts": at(rt, 5), "kind": EventKind.IMPRESSION.value, "consumer_id": 1, "note_id": lipstick},
            {"ts": at(rt, 5), "kind": EventKind.AD_IMPRESSION.value, "consumer_id": 2, "note_id": lipstick},
            {"ts": at(rt, 60), "kind": EventKind.READ.value, "consumer_id": 3, "note_id": lipstick},
            {"ts": at(rt, 5), "kind": EventKind.IMPRESSION.value, "consumer_id": 4, "note_id": tent},  # the brand's
            {"ts": at(rt, 1), "kind": EventKind.SEARCH.value, "consumer_id": 2, "query": "口红"},
        ]))

        def fans(**change: Any) -> list[int]:
            t = rule(creator_fans={"creator_ids": [kob.creator]} | change)
            return members(rt, store, t, engine.notes_about).tolist()

        assert fans() == [1, 2]
        assert fans(traffic="organic") == [1]
        assert fans(traffic="ad") == [2]
        assert fans(days=90) == [1, 2, 3]
        both = rule(creator_fans={"creator_ids": [kob.creator]},
                    keyword_behaviour={"keywords": ["口红"], "actions": ["searched"], "days": 3})
        assert members(rt, store, both, engine.notes_about).tolist() == [2]
