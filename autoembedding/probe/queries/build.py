"""The label-free builder and the one registry of query kinds it walks.

A new kind is one module with a :class:`~.base.QueryKind` named ``KIND`` and one entry in
:data:`KINDS`, at the place of its preference.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from autoembedding.errors import CollectionError
from autoembedding.probe.queries import ict, keyphrase, title
from autoembedding.probe.queries import llm as llm_kind
from autoembedding.probe.queries.base import (
    BuildContext,
    QueryKind,
    document_frequency,
)
from autoembedding.probe.queries.probe_set import ProbeDoc, ProbeQuery, ProbeSet, dedupe

__all__ = ["KINDS", "build_label_free"]

#: The label-free kinds in order of preference: every document gives one query, of the first
#: kind that can make one. The title kind is tried before ICT for ``title_share`` of the
#: documents and right after it for the others (see :attr:`QueryKind.share`).
KINDS: tuple[QueryKind, ...] = (llm_kind.KIND, title.KIND, ict.KIND, keyphrase.KIND)


def build_label_free(
    docs: Sequence[ProbeDoc],
    *,
    n_queries: int,
    seed: int = 0,
    llm: Any = None,
    title_share: float = title.TITLE_SHARE,
    mask_min_terms: int = ict.MASK_MIN_TERMS,
    mask_share: float = ict.MASK_SHARE,
    keep_share: float = 0.0,
) -> ProbeSet:
    """Build label-free probe queries from a sample of documents.

    Every document in ``docs`` goes into the pool (the ones that give queries lose their cut
    sentence); ``n_queries`` of them, chosen at random, give one query each, of the first kind
    of :data:`KINDS` they support: LLM question (if ``llm``), else ICT when the document has at
    least three sentences, else title, else keyphrase; documents with a usable title (one that
    is not verbatim in the text) give a title query instead of an ICT one with probability
    ``title_share``. When ``n_queries`` exceeds the documents, further rounds over them (same
    order) cut one more ICT sentence from each document that still has three or more; every
    query cut from a document has it as its answer. Duplicate ids and duplicate texts are
    dropped first, and a query text already asked for another document is not asked again
    (it could not single out its answer): the document tries its next kind instead (a chunk
    whose sibling asked their shared title gives an ICT or keyphrase query). Title queries are
    answered by every pool document of that title.

    Args:
        docs: Sampled documents (the pool). More documents than queries makes the probe harder
            and closer to real retrieval; 3-5x is a good ratio.
        n_queries: Queries wanted; fewer are returned when fewer documents support one.
        seed: Seed for the choice of documents and sentences.
        llm: Optional LangChain chat model; ``llm.invoke(prompt).content`` must return one
            question.
        title_share: Share of the titled documents that give a title query before trying ICT.
        mask_min_terms: ICT masking floor (see :func:`~.ict.mask_shared_rare`; 0: off).
        mask_share: ICT masking share of the sentence's distinct terms (0: off).
        keep_share: Share of the ICT queries whose sentence stays in its document.

    Returns:
        A ``"label-free"`` probe set.

    Raises:
        CollectionError: If no document can give a query (all empty or a single word).
        ValueError: If ``n_queries`` < 1.

    """
    if n_queries < 1:
        raise ValueError(f"n_queries must be >= 1, got {n_queries}.")
    pool = dedupe(docs)
    if not pool:
        raise CollectionError("No documents with text to build probe queries from.")
    rng = random.Random(seed)
    context = BuildContext(
        rng=rng,
        df=document_frequency(d.text for d in pool),
        n_docs=len(pool),
        llm=llm,
        title_share=title_share,
        mask_min_terms=mask_min_terms,
        mask_share=mask_share,
        keep_share=keep_share,
        seed=seed,
    )
    order = list(range(len(pool)))
    rng.shuffle(order)
    texts = {d.id: d.text for d in pool}
    queries: list[ProbeQuery] = []
    asked: set[str] = set()  # a text asked for one document cannot single out another
    for index in order:
        if len(queries) >= n_queries:
            break
        doc = pool[index]
        for kind in _kinds_for_one_document(context):
            made = kind.make(doc, context)
            if made is None:
                continue
            if made[0].text in asked:  # a sibling's title: try the document's next kind
                continue
            query, texts[doc.id] = made
            queries.append(query)
            asked.add(query.text)
            break
    while len(queries) < n_queries:  # more queries than documents: more ICT sentences
        before = len(queries)
        for index in order:
            if len(queries) >= n_queries:
                break
            doc = pool[index]
            made = ict.KIND.make(ProbeDoc(doc.id, texts[doc.id], doc.metadata), context)
            if made is not None and made[0].text not in asked:
                query, texts[doc.id] = made
                queries.append(query)
                asked.add(query.text)
        if len(queries) == before:
            break
    if not queries:
        raise CollectionError(
            f"None of the {len(pool)} sampled documents can give a probe query (each needs a "
            "title in its metadata or a few words of text); pass labelled queries instead."
        )
    final_pool = [ProbeDoc(d.id, texts[d.id], d.metadata) for d in pool]
    return ProbeSet(_with_all_answers(queries, final_pool), final_pool, "label-free")


def _with_all_answers(queries: list[ProbeQuery], pool: list[ProbeDoc]) -> list[ProbeQuery]:
    """Title queries answered by every document of that title; shared ICT sentences dropped.

    The pool holds siblings (chunks of one source, :mod:`..sampling`): they share their source's
    title, and chunkers that overlap copy sentences into the next chunk. A title query counts
    every chunk of that title as an answer; an ICT sentence that another document holds
    verbatim has two answers, one of them not labelled, and is left out.
    """
    by_title: dict[str, set[str]] = {}
    for doc in pool:
        for name in title.titles(doc):
            by_title.setdefault(name, set()).add(doc.id)
    out: list[ProbeQuery] = []
    for query in queries:
        if query.kind == "title":
            relevant = frozenset(query.relevant | by_title.get(query.text, set()))
            out.append(ProbeQuery(query.text, relevant, query.kind))
        elif query.kind.startswith("ict") and any(
            query.text in d.text for d in pool if d.id not in query.relevant
        ):
            continue
        else:
            out.append(query)
    return out


def _kinds_for_one_document(context: BuildContext) -> list[QueryKind]:
    """:data:`KINDS` in the order one document tries them (one draw per kind with a share)."""
    order = list(KINDS)
    for kind in KINDS:
        if kind.share is not None and not context.rng.random() < kind.share(context):
            at = order.index(kind)
            order.insert(at + 1, order.pop(at))  # tried after the next kind instead
    return order
