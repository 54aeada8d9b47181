"""Content: notes, creators, feed distribution and search. So far: the tokenizer and the search index."""

from zhongcao.content.search_index import Matches, NoteDoc, SearchIndex
from zhongcao.content.tokenize import normalize, query_terms, tokens

__all__ = ["Matches", "NoteDoc", "SearchIndex", "normalize", "query_terms", "tokens"]
