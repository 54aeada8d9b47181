"""Search: the tokenizer's edge cases, the index's behaviour, and precision on real Chinese reviews."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from zhongcao.content.search_index import NoteDoc, SearchIndex
from zhongcao.content.tokenize import MAX_QUERY_TERMS, normalize, query_terms, tokens

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "reviews_zh_10cats.csv"
T = 1_767_225_600  # 2026-01-01


def words(text: str, *, search: bool = False) -> list[str]:
    return [t for t, _, _ in tokens(text, search=search)]


class TestTokenize:
    def test_a_word_inside_a_longer_word_is_a_search_token(self) -> None:
        assert "安装简单" in words("安装简单") or words("安装简单") == ["安装", "简单"]
        assert {"安装", "简单"} <= set(words("安装简单", search=True))

    def test_full_width_and_case_fold_to_one_form(self) -> None:
        assert normalize("ＡＢＣ１２３　iPhone") == "abc123 iphone"
        assert words("ＩＰＨＯＮＥ") == words("iphone")

    def test_emoji_and_punctuation_are_not_tokens(self) -> None:
        assert words("好用！！😀✨，。") == ["好用"]
        assert query_terms("😀😀 ！？…") == []

    def test_mixed_scripts_and_the_fields_own_words(self) -> None:
        assert words("YSL口红色号") == ["ysl", "口红", "色号"]
        assert words("这个颜色号称显白") == ["这个", "颜色", "号称", "显白"]  # the lexicon does not over-reach
        assert words("红色的裙子") == ["红色", "的", "裙子"]

    def test_spans_point_into_the_normalized_text(self) -> None:
        text = normalize("洗发水去屑效果好")
        assert all(text[s:e] == t for t, s, e in tokens(text, search=True))

    def test_a_huge_query_becomes_a_bounded_one(self) -> None:
        assert len(query_terms("洗发水去屑效果好，酒店早餐丰盛。" * 400)) <= MAX_QUERY_TERMS
        assert [w for w, _ in query_terms("洗发水 洗发水 去屑")] == ["洗发水", "去屑"]


@pytest.fixture
def index() -> SearchIndex:
    idx = SearchIndex()
    idx.add([
        NoteDoc(1, "热水器安装简单", "师傅上门安装，很快", ["家居"], 1, 5, T),
        NoteDoc(2, "去屑洗发水测评", "用了两周头皮屑少了", ["美妆", "洗护"], 2, 1, T + 86_400),
        NoteDoc(3, "酒店早餐", "早餐种类很多，前台服务好", ["旅行"], 1, 4, T + 2 * 86_400),
    ])
    return idx


class TestIndex:
    def test_a_word_inside_a_longer_word_is_found(self, index: SearchIndex) -> None:
        assert index.match("安装").note_ids.tolist()[0] == 1

    def test_all_words_must_match_before_relaxing(self, index: SearchIndex) -> None:
        assert index.match("洗发水 去屑").note_ids.tolist() == [2]

    def test_filters_by_kind_category_and_time(self, index: SearchIndex) -> None:
        assert index.match("早餐", kinds=[2]).note_ids.tolist() == []
        assert index.match("早餐", categories=[4]).note_ids.tolist() == [3]
        assert index.match("早餐 安装 洗发水", since=T + 1).note_ids.tolist() in ([3, 2], [2, 3])

    def test_a_query_repeats_its_matches_until_a_commit_changes_them(self, index: SearchIndex) -> None:
        first = index.match("早餐")
        assert index.match("早餐") is first  # the same snapshot answers once
        assert index.match("早餐", kinds=[2]).note_ids.tolist() == []  # filters are part of the question
        with pytest.raises(ValueError, match="read-only"):
            first.note_ids[0] = 99  # shared with every later caller
        index.add([NoteDoc(5, "自助早餐推荐", "早餐很丰富", ["旅行"], 1, 4, T)])
        assert sorted(index.match("早餐").note_ids.tolist()) == [3, 5]
        index.remove([3])
        assert index.match("早餐").note_ids.tolist() == [5]

    def test_a_note_is_searchable_once_added_and_replaced_on_re_add(self, index: SearchIndex) -> None:
        index.add([NoteDoc(4, "新款口红", "色号显白", ["美妆"], 1, 1, T)])
        assert index.match("口红").note_ids.tolist() == [4]
        index.add([NoteDoc(4, "新款眼影", "色号显白", ["美妆"], 1, 1, T)])
        assert index.match("口红").note_ids.tolist() == []
        assert index.num_docs == 4
        index.remove([4])
        assert index.match("眼影").note_ids.tolist() == []

    @pytest.mark.parametrize("query", ["😀", "！！！", "   ", "ＡＢＣ", "x" * 5_000, "洗发水" * 1_700])
    def test_odd_queries_answer_without_error(self, index: SearchIndex, query: str) -> None:
        result = index.match(query)
        assert len(result.note_ids) == len(result.scores) <= 100


# Category-and-attribute queries, with the category whose reviews they should find. The corpus files
# many phone reviews under 平板 (tablet): "手机外观不错，但是电池不耐用" is labelled 平板. For phone
# queries both labels are therefore right.
QUERIES = {
    "洗发水 去屑": {"洗发水"}, "头皮 止痒": {"洗发水"}, "酒店 早餐": {"酒店"}, "前台 服务": {"酒店"},
    "热水器 安装": {"热水器"}, "蒙牛 牛奶": {"蒙牛"}, "酸奶 口感": {"蒙牛"}, "衣服 尺码": {"衣服"},
    "平板 屏幕": {"平板"}, "水果 新鲜": {"水果"}, "书籍 作者": {"书籍"}, "电脑 散热": {"计算机"},
    "手机 电池": {"手机", "平板"}, "充电 发热": {"手机", "平板"},
}


@pytest.fixture(scope="module")
def reviews() -> tuple[SearchIndex, np.ndarray, dict[str, int]]:
    if not DATA.exists():
        pytest.skip(f"real review corpus not found at {DATA} (it lives in ../shared/data beside the project)")
    with DATA.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    cats = {c: i for i, c in enumerate(sorted({r["cat"] for r in rows}))}
    idx = SearchIndex()
    idx.add(NoteDoc(i + 1, "", r["review"] or "", [], 1, cats[r["cat"]], T) for i, r in enumerate(rows))
    return idx, np.array([cats[r["cat"]] for r in rows]), cats


def test_all_62774_real_reviews_are_indexed(reviews: tuple[SearchIndex, np.ndarray, dict[str, int]]) -> None:
    assert reviews[0].num_docs == 62_774


@pytest.mark.parametrize(("query", "expected"), QUERIES.items(), ids=list(QUERIES))
def test_precision_at_10_on_real_reviews(reviews: tuple[SearchIndex, np.ndarray, dict[str, int]], query: str,
                                         expected: set[str]) -> None:
    idx, category, codes = reviews
    top = idx.match(query, 10).note_ids
    assert len(top) == 10
    precision = np.isin(category[top - 1], [codes[c] for c in expected]).mean()
    assert precision >= 0.9, (query, precision)
