"""The auction and the pacer, each on hand-built arrays: GSP prices, the reserve, ties; pacing over a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhongcao.ads import auction
from zhongcao.ads.auction import gsp
from zhongcao.ads.pacing import Pacer, PacingSpec, schedule_mask

NAN = float("nan")


@pytest.mark.parametrize(("scores", "slots", "reserve", "tiebreak", "winner", "price"), [
    # two slots: ranked by score, each pays the next score
    ([[10, 30, 20, 5]], 2, 8, None, [[1, 2]], [[20, 10]]),
    # the reserve keeps a low bidder out and sets the floor of the last winner's price
    ([[10, 9]], 2, 9.5, None, [[0, -1]], [[9.5, 0]]),
    # alone: pays the reserve
    ([[40]], 1, 3, None, [[0]], [[3]]),
    # a tie goes to the lower tiebreak and is priced at the tied score
    ([[20, 20, 5]], 2, 1, [7, 3, 1], [[1, 0]], [[20, 5]]),
    # absent candidates (NaN, -inf) never win; more slots than candidates leave slots empty
    ([[NAN, 12, -np.inf]], 3, 1, None, [[1, -1, -1]], [[1, 0, 0]]),
    # rows are separate auctions
    ([[5, 7], [9, 2]], 1, 1, None, [[1], [0]], [[5], [2]]),
])
def test_gsp(scores: list[list[float]], slots: int, reserve: float, tiebreak: list[int] | None,
             winner: list[list[int]], price: list[list[float]]) -> None:
    result = gsp(np.array(scores), slots, reserve, None if tiebreak is None else np.array(tiebreak))
    assert result.winner.tolist() == winner
    assert result.price.tolist() == price


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1_000), min_size=1, max_size=8), min_size=1, max_size=5).filter(
    lambda rows: len({len(r) for r in rows}) == 1), st.integers(1, 4), st.floats(0, 500))
def test_no_winner_pays_more_than_its_score_or_less_than_the_reserve(rows: list[list[float]], slots: int,
                                                                    reserve: float) -> None:
    result = gsp(np.array(rows), slots, reserve)
    won = result.winner >= 0
    assert (result.price[won] <= result.score[won] + 1e-9).all()
    assert (result.price[won] >= reserve - 1e-9).all()
    assert (np.diff(result.score, axis=1)[won[:, 1:]] <= 0).all()  # slots in score order
    for row, winners in zip(rows, result.winner, strict=True):  # every eligible bid above the winners lost
        taken = {int(w) for w in winners if w >= 0}
        assert len(taken) == int(min(slots, sum(s >= reserve for s in row)))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6), st.integers(0, 30), st.integers(1, 5), st.integers(0, 4), st.data())
def test_gsp_ranks_and_prices_as_a_sort_of_each_row_would(r: int, c: int, slots: int, reserve: int,
                                                         data: st.DataObject) -> None:
    """Against a plain sort per row: few distinct scores, so ties (broken by tiebreak, then column) are common;
    compiled and as plain Python."""
    scores = np.array(data.draw(st.lists(st.sampled_from([NAN, -np.inf, 1, 3, 3, 5, 8]), min_size=r * c,
                                         max_size=r * c)), dtype=np.float64).reshape(r, c)
    tiebreak = np.array(data.draw(st.lists(st.integers(0, 3), min_size=c, max_size=c)))
    python = data.draw(st.booleans())
    with patch.object(auction, "_rank", auction._rank.python if python else auction._rank):  # type: ignore[attr-defined]
        result = gsp(scores, slots, reserve, tiebreak)
    for i in range(r):
        ranked = sorted((j for j in range(c) if np.isfinite(scores[i, j]) and scores[i, j] >= reserve),
                        key=lambda j: (-scores[i, j], tiebreak[j], j))
        winners = ranked[:slots]
        assert result.winner[i].tolist() == winners + [-1] * (slots - len(winners))
        for k, w in enumerate(winners):
            after = scores[i, ranked[k + 1]] if k + 1 < len(ranked) else reserve
            assert result.price[i, k] == max(after, reserve)
            assert result.score[i, k] == scores[i, w]


BEIJING = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 1, 5, tzinfo=BEIJING).timestamp()


def traffic_per_second(hour: float) -> float:
    """A day's requests: a quiet night, a lunch bump and an evening peak."""
    return 0.3 + 1.5 * np.exp(-((hour - 12.5) / 1.5) ** 2) + 3.0 * np.exp(-((hour - 21) / 2) ** 2)


