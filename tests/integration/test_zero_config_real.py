"""Zero-config selection runs the real probe on the offline models (#25.5).

``AutoEmbedding()`` with no model, on an empty collection, through each framework's store
helper: the first ``add`` probes the documents with every offline model that loads here and
records the pick in the collection. The pick's hit@5 on the subset's judged SciFact claims must
be at least that of the pinned offline default (what a user gets by not choosing). No spy, no
fake: the probe, the models and Chroma are the real ones.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from scifact_subset import scifact_subset

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.records import read_record

pytestmark = pytest.mark.integration

N_DOCS, N_CLAIMS, K = 60, 10, 5


@pytest.fixture(scope="module")
def corpus(test_data: Path) -> tuple[list[str], list[str], list[tuple[str, set[str]]]]:
    rows, claims = scifact_subset(test_data, n_docs=N_DOCS, n_claims=N_CLAIMS, max_chars=600)
    return [r[0] for r in rows], [f"{r[1]}. {r[2]}" for r in rows], claims


def _hits(search: Any, claims: list[tuple[str, set[str]]]) -> int:
    return sum(bool(set(search(claim)) & relevant) for claim, relevant in claims)


@pytest.fixture(autouse=True)
def _own_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no choice file from another test decides


def test_langchain_zero_config_picks_at_least_as_well_as_the_default(tmp_path, corpus):
    import chromadb

    from autoembedding.integrations.langchain import chroma_store

    ids, docs, claims = corpus
    client = chromadb.PersistentClient(str(tmp_path / "db"))
    auto = chroma_store("auto", client=client)
    pinned = chroma_store("pinned", client=client, model=OFFLINE_DEFAULT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # truncation notes of the probe
        auto.add_texts(docs, ids=ids)
        pinned.add_texts(docs, ids=ids)
    choice = auto.embeddings.choice
    assert choice is not None and choice.source == "probe", choice  # not the default fallback
    record = read_record(client.get_collection("auto"))
    assert record is not None and record.model_id == choice.record.model_id  # what it serves

    def search(store: Any) -> Any:
        return lambda claim: [d.id for d in store.similarity_search(claim, k=K)]

    assert _hits(search(auto), claims) >= _hits(search(pinned), claims)


def test_llama_index_zero_config_picks_at_least_as_well_as_the_default(tmp_path, corpus):
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex

    from autoembedding.integrations.llama_index import chroma_vector_store

    ids, docs, claims = corpus
    client = chromadb.PersistentClient(str(tmp_path / "db"))
    retrievers = {}
    for name, model in (("auto", None), ("pinned", OFFLINE_DEFAULT)):
        store, embed = chroma_vector_store(name, client=client, model=model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            index = VectorStoreIndex.from_documents(
                [Document(text=t, id_=i) for t, i in zip(docs, ids, strict=True)],
                storage_context=StorageContext.from_defaults(vector_store=store),
                embed_model=embed,
            )
        retrievers[name] = (index.as_retriever(similarity_top_k=K), embed)
    retriever, embed = retrievers["auto"]
    assert embed.choice is not None and embed.choice.source == "probe", embed.choice
    record = read_record(client.get_collection("auto"))
    assert record is not None and record.model_id == embed.choice.record.model_id

    def search(name: str) -> Any:
        found = retrievers[name][0]
        # LlamaIndex gives nodes its own ids; the source document's id is the ref_doc_id.
        return lambda claim: [h.node.ref_doc_id for h in found.retrieve(claim)]

    assert _hits(search("auto"), claims) >= _hits(search("pinned"), claims)
