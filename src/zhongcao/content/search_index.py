"""Full-text matching: BM25 over pre-tokenized Chinese text in tantivy.

Each text field is indexed twice: whole words (``*_word``) and search-mode sub-words (``*_sub``). A query
word matches its whole word at full weight and its sub-words at lower weight, so exact wording ranks
first and a word inside a longer one is still found. Every query word must match (AND); when that
leaves too few results the words are relaxed to OR. This module only matches: ranking policy
(quality, freshness, personalization) lives in ``ranking``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tantivy

from zhongcao.content.tokenize import query_terms, segment

FIELD_BOOST = {"title": 3.0, "topics": 2.0, "body": 1.0}
SUB_WEIGHT = 0.5
MATCHES_KEPT = 4_096  # queries whose matches a snapshot keeps; a full cache starts over


@dataclass(frozen=True)
class NoteDoc:
    note_id: int
    title: str
    body: str
    topics: Sequence[str]
    kind: int       # NoteKind
    category: int   # taxonomy code
    created_at: int  # unix seconds


@dataclass(frozen=True)
class Matches:
    note_ids: np.ndarray   # int64, best first
    scores: np.ndarray     # float32 BM25
    total: int             # how many documents matched


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_integer_field("note_id", stored=True, indexed=True, fast=True)
    for field in FIELD_BOOST:
        b.add_text_field(f"{field}_word", tokenizer_name="raw", index_option="freq")
        b.add_text_field(f"{field}_sub", tokenizer_name="raw", index_option="freq")
    b.add_integer_field("kind", indexed=True, fast=True)
    b.add_integer_field("category", indexed=True, fast=True)
    b.add_integer_field("created_at", indexed=True, fast=True)
    return b.build()


def _pretokenized(spans: Sequence[tuple[str, int, int]]) -> tantivy.PreTokenizedString:
    toks = [tantivy.Token(t, i, s, e) for i, (t, s, e) in enumerate(spans)]
    return tantivy.PreTokenizedString(" ".join(t for t, _, _ in spans), toks)


def _count(result: tantivy.SearchResult) -> int:
    """How many documents matched; tantivy's type stubs omit the attribute, its runtime has it."""
    return int(result.count or 0)  # type: ignore[attr-defined]


