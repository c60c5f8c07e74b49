"""Time and peak memory of a zero-config first ``add_texts`` (auto-selection inside it).

Run:
    python benchmarks/zero_config_memory.py                      # 200 SciFact abstracts, both
    python benchmarks/zero_config_memory.py --modes auto --via langchain_chroma --docs 200

Each run is a fresh Python process in an empty working directory (so no saved choice is
reused) with a new on-disk Chroma database. It does what a user following the README does:

* ``chroma_store``: ``store = chroma_store("scifact", persist_directory=db)`` then
  ``store.add_texts(abstracts)``;
* ``langchain_chroma``: ``Chroma("scifact", embedding_function=AutoEmbedding(),
  persist_directory=db).add_texts(abstracts)``.

Modes: ``auto`` (zero config: the probe picks the model inside ``add_texts``, within the
default ``probe_budget_s`` of 120 s) and ``pinned`` (``$AUTOEMBEDDING_MODEL`` set to the
offline default: no probe; the baseline cost of loading one model and embedding). Reported per
run: wall seconds of the import, of the construction and of the first ``add_texts``, the
probe's own seconds, the model chosen, and the peak RSS of the process (``ru_maxrss`` of the
child, read by the parent with ``RUSAGE_CHILDREN`` after it exits, and by the child itself;
``psutil`` is used too when installed). The abstracts come from the bundled
``tests/data/scifact/corpus.jsonl`` (title + text). Offline: ``HF_HUB_OFFLINE=1``.
On a shared or loaded machine the times are noisy (say so with the numbers); peak RSS is not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "scifact" / "corpus.jsonl"

_CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
texts = json.loads(sys.stdin.read())
via = os.environ["ZC_VIA"]
if via == "chroma_store":
    from autoembedding.integrations.langchain import chroma_store
else:
    from langchain_chroma import Chroma
    from autoembedding.integrations.langchain import AutoEmbedding
t1 = time.perf_counter()
if via == "chroma_store":
    store = chroma_store("scifact", persist_directory=os.environ["ZC_DB"])
    emb = store.embeddings
else:
    emb = AutoEmbedding()
    store = Chroma("scifact", embedding_function=emb, persist_directory=os.environ["ZC_DB"])
t2 = time.perf_counter()
store.add_texts(texts)
t3 = time.perf_counter()
report = emb._resolver.report
out = {
    "import_s": t1 - t0, "construct_s": t2 - t1, "add_texts_s": t3 - t2,
    "probe_s": getattr(report, "seconds", None),
    "model": emb.adapter.name, "source": emb.choice.source,
    "self_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}
try:
    import psutil
    out["psutil_rss_now_mb"] = psutil.Process().memory_info().rss / 2**20
except ImportError:
    pass
print("RESULT " + json.dumps(out))
"""


def load_abstracts(n: int) -> list[str]:
    """The first ``n`` SciFact abstracts (title and text)."""
    texts = []
    with CORPUS.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts.append(f"{row.get('title', '')}\n{row['text']}".strip())
            if len(texts) == n:
                break
    return texts


def run_once(texts: list[str], mode: str, via: str, timeout_s: float) -> dict:
    """One fresh process: construct, first ``add_texts``; its timings and peak RSS."""
    with tempfile.TemporaryDirectory(prefix="zero-config-") as work:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOEMBEDDING_")}
        env.update(HF_HUB_OFFLINE="1", ZC_VIA=via, ZC_DB=str(Path(work) / "db"))
        # saved choices live in the user cache (issue 24.6): a fresh folder, so none is reused
        env["AUTOEMBEDDING_CHOICE_DIR"] = str(Path(work) / "choices")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        if mode == "pinned":
            from autoembedding.catalog import OFFLINE_DEFAULT

            env["AUTOEMBEDDING_MODEL"] = OFFLINE_DEFAULT
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            cwd=work,
            env=env,
            timeout=timeout_s,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{mode}/{via} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    # RUSAGE_CHILDREN holds the largest child so far: exact for the first run, a floor later.
    result["children_maxrss_mb"] = max(after, before) / 1024 if after > before else None
    result.update(mode=mode, via=via, docs=len(texts))
    return result


def main() -> None:
    """Run the requested modes and print one line per run plus a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--modes", nargs="+", default=["auto", "pinned"])
    parser.add_argument(
        "--via", choices=["chroma_store", "langchain_chroma"], default="chroma_store"
    )
    parser.add_argument("--timeout-s", type=float, default=900.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    texts = load_abstracts(args.docs)
    print(
        f"# zero-config first add_texts: {len(texts)} SciFact abstracts via {args.via}; "
        f"{platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    results = []
    for mode in args.modes:
        r = run_once(texts, mode, args.via, args.timeout_s)
        results.append(r)
        probe = f"{r['probe_s']:.1f}" if r["probe_s"] is not None else "-"
        print(
            f"{mode:7s} add_texts {r['add_texts_s']:7.1f} s (probe {probe} s, construct "
            f"{r['construct_s']:.2f} s, import {r['import_s']:.1f} s)  peak RSS "
            f"{r['self_maxrss_mb']:7.0f} MB  model {r['model']} ({r['source']})"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
