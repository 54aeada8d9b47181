"""Query suggestions: complete what a user has typed from the words of note titles and topics, ranked by
how many published notes use them. Kept in step with notes by the engine; sorted lazily, on demand."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zhongcao.content.tokenize import normalize, tokens
from zhongcao.core import Invalid


@dataclass(frozen=True)
class Suggestion:
    text: str
    notes: int  # published notes that use it


class Suggester:
    def __init__(self) -> None:
        self._df: Counter[str] = Counter()
        self._by_note: dict[int, set[str]] = {}
        self._keys: np.ndarray | None = None  # sorted terms, rebuilt after changes
        self._lock = threading.Lock()

    @staticmethod
    def terms(title: str, topics: Sequence[str]) -> set[str]:
        words = {t for t, _, _ in tokens(title, search=False) if len(t) >= 2}
        return words | {normalize(t) for t in topics if len(normalize(t)) >= 2}

    def update(self, note_id: int, terms: set[str]) -> None:
        """Set a note's terms (an empty set when it is no longer published)."""
        with self._lock:
            old = self._by_note.pop(note_id, set())
            self._df.subtract(old)
            self._df.update(terms)
            if terms:
                self._by_note[note_id] = terms
            if old != terms:
                self._keys = None

    def suggest(self, prefix: str, n: int = 10) -> list[Suggestion]:
        p = normalize(prefix)
        if not p:
            raise Invalid("invalid_query", "q must not be empty", field="q", allowed="1..100 characters")
        with self._lock:
            if self._keys is None:
                self._keys = np.array(sorted(t for t, c in self._df.items() if c > 0), dtype=str)
            keys = self._keys
            lo, hi = np.searchsorted(keys, [p, p + "\U0010ffff"])
            found = [(str(t), self._df[str(t)]) for t in keys[lo:hi]]
        found.sort(key=lambda tc: (-tc[1], len(tc[0]), tc[0]))
        return [Suggestion(t, c) for t, c in found[:n]]
