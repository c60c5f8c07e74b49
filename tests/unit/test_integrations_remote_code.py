"""trust_remote_code never rides in a collection: only this process's caller turns it on (#24.1)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import chromadb
import pytest

from autoembedding.errors import InvalidArgumentError
from autoembedding.integrations.chroma import AutoEmbeddingFunction, get_collection

#: A catalog model whose loading needs the hub's code (built lazily: no weights load here).
REMOTE = "Alibaba-NLP/gte-multilingual-base"


def test_the_flag_is_used_by_this_instance_but_never_saved():
    function = AutoEmbeddingFunction(REMOTE, trust_remote_code=True)
    assert function.adapter.trust_remote_code is True  # the caller asked: this process uses it
    assert "trust_remote_code" not in function.get_config()


def test_a_stored_config_asking_for_remote_code_is_refused_and_says_why():
    config = {"model": "attacker/repo", "backend": "sentence-transformers", "dim": 8}
    with pytest.raises(InvalidArgumentError, match="never turns remote code on") as info:
        AutoEmbeddingFunction.build_from_config({**config, "trust_remote_code": True})
    assert info.value.argument == "trust_remote_code"
    assert "trust_remote_code=True" in str(info.value)  # how the caller turns it on


def test_a_stored_false_flag_is_harmless():
    config = AutoEmbeddingFunction("fake/demo").get_config()
    rebuilt = AutoEmbeddingFunction.build_from_config({**config, "trust_remote_code": False})
    assert "trust_remote_code" not in rebuilt.get_config()


def test_a_crafted_collection_is_refused_on_reopen(tmp_path):
    """A database whose stored config asks for remote code (crafted, or written by 0.x)."""
    client = chromadb.PersistentClient(path=str(tmp_path))
    client.create_collection("crafted", embedding_function=AutoEmbeddingFunction("fake/demo"))
    del client
    # Chroma 1.5 keeps the function's config in the collection's schema (a JSON column).
    db = sqlite3.connect(tmp_path / "chroma.sqlite3")
    (schema,) = db.execute("SELECT schema_str FROM collections WHERE name='crafted'").fetchone()
    crafted = schema.replace('"model":"fake/demo"', '"model":"fake/demo","trust_remote_code":true')
    assert crafted != schema
    db.execute("UPDATE collections SET schema_str=? WHERE name='crafted'", (crafted,))
    db.commit()
    db.close()
    # A new process reopens it the way Chroma's docs do: Chroma builds the function from the
    # stored config (before the fix: with remote code on), now refused; the query says why.
    reopen = (
        "import chromadb, sys, autoembedding.integrations.chroma\n"
        "col = chromadb.PersistentClient(path=sys.argv[1]).get_collection('crafted')\n"
        "try:\n    col.query(query_texts=['x'], n_results=1)\n"
        "except ValueError as error:\n    print('REFUSED', error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", reopen, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert "REFUSED" in done.stdout and "never turns remote code on" in done.stdout, done
    reopened = chromadb.PersistentClient(path=str(tmp_path))
    with pytest.raises(InvalidArgumentError, match="never turns remote code on"):
        get_collection(reopened, "crafted")
