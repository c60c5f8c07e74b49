"""Issue 11, item 1 (the CLI part): the CLI registers ``AutoEmbeddingFunction`` before it opens.

A collection made with ``AutoEmbeddingFunction`` (Chroma's own ``get_or_create_collection``)
persists the function by name; a process that never imported the module registering it cannot
copy its configuration, so ``autoembed swap`` failed with "Embedding function autoembedding not
found" on every rerun. Each command here runs in a fresh process, as a user would run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import chromadb
import pytest

from autoembedding.integrations.chroma import AutoEmbeddingFunction

N = 40


def _autoembed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autoembedding.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _fresh(script: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def db(chroma_path: Path) -> Path:
    client = chromadb.PersistentClient(path=str(chroma_path))
    col = client.get_or_create_collection(
        "docs", embedding_function=AutoEmbeddingFunction("fake/old")
    )
    col.add(
        ids=[f"d{i}" for i in range(N)],
        documents=[f"note {i} on subject {i % 5} and colour {i % 3}" for i in range(N)],
        metadatas=[{"n": i} for i in range(N)],
    )
    del col, client
    return chroma_path


def test_swap_moves_a_collection_made_with_the_function(db: Path):
    out = _autoembed(
        "swap", "--chroma-path", str(db), "--collection", "docs", "--model", "fake/new",
        "--no-progress",
    )  # fmt: skip
    assert "not found" not in out.stderr, out.stderr
    assert out.returncode == 0, out.stderr
    got = _fresh(
        f"""
        import json, chromadb
        from autoembedding.chroma.records import read_record
        col = chromadb.PersistentClient(path={str(db)!r}).get_collection(
            "docs", embedding_function=None)
        print(json.dumps([read_record(col).model_id, col.count()]))
        """
    )
    assert json.loads(got) == ["fake/new", N]


def test_the_cli_connection_registers_the_function_first(db: Path):
    """``client_from_args`` registers the function before connecting (fresh process)."""
    got = _fresh(
        f"""
        import argparse
        from chromadb.utils.embedding_functions import known_embedding_functions
        from autoembedding.cli._chroma import client_from_args
        assert "autoembedding" not in known_embedding_functions
        args = argparse.Namespace(chroma_path={str(db)!r}, chroma_host=None, chroma_url=None,
                                  chroma_port=None)
        client = client_from_args(args)
        print("autoembedding" in known_embedding_functions,
              type(client.get_collection("docs").configuration["embedding_function"]).__name__)
        """
    )
    assert got == "True AutoEmbeddingFunction"
