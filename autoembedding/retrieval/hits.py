"""Small pieces the searcher shares: a hit, the client behind a collection, distance to score."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autoembedding.errors import CollectionError
from autoembedding.retrieval.binding import FollowingCollection

__all__ = ["Hit", "client_of", "raw_collection", "similarity"]


@dataclass(frozen=True)
class Hit:
    """One retrieved record: its Chroma id, score (higher is better), document and metadata."""

    id: str
    score: float
    document: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


def client_of(collection: Any) -> Any:
    """The chromadb client a collection handle came from (rebuilt from its system if needed).

    Raises:
        CollectionError: If ``collection`` is not a chromadb collection.
    """
    if isinstance(collection, FollowingCollection):
        return collection.binding.client
    server = getattr(collection, "_client", None)
    system = getattr(server, "_system", None)
    if system is None:
        raise CollectionError(
            f"Cannot tell which Chroma client {collection!r} belongs to; pass client= too."
        )
    from chromadb.api.client import Client

    return Client.from_system(system, tenant=collection.tenant, database=collection.database)


def raw_collection(collection: Any) -> Any:
    """The chromadb collection behind a wrapper (a guarded or following collection)."""
    if isinstance(collection, FollowingCollection):
        return collection.binding.collection
    inner = getattr(collection, "collection", None)
    return inner if inner is not None and hasattr(inner, "id") else collection


def similarity(collection: Any) -> Callable[[float], float]:
    """Distance -> similarity for the collection's space (cosine and ip: ``1 - d``; l2: ``-d``).

    The space is read from the raw configuration JSON (``collection.configuration`` would
    rebuild the embedding function), then the ``hnsw:space`` metadata; Chroma's default is l2.
    """
    raw = getattr(collection, "configuration_json", None)
    conf = raw if isinstance(raw, dict) else {}
    name = None
    for part in ("hnsw", "spann"):
        section = conf.get(part)
        if isinstance(section, dict) and section.get("space"):
            name = section["space"]
            break
    if name is None:
        name = (getattr(collection, "metadata", None) or {}).get("hnsw:space", "l2")
    if name in ("cosine", "ip"):
        return lambda d: 1.0 - d
    return lambda d: -d
