"""Language detection and language-aware tokens (autoembedding.lexical.tokenize)."""

from __future__ import annotations

import json
import sys

import pytest

from autoembedding.errors import MissingExtraError
from autoembedding.lexical import Tokenizer, detect_language

EN = [
    "The cells were grown in the medium and the results show that they are dividing.",
    "We report that the protein is expressed in all of the tissues that were tested here.",
    "These findings suggest that the mutation is associated with an increased risk of disease.",
]
FR = [
    "Le chat est sur le tapis et il est content de nous voir dans la maison avec les enfants.",
    "Nous avons mangé une pomme dans le jardin pendant que les oiseaux chantaient pour nous.",
]
ZH = [
    "战国无双3是由光荣和ω-force开发的战国无双系列的正统第三续作。",
    "广茂铁路是中国广东省一条铁路。",
]


def test_english_is_lowercased_stemmed_and_stopwords_removed():
    assert Tokenizer("en")("The Cats ARE running and jumped") == ["cat", "run", "jump"]


def test_language_names_and_codes_give_the_same_spec():
    assert Tokenizer("English").spec == Tokenizer("en").spec == "en"
    assert Tokenizer("chinese").spec == "zh"


def test_french_uses_the_french_stemmer_and_stopwords():
    tokens = Tokenizer("fr")("Les chats mangeaient dans la maison")
    assert "les" not in tokens and "la" not in tokens
    assert tokens[0] == Tokenizer("fr")("chat")[0]  # plural and singular share a stem


def test_chinese_is_segmented_into_words_not_one_run():
    tokens = Tokenizer("zh")(ZH[1])
    assert "广东省" in tokens or "广东" in tokens
    assert "铁路" in tokens
    assert "的" not in Tokenizer("zh")(ZH[0])  # Chinese stopword removed
    assert all(len(t) < 6 for t in tokens)


def test_plain_words_keep_a_chinese_sentence_as_one_token():
    assert len(Tokenizer("und")("广茂铁路是中国广东省一条铁路")) == 1


def test_mixed_mode_keeps_both_languages():
    tok = Tokenizer("mixed:zh+en")
    tokens = tok("北京大学的研究人员 reported running experiments")
    assert "北京大学" in tokens or "北京" in tokens
    assert {"report", "run", "experi"} <= set(tokens)
    assert tok.spec == "mixed:zh+en"


def test_chinese_mode_does_not_stem_latin_runs_but_keeps_them():
    assert Tokenizer("zh")("研究 running") == ["研究", "running"]


def test_fullwidth_latin_is_normalised():
    assert Tokenizer("zh")("Ｐｙｔｈｏｎ编程") == ["python", "编程"]


@pytest.mark.parametrize("language", ["vi", "words:vi", "sw"])
def test_language_without_stemmer_falls_back_to_words_and_says_so(language):
    tok = Tokenizer(language)
    assert tok.spec.startswith("words:")
    assert tok("Xin chào các bạn") == ["xin", "chào", "các", "bạn"]


def test_stemmer_language_without_stopword_list_still_stems():
    tok = Tokenizer("fi")
    assert tok.spec == "fi"
    assert tok("taloissa") != ["taloissa"]


@pytest.mark.parametrize(
    "spec", ["und", "en", "fi", "zh", "ja", "mixed:zh+en", "mixed:zh+words:ko", "words:ko"]
)
def test_spec_round_trips(spec):
    assert Tokenizer(spec).spec == spec
    assert Tokenizer(Tokenizer(spec).spec) == Tokenizer(spec)


def test_mixed_with_undetermined_second_language_is_plain_chinese():
    assert Tokenizer("mixed:zh+und").spec == "zh"


@pytest.mark.parametrize("bad", ["mixed:en+fr", "english!", "12", "mixed:zh+?"])
def test_bad_language_raises_a_clear_error(bad):
    with pytest.raises(ValueError, match="language|mixed"):
        Tokenizer(bad)


def test_empty_and_stopword_only_texts_give_no_tokens():
    assert Tokenizer("en")("") == []
    assert Tokenizer("en")("the and of it") == []
    assert Tokenizer("zh")("   ") == []
    assert Tokenizer("und")("!!! ...") == []


def test_detects_languages():
    assert detect_language(EN * 3) == "en"
    assert detect_language(FR * 3) == "fr"
    assert detect_language(ZH * 3) == "zh"
    assert detect_language(["こんにちは、私はカタカナとひらがなを書きます。東京"] * 3) == "ja"
    assert detect_language(["안녕하세요 저는 학생입니다 감사합니다"] * 3) == "words:ko"


def test_detects_mixed_chinese_and_english():
    docs = [f"{zh} {en}" for zh, en in zip(ZH * 3, EN * 2, strict=True)]
    assert detect_language(docs) == "mixed:zh+en"


def test_unknown_or_empty_is_und():
    assert detect_language([]) == "und"
    assert detect_language(["", "123 456"]) == "und"
    assert detect_language(["xq zzv brrk plonk"] * 10) == "und"  # words, but no stopwords


def test_detection_on_the_bundled_data(test_data):
    def texts(name):
        with open(test_data / name / "corpus.jsonl", encoding="utf-8") as lines:
            return [json.loads(line)["text"] for line in lines]

    assert detect_language(texts("scifact")) == "en"
    assert detect_language(texts("cmrc2018-zh")) == "zh"


def test_from_label_detects_or_forces():
    assert Tokenizer.from_label("bm25", EN).spec == "en"
    assert Tokenizer.from_label("bm25:zh", EN).spec == "zh"
    assert Tokenizer.from_label("bm25:mixed:zh+en", []).spec == "mixed:zh+en"
    with pytest.raises(ValueError, match="lexical label"):
        Tokenizer.from_label("hybrid:x+bm25", EN)


def test_falls_back_to_jieba_without_rjieba(monkeypatch):
    monkeypatch.setitem(sys.modules, "rjieba", None)
    assert "铁路" in Tokenizer("zh")(ZH[1])


def test_missing_segmenter_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "rjieba", None)
    monkeypatch.setitem(sys.modules, "jieba", None)
    with pytest.raises(MissingExtraError, match=r"autoembedding\[lexical\]"):
        Tokenizer("zh")
    assert Tokenizer("und")("still works") == ["still", "works"]


def test_missing_stemmer_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "Stemmer", None)
    with pytest.raises(MissingExtraError, match=r"autoembedding\[lexical\]"):
        Tokenizer("en")
