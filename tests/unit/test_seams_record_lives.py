"""Issue 11, item 8 / "What to build" bullet 2: the model record lives in the collection.

The first write through any of our classes (zero-config included) records the model in the
collection; the saved choice (a file in the user's cache keyed by the collection, issue 24.6; or
an older version's ``./.autoembedding/choice.json``) may cache, never decide: a collection's
record wins, and a run from another directory never falls back to the default model for a
collection that records one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex

from autoembedding.adapters import get_adapter
from autoembedding.chroma.records import read_record
from autoembedding.integrations.choice import (
    LEGACY_CHOICE_PATH,
    ModelChoice,
    choice_key,
    load_choice,
    save_choice,
)
from autoembedding.integrations.langchain import AutoEmbedding as LcEmbedding
from autoembedding.integrations.langchain import chroma_store
from autoembedding.integrations.llama_index import chroma_vector_store

DOCS = [f"record {i} on theme {i % 7} with shade {i % 5}" for i in range(60)]
IDS = [f"r{i}" for i in range(len(DOCS))]
CANDIDATES = ["fake/alpha", "fake/beta"]


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch) -> Path:
    """The app's working directory (older versions cached choice.json there)."""
    path = tmp_path / "app"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def no_probe(monkeypatch):
    import autoembedding.probe as probing

    def refuse(*args, **kwargs):
        raise AssertionError("probed although the collection records its model")

    monkeypatch.setattr(probing, "probe", refuse)


def _stale_choice(collection, model: str = "fake/stale") -> Path:
    """A choice saved for ``collection`` (where a zero-config store bound to it reads it)."""
    choice = ModelChoice(get_adapter(model).record(), "probe", "an earlier run elsewhere")
    return save_choice(choice, key=choice_key(collection))


def _legacy_choice(folder: Path, model: str = "fake/stale") -> Path:
    """An older version's choice file in the working directory."""
    choice = ModelChoice(get_adapter(model).record(), "probe", "an older version's probe")
    return save_choice(choice, folder / LEGACY_CHOICE_PATH)


def test_zero_config_first_write_records_the_model(chroma_client, app_dir):
    store = chroma_store("docs", client=chroma_client, candidates=CANDIDATES)
    store.add_texts(DOCS, ids=IDS)
    chosen = store.embeddings.adapter.model_id
    assert chosen in CANDIDATES and store.embeddings.choice.source == "probe"
    assert read_record(chroma_client.get_collection("docs")).model_id == chosen
    # the saved choice (keyed by the collection, not in the working directory) caches the same
    cached = load_choice(key=choice_key(chroma_client.get_collection("docs"), CANDIDATES))
    assert cached is not None and cached.record.model_id == chosen
    assert not (app_dir / ".autoembedding").exists()


def test_another_directory_uses_the_record_not_the_default(
    chroma_client, app_dir, tmp_path, monkeypatch, no_probe
):
    store = chroma_store("docs", client=chroma_client, model="fake/alpha")
    store.add_texts(DOCS, ids=IDS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    later = chroma_store("docs", client=chroma_client)  # zero-config, first call a query
    assert later.similarity_search("theme 3 shade 3", k=1)[0].page_content == DOCS[3]
    assert later.embeddings.adapter.model_id == "fake/alpha"
    assert later.embeddings.choice.source == "collection"
    assert not (elsewhere / ".autoembedding").exists()  # no default saved "for good"


def test_a_stale_choice_file_never_decides(chroma_client, app_dir, no_probe):
    chroma_store("docs", client=chroma_client, model="fake/alpha").add_texts(DOCS, ids=IDS)
    _stale_choice(chroma_client.get_collection("docs"))
    _legacy_choice(app_dir)
    store = chroma_store("docs", client=chroma_client)
    assert store.embeddings.adapter.model_id == "fake/alpha"
    plain = LcEmbedding(collection=chroma_client.get_collection("docs"))
    assert plain.adapter.model_id == "fake/alpha"


def test_a_saved_choice_is_recorded_on_the_first_write(chroma_client, app_dir, no_probe):
    _stale_choice(chroma_client.get_or_create_collection("docs"), "fake/cached")
    store = chroma_store("docs", client=chroma_client)  # empty collection: the cache is used
    assert read_record(chroma_client.get_collection("docs")) is None
    store.add_texts(DOCS[:3], ids=IDS[:3])
    assert read_record(chroma_client.get_collection("docs")).model_id == "fake/cached"


def test_llama_index_zero_config_first_write_records_the_model(chroma_client, app_dir):
    store, embed = chroma_vector_store("docs", client=chroma_client, candidates=CANDIDATES)
    VectorStoreIndex.from_documents(
        [Document(text=t, id_=i) for t, i in zip(DOCS, IDS, strict=True)],
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed,
    )
    assert embed.choice.source == "probe"
    assert read_record(chroma_client.get_collection("docs")).model_id == embed.model_name
