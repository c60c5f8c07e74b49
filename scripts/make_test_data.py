"""Cut the small data sets bundled in ``tests/data`` from the shared ones in ``../shared/data``.

The tests must run from a bare clone, so they carry small real subsets in the same BEIR layout
(``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``) as the shared sets the benchmarks use. The cut
is deterministic (no randomness, original order, lines copied byte for byte), so rerunning this
script reproduces ``tests/data`` exactly:

* ``scifact``: the first ``SCIFACT_FIRST`` abstracts of the corpus plus every abstract judged
  for the first ``SCIFACT_CLAIMS`` claims (ordered by numeric id), kept in corpus order; the
  claims kept are those whose judged abstracts are all in the subset (the first
  ``SCIFACT_CLAIMS`` claims always are), with their ``qrels.tsv`` and ``evidence_labels.tsv`` rows.
* ``cmrc2018-zh``: the first ``CMRC_PARAGRAPHS`` paragraphs (corpus order) that have questions,
  with all their questions and qrels rows.

Usage:
    python scripts/make_test_data.py [--shared ../shared/data] [--out tests/data]
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIFACT_FIRST = 292  # + the 8 judged abstracts of the first 10 claims not among them = 300
SCIFACT_CLAIMS = 10
CMRC_PARAGRAPHS = 100

NOTE = """
## This folder: a subset bundled with the tests

A subset of the `{name}` set described above, cut by `scripts/make_test_data.py`
(deterministic: rerun it with `../shared/data` beside the project to reproduce these files byte
for byte). Same layout and licence ({licence}) as the full set; lines are copied unchanged. Used
by the project's tests only; it is not part of the installable package.

{how}

Counts: {counts}.
"""


def _lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [line for line in handle if line.strip()]


def _tsv(path: Path) -> tuple[str, list[str]]:
    lines = _lines(path)
    return lines[0], lines[1:]


def _row_ids(row: str) -> tuple[str, str]:
    fields = row.rstrip("\r\n").split("\t")
    return fields[0], fields[1]


def _write(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)


def _source_note(src: Path, dst: Path, *, name: str, how: str, licence: str, counts: str) -> None:
    text = (src / "SOURCE.md").read_text(encoding="utf-8").rstrip("\n") + "\n"
    text += NOTE.format(name=name, how=textwrap.fill(how, 100), licence=licence, counts=counts)
    (dst / "SOURCE.md").write_text(text, encoding="utf-8")


def cut_scifact(src: Path, dst: Path) -> dict[str, int]:
    """Write the SciFact subset; return its counts."""
    corpus = _lines(src / "corpus.jsonl")
    corpus_ids = [json.loads(line)["_id"] for line in corpus]
    header, qrel_rows = _tsv(src / "qrels.tsv")
    judged: dict[str, set[str]] = {}
    for row in qrel_rows:
        query_id, corpus_id = _row_ids(row)
        judged.setdefault(query_id, set()).add(corpus_id)
    first_claims = sorted(judged, key=int)[:SCIFACT_CLAIMS]
    keep_docs = set(corpus_ids[:SCIFACT_FIRST]).union(*(judged[q] for q in first_claims))
    keep_claims = {q for q, ids in judged.items() if ids <= keep_docs}
    assert set(first_claims) <= keep_claims
    dst.mkdir(parents=True, exist_ok=True)
    kept = [line for line, i in zip(corpus, corpus_ids, strict=True) if i in keep_docs]
    _write(dst / "corpus.jsonl", kept)
    queries = [q for q in _lines(src / "queries.jsonl") if json.loads(q)["_id"] in keep_claims]
    _write(dst / "queries.jsonl", queries)
    _write(dst / "qrels.tsv", [header] + [r for r in qrel_rows if _row_ids(r)[0] in keep_claims])
    ev_header, ev_rows = _tsv(src / "evidence_labels.tsv")
    evidence = [r for r in ev_rows if _row_ids(r)[0] in keep_claims]
    _write(dst / "evidence_labels.tsv", [ev_header, *evidence])
    counts = {"abstracts": len(keep_docs), "claims": len(queries), "evidence rows": len(evidence)}
    how = (
        f"The first {SCIFACT_FIRST} abstracts of `corpus.jsonl` plus every abstract judged for the "
        f"first {SCIFACT_CLAIMS} claims (by numeric id), in corpus order; the claims whose judged "
        "abstracts are all in the subset, with their `qrels.tsv` and `evidence_labels.tsv` rows."
    )
    _source_note(
        src,
        dst,
        name="SciFact",
        how=how,
        licence="CC BY-NC 2.0",
        counts=", ".join(f"{n} {k}" for k, n in counts.items()),
    )
    return counts


def cut_cmrc(src: Path, dst: Path) -> dict[str, int]:
    """Write the CMRC 2018 subset; return its counts."""
    header, qrel_rows = _tsv(src / "qrels.tsv")
    asked = {_row_ids(row)[1] for row in qrel_rows}
    paragraphs = [p for p in _lines(src / "corpus.jsonl") if json.loads(p)["_id"] in asked]
    paragraphs = paragraphs[:CMRC_PARAGRAPHS]
    keep_docs = {json.loads(p)["_id"] for p in paragraphs}
    rows = [r for r in qrel_rows if _row_ids(r)[1] in keep_docs]
    keep_queries = {_row_ids(r)[0] for r in rows}
    queries = [q for q in _lines(src / "queries.jsonl") if json.loads(q)["_id"] in keep_queries]
    dst.mkdir(parents=True, exist_ok=True)
    _write(dst / "corpus.jsonl", paragraphs)
    _write(dst / "queries.jsonl", queries)
    _write(dst / "qrels.tsv", [header, *rows])
    counts = {"paragraphs": len(paragraphs), "questions": len(queries)}
    how = (
        f"The first {CMRC_PARAGRAPHS} paragraphs of `corpus.jsonl` that have questions, with all "
        "their questions and `qrels.tsv` rows."
    )
    _source_note(
        src,
        dst,
        name="CMRC 2018",
        how=how,
        licence="CC BY-SA 4.0",
        counts=", ".join(f"{n} {k}" for k, n in counts.items()),
    )
    return counts


def main(argv: list[str] | None = None) -> int:
    """Cut both subsets and print their counts and sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data")
    args = parser.parse_args(argv)
    for name, cut in (("scifact", cut_scifact), ("cmrc2018-zh", cut_cmrc)):
        counts = cut(args.shared / name, args.out / name)
        size = sum(f.stat().st_size for f in (args.out / name).iterdir())
        print(f"{name}: {counts}, {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
