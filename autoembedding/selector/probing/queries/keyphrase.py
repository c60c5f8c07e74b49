"""Keyphrase queries: a document's most distinctive terms, for documents too short for ICT."""

from __future__ import annotations

from collections import Counter

from autoembedding.selector.probing.queries.base import BuildContext, Made, QueryKind, idf
from autoembedding.selector.probing.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.selector.probing.queries.text import joiner, terms

__all__ = ["KIND", "keyphrase_query"]


def keyphrase_query(doc: ProbeDoc, df: Counter[str], n_docs: int, k: int = 5) -> Made | None:
    """The ``k`` terms of ``doc`` with the highest tf x in-sample idf, as a keyword query.

    Numbers are terms like any other (a year or a part number that few documents share is
    what a user would type), but at least three distinct words are needed.

    Args:
        doc: The document.
        df: In-sample document frequencies.
        n_docs: Documents in the sample.
        k: Terms in the query.

    Returns:
        The ``"keyphrase"`` query and the unchanged text, or ``None`` when the document has
        fewer than three distinct non-numeric terms.

    """
    doc_terms = terms(doc.text)
    if len({t for t in doc_terms if not t.isdigit()}) < 3:
        return None
    tf = Counter(doc_terms)  # numbers compete on idf: a part number singles a document out
    scored = sorted(tf, key=lambda t: (-tf[t] * idf(t, df, n_docs), t))
    query = joiner(doc.text).join(scored[:k])
    return ProbeQuery(query, frozenset({doc.id}), "keyphrase"), doc.text


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return keyphrase_query(doc, context.df, context.n_docs)


#: The keyphrase kind of the registry (the last resort).
KIND = QueryKind("keyphrase", _make)
