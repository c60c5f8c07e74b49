"""Issue 11, item 3: one model record, read from either place Chroma keeps it.

A collection made with ``AutoEmbeddingFunction`` through Chroma's own ``create_collection``
records its model only in the persisted function config, not in the metadata. The guard, the
zero-config classes and every entry point must read it there too (``read_record``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import chromadb
import pytest

from autoembedding.adapters import get_adapter
from autoembedding.chroma.records import (
    function_record,
    metadata_record,
    read_record,
    write_record,
)
from autoembedding.errors import CollectionError, ModelMismatchError
from autoembedding.integrations import langchain as lc
from autoembedding.integrations import llama_index as li
from autoembedding.integrations.chroma import AutoEmbeddingFunction, get_collection

DOCS = [f"document {i} about topic {i % 7}" for i in range(60)]


@pytest.fixture
def function_made(chroma_client):
    """A collection made by Chroma's own API with our function: no metadata record."""
    col = chroma_client.create_collection(
        "docs", embedding_function=AutoEmbeddingFunction("fake/made")
    )
    col.add(ids=[str(i) for i in range(len(DOCS))], documents=DOCS)
    assert col.metadata is None  # the record lives only in the function's config
    return col


class NoProbe:
    """Stands in for the probe: the recorded model must be used without probing."""

    def __call__(self, *args, **kwargs):
        raise AssertionError("probed a collection whose model is recorded")


@pytest.fixture
def no_probe(monkeypatch):
    import autoembedding.probe as probing

    monkeypatch.setattr(probing, "probe", NoProbe())


def test_record_is_read_from_the_function_config(function_made):
    assert metadata_record(function_made) is None
    record = read_record(function_made)
    assert record is not None and record.model_id == "fake/made" and record.dim == 64
    assert record == function_record(function_made)


def test_record_is_read_without_the_function_registered(chroma_path, function_made):
    """A process that never imported our Chroma module reads the record as JSON, no model."""
    script = textwrap.dedent(
        f"""
        import sys, chromadb
        from autoembedding.chroma.records import read_record
        col = chromadb.PersistentClient(path={str(chroma_path)!r}).get_collection(
            "docs", embedding_function=None)
        print(read_record(col).model_id)
        assert "autoembedding.chroma.function" not in sys.modules
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "fake/made"


@pytest.mark.parametrize("module", [lc, li], ids=["langchain", "llama_index"])
def test_pinned_other_model_of_the_same_dim_is_refused(module, function_made):
    assert get_adapter("fake/other").dim == get_adapter("fake/made").dim  # same dimension
    with pytest.raises(ModelMismatchError) as err:
        module.AutoEmbedding(model="fake/other", collection=function_made)
    assert "fake/made" in str(err.value) and "fake/other" in str(err.value)
    assert "autoembed swap" in str(err.value)


@pytest.mark.parametrize("module", [lc, li], ids=["langchain", "llama_index"])
def test_zero_config_uses_the_recorded_model_without_probing(
    module, function_made, no_probe, recwarn
):
    emb = module.AutoEmbedding(collection=function_made)
    assert emb.adapter is not None and emb.adapter.model_id == "fake/made"
    assert emb.choice.source == "collection"
    assert not [w for w in recwarn if "unknown" in str(w.message)]


def test_the_same_model_is_accepted(function_made):
    emb = lc.AutoEmbedding(model="fake/made", collection=function_made)
    assert len(emb.embed_documents(["x"])[0]) == 64


def test_metadata_and_function_config_that_disagree_is_an_error(function_made):
    write_record(function_made, get_adapter("fake/stale").record())
    with pytest.raises(ModelMismatchError) as err:
        read_record(function_made)
    message = str(err.value)
    assert "fake/stale" in message and "fake/made" in message and "'docs'" in message
    # every entry point reads through read_record, so each refuses the ambiguous collection
    with pytest.raises(ModelMismatchError):
        lc.AutoEmbedding(collection=function_made)


def test_a_malformed_function_config_names_the_collection():
    class Stub:
        name = "broken"
        metadata = None
        configuration_json = {
            "embedding_function": {"type": "known", "name": "autoembedding", "config": {}}
        }

    with pytest.raises(CollectionError, match="'broken'"):
        read_record(Stub())


def test_other_functions_and_plain_collections_record_nothing(chroma_client):
    plain = chroma_client.create_collection("plain", embedding_function=None)
    assert read_record(plain) is None


def test_get_collection_reads_the_function_record(chroma_client, function_made):
    docs = get_collection(chroma_client, "docs")
    assert docs.record().model_id == "fake/made"
    assert docs.query(query_texts=["topic 3"], n_results=1)["ids"][0]


def test_read_record_needs_no_chroma_object():
    class Meta:
        name = "m"
        metadata = get_adapter("fake/m").record().to_metadata()

    assert read_record(Meta()).model_id == "fake/m"
    assert chromadb  # imported for the fixtures' client
