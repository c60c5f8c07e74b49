"""Probe queries: sentence splitting, ICT, titles, keyphrases, labelled sets and BEIR files."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models import FakeListChatModel

from autoembedding.errors import CollectionError
from autoembedding.probe.queries import (
    ProbeDoc,
    build_label_free,
    labelled_probe_set,
    load_beir,
    split_sentences,
)

EN_DOC = (
    "Background matters here. Regular aerobic exercise improves insulin sensitivity in adults "
    "with obesity. The effect lasted for twelve weeks after training stopped. Insulin levels "
    "were measured monthly. Participants were recruited from three clinics."
)
ZH_DOC = (
    "长城是中国古代的军事防御工程。它修建于多个朝代！最著名的一段位于北京附近？今天它是热门景点。"
)


def _docs(n: int) -> list[ProbeDoc]:
    topics = ["insulin", "stroke", "malaria", "asthma", "sepsis", "anemia", "obesity", "autism"]
    out = []
    for i in range(n):
        t = topics[i % len(topics)]
        out.append(
            ProbeDoc(
                f"d{i}",
                # Each middle sentence has a word of its own, so no two stay equal once masked.
                f"Intro sentence number {i} about {t}. The {t} cohort {i} showed changes in "
                f"several blood markers at site{i}a over time. Researchers measured {t} outcomes "
                f"in group {i} with care{i}b. A final remark closes study {i}.",
            )
        )
    return out


def test_split_sentences_english_keeps_abbreviations():
    text = (
        "Dr. Smith et al. found 3.5 mg doses work, e.g. in mice. It failed in rats! Why? Unknown."
    )
    assert split_sentences(text) == [
        "Dr. Smith et al. found 3.5 mg doses work, e.g. in mice.",
        "It failed in rats!",
        "Why?",
        "Unknown.",
    ]


def test_split_sentences_chinese_and_japanese():
    assert split_sentences(ZH_DOC) == [
        "长城是中国古代的军事防御工程。",
        "它修建于多个朝代！",
        "最著名的一段位于北京附近？",
        "今天它是热门景点。",
    ]
    ja = split_sentences("今日は晴れです。明日は雨でしょう。")
    assert ja == ["今日は晴れです。", "明日は雨でしょう。"]
    assert split_sentences("") == []
    assert split_sentences("no end mark") == ["no end mark"]


def test_ict_removes_the_sentence_and_query_is_not_verbatim():
    docs = [ProbeDoc("x", EN_DOC), *_docs(20)]
    probe = build_label_free(docs, n_queries=21, seed=1)
    by_id = {d.id: d for d in probe.pool}
    ict = [q for q in probe.queries if q.kind == "ict"]
    assert len(ict) == 21
    for query in ict:
        (doc_id,) = query.relevant
        pool_text = by_id[doc_id].text
        original = next(d for d in docs if d.id == doc_id).text
        assert len(pool_text) < len(original)  # the cut sentence is gone
        assert query.text not in pool_text
        # The sentence that was cut is not in the pool text any more.
        cut = [s for s in split_sentences(original) if s not in split_sentences(pool_text)]
        assert len(cut) == 1
        # Middle sentences only.
        assert cut[0] not in (split_sentences(original)[0], split_sentences(original)[-1])


def test_ict_masks_rare_words_shared_with_the_rest_of_the_document():
    docs = [ProbeDoc("x", EN_DOC), *_docs(30)]
    probe = build_label_free(docs, n_queries=31, seed=0, mask_share=1 / 3)
    query = next(q for q in probe.queries if q.relevant == frozenset({"x"}))
    pool_text = next(d.text for d in probe.pool if d.id == "x")
    # 'insulin' is rare in the sample and also in the rest of the document: masked.
    assert "insulin" in pool_text.lower()
    assert "insulin" not in query.text.lower(), query.text
    assert len(query.text.split()) >= 5  # most of the sentence is kept


def test_ict_works_on_chinese():
    docs = [ProbeDoc("zh", ZH_DOC)] + [
        ProbeDoc(f"z{i}", f"第{i}段开头。这里讲述了第{i}个城市的历史和文化。结尾在此。")
        for i in range(5)
    ]
    probe = build_label_free(docs, n_queries=6, seed=0)
    assert all(q.kind == "ict" for q in probe.queries)
    for q in probe.queries:
        (doc_id,) = q.relevant
        assert q.text not in next(d.text for d in probe.pool if d.id == doc_id)


def test_short_documents_fall_back_to_title_then_keyphrase():
    docs = [
        ProbeDoc("t", "Aspirin lowers stroke risk.", {"title": "Low-dose aspirin and stroke"}),
        ProbeDoc("k", "Vitamin D deficiency common among elderly housebound patients."),
    ]
    probe = build_label_free(docs, n_queries=5, seed=0)
    kinds = {next(iter(q.relevant)): q.kind for q in probe.queries}
    assert kinds == {"t": "title", "k": "keyphrase"}
    assert len(probe.queries) == 2  # fewer documents than asked: one query each
    title_query = next(q for q in probe.queries if q.kind == "title")
    assert title_query.text == "Low-dose aspirin and stroke"


def test_no_usable_document_is_a_clear_error():
    with pytest.raises(CollectionError, match="labelled queries"):
        build_label_free([ProbeDoc("a", "Hi"), ProbeDoc("b", "")], n_queries=3)
    with pytest.raises(ValueError):
        build_label_free(_docs(3), n_queries=0)


def test_repeated_documents_are_deduplicated():
    doc = ProbeDoc("same", EN_DOC)
    probe = build_label_free([doc, doc, ProbeDoc("copy", EN_DOC), *_docs(4)], n_queries=10)
    assert [d.id for d in probe.pool].count("same") == 1
    assert "copy" not in probe.doc_ids
    # 5 distinct documents; 10 queries asked: a second round cuts one more sentence from each
    assert {next(iter(q.relevant)) for q in probe.queries} == set(probe.doc_ids)
    assert len(probe.queries) == 10


def test_more_queries_than_documents_cut_more_sentences_from_each():
    docs = _docs(6)
    one = build_label_free(docs, n_queries=6, seed=1)
    two = build_label_free(docs, n_queries=12, seed=1)
    assert two.queries[:6] == one.queries  # the first round is unchanged
    by_doc: dict[str, list[str]] = {}
    for q in two.queries:
        (doc_id,) = q.relevant
        by_doc.setdefault(doc_id, []).append(q.text)
    assert sorted(len(v) for v in by_doc.values()) == [2] * 6
    for doc in two.pool:  # both sentences are gone from their document
        for text in by_doc[doc.id]:
            assert text not in doc.text
    # documents too short for another ICT sentence stop the rounds: no endless loop
    short = [
        ProbeDoc(f"s{i}", f"Alpha beta {i}. Gamma delta {i}. Epsilon zeta {i}.") for i in range(4)
    ]
    assert len(build_label_free(short, n_queries=40).queries) <= 8


def test_seed_makes_it_reproducible():
    a = build_label_free(_docs(30), n_queries=10, seed=4)
    b = build_label_free(_docs(30), n_queries=10, seed=4)
    assert a.queries == b.queries and a.pool == b.pool


def test_llm_questions_from_a_langchain_chat_model():
    llm = FakeListChatModel(responses=["Which exercise helps insulin sensitivity?"] * 3)
    probe = build_label_free([ProbeDoc("x", EN_DOC)], n_queries=1, llm=llm)
    assert probe.queries[0].kind == "llm"
    assert probe.queries[0].text == "Which exercise helps insulin sensitivity?"
    assert probe.pool[0].text == EN_DOC


def test_labelled_probe_set_keeps_known_ids_only():
    pool = _docs(3)
    probe = labelled_probe_set([("q1", ["d0", "zzz"]), ("q2", ["nope"]), ("q3", {"d2"})], pool)
    assert probe.kind == "labelled"
    assert [(q.text, q.relevant) for q in probe.queries] == [
        ("q1", frozenset({"d0"})),
        ("q3", frozenset({"d2"})),
    ]
    with pytest.raises(CollectionError, match="ids"):
        labelled_probe_set([("q", ["nope"])], pool)


def test_load_beir(tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {"_id": "1", "text": "first"},
                {"_id": "2", "text": "second"},
                {"_id": "3", "text": "unjudged"},
            ]
        ),
        encoding="utf-8",
    )
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text(
        "query-id\tcorpus-id\tscore\n1\tA\t1\n1\tB\t2\n2\tC\t1\n2\tD\t0\n", encoding="utf-8"
    )
    assert load_beir(queries, qrels) == [
        ("first", frozenset({"A", "B"})),
        ("second", frozenset({"C"})),
    ]
    qrels.write_text("query-id\tcorpus-id\tscore\n1\tA\tx\n", encoding="utf-8")
    with pytest.raises(CollectionError, match="not a number"):
        load_beir(queries, qrels)
    with pytest.raises(CollectionError, match="does not exist"):
        load_beir(tmp_path / "missing.jsonl", qrels)


def test_masking_is_off_by_default_and_a_parameter():
    docs = [ProbeDoc("x", EN_DOC), *_docs(30)]
    plain = build_label_free(docs, n_queries=31, seed=0)
    masked = build_label_free(docs, n_queries=31, seed=0, mask_min_terms=1)
    by_doc = {next(iter(q.relevant)): q.text for q in plain.queries}
    for query in plain.queries:  # unmasked: the query is the cut sentence itself
        (doc_id,) = query.relevant
        original = next(d.text for d in docs if d.id == doc_id)
        assert query.text in split_sentences(original)
    # Same seed, same sentences cut: masking only drops words of the same sentence.
    changed = 0
    for query in masked.queries:
        (doc_id,) = query.relevant
        sentence = by_doc[doc_id]
        assert set(query.text.split()) <= set(sentence.split())
        changed += query.text != sentence
    assert changed > 0
    assert [d.text for d in masked.pool] == [d.text for d in plain.pool]


def test_title_share_decides_title_before_ict():
    titled = [
        ProbeDoc(d.id, d.text, {"title": f"Study {i} of a cohort in a clinic"})
        for i, d in enumerate(_docs(20))
    ]
    always = build_label_free(titled, n_queries=20, seed=0, title_share=1.0)
    never = build_label_free(titled, n_queries=20, seed=0, title_share=0.0)
    half = build_label_free(titled, n_queries=20, seed=0)
    assert always.kinds == {"title": 20}
    assert never.kinds == {"ict": 20}
    assert 0 < half.kinds["title"] < 20 and half.kinds["title"] + half.kinds["ict"] == 20


def test_short_titled_document_falls_back_to_its_title_when_ict_first():
    doc = ProbeDoc("t", "Aspirin lowers stroke risk.", {"title": "Low-dose aspirin and stroke"})
    probe = build_label_free([doc], n_queries=1, seed=0, title_share=0.0)
    assert [q.kind for q in probe.queries] == ["title"]


def test_registry_is_one_ordered_tuple_of_kinds():
    from autoembedding.probe.queries import KINDS

    assert [kind.name for kind in KINDS] == ["llm", "title", "ict", "keyphrase"]
    assert [kind.name for kind in KINDS if kind.share is not None] == ["title"]


def test_terms_are_words_or_cjk_bigrams():
    from autoembedding.probe.queries import is_unspaced, tokenize
    from autoembedding.probe.queries.text import has_han, terms

    assert tokenize("Well-known T-cells, aren't they?") == [
        "well-known",
        "t-cells",
        "aren't",
        "they",
    ]
    assert terms("长城很长") == ["长城", "城很", "很长"]
    assert terms("长城 is long") == ["长", "城", "is", "long"]  # mostly spaced: no bigrams
    assert is_unspaced(ZH_DOC) and not is_unspaced(EN_DOC) and not is_unspaced("   ")
    assert has_han("a 字") and not has_han("ひらがな")


def test_public_names_are_exported():
    from autoembedding.probe import queries

    assert set(queries.__all__) >= {
        "ProbeDoc",
        "ProbeQuery",
        "ProbeSet",
        "build_label_free",
        "labelled_probe_set",
        "load_beir",
        "split_sentences",
        "tokenize",
        "is_unspaced",
    }
    assert all(callable(getattr(queries, name)) for name in queries.__all__ if name != "KINDS")


def test_keep_share_leaves_the_sentence_in_without_changing_which_is_cut():
    docs = _docs(40)
    removed = build_label_free(docs, n_queries=40, seed=3, keep_share=0.0)
    kept = build_label_free(docs, n_queries=40, seed=3, keep_share=1.0)
    half = build_label_free(docs, n_queries=40, seed=3, keep_share=0.5)
    originals = {d.id: d.text for d in docs}
    # The same sentences are the queries, whatever the share.
    assert [q.text for q in removed.queries] == [q.text for q in kept.queries]
    assert [q.text for q in half.queries] == [q.text for q in removed.queries]
    assert removed.kinds == {"ict": 40} and kept.kinds == {"ict-kept": 40}
    for probe_set in (kept, half):
        pool = dict(zip(probe_set.doc_ids, probe_set.texts, strict=True))
        for query in probe_set.queries:
            (doc_id,) = query.relevant
            if query.kind == "ict-kept":
                assert pool[doc_id] == originals[doc_id] and query.text in pool[doc_id]
            else:
                assert query.text not in pool[doc_id]
    assert 8 <= half.kinds["ict-kept"] <= 32 and half.kinds["ict"] == 40 - half.kinds["ict-kept"]


def test_keep_draw_is_per_document_and_reproducible():
    from autoembedding.probe.queries.ict import keeps_sentence

    draws = [keeps_sentence(f"d{i}", 7, 0.5) for i in range(200)]
    assert draws == [keeps_sentence(f"d{i}", 7, 0.5) for i in range(200)]
    assert 60 < sum(draws) < 140
    assert draws != [keeps_sentence(f"d{i}", 8, 0.5) for i in range(200)]
    assert not any(keeps_sentence(f"d{i}", 7, 0.0) for i in range(50))
    assert all(keeps_sentence(f"d{i}", 7, 1.0) for i in range(50))
