"""The probe's documents: a seeded sample, de-duplicated, cut to what the candidates read.

The collection is read in pages (never written to); a reservoir keeps a seeded, uniform sample
whatever the collection's size. Documents are cut only past the longest input window among the
candidates, so each model's own truncation stays part of what the probe measures.

The pool is made harder than a uniform sample, at the same size (so at the same cost): when the
collection holds more documents than the sample, half of it are *seeds* drawn uniformly and the
other half their *neighbours* (:data:`NEIGHBOURS_PER_SEED` each), the documents a retriever will
have to tell a seed's queries apart from in the whole collection: first its siblings (another
chunk with the same ``source``/``doc_id``-like metadata, :data:`SOURCE_KEYS`), then the document
that shares the most of its rare terms (idf-weighted, near-duplicates left out), found among a
seeded uniform reservoir of :data:`NEIGHBOUR_SCAN` more documents read in the same pass. Two
hundred random documents are easy negatives: on them every retriever looks good. A seed and its
neighbours stay next to each other in the order, so they enter the race in the same stage.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autoembedding.errors import AutoEmbeddingError, CollectionError
from autoembedding.probe.candidates import ResolvedCandidate
from autoembedding.probe.queries import ProbeDoc, is_unspaced
from autoembedding.probe.queries.text import terms

__all__ = [
    "CHARS_PER_TOKEN",
    "FALLBACK_MAX_TOKENS",
    "MIN_DOCS",
    "auto_doc_chars",
    "cut_doc",
    "dedupe",
    "sample_collection",
    "sample_documents",
    "with_neighbours",
]

#: Fewest distinct documents a probe can work with.
MIN_DOCS = 5
#: Generous characters per token for spaced scripts (English BERT-style tokenizers average ~4).
CHARS_PER_TOKEN = 6
#: Window assumed for a candidate whose spec is unknown.
FALLBACK_MAX_TOKENS = 512
#: Unspaced scripts (Chinese, Japanese, Thai) spend about one token per character, English about
#: one per four: their documents are cut to a third of ``max_doc_chars``.
UNSPACED_SHARE = 3
#: Records read per page of the collection.
PAGE_SIZE = 256
#: Neighbours put in the pool beside each seed (0: a uniform sample, as before issue 23.5).
NEIGHBOURS_PER_SEED = 1
#: Documents read beside the sample (a seeded uniform reservoir) to find the neighbours among.
NEIGHBOUR_SCAN = 2000
#: Characters of each document read to find its neighbours (rare terms of its beginning).
NEIGHBOUR_CHARS = 1500
#: Rarest terms of a seed looked up (bounds the cost of the search).
NEIGHBOUR_TERMS = 40
#: A neighbour shares at least this many of the seed's rare terms (else a random fill).
NEIGHBOUR_MIN_SHARED = 2
#: Term-set Jaccard above which a candidate is a near-duplicate, never a neighbour.
NEAR_DUPLICATE = 0.8
#: Metadata keys naming the source a chunk was cut from (compared in lower case).
SOURCE_KEYS: tuple[str, ...] = (
    "source",
    "source_id",
    "doc_id",
    "document_id",
    "parent_id",
    "file",
    "filename",
    "file_name",
    "file_path",
    "path",
    "url",
)


def sample_collection(collection: Any, size: int, seed: int) -> tuple[list[ProbeDoc], int]:
    """Seeded reservoir sample of the documents of a Chroma collection, read in pages.

    Each document keeps its metadata, so a ``title`` (or ``Title``, ``heading``...) there
    gives title queries (:mod:`.queries.title`).

    Args:
        collection: A Chroma collection (read only).
        size: Documents to keep.
        seed: Seed of the reservoir and of the final order.

    Returns:
        The sampled documents (seeds and their neighbours, see :func:`with_neighbours`) in a
        seeded order, and how many usable documents there are.

    Raises:
        CollectionError: If the collection cannot be read, is empty or holds no document texts.
    """
    from autoembedding.chroma.pages import iter_pages

    name = getattr(collection, "name", "?")
    try:
        count = int(collection.count())
    except Exception as exc:  # a server that went away, a deleted collection
        raise CollectionError(f"Cannot read collection {name!r}: {exc}") from exc
    if count == 0:
        raise CollectionError(
            f"Collection {name!r} is empty; add documents before probing it (or pass "
            "documents=[...] to probe texts directly)."
        )
    rng = np.random.default_rng(seed)
    keep = size + (NEIGHBOUR_SCAN if NEIGHBOURS_PER_SEED else 0)
    reservoir: list[ProbeDoc] = []
    seen = 0
    pages = iter_pages(collection, page_size=PAGE_SIZE, include=("documents", "metadatas"))
    for page in pages:
        for doc_id, text, meta in zip(page.ids, page.documents, page.metadatas, strict=False):
            if not isinstance(text, str) or not text.strip():
                continue
            seen += 1
            if len(reservoir) < keep:
                reservoir.append(ProbeDoc(id=doc_id, text=text, metadata=_metadata(meta)))
            else:
                j = int(rng.integers(0, seen))
                if j < keep:
                    reservoir[j] = ProbeDoc(id=doc_id, text=text, metadata=_metadata(meta))
    if seen == 0:
        raise CollectionError(
            f"Collection {name!r} has {count} records but no document texts (embeddings only?). "
            "The probe re-embeds texts with each candidate, so it needs the documents: re-add them "
            "with documents=..., or pass documents=[...] to probe()."
        )
    return with_neighbours(reservoir, size, rng), seen


def with_neighbours(
    drawn: Sequence[ProbeDoc],
    size: int,
    rng: np.random.Generator,
    per_seed: int = NEIGHBOURS_PER_SEED,
) -> list[ProbeDoc]:
    """A pool of ``size`` documents: uniform seeds and the neighbours of each, in seeded order.

    Args:
        drawn: A uniform random draw of the collection (any order), larger than ``size`` when
            the collection is: seeds are its first documents, neighbours come from the rest.
        size: Documents in the pool.
        rng: Seeded generator (the order of the seeds and of the groups).
        per_seed: Neighbours per seed (0: the first ``size`` documents of ``drawn``).

    Returns:
        ``size`` documents (all of ``drawn`` when it holds no more): groups of a seed followed
        by its neighbours (siblings by :data:`SOURCE_KEYS` first, then the document sharing
        most of its rare terms), topped up with random documents where a seed has no
        neighbour, the groups in a seeded order.
    """
    order = [int(i) for i in rng.permutation(len(drawn))]
    if len(drawn) <= size or per_seed <= 0:
        return [drawn[i] for i in order[:size]]
    n_seeds = -(-size // (1 + per_seed))
    seeds, rest = order[:n_seeds], order[n_seeds:]
    sets = [set(terms(d.text[:NEIGHBOUR_CHARS])) for d in drawn]
    df: Counter[str] = Counter()
    for term_set in sets:
        df.update(term_set)
    common = max(5, len(drawn) // 20)  # terms in more documents than this are not rare
    postings: dict[str, list[int]] = defaultdict(list)
    siblings: dict[str, list[int]] = defaultdict(list)
    for i in rest:
        for term in sets[i]:
            if 2 <= df[term] <= common:
                postings[term].append(i)
        source = _source(drawn[i])
        if source is not None:
            siblings[source].append(i)
    used = set(seeds)
    groups: list[list[int]] = []
    for seed_index in seeds:
        group = [seed_index]
        source = _source(drawn[seed_index])
        for i in siblings.get(source, []) if source is not None else []:
            if len(group) > per_seed:
                break
            if i not in used and _jaccard(sets[seed_index], sets[i]) < NEAR_DUPLICATE:
                group.append(i)
                used.add(i)
        if len(group) <= per_seed:
            rare = sorted((t for t in sets[seed_index] if t in postings), key=lambda t: df[t])
            scores: dict[int, float] = defaultdict(float)
            shared: Counter[int] = Counter()
            for term in rare[:NEIGHBOUR_TERMS]:
                weight = math.log(len(drawn) / df[term])
                for i in postings[term]:
                    scores[i] += weight
                    shared[i] += 1
            for i, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
                if len(group) > per_seed:
                    break
                if i in used or shared[i] < NEIGHBOUR_MIN_SHARED:
                    continue
                if _jaccard(sets[seed_index], sets[i]) < NEAR_DUPLICATE:
                    group.append(i)
                    used.add(i)
        groups.append(group)
    filled = sum(len(g) for g in groups)
    for i in rest:  # seeds without a neighbour: random documents in their place
        if filled >= size:
            break
        if i not in used:
            groups.append([i])
            used.add(i)
            filled += 1
    out = [drawn[i] for g in (groups[j] for j in rng.permutation(len(groups))) for i in g]
    return out[:size]


def _source(doc: ProbeDoc) -> str | None:
    """The document's source (its first :data:`SOURCE_KEYS` value), or ``None``."""
    if not doc.metadata:
        return None
    by_key = {str(k).lower(): v for k, v in doc.metadata.items()}
    for key in SOURCE_KEYS:
        value = by_key.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return f"{key}={value}"
    return None


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _metadata(meta: Any) -> dict[str, Any] | None:
    """A record's metadata as a plain dict (a title there gives title queries), or ``None``."""
    if not isinstance(meta, Mapping) or not meta:
        return None
    return dict(meta)


