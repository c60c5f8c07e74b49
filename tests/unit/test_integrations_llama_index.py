"""Unit tests of the LlamaIndex AutoEmbedding on the fake adapter."""

from __future__ import annotations

import numpy as np
import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding

from autoembedding.adapters import get_adapter
from autoembedding.adapters.fake import FakeAdapter
from autoembedding.integrations.llama_index import AutoEmbedding


def test_is_a_base_embedding_with_model_name():
    emb = AutoEmbedding(model="fake/li")
    assert isinstance(emb, BaseEmbedding)
    assert emb.model_name == "fake/li"


def test_query_and_text_use_their_prompts():
    emb = AutoEmbedding(model="fake/li", query_prompt="query: ", document_prompt="passage: ")
    bare = get_adapter("fake/li", query_prompt="query: ", document_prompt="passage: ")
    np.testing.assert_allclose(emb.get_query_embedding("red"), bare.embed_query("red"), rtol=1e-6)
    np.testing.assert_allclose(
        emb.get_text_embedding("red"), bare.embed_documents(["red"])[0], rtol=1e-6
    )


def test_batching_follows_embed_batch_size(monkeypatch):
    emb = AutoEmbedding(model="fake/li", embed_batch_size=3)
    seen: list[int] = []
    real = FakeAdapter.embed_documents

    def spy(self, texts):
        seen.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(FakeAdapter, "embed_documents", spy)
    out = emb.get_text_embedding_batch([f"t{i}" for i in range(7)])
    assert len(out) == 7 and seen == [3, 3, 1]


async def test_async_equals_sync():
    emb = AutoEmbedding(model="fake/li", embed_batch_size=2)
    texts = ["a b", "c", "d e f"]
    assert await emb.aget_text_embedding_batch(texts) == emb.get_text_embedding_batch(texts)
    assert await emb.aget_query_embedding("a") == emb.get_query_embedding("a")


def test_none_text_names_the_index():
    emb = AutoEmbedding(model="fake/li", embed_batch_size=2)
    with pytest.raises(TypeError, match="index 3"):
        emb.get_text_embedding_batch(["a", "b", "c", None])


def test_settings_and_vector_store_index(monkeypatch):
    emb = AutoEmbedding(model="fake/li")
    monkeypatch.setattr(Settings, "_embed_model", emb)
    docs = [Document(text=t) for t in ("red apple pie", "blue car engine", "green tree leaf")]
    index = VectorStoreIndex.from_documents(docs)
    nodes = index.as_retriever(similarity_top_k=1).retrieve("car engine")
    assert "blue car" in nodes[0].get_content()


def test_auto_mode_probes_whole_first_call(monkeypatch, tmp_path):
    import autoembedding.integrations.auto as auto

    probed: list[int] = []

    def fake_choose(self, texts):
        probed.append(len(texts))
        self._pin(get_adapter("fake/chosen"), "probe", "test")

    monkeypatch.setattr(auto.ModelResolver, "_choose_from_documents", fake_choose)
    emb = AutoEmbedding(embed_batch_size=10, choice_path=str(tmp_path / "c.json"))
    assert emb.model_name == "auto"
    emb.get_text_embedding_batch([f"doc {i}" for i in range(60)])
    assert probed == [60]
    assert emb.model_name == "fake/chosen"


def test_fields_are_the_langchain_fields():
    from autoembedding.integrations.langchain import AutoEmbedding as LangChainAutoEmbedding

    ours = set(AutoEmbedding.model_fields) - set(BaseEmbedding.model_fields)
    assert ours == set(LangChainAutoEmbedding.model_fields) - {"batch_size"}
    emb = AutoEmbedding(model="fake/li", truncate_dim=16, precision="int8", embed_batch_size=4)
    assert emb.adapter.name == "fake/li@16:int8" and emb.adapter.batch_size == 4
    assert emb.choice.source == "pinned"
    with pytest.raises(ValueError):
        AutoEmbedding(min_probe_docs=1)
