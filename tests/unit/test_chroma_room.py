"""Unit tests of the Chroma room: connect, open_collection, error translation, records, pages."""

from __future__ import annotations

import dataclasses
import socket

import chromadb
import pytest

from autoembedding.adapters import get_adapter
from autoembedding.chroma import client as chroma_client
from autoembedding.chroma.client import call_with_collection, connect, open_collection
from autoembedding.chroma.errors import is_function_conflict, translate
from autoembedding.chroma.pages import iter_pages
from autoembedding.chroma.records import (
    check_dimension,
    get_record,
    merged_metadata,
    user_metadata,
    write_record,
)
from autoembedding.errors import (
    ChromaUnavailableError,
    CollectionError,
    CollectionNotFoundError,
    ModelMismatchError,
)
from autoembedding.record import VECTOR_OPTIONS, ModelRecord


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------ connect
def test_connect_needs_exactly_one_place(tmp_path):
    with pytest.raises(CollectionError, match="exactly one"):
        connect()
    with pytest.raises(CollectionError, match=r"exactly one.*\['path', 'url'\]"):
        connect(tmp_path, url="http://localhost:8000")
    with pytest.raises(CollectionError, match="port= goes with host="):
        connect(url="http://localhost:8000", port=9000)


def test_connect_path_makes_a_database_that_connect_must_exist_then_accepts(tmp_path):
    db = tmp_path / "db"
    client = connect(db)
    client.create_collection("docs")
    again = connect(str(db), must_exist=True)
    assert [c.name for c in again.list_collections()] == ["docs"]


def test_connect_must_exist_refuses_a_missing_folder_without_creating_it(tmp_path):
    missing = tmp_path / "no-such-db"
    with pytest.raises(CollectionError, match=f"No Chroma database at {missing}.*does not exist"):
        connect(missing, must_exist=True)
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CollectionError, match=f"No Chroma database at {empty}.*chroma.sqlite3"):
        connect(empty, must_exist=True)
    assert list(empty.iterdir()) == []


def test_connect_refuses_a_file_naming_it(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("hello")
    with pytest.raises(CollectionError, match=f"{file} is a file"):
        connect(file)
    assert file.read_text() == "hello"


def test_connect_to_no_server_names_the_url():
    port = _closed_port()
    with pytest.raises(ChromaUnavailableError, match=f"answers at http://127.0.0.1:{port}"):
        connect(host="127.0.0.1", port=port)
    with pytest.raises(ChromaUnavailableError, match=f"answers at http://127.0.0.1:{port}"):
        connect(url=f"http://127.0.0.1:{port}")


class _FakeServer:
    """Stands in for chromadb.HttpClient: records its arguments and answers the heartbeat."""

    calls: list[dict] = []

    def __init__(self, **kwargs):
        self.calls.append(kwargs)
        self.beats = 0

    def heartbeat(self) -> int:
        self.beats += 1
        return 1


@pytest.fixture
def fake_server(monkeypatch):
    _FakeServer.calls = []
    monkeypatch.setattr(chromadb, "HttpClient", _FakeServer)
    return _FakeServer


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"url": "http://chroma.local:9000"}, {"host": "chroma.local", "port": 9000, "ssl": False}),
        ({"url": "https://chroma.example.org"}, {"host": "chroma.example.org", "port": 443}),
        ({"url": "http://[::1]:8123/"}, {"host": "::1", "port": 8123, "ssl": False}),
        ({"url": "http://localhost"}, {"host": "localhost", "port": 8000}),
        ({"host": "h"}, {"host": "h", "port": 8000}),
        ({"host": "h", "port": 7, "headers": {"x": "1"}}, {"port": 7, "headers": {"x": "1"}}),
    ],
)
def test_connect_server_arguments_and_heartbeat(fake_server, kwargs, expected):
    client = connect(**kwargs)
    assert client.beats == 1
    (call,) = fake_server.calls
    assert expected.items() <= call.items()
    if "https" in kwargs.get("url", ""):
        assert call["ssl"] is True


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://host:1", "not http"),
        ("localhost:8000", "not http"),
        ("http://:8000", "not http"),
        ("http://host:99999", "bad port"),
        ("http://host:8000/api/v2", "path or query"),
    ],
)
def test_connect_rejects_bad_urls(fake_server, url, match):
    with pytest.raises(CollectionError, match=match):
        connect(url=url)
    assert fake_server.calls == []


# ------------------------------------------------------------------------------ collections
def test_open_collection_not_found_names_collection_and_path(tmp_path):
    db = tmp_path / "db"
    client = connect(db)
    with pytest.raises(CollectionNotFoundError, match=f"'nope' at {db}: it does not exist"):
        open_collection(client, "nope")
    client.create_collection("docs")
    assert open_collection(client, "docs", embedding_function=None).name == "docs"


