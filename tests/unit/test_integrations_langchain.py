"""Unit tests of the LangChain AutoEmbedding: LangChain's standard suite plus our behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from langchain_tests.unit_tests import EmbeddingsUnitTests

from autoembedding.adapters import get_adapter
from autoembedding.errors import ModelMismatchError
from autoembedding.integrations.langchain import AutoEmbedding


class TestAutoEmbeddingStandard(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return AutoEmbedding

    @property
    def embedding_model_params(self) -> dict:
        return {"model": "fake/standard"}


def test_matches_bare_adapter_with_prompts():
    emb = AutoEmbedding(model="fake/p", query_prompt="query: ", document_prompt="passage: ")
    bare = get_adapter("fake/p", query_prompt="query: ", document_prompt="passage: ")
    np.testing.assert_allclose(
        emb.embed_query("red apple"), bare.embed_query("red apple"), rtol=1e-6
    )
    np.testing.assert_allclose(
        emb.embed_documents(["red apple"])[0], bare.embed_documents(["red apple"])[0], rtol=1e-6
    )
    # the prompts matter: query and document vectors of the same text differ
    assert not np.allclose(emb.embed_query("red apple"), emb.embed_documents(["red apple"])[0])


def test_options_reach_the_adapter():
    emb = AutoEmbedding(model="fake/o", truncate_dim=16, precision="binary")
    assert len(emb.embed_query("x")) == 16
    assert emb.adapter.name == "fake/o@16:binary"


async def test_async_equals_sync():
    emb = AutoEmbedding(model="fake/a")
    assert await emb.aembed_query("hello") == emb.embed_query("hello")
    assert await emb.aembed_documents(["a b", "c"]) == emb.embed_documents(["a b", "c"])


@pytest.mark.parametrize("bad", [["ok", None], ["ok", 3]])
def test_non_string_documents_name_the_index(bad):
    emb = AutoEmbedding(model="fake/a")
    with pytest.raises(TypeError, match="index 1"):
        emb.embed_documents(bad)


def test_non_string_query():
    with pytest.raises(TypeError, match="str"):
        AutoEmbedding(model="fake/a").embed_query(None)


def test_unknown_config_field_is_rejected():
    with pytest.raises(ValueError):
        AutoEmbedding(model="fake/a", modle="typo")


def test_collection_with_other_model_refuses(tmp_path):
    import chromadb

    from autoembedding.integrations.chroma import get_or_create_collection

    client = chromadb.PersistentClient(path=str(tmp_path))
    guarded = get_or_create_collection(client, "docs", model="fake/first")
    with pytest.raises(ModelMismatchError, match="fake/first"):
        AutoEmbedding(model="fake/second", collection=guarded.collection)
    # without model=..., the recorded model is used
    emb = AutoEmbedding(collection=guarded.collection)
    assert emb.adapter.model_id == "fake/first"
    assert emb.choice.source == "collection"


def test_collection_probe_with_real_probe_picks_better_model(tmp_path):
    import chromadb

    from autoembedding.adapters.fake import FakeAdapter
    from autoembedding.integrations.auto import AutoSelectionWarning

    docs = [
        f"note {i}: {w} {v} measured in trial {i * 7 % 13}"
        for i, (w, v) in enumerate(
            zip(
                ["alpha", "beta", "gamma", "delta", "omega"] * 16,
                ["red", "green", "blue", "cyan"] * 20,
                strict=True,
            )
        )
    ]
    client = chromadb.PersistentClient(path=str(tmp_path))
    col = client.create_collection("notes", embedding_function=None)
    good, bad = FakeAdapter("good"), FakeAdapter("bad", noise=0.97)
    col.add(
        ids=[str(i) for i in range(len(docs))],
        documents=docs,
        embeddings=good.embed_documents(docs),
    )
    with pytest.warns(AutoSelectionWarning, match="no model record"):
        emb = AutoEmbedding(
            collection=col, candidates=[bad, good], choice_path=str(tmp_path / "c.json")
        )
    assert emb.adapter is good and emb.choice.source == "probe"
    assert len(emb.embed_query("alpha red")) == 64
