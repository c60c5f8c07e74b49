"""The persisted BM25 index of a Chroma collection: where it lives, build, open, update, drop.

Chroma 1.5 refuses sparse indexes in a local database, so the lexical half of a ``lexical`` or
``hybrid`` collection is a :class:`~autoembedding.lexical.BM25Index` built from the collection's
documents (read in pages) and saved in a folder keyed by the collection's id:

* embedded ``PersistentClient``: ``<persist directory>/autoembedding-bm25/<collection id>``;
* server (``HttpClient``) or in-memory client:
  ``<cache_dir()>/bm25/<host_port or "memory">/<collection id>`` (see
  :func:`autoembedding.offline.cache_dir`);
* ``$AUTOEMBEDDING_BM25_DIR``, when set, replaces the root: ``$AUTOEMBEDDING_BM25_DIR/<id>``.

A swap makes a new collection, hence a new id and a new folder. :func:`open_index` checks the
saved index against the collection (count and content fingerprint, computed page by page) and
rebuilds it, with a :class:`~autoembedding.errors.LexicalIndexWarning`, when it is missing,
corrupt, stale or built with another tokenizer: a stale index is never used silently.

Example:
    >>> import chromadb  # doctest: +SKIP
    >>> col = chromadb.PersistentClient("db").get_collection("docs")  # doctest: +SKIP
    >>> index = open_index(col, "en")  # doctest: +SKIP
    >>> index.search("running cats", k=3)  # doctest: +SKIP
    [('doc-7', 4.1), ...]
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.pages import iter_pages
from autoembedding.errors import CollectionError, LexicalIndexError, LexicalIndexWarning
from autoembedding.lexical import BM25Index, Tokenizer, combine_fingerprints, content_fingerprint
from autoembedding.offline import cache_dir
from autoembedding.record import ModelRecord

__all__ = [
    "BM25_DIR_ENV",
    "add_to_index",
    "build_index",
    "collection_fingerprint",
    "drop_index",
    "index_folder",
    "index_written",
    "open_index",
]

#: Environment variable that, when set, is the root of every BM25 index folder.
BM25_DIR_ENV = "AUTOEMBEDDING_BM25_DIR"
#: Name of the folder beside an embedded database's files that holds its BM25 indexes.
EMBEDDED_FOLDER = "autoembedding-bm25"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _settings(collection: Any, client: Any) -> Any:
    """The chromadb ``Settings`` of ``client``, else of the collection's own client."""
    owner = client if client is not None else getattr(collection, "_client", None)
    get_settings = getattr(owner, "get_settings", None)
    return get_settings() if get_settings is not None else None


def index_folder(collection: Any, *, client: Any = None) -> Path:
    """The folder the BM25 index of ``collection`` is saved in (not created here).

    Args:
        collection: A Chroma collection (or a wrapper that passes ``id`` and ``_client`` on).
        client: The chromadb client it lives in (default: the collection's own).

    Returns:
        ``$AUTOEMBEDDING_BM25_DIR/<id>`` when that variable is set; else
        ``<persist directory>/autoembedding-bm25/<id>`` for an embedded database, or
        ``<cache_dir()>/bm25/<host_port or "memory">/<id>`` for a server or in-memory client.

    Raises:
        CollectionError: If the collection has no id.
    """
    collection_id = getattr(collection, "id", None)
    if not collection_id:
        raise CollectionError(
            f"Cannot place a BM25 index for {collection!r}: it has no id. Pass a chromadb "
            "Collection (client.get_collection(name))."
        )
    forced = os.environ.get(BM25_DIR_ENV, "").strip()
    if forced:
        return Path(forced).expanduser() / str(collection_id)
    settings = _settings(collection, client)
    if settings is not None and getattr(settings, "is_persistent", False):
        root = Path(str(settings.persist_directory)).expanduser() / EMBEDDED_FOLDER
        return root / str(collection_id)
    host = getattr(settings, "chroma_server_host", None) if settings is not None else None
    if host:
        port = getattr(settings, "chroma_server_http_port", None) or ""
        place = _UNSAFE.sub("_", f"{host}_{port}").strip("_") or "server"
    else:
        place = "memory"
    return cache_dir() / "bm25" / place / str(collection_id)


def _name(collection: Any) -> str:
    return str(getattr(collection, "name", "?"))


def _read(collection: Any, page_size: int, progress: Any = False) -> tuple[list[str], list[str]]:
    """Every id and document of the collection, read in pages (``None`` documents as ``""``)."""
    ids: list[str] = []
    texts: list[str] = []
    bar = None
    if progress:
        from autoembedding.progress import Progress

        with chroma_errors("count", collection=_name(collection)):
            total = int(collection.count())
        bar = Progress(progress, total=total, desc="BM25 index", unit="doc")
    try:
        with chroma_errors("read", collection=_name(collection)):
            for page in iter_pages(collection, page_size, include=("documents",)):
                ids += page.ids
                texts += [t or "" for t in page.documents]
                if bar is not None:
                    bar.update(len(page.ids))
    finally:
        if bar is not None:
            bar.close()
    return ids, texts


def collection_fingerprint(collection: Any, *, page_size: int = 512) -> tuple[int, str]:
    """The count and content fingerprint of a collection's ids and documents, page by page.

    Args:
        collection: A Chroma collection.
        page_size: Records read per request.

    Returns:
        ``(count, fingerprint)``, comparable with :meth:`BM25Index.is_stale`.
    """
    count, parts = 0, []
    with chroma_errors("read", collection=_name(collection)):
        for page in iter_pages(collection, page_size, include=("documents",)):
            count += len(page.ids)
            parts.append(content_fingerprint(page.ids, page.documents))
    return count, combine_fingerprints(*parts)


