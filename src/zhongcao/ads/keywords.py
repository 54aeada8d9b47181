"""Keyword matching for search ads: which units' keywords a query triggers, at which bid, and which are
blocked by a negative keyword.

Text is compared as search compares it (NFKC, lower case) and without spaces, since Chinese queries are
typed with or without them: 'ysl 口红' and 'YSL口红' are one query.

- exact: the query is the keyword;
- phrase: the keyword appears inside the query (口红 in 口红推荐);
- smart: the query and the keyword share a word, after segmentation (口红色号 triggers 口红);
- a negative keyword blocks a unit when it appears inside the query.

Lookups are dictionary probes over the query's substrings and words, so matching costs the same with
50,000 keywords as with 50.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zhongcao.ads.spec import MAX_KEYWORD_CHARS
from zhongcao.content import normalize, query_terms


def compact(text: str) -> str:
    return "".join(normalize(text).split())


def words(text: str) -> set[str]:
    return {w for word, subs in query_terms(text) for w in (word, *subs) if len(w) >= 2 or w.isascii()}


@dataclass(frozen=True)
class KeywordEntry:
    unit: int           # index of the unit in the book
    keyword_id: int
    match: str          # exact | phrase | smart
    bid_fen: int        # the keyword's bid, or its unit's when it has none (0 when the unit bids automatically)
    negative: bool


@dataclass(frozen=True)
class Triggers:
    """Units a query triggers, ascending, each with its winning keyword and that keyword's bid."""

    unit: np.ndarray
    keyword_id: np.ndarray
    bid_fen: np.ndarray

    def take(self, keep: np.ndarray) -> Triggers:
        return Triggers(self.unit[keep], self.keyword_id[keep], self.bid_fen[keep])


_NONE = Triggers(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))


def _arrays(entries: list[KeywordEntry]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([e.unit for e in entries], dtype=np.int64), np.array([e.keyword_id for e in entries], np.int64),
            np.array([e.bid_fen for e in entries], dtype=np.int64))


class KeywordIndex:
    def __init__(self, entries: Sequence[tuple[KeywordEntry, str]], cache: int = 50_000) -> None:
        """``entries`` pairs each keyword with its (normalized) text. Matches of recent queries are cached:
        search traffic repeats its head queries all day."""
        exact: dict[str, list[KeywordEntry]] = {}
        phrase: dict[str, list[KeywordEntry]] = {}
        smart: dict[str, list[KeywordEntry]] = {}
        negative: dict[str, list[int]] = {}
        for entry, text in entries:
            key = compact(text)
            if entry.negative:
                negative.setdefault(key, []).append(entry.unit)
            elif entry.match == "exact":
                exact.setdefault(key, []).append(entry)
            elif entry.match == "phrase":
                phrase.setdefault(key, []).append(entry)
            else:
                for w in words(text) or {key}:
                    smart.setdefault(w, []).append(entry)
        self.exact = {k: _arrays(v) for k, v in exact.items()}
        self.phrase = {k: _arrays(v) for k, v in phrase.items()}
        self.smart = {k: _arrays(v) for k, v in smart.items()}
        self.negative = {k: np.array(v, dtype=np.int64) for k, v in negative.items()}
        self.match = lru_cache(maxsize=cache)(self._match)

    def _match(self, query: str) -> Triggers:
        """Units the query triggers; a unit matched by several keywords bids its highest (older on a tie)."""
        q = compact(query)[:200]
        if not q:
            return _NONE
        subs = {q[i:j] for i in range(len(q)) for j in range(i + 1, min(len(q), i + MAX_KEYWORD_CHARS) + 1)}
        hits = [self.exact[q]] if q in self.exact else []
        hits += [self.phrase[x] for x in subs if x in self.phrase]
        if self.smart:
            hits += [self.smart[w] for w in words(query) if w in self.smart]
        if not hits:
            return _NONE
        unit, kw, bid = (np.concatenate(col) for col in zip(*hits, strict=True))
        blocked = [self.negative[x] for x in subs if x in self.negative]
        if blocked:
            keep = ~np.isin(unit, np.concatenate(blocked))
            unit, kw, bid = unit[keep], kw[keep], bid[keep]
        order = np.lexsort((kw, -bid, unit))
        first = order[np.r_[True, unit[order][1:] != unit[order][:-1]]] if len(order) else order
        return Triggers(unit[first], kw[first], bid[first])
