"""Keyword matching tables: exact, phrase, smart, negative, and the bid a query triggers."""

from __future__ import annotations

import pytest

from zhongcao.ads.keywords import KeywordEntry, KeywordIndex

KEYWORDS = [  # (unit, keyword id, text, match, bid, negative)
    (0, 1, "口红", "exact", 100, False),
    (1, 2, "口红", "phrase", 80, False),
    (2, 3, "ysl 口红", "exact", 150, False),
    (3, 4, "口红", "smart", 60, False),
    (4, 5, "洗发水", "phrase", 90, False),
    (4, 6, "去屑洗发水", "exact", 200, False),
    (5, 7, "口红", "phrase", 70, False),
    (5, 8, "平替", "phrase", 0, True),  # unit 5 never shows for bargain hunters
]


def index() -> KeywordIndex:
    return KeywordIndex([(KeywordEntry(u, k, m, b, n), t) for u, k, t, m, b, n in KEYWORDS])


@pytest.mark.parametrize(("query", "triggered"), [
    ("口红", [(0, 1, 100), (1, 2, 80), (3, 4, 60), (5, 7, 70)]),
    ("ＹＳＬ口红", [(1, 2, 80), (2, 3, 150), (3, 4, 60), (5, 7, 70)]),   # full-width, spaces ignored
    ("口红推荐", [(1, 2, 80), (3, 4, 60), (5, 7, 70)]),                  # phrase and smart, not exact
    ("口红平替", [(1, 2, 80), (3, 4, 60)]),                              # the negative blocks unit 5
    ("去屑洗发水", [(4, 6, 200)]),                                       # the higher of two matches
    ("洗发水推荐", [(4, 5, 90)]),
    ("面膜", []),
    ("   ", []),
])
def test_keyword_table(query: str, triggered: list[tuple[int, int, int]]) -> None:
    t = index().match(query)
    assert list(zip(t.unit.tolist(), t.keyword_id.tolist(), t.bid_fen.tolist(), strict=True)) == triggered


def test_smart_match_finds_the_keyword_inside_a_longer_word() -> None:
    assert index().match("口红色号").unit.tolist() == [1, 3, 5]  # phrase (substring) and smart (segmented)
