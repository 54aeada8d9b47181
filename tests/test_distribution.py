"""Feed distribution: the pool ladder, serving, and what each slot logs."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.content.distribution import (
    RESTRICTED,
    FeedIndex,
    NoteState,
    PoolSpec,
    SeenFilter,
    lower_bound,
    record_engagements,
    record_impressions,
    serve_feed,
    update_pools,
)
from zhongcao.content.taxonomy import N_CATEGORIES
from zhongcao.events import EventKind

DAY = 86_400.0


def one_category_interests(consumers: int, category: int = 0) -> np.ndarray:
    interests = np.full((consumers, N_CATEGORIES), 1e-6, dtype=np.float32)
    interests[:, category] = 1.0
    return interests


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"quotas": (100, 50)}, "quotas"), ({"read_gate": 1.5}, "read_gate"), ({"confidence": 0.3}, "confidence"),
    ({"prior": (0.0, 1.0)}, "prior"), ({"early_boost": 0.5}, "early_boost"), ({"window": 0}, "window"),
])
def test_spec_says_what_is_wrong(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"PoolSpec.{name}"):
        PoolSpec(**kwargs)


def test_early_interactions_weigh_more() -> None:
    spec = PoolSpec()
    w = spec.early_weight(np.array([0.0, 2.0, 26.0, 240.0]))
    assert w[0] == w[1] == pytest.approx(3.7)
    assert 1.0 <= w[3] < w[2] < 1.2


def test_promotion_needs_evidence_not_a_raw_ratio() -> None:
    """10% reads and interactions on 10 impressions is not enough to clear an 8% gate; on 2,000 it is."""
    spec = PoolSpec(quotas=(10, 2_000, 50_000), engage_gate=0.08)
    state = NoteState()
    idx = state.add(np.array([1, 2]), np.array([0, 0]), np.zeros(2))
    state.level[1] = 1
    for i, n in zip(idx, (10, 2_000), strict=True):
        state.exposures[i] = state.level_exposures[i] = n
        state.reads[i] = state.engaged[i] = n // 10
    assert lower_bound(np.array([1]), np.array([10]), spec)[0] < 0.08
    changes = update_pools(state, spec)
    assert (changes.promoted.tolist(), changes.stopped.tolist()) == ([1], [0])
    assert (state.level[:2].tolist(), state.stopped[:2].tolist()) == ([0, 2], [True, False])


def test_judging_the_served_notes_only_agrees_with_judging_all() -> None:
    """A page judges only its own notes (a scan of the catalogue per request would grow with it); any note
    it did not serve is not due, so the outcome is the full scan's, a climb over several pools included."""
    spec = PoolSpec(quotas=(10, 20, 50_000))

    def notes() -> NoteState:
        state = NoteState()
        state.add(np.arange(1, 7), np.zeros(6), np.zeros(6))
        state.exposures[:6] = state.level_exposures[:6] = [9, 10, 35, 10, 3, 40]
        state.reads[:6] = state.engaged[:6] = [9, 10, 35, 0, 3, 40]
        return state

    whole, served = notes(), notes()
    everything = update_pools(whole, spec)
    page = update_pools(served, spec, among=np.array([5, 1, 2, 3, -1, 2]))
    assert page.promoted.tolist() == everything.promoted.tolist() == [1, 2, 5]
    assert page.stopped.tolist() == everything.stopped.tolist() == [3]
    for name in ("level", "level_exposures", "stopped"):
        assert getattr(served, name)[:6].tolist() == getattr(whole, name)[:6].tolist()
    assert whole.level[:6].tolist() == [0, 1, 2, 0, 0, 2]


