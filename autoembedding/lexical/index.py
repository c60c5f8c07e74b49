"""A BM25 index over ids and language-aware tokens, built with ``bm25s``, saved with a manifest.

Example:
    >>> index = BM25Index.build(["a", "b"], ["Cats are running", "Dogs bark"], "en")
    >>> [doc_id for doc_id, _ in index.search("running cat")]
    ['a']
    >>> index.search("the and of")  # only stopwords: no terms, no result
    []

"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from autoembedding.errors import CollectionError, LexicalIndexError
from autoembedding.lexical._deps import import_bm25s
from autoembedding.lexical.manifest import (
    FORMAT_VERSION,
    IndexManifest,
    combine_fingerprints,
    content_fingerprint,
)
from autoembedding.lexical.tokenize import Tokenizer

__all__ = ["BM25Index"]

_MANIFEST = "manifest.json"
_DOCS = "docs.jsonl"
_BM25S = "bm25s"


class BM25Index:
    """BM25 over documents, searchable by text; make one with :meth:`build` or :meth:`load`.

    The index keeps each document's id and tokens (not its text), so :meth:`add` can rebuild it
    and :meth:`save` can write it. Scores are bm25s' Lucene BM25 (``k1=1.5``, ``b=0.75``).
    Documents with no terms are allowed: they never match.
    """

    def __init__(self, tokenizer: Tokenizer, *, k1: float = 1.5, b: float = 0.75) -> None:
        self.tokenizer = tokenizer
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self.fingerprint: str = content_fingerprint([], [])
        #: Wall time of the last build or rebuild, in seconds (tokenizing and indexing).
        self.build_seconds: float = 0.0
        self.built_at: str = ""
        self._tokens: list[list[str]] = []
        self._position: dict[str, int] = {}
        self._bm25: Any = None  # bm25s.BM25; None while no document has a term
        self._vocab: dict[str, int] = {}

    # ----------------------------------------------------------------------------- build
    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        texts: Sequence[str | None],
        tokenizer: Tokenizer | str | None = None,
        *,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> BM25Index:
        """Index documents.

        Args:
            ids: Unique document ids.
            texts: Their texts (``None`` counts as empty).
            tokenizer: A :class:`Tokenizer`, a spec for one, or ``None`` to detect the language
                from ``texts``.
            k1: BM25 term-frequency saturation.
            b: BM25 length normalisation.

        Returns:
            The index.

        Raises:
            CollectionError: If ids repeat or ``ids`` and ``texts`` differ in length.

        """
        start = time.perf_counter()
        if tokenizer is None:
            tokenizer = Tokenizer.detect([t or "" for t in texts])
        elif isinstance(tokenizer, str):
            tokenizer = Tokenizer(tokenizer)
        index = cls(tokenizer, k1=k1, b=b)
        index._append(ids, texts)
        index._reindex(start)
        return index

    def add(self, ids: Sequence[str], texts: Sequence[str | None]) -> None:
        """Add documents and rebuild the index.

        bm25s has no incremental add: the whole index is rebuilt from the stored tokens (only
        the new texts are tokenized), which costs about as much as indexing the collection's
        tokens again, roughly a second per 100k short documents. Batch additions.

        Args:
            ids: New, unique document ids (not already in the index).
            texts: Their texts.

        Raises:
            CollectionError: If an id is already indexed or repeats, or lengths differ.

        """
        start = time.perf_counter()
        self._append(ids, texts)
        self._reindex(start)

    def _append(self, ids: Sequence[str], texts: Sequence[str | None]) -> None:
        if len(ids) != len(texts):
            raise CollectionError(f"got {len(ids)} ids but {len(texts)} texts to index.")
        seen = set(self._position)
        for doc_id in ids:
            if doc_id in seen:
                raise CollectionError(
                    f"document id {doc_id!r} is already in the BM25 index or given twice; "
                    "ids must be unique (rebuild the index to replace a document)."
                )
            seen.add(doc_id)
        for doc_id, text in zip(ids, texts, strict=True):
            self._position[doc_id] = len(self.ids)
            self.ids.append(doc_id)
            self._tokens.append(self.tokenizer(text or ""))
        self.fingerprint = combine_fingerprints(self.fingerprint, content_fingerprint(ids, texts))

    def _reindex(self, start: float) -> None:
        self._bm25 = None
        self._vocab = {}
        if any(self._tokens):
            bm25 = import_bm25s().BM25(k1=self.k1, b=self.b)
            bm25.index(self._tokens, show_progress=False)
            self._bm25, self._vocab = bm25, bm25.vocab_dict
        self.build_seconds = time.perf_counter() - start
        self.built_at = datetime.now(timezone.utc).isoformat(timespec="seconds")

    # ---------------------------------------------------------------------------- search
    @property
    def count(self) -> int:
        """Number of documents indexed."""
        return len(self.ids)

    @property
    def index_bytes(self) -> int:
        """In-memory size of the BM25 score matrix (data, indices, indptr), in bytes."""
        if self._bm25 is None:
            return 0
        return int(sum(self._bm25.scores[key].nbytes for key in ("data", "indices", "indptr")))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query``, in the order of :attr:`ids`.

        Args:
            query: The query text.

        Returns:
            ``(count,)`` float32 scores; all zero when the query has no indexed term.

        """
        terms = [self._vocab[t] for t in self.tokenizer(query) if t in self._vocab]
        if not terms:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(terms), dtype=np.float32)

    def search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` best documents for ``query``.

        Only documents sharing a term with the query are returned, so an empty or
        stopword-only query, or one with no indexed term, returns ``[]``.

        Args:
            query: The query text.
            k: How many documents at most.

        Returns:
            ``(id, score)`` pairs, best first; ties in index order.

        """
        scores = self.scores(query)
        k = min(k, int(np.count_nonzero(scores > 0)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(self.ids[i], float(scores[i])) for i in top]

    def is_stale(self, count: int, fingerprint: str) -> bool:
        """Whether the index no longer matches a collection of ``count`` documents.

        Args:
            count: The collection's document count.
            fingerprint: Its :func:`~autoembedding.lexical.manifest.content_fingerprint`.

        Returns:
            ``True`` when either differs from the indexed documents'.

        """
        return count != self.count or fingerprint != self.fingerprint

    # ----------------------------------------------------------------------- persistence
    def manifest(
        self, *, disk_bytes: int = 0, files: dict[str, int] | None = None
    ) -> IndexManifest:
        """The manifest describing this index (as :meth:`save` writes it)."""
        return IndexManifest(
            format_version=FORMAT_VERSION,
            tokenizer=self.tokenizer.spec,
            count=self.count,
            fingerprint=self.fingerprint,
            built_at=self.built_at,
            build_seconds=round(self.build_seconds, 4),
            index_bytes=self.index_bytes,
            disk_bytes=disk_bytes,
            files=dict(files or {}),
            bm25={"k1": self.k1, "b": self.b, "method": "lucene", "bm25s": _bm25s_version()},
        )

    def save(self, folder: str | os.PathLike[str]) -> IndexManifest:
        """Write the index to ``folder``, replacing what is there; the manifest is written last.

        Args:
            folder: Target folder (created with its parents).

        Returns:
            The manifest written.

        """
        folder = Path(folder)
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp / _BM25S), show_progress=False)
        with open(tmp / _DOCS, "w", encoding="utf-8") as out:
            for doc_id, tokens in zip(self.ids, self._tokens, strict=True):
                out.write(json.dumps([doc_id, tokens], ensure_ascii=False) + "\n")
        files = {
            str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        manifest = self.manifest(disk_bytes=sum(files.values()), files=files)
        (tmp / _MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
        return manifest

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> BM25Index:
        """Read an index written by :meth:`save`.

        Args:
            folder: The folder.

        Returns:
            The index, with the manifest's fingerprint, build time and tokenizer.

        Raises:
            LexicalIndexError: If the folder is missing, incomplete, corrupt or from another
                format version (delete it and build the index again).

        """
        folder = Path(folder)
        if not (folder / _MANIFEST).is_file():
            what = "has no manifest (an unfinished save?)" if folder.is_dir() else "does not exist"
            raise LexicalIndexError(
                f"No BM25 index at {folder}: the folder {what}. Build one with "
                "BM25Index.build(ids, texts) and save it there."
            )
        try:
            return cls._load(folder)
        except LexicalIndexError:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError) as exc:
            raise LexicalIndexError(
                f"The BM25 index at {folder} is corrupt ({type(exc).__name__}: {exc}); "
                "delete the folder and build the index again."
            ) from exc

    @classmethod
    def _load(cls, folder: Path) -> BM25Index:
        manifest = IndexManifest.from_json((folder / _MANIFEST).read_text(encoding="utf-8"))
        if manifest.format_version != FORMAT_VERSION:
            raise LexicalIndexError(
                f"The BM25 index at {folder} has format {manifest.format_version}, this "
                f"version reads {FORMAT_VERSION}; delete the folder and build the index again."
            )
        for name, size in manifest.files.items():
            if (folder / name).stat().st_size != size:
                raise ValueError(f"{name} has {(folder / name).stat().st_size} bytes, not {size}")
        params = manifest.bm25
        index = cls(Tokenizer(manifest.tokenizer), k1=params["k1"], b=params["b"])
        with open(folder / _DOCS, encoding="utf-8") as lines:
            for line in lines:
                doc_id, tokens = json.loads(line)
                index._position[doc_id] = len(index.ids)
                index.ids.append(doc_id)
                index._tokens.append(tokens)
        if index.count != manifest.count or len(index._position) != index.count:
            raise ValueError(f"{_DOCS} holds {index.count} documents, not {manifest.count}")
        if any(index._tokens):
            bm25 = import_bm25s().BM25.load(str(folder / _BM25S), show_progress=False)
            if bm25.scores["num_docs"] != index.count:
                raise ValueError(f"the BM25 matrix has {bm25.scores['num_docs']} documents")
            index._bm25, index._vocab = bm25, bm25.vocab_dict
        index.fingerprint, index.built_at = manifest.fingerprint, manifest.built_at
        index.build_seconds = manifest.build_seconds
        return index


def _bm25s_version() -> str:
    return str(getattr(import_bm25s(), "__version__", "unknown"))
