"""A saved BM25 index's manifest, and the content fingerprint that ties it to its documents.

The fingerprint is order-independent and additive: the fingerprint of a collection read in
pages is :func:`combine_fingerprints` of its pages' fingerprints, and adding documents to an
index combines theirs into its own, so a stale index is detected without re-reading it.

Example:
    >>> a = content_fingerprint(["1", "2"], ["one", "two"])
    >>> a == content_fingerprint(["2", "1"], ["two", "one"])
    True
    >>> a == combine_fingerprints(
    ...     content_fingerprint(["1"], ["one"]), content_fingerprint(["2"], ["two"]))
    True

"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FORMAT_VERSION",
    "IndexManifest",
    "combine_fingerprints",
    "content_fingerprint",
]

#: Version of the on-disk layout written by :meth:`BM25Index.save`; bumped on any change.
FORMAT_VERSION = 1

_MOD = 1 << 128


def content_fingerprint(ids: Sequence[str], texts: Sequence[str | None]) -> str:
    """Order-independent fingerprint of ``(id, text)`` pairs (``None`` text counts as ``""``).

    It is the sum modulo 2**128 of each pair's 128-bit BLAKE2b digest, so it can be computed
    page by page and combined with :func:`combine_fingerprints`.

    Args:
        ids: Document ids.
        texts: Their texts, same order.

    Returns:
        32 hexadecimal characters.

    Raises:
        ValueError: If ``ids`` and ``texts`` differ in length.

    """
    if len(ids) != len(texts):
        raise ValueError(f"got {len(ids)} ids but {len(texts)} texts.")
    total = 0
    for doc_id, text in zip(ids, texts, strict=True):
        digest = hashlib.blake2b(digest_size=16)
        digest.update(doc_id.encode("utf-8"))
        digest.update(b"\x00")
        digest.update((text or "").encode("utf-8"))
        total += int.from_bytes(digest.digest(), "big")
    return f"{total % _MOD:032x}"


def combine_fingerprints(*fingerprints: str) -> str:
    """The fingerprint of the union of disjoint document sets, from theirs.

    Args:
        *fingerprints: Fingerprints from :func:`content_fingerprint`.

    Returns:
        The combined fingerprint.

    """
    return f"{sum(int(fp, 16) for fp in fingerprints) % _MOD:032x}"


@dataclass(frozen=True)
class IndexManifest:
    """The ``manifest.json`` of a saved BM25 index.

    Attributes:
        format_version: :data:`FORMAT_VERSION` of the writer.
        tokenizer: The tokenizer's spec (``Tokenizer(spec)`` rebuilds it).
        count: Number of documents indexed.
        fingerprint: :func:`content_fingerprint` of the indexed ids and texts.
        built_at: When the index was last built, ISO 8601 in UTC.
        build_seconds: Wall time of that build (tokenizing and indexing).
        index_bytes: In-memory size of the BM25 score matrix (data, indices, indptr).
        disk_bytes: Size of the saved files.
        files: File name -> size in bytes, checked on load to catch truncated files.
        bm25: BM25 parameters and the bm25s version (``k1``, ``b``, ``method``, ``bm25s``).

    """

    format_version: int
    tokenizer: str
    count: int
    fingerprint: str
    built_at: str
    build_seconds: float
    index_bytes: int
    disk_bytes: int = 0
    files: dict[str, int] = dataclasses.field(default_factory=dict)
    bm25: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        """The manifest as indented JSON."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IndexManifest:
        """Parse a manifest written by :meth:`to_json`.

        Raises:
            ValueError: If ``text`` is not JSON or its fields are missing or of the wrong type.

        """
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the manifest is not a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            manifest = cls(**{key: value for key, value in data.items() if key in names})
        except TypeError as exc:
            raise ValueError(f"the manifest lacks a field ({exc})") from exc
        if not isinstance(manifest.count, int) or not isinstance(manifest.tokenizer, str):
            raise ValueError("the manifest's count or tokenizer has the wrong type")
        return manifest
