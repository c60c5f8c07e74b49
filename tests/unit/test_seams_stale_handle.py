"""Issue 11 item 4: a guarded handle opened before a swap refuses writes instead of stranding them.

A swap renames: the name then holds the re-embedded collection and the original becomes
``NAME__backup_<time>``, but a handle opened before keeps the original's id. Before this fix a
``GuardedCollection`` wrote through such a handle into the backup, silently (its cached record
still named the old model, so the model guard passed). It now compares the handle's id with the
id that holds its name (at most once per ``recheck_s``, on writes only) and refuses, saying to
reopen.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.errors import ChromaUnavailableError, CollectionError  # noqa: E402
from autoembedding.integrations.chroma import (  # noqa: E402
    AutoEmbeddingFunction,
    GuardedCollection,
    HandleCheck,
    get_collection,
    get_or_create_collection,
)
from autoembedding.swap import swap, undo_swap  # noqa: E402

DOCS = [f"doc {i} about {['cats', 'dogs', 'birds'][i % 3]}" for i in range(12)]
IDS = [f"id-{i:02d}" for i in range(12)]


def make(client: Any) -> GuardedCollection:
    # recheck_s=0: every write reads the name (the default re-reads at most once a second).
    docs = get_or_create_collection(client, "docs", model="fake/old", recheck_s=0)
    docs.add(ids=IDS, documents=DOCS)
    return docs


def moved(client: Any, name: str = "docs") -> str:
    """Swap ``name`` to fake/new; the backup's name."""
    result = swap(name, "fake/new", client=client, page_size=8, progress=False)
    assert result.backup
    return str(result.backup)