class SearchIndex:
    """A tantivy index in a folder (or in memory); writes are batched, readers reload on commit."""

    def __init__(self, path: str | Path | None = None, *, writer_heap_bytes: int = 256_000_000) -> None:
        self.schema = _schema()
        if path is None:
            self._index = tantivy.Index(self.schema)
        else:
            Path(path).mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self.schema, path=str(path))
        # One indexing thread: several deal documents to segments in whatever order they finish, and ties
        # between equal scores break by segment, so the same notes would rank differently run to run.
        self._writer = self._index.writer(heap_size=writer_heap_bytes, num_threads=1)
        self._lock = threading.Lock()
        # A word's clause depends on the word alone; words repeat across queries, so build each once.
        self._word_clause = functools.lru_cache(maxsize=65_536)(self._build_word_clause)
        self._analyze = functools.lru_cache(maxsize=65_536)(query_terms)  # hot queries repeat
        # A snapshot, replaced on every commit, with the matches found in it: hot queries repeat, and a
        # snapshot's answer to a query never changes (ranking adds what does: freshness, engagement).
        self._snapshot: tuple[tantivy.Searcher, dict[tuple[str, int, str], Matches]] = (self._index.searcher(), {})

    def _document(self, note: NoteDoc) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_integer("note_id", note.note_id)
        texts = {"title": note.title, "body": note.body, "topics": " ".join(note.topics)}
        for field, text in texts.items():
            words, subs = segment(text)
            doc.add_pre_tokenized_text(f"{field}_word", _pretokenized(words))
            doc.add_pre_tokenized_text(f"{field}_sub", _pretokenized(subs))
        doc.add_integer("kind", note.kind)
        doc.add_integer("category", note.category)
        doc.add_integer("created_at", note.created_at)
        return doc

    def add(self, notes: Iterable[NoteDoc], *, commit: bool = True) -> int:
        """Index a batch of notes (re-adding a note replaces it); searchable once committed."""
        count = 0
        with self._lock:
            for note in notes:
                self._writer.delete_documents_by_term("note_id", note.note_id)
                self._writer.add_document(self._document(note))
                count += 1
            if commit:
                self._commit()
        return count

    def remove(self, note_ids: Iterable[int]) -> None:
        with self._lock:
            for note_id in note_ids:
                self._writer.delete_documents_by_term("note_id", int(note_id))
            self._commit()

    def _commit(self) -> None:
        self._writer.commit()
        self._index.reload()
        self._snapshot = (self._index.searcher(), {})

    def build_query(self, query: str, *, strict: bool = True, kinds: Sequence[int] = (),
                    categories: Sequence[int] = (), since: int | None = None,
                    until: int | None = None) -> tantivy.Query | None:
        """The tantivy query for a text query and filters; None when the text has no searchable word."""
        terms = self._analyze(query)
        if not terms:
            return None
        clauses = [self._word_clause(word, tuple(subs)) for word, subs in terms]
        # Strict: every word is required. Relaxed: any word, but still at least one, never filters alone.
        text = (clauses if strict else
                [tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses])])
        required = text + self._filters(kinds, categories, since, until)
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in required])

    def _build_word_clause(self, word: str, subs: tuple[str, ...]) -> tantivy.Query:
        """A word matches as a whole word in any field, inside a longer word, or through its sub-words."""
        alternatives = []
        for field, boost in FIELD_BOOST.items():
            alternatives.append(self._term(f"{field}_word", word, boost))
            alternatives.append(self._term(f"{field}_sub", word, boost * SUB_WEIGHT))
            alternatives.extend(self._term(f"{field}_word", sub, boost * SUB_WEIGHT * 0.5) for sub in subs)
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in alternatives])

    def _term(self, field: str, token: str, boost: float) -> tantivy.Query:
        return tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, field, token), boost)

    def _filters(self, kinds: Sequence[int], categories: Sequence[int], since: int | None,
                 until: int | None) -> list[tantivy.Query]:
        out = []
        for field, values in (("kind", kinds), ("category", categories)):
            if values:
                out.append(tantivy.Query.term_set_query(self.schema, field, [int(v) for v in values]))
        if since is not None or until is not None:
            out.append(tantivy.Query.range_query(self.schema, "created_at", tantivy.FieldType.Integer,
                                                 since if since is not None else -(2**62),
                                                 until if until is not None else 2**62))
        return out

    def match(self, query: str, k: int = 100, **filters: object) -> Matches:
        """The best ``k`` notes by BM25; AND over query words, relaxed to OR when AND finds < k. The arrays
        are shared by every caller of the same query until the next commit: read-only."""
        searcher, found = self._snapshot
        key = (query, k, repr(sorted(filters.items())))  # filters hold lists: their repr is the key
        if (cached := found.get(key)) is not None:
            return cached
        if len(found) >= MATCHES_KEPT:
            found.clear()
        found[key] = matches = self._match(searcher, query, k, **filters)
        return matches

    def _match(self, searcher: tantivy.Searcher, query: str, k: int, **filters: object) -> Matches:
        strict = self.build_query(query, strict=True, **filters)  # type: ignore[arg-type]
        if strict is None:
            return Matches(np.empty(0, np.int64), np.empty(0, np.float32), 0)
        result = searcher.search(strict, limit=k, count=True)
        if _count(result) < k:
            relaxed = self.build_query(query, strict=False, **filters)  # type: ignore[arg-type]
            assert relaxed is not None  # the same words as the strict query
            result = searcher.search(relaxed, limit=k, count=True)
        ids = np.fromiter((searcher.doc(addr)["note_id"][0] for _, addr in result.hits), dtype=np.int64,
                          count=len(result.hits))
        scores = np.fromiter((score for score, _ in result.hits), dtype=np.float32, count=len(result.hits))
        order = np.lexsort((ids, -scores))  # equal scores in note-id order, wherever their segments are
        ids, scores = ids[order], scores[order]
        ids.flags.writeable = scores.flags.writeable = False
        return Matches(ids, scores, _count(result))

    def containing(self, query: str, k: int = 100_000) -> np.ndarray:
        """Ids of the notes that hold every word of ``query`` (never relaxed to any word): who is "about" a
        keyword, for audiences built on it."""
        strict = self.build_query(query, strict=True)
        if strict is None:
            return np.empty(0, np.int64)
        searcher = self._snapshot[0]
        result = searcher.search(strict, limit=k)
        return np.fromiter((searcher.doc(addr)["note_id"][0] for _, addr in result.hits), dtype=np.int64,
                           count=len(result.hits))

    @property
    def num_docs(self) -> int:
        return int(self._snapshot[0].num_docs)
