"""BM25Index: search, add, save/load with a manifest, staleness, bad folders."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from autoembedding.errors import CollectionError, LexicalIndexError, MissingExtraError
from autoembedding.lexical import BM25Index, Tokenizer, content_fingerprint
from autoembedding.lexical.manifest import FORMAT_VERSION, IndexManifest

IDS = ["cat", "dog", "empty", "zh", "bird"]
TEXTS = [
    "Cats are running in the garden",
    "The dog barks at the cat",
    "",
    "北京大学的研究人员发表了论文",
    "Birds fly south in winter",
]


@pytest.fixture
def index() -> BM25Index:
    return BM25Index.build(IDS, TEXTS, "mixed:zh+en")


def test_search_ranks_matching_documents_best_first(index):
    hits = index.search("running cats", k=10)
    assert [doc_id for doc_id, _ in hits] == ["cat", "dog"]  # "cat" matches twice
    assert hits[0][1] > hits[1][1] > 0


def test_search_returns_only_documents_sharing_a_term(index):
    assert [doc_id for doc_id, _ in index.search("winter birds")] == ["bird"]
    assert [doc_id for doc_id, _ in index.search("研究论文")] == ["zh"]


def test_k_limits_the_results(index):
    assert len(index.search("cat dog bird", k=1)) == 1
    assert len(index.search("cat dog bird", k=100)) == 3


@pytest.mark.parametrize("query", ["", "   ", "the and of", "zzzunknownzzz", "!!!"])
def test_empty_stopword_only_and_unknown_queries_return_nothing(index, query):
    assert index.search(query) == []
    assert not index.scores(query).any()


def test_scores_are_per_document_in_id_order(index):
    scores = index.scores("cat")
    assert scores.shape == (len(IDS),)
    assert scores[IDS.index("cat")] > 0 and scores[IDS.index("bird")] == 0


def test_documents_without_words_are_allowed_and_never_match(index):
    assert index.count == 5
    assert all(doc_id != "empty" for doc_id, _ in index.search("cat dog bird 北京"))


def test_an_index_of_only_empty_documents_answers_nothing(tmp_path):
    index = BM25Index.build(["a", "b"], ["", None], "en")
    assert index.search("anything") == []
    assert index.index_bytes == 0
    index.save(tmp_path / "ix")
    assert BM25Index.load(tmp_path / "ix").search("anything") == []


def test_tokenizer_is_detected_when_not_given():
    index = BM25Index.build(
        ["1", "2"], ["广茂铁路是中国广东省一条铁路。", "锣鼓经是打击乐记谱方法"]
    )
    assert index.tokenizer.spec == "zh"
    assert index.search("广东省的铁路")[0][0] == "1"


def test_duplicate_ids_are_refused(index):
    with pytest.raises(CollectionError, match="already"):
        BM25Index.build(["a", "a"], ["x", "y"], "en")
    with pytest.raises(CollectionError, match="already"):
        index.add(["cat"], ["another cat"])
    with pytest.raises(CollectionError, match="ids but"):
        index.add(["new"], [])
    assert index.count == 5  # a refused add changes nothing


def test_add_makes_new_documents_searchable_and_updates_the_fingerprint(index):
    before = index.search("cat")
    index.add(["lion", "cub"], ["A lion is a big cat", "Lion cubs"])
    assert index.count == 7
    assert "lion" in [doc_id for doc_id, _ in index.search("lion")]
    assert index.search("cat") != before  # idf changed and a third document matches
    assert index.fingerprint == content_fingerprint(
        [*IDS, "lion", "cub"], [*TEXTS, "A lion is a big cat", "Lion cubs"]
    )
    rebuilt = BM25Index.build(
        [*IDS, "lion", "cub"], [*TEXTS, "A lion is a big cat", "Lion cubs"], "mixed:zh+en"
    )
    assert index.search("big cat lion") == rebuilt.search("big cat lion")


def test_staleness(index):
    fp = content_fingerprint(IDS, TEXTS)
    assert not index.is_stale(5, fp)
    assert index.is_stale(6, fp)
    changed = content_fingerprint(IDS, [*TEXTS[:-1], "Birds fly north"])
    assert index.is_stale(5, changed)
    assert not index.is_stale(5, content_fingerprint(IDS[::-1], TEXTS[::-1]))  # order-free


def test_build_reports_time_and_size(index):
    assert index.build_seconds > 0
    assert index.index_bytes > 0
    assert index.built_at.endswith("+00:00")


def test_save_load_round_trip(index, tmp_path):
    manifest = index.save(tmp_path / "ix")
    loaded = BM25Index.load(tmp_path / "ix")
    assert loaded.ids == index.ids
    assert loaded.tokenizer == index.tokenizer
    assert loaded.fingerprint == index.fingerprint
    for query in ["running cats", "研究论文", "birds", "the"]:
        assert loaded.search(query) == index.search(query)
    assert np.allclose(loaded.scores("cat dog"), index.scores("cat dog"))
    on_disk = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert on_disk["format_version"] == FORMAT_VERSION
    assert on_disk["tokenizer"] == "mixed:zh+en"
    assert on_disk["count"] == 5
    assert on_disk["fingerprint"] == content_fingerprint(IDS, TEXTS)
    assert on_disk["index_bytes"] == index.index_bytes > 0
    assert on_disk["disk_bytes"] == sum(on_disk["files"].values()) > 0
    assert manifest == IndexManifest.from_json((tmp_path / "ix" / "manifest.json").read_text())


def test_loaded_index_can_grow_and_be_saved_again(index, tmp_path):
    index.save(tmp_path / "ix")
    loaded = BM25Index.load(tmp_path / "ix")
    loaded.add(["lion"], ["A lion is a big cat"])
    loaded.save(tmp_path / "ix")  # replaces the folder
    again = BM25Index.load(tmp_path / "ix")
    assert again.count == 6 and again.search("lion")[0][0] == "lion"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]  # no temporary folder left


def test_missing_folder_raises_collection_error(tmp_path):
    with pytest.raises(LexicalIndexError, match="does not exist"):
        BM25Index.load(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    with pytest.raises(LexicalIndexError, match="no manifest"):
        BM25Index.load(tmp_path / "half")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "manifest.json").write_text("{not json"),
        lambda d: (d / "manifest.json").write_text("[]"),
        lambda d: (d / "manifest.json").write_text('{"format_version": 1}'),
        lambda d: (d / "docs.jsonl").write_text('["cat", ["cat"]]\n'),
        lambda d: (d / "docs.jsonl").unlink(),
        lambda d: next((d / "bm25s").glob("data*.npy")).write_bytes(b"garbage"),
        lambda d: (d / "bm25s" / "vocab.index.json").unlink(),
    ],
    ids=[
        "bad-json",
        "not-object",
        "missing-fields",
        "truncated-docs",
        "no-docs",
        "bad-npy",
        "no-vocab",
    ],
)
def test_corrupt_folder_raises_collection_error(index, tmp_path, damage):
    index.save(tmp_path / "ix")
    damage(tmp_path / "ix")
    with pytest.raises(LexicalIndexError, match="corrupt|format"):
        BM25Index.load(tmp_path / "ix")


def test_other_format_version_is_refused(index, tmp_path):
    index.save(tmp_path / "ix")
    path = tmp_path / "ix" / "manifest.json"
    data = json.loads(path.read_text())
    data["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(LexicalIndexError, match="format"):
        BM25Index.load(tmp_path / "ix")


def test_missing_bm25s_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "bm25s", None)
    with pytest.raises(MissingExtraError, match=r"autoembedding\[lexical\]"):
        BM25Index.build(["a"], ["some words"], Tokenizer("und"))


def test_bm25_on_the_bundled_chinese_data_beats_plain_words(test_data):
    folder = test_data / "cmrc2018-zh"
    with open(folder / "corpus.jsonl", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    ids = [r["_id"] for r in rows]
    texts = [f"{r['title']} {r['text']}" for r in rows]
    with open(folder / "queries.jsonl", encoding="utf-8") as lines:
        queries = {r["_id"]: r["text"] for r in map(json.loads, lines)}
    with open(folder / "qrels.tsv", encoding="utf-8") as lines:
        qrels = [line.split("\t")[:2] for line in list(lines)[1:]][:100]

    def hit_rate(index):
        hits = [index.search(queries[q], k=1) for q, _ in qrels]
        return np.mean([bool(h) and h[0][0] == d for h, (_, d) in zip(hits, qrels, strict=True)])

    zh, plain = BM25Index.build(ids, texts), BM25Index.build(ids, texts, "und")
    assert zh.tokenizer.spec == "zh"
    assert hit_rate(zh) >= 0.8 > 0.4 >= hit_rate(plain)
