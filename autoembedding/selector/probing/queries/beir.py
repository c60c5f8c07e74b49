"""Labelled probe sets: the user's own ``(query, relevant ids)`` pairs, or BEIR files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from autoembedding.errors import CollectionError
from autoembedding.selector.probing.queries.probe_set import ProbeDoc, ProbeQuery, ProbeSet, dedupe

__all__ = ["labelled_probe_set", "load_beir"]


def labelled_probe_set(
    queries: Sequence[tuple[str, Iterable[str]]],
    pool: Sequence[ProbeDoc],
) -> ProbeSet:
    """Build a probe set from the user's own ``(query, relevant ids)`` pairs.

    Relevant ids that are not in ``pool`` are dropped; a query left with none is dropped.

    Args:
        queries: ``(query text, relevant document ids)`` pairs.
        pool: The documents to search (must contain the relevant ones).

    Returns:
        A ``"labelled"`` probe set.

    Raises:
        CollectionError: If no query has a relevant document in ``pool``.

    """
    pool_list = dedupe(pool)
    ids = {d.id for d in pool_list}
    out: list[ProbeQuery] = []
    for text, rel in queries:
        found = frozenset(str(r) for r in rel) & ids
        if text and text.strip() and found:
            out.append(ProbeQuery(text.strip(), found, "labelled"))
    if not out:
        raise CollectionError(
            f"None of the {len(queries)} labelled queries has a relevant id among the "
            f"{len(pool_list)} pool documents; check that the qrels' corpus ids match the "
            "collection's ids."
        )
    return ProbeSet(out, pool_list, "labelled")


def load_beir(queries_path: str | Path, qrels_path: str | Path) -> list[tuple[str, frozenset[str]]]:
    """Read BEIR-style ``queries.jsonl`` + ``qrels.tsv`` into ``(query, relevant ids)`` pairs.

    ``qrels.tsv`` has a header (``query-id corpus-id score``, tab-separated); rows with a score
    <= 0 are not relevant. Queries without a positive qrel are left out.

    Args:
        queries_path: JSON lines with ``_id`` and ``text``.
        qrels_path: Tab-separated query id, corpus id, score.

    Returns:
        Pairs in ``queries.jsonl`` order.

    Raises:
        CollectionError: If a file is missing or malformed (names the file and line).

    """
    queries_path, qrels_path = Path(queries_path), Path(qrels_path)
    for path in (queries_path, qrels_path):
        if not path.is_file():
            raise CollectionError(f"{path} does not exist; expected a BEIR queries/qrels file.")
    relevant = _read_qrels(qrels_path)
    out: list[tuple[str, frozenset[str]]] = []
    with queries_path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                qid, text = str(item["_id"]), str(item["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CollectionError(
                    f"{queries_path}:{number}: expected a JSON object with '_id' and "
                    f"'text' ({exc})."
                ) from exc
            if qid in relevant and text.strip():
                out.append((text, frozenset(relevant[qid])))
    return out


def _read_qrels(qrels_path: Path) -> dict[str, set[str]]:
    """Query id -> ids of the corpus documents with a positive score."""
    relevant: dict[str, set[str]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or not "".join(row).strip():
                continue
            if number == 1 and not _is_number(row[-1]):
                continue  # header
            if len(row) < 2:
                raise CollectionError(
                    f"{qrels_path}:{number}: expected 'query-id<TAB>corpus-id<TAB>score', "
                    f"got {row!r}."
                )
            score = row[2] if len(row) > 2 else "1"
            if not _is_number(score):
                raise CollectionError(f"{qrels_path}:{number}: score {score!r} is not a number.")
            if float(score) > 0:
                relevant.setdefault(row[0].strip(), set()).add(row[1].strip())
    return relevant


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
