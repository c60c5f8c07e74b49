"""Labelled probe sets: the user's own ``(query, relevant ids)`` pairs, or BEIR files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autoembedding.errors import CollectionError
from autoembedding.probe.queries.probe_set import ProbeDoc, ProbeQuery, ProbeSet, dedupe

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
        CollectionError: If a file is missing or malformed (names the file and line), a query
            id appears twice in the queries file, or no query has a relevant document; the
            last message says why (every score is 0, the qrels' query ids are not in the
            queries file, or its first two columns look swapped).

    """
    queries_path, qrels_path = Path(queries_path), Path(qrels_path)
    for path in (queries_path, qrels_path):
        if not path.is_file():
            raise CollectionError(f"{path} does not exist; expected a BEIR queries/qrels file.")
    qrels = _read_qrels(qrels_path)
    texts = _read_queries(queries_path)
    out = [
        (text, frozenset(qrels.relevant[qid]))
        for qid, text in texts.items()
        if qid in qrels.relevant and text.strip()
    ]
    if not out:
        raise CollectionError(_no_pairs_message(queries_path, qrels_path, texts, qrels))
    return out


def _read_queries(queries_path: Path) -> dict[str, str]:
    """Query id -> text, in file order; a repeated id is an error (which text is meant?)."""
    texts: dict[str, str] = {}
    lines: dict[str, int] = {}
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
            if qid in texts:
                raise CollectionError(
                    f"{queries_path}:{number}: query id {qid!r} appears twice (first on line "
                    f"{lines[qid]}); each query needs its own '_id', or its relevant documents "
                    "in the qrels would belong to both texts. Give one of them a new id."
                )
            texts[qid] = text
            lines[qid] = number
    return texts


@dataclass
class _Qrels:
    """What a qrels file holds: the positive pairs, and what the rest looked like."""

    #: Query id -> ids of the corpus documents with a positive score.
    relevant: dict[str, set[str]] = field(default_factory=dict)
    #: Rows read (the header excluded).
    rows: int = 0
    #: Ids seen in the query-id (first) and corpus-id (second) columns, any score.
    first_column: set[str] = field(default_factory=set)
    second_column: set[str] = field(default_factory=set)


def _read_qrels(qrels_path: Path) -> _Qrels:
    qrels = _Qrels()
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
            query_id, corpus_id = row[0].strip(), row[1].strip()
            qrels.rows += 1
            qrels.first_column.add(query_id)
            qrels.second_column.add(corpus_id)
            if float(score) > 0:
                qrels.relevant.setdefault(query_id, set()).add(corpus_id)
    return qrels


def _no_pairs_message(
    queries_path: Path, qrels_path: Path, texts: dict[str, str], qrels: _Qrels
) -> str:
    """Say why no query of ``queries_path`` has a relevant document in ``qrels_path``."""
    head = f"No query in {queries_path} has a relevant document in {qrels_path}"
    layout = "Each qrels row is 'query-id<TAB>corpus-id<TAB>score' (a header line is optional)."
    if not texts:
        return f"{head}: the queries file holds no queries. {layout}"
    if qrels.rows == 0:
        return f"{head}: the qrels file holds no rows. {layout}"
    if not qrels.relevant:
        return (
            f"{head}: all {qrels.rows} qrels rows score 0 or less, and only a score above 0 "
            f"marks a document relevant. {layout}"
        )
    ids = set(texts)
    matched = ids & set(qrels.relevant)
    if not matched and ids & qrels.second_column and not ids & qrels.first_column:
        return (
            f"{head}: its query ids are in the qrels' second column (corpus-id), not the first; "
            f"the columns look swapped. {layout}"
        )
    if not matched:
        examples = ", ".join(repr(i) for i in sorted(qrels.relevant)[:3])
        ours = ", ".join(repr(i) for i in list(texts)[:3])
        return (
            f"{head}: none of the {len(qrels.relevant)} query ids with a positive score in the "
            f"qrels (e.g. {examples}) is an '_id' in the queries file (e.g. {ours}). Use the "
            f"same ids in both files. {layout}"
        )
    return (
        f"{head}: the {len(matched)} queries that have relevant documents have empty texts. "
        f"{layout}"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
