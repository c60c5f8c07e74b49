"""ICT (Inverse Cloze Task) queries: a middle sentence cut out of its document.

The sentence becomes the query; the document *without that sentence* is the answer, so the
query is never a verbatim part of it. Sentences are taken from the middle of the document (first
and last sentences are often boiler-plate or summaries).

Optionally the query's rarest terms that also occur in the rest of the document are masked
(``mask_min_terms``/``mask_share``, off by default): measured on SciFact with whole documents
(docs/probe-queries.md), masking the single rarest shared term cost e5 0.05-0.07 nDCG@10 against
MiniLM and put it below MiniLM, while the real claims, which name their genes and drugs, rank e5
first; unmasked ICT ranked them right. Real queries carry the rare entity names their answer
shares.
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
    tokenize,
)

__all__ = [
    "KIND",
    "MASK_MIN_IDF",
    "MASK_MIN_TERMS",
    "MASK_SHARE",
    "ict_query",
    "keeps_sentence",
    "mask_shared_rare",
]

#: Default masking: none. Terms masked in a cut sentence are its rarest terms that also occur
#: in the rest of the document, ``max(mask_min_terms, mask_share x distinct terms)`` of them.
MASK_MIN_TERMS = 0
MASK_SHARE = 0.0
#: Terms in more than about half of the sampled documents are never masked.
MASK_MIN_IDF = 0.69

_MASK = ""


def ict_query(
    doc: ProbeDoc,
    rng: random.Random,
    df: Counter[str],
    n_docs: int,
    *,
    mask_min_terms: int = MASK_MIN_TERMS,
    mask_share: float = MASK_SHARE,
    keep: bool = False,
) -> Made | None:
    """Cut a middle sentence of ``doc``; optionally mask its rare words the rest also has.

    Args:
        doc: The document.
        rng: Random generator that picks the sentence (one draw).
        df: In-sample document frequencies (for the masking).
        n_docs: Documents in the sample.
        mask_min_terms: Mask at least this many rare shared terms (0: no floor).
        mask_share: Mask this share of the sentence's distinct terms (0: none).
        keep: Leave the sentence in the document (the answer is the whole document, kind
            ``"ict-kept"``).

    Returns:
        The ``"ict"`` query and the document without the sentence, or ``None`` when the
        document has fewer than three sentences, no middle sentence of 4-60 terms, or a query
        left with fewer than three terms.

    """
    sentences = split_sentences(doc.text)
    if len(sentences) < 3:
        return None
    candidates = [i for i in range(1, len(sentences) - 1) if 4 <= len(terms(sentences[i])) <= 60]
    if not candidates:
        return None
    i = rng.choice(candidates)
    sentence = sentences[i]
    rest = joiner(doc.text).join(sentences[:i] + sentences[i + 1 :])
    query = mask_shared_rare(sentence, rest, df, n_docs, min_terms=mask_min_terms, share=mask_share)
    if len(terms(query)) < 3:
        return None
    if keep:
        return ProbeQuery(query, frozenset({doc.id}), "ict-kept"), doc.text
    return ProbeQuery(query, frozenset({doc.id}), "ict"), rest


def mask_shared_rare(
    sentence: str,
    rest: str,
    df: Counter[str],
    n_docs: int,
    *,
    min_terms: int = MASK_MIN_TERMS,
    share: float = MASK_SHARE,
) -> str:
    """Remove the sentence's rarest terms that also occur in ``rest``.

    ``max(min_terms, share x distinct terms)`` of them; terms with idf below
    :data:`MASK_MIN_IDF` are never masked. Rare shared terms are the ones that let a lexical
    matcher find the document by copying; the remaining words and the sentence's meaning must
    carry the match.

    Args:
        sentence: The cut sentence.
        rest: The rest of its document.
        df: In-sample document frequencies.
        n_docs: Documents in the sample.
        min_terms: Mask at least this many terms.
        share: Mask this share of the sentence's distinct terms.

    Returns:
        The sentence with those terms (spaced scripts: the words holding them) removed.

    """
    sentence_terms = terms(sentence)
    if not sentence_terms:
        return sentence
    budget = max(min_terms, int(len(set(sentence_terms)) * share))
    if budget <= 0:
        return sentence
    rest_terms = set(terms(rest))
    shared = {t for t in set(sentence_terms) if t in rest_terms}
    rare = sorted(shared, key=lambda t: (-idf(t, df, n_docs), t))
    to_mask = [t for t in rare if idf(t, df, n_docs) > MASK_MIN_IDF][:budget]
    if not to_mask:
        return sentence
    if is_unspaced(sentence):
        out = sentence
        for term in sorted(to_mask, key=len, reverse=True):
            out = out.replace(term, _MASK)
        return re.sub(r"\s+", " ", out).strip()
    masked = set(to_mask)
    pieces = []
    for match in re.finditer(r"\S+", sentence):
        word = match.group(0)
        if any(t in masked for t in tokenize(word)):
            continue
        pieces.append(word)
    return " ".join(pieces)


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return ict_query(
        doc,
        context.rng,
        context.df,
        context.n_docs,
        mask_min_terms=context.mask_min_terms,
        mask_share=context.mask_share,
        keep=keeps_sentence(doc.id, context.seed, context.keep_share),
    )


def keeps_sentence(doc_id: str, seed: int, share: float) -> bool:
    """Whether the document's ICT sentence stays in it: a draw of its own per document.

    Drawn from ``(seed, doc_id)`` rather than the builder's generator, so the share changes
    which documents keep their sentence but never which sentence is cut.
    """
    if share <= 0.0:
        return False
    if share >= 1.0:
        return True
    return random.Random(f"{seed}:{doc_id}").random() < share


#: The ICT kind of the registry.
KIND = QueryKind("ict", _make)
