"""``autoembed demo``: the main job end to end on the bundled corpus, offline.

1. Load the 60 bundled passages into an embedded Chroma collection with the offline default model
   (the model is recorded in the collection's metadata).
2. Probe the candidate models that load offline on that collection (label-free queries) and show
   the report (``--report DIR`` also writes a page with a Pareto chart).
3. Swap the collection to the winner, dense, BM25 or hybrid (resumable, the original kept as a
   backup; the summary names the backup and the undo command).
4. Answer the bundled questions as the collection's record says (``AutoRetriever``'s search),
   and check the answers. ``--path DIR`` keeps the database for a look afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from autoembedding.adapters import get_adapter
from autoembedding.arguments import output_dir
from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.client import connect, connection_flags, open_collection
from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.records import read_record, write_record
from autoembedding.cli._args import positive
from autoembedding.data import demo_corpus, demo_queries
from autoembedding.errors import InvalidArgumentError, UnknownModelError
from autoembedding.retrieval.search import Searcher

__all__ = ["add_parser", "run"]

COLLECTION = "autoembed-demo"


def add_parser(subparsers: Any) -> None:
    """Register ``autoembed demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run probe -> swap -> query on a bundled corpus, offline",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--path", help="keep the Chroma data here (default: a temporary folder)")
    parser.add_argument("--model", default=OFFLINE_DEFAULT, help="model that loads the corpus")
    parser.add_argument("--candidates", help="comma-separated candidates (default: all offline)")
    parser.add_argument(
        "--budget-s", type=positive, default=90.0, help="probe time budget, seconds (> 0)"
    )
    parser.add_argument("--report", help="also write the probe report (Markdown + PNG) here")
    parser.add_argument("--no-probe", action="store_true", help="skip probing and swapping")
    parser.set_defaults(run=run)


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns 0 when every bundled question found its passage in the top 3."""
    from autoembedding.cli.probe import check_candidate_labels

    if args.report is not None:
        output_dir(args.report, "--report")
    if args.path is not None and Path(args.path).exists() and not Path(args.path).is_dir():
        raise InvalidArgumentError(
            f"--path: {args.path} is a file; give a folder for the demo's Chroma data.",
            argument="--path",
        )
    labels = check_candidate_labels(args.candidates) if args.candidates is not None else None
    try:
        adapter = get_adapter(args.model)  # an unknown --model fails here, with close names
    except UnknownModelError as exc:
        raise InvalidArgumentError(f"--model: {exc}", argument="--model") from None
    owned = args.path is None
    path = Path(args.path or tempfile.mkdtemp(prefix="autoembed-demo-"))
    try:
        client = connect(path)
        corpus = demo_corpus()
        _step(f"1. Load {len(corpus)} passages into Chroma at {path} with {args.model}")
        start = time.perf_counter()
        vectors = adapter.embed_documents([doc["text"] for doc in corpus])
        with chroma_errors("load", collection=COLLECTION, where=str(path)):
            if COLLECTION in [c.name for c in client.list_collections()]:
                client.delete_collection(COLLECTION)
            collection = client.create_collection(
                COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
            collection.add(
                ids=[doc["id"] for doc in corpus],
                documents=[doc["text"] for doc in corpus],
                metadatas=[{"title": doc["title"]} for doc in corpus],
                embeddings=vectors,
            )
        write_record(collection, adapter.record())
        print(
            f"   embedded and stored {collection.count()} passages in "
            f"{time.perf_counter() - start:.1f} s; recorded model: {adapter.record().describe()}"
        )

        if not args.no_probe:
            from autoembedding.candidates import Candidate
            from autoembedding.probe.report import format_table, swap_command, write_report
            from autoembedding.selector import probe, swap

            _step("2. Probe the candidates on this collection (label-free queries)")
            candidates = [Candidate.parse(c) for c in labels] if labels else None
            # BM25 and hybrids compete too: step 4 serves whatever the record says.
            report = probe(collection, candidates=candidates, budget_s=args.budget_s, progress=True)
            print(format_table(report))
            if args.report:
                page = write_report(report, Path(args.report))
                print(f"   report written to {page}")
            winner = report.winner
            if winner is not None and winner.candidate.label != adapter.name:
                command = swap_command(report, connection_flags(client))
                _step(f"3. Swap the collection to {winner.candidate.label} ({command})")
                result = swap(collection, winner, client=client, progress=True)
                print(f"   {result.summary()}")
                collection = open_collection(client, COLLECTION, embedding_function=None)
            else:
                _step("3. No swap needed: the collection already uses the winner")

        record = read_record(collection)
        assert record is not None  # written in step 1 or by swap
        _step(f"4. Answer questions with the recorded model {record.describe()}")
        searcher = Searcher(collection, client=client)  # dense, BM25 or hybrid: the record's
        titles = {doc["id"]: doc["title"] for doc in corpus}
        found = 0
        for question, relevant in demo_queries():
            hits = [hit.id for hit in searcher.search(question, 3)]
            ok = bool(set(hits) & set(relevant))
            found += ok
            top = titles[hits[0]] if hits else "(nothing found)"
            print(f"   [{'ok' if ok else '--'}] {question}\n        -> {top}")
        total = len(demo_queries())
        print(f"\n{found}/{total} questions found their passage in the top 3.")
        if not owned:
            flags = connection_flags(client)
            print(
                f"The database is kept at {path}: autoembed swap --status {flags} --collection "
                f"{COLLECTION} tells what it serves; autoembed probe {flags} --collection "
                f"{COLLECTION} probes it again."
            )
        return 0 if found == total else 1
    finally:
        if owned:
            shutil.rmtree(path, ignore_errors=True)
