"""Compiled kernels give the answers their plain-Python selves give, and run without numba on request."""

from __future__ import annotations

import numpy as np
import pytest
from numba.core.errors import TypingError

from test_targeting import CASES, UNITS, audience
from zhongcao.ads import delivery
from zhongcao.ads.delivery import FrequencyCap
from zhongcao.ads.spec import Targeting
from zhongcao.ads.targeting import Audience, TargetingIndex
from zhongcao.content import distribution
from zhongcao.content.distribution import FeedIndex, NoteState, PoolSpec, SeenFilter, serve_feed
from zhongcao.content.taxonomy import N_CATEGORIES
from zhongcao.core.compiled import MODE_VARIABLE, compiled, kernel


def _walk(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    total = 0.0
    for i in range(len(x)):
        total = total * 0.5 + x[i]
        out[i] = total
    return out


def _python_only(x: np.ndarray) -> str:
    return f"{type(x).__name__} of {len(x)}"  # numba compiles no f-string of a type's name


def test_a_kernel_runs_as_python_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.arange(10, dtype=np.float64)
    assert compiled()
    fast = kernel(_walk)
    assert fast.python.__wrapped__ is _walk  # type: ignore[attr-defined]
    with pytest.raises(TypingError):
        kernel(_python_only)(x)
    monkeypatch.setenv(MODE_VARIABLE, "python")
    assert not compiled()
    assert kernel(_python_only)(x) == "ndarray of 10"
    assert np.array_equal(kernel(_walk)(x), fast(x))


def _serve(seed: int, rounds: int) -> list[np.ndarray]:
    """Hours of a feed over notes in every category, some on trial, some near their quotas, many seen."""
    spec = PoolSpec(quotas=(30, 60, 2_000, 20_000, 100_000, 1_000_000))
    rng = np.random.default_rng(seed)
    state = NoteState()
    notes = 3_000
    state.add(np.arange(1, notes + 1), rng.integers(0, N_CATEGORIES, notes), np.zeros(notes), rng.random(notes) * 0.2)
    state.level[: notes // 2] = rng.integers(1, 3, notes // 2)
    state.level_exposures[:] = rng.integers(0, 30, notes)
    consumers = 400
    interests = rng.dirichlet(np.full(N_CATEGORIES, 0.3), size=consumers).astype(np.float32)
    interests[:5] = 0.0  # nothing they like: every slot falls in the last category
    seen = SeenFilter(consumers, spec)
    out = []
    for hour in range(rounds):
        now = hour * 3_600.0
        who = np.sort(rng.choice(consumers, 150, replace=False))
        b = serve_feed(FeedIndex.build(state, now, spec), who, 10, interests, seen, now, rng, spec)
        distribution.record_impressions(state, b.note_idx)
        out += [b.request, b.consumer, b.note_idx, b.position, b.propensity, b.explore]
    return [*out, seen.window(0.0)[0].copy()]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_compiled_feed_fills_pages_as_its_python_self(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _serve(seed, rounds=6)
    monkeypatch.setattr(distribution, "_fill", distribution._fill.python)  # type: ignore[attr-defined]
    slow = _serve(seed, rounds=6)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)


@pytest.mark.parametrize("python", [False, True], ids=["compiled", "python"])
def test_the_ad_scans_admit_as_the_targeting_grid_and_frequency_cap_do(python: bool) -> None:
    """Every unit of the targeting tests plus one with a behaviour audience, for each consumer, scanned whole
    (the feed's window) and as pairs (search): what is admitted is the packed grid's row, minus a capped
    pair and the units the pacer drew out."""
    units = [Targeting.parse(u) for u in UNITS] + [Targeting.parse({})]
    ids = np.arange(101, 101 + len(CASES), dtype=np.int64)
    index = TargetingIndex(units, [None] * len(UNITS) + [np.array([102, 104], dtype=np.uint64)])
    plain = audience([c for c, _ in CASES], index)
    people = Audience(plain.gender, plain.age, plain.device, plain.city, plain.interests, ids)
    grid = index.eligible(people)
    unit_id = np.arange(1_000, 1_000 + index.n, dtype=np.int64)
    cap = FrequencyCap(1 << 10)
    cap.add(np.array([ids[1]] * 3), np.array([unit_id[0]] * 3))  # consumer 102 has seen unit 0 three times
    rate = np.full(index.n, 0.5)
    rate[[0, -1]] = 1.0  # the capped unit and the behaviour audience's are never drawn out
    draws = np.random.default_rng(0).random((len(ids), index.n))
    seen = cap.counts[cap._slot(np.repeat(ids, index.n), np.tile(unit_id, len(ids)))].reshape(grid.shape)
    expected = grid & (draws < rate) & (seen < 3)
    assert expected[:, -1].tolist() == [False, True, False, True, False, False]  # the audience's members
    assert grid[1, 0]
    assert not expected[1, 0]  # eligible, and capped
    assert 0 < expected[:, 1:-1].sum() < grid[:, 1:-1].sum()  # some drawn out, some in

    admit = delivery._admit.python if python else delivery._admit  # type: ignore[attr-defined]
    targeting = (people.gender, people.age, people.device, people.city, people.interests, ids, ids)

    def scan(rows: np.ndarray, units: np.ndarray, begin: np.ndarray, end: np.ndarray, draws: np.ndarray,
             known: bool = True) -> tuple[np.ndarray, np.ndarray]:
        found, cand = np.zeros(len(rows), dtype=np.int64), np.full((len(rows), index.n), -1, dtype=np.int64)
        admit(np.arange(len(rows)), rows, units, begin, end, draws, *targeting, known, *index.arrays(), cap.counts,
              3, unit_id, rate, np.full(len(rows), index.n), found, cand)
        return found, cand

    rows = np.arange(len(ids))
    found, cand = scan(rows, np.arange(index.n), np.zeros(len(ids), dtype=np.int64), np.full(len(ids), index.n),
                       draws)
    for r in range(len(ids)):
        assert cand[r, : found[r]].tolist() == np.flatnonzero(expected[r]).tolist()
    row, unit = np.divmod(np.arange(grid.size), grid.shape[1])  # every pair as a request of one unit
    pairs = np.arange(grid.size)
    found, _ = scan(row, unit, pairs, pairs + 1, draws.reshape(-1, 1))
    assert (found > 0).tolist() == expected.ravel().tolist()
    found, _ = scan(row, unit, pairs, pairs + 1, draws.reshape(-1, 1), known=False)
    assert not (found > 0).reshape(grid.shape)[:, -1].any()  # no consumer named: no behaviour audience admits


@pytest.mark.parametrize("python", [False, True], ids=["compiled", "python"])
def test_a_candidate_past_a_full_page_still_takes_its_notes_quota(python: bool) -> None:
    """Pages of one, two candidates each, one category ranking notes 0 and 1. Request 0 fills its page with
    note 1, and its next candidate, note 0, takes note 0's one place left; so request 1, whose first
    candidate is note 0, gets note 1 (stopping at a full page let a million consumers' feed collapse)."""
    fill = distribution._fill.python if python else distribution._fill  # type: ignore[attr-defined]
    u = np.array([[0.6, 0.1], [0.1, 0.6]])  # rank int(u * 2): note 1 then 0, note 0 then 1
    one = np.ones((2, 1))
    seen = SeenFilter(2, PoolSpec())
    bits, window = seen.window(0.0)
    rows, note, position, _, explored = fill(
        1, one, one, np.full((2, 2), 0.5), one.repeat(2, axis=1), u, 0.1, np.array([[0, 1]]), np.array([2]),
        np.zeros(0, dtype=np.int64), np.array([0, 0]), np.array([1, 5]), bits, window, np.array([0, 1]))
    assert rows.tolist() == [0, 1]
    assert note.tolist() == [1, 1]
    assert position.tolist() == [1, 1]
    assert not explored.any()
