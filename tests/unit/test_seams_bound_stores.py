"""Issue 11, item 8 / "What to build" bullet 2: stores bound to their collection follow a swap.

``chroma_store`` (LangChain) and ``chroma_vector_store`` (LlamaIndex) bind the store and the
``AutoEmbedding`` to the collection by *name*, with no private attribute in user code. After
``swap()`` in the same process (another process in the end-to-end test), the next query embeds
with the new model and searches the swapped collection; a pinned model is refused loudly; the
collection is re-read at most once per ``recheck_s``.
"""

from __future__ import annotations

import logging

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex

from autoembedding.chroma.records import read_record
from autoembedding.errors import ModelMismatchError
from autoembedding.integrations.langchain import AutoEmbedding as LcEmbedding
from autoembedding.integrations.langchain import chroma_store
from autoembedding.integrations.llama_index import chroma_vector_store
from autoembedding.retrieval.binding import CollectionBinding, bind_collection
from autoembedding.swap import swap

TEXTS = [f"passage {i} about topic {i % 7} in colour {i % 5}" for i in range(30)]
IDS = [f"p{i}" for i in range(len(TEXTS))]


@pytest.fixture(autouse=True)
def _own_cwd(tmp_path, monkeypatch):
    """Auto-selection saves its choice under the working directory: keep it in tmp_path."""
    monkeypatch.chdir(tmp_path)


def _swap(client, model: str) -> None:
    swap("docs", model, client=client, progress=False, verify_sample=4)


def _langchain_app(client, **kwargs):
    store = chroma_store("docs", client=client, recheck_s=0, **kwargs)
    return store


def test_langchain_store_records_and_is_a_chroma(chroma_client):
    from langchain_chroma import Chroma

    store = _langchain_app(chroma_client, model="fake/old")
    assert isinstance(store, Chroma) and isinstance(store.embeddings, LcEmbedding)
    store.add_texts(TEXTS, ids=IDS)
    assert read_record(chroma_client.get_collection("docs")).model_id == "fake/old"
    assert store.similarity_search("topic 3 colour 3", k=1)[0].page_content == TEXTS[3]


def test_langchain_store_follows_a_swap(chroma_client, caplog):
    _langchain_app(chroma_client, model="fake/old").add_texts(TEXTS, ids=IDS)
    store = _langchain_app(chroma_client)  # the app, zero-config: the record decides
    assert store.embeddings.adapter.model_id == "fake/old"
    old_id = store.binding.collection.id
    _swap(chroma_client, "fake/new")
    with caplog.at_level(logging.INFO, logger="autoembedding"):
        hit = store.similarity_search("topic 3 colour 3", k=1)[0]
    assert hit.page_content == TEXTS[3]
    assert store.embeddings.adapter.model_id == "fake/new"
    assert store.embeddings.choice.source == "collection"
    assert store.binding.collection.id != old_id
    followed = [r for r in caplog.records if "follows it" in r.getMessage()]
    assert len(followed) == 1 and "fake/new" in followed[0].getMessage()
    # writes land in the swapped collection, embedded by the new model
    store.add_texts(["a late note about topic 3"], ids=["late"])
    swapped = chroma_client.get_collection("docs")
    assert swapped.id != old_id and "late" in swapped.get(ids=["late"])["ids"]
    assert read_record(swapped).model_id == "fake/new"
    backup = next(c for c in chroma_client.list_collections() if c.id == old_id)
    assert backup.get(ids=["late"])["ids"] == []
    # a second query: no second log line (logged once per change)
    with caplog.at_level(logging.INFO, logger="autoembedding"):
        store.similarity_search("topic 1", k=1)
    assert len([r for r in caplog.records if "follows it" in r.getMessage()]) == 1


def test_a_pinned_store_is_refused_after_a_swap(chroma_client):
    store = _langchain_app(chroma_client, model="fake/old")
    store.add_texts(TEXTS, ids=IDS)
    _swap(chroma_client, "fake/new")
    for _ in range(2):  # refused on every call, never used silently
        with pytest.raises(ModelMismatchError) as err:
            store.similarity_search("topic 3", k=1)
        message = str(err.value)
        assert "fake/new" in message and "fake/old" in message and "'docs'" in message
        assert "model=" in message  # the fix
    with pytest.raises(ModelMismatchError):
        store.add_texts(["x"], ids=["x"])
    assert chroma_client.get_collection("docs").get(ids=["x"])["ids"] == []


def test_a_store_reopened_with_another_pinned_model_is_refused(chroma_client):
    _langchain_app(chroma_client, model="fake/old").add_texts(TEXTS, ids=IDS)
    with pytest.raises(ModelMismatchError, match="fake/old"):
        _langchain_app(chroma_client, model="fake/other")


def test_llama_index_store_follows_a_swap(chroma_client):
    store, embed = chroma_vector_store(
        "docs", client=chroma_client, recheck_s=0, candidates=["fake/auto"], min_probe_docs=10
    )
    index = VectorStoreIndex.from_documents(
        [Document(text=t, id_=i) for t, i in zip(TEXTS, IDS, strict=True)],
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed,
    )
    recorded = read_record(chroma_client.get_collection("docs"))
    assert recorded is not None and recorded.model_id == embed.adapter.model_id == "fake/auto"
    _swap(chroma_client, "fake/new")
    got = index.as_retriever(similarity_top_k=1).retrieve("topic 3 colour 3")
    assert got[0].text == TEXTS[3]
    assert embed.model_name == "fake/new"
    assert store.client.id == chroma_client.get_collection("docs").id


def test_the_record_is_rechecked_at_most_once_per_interval(chroma_client):
    class CountingClient:
        """Delegates to the real client, counting collection reads by name."""

        def __init__(self, client):
            self.client, self.reads = client, 0

        def get_collection(self, *args, **kwargs):
            self.reads += 1
            return self.client.get_collection(*args, **kwargs)

        def __getattr__(self, item):
            return getattr(self.client, item)

    counting = CountingClient(chroma_client)
    binding = bind_collection(counting, "docs", recheck_s=60)
    emb = LcEmbedding(model="fake/old", collection=binding)
    emb.embed_documents(["first"])
    before = counting.reads
    for _ in range(50):
        emb.embed_query("topic")
    assert counting.reads == before  # no read within the interval
    binding.recheck_s = 0
    emb.embed_query("topic")
    assert counting.reads == before + 1  # one metadata read, then due again


def test_binding_waits_out_a_missing_name_then_says_so(chroma_client):
    binding = bind_collection(chroma_client, "docs")
    chroma_client.delete_collection("docs")
    binding.wait_s = 0.2
    from autoembedding.errors import CollectionNotFoundError

    with pytest.raises(CollectionNotFoundError, match="docs"):
        binding.refresh(force=True)
    assert isinstance(binding, CollectionBinding)
