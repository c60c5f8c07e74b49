"""Keyphrase queries: a document's most distinctive terms, for documents too short for ICT."""

from __future__ import annotations

from collections import Counter

from autoembedding.selector.probing.queries.base import BuildContext, Made, QueryKind, idf
from autoembedding.selector.probing.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.selector.probing.queries.text import joiner, terms

__all__ = ["KIND", "keyphrase_query"]


def keyphrase_query(doc: ProbeDoc, df: Counter[str], n_docs: int, k: int = 5) -> Made | None:
    """The ``k`` terms of ``doc`` with the highest tf x in-sample idf, as a keyword query.

    Args:
        doc: The document.
        df: In-sample document frequencies.
        n_docs: Documents in the sample.
        k: Terms in the query.

    Returns:
        The ``"keyphrase"`` query and the unchanged text, or ``None`` when the document has
        fewer than three distinct non-numeric terms.

    """
    doc_terms = [t for t in terms(doc.text) if not t.isdigit()]
    if len(set(doc_terms)) < 3:
        return None
    tf = Counter(doc_terms)
    scored = sorted(tf, key=lambda t: (-tf[t] * idf(t, df, n_docs), t))
    query = joiner(doc.text).join(scored[:k])
    return ProbeQuery(query, frozenset({doc.id}), "keyphrase"), doc.text


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return keyphrase_query(doc, context.df, context.n_docs)


#: The keyphrase kind of the registry (the last resort).
KIND = QueryKind("keyphrase", _make)
