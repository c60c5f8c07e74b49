"""The probe's sample and pool (issue 23.5): titles read from metadata, keyphrase queries cut
out of their documents, harder pools, and the query kinds that decided the pick."""

from __future__ import annotations

import random

import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.selector.probing import probe
from autoembedding.selector.probing.queries import ProbeDoc, build_label_free
from autoembedding.selector.probing.queries.text import terms
from autoembedding.selector.probing.sampling import sample_collection
from autoembedding.selector.report import format_table, report_to_dict

chromadb = pytest.importorskip("chromadb")


def make_docs(n: int = 60, seed: int = 0) -> list[tuple[str, str]]:
    """Documents of five sentences each over a document-specific vocabulary."""
    rng = random.Random(seed)
    vocab = [f"term{i}" for i in range(4000)]
    docs = []
    for d in range(n):
        words = rng.sample(vocab, 40)
        sentences = [" ".join(rng.sample(words, 8)).capitalize() + "." for _ in range(5)]
        docs.append((f"d{d:04d}", " ".join(sentences)))
    return docs


def make_collection(path, docs, metadatas=None, name: str = "docs"):
    """A real embedded Chroma collection with fake stored vectors (as test_probe.py does)."""
    client = chromadb.PersistentClient(path=str(path))
    col = client.create_collection(name, embedding_function=None)
    vectors = FakeAdapter("store").embed_documents([t for _, t in docs])
    col.add(
        ids=[i for i, _ in docs],
        embeddings=vectors.tolist(),
        documents=[t for _, t in docs],
        metadatas=metadatas,
    )
    return col


@pytest.mark.parametrize("key", ["title", "Title", "heading"])
def test_titles_in_chroma_metadata_give_title_queries(tmp_path, key):
    docs = make_docs(30)
    metas = [{key: f"Study number {i} of the clinic cohort", "page": i} for i in range(30)]
    col = make_collection(tmp_path / "db", docs, metas)
    sample, total = sample_collection(col, 30, seed=0)
    assert total == 30
    assert all(d.metadata and d.metadata["page"] >= 0 for d in sample)
    probe_set = build_label_free(sample, n_queries=30, seed=0)
    titles = [q for q in probe_set.queries if q.kind == "title"]
    assert len(titles) >= 5  # about half the titled documents ask their title first
    by_id = {d.id: d for d in sample}
    for query in titles:
        (doc_id,) = query.relevant
        assert by_id[doc_id].metadata[key] == query.text


def test_title_copied_into_the_text_is_cut_out_of_the_answer():
    text = "Aspirin and stroke\n\nLow doses lower the risk of a second stroke in older adults."
    doc = ProbeDoc("t", text, {"Title": "Aspirin and stroke"})
    probe_set = build_label_free([doc], n_queries=1, seed=0, title_share=1.0)
    assert [q.kind for q in probe_set.queries] == ["title"]
    assert "aspirin and stroke" not in probe_set.pool[0].text.lower()
    assert "second stroke" in probe_set.pool[0].text


def test_report_counts_the_queries_of_each_kind_that_decided_the_pick(tmp_path):
    docs = make_docs(24)
    metas = [{"title": f"Study number {i} of the clinic cohort"} for i in range(24)]
    col = make_collection(tmp_path / "db", docs, metas)
    report = probe(col, candidates=[FakeAdapter("a"), FakeAdapter("b", noise=0.5)], seed=0)
    kinds = report.query_kinds
    assert kinds.get("title", 0) > 0 and kinds.get("ict", 0) > 0
    assert sum(kinds.values()) == report.n_queries
    data = report_to_dict(report)
    assert data["query_kinds"] == kinds
    summary = next(line for line in format_table(report).splitlines() if "pool:" in line)
    assert f"title {kinds['title']}" in summary and f"ict {kinds['ict']}" in summary


def test_labelled_queries_are_counted_as_labelled():
    docs = [(i, t) for i, t in make_docs(30)]
    queries = [(t.split(".")[1], [i]) for i, t in docs[:12]]
    report = probe(documents=docs, queries=queries, candidates=[FakeAdapter("a")], seed=0)
    assert report.query_kinds == {"labelled": report.n_queries}
    assert f"labelled {report.n_queries}]" in format_table(report)


def _short_docs(n: int, sentences: int, seed: int = 0) -> list[ProbeDoc]:
    """Documents of one or two sentences, each sentence over words of its own."""
    rng = random.Random(seed)
    vocab = [f"word{i}" for i in range(5000)]
    rng.shuffle(vocab)
    docs = []
    for d in range(n):
        parts = []
        for s in range(sentences):
            start = (d * sentences + s) * 7
            parts.append(" ".join(vocab[start : start + 7]).capitalize() + ".")
        docs.append(ProbeDoc(f"s{d}", " ".join(parts)))
    return docs


@pytest.mark.parametrize("sentences", [1, 2])
def test_keyphrase_queries_are_cut_out_of_their_documents(sentences):
    docs = _short_docs(30, sentences)
    made = build_label_free(docs, n_queries=30, seed=0)
    assert made.kinds == {"keyphrase": 30}
    pool = {d.id: d.text for d in made.pool}
    originals = {d.id: d.text for d in docs}
    for query in made.queries:
        (doc_id,) = query.relevant
        answer = set(terms(pool[doc_id]))
        assert answer and not set(terms(query.text)) & answer, (query.text, pool[doc_id])
        assert len(pool[doc_id]) < len(originals[doc_id])  # a piece was cut, the rest kept
