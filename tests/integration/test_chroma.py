"""Chroma end to end on the real offline MiniLM: persisted function, fresh process, server.

The function's config (model, prompts, truncation, precision) persists with the collection; a
fresh process that imports ``autoembedding.integrations.chroma`` reopens the collection without
passing an embedding function and gets identical query results, embedded and over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import free_port

from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.client import connect
from autoembedding.chroma.records import get_record
from autoembedding.errors import ChromaUnavailableError, ModelMismatchError
from autoembedding.integrations.chroma import (
    AutoEmbeddingFunction,
    get_collection,
    get_or_create_collection,
    http_client,
)

pytestmark = pytest.mark.integration

MODEL = OFFLINE_DEFAULT
N_DOCS = 24
CLAIMS = [
    "0-dimensional biomaterials lack inductive properties.",
    "Vitamin D deficiency affects bone density.",
    "Aspirin reduces the risk of heart attack.",
]

REOPEN = """
import json, sys
import chromadb
{register}
mode, where, claims = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if mode == "http":
    host, port = where.split(":")
    client = chromadb.HttpClient(host=host, port=int(port))
else:
    client = chromadb.PersistentClient(path=where)
col = client.get_collection("scifact")  # no embedding function passed
print(json.dumps(col.query(query_texts=claims, n_results=5, include=["distances"])))
"""


def _reopen(mode: str, where: str, *, register: bool = True) -> subprocess.CompletedProcess:
    script = REOPEN.format(register="import autoembedding.integrations.chroma" if register else "")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", script, mode, where, json.dumps(CLAIMS)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


def _same_results(a: dict, b: dict) -> None:
    assert a["ids"] == b["ids"]
    for da, db in zip(a["distances"], b["distances"], strict=True):
        assert da == pytest.approx(db, abs=1e-5)


@pytest.fixture(scope="module")
def docs(shared_data):
    rows = []
    with (shared_data / "scifact" / "corpus.jsonl").open() as f:
        for line in f:
            d = json.loads(line)
            rows.append((d["_id"], f"{d['title']}. {d['text'][:300]}"))
            if len(rows) == N_DOCS:
                break
    return rows


@pytest.fixture(scope="module")
def function() -> AutoEmbeddingFunction:
    # non-default options, to prove they persist: prompts and Matryoshka-style truncation
    return AutoEmbeddingFunction(
        MODEL, truncate_dim=256, query_prompt="claim: ", document_prompt="abstract: "
    )


def _fill(client, function, docs):
    col = get_or_create_collection(client, "scifact", function=function)
    col.add(ids=[i for i, _ in docs], documents=[t for _, t in docs])
    return col


def test_reopen_in_fresh_process_gives_identical_results(
    function, docs, chroma_client, chroma_path
):
    path = str(chroma_path)
    col = _fill(chroma_client, function, docs)
    here = col.query(query_texts=CLAIMS, n_results=5, include=["distances"])
    assert get_record(col.collection).truncate_dim == 256
    done = _reopen("path", path)
    assert done.returncode == 0, done.stderr[-2000:]
    _same_results(here, json.loads(done.stdout.strip().splitlines()[-1]))


def test_reopen_without_registration_fails_loudly(function, docs, chroma_client, chroma_path):
    """The documented limit: Chroma needs the module imported to find the function by name."""
    path = str(chroma_path)
    get_or_create_collection(chroma_client, "scifact", function=function)
    done = _reopen("path", path, register=False)
    assert done.returncode != 0
    assert "autoembedding" in done.stderr and "not found" in done.stderr


def test_other_model_refused_on_persisted_collection(function, docs, chroma_client):
    client = chroma_client
    _fill(client, function, docs[:5])
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2"):
        get_or_create_collection(client, "scifact", model=MODEL)  # same model, no truncation
    assert client.get_collection("scifact").count() == 5
    assert get_collection(client, "scifact").function.record() == function.record()


# ---------------------------------------------------------------------------- server
@pytest.mark.server
def test_server_round_trip_and_fresh_process(chroma_server, function, docs):
    client = http_client("127.0.0.1", chroma_server.port)
    col = _fill(client, function, docs)
    here = col.query(query_texts=CLAIMS, n_results=5, include=["distances"])
    reopened = get_collection(connect(url=f"http://127.0.0.1:{chroma_server.port}"), "scifact")
    _same_results(here, reopened.query(query_texts=CLAIMS, n_results=5, include=["distances"]))
    done = _reopen("http", f"127.0.0.1:{chroma_server.port}")
    assert done.returncode == 0, done.stderr[-2000:]
    _same_results(here, json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.server
def test_server_down_is_a_clear_error():
    port = free_port()
    with pytest.raises(ChromaUnavailableError, match=f"no Chroma server answers at .*:{port}"):
        http_client("127.0.0.1", port)


@pytest.mark.server
def test_server_killed_mid_session_add_fails_clearly(chroma_server, function, docs):
    col = _fill(http_client("127.0.0.1", chroma_server.port), function, docs[:5])
    chroma_server.kill()
    with pytest.raises(ChromaUnavailableError, match="Lost the Chroma server.*did not succeed"):
        col.add(ids=[i for i, _ in docs[5:10]], documents=[t for _, t in docs[5:10]])
    with pytest.raises(ChromaUnavailableError, match="Lost the Chroma server"):
        col.query(query_texts=CLAIMS[:1], n_results=1)