def test_open_collection_with_a_conflicting_function_is_a_model_mismatch(tmp_path):
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    from autoembedding.integrations.chroma import AutoEmbeddingFunction

    client = connect(tmp_path / "db")
    client.create_collection("made-by-default", embedding_function=DefaultEmbeddingFunction())
    with pytest.raises(ModelMismatchError, match="another embedding function") as info:
        open_collection(
            client, "made-by-default", embedding_function=AutoEmbeddingFunction("fake/c")
        )
    assert is_function_conflict(info.value.__cause__)
    # The migration hint is a command that runs as printed: where the database is, which one.
    assert f"autoembed swap --chroma-path {tmp_path / 'db'} --collection made-by-default" in str(
        info.value
    )


def test_function_conflict_is_told_by_origin_not_by_text():
    text = "Embedding function conflict: new: a vs persisted: b"
    try:
        raise ValueError(text)
    except ValueError as exc:
        assert not is_function_conflict(exc)
        assert translate(exc, "open") is exc  # an unknown ValueError passes through


def test_call_with_collection_gives_up_with_not_found(tmp_path):
    client = connect(tmp_path / "db")
    with pytest.raises(CollectionNotFoundError, match="'late'"):
        call_with_collection(client, "late", lambda c: c.count(), wait_s=0.2, interval_s=0.05)
    client.create_collection("late")
    assert call_with_collection(client, "late", lambda c: c.name) == "late"


def test_describe_client_of_a_persistent_client(tmp_path):
    assert chroma_client.describe_client(connect(tmp_path / "db")) == str(tmp_path / "db")
    assert chroma_client.describe_client(object()) is None


# ---------------------------------------------------------------------------------- records
def test_vector_options_are_exactly_the_record_fields_that_change_vectors():
    fields = {f.name for f in dataclasses.fields(ModelRecord)}
    retrieval = {"retrieval", "tokenizer", "fusion", "fusion_weight", "rrf_k"}  # not vectors
    assert set(VECTOR_OPTIONS) == fields - {"model_id", "backend", "dim"} - retrieval
    record = ModelRecord("m", "fake", 64, truncate_dim=32, precision="int8", query_prompt="q: ")
    assert tuple(record.to_options()) == VECTOR_OPTIONS


@pytest.mark.parametrize("truncate_dim", [None, 32])
def test_record_round_trips_through_config_and_metadata(truncate_dim):
    record = ModelRecord(
        "fake/c", "fake", 64, truncate_dim, "binary", "q: ", "d: ", normalize=False
    )
    assert ModelRecord.from_config(record.to_config()) == record
    assert ModelRecord.from_config(record.to_config(model_key="model"), model_key="model") == record
    assert record.to_config(model_key="model")["model"] == "fake/c"
    metadata = record.to_metadata()
    assert None not in metadata.values()  # Chroma refuses None metadata values
    assert ModelRecord.from_metadata({**metadata, "topic": "x"}) == record
    assert ModelRecord.from_metadata({"topic": "x"}) is None


def test_from_config_without_a_model_id_raises():
    with pytest.raises(KeyError):
        ModelRecord.from_config({"dim": 3})


def test_metadata_filters_keep_the_users_keys(tmp_path):
    record = get_adapter("fake/c").record()
    old = ModelRecord("fake/old", "fake", 8).to_metadata()
    existing = {"topic": "x", "hnsw:space": "cosine", **old}
    assert user_metadata(existing) == {"topic": "x"}
    merged = merged_metadata(existing, record)
    assert merged == {"topic": "x", "hnsw:space": "cosine", **record.to_metadata()}
    col = connect(tmp_path / "db").create_collection(
        "docs", metadata={"topic": "x", "hnsw:space": "ip"}
    )
    write_record(col, record)  # would fail if hnsw keys were sent back to modify()
    assert get_record(col) == record
    assert col.metadata["topic"] == "x"


def test_check_dimension_of_an_unrecorded_collection(tmp_path):
    col = connect(tmp_path / "db").create_collection("plain", embedding_function=None)
    record = get_adapter("fake/c").record()  # 64-d
    assert check_dimension(col, record) is None
    col.add(ids=["0"], embeddings=[[0.1] * 32])
    hint = "'plain' holds 32-d.*swap --chroma-path .* --collection plain"
    with pytest.raises(ModelMismatchError, match=hint):
        check_dimension(col, record)
    assert check_dimension(col, get_adapter("fake/c", truncate_dim=32).record()) == 32


# ------------------------------------------------------------------------------------ pages
def test_iter_pages_reads_everything_once_in_pages(tmp_path):
    col = connect(tmp_path / "db").create_collection("docs", embedding_function=None)
    col.add(ids=[f"{i:02d}" for i in range(10)], embeddings=[[float(i), 1.0] for i in range(10)])
    pages = list(iter_pages(col, page_size=4))
    assert [len(p.ids) for p in pages] == [4, 4, 2]
    assert [p.offset for p in pages] == [0, 4, 8]
    assert sorted(i for p in pages for i in p.ids) == [f"{i:02d}" for i in range(10)]
    assert pages[0].documents == [None] * 4
    limited = list(iter_pages(col, page_size=3, start=2, limit=5))
    assert [len(p.ids) for p in limited] == [3, 2]
    with pytest.raises(ValueError, match="page_size"):
        next(iter_pages(col, page_size=0))
