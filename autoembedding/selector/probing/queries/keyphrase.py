"""Keyphrase queries, for documents too short for ICT: the distinctive terms of a cut piece.

A document of one or two sentences cannot give an ICT query (a middle sentence of three), so
it gives a keyword query instead, cut out of it the way ICT cuts its sentence: one piece of the
document (a sentence of two; a clause, or half the words, of one) is taken out, its most
distinctive terms (tf x in-sample idf) are the query, and the rest of the document is the
answer. The answer shares with the query only the words the rest of the document happens to
repeat. Asking a document for its own top tf-idf terms while leaving it whole (what this kind
used to do) is BM25's own statistic: every such query was a lexical match by construction, and
the probe favoured BM25 and its hybrids on collections of short chunks (issue 23, point 5).
"""

from __future__ import annotations

import random
import re
from collections import Counter

from autoembedding.selector.probing.queries.base import BuildContext, Made, QueryKind, idf
from autoembedding.selector.probing.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.selector.probing.queries.text import (
    is_unspaced,
    joiner,
    split_sentences,
    terms,
)

__all__ = ["KIND", "MIN_PIECE_TERMS", "MIN_REST_TERMS", "keyphrase_query", "pieces"]

#: Distinct terms the cut piece needs (at least two of them not numbers).
MIN_PIECE_TERMS = 3
#: Terms the rest of the document (the answer) must keep.
MIN_REST_TERMS = 3

_CLAUSE_END = re.compile(r"(?<=[,;:，；：、])\s*")


def pieces(text: str) -> list[str]:
    """The pieces a keyphrase query may cut: sentences, else clauses, else two halves.

    Args:
        text: A document.

    Returns:
        Its sentences when it has two or more; else its clauses (split after ``, ; :`` and the
        CJK forms) when it has two or more; else its first and second half (by words, or by
        characters for an unspaced script); ``[text]`` when it is a single word.
    """
    sentences = split_sentences(text)
    if len(sentences) >= 2:
        return sentences
    clauses = [c.strip() for c in _CLAUSE_END.split(text.strip()) if c.strip()]
    if len(clauses) >= 2:
        return clauses
    if is_unspaced(text):
        chars = text.strip()
        half = len(chars) // 2
        return [chars[:half], chars[half:]] if half else [chars]
    words = text.split()
    half = len(words) // 2
    return [" ".join(words[:half]), " ".join(words[half:])] if half else [text.strip()]


def keyphrase_query(
    doc: ProbeDoc, df: Counter[str], n_docs: int, rng: random.Random, k: int = 5
) -> Made | None:
    """Cut one piece out of ``doc``; its ``k`` most distinctive terms are the query.

    Numbers are terms like any other (a year or a part number that few documents share is
    what a user would type).

    Args:
        doc: The document.
        df: In-sample document frequencies.
        n_docs: Documents in the sample.
        rng: Picks the piece among those that can be cut (one draw).
        k: Terms in the query (at most).

    Returns:
        The ``"keyphrase"`` query and the document without the cut piece, or ``None`` when no
        piece has :data:`MIN_PIECE_TERMS` distinct terms (two of them words) while the rest
        keeps :data:`MIN_REST_TERMS` terms.
    """
    parts = pieces(doc.text)
    if len(parts) < 2:
        return None
    sep = joiner(doc.text)
    usable = []
    for i, part in enumerate(parts):
        part_terms = set(terms(part))
        rest = sep.join(parts[:i] + parts[i + 1 :])
        if (
            len(part_terms) >= MIN_PIECE_TERMS
            and len({t for t in part_terms if not t.isdigit()}) >= 2
            and len(terms(rest)) >= MIN_REST_TERMS
        ):
            usable.append((i, rest))
    if not usable:
        return None
    i, rest = usable[rng.randrange(len(usable))] if len(usable) > 1 else usable[0]
    tf = Counter(terms(parts[i]))  # numbers compete on idf: a part number singles a document out
    scored = sorted(tf, key=lambda t: (-tf[t] * idf(t, df, n_docs), t))
    query = sep.join(scored[:k])
    return ProbeQuery(query, frozenset({doc.id}), "keyphrase"), rest


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return keyphrase_query(doc, context.df, context.n_docs, context.rng)


#: The keyphrase kind of the registry (the last resort).
KIND = QueryKind("keyphrase", _make)