class CountingClient:
    """A chromadb client that counts ``get_collection`` calls (the stale-handle reads)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.reads = 0

    def get_collection(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return self.client.get_collection(*args, **kwargs)

    def __getattr__(self, item: str) -> Any:
        return getattr(self.client, item)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("add", {"ids": ["late"], "documents": ["a late cat"]}),
        ("upsert", {"ids": ["id-00"], "documents": ["an upserted cat"]}),
        ("update", {"ids": ["id-01"], "metadatas": [{"edited": True}]}),
        ("delete", {"ids": ["id-02"]}),
    ],
)
def test_every_write_through_a_pre_swap_handle_is_refused(chroma_client, method, kwargs):
    stale = make(chroma_client)
    backup = moved(chroma_client)
    with pytest.raises(CollectionError) as err:
        getattr(stale, method)(**kwargs)
    message = str(err.value)
    assert "'docs'" in message and "Reopen it" in message and "get_collection" in message
    assert repr(backup) in message  # where the handle points now
    assert "autoembed swap --sync --chroma-path " in message  # a command that runs as printed
    # Nothing reached the backup (the stale handle's collection) or the live one.
    old = chroma_client.get_collection(backup, embedding_function=None)
    live = chroma_client.get_collection("docs", embedding_function=None)
    for col in (old, live):
        got = col.get(include=["documents", "metadatas"])
        assert sorted(got["ids"]) == IDS
        assert all(not m for m in got["metadatas"])
        assert "an upserted cat" not in got["documents"]


def test_a_reopened_handle_writes_to_the_swapped_collection(chroma_client):
    make(chroma_client)
    moved(chroma_client)
    fresh = get_collection(chroma_client, "docs")
    assert fresh.function.adapter.model_id == "fake/new"
    fresh.add(ids=["late"], documents=["a late cat"])
    live = chroma_client.get_collection("docs", embedding_function=None)
    assert live.get(ids=["late"])["ids"] == ["late"]


def test_queries_through_a_stale_handle_are_not_checked(chroma_client):
    stale = make(chroma_client)
    moved(chroma_client)
    # A query reads the backup with the old model: consistent, so it is not refused.
    assert stale.query(query_texts=["cats"], n_results=1)["ids"][0][0] in IDS


def test_a_handle_built_without_the_client_is_checked_too(chroma_client):
    make(chroma_client)
    raw = chroma_client.get_collection("docs", embedding_function=None)
    stale = GuardedCollection(raw, AutoEmbeddingFunction("fake/old"), recheck_s=0)
    stale.add(ids=["before"], documents=["a cat before the swap"])  # current: allowed
    moved(chroma_client)
    with pytest.raises(CollectionError, match="Reopen it") as err:
        stale.add(ids=["after"], documents=["a cat after the swap"])
    assert "--chroma-path DB" not in str(err.value)  # the handle's own client says where


def test_undo_makes_the_old_handle_current_again(chroma_client):
    stale = make(chroma_client)
    moved(chroma_client)
    with pytest.raises(CollectionError, match="Reopen it"):
        stale.add(ids=["late"], documents=["a late cat"])
    undo_swap("docs", client=chroma_client)
    stale.add(ids=["late"], documents=["a late cat"])  # the original holds the name again
    live = chroma_client.get_collection("docs", embedding_function=None)
    assert live.id == stale.id and live.get(ids=["late"])["ids"] == ["late"]


def test_the_name_is_read_at_most_once_per_recheck_s(chroma_client):
    counting = CountingClient(chroma_client)
    docs = get_or_create_collection(counting, "docs", model="fake/old", recheck_s=60)
    before = counting.reads
    for i in range(5):
        docs.add(ids=[f"x{i}"], documents=[f"cat {i}"])
    assert counting.reads - before == 1  # one read for five writes within recheck_s
    docs.query(query_texts=["cat"], n_results=1)
    assert counting.reads - before == 1  # queries do not read it

    eager = GuardedCollection(docs.collection, docs.function, client=counting, recheck_s=0)
    before = counting.reads
    for i in range(3):
        eager.add(ids=[f"y{i}"], documents=[f"dog {i}"])
    assert counting.reads - before == 3


class StubCollection:
    """A handle whose name is missing for ``missing`` reads, then held by ``holder_id``."""

    def __init__(self, holder_id: str, missing: int = 0, error: BaseException | None = None):
        self.id, self.name = "own", "docs"
        self.holder_id, self.missing, self.error = holder_id, missing, error
        self.reads = 0

    def get_collection(self, name: str, embedding_function: Any = None) -> Any:
        self.reads += 1
        if self.error is not None:
            raise self.error
        if self.reads <= self.missing:
            raise chromadb.errors.NotFoundError(f"Collection [{name}] does not exist")
        return type("Model", (), {"id": self.holder_id, "name": name})()

    def get_collection_by_id(self, id: str, embedding_function: Any = None) -> Any:  # noqa: A002
        return type("Model", (), {"id": id, "name": "docs__backup_20260101T000000Z"})()


def test_the_rename_instant_is_waited_out():
    stub = StubCollection(holder_id="own", missing=3)
    HandleCheck(stub, stub, wait_s=5).check()  # missing three times, then its own: fine
    assert stub.reads == 4


def test_a_name_that_stays_missing_is_refused():
    stub = StubCollection(holder_id="own", missing=10**6)
    with pytest.raises(CollectionError, match="the name now holds no collection.*Reopen it"):
        HandleCheck(stub, stub, wait_s=0.2).check("add to")


def test_a_lost_server_during_the_check_says_nothing_was_written():
    stub = StubCollection(holder_id="own", error=ConnectionError("connection refused"))
    guarded = GuardedCollection(stub, AutoEmbeddingFunction("fake/old"), client=stub)
    with pytest.raises(ChromaUnavailableError, match="Lost the Chroma server.*nothing was written"):
        guarded.add(ids=["a"], documents=["a cat"])


def test_the_message_names_where_the_handle_points():
    stub = StubCollection(holder_id="another")
    with pytest.raises(CollectionError) as err:
        HandleCheck(stub, stub).check("add to")
    assert "Cannot add to collection 'docs'" in str(err.value)
    assert "'docs__backup_20260101T000000Z'" in str(err.value)


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_auto_embedding_over_a_pre_swap_plain_handle_refuses_to_embed_for_it(
    chroma_client, framework
):
    import importlib

    module = importlib.import_module(f"autoembedding.integrations.{framework}")
    make(chroma_client)
    plain = chroma_client.get_collection("docs", embedding_function=None)
    embedding = module.AutoEmbedding(model="fake/old", collection=plain)
    write = (
        embedding.embed_documents
        if framework == "langchain"
        else embedding.get_text_embedding_batch
    )
    assert len(write(["a cat before the swap"])) == 1
    moved(chroma_client)
    time.sleep(1.05)  # the name is re-read at most once a second while the handle is current
    with pytest.raises(CollectionError, match="Reopen it"):
        write(["a cat after the swap"])
