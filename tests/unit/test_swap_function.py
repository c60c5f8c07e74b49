"""Issue 11 items 1 and 2: the swapped collection carries the *new* model's embedding function.

Item 1: ``autoembed swap`` could not move a collection made with ``AutoEmbeddingFunction`` (the
CLI never registered the function; "Embedding function autoembedding not found" on every rerun),
and the staging collection copied the old function's configuration. Item 2: after a Python
``swap()`` the collection carried no function, so plain ``client.get_collection(name)`` embedded
queries with Chroma's default model. Now staging and swapped collections carry the new model's
``AutoEmbeddingFunction`` whatever the source had.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.function import AutoEmbeddingFunction  # noqa: E402
from autoembedding.errors import SwapError  # noqa: E402
from autoembedding.swap import staging_name, swap  # noqa: E402

N = 24
DOCS = [f"document {i} about {['astronomy', 'botany', 'cooking'][i % 3]} item{i}" for i in range(N)]
IDS = [f"id-{i:02d}" for i in range(N)]
NEW = FakeAdapter("new").record()  # what "fake/new" builds (64-d)


def make(client, source: str):
    """A collection with the function ``source`` names, holding the old model's vectors."""
    old = FakeAdapter("old", dim=64)
    if source == "autoembedding":
        col = client.create_collection("docs", embedding_function=AutoEmbeddingFunction("fake/old"))
    elif source == "chroma-default":
        col = client.create_collection("docs")  # Chroma's default function in the config
    else:
        col = client.create_collection("docs", embedding_function=None)
    col.add(ids=IDS, documents=DOCS, embeddings=old.embed_documents(DOCS))
    return col


def function_record(col):
    function = col.configuration.get("embedding_function")
    assert isinstance(function, AutoEmbeddingFunction), function
    return function.record()


@pytest.mark.parametrize("source", ["autoembedding", "chroma-default", "none"])
def test_staging_and_swapped_collections_carry_the_new_function(chroma_client, source):
    make(chroma_client, source)
    with pytest.raises(SwapError):
        swap(
            "docs",
            "fake/new",
            client=chroma_client,
            page_size=8,
            progress=False,
            fail_after_calls=1,
        )
    staging = chroma_client.get_collection(staging_name("docs", NEW))
    assert function_record(staging) == NEW  # item 1: not the old function's configuration
    swap("docs", "fake/new", client=chroma_client, page_size=8, progress=False)
    assert function_record(chroma_client.get_collection("docs")) == NEW


def test_plain_get_collection_embeds_queries_with_the_new_model(chroma_path):
    client = chromadb.PersistentClient(path=str(chroma_path))
    make(client, "none")
    swap("docs", "fake/new", client=client, page_size=8, progress=False)
    # A fresh process with only the documented import, and no embedding function given.
    script = textwrap.dedent(
        f"""
        import chromadb
        import autoembedding.integrations.chroma  # registers AutoEmbeddingFunction
        col = chromadb.PersistentClient({str(chroma_path)!r}).get_collection("docs")
        print(col.configuration["embedding_function"].record().model_id)
        print(col.query(query_texts=[{DOCS[7]!r}], n_results=1)["ids"][0][0])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    assert out == ["fake/new", "id-07"]


def test_the_cli_moves_a_collection_made_with_the_function(chroma_path):
    """In a fresh process (nothing registered yet), as a user runs it."""
    client = chromadb.PersistentClient(path=str(chroma_path))
    make(client, "autoembedding")
    del client
    command = [sys.executable, "-m", "autoembedding.cli", "swap", "--collection", "docs"]
    command += ["--model", "fake/new", "--chroma-path", str(chroma_path), "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Swapped 'docs' to fake/new" in done.stdout
    col = chromadb.PersistentClient(path=str(chroma_path)).get_collection("docs")
    assert function_record(col) == NEW
    hits = col.query(query_texts=[DOCS[4]], n_results=1)  # through the persisted function
    assert hits["ids"][0][0] == "id-04"