def sample_documents(
    documents: Sequence[str] | Sequence[tuple[str, str]], size: int, seed: int
) -> tuple[list[ProbeDoc], int]:
    """Seeded sample of texts (or ``(id, text)`` pairs) passed as ``documents=``.

    Args:
        documents: Texts, given ids ``doc-<index>``, or ``(id, text)`` pairs.
        size: Documents to keep.
        seed: Seed of the sample.

    Returns:
        The sampled documents (seeds and their neighbours, see :func:`with_neighbours`), and
        how many non-empty ones there are.

    Raises:
        TypeError: If ``documents`` is one string or holds something else than texts or pairs.
        CollectionError: If no text is non-empty.
    """
    if isinstance(documents, str):
        raise TypeError("documents= takes a list of texts or (id, text) pairs, not one string.")
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(documents):
        if isinstance(item, str):
            pairs.append((f"doc-{index}", item))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        else:
            raise TypeError(
                f"documents[{index}] is {type(item).__name__}; "
                "expected a text or an (id, text) pair."
            )
    pairs = [(i, t) for i, t in pairs if t.strip()]
    if not pairs:
        raise CollectionError("documents=[...] holds no non-empty text; nothing to probe.")
    rng = np.random.default_rng(seed)
    keep = size + (NEIGHBOUR_SCAN if NEIGHBOURS_PER_SEED else 0)
    order = rng.permutation(len(pairs))[:keep]
    drawn = [ProbeDoc(id=pairs[i][0], text=pairs[i][1]) for i in order]
    return with_neighbours(drawn, size, rng), len(pairs)


