"""Content: notes, creators, feed distribution and search.

So far: the tokenizer, the search index, the category taxonomy and the distribution engine.
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
from zhongcao.content.search_index import Matches, NoteDoc, SearchIndex
from zhongcao.content.taxonomy import CATEGORIES, CODE, N_CATEGORIES
from zhongcao.content.tokenize import normalize, query_terms, tokens

__all__ = [
    "CATEGORIES",
    "CODE",
    "N_CATEGORIES",
    "POLICY",
    "FeedBatch",
    "FeedIndex",
    "Matches",
    "NoteDoc",
    "NoteState",
    "PoolChanges",
    "PoolSpec",
    "SearchIndex",
    "SeenFilter",
    "normalize",
    "query_terms",
    "record_engagements",
    "record_impressions",
    "serve_feed",
    "tokens",
    "update_pools",
]
