"""The probe's documents: a seeded sample, de-duplicated, cut to what the candidates read.

The collection is read in pages (never written to); a reservoir keeps a seeded, uniform sample
whatever the collection's size. Documents are cut only past the longest input window among the
candidates, so each model's own truncation stays part of what the probe measures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autoembedding.errors import AutoEmbeddingError, CollectionError
from autoembedding.selector.probing.candidates import ResolvedCandidate
from autoembedding.selector.probing.queries import ProbeDoc, is_unspaced

__all__ = [
    "CHARS_PER_TOKEN",
    "FALLBACK_MAX_TOKENS",
    "MIN_DOCS",
    "auto_doc_chars",
    "cut_doc",
    "dedupe",
    "sample_collection",
    "sample_documents",
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


def sample_collection(collection: Any, size: int, seed: int) -> tuple[list[ProbeDoc], int]:
    """Seeded reservoir sample of the documents of a Chroma collection, read in pages.

    Each document keeps its metadata, so a ``title`` (or ``Title``, ``heading``...) there
    gives title queries (:mod:`.queries.title`).

    Args:
        collection: A Chroma collection (read only).
        size: Documents to keep.
        seed: Seed of the reservoir and of the final order.

    Returns:
        The sampled documents in a seeded order, and how many usable documents there are.

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
    reservoir: list[ProbeDoc] = []
    seen = 0
    pages = iter_pages(collection, page_size=PAGE_SIZE, include=("documents", "metadatas"))
    for page in pages:
        for doc_id, text, meta in zip(page.ids, page.documents, page.metadatas, strict=False):
            if not isinstance(text, str) or not text.strip():
                continue
            seen += 1
            if len(reservoir) < size:
                reservoir.append(ProbeDoc(id=doc_id, text=text, metadata=_metadata(meta)))
            else:
                j = int(rng.integers(0, seen))
                if j < size:
                    reservoir[j] = ProbeDoc(id=doc_id, text=text, metadata=_metadata(meta))
    if seen == 0:
        raise CollectionError(
            f"Collection {name!r} has {count} records but no document texts (embeddings only?). "
            "The probe re-embeds texts with each candidate, so it needs the documents: re-add them "
            "with documents=..., or pass documents=[...] to probe()."
        )
    order = rng.permutation(len(reservoir))
    return [reservoir[i] for i in order], seen


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
        The sampled documents, and how many non-empty ones there are.

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
    order = rng.permutation(len(pairs))[:size]
    return [ProbeDoc(id=pairs[i][0], text=pairs[i][1]) for i in order], len(pairs)


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
