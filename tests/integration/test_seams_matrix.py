"""Issue 11, "Done when" bullet 3: the end-to-end matrix of integrations x Chroma locations.

A collection is created through one of the three integrations (LangChain ``chroma_store``,
LlamaIndex ``chroma_vector_store``, Chroma-only ``get_or_create_collection``), on an embedded
``PersistentClient`` or a real ``chroma run`` server, with real offline models on 60 bundled
SciFact abstracts. It is probed (two offline models other than the one it was made with, dense
only), moved to the probe's pick with ``autoembed swap --model <winner>``, then a fresh process
reopens it and queries it through *each* of the three integrations (and Chroma's own
``client.get_collection(name)``): every route must embed queries with the picked model and find
exactly what that model finds by brute force (the known relevant abstract in the top 3 for the same
claims), and every route must refuse to add with the old model (``ModelMismatchError``), leaving
the collection unchanged.

The LangChain/embedded and Chroma-only/server cases run by default; the other four are marked
``slow`` (``--run-slow``) to keep the default run near a minute on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scifact_subset import scifact_subset

from autoembedding.adapters import get_adapter
from autoembedding.cli import main

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::autoembedding.errors.TruncationWarning"),
]

OLD = "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"
#: The probe's candidates; neither is OLD, so the swap always moves the collection to the pick.
PICKS = (
    "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
    "sentence-transformers/all-MiniLM-L6-v2",
)
N_DOCS, N_CLAIMS, K, MAX_CHARS = 60, 10, 3, 300
NAME = "scifact"

#: The fresh process: reopens the collection through every integration, queries, tries the guard.
FRESH = textwrap.dedent(
    """
    import json, sys
    import chromadb
    from autoembedding.errors import ModelMismatchError

    where, name, old, data = sys.argv[1], sys.argv[2], sys.argv[3], json.load(open(sys.argv[4]))
    claims, k = data["claims"], data["k"]
    if where.startswith("http://"):
        host, port = where[len("http://"):].split(":")
        client = chromadb.HttpClient(host=host, port=int(port))
    else:
        client = chromadb.PersistentClient(path=where)
    out = {"found": {}, "model": {}, "refused": {}}

    def refused(attempt):
        try:
            attempt()
        except ModelMismatchError:
            return "ModelMismatchError"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    # LangChain: the README's store, zero-config (the collection's record decides).
    from autoembedding.integrations.langchain import chroma_store
    store = chroma_store(name, client=client)
    out["model"]["langchain"] = store.embeddings.adapter.model_id
    out["found"]["langchain"] = [
        [doc.id for doc in store.similarity_search(claim, k=k)] for claim in claims
    ]
    out["refused"]["langchain"] = refused(
        lambda: chroma_store(name, client=client, model=old).add_texts(["late"], ids=["late-lc"])
    )

    # LlamaIndex: the README's vector store and embedding, zero-config.
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import TextNode
    from autoembedding.integrations.llama_index import chroma_vector_store
    vector_store, embed_model = chroma_vector_store(name, client=client)
    index = VectorStoreIndex.from_vector_store(vector_store, embed_model=embed_model)
    retriever = index.as_retriever(similarity_top_k=k)
    out["model"]["llama_index"] = embed_model.adapter.model_id
    out["found"]["llama_index"] = [
        [hit.node.node_id for hit in retriever.retrieve(claim)] for claim in claims
    ]

    def add_llama_index():
        vs, em = chroma_vector_store(name, client=client, model=old)
        node = TextNode(id_="late-li", text="late")
        node.embedding = em.get_text_embedding("late")
        vs.add([node])
    out["refused"]["llama_index"] = refused(add_llama_index)

    # Chroma only: the package's helper, and Chroma's own get_collection (persisted function).
    from autoembedding.integrations.chroma import (
        AutoEmbeddingFunction, GuardedCollection, get_collection, get_or_create_collection,
    )
    guarded = get_collection(client, name)
    out["model"]["chroma"] = guarded.function.adapter.model_id
    out["found"]["chroma"] = [
        guarded.query(query_texts=[claim], n_results=k)["ids"][0] for claim in claims
    ]
    plain = client.get_collection(name)
    out["found"]["chroma_plain"] = [
        plain.query(query_texts=[claim], n_results=k)["ids"][0] for claim in claims
    ]
    out["refused"]["chroma"] = refused(
        lambda: get_or_create_collection(client, name, model=old).add(
            ids=["late-c"], documents=["late"]
        )
    )
    out["refused"]["chroma_guarded"] = refused(
        lambda: GuardedCollection(plain, AutoEmbeddingFunction(old)).add(
            ids=["late-g"], documents=["late"]
        )
    )
    out["count"] = client.get_collection(name, embedding_function=None).count()
    print(json.dumps(out), flush=True)
    """
)


# ------------------------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def corpus(test_data: Path) -> tuple[list[tuple[str, str]], list[tuple[str, list[str]]]]:
    """(docs [(id, text)], claims [(text, judged ids)]): 60 abstracts, 10 claims."""
    rows, claims = scifact_subset(test_data, n_docs=N_DOCS, n_claims=N_CLAIMS, max_chars=MAX_CHARS)
    docs = [(doc_id, f"{title}. {text}") for doc_id, title, text in rows]
    return docs, [(claim, sorted(ids)) for claim, ids in claims]


_REFERENCE: dict[str, list[list[str]]] = {}


def reference(model_id: str, corpus: Any) -> list[list[str]]:
    """The top K ids of each claim under ``model_id``, by brute-force cosine (what it serves)."""
    if model_id in _REFERENCE:
        return _REFERENCE[model_id]
    docs, claims = corpus
    model = get_adapter(model_id)
    doc_vecs = model.embed_documents([text for _, text in docs])
    ids = [doc_id for doc_id, _ in docs]
    tops = []
    for claim, _ in claims:
        scores = doc_vecs @ model.embed_query(claim)
        tops.append([ids[j] for j in np.argsort(-scores)[:K]])
    _REFERENCE[model_id] = tops
    return tops


# ------------------------------------------------------------------------------------ steps
def create(integration: str, client: Any, docs: list[tuple[str, str]]) -> None:
    """Create collection NAME through ``integration`` with OLD (as its README section shows)."""
    ids, texts = [list(x) for x in zip(*docs, strict=True)]
    if integration == "langchain":
        from autoembedding.integrations.langchain import chroma_store

        chroma_store(NAME, client=client, model=OLD).add_texts(texts, ids=ids)
    elif integration == "llama_index":
        from llama_index.core import StorageContext, VectorStoreIndex
        from llama_index.core.schema import TextNode

        from autoembedding.integrations.llama_index import chroma_vector_store

        vector_store, embed_model = chroma_vector_store(NAME, client=client, model=OLD)
        VectorStoreIndex(
            [TextNode(id_=i, text=t) for i, t in docs],
            storage_context=StorageContext.from_defaults(vector_store=vector_store),
            embed_model=embed_model,
        )
    else:
        from autoembedding.integrations.chroma import get_or_create_collection

        get_or_create_collection(client, NAME, model=OLD).add(ids=ids, documents=texts)


def probe(where: list[str], out: Path) -> dict[str, Any]:
    """``autoembed probe`` of the two :data:`PICKS` on a small sample; its JSON report."""
    code = main(
        ["probe", *where, "--collection", NAME, "--candidates", ",".join(PICKS), "--no-lexical",
         "--sample-size", "24", "--seed", "0", "--no-progress", "--json", str(out)]
    )  # fmt: skip
    assert code == 0, f"autoembed probe exited with {code}"
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def swap(where: list[str], model: str) -> None:
    """``autoembed swap`` to ``model`` (the probe's winner)."""
    code = main(
        ["swap", *where, "--collection", NAME, "--model", model, "--verify-sample", "8",
         "--no-progress"]
    )  # fmt: skip
    assert code == 0, f"autoembed swap exited with {code}"


def fresh_process(location: str, data: Path, script: Path) -> dict[str, Any]:
    """Run :data:`FRESH` in a new interpreter; its JSON answer."""
    done = subprocess.run(
        [sys.executable, str(script), location, NAME, OLD, str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ matrix
CASES = [
    pytest.param("langchain", "embedded", id="langchain-embedded"),
    pytest.param("chroma", "server", id="chroma-server", marks=pytest.mark.server),
    pytest.param("llama_index", "embedded", id="llama_index-embedded", marks=pytest.mark.slow),
    pytest.param("chroma", "embedded", id="chroma-embedded", marks=pytest.mark.slow),
    pytest.param(
        "langchain", "server", id="langchain-server", marks=[pytest.mark.server, pytest.mark.slow]
    ),
    pytest.param(
        "llama_index",
        "server",
        id="llama_index-server",
        marks=[pytest.mark.server, pytest.mark.slow],
    ),
]


@pytest.mark.parametrize(("integration", "location"), CASES)
def test_create_probe_swap_then_every_integration_follows_and_guards(
    integration: str,
    location: str,
    corpus: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    docs, claims = corpus
    if location == "server":
        server = request.getfixturevalue("chroma_server")
        client, fresh_where = server.client(), server.url
        where = ["--chroma-url", server.url]
    else:
        client = request.getfixturevalue("chroma_client")
        fresh_where = str(request.getfixturevalue("chroma_path"))
        where = ["--chroma-path", fresh_where]

    create(integration, client, docs)
    report = probe(where, tmp_path / "probe.json")
    assert report["n_docs"] == 24
    assert {row["model_id"] for row in report["candidates"]} == set(PICKS)
    assert all(row["error"] is None for row in report["candidates"]), report["candidates"]
    winner = report["winner"]
    assert winner in PICKS, winner

    swap(where, winner)  # the probe's pick, whichever it is
    picked = reference(winner, corpus)

    data = tmp_path / "data.json"
    data.write_text(json.dumps({"claims": [claim for claim, _ in claims], "k": K}))
    script = tmp_path / "fresh.py"
    script.write_text(FRESH)
    answer = fresh_process(fresh_where, data, script)

    # Every route embeds queries with the picked model...
    assert answer["model"] == {"langchain": winner, "llama_index": winner, "chroma": winner}
    # ...and finds what that model finds (the sets: HNSW on 60 vectors is exact, order of
    # near-ties aside), so the known relevant abstract is in the top 3 for the same claims.
    expected = [sorted(top) for top in picked]
    hits = [any(i in judged for i in top) for top, (_, judged) in zip(picked, claims, strict=True)]
    assert sum(hits) >= 7, f"the picked model itself finds too little here: {hits}"
    for route, found in answer["found"].items():
        assert [sorted(top) for top in found] == expected, route
    # Adding with the old model is refused on every route, and nothing was written.
    assert answer["refused"] == {
        "langchain": "ModelMismatchError",
        "llama_index": "ModelMismatchError",
        "chroma": "ModelMismatchError",
        "chroma_guarded": "ModelMismatchError",
    }
    assert answer["count"] == N_DOCS
