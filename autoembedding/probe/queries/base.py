"""What a label-free query kind is, and what the builder hands every kind.

A kind is one module with one :class:`QueryKind`: a name and a ``make(doc, context)`` function
that returns ``(query, answer text)`` for a document or ``None`` when the document cannot give
that kind. The builder (:mod:`autoembedding.probe.queries.build`) walks the kinds in
the order of its registry and keeps the first query made.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from autoembedding.probe.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.probe.queries.text import terms

__all__ = ["BuildContext", "Made", "QueryKind", "document_frequency", "idf"]

#: A query and the text its document is embedded with (the document without the query, for ICT).
Made = tuple[ProbeQuery, str]


@dataclass(frozen=True)
class BuildContext:
    """Everything a kind may read while making queries from one sample of documents.

    Attributes:
        rng: The builder's seeded random generator (kinds draw from it in a fixed order).
        df: In-sample document frequency of each index term.
        n_docs: Documents in the sample.
        llm: A LangChain chat model for LLM questions, or ``None``.
        title_share: Probability that a document with a usable title gives a title query
            before trying ICT.
        mask_min_terms: ICT masking: at least this many rare shared terms are masked.
        mask_share: ICT masking: this share of the sentence's distinct terms is masked.
        keep_share: ICT: share of the queries whose sentence stays in its document.
        seed: The builder's seed (per-document draws that must not shift ``rng``).

    """

    rng: random.Random
    df: Counter[str]
    n_docs: int
    llm: Any = None
    title_share: float = 0.5
    mask_min_terms: int = 0
    mask_share: float = 0.0
    keep_share: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class QueryKind:
    """One kind of label-free query.

    Attributes:
        name: The kind's name, as :attr:`ProbeQuery.kind` and the report show it.
        make: ``make(doc, context)``: the query and the document's new text, or ``None``.
        share: ``None`` for a kind always tried at its place in the registry; otherwise
            ``share(context)`` is the probability, drawn once per document, that the kind is
            tried at its place rather than one place later (after the kind that follows it).

    """

    name: str
    make: Callable[[ProbeDoc, BuildContext], Made | None]
    share: Callable[[BuildContext], float] | None = None


def document_frequency(texts: Iterable[str]) -> Counter[str]:
    """Number of texts each index term (see :func:`~.text.terms`) occurs in.

    Args:
        texts: The sample's texts.

    Returns:
        Term -> document frequency.

    """
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(terms(text)))
    return df


def idf(term: str, df: Counter[str], n_docs: int) -> float:
    """Inverse document frequency ``log((n + 1) / (df + 0.5))`` of a term in the sample.

    Args:
        term: An index term.
        df: Document frequencies (:func:`document_frequency`).
        n_docs: Documents in the sample.

    Returns:
        The idf (about 0.69 for a term in half the documents).

    """
    return math.log((n_docs + 1) / (df.get(term, 0) + 0.5))
