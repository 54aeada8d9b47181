"""Content: notes, creators, feed distribution and search.

So far: notes in State, the tokenizer, the search index and ranking, the category taxonomy, the
distribution engine, and the per-process engine that keeps index and pools in step with State.
"""

from zhongcao.content.distribution import (
    POLICY,
    FeedBatch,
    FeedIndex,
    NoteState,
    PoolChanges,
    PoolSpec,
    SeenFilter,
    record_engagements,
    record_impressions,
    serve_feed,
    update_pools,
)
from zhongcao.content.engine import ContentEngine, FeedItem, FeedPage, NoteStats, SearchItem, SearchPage
from zhongcao.content.models import NOTE_KINDS
from zhongcao.content.notes import NoteView, do_create_note, get_note, invalid_kind
from zhongcao.content.ranking import RankSpec
from zhongcao.content.search_index import Matches, NoteDoc, SearchIndex
from zhongcao.content.taxonomy import CATEGORIES, CODE, N_CATEGORIES
from zhongcao.content.tokenize import normalize, query_terms, tokens

__all__ = [
    "CATEGORIES",
    "CODE",
    "NOTE_KINDS",
    "N_CATEGORIES",
    "POLICY",
    "ContentEngine",
    "FeedBatch",
    "FeedIndex",
    "FeedItem",
    "FeedPage",
    "Matches",
    "NoteDoc",
    "NoteState",
    "NoteStats",
    "NoteView",
    "PoolChanges",
    "PoolSpec",
    "RankSpec",
    "SearchIndex",
    "SearchItem",
    "SearchPage",
    "SeenFilter",
    "do_create_note",
    "get_note",
    "invalid_kind",
    "normalize",
    "query_terms",
    "record_engagements",
    "record_impressions",
    "serve_feed",
    "tokens",
    "update_pools",
]
