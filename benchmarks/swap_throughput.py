"""Swap throughput vs the bare model, and peak memory vs collection size.

Two measurements (a benchmark, not a test):

* ``throughput``: SciFact abstracts in an embedded Chroma collection; an adapter of the model
  first encodes them bare (``embed_documents`` in pages of ``--page-size``), then the collection
  is swapped to the model by its id (the swap builds and loads its own, inside the timing), as
  ``autoembed swap`` does by default (the original kept as a backup;
  ``--drop-old`` deletes it and the sync baseline inside the timing, as ``autoembed swap
  --drop-old`` does). The swap chooses its batch size by measured throughput on its first
  pages (``BatchTuner``); the bare encoder keeps the adapter's (``--bare-batch-size`` sets
  another, to compare at the swap's choice). Repeated ``--repeats`` times, interleaved; the
  median of the rounds' ratios is reported. Target: swap docs/s >= 0.9 x bare docs/s.
* ``memory``: for each size (5,000 and 20,000 by default: SciFact abstracts cycled, distinct ids)
  a fresh subprocess fills a collection, and another fresh subprocess swaps it and reports its
  peak RSS (``resource.getrusage(...).ru_maxrss``). Target: peak(20k) <= 1.1 x peak(5k) against
  a Chroma server.
  ``--client server`` runs the swap against ``chroma run`` so the figure is the swap process
  alone; ``embedded`` includes Chroma's in-process index, which grows with the collection.

Usage::

    python benchmarks/swap_throughput.py throughput --docs 1000
    python benchmarks/swap_throughput.py memory --sizes 5000 20000 --client embedded
    python benchmarks/swap_throughput.py memory --sizes 5000 20000 --client server
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SCIFACT = SHARED / "scifact" / "corpus.jsonl"
DEFAULT_MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"


def abstracts(n: int) -> tuple[list[str], list[str]]:
    """``n`` SciFact abstracts (cycled past 5,183) with distinct ids."""
    base = []
    with SCIFACT.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            base.append(f"{row['title']}. {row['text']}".strip())
    docs = [base[i % len(base)] for i in range(n)]
    return [f"d{i}" for i in range(n)], docs


def hash_adapter(dim: int = 384):
    """A fast stand-in model for the memory run: one seeded random vector per text."""
    import hashlib

    import numpy as np

    from autoembedding.adapters.base import BaseAdapter
    from autoembedding.adapters.fake import fake_spec

    class HashAdapter(BaseAdapter):
        def _encode(self, texts, *, is_query):
            out = np.empty((len(texts), dim), dtype=np.float32)
            for row, text in enumerate(texts):
                digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
                seed = int.from_bytes(digest, "little")
                out[row] = np.random.default_rng(seed).standard_normal(dim)
            return out

    return HashAdapter(fake_spec("hash", dim))


def fill(client, name: str, n: int, page: int = 1000) -> None:
    ids, docs = abstracts(n)
    old = hash_adapter(32)
    col = client.create_collection(
        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    for s in range(0, n, page):
        col.add(
            ids=ids[s : s + page],
            documents=docs[s : s + page],
            metadatas=[{"n": i} for i in range(s, min(n, s + page))],
            embeddings=old.embed_documents(docs[s : s + page]),
        )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def header() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu}, {os.cpu_count()} CPUs "
        f"(shared; timings are noisy), python {platform.python_version()}"
    )


# ------------------------------------------------------------------------------ throughput
def throughput(args: argparse.Namespace) -> None:
    import chromadb

    from autoembedding.adapters import get_adapter
    from autoembedding.swap import swap

    ids, docs = abstracts(args.docs)
    adapter = get_adapter(args.model)
    adapter.embed_documents(docs[:64])  # warm-up: load weights, first-call costs
    print(header())
    print(
        f"model {args.model}, {args.docs} SciFact abstracts, page size {args.page_size}, "
        f"{'--drop-old (backup deleted inside the timing)' if args.drop_old else 'backup kept'}"
    )
    bare_rates, swap_rates, copy_rates = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(path=tmp)
        for rep in range(args.repeats):
            own = adapter.batch_size
            adapter.batch_size = args.bare_batch_size or own
            start = time.perf_counter()
            for s in range(0, len(docs), args.page_size):
                adapter.embed_documents(docs[s : s + args.page_size])
            bare = len(docs) / (time.perf_counter() - start)
            adapter.batch_size = own
            name = f"bench{rep}"
            fill(client, name, args.docs)
            start = time.perf_counter()
            result = swap(
                name,
                args.model,  # built by the swap, as ``autoembed swap --model`` does
                client=client,
                page_size=args.page_size,
                verify_sample=args.verify_sample,
                progress=False,
                drop_old=args.drop_old,
            )
            total = len(docs) / (time.perf_counter() - start)
            for col in client.list_collections():  # untimed: each round starts on an empty
                client.delete_collection(col.name)  # database, as rounds left behind slow Chroma
            bare_rates.append(bare)
            swap_rates.append(total)
            copy_rates.append(result.docs_per_s)
            print(
                f"  run {rep}: bare {bare:.1f} docs/s | swap end-to-end {total:.1f} docs/s "
                f"(copy phase {result.docs_per_s:.1f}, batch size {result.batch_size or 'kept'}) "
                f"| ratio {total / bare:.3f}"
            )
    from statistics import median

    ratios = [t / b for t, b in zip(swap_rates, bare_rates, strict=True)]
    copies = [c / b for c, b in zip(copy_rates, bare_rates, strict=True)]
    print(
        f"median of {len(ratios)} rounds: bare {median(bare_rates):.1f} docs/s, swap "
        f"{median(swap_rates):.1f} docs/s end-to-end (incl. verify of {args.verify_sample} "
        f"vectors and switch), copy phase {median(copy_rates):.1f}"
    )
    print(
        f"ratio swap/bare, median of the rounds' ratios = {median(ratios):.3f} (target >= 0.9); "
        f"copy/bare = {median(copies):.3f}"
    )


# ------------------------------------------------------------------------------ memory
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory(args: argparse.Namespace) -> None:
    print(header())
    print(f"model {args.model}, page size {args.page_size}, client {args.client}")
    results = {}
    for n in args.sizes:
        tmp = tempfile.mkdtemp(prefix="swapmem")
        server = None
        where = ["--path", tmp]
        try:
            if args.client == "server":
                port = _free_port()
                chroma = str(Path(sys.executable).with_name("chroma"))
                server = subprocess.Popen(
                    [chroma, "run", "--path", tmp, "--host", "127.0.0.1", "--port", str(port)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                where = ["--port", str(port)]
            me = [sys.executable, __file__, "_child"]
            subprocess.run([*me, "fill", str(n), *where], check=True)
            out = subprocess.run(
                [
                    *me,
                    "swap",
                    str(n),
                    *where,
                    "--model",
                    args.model,
                    "--page-size",
                    str(args.page_size),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[n] = json.loads(out.strip().splitlines()[-1])
            print(
                f"  {n:>6} docs: peak RSS {results[n]['peak_mb']:.0f} MB "
                f"(before swap {results[n]['before_mb']:.0f} MB), "
                f"{results[n]['docs_per_s']:.0f} docs/s"
            )
        finally:
            if server is not None:
                server.kill()
                server.wait()
            shutil.rmtree(tmp, ignore_errors=True)
    small, large = min(results), max(results)
    ratio = results[large]["peak_mb"] / results[small]["peak_mb"]
    target = "target <= 1.1" if args.client == "server" else "reported only"
    print(f"peak({large}) / peak({small}) = {ratio:.3f} ({target})")


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what")
    parser.add_argument("n", type=int)
    parser.add_argument("--path")
    parser.add_argument("--port", type=int)
    parser.add_argument("--model", default="hash")
    parser.add_argument("--page-size", type=int, default=256)
    args = parser.parse_args(argv)
    import chromadb

    if args.port:
        client = None
        for _ in range(300):
            try:
                client = chromadb.HttpClient(host="127.0.0.1", port=args.port)
                client.heartbeat()
                break
            except Exception:  # noqa: BLE001 - server still starting
                time.sleep(0.2)
    else:
        client = chromadb.PersistentClient(path=args.path)
    if args.what == "fill":
        fill(client, "mem", args.n)
        return
    from autoembedding.adapters import get_adapter
    from autoembedding.swap import swap

    adapter = hash_adapter(384) if args.model == "hash" else get_adapter(args.model)
    adapter.embed_documents(["warm up"])
    before = peak_rss_mb()
    result = swap(
        "mem", adapter, client=client, page_size=args.page_size, progress=False, verify_sample=32
    )
    print(
        json.dumps({"peak_mb": peak_rss_mb(), "before_mb": before, "docs_per_s": result.docs_per_s})
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--docs", type=int, default=1000)
    t.add_argument("--model", default=DEFAULT_MODEL)
    t.add_argument("--page-size", type=int, default=256)
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--verify-sample", type=int, default=64)
    t.add_argument(
        "--bare-batch-size",
        type=int,
        default=None,
        help="batch size of the bare encoder (default: the adapter's own, 32)",
    )
    t.add_argument(
        "--drop-old",
        action="store_true",
        help="delete the backup and sync baseline inside the timing (autoembed swap --drop-old)",
    )
    m = sub.add_parser("memory")
    m.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    m.add_argument(
        "--model",
        default="hash",
        help="model id, or 'hash' (default): a fast 384-d seeded-random stand-in",
    )
    m.add_argument("--page-size", type=int, default=256)
    m.add_argument("--client", choices=["embedded", "server"], default="embedded")
    args = parser.parse_args()
    throughput(args) if args.what == "throughput" else memory(args)


if __name__ == "__main__":
    main()
