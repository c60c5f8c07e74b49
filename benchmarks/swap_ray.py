"""Swap on Ray: docs/s with 1 and 2 workers against the single-machine swap, and driver memory.

Two measurements (a benchmark, not a test), both against a real ``chroma run`` on 127.0.0.1 and
a local Ray cluster started once (``ray.init(num_cpus=--cpus)``, not counted in the rates):

* ``throughput``: ``--docs`` SciFact abstracts (cycled, distinct ids) in three identical
  collections, swapped to ``--model`` (MiniLM-L3 ONNX) by the single-machine swap, then by
  ``engine="ray"`` with 1 and with 2 workers. Reported: the copy phase's docs/s (what the engine
  does; Ray's includes starting its actors and loading the model in each) and the end-to-end
  docs/s (with verify and switch, the same code for both engines). A warm-up encode loads the
  model first.
* ``memory``: for each of ``--sizes`` (20,000 and 100,000 by default) short documents, a fresh
  server is filled and a fresh driver process runs ``swap(..., engine="ray")`` with the fast
  fake model (``fake/new``) and reports its own peak RSS (``VmHWM`` in ``/proc/self/status``;
  not ``ru_maxrss``, which Linux carries over from the parent across fork and exec). Reading,
  encoding and writing happen in Ray tasks and actors; the driver receives only
  ``(page, rows)`` per page, so its peak must stay flat as the collection grows.

Usage::

    python benchmarks/swap_ray.py all     # both; results go to benchmarks/results/swap_ray.json
    python benchmarks/swap_ray.py throughput --docs 2000
    python benchmarks/swap_ray.py memory --sizes 20000 100000
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
if not SCIFACT.is_file():
    SCIFACT = ROOT / "tests" / "data" / "scifact" / "corpus.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "swap_ray.json"
DEFAULT_MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
WORDS = "apple river stone cloud maple violin harbor lantern copper meadow falcon glacier".split()


def header() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu}, {os.cpu_count()} CPUs "
        f"(shared with other jobs; timings are noisy), python {platform.python_version()}"
    )


def abstracts(n: int) -> list[str]:
    """``n`` SciFact abstracts, cycled."""
    base = []
    with SCIFACT.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            base.append(f"{row['title']}. {row['text']}".strip())
    return [base[i % len(base)] for i in range(n)]


def short_docs(n: int) -> list[str]:
    return [f"{WORDS[i % 12]} {WORDS[i * 7 % 12]} {WORDS[i * 5 % 11]} note {i}" for i in range(n)]


def fill(client: Any, name: str, docs: list[str], batch: int = 5000) -> None:
    from autoembedding.adapters.fake import FakeAdapter

    old = FakeAdapter("old", dim=8)
    col = client.create_collection(
        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    for s in range(0, len(docs), batch):
        part = docs[s : s + batch]
        col.add(
            ids=[f"d{i}" for i in range(s, s + len(part))],
            documents=part,
            metadatas=[{"n": i} for i in range(s, s + len(part))],
            embeddings=old.embed_documents(part),
        )


class Server:
    """A ``chroma run`` in a temporary folder."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="swapray")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        chroma = str(Path(sys.executable).with_name("chroma"))
        self.proc = subprocess.Popen(
            [chroma, "run", "--path", self.dir, "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import chromadb

        deadline = time.monotonic() + 60
        while True:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=self.port).heartbeat()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def client(self) -> Any:
        import chromadb

        return chromadb.HttpClient(host="127.0.0.1", port=self.port)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_ray(cpus: int) -> str:
    import ray

    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    return str(ray.get_runtime_context().gcs_address)


# ------------------------------------------------------------------------------ throughput
def throughput(args: argparse.Namespace) -> dict[str, Any]:
    from autoembedding.adapters import get_adapter
    from autoembedding.swap import swap

    docs = abstracts(args.docs)
    get_adapter(args.model).embed_documents(docs[:64])  # warm-up: weights on disk, caches
    print(f"throughput: {args.docs} SciFact abstracts, {args.model}, page {args.page_size}")
    server = Server()
    rows: list[dict[str, Any]] = []
    try:
        client = server.client()
        runs = [("single machine", "local", None), ("ray, 1 worker", "ray", 1)]
        runs.append(("ray, 2 workers", "ray", 2))
        for k in range(len(runs)):
            fill(client, f"bench{k}", docs)
        start_ray(args.cpus)
        for k, (label, engine, workers) in enumerate(runs):
            extra = {"engine": "ray", "workers": workers} if engine == "ray" else {}
            start = time.perf_counter()
            result = swap(
                f"bench{k}", args.model, client=client, page_size=args.page_size,
                progress=False, drop_old=True, **extra,
            )  # fmt: skip
            wall = time.perf_counter() - start
            row = {
                "engine": label,
                "docs": result.docs,
                "copy_docs_per_s": round(result.docs_per_s, 1),
                "end_to_end_docs_per_s": round(result.docs / wall, 1),
                "seconds": round(wall, 1),
            }
            rows.append(row)
            rates = f"copy {row['copy_docs_per_s']:>7} docs/s, end-to-end "
            print(f"  {label:<15} {rates}{row['end_to_end_docs_per_s']:>7} docs/s ({wall:.1f} s)")
    finally:
        import ray

        ray.shutdown()
        server.close()
    return {"when": header(), "model": args.model, "page_size": args.page_size, "rows": rows}


# ------------------------------------------------------------------------------ memory
def memory(args: argparse.Namespace) -> dict[str, Any]:
    print(f"memory: fake/new, page {args.page_size}, {args.workers} workers")
    address = start_ray(args.cpus)
    rows = []
    try:
        for n in args.sizes:
            server = Server()
            try:
                start = time.perf_counter()
                fill(server.client(), "docs", short_docs(n))
                filled = time.perf_counter() - start
                child = [sys.executable, __file__, "_driver", str(n), str(server.port), address]
                child += [str(args.page_size), str(args.workers)]
                out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
                row = json.loads(out.strip().splitlines()[-1])
                row["fill_seconds"] = round(filled, 1)
                rows.append(row)
                print(f"  {n:>7} docs: driver peak RSS {row['peak_mb']:.0f} MB (after imports "
                      f"{row['before_mb']:.0f} MB), copy {row['copy_docs_per_s']:.0f} docs/s, "
                      f"swap {row['seconds']:.0f} s")  # fmt: skip
            finally:
                server.close()
    finally:
        import ray

        ray.shutdown()
    return {
        "when": header(),
        "model": "fake/new",
        "page_size": args.page_size,
        "workers": args.workers,
        "rows": rows,
    }


def rss_mb(field: str = "VmHWM") -> float:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident memory, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # not Linux


def driver(n: int, port: int, address: str, page_size: int, workers: int) -> None:
    """The measured process: one Ray swap; prints its peak RSS as JSON."""
    import chromadb

    from autoembedding.swap import swap

    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    before = rss_mb()
    start = time.perf_counter()
    result = swap(
        "docs", "fake/new", client=client, page_size=page_size, progress=False,
        engine="ray", ray_address=address, workers=workers, drop_old=True,
    )  # fmt: skip
    row = {
        "docs": n,
        "before_mb": round(before, 1),
        "peak_mb": round(rss_mb(), 1),
        "copy_docs_per_s": round(result.docs_per_s, 1),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("throughput", "memory", "all"):
        p = sub.add_parser(name)
        p.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
        p.add_argument("--page-size", type=int, default=None)
        if name in ("throughput", "all"):
            p.add_argument("--docs", type=int, default=2000)
            p.add_argument("--model", default=DEFAULT_MODEL)
        if name in ("memory", "all"):
            p.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
            p.add_argument("--workers", type=int, default=2)
    child = sub.add_parser("_driver")
    for arg in ("n", "port", "address", "page_size", "workers"):
        child.add_argument(arg)
    args = parser.parse_args()
    if args.command == "_driver":
        driver(int(args.n), int(args.port), args.address, int(args.page_size), int(args.workers))
        return
    print(header())
    report: dict[str, Any] = {}
    if args.command in ("throughput", "all"):
        args.page_size = args.page_size or 128
        report["throughput"] = throughput(args)
    if args.command in ("memory", "all"):
        args.page_size = 256 if args.command == "all" else (args.page_size or 256)
        report["memory"] = memory(args)
    old = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.is_file() else {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**old, **report}, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
