"""Content fingerprints, and the *baseline* collection a swap keeps beside the backup.

A record's fingerprint is a hash of its document and metadata. The baseline collection
(``NAME__swapsync_<hash>``, :func:`~.journal.sync_name`) holds one tiny record per id of the new
collection, whose metadata is the fingerprint of what the new collection held for that id at the
switch. After the switch, a write made through a handle opened before it lands in the backup;
comparing the backup with the baseline tells exactly which records changed there *since the
switch*, and comparing the new collection with the baseline tells whether the new collection was
changed meanwhile (then it wins).

Everything here is read and written in pages, so memory stays bounded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from autoembedding.chroma.errors import chroma_errors
from autoembedding.record import METADATA_PREFIX

__all__ = [
    "K_BASELINE_OF",
    "Content",
    "delete_fps",
    "delete_records",
    "exact_metadatas",
    "fingerprint",
    "open_baseline",
    "read_content",
    "read_fps",
    "write_fps",
]

#: Collection-metadata key naming the collection a baseline belongs to.
K_BASELINE_OF = METADATA_PREFIX + "swap_baseline_of"
#: Record-metadata key of a baseline record: the fingerprint.
FP_KEY = "fp"
#: Ids sent to Chroma in one delete or get call.
_CHUNK = 1000

#: ``(document, metadata, embedding)`` of one record.
Content = tuple[str | None, dict[str, Any] | None, Any]


def fingerprint(document: str | None, metadata: Mapping[str, Any] | None) -> str:
    """A hash of a record's document and metadata (an empty metadata counts as none)."""
    payload = json.dumps(
        [document, dict(metadata) if metadata else None],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _point(fp: str) -> list[float]:
    """A 2-d vector spread by the fingerprint (Chroma needs one; nothing ever queries it)."""
    return [int(fp[:8], 16) / 2**32, int(fp[8:16], 16) / 2**32]


def open_baseline(client: Any, name: str, of: str) -> Any:
    """The baseline collection ``name`` of collection ``of``, created empty if missing."""
    with chroma_errors("create", collection=name):
        return client.get_or_create_collection(
            name,
            metadata={K_BASELINE_OF: of},
            configuration={"hnsw": {"space": "l2"}},
            embedding_function=None,
        )


def read_fps(baseline: Any, ids: Sequence[str]) -> dict[str, str]:
    """``{id: fingerprint}`` for the ``ids`` the baseline holds."""
    out: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        with chroma_errors("read", collection=str(baseline.name)):
            got = baseline.get(ids=list(ids[start : start + _CHUNK]), include=["metadatas"])
        for i, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            if meta and FP_KEY in meta:
                out[i] = str(meta[FP_KEY])
    return out


def write_fps(baseline: Any, fps: Mapping[str, str]) -> None:
    """Store ``{id: fingerprint}`` in the baseline."""
    if not fps:
        return
    ids = list(fps)
    with chroma_errors("write to", collection=str(baseline.name)):
        baseline.upsert(
            ids=ids,
            embeddings=[_point(fps[i]) for i in ids],
            metadatas=[{FP_KEY: fps[i]} for i in ids],
        )


def delete_records(collection: Any, ids: Iterable[str]) -> None:
    """Delete ``ids`` from ``collection`` (in chunks; ids it does not hold are ignored)."""
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        with chroma_errors("delete records of", collection=str(collection.name)):
            collection.delete(ids=ids[start : start + _CHUNK])


def delete_fps(baseline: Any, ids: Iterable[str]) -> None:
    """Forget ``ids`` in the baseline."""
    delete_records(baseline, ids)


def read_content(
    collection: Any, ids: Sequence[str], *, embeddings: bool = False
) -> dict[str, Content]:
    """``{id: (document, metadata, embedding)}`` for the ``ids`` ``collection`` holds."""
    include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
    out: dict[str, Content] = {}
    for start in range(0, len(ids), _CHUNK):
        with chroma_errors("read", collection=str(collection.name)):
            got = collection.get(ids=list(ids[start : start + _CHUNK]), include=include)
        docs = got.get("documents")
        metas = got.get("metadatas")
        embs = got.get("embeddings")
        for k, i in enumerate(got["ids"]):
            out[i] = (
                docs[k] if docs is not None else None,
                (metas[k] or None) if metas is not None else None,
                embs[k] if embeddings and embs is not None else None,
            )
    return out


def exact_metadatas(
    new: Sequence[Mapping[str, Any] | None], old: Sequence[Mapping[str, Any] | None]
) -> list[dict[str, Any] | None] | None:
    """Metadatas that make an upsert *replace* each record's metadata.

    Chroma merges an upserted metadata into the stored one; a key the stored record has and the
    new one lacks is sent as ``None``, which Chroma deletes.

    Args:
        new: The metadata each record should end with.
        old: The metadata each record holds now (``None`` for a new record).
    """
    out: list[dict[str, Any] | None] = []
    for want, have in zip(new, old, strict=True):
        merged = {k: None for k in (have or {}) if k not in (want or {})}
        merged.update(want or {})
        out.append(merged or None)
    if all(m is None for m in out):
        return None
    return out
