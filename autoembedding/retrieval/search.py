"""One search for every retriever: dense, BM25 or hybrid, as the collection's model record says.

:class:`Searcher` binds a Chroma collection by its name (a
:class:`~autoembedding.retrieval.binding.CollectionBinding`, re-read at most once per
``recheck_s``), so it follows ``autoembed swap`` and a changed record in a running process. For
each query it reads the record and serves:

* ``dense`` (or a record-less collection): the collection's vectors, the query embedded by the
  recorded model (``query_embeddings``); with no record, by the collection's own embedding
  function (``query_texts``);
* ``lexical``: the collection's saved BM25 index (:func:`~autoembedding.retrieval.store.open_index`
  with the record's tokenizer; checked against the collection when opened, and its count on
  every query);
* ``hybrid``: the dense and the BM25 top ``candidates`` fused, convex with the record's dense
  weight or RRF with its ``rrf_k``.

Empty queries return ``[]`` in every mode. A query with no BM25 term (only stopwords or
punctuation) returns ``[]`` in ``lexical`` mode; in ``hybrid`` mode the lexical side is empty, so
the dense ranking alone is returned.

Example:
    >>> searcher = Searcher(collection)  # doctest: +SKIP
    >>> [hit.id for hit in searcher.search("running cats", k=3)]  # doctest: +SKIP
    ['doc-7', 'doc-2', 'doc-9']
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.errors import CollectionError
from autoembedding.lexical import BM25Index, convex, rrf
from autoembedding.record import ModelRecord
from autoembedding.retrieval.binding import CollectionBinding, FollowingCollection
from autoembedding.retrieval.hits import Hit, client_of, raw_collection, similarity
from autoembedding.retrieval.store import (
    add_to_index,
    collection_fingerprint,
    index_folder,
    open_index,
)

__all__ = ["Hit", "Searcher", "client_of", "searcher_for"]


class Searcher:
    """Top-k search of a collection, in the retrieval mode its model record names.

    Args:
        collection: A chromadb collection (or a guarded / following one), or ``None`` with
            ``binding``.
        client: Its chromadb client (default: the one the collection came from).
        binding: A ready binding to share (e.g. a store's); then ``collection`` is not needed.
        recheck_s: Re-read the collection by name at most this often (seconds): how soon a
            swap or a record change is followed.
        candidates: How many results each side of a hybrid contributes (default
            ``max(50, 5 * k)``).
        verify_s: Re-check the BM25 index against the collection's contents (a full paged read)
            at most this often; ``None`` checks only when the index is opened and when the
            collection's count changes (checked on every lexical query).

    Raises:
        CollectionError: If neither ``collection`` nor ``binding`` is given.
    """

    def __init__(
        self,
        collection: Any = None,
        *,
        client: Any = None,
        binding: CollectionBinding | None = None,
        recheck_s: float = 1.0,
        candidates: int | None = None,
        verify_s: float | None = 300.0,
    ) -> None:
        if binding is None and isinstance(collection, FollowingCollection):
            binding = collection.binding
        if binding is None:
            if collection is None:
                raise CollectionError("Give the Searcher a collection (or a binding).")
            raw = raw_collection(collection)
            client = client if client is not None else client_of(raw)
            binding = CollectionBinding(client, raw.name, collection=raw, recheck_s=recheck_s)
            binding.refresh(force=True)  # the handle given may predate the current record
            self._own: Any = collection  # keeps its embedding function for record-less queries
        else:
            self._own = None
        self.binding = binding
        self.candidates = candidates
        self.verify_s = verify_s
        self._lock = threading.RLock()
        self._adapter: Any = None
        self._adapter_key: Any = None
        self._index: BM25Index | None = None
        self._index_key: Any = None
        self._verified_at = 0.0

    # -------------------------------------------------------------------- state
    @property
    def collection(self) -> Any:
        """The collection that holds the name now (as of the last check)."""
        return self.binding.collection

    def record(self) -> ModelRecord | None:
        """The collection's model record (after a cheap re-check of the binding)."""
        self.binding.refresh()
        return self.binding.record()

    def mode(self) -> str:
        """``"dense"``, ``"lexical"`` or ``"hybrid"``: what a query is served with now."""
        record = self.record()
        return "dense" if record is None else record.retrieval

    def _adapter_for(self, record: ModelRecord) -> Any:
        key = record.to_options() | {"model_id": record.model_id}
        with self._lock:
            if self._adapter is None or self._adapter_key != key:
                from autoembedding.adapters import get_adapter

                self._adapter = get_adapter(record.model_id, **record.to_options())
                self._adapter_key = key
            return self._adapter

    def index(self, record: ModelRecord | None = None) -> BM25Index:
        """The collection's BM25 index, opened (and checked, or rebuilt) on first use.

        Args:
            record: The record whose tokenizer to use (default: the collection's).
        """
        record = record if record is not None else self.record()
        collection = self.collection
        tokenizer = record.tokenizer if record is not None else ""
        key = (getattr(collection, "id", None), tokenizer)
        with self._lock:
            now = time.monotonic()
            if self._index is not None and self._index_key == key:
                with chroma_errors("count", collection=self.binding.name):
                    count = int(collection.count())
                due = self.verify_s is not None and now - self._verified_at >= self.verify_s
                if count == self._index.count and not due:
                    return self._index
                if count == self._index.count:  # a periodic check of the contents
                    self._verified_at = now
                    if not self._index.is_stale(*collection_fingerprint(collection)):
                        return self._index
            self._index = open_index(collection, tokenizer, client=self.binding.client)
            self._index_key, self._verified_at = key, time.monotonic()
            return self._index

    # -------------------------------------------------------------------- search
    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The ``k`` best records for ``query``, best first.

        Args:
            query: The query text.
            k: How many results at most.

        Returns:
            :class:`Hit` objects; ``[]`` for an empty query, and in ``lexical`` mode for a
            query with no BM25 term (only stopwords or punctuation).
        """
        if not isinstance(query, str) or not query.strip() or k < 1:
            return []
        record = self.record()
        if record is None:
            return self._dense_texts(query, k)
        if record.retrieval == "lexical":
            return self._with_documents(self.index(record).search(query, k))
        if record.retrieval != "hybrid":
            return self._dense(record, query, k)
        n = self.candidates or max(50, 5 * k)
        dense = self._dense(record, query, n)
        lexical = dict(self.index(record).search(query, n))
        ranked = {h.id: h.score for h in dense}
        if record.fusion == "convex" and record.fusion_weight is not None:
            fused = convex(ranked, lexical, record.fusion_weight)
        else:
            fused = rrf([ranked, lexical], k=record.rrf_k)
        known = {h.id: h for h in dense}
        top = list(fused.items())[:k]
        missing = [(i, s) for i, s in top if i not in known]
        fetched = {h.id: h for h in self._with_documents(missing)}
        out = []
        for doc_id, score in top:
            hit = known.get(doc_id) or fetched.get(doc_id)
            if hit is not None:
                out.append(Hit(doc_id, float(score), hit.document, hit.metadata))
        return out

    def _dense(self, record: ModelRecord, query: str, k: int) -> list[Hit]:
        vector = self._adapter_for(record).embed_query(query)
        return self._query(self.collection, k, query_embeddings=[[float(x) for x in vector]])

    def _dense_texts(self, query: str, k: int) -> list[Hit]:
        own = self._own
        collection = self.collection
        if own is not None and getattr(raw_collection(own), "id", None) == getattr(
            collection, "id", None
        ):
            collection = own  # the user's handle keeps the embedding function they gave
        return self._query(collection, k, query_texts=[query])

    def _query(self, collection: Any, k: int, **query: Any) -> list[Hit]:
        include = ["documents", "metadatas", "distances"]
        with chroma_errors("query", collection=self.binding.name):
            got = collection.query(n_results=k, include=include, **query)
        ids = (got.get("ids") or [[]])[0]
        docs = (got.get("documents") or [[None] * len(ids)])[0]
        metas = (got.get("metadatas") or [[None] * len(ids)])[0]
        dists = (got.get("distances") or [[0.0] * len(ids)])[0]
        to_score = similarity(collection)
        return [
            Hit(str(i), to_score(float(d)), doc, dict(meta or {}))
            for i, doc, meta, d in zip(ids, docs, metas, dists, strict=False)
        ]

    def _with_documents(self, ranked: Sequence[tuple[str, float]]) -> list[Hit]:
        """Hits for BM25 results, with their documents and metadata read from the collection."""
        if not ranked:
            return []
        with chroma_errors("read", collection=self.binding.name):
            got = self.collection.get(
                ids=[i for i, _ in ranked], include=["documents", "metadatas"]
            )
        rows = {
            str(i): (doc, meta)
            for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=False)
        }
        return [
            Hit(i, float(s), rows[i][0], dict(rows[i][1] or {})) for i, s in ranked if i in rows
        ]

    # -------------------------------------------------------------------- writes
    def add_texts(
        self,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any] | None] | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Add documents to the collection, embedded by the recorded model, and to its index.

        Args:
            texts: The documents.
            metadatas: Their metadata (optional).
            ids: Their ids (default: new UUIDs).

        Returns:
            The ids written.

        Raises:
            CollectionError: If lengths differ or Chroma refuses the write.
        """
        texts = list(texts)
        ids = [str(i) for i in ids] if ids is not None else [str(uuid.uuid4()) for _ in texts]
        metas = list(metadatas) if metadatas is not None else [None] * len(texts)
        if not (len(ids) == len(texts) == len(metas)):
            raise CollectionError(
                f"got {len(texts)} texts, {len(ids)} ids and {len(metas)} metadatas; give one of "
                "each per document."
            )
        if not texts:
            return []
        record = self.record()
        collection = self.collection
        rows: dict[str, Any] = {"ids": ids, "documents": texts}
        if any(metas):
            rows["metadatas"] = [dict(m) if m else None for m in metas]
        if record is not None:
            vectors = self._adapter_for(record).embed_documents(texts)
            rows["embeddings"] = [[float(x) for x in v] for v in vectors]
        elif self._own is not None and raw_collection(self._own).id == collection.id:
            collection = self._own
        with chroma_errors("add to", collection=self.binding.name):
            collection.add(**rows)
        add_to_index(collection, ids, texts, client=self.binding.client)
        with self._lock:
            folder = index_folder(collection, client=self.binding.client)
            if self._index is not None and self._index_key[0] == collection.id:
                self._index = BM25Index.load(folder) if folder.exists() else None
        return ids


def searcher_for(
    collection: Any, vectorstore: Any, client: Any, recheck_s: float, what: str
) -> Searcher:
    """The :class:`Searcher` of a collection or of a framework's Chroma store.

    Args:
        collection: A chromadb collection (or ``None``).
        vectorstore: A store holding one (``langchain_chroma.Chroma``, ``ChromaVectorStore``).
        client: Its chromadb client, if known.
        recheck_s: See :class:`Searcher`.
        what: The store's class name, for messages.

    Raises:
        CollectionError: If not exactly one of ``collection`` and ``vectorstore`` is given.
    """
    if (collection is None) == (vectorstore is None):
        raise CollectionError(
            f"Give {what} exactly one of collection=<chroma collection> or "
            "vectorstore=<Chroma store>."
        )
    if vectorstore is not None:
        binding = getattr(vectorstore, "binding", None)  # our bound stores share their binding
        if binding is not None:
            return Searcher(binding=binding)
        client = client if client is not None else getattr(vectorstore, "_client", None)
        collection = getattr(vectorstore, "_collection", None)
        if collection is None:
            raise CollectionError(f"{type(vectorstore).__name__} holds no Chroma collection.")
    return Searcher(collection, client=client, recheck_s=recheck_s)
