"""What the query builders make: documents, queries and the probe set of both."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ProbeDoc", "ProbeQuery", "ProbeSet", "dedupe"]


@dataclass(frozen=True)
class ProbeDoc:
    """A document of the search pool.

    Attributes:
        id: Document id (unique in the pool).
        text: The text that gets embedded.
        metadata: Its metadata (a ``title`` there gives a title query), or ``None``.

    """

    id: str
    text: str
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProbeQuery:
    """One probe query and the ids of the pool documents that answer it.

    Attributes:
        text: The query text.
        relevant: Ids of the relevant documents.
        kind: ``"labelled"`` or the name of the label-free kind that made it (``"ict"``,
            ``"title"``, ``"keyphrase"``, ``"llm"``).

    """

    text: str
    relevant: frozenset[str]
    kind: str


@dataclass
class ProbeSet:
    """Queries plus the pool to search, exactly as it must be embedded.

    Attributes:
        queries: The probe queries.
        pool: The documents to embed and search; for ICT the cut sentence is removed from its
            document here.
        kind: ``"labelled"`` or ``"label-free"``.
        kinds: Number of queries of each kind (counted from ``queries`` when not given).

    """

    queries: list[ProbeQuery]
    pool: list[ProbeDoc]
    kind: str
    kinds: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.kinds:
            self.kinds = dict(Counter(q.kind for q in self.queries))

    @property
    def doc_ids(self) -> list[str]:
        """Pool ids, in pool order (the columns of a score matrix)."""
        return [d.id for d in self.pool]

    @property
    def texts(self) -> list[str]:
        """Pool texts, in pool order."""
        return [d.text for d in self.pool]


def dedupe(docs: Iterable[ProbeDoc]) -> list[ProbeDoc]:
    """Drop repeated ids and repeated (whitespace-normalised) texts, keep the first.

    Args:
        docs: Documents, in order.

    Returns:
        The first document of each id and of each text, in order.

    """
    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    out: list[ProbeDoc] = []
    for doc in docs:
        key = " ".join((doc.text or "").split())
        if doc.id in seen_ids or key in seen_texts:
            continue
        seen_ids.add(doc.id)
        seen_texts.add(key)
        out.append(doc)
    return out
