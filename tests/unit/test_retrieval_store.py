"""Issue 12, item 4 (the persisted BM25 index) and its "Bad input" list.

Real bm25s and a real embedded Chroma: the index of a collection is saved in a folder keyed by
the collection's id, checked against the collection (count and content fingerprint) on open,
rebuilt with a ``LexicalIndexWarning`` when missing, corrupt, stale or built with another
tokenizer, and updated when documents are added through our classes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from autoembedding.chroma.records import read_record, write_record
from autoembedding.errors import LexicalIndexWarning
from autoembedding.integrations.chroma import get_or_create_collection
from autoembedding.lexical import BM25Index
from autoembedding.retrieval import (
    BM25_DIR_ENV,
    add_to_index,
    build_index,
    drop_index,
    index_folder,
    open_index,
)
from autoembedding.retrieval.search import Searcher

TEXTS = [
    "Cats are running across the garden",
    "Dogs bark at the postman every morning",
    "A zebra grazes on the savanna",
    "Penguins swim in cold water",
    "The stock market fell sharply today",
]
IDS = [f"d{i}" for i in range(len(TEXTS))]


@pytest.fixture(autouse=True)
def _own_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(BM25_DIR_ENV, raising=False)


@pytest.fixture
def docs(chroma_client):
    """An English collection recorded as lexical (``en`` tokens), embedded by a fake model."""
    guarded = get_or_create_collection(chroma_client, "docs", model="fake/a")
    guarded.add(ids=IDS, documents=TEXTS)
    raw = chroma_client.get_collection("docs", embedding_function=None)
    write_record(raw, read_record(raw).with_retrieval("lexical", tokenizer="en"))
    return chroma_client.get_collection("docs", embedding_function=None)


@contextmanager
def _no_rebuild() -> Iterator[None]:
    """Fail the test if a ``LexicalIndexWarning`` (a rebuild) is emitted inside."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", LexicalIndexWarning)
        yield


def test_folder_sits_beside_an_embedded_database_keyed_by_id(docs, chroma_path):
    folder = index_folder(docs)
    assert folder == chroma_path / "autoembedding-bm25" / str(docs.id)
    assert not folder.exists()
    index = build_index(docs, "en")
    assert folder.is_dir() and (folder / "manifest.json").is_file()
    assert index.tokenizer.spec == "en" and index.count == len(TEXTS)
    assert [doc_id for doc_id, _ in index.search("running cat")] == ["d0"]


def test_folder_for_memory_server_and_forced_root(tmp_path, monkeypatch):
    import chromadb

    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(tmp_path / "cache"))
    memory = chromadb.EphemeralClient().get_or_create_collection("docs-memory-folder")
    assert index_folder(memory) == tmp_path / "cache" / "bm25" / "memory" / str(memory.id)
    server = SimpleNamespace(
        get_settings=lambda: SimpleNamespace(
            is_persistent=False, chroma_server_host="10.0.0.7", chroma_server_http_port=8123
        )
    )
    handle = SimpleNamespace(id="abc-123", name="docs")
    expected = tmp_path / "cache" / "bm25" / "10.0.0.7_8123" / "abc-123"
    assert index_folder(handle, client=server) == expected
    monkeypatch.setenv(BM25_DIR_ENV, str(tmp_path / "forced"))
    assert index_folder(handle, client=server) == tmp_path / "forced" / "abc-123"


def test_open_uses_a_matching_index_without_warning(docs):
    build_index(docs, "en")
    with _no_rebuild():
        index = open_index(docs, "en")
        again = open_index(docs)  # "" accepts the saved tokenizer
    assert index.count == again.count == len(TEXTS)
    assert again.tokenizer.spec == "en"


def test_missing_index_is_built_with_a_warning(docs):
    with pytest.warns(LexicalIndexWarning, match="none was saved yet"):
        index = open_index(docs, "en")
    assert index_folder(docs).is_dir()
    assert index.search("zebra")[0][0] == "d2"


