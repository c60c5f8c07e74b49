"""Per-call overhead of the framework classes over the bare adapter (single ``embed_query``).

Run:
    python benchmarks/integration_overhead.py --calls 300            # real offline MiniLM
    python benchmarks/integration_overhead.py --model fake/x --calls 3000   # wrapper cost only

Four callables embed the same query text, interleaved round-robin (rotating the order each
round) in one process after a warm-up: the bare adapter's ``embed_query``, LangChain
``AutoEmbedding.embed_query``, LlamaIndex ``AutoEmbedding.get_query_embedding`` and Chroma
``AutoEmbeddingFunction.embed_query``. Reported: median ms per call and the median of the paired
per-round differences to the bare adapter (the overhead). The fake model has almost no compute,
so its numbers isolate the wrapper cost; the MiniLM numbers are what a user sees. Machine, date
and framework versions are printed with the table. On a shared/loaded machine the MiniLM
medians are noisy; the paired differences much less so.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone

os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUERIES = [
    "Vitamin D deficiency is associated with bone loss.",
    "Aspirin lowers the risk of a second heart attack.",
    "Smoking increases the risk of lung cancer.",
    "Exercise improves insulin sensitivity.",
]


def build(model: str) -> dict[str, Callable[[str], object]]:
    from autoembedding import get_adapter
    from autoembedding.integrations.chroma import AutoEmbeddingFunction
    from autoembedding.integrations.langchain import AutoEmbedding as LangChainEmbedding
    from autoembedding.integrations.llama_index import AutoEmbedding as LlamaEmbedding

    bare = get_adapter(model)
    lc = LangChainEmbedding(model=model)
    li = LlamaEmbedding(model=model)
    ch = AutoEmbeddingFunction(model)
    return {
        "bare adapter": bare.embed_query,
        "langchain": lc.embed_query,
        "llama_index": li.get_query_embedding,
        "chroma": lambda q: ch.embed_query([q]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--calls", type=int, default=300, help="calls per callable")
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    funcs = build(args.model)
    names = list(funcs)
    for name in names:
        for i in range(args.warmup):
            funcs[name](QUERIES[i % len(QUERIES)])
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.calls):
        order = names[r % len(names) :] + names[: r % len(names)]
        query = QUERIES[r % len(QUERIES)]
        for name in order:
            start = time.perf_counter()
            funcs[name](query)
            times[name].append((time.perf_counter() - start) * 1000.0)

    print(f"# integration overhead, model={args.model}, {args.calls} interleaved calls each")
    print(
        f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
        f"{os.cpu_count()} CPUs, python {platform.python_version()}"
    )
    versions = ", ".join(
        f"{p} {md.version(p)}"
        for p in (
            "langchain-core",
            "llama-index-core",
            "chromadb",
            "sentence-transformers",
            "torch",
        )
    )
    print(f"# {versions}")
    base = times["bare adapter"]
    print(f"{'class':<14}{'median ms':>11}{'p95 ms':>9}{'overhead ms (paired median)':>30}")
    for name in names:
        values = sorted(times[name])
        p95 = values[int(0.95 * (len(values) - 1))]
        diff = statistics.median(a - b for a, b in zip(times[name], base, strict=True))
        print(f"{name:<14}{statistics.median(values):>11.3f}{p95:>9.3f}{diff:>30.3f}")


if __name__ == "__main__":
    main()
