"""Lexical retrieval: language-aware BM25 and its fusion with dense rankings.

Needs the ``[lexical]`` extra (bm25s, PyStemmer, rjieba); importing this package does not
import them, the first tokenizer or index that needs one does (or raises
:class:`~autoembedding.errors.MissingExtraError` naming the extra).
"""

from __future__ import annotations

from autoembedding.lexical.fusion import (
    WeightChoice,
    choose_convex_weight,
    convex,
    minmax,
    per_query_ndcg,
    rrf,
)
from autoembedding.lexical.index import BM25Index
from autoembedding.lexical.manifest import (
    IndexManifest,
    combine_fingerprints,
    content_fingerprint,
)
from autoembedding.lexical.tokenize import Tokenizer, detect_language

__all__ = [
    "BM25Index",
    "IndexManifest",
    "Tokenizer",
    "WeightChoice",
    "choose_convex_weight",
    "combine_fingerprints",
    "content_fingerprint",
    "convex",
    "detect_language",
    "minmax",
    "per_query_ndcg",
    "rrf",
]