def simulate_day(pacer: Pacer, seed: int, cost_fen: float = 20.0) -> np.ndarray:
    """Spend per campaign, cumulative at the end of each 10-second tick, over one Beijing day."""
    rng = np.random.default_rng(seed)
    ticks = np.arange(0, 86_400, 10)
    out = np.zeros((len(ticks), len(pacer.budget)))
    for i, t in enumerate(ticks):
        rate = pacer.rates(MONDAY + t)
        offered = rng.poisson(traffic_per_second(t / 3_600) * 10, size=len(rate))
        taken = rng.binomial(offered, rate)
        spend = taken * cost_fen
        room = np.maximum(pacer.budget - pacer.spent, 0)  # what the budget lease would still allow
        pacer.record(np.arange(len(rate)), np.minimum(spend, room))
        out[i] = pacer.spent
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_even_pacing_keeps_spend_within_ten_percent_of_linear(seed: int) -> None:
    budget = 100_000.0  # ¥1,000 against ~¥30,000 of unthrottled demand
    pacer = Pacer(np.array([budget]), np.array([True]), schedule_mask(["1" * 24] * 7)[None], PacingSpec(),
                  utc_offset_hours=8)
    spent = simulate_day(pacer, seed)[:, 0]
    linear = budget * np.arange(1, len(spent) + 1) * 10 / 86_400
    assert np.max(np.abs(spent - linear)) <= 0.10 * budget
    assert 0.95 * budget <= spent[-1] <= budget


def test_dayparts_confine_spend_to_scheduled_hours_and_spread_it_evenly_there() -> None:
    budget = 60_000.0
    daytime = schedule_mask(["0" * 8 + "1" * 14 + "0" * 2] * 7)  # 08:00–22:00 Beijing
    pacer = Pacer(np.array([budget]), np.array([True]), daytime[None], PacingSpec(), utc_offset_hours=8)
    spent = simulate_day(pacer, 4)[:, 0]
    hours = np.arange(1, len(spent) + 1) * 10 / 3_600
    assert spent[hours <= 8].max() == 0
    assert spent[-1] == spent[np.searchsorted(hours, 22)]  # nothing after 22:00
    inside = (hours > 8) & (hours <= 22)
    linear = budget * (hours[inside] - 8) / 14
    assert np.max(np.abs(spent[inside] - linear)) <= 0.10 * budget


def test_accelerated_spends_as_fast_as_traffic_allows_and_unlimited_is_never_throttled() -> None:
    budget = 100_000.0
    pacer = Pacer(np.array([budget, np.inf]), np.array([False, True]),
                  np.repeat(schedule_mask(["1" * 24] * 7)[None], 2, axis=0), PacingSpec(), utc_offset_hours=8)
    spent = simulate_day(pacer, 5)
    hours = np.arange(1, len(spent) + 1) * 10 / 3_600
    assert spent[hours <= 14, 0][-1] == budget  # gone by mid-afternoon
    assert spent[-1, 1] > 10 * budget          # unlimited takes everything offered


def test_a_new_budget_day_starts_spend_again() -> None:
    pacer = Pacer(np.array([1_000.0]), np.array([False]), schedule_mask(["1" * 24] * 7)[None], PacingSpec(),
                  utc_offset_hours=8)
    pacer.rates(MONDAY)
    pacer.record(np.array([0]), np.array([1_000.0]))
    assert pacer.rates(MONDAY + 3_600)[0] == 0
    assert pacer.rates(MONDAY + 86_400)[0] == 1  # Beijing midnight, not UTC's
    assert datetime.fromtimestamp(MONDAY, UTC).hour == 16
