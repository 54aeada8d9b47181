"""The one place Chinese text is segmented (STYLE §13).

rjieba (jieba-rs) gives jieba's tokens (98.5% identical on the real reviews) at about 17× the speed.
Text is NFKC-folded and lower-cased first, so full-width ＡＢＣ１２３ and ABC123 are one word. Search
mode also emits the sub-words of long words, which is what makes 安装 findable inside 安装简单.
Tokens without a letter or digit (punctuation, emoji) are dropped. There is no pinyin folding.
``lexicon.txt`` adds the field's words the general dictionary splits (口红色号 → 口红 / 色号).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import rjieba

MAX_QUERY_TERMS = 24  # a 5,000-character query still becomes a bounded query
LEXICON = Path(__file__).with_name("lexicon.txt")


LEXICON_FREQ = 100_000  # high enough to win over a general-dictionary split (红色 has 4,243)


def _load_lexicon() -> None:
    """Lines are ``word`` or ``word frequency``; ``#`` starts a comment."""
    for line in LEXICON.read_text(encoding="utf-8").splitlines():
        parts = line.split("#", 1)[0].split()
        if parts:
            rjieba.add_word(parts[0], int(parts[1]) if len(parts) > 1 else LEXICON_FREQ, None)


_load_lexicon()


def normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


_WORDLIKE = re.compile(r"[^\W_]")  # a letter or digit, in any script
Span = tuple[str, int, int]


def _keep(token: str) -> bool:
    return _WORDLIKE.search(token) is not None


def tokens(text: str, *, search: bool) -> list[Span]:
    """(token, start, end) character spans of normalized text; ``search`` adds sub-words."""
    norm = normalize(text)
    return [t for t in rjieba.tokenize(norm, mode="search" if search else "default") if _keep(t[0])]


def segment(text: str) -> tuple[list[Span], list[Span]]:
    """What the index stores for a text: its whole words, and the sub-words search mode adds."""
    norm = normalize(text)
    words = [t for t in rjieba.tokenize(norm, mode="default") if _keep(t[0])]
    whole = set(words)
    return words, [t for t in rjieba.tokenize(norm, mode="search") if t not in whole and _keep(t[0])]


def query_terms(query: str) -> list[tuple[str, list[str]]]:
    """Each distinct word of a query with its sub-words: 洗发水去屑 → [(洗发水, [洗发, 发水]), (去屑, [])]."""
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for word in rjieba.cut(normalize(query)):
        if not _keep(word) or word in seen:
            continue
        seen.add(word)
        subs = [s for s in rjieba.cut_for_search(word) if s != word and _keep(s)]
        out.append((word, subs))
        if len(out) == MAX_QUERY_TERMS:
            break
    return out
