"""RowsOf and distinct: by a table over compact ids or a search over spread ones, as a dict and np.unique say."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zhongcao.core import RowsOf, distinct
from zhongcao.core.lookup import MARGIN


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 3 * MARGIN), unique=True, max_size=40), st.lists(st.integers(-10, 3 * MARGIN + 10),
                                                                              max_size=40),
       st.sampled_from([1, 10**12]))
def test_rows_are_what_a_dict_of_the_ids_says(ids: list[int], asked: list[int], scale: int) -> None:
    """``scale`` spreads the ids far apart (the search) or leaves them compact (the table)."""
    ids_a = np.array(ids, dtype=np.int64) * scale
    asked_a = np.array(asked + ids[:5], dtype=np.int64) * scale
    where = {int(i): row for row, i in enumerate(ids_a.tolist())}
    assert RowsOf(ids_a)(asked_a).tolist() == [where.get(int(i), -1) for i in asked_a.tolist()]
    assert distinct(asked_a).tolist() == np.unique(asked_a).tolist()


def test_both_ways_are_taken() -> None:
    compact, spread = RowsOf(np.arange(1, 1_001)), RowsOf(np.arange(1, 1_001) * 10**9)
    assert compact._table is not None
    assert spread._sorted is not None
    assert compact(np.array([0, 1, 1_000, 1_001])).tolist() == [-1, 0, 999, -1]
    assert spread(np.array([10**9, 5, 10**12])).tolist() == [0, -1, 999]
    assert RowsOf(np.empty(0, dtype=np.int64))(np.array([3])).tolist() == [-1]
    assert distinct(np.array([5, 3, 5, 4, 3])).tolist() == [3, 4, 5]  # compact: marked
    assert distinct(np.array([10**12, 3, 10**12])).tolist() == [3, 10**12]  # spread: sorted
    assert distinct(np.empty(0, dtype=np.int64)).tolist() == []
