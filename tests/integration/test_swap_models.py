"""Swap a small SciFact collection to a real offline model (ONNX MiniLM-L3), embedded Chroma."""

from __future__ import annotations

import json

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters import get_adapter  # noqa: E402
from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import get_record  # noqa: E402
from autoembedding.swap import swap  # noqa: E402

pytestmark = pytest.mark.integration

MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
N = 40


@pytest.fixture(scope="module")
def model():
    return get_adapter(MODEL)


@pytest.fixture(scope="module")
def corpus(shared_data):
    rows = []
    with (shared_data / "scifact" / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if len(rows) == N:
                break
    return rows


def test_swap_to_a_real_model_writes_the_record_and_right_vectors(tmp_path, model, corpus):
    client = chromadb.PersistentClient(path=str(tmp_path / "db"))
    col = client.create_collection(
        "scifact", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    ids = [r["_id"] for r in corpus]
    docs = [r["text"] for r in corpus]
    col.add(
        ids=ids,
        documents=docs,
        metadatas=[{"title": r["title"]} for r in corpus],
        embeddings=FakeAdapter("old", dim=16).embed_documents(docs),
    )

    result = swap("scifact", model, client=client, page_size=16, verify_sample=8, progress=False)
    assert result.docs == N and result.verified_vectors >= 8

    new = client.get_collection("scifact")
    record = get_record(new)
    assert record == model.record()
    assert (record.model_id, record.dim, record.backend) == (MODEL, 384, "onnx")
    got = new.get(ids=ids, include=["embeddings", "metadatas"])
    stored = np.asarray(got["embeddings"], dtype=np.float32)
    pos = [got["ids"].index(i) for i in ids]
    fresh = model.embed_documents(docs)
    cos = (stored[pos] * fresh).sum(axis=1)
    assert cos.min() > 0.999
    assert [got["metadatas"][p]["title"] for p in pos] == [r["title"] for r in corpus]

    # A query embedded with the recorded model finds a document by its title.
    rebuilt = get_adapter(record.model_id, **record.to_options())
    hits = 0
    for r in corpus[:10]:
        res = new.query(query_embeddings=[rebuilt.embed_query(r["title"])], n_results=3)
        hits += r["_id"] in res["ids"][0]
    assert hits >= 8
