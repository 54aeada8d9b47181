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
class Trigger:
    unit: int
    keyword_id: int
    bid_fen: int


class KeywordIndex:
    def __init__(self, entries: Sequence[tuple[KeywordEntry, str]]) -> None:
        """``entries`` pairs each keyword with its (normalized) text."""
        self.exact: dict[str, list[KeywordEntry]] = {}
        self.phrase: dict[str, list[KeywordEntry]] = {}
        self.smart: dict[str, list[KeywordEntry]] = {}
        self.negative: dict[str, list[int]] = {}
        for entry, text in entries:
            key = compact(text)
            if entry.negative:
                self.negative.setdefault(key, []).append(entry.unit)
            elif entry.match == "exact":
                self.exact.setdefault(key, []).append(entry)
            elif entry.match == "phrase":
                self.phrase.setdefault(key, []).append(entry)
            else:
                for w in words(text) or {key}:
                    self.smart.setdefault(w, []).append(entry)

    def _substrings(self, q: str) -> set[str]:
        return {q[i:j] for i in range(len(q)) for j in range(i + 1, min(len(q), i + MAX_KEYWORD_CHARS) + 1)}

    def match(self, query: str) -> list[Trigger]:
        """Units the query triggers, one trigger per unit: the highest keyword bid among its matches."""
        q = compact(query)[:200]
        if not q:
            return []
        subs = self._substrings(q)
        blocked = {u for s in subs for u in self.negative.get(s, ())}
        hits = list(self.exact.get(q, ()))
        hits += [e for s in subs for e in self.phrase.get(s, ())]
        if self.smart:
            hits += [e for w in words(query) for e in self.smart.get(w, ())]
        best: dict[int, Trigger] = {}
        for e in hits:
            if e.unit in blocked:
                continue
            seen = best.get(e.unit)
            if seen is None or (e.bid_fen, -e.keyword_id) > (seen.bid_fen, -seen.keyword_id):
                best[e.unit] = Trigger(e.unit, e.keyword_id, e.bid_fen)
        return [best[u] for u in sorted(best)]