def test_corrupt_index_is_rebuilt_with_a_warning(docs):
    build_index(docs, "en")
    folder = index_folder(docs)
    (folder / "docs.jsonl").write_text('["d0", ["cat"]]\n', encoding="utf-8")  # truncated
    with pytest.warns(LexicalIndexWarning, match="corrupt"):
        index = open_index(docs, "en")
    assert index.count == len(TEXTS)
    (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.warns(LexicalIndexWarning, match="corrupt"):
        index = open_index(docs, "en")
    assert [doc_id for doc_id, _ in index.search("penguin swimming")] == ["d3"]


def test_index_of_another_tokenizer_is_rebuilt_with_a_warning(docs):
    build_index(docs, "und")
    with pytest.warns(LexicalIndexWarning, match="tokenizer 'und', not 'en'"):
        index = open_index(docs, "en")
    assert index.tokenizer.spec == "en"
    assert BM25Index.load(index_folder(docs)).tokenizer.spec == "en"  # and saved


def test_index_stale_by_count_is_rebuilt_with_a_warning(docs):
    build_index(docs, "en")
    docs.add(ids=["late"], documents=["An owl hunts at night"], embeddings=[[0.0] * 64])
    with pytest.warns(LexicalIndexWarning, match="holds 5 documents, the collection 6"):
        index = open_index(docs, "en")
    assert index.search("owl")[0][0] == "late"


def test_change_by_another_process_is_detected(docs, chroma_path):
    """Same count, one text changed in another process: the fingerprint catches it."""
    build_index(docs, "en")
    script = textwrap.dedent(
        f"""
        import chromadb
        col = chromadb.PersistentClient(path={str(chroma_path)!r}).get_collection(
            "docs", embedding_function=None)
        col.update(ids=["d4"], documents=["A hedgehog sleeps under leaves"],
                   embeddings=[[0.0] * 64])
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    with pytest.warns(LexicalIndexWarning, match="documents changed"):
        index = open_index(docs, "en")
    assert index.search("hedgehog")[0][0] == "d4"
    assert index.search("stock market") == []


def test_documents_with_no_words_are_indexed_but_never_match(chroma_client):
    col = chroma_client.create_collection("blank", embedding_function=None)
    col.add(
        ids=["empty", "punct", "none", "real"],
        documents=["", "!!! ... ???", None, "a real sentence about owls"],
        embeddings=[[0.1, 0.2]] * 4,
    )
    index = build_index(col, "en")
    assert index.count == 4
    assert [doc_id for doc_id, _ in index.search("owls sentence")] == ["real"]
    only_blank = chroma_client.create_collection("blank-only", embedding_function=None)
    only_blank.add(ids=["a", "b"], documents=["", "?!"], embeddings=[[0.1, 0.2]] * 2)
    index = build_index(only_blank)
    assert index.count == 2 and index.search("anything") == []
    with _no_rebuild():
        assert open_index(only_blank).count == 2  # saved and read back without a rebuild


def test_language_without_a_stemmer_and_chinese(chroma_client):
    korean = chroma_client.create_collection("korean", embedding_function=None)
    texts = [
        "고양이가 정원에서 달리고 있습니다 그리고 우리는 본다",
        "개가 아침마다 우체부에게 짖습니다 그리고 우리는 듣는다",
        "얼룩말이 초원에서 풀을 뜯습니다 그리고 우리는 본다",
    ]
    korean.add(ids=["k0", "k1", "k2"], documents=texts, embeddings=[[0.1, 0.2]] * 3)
    index = build_index(korean)  # language detected from the documents
    assert index.tokenizer.spec == "words:ko"
    assert index.search("얼룩말이")[0][0] == "k2"
    chinese = chroma_client.create_collection("chinese", embedding_function=None)
    chinese.add(
        ids=["z0", "z1"],
        documents=["北京是中国的首都，有很多历史建筑。", "上海是一个国际化的大城市。"],
        embeddings=[[0.1, 0.2]] * 2,
    )
    index = build_index(chinese)
    assert index.tokenizer.spec == "zh"
    assert index.search("中国的首都在哪里")[0][0] == "z0"


def test_add_to_index_updates_the_saved_index(docs):
    add_to_index(docs, ["x"], ["nothing saved yet"])
    assert not index_folder(docs).exists()  # nothing built here: open_index builds it
    build_index(docs, "en")
    docs.add(ids=["owl"], documents=["An owl hunts at night"], embeddings=[[0.0] * 64])
    add_to_index(docs, ["owl"], ["An owl hunts at night"])
    with _no_rebuild():
        index = open_index(docs, "en")  # up to date: no rebuild
    assert index.count == 6 and index.search("owls hunting")[0][0] == "owl"
    # an upsert of a known id may change its text: the index is rebuilt from the collection
    docs.upsert(ids=["owl"], documents=["A heron fishes at dawn"], embeddings=[[0.0] * 64])
    add_to_index(docs, ["owl"], ["A heron fishes at dawn"])
    index = BM25Index.load(index_folder(docs))
    assert index.search("heron")[0][0] == "owl" and index.search("owl") == []


def test_drop_index(docs):
    build_index(docs, "en")
    drop_index(docs)
    assert not index_folder(docs).exists()
    drop_index(docs)  # nothing there: no error


def test_empty_and_stopword_queries_give_no_result(docs):
    searcher = Searcher(docs)
    with pytest.warns(LexicalIndexWarning):
        assert searcher.search("the of and", k=3) == []
    assert searcher.search("", k=3) == [] and searcher.search("   ", k=3) == []
    assert [hit.id for hit in searcher.search("zebra", k=3)] == ["d2"]
