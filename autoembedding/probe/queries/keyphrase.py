"""Keyphrase queries, for documents too short for ICT: the distinctive terms of a cut piece.

A document of one or two sentences cannot give an ICT query (a middle sentence of three), so
it gives a keyword query instead, cut out of it the way ICT cuts its sentence: one piece of the
document (a sentence of two; a clause, or half the words, of one) is taken out, its most
distinctive terms (tf x in-sample idf) are the query, and the rest of the document is the
answer. The answer shares with the query only the words the rest of the document happens to
repeat (at least one, else the cut is not used). Asking a document for its own top tf-idf
terms while leaving it whole (what this kind used to do) is BM25's own statistic: every such
query was a lexical match by construction, and the probe favoured BM25 and its hybrids on
collections of short chunks (issue 23, point 5). A one-line record that no cut leaves
answerable (``"record 12 on theme 5"``) still gets that query: there is no other to ask.
"""

from __future__ import annotations

import random
import re
from collections import Counter

from autoembedding.probe.queries.base import BuildContext, Made, QueryKind, idf
from autoembedding.probe.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.probe.queries.text import (
    is_unspaced,
    joiner,
    split_sentences,
    terms,
)

__all__ = ["KIND", "MIN_PIECE_TERMS", "MIN_REST_TERMS", "keyphrase_query", "splits"]

#: Distinct terms the cut piece needs (at least two of them not numbers).
MIN_PIECE_TERMS = 3
#: Terms the rest of the document (the answer) must keep.
MIN_REST_TERMS = 3

_CLAUSE_END = re.compile(r"(?<=[,;:，；：、])\s*")


def splits(text: str) -> list[list[str]]:
    """The ways a keyphrase query may cut ``text``, in order of preference.

    Args:
        text: A document.

    Returns:
        Its sentences when it has two or more; its clauses (split after ``, ; :`` and the CJK
        forms) when it has two or more; its first and second half (by words, or by characters
        for an unspaced script) when it has two words or more.
    """
    out: list[list[str]] = []
    sentences = split_sentences(text)
    if len(sentences) >= 2:
        out.append(sentences)
    clauses = [c.strip() for c in _CLAUSE_END.split(text.strip()) if c.strip()]
    if len(clauses) >= 2:
        out.append(clauses)
    if is_unspaced(text):
        chars = text.strip()
        half = len(chars) // 2
        if half:
            out.append([chars[:half], chars[half:]])
    else:
        words = text.split()
        half = len(words) // 2
        if half:
            out.append([" ".join(words[:half]), " ".join(words[half:])])
    return out


def keyphrase_query(
    doc: ProbeDoc, df: Counter[str], n_docs: int, rng: random.Random, k: int = 5
) -> Made | None:
    """Cut one piece out of ``doc``; its ``k`` most distinctive terms are the query.

    The first way of cutting (:func:`splits`) with a usable piece is taken: a piece of
    :data:`MIN_PIECE_TERMS` distinct terms (two of them words) whose rest keeps
    :data:`MIN_REST_TERMS` terms and shares at least one term with the query (else no
    retriever could answer it). A document that no cut leaves answerable (a one-line record,
    ``"record 12 on theme 5"``) gives its own top terms with the text unchanged: such a query
    is a lexical match by construction, but there is no other to ask. Numbers are terms like
    any other (a year or a part number that few documents share is what a user would type).

    Args:
        doc: The document.
        df: In-sample document frequencies.
        n_docs: Documents in the sample.
        rng: Picks the piece among the usable ones (one draw when there are several).
        k: Terms in the query (at most).

    Returns:
        The ``"keyphrase"`` query and the document without the cut piece (or the unchanged
        text, when no cut is usable), or ``None`` when the document has fewer than three
        distinct words.
    """
    doc_terms = terms(doc.text)
    if len({t for t in doc_terms if not t.isdigit()}) < 3:
        return None
    sep = joiner(doc.text)
    for parts in splits(doc.text):
        usable = []
        for i, part in enumerate(parts):
            part_terms = terms(part)
            rest = sep.join(parts[:i] + parts[i + 1 :])
            rest_terms = set(terms(rest))
            query_terms = _top(part_terms, df, n_docs, k)
            if (
                len(set(part_terms)) >= MIN_PIECE_TERMS
                and len({t for t in part_terms if not t.isdigit()}) >= 2
                and len(rest_terms) >= MIN_REST_TERMS
                and rest_terms & set(query_terms)
            ):
                usable.append((query_terms, rest))
        if usable:
            query_terms, rest = usable[rng.randrange(len(usable))] if len(usable) > 1 else usable[0]
            query = ProbeQuery(sep.join(query_terms), frozenset({doc.id}), "keyphrase")
            return query, rest
    kept = ProbeQuery(sep.join(_top(doc_terms, df, n_docs, k)), frozenset({doc.id}), "keyphrase")
    return kept, doc.text


def _top(part_terms: list[str], df: Counter[str], n_docs: int, k: int) -> list[str]:
    """The ``k`` terms with the highest tf x in-sample idf (numbers compete on idf)."""
    tf = Counter(part_terms)
    return sorted(tf, key=lambda t: (-tf[t] * idf(t, df, n_docs), t))[:k]


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return keyphrase_query(doc, context.df, context.n_docs, context.rng)


#: The keyphrase kind of the registry (the last resort).
KIND = QueryKind("keyphrase", _make)