def build_index(
    collection: Any,
    tokenizer: str = "",
    *,
    client: Any = None,
    page_size: int = 512,
    progress: Any = False,
) -> BM25Index:
    """Build the BM25 index of a collection from its documents and save it.

    Args:
        collection: A Chroma collection.
        tokenizer: A :class:`~autoembedding.lexical.Tokenizer` spec (``"en"``, ``"zh"``, ...);
            ``""`` detects the language from the documents.
        client: The chromadb client (default: the collection's own), to place the folder.
        page_size: Records read per request.
        progress: ``False``, ``True`` (a bar on stderr) or ``fn(message, fraction)``.

    Returns:
        The index, saved in :func:`index_folder`.

    Raises:
        CollectionError: If the collection cannot be read.
        ValueError: If ``tokenizer`` is not a valid spec.
    """
    ids, texts = _read(collection, page_size, progress)
    index = BM25Index.build(ids, texts, Tokenizer(tokenizer) if tokenizer else None)
    index.save(index_folder(collection, client=client))
    return index


def open_index(collection: Any, tokenizer: str = "", *, client: Any = None) -> BM25Index:
    """The saved BM25 index of a collection, checked against it; rebuilt when it does not match.

    The collection's ids and documents are read once, page by page, to check the count and the
    content fingerprint (a change made by another process or client is caught here).

    Args:
        collection: A Chroma collection.
        tokenizer: The tokenizer spec the index must use (the record's ``tokenizer``); ``""``
            accepts the saved one (or detects the language when building).
        client: The chromadb client (default: the collection's own).

    Returns:
        An index that matches the collection's documents now.

    Warns:
        LexicalIndexWarning: When the saved index was missing, corrupt, built with another
            tokenizer or stale, and was rebuilt (the message says which).
    """
    folder = index_folder(collection, client=client)
    wanted = Tokenizer(tokenizer).spec if tokenizer else ""
    reason = ""
    index: BM25Index | None = None
    if not folder.exists():
        reason = "none was saved yet (first use, or its folder was deleted)"
    else:
        try:
            index = BM25Index.load(folder)
        except LexicalIndexError as exc:
            reason = str(exc)
    if index is not None:
        if wanted and index.tokenizer.spec != wanted:
            reason = f"it was built with tokenizer {index.tokenizer.spec!r}, not {wanted!r}"
        else:
            count, fingerprint = collection_fingerprint(collection)
            if not index.is_stale(count, fingerprint):
                return index
            reason = (
                f"it is stale: it holds {index.count} documents, the collection {count}"
                if count != index.count
                else "it is stale: the collection's documents changed since it was built"
            )
    warnings.warn(
        f"Rebuilding the BM25 index of collection {_name(collection)!r} at {folder}: "
        f"{reason.rstrip('.')}.",
        LexicalIndexWarning,
        stacklevel=2,
    )
    spec = wanted or (index.tokenizer.spec if index is not None else "")
    return build_index(collection, spec, client=client)


def add_to_index(
    collection: Any,
    ids: Sequence[str],
    texts: Sequence[str | None],
    *,
    client: Any = None,
) -> None:
    """Update the saved index after ``ids``/``texts`` were added to the collection.

    Call it after the documents are in the collection. New ids are indexed and the index saved;
    when the saved index is missing or corrupt, when an id was already indexed (an upsert that
    may have changed its text) or when the count no longer matches the collection's (another
    writer), the index is rebuilt from the collection instead. Without a saved index nothing
    is built here: the first :func:`open_index` builds it.

    Args:
        collection: The Chroma collection the documents were added to.
        ids: Their ids.
        texts: Their documents.
        client: The chromadb client (default: the collection's own).
    """
    folder = index_folder(collection, client=client)
    if not folder.exists():
        return
    try:
        index = BM25Index.load(folder)
    except LexicalIndexError:
        build_index(collection, client=client)
        return
    spec = index.tokenizer.spec
    known = set(index.ids)
    if any(doc_id in known for doc_id in ids):
        build_index(collection, spec, client=client)
        return
    index.add(list(ids), list(texts))
    with chroma_errors("count", collection=_name(collection)):
        count = int(collection.count())
    if count != index.count:
        build_index(collection, spec, client=client)
        return
    index.save(folder)


def drop_index(collection: Any, *, client: Any = None) -> None:
    """Delete the saved BM25 index of a collection (nothing happens if there is none).

    Args:
        collection: The Chroma collection.
        client: The chromadb client (default: the collection's own).
    """
    shutil.rmtree(index_folder(collection, client=client), ignore_errors=True)


def index_written(
    collection: Any,
    record: ModelRecord | None,
    ids: str | Sequence[str] | None,
    documents: str | Sequence[str | None] | None,
    *,
    client: Any = None,
) -> None:
    """After a write through our classes, add its documents to the saved index if one serves.

    Does nothing for a dense record (or none), or a write without ids or documents; otherwise
    :func:`add_to_index` (a single id or document may be a plain string, as Chroma allows).

    Args:
        collection: The collection written to.
        record: Its model record.
        ids: The ids written.
        documents: Their documents.
        client: The chromadb client (default: the collection's own).
    """
    if record is None or record.retrieval == "dense" or ids is None or documents is None:
        return
    ids = [ids] if isinstance(ids, str) else list(ids)
    documents = [documents] if isinstance(documents, str) else list(documents)
    add_to_index(collection, ids, documents, client=client)