def dedupe(docs: list[ProbeDoc], name: str | None, notes: list[str]) -> list[ProbeDoc]:
    """Drop documents whose text repeats another's (case and spacing ignored).

    Args:
        docs: The sample.
        name: The collection's name, for messages (``None`` for ``documents=``).
        notes: The report's notes; gets a line when something was dropped.

    Returns:
        The first copy of each distinct text, in order.

    Raises:
        CollectionError: If fewer than :data:`MIN_DOCS` distinct documents remain.
    """
    seen: set[str] = set()
    kept = []
    for doc in docs:
        key = " ".join(doc.text.split()).lower()
        if key not in seen:
            seen.add(key)
            kept.append(doc)
    where = f"collection {name!r}" if name else "documents=[...]"
    if len(kept) < MIN_DOCS:
        detail = (
            f"the same text repeated ({len(docs)} copies of {len(kept)} distinct text(s))"
            if len(kept) < len(docs)
            else f"only {len(kept)} document(s)"
        )
        raise CollectionError(
            f"The sample of {where} has {detail}; a probe needs at least {MIN_DOCS} distinct "
            "documents to rank. Add more (distinct) documents."
        )
    if len(kept) < len(docs):
        notes.append(f"{len(docs) - len(kept)} duplicate document(s) dropped from the sample.")
    return kept


def auto_doc_chars(cands: Sequence[ResolvedCandidate]) -> int:
    """Characters that cover the longest input window among the candidates.

    Args:
        cands: The resolved candidates; a ready adapter's own spec is used when there is one.

    Returns:
        :data:`CHARS_PER_TOKEN` times the largest ``max_tokens`` (or
        :data:`FALLBACK_MAX_TOKENS` for a model without a known spec).
    """
    from autoembedding.catalog import get_spec

    windows = []
    for cand, adapter in cands:
        spec = getattr(adapter, "spec", None)
        if spec is None:
            try:
                spec = get_spec(cand.model_id)
            except (KeyError, ValueError, AutoEmbeddingError):
                spec = None
        windows.append(getattr(spec, "max_tokens", None) or FALLBACK_MAX_TOKENS)
    return CHARS_PER_TOKEN * max(windows or [FALLBACK_MAX_TOKENS])


def cut_doc(doc: ProbeDoc, max_chars: int) -> ProbeDoc:
    """Cut a document to ``max_chars`` characters (a third for an unspaced script).

    The cut falls on a word boundary when one lies in the second half of the kept text.

    Args:
        doc: The document.
        max_chars: Characters to keep for a spaced script.

    Returns:
        ``doc`` itself when it is short enough, else a cut copy with the same id and metadata.
    """
    if is_unspaced(doc.text[: 2 * max_chars]):
        max_chars = max(max_chars // UNSPACED_SHARE, 1)
    if len(doc.text) <= max_chars:
        return doc
    cut = doc.text[:max_chars]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return ProbeDoc(id=doc.id, text=cut, metadata=doc.metadata)
