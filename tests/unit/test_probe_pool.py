"""The probe's sample and pool (issue 23.5): titles read from metadata, keyphrase queries cut
out of their documents, harder pools, and the query kinds that decided the pick."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.probe import probe
from autoembedding.probe.queries import ProbeDoc, build_label_free
from autoembedding.probe.queries.text import terms
from autoembedding.probe.report import format_table, report_to_dict
from autoembedding.probe.sampling import sample_collection

chromadb = pytest.importorskip("chromadb")

from tests.unit.test_probe import make_docs  # noqa: E402


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


def _short_docs(n: int, sentences: int, seed: int = 0, shared: bool = False) -> list[ProbeDoc]:
    """Documents of one or two sentences over words of their own (``shared``: each sentence
    starts and ends with the document's topic word)."""
    rng = random.Random(seed)
    vocab = [f"word{i}" for i in range(5000)]
    rng.shuffle(vocab)
    docs = []
    for d in range(n):
        parts = []
        for s in range(sentences):
            start = (d * sentences + s) * 7
            topic = [f"topic{d}"] if shared else []
            words = topic + vocab[start : start + 7] + topic
            parts.append(" ".join(words).capitalize() + ".")
        docs.append(ProbeDoc(f"s{d}", " ".join(parts)))
    return docs


@pytest.mark.parametrize("sentences", [1, 2])
def test_keyphrase_queries_are_cut_out_of_their_documents(sentences):
    docs = _short_docs(30, sentences, shared=True)
    made = build_label_free(docs, n_queries=30, seed=0)
    assert made.kinds == {"keyphrase": 30}
    pool = {d.id: d.text for d in made.pool}
    originals = {d.id: d.text for d in docs}
    for query in made.queries:
        (doc_id,) = query.relevant
        answer, asked = set(terms(pool[doc_id])), set(terms(query.text))
        assert asked & answer  # answerable: the rest repeats a word of the cut piece ...
        assert len(asked - answer) >= 2, (query.text, pool[doc_id])  # ... but not the query
        assert len(pool[doc_id]) < len(originals[doc_id])  # a piece was cut, the rest kept


def _pairs_of_topics(n_topics: int, seed: int = 0) -> list[tuple[str, str]]:
    """Two documents per topic, each three sentences of its topic's rare words and its own."""
    rng = random.Random(seed)
    docs = []
    for t in range(n_topics):
        topic = [f"topic{t}x{j}" for j in range(6)]
        for k in range(2):
            own = [f"own{t}y{k}z{j}" for j in range(12)]
            words = topic + own
            sentences = [" ".join(rng.sample(words, 7)).capitalize() + "." for _ in range(3)]
            docs.append((f"t{t}-{k}", " ".join(sentences)))
    return docs


def _mates_in_pool(pool) -> float:
    ids = {d.id for d in pool}
    mate = {d.id: d.id[:-1] + ("1" if d.id.endswith("0") else "0") for d in pool}
    return sum(mate[i] in ids for i in ids) / len(ids)


def test_the_pool_holds_each_seeds_nearest_neighbour_not_only_random_documents():
    from autoembedding.probe.sampling import sample_documents

    docs = _pairs_of_topics(500)  # 1,000 documents: a random 40 hold ~4% of their topic mates
    pool, total = sample_documents(docs, 40, seed=0)
    assert total == 1000 and len(pool) == 40 and len({d.id for d in pool}) == 40
    assert _mates_in_pool(pool) >= 0.9
    again, _ = sample_documents(docs, 40, seed=0)
    assert [d.id for d in again] == [d.id for d in pool]  # seeded
    other, _ = sample_documents(docs, 40, seed=1)
    assert [d.id for d in other] != [d.id for d in pool]


def test_sibling_chunks_join_the_pool_and_a_shared_title_answers_all_of_them(tmp_path):
    docs = make_docs(240, seed=3)  # unrelated texts: only the metadata ties chunks together
    metas = [
        {"source": f"file{i // 3}.pdf", "title": f"Report {i // 3} on the cohort"}
        for i in range(240)
    ]
    col = make_collection(tmp_path / "db", docs, metas)
    pool, _ = sample_collection(col, 30, seed=0)
    sources = Counter(d.metadata["source"] for d in pool)
    assert sum(n for n in sources.values() if n >= 2) >= 0.9 * len(pool)
    made = build_label_free(pool, n_queries=30, seed=0, title_share=1.0)
    for query in (q for q in made.queries if q.kind == "title"):
        same = {d.id for d in pool if d.metadata["title"] == query.text}
        assert query.relevant == same and len(same) >= 1
    assert any(len(q.relevant) >= 2 for q in made.queries if q.kind == "title")


def test_an_ict_sentence_another_pool_document_holds_verbatim_is_not_asked():
    base = [ProbeDoc(i, t) for i, t in make_docs(12, seed=5)]
    a = base[0]
    overlap = ProbeDoc("a-next", " ".join(a.text.split(". ")[1:4]) + ". Then more words here.")
    made = build_label_free([a, overlap, *base[1:]], n_queries=24, seed=0)
    assert made.queries and not [q for q in made.queries if q.text in overlap.text]


def test_chunks_sharing_a_title_each_give_a_query():
    title = {"title": "Annual report of the cohort"}
    docs = [ProbeDoc(d.id, d.text, title) for d in _short_docs(6, 2)]
    made = build_label_free(docs, n_queries=6, seed=0, title_share=1.0)
    assert len(made.queries) == 6  # one title query, then the siblings' next kind
    assert made.kinds == {"title": 1, "keyphrase": 5}
    (title_query,) = [q for q in made.queries if q.kind == "title"]
    assert title_query.relevant == {d.id for d in docs}
