"""Content: notes, creators, feed distribution and search.

Notes in State; the tokenizer, the search index and ranking; the category taxonomy; the distribution
engine; the per-process engine that keeps index and pools in step with State; the rollups that let it
start from totals; creators' public stats; and hot queries from search events.
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
    record_events,
    record_impressions,
    serve_feed,
    update_pools,
)
from zhongcao.content.engine import (
    ContentEngine,
    CreatorStats,
    Distribution,
    FeedItem,
    FeedPage,
    NoteStats,
    SearchBatch,
    SearchItem,
    SearchPage,
)
from zhongcao.content.hot import HotQueries, HotQuerySpec, HotQueryView
from zhongcao.content.hot import read as read_hot_queries
from zhongcao.content.hot import refresh as refresh_hot_queries
from zhongcao.content.models import NOTE_KINDS
from zhongcao.content.notes import (
    NoteDraft,
    NoteView,
    RecentNotes,
    authored_notes,
    create_note_in,
    do_create_note,
    do_create_notes,
    do_set_note_status,
    get_note,
    invalid_kind,
    is_author_side,
    notes_by_id,
    recent_notes,
)
from zhongcao.content.ranking import RankSpec
from zhongcao.content.rollup import FOLDED, Interests, add_interests, followers_of
from zhongcao.content.search_index import Matches, NoteDoc, SearchIndex
from zhongcao.content.taxonomy import CATEGORIES, CODE, N_CATEGORIES
from zhongcao.content.tokenize import normalize, query_terms, tokens

__all__ = [
    "CATEGORIES",
    "CODE",
    "FOLDED",
    "NOTE_KINDS",
    "N_CATEGORIES",
    "POLICY",
    "ContentEngine",
    "CreatorStats",
    "Distribution",
    "FeedBatch",
    "FeedIndex",
    "FeedItem",
    "FeedPage",
    "HotQueries",
    "HotQuerySpec",
    "HotQueryView",
    "Interests",
    "Matches",
    "NoteDoc",
    "NoteDraft",
    "NoteState",
    "NoteStats",
    "NoteView",
    "PoolChanges",
    "PoolSpec",
    "RankSpec",
    "RecentNotes",
    "SearchBatch",
    "SearchIndex",
    "SearchItem",
    "SearchPage",
    "SeenFilter",
    "add_interests",
    "authored_notes",
    "create_note_in",
    "do_create_note",
    "do_create_notes",
    "do_set_note_status",
    "followers_of",
    "get_note",
    "invalid_kind",
    "is_author_side",
    "normalize",
    "notes_by_id",
    "query_terms",
    "read_hot_queries",
    "recent_notes",
    "record_engagements",
    "record_events",
    "record_impressions",
    "refresh_hot_queries",
    "serve_feed",
    "tokens",
    "update_pools",
]