def closed_loop(seed: int, ticks: int = 48) -> NoteState:
    """Consumers who like note 1 and ignore note 2: the feed, their responses and the pools, hour by hour."""
    spec = PoolSpec()
    rng = np.random.default_rng(seed)
    state = NoteState()
    consumers = 3_000
    state.add(np.array([1, 2]), np.array([0, 0]), np.zeros(2), quality=0.05)            # on trial
    filler = state.add(np.arange(100, 106), np.zeros(6), np.zeros(6), quality=0.05)    # already promoted
    state.level[filler] = 1
    rates = {0: (0.30, 0.15), 1: (0.03, 0.005)}  # state index → (read, interact) probability per impression
    interests, seen = one_category_interests(consumers), SeenFilter(consumers, spec)
    for tick in range(ticks):
        now = tick * 3600.0
        batch = serve_feed(FeedIndex.build(state, now, spec), np.arange(consumers), 4, interests, seen, now, rng, spec)
        record_impressions(state, batch.note_idx)
        for i, (read, act) in rates.items():
            shown = batch.note_idx[batch.note_idx == i]
            k_read, k_act = rng.binomial(len(shown), read), rng.binomial(len(shown), act)
            kinds = np.array([EventKind.READ] * k_read + [EventKind.LIKE] * k_act, dtype=np.uint8)
            record_engagements(state, np.full(len(kinds), i), kinds, np.full(len(kinds), now), spec)
        update_pools(state, spec)
    return state


def test_an_engaging_note_climbs_and_a_dull_one_stops() -> None:
    state = closed_loop(seed=1)
    assert state.level[0] >= 2
    assert not state.stopped[0]
    assert (state.level[1], state.stopped[1]) == (0, True)
    assert state.exposures[1] == PoolSpec().quotas[0]  # it had its fair trial, and not one exposure more


def test_the_same_seed_gives_the_same_feed() -> None:
    spec = PoolSpec()

    def run(seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        state = NoteState()
        state.add(np.arange(1, 501), rng.integers(0, N_CATEGORIES, 500), np.zeros(500), rng.random(500) * 0.2)
        state.level[:300] = 1
        interests = rng.dirichlet(np.ones(N_CATEGORIES), size=200).astype(np.float32)
        b = serve_feed(FeedIndex.build(state, 0.0, spec), np.arange(200), 10, interests, SeenFilter(200, spec),
                       0.0, rng, spec)
        return [b.note_id, b.position, b.propensity, b.explore]

    first, again, other = run(7), run(7), run(8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_no_repeats_within_the_window_and_positions_are_dense() -> None:
    spec = PoolSpec(exploration=0.0, no_repeat_days=7)
    state = NoteState()
    idx = state.add(np.arange(1, 41), np.zeros(40), np.zeros(40))
    state.level[idx] = 1
    rng, seen, interests = np.random.default_rng(0), SeenFilter(1, spec), one_category_interests(1)
    shown = []
    for hour in range(6):
        index = FeedIndex.build(state, hour * 3600.0, spec)
        b = serve_feed(index, np.array([0]), 3, interests, seen, hour * 3600.0, rng, spec)
        assert b.position.tolist() == list(range(1, len(b.position) + 1))
        shown.extend(b.note_id.tolist())
    assert len(shown) == len(set(shown)) > 0
    later = 15 * DAY  # two windows on: the memory of those notes is gone
    index = FeedIndex.build(state, later, spec)
    again = serve_feed(index, np.array([0]), 20, interests, seen, later, rng, PoolSpec(exploration=0.0, window=40))
    assert set(again.note_id.tolist()) & set(shown)


def test_a_restricted_note_is_never_distributed() -> None:
    spec = PoolSpec()
    state = NoteState()
    idx = state.add(np.arange(1, 11), np.zeros(10), np.zeros(10), quality=0.1)
    state.level[idx] = 1
    state.quality[0] = 0.9
    state.status[0] = RESTRICTED
    rng = np.random.default_rng(0)
    b = serve_feed(FeedIndex.build(state, 0.0, spec), np.arange(500), 5, one_category_interests(500),
                   SeenFilter(500, spec), 0.0, rng, spec)
    assert 1 not in set(b.note_id.tolist())
    assert len(b.note_id) > 0


def test_every_slot_logs_its_propensity() -> None:
    """Four promoted notes in the only category with notes, no exploration: each pick was one in four."""
    spec = PoolSpec(exploration=0.0)
    state = NoteState()
    idx = state.add(np.arange(1, 5), np.zeros(4), np.zeros(4))
    state.level[idx] = 1
    b = serve_feed(FeedIndex.build(state, 0.0, spec), np.arange(50), 2, one_category_interests(50),
                   SeenFilter(50, spec), 0.0, np.random.default_rng(3), spec)
    assert np.allclose(b.propensity, 0.25)
    assert not b.explore.any()
    assert b.policy == "feed.pools.v1"
