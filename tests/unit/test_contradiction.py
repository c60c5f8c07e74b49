"""Contradiction pairs flip the meaning with a minimal edit; the score counts wins."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autoembedding.probe.contradiction import (
    build_contradiction_pairs,
    contradiction_score_from_vectors,
    flip_sentence,
)
from autoembedding.probe.queries import ProbeDoc

CUES = {
    "increases",
    "decreases",
    "raises",
    "reduces",
    "promotes",
    "inhibits",
    "higher",
    "lower",
    "not",
    "cannot",
    "can",
    "more",
    "less",
    "is",
    "are",
    "was",
    "were",
    "did",
    "has",
}

DOCS = [
    ProbeDoc("1", "Background text here. Exercise increases insulin sensitivity in adults. End."),
    ProbeDoc("2", "Metformin promotes weight loss in obese patients with type 2 diabetes."),
    ProbeDoc("3", "The mutant protein is stable at body temperature for many hours."),
    ProbeDoc("4", "Patients with the allele had higher blood pressure than controls overall."),
    ProbeDoc("5", "吸烟会增加患肺癌的风险，这一点已被多项研究证实。"),
    ProbeDoc("6", "这种药物可以降低血压，并且副作用很少。"),
]


def _word_diff(a: str, b: str) -> tuple[set[str], set[str]]:
    wa, wb = a.lower().split(), b.lower().split()
    return set(wa) - set(wb), set(wb) - set(wa)


def test_english_pairs_differ_by_a_negation_or_antonym():
    pairs = build_contradiction_pairs(DOCS[:4], n=4, seed=0)
    assert len(pairs) == 4
    for pair in pairs:
        assert pair.original != pair.flipped
        gone, added = _word_diff(pair.original, pair.flipped)
        changed = {re.sub(r"\W", "", w) for w in gone | added}
        assert changed and changed <= CUES, (pair, changed)
        assert len(gone) + len(added) <= 2
        # The query is not the original verbatim.
        assert pair.query != pair.original
        assert pair.query not in (pair.original, pair.flipped)


def test_directional_query_uses_a_same_polarity_synonym():
    flipped, query = flip_sentence("Exercise increases insulin sensitivity in adults.")
    assert flipped == "Exercise decreases insulin sensitivity in adults."
    assert "increases" not in query and "decreases" not in query
    assert query.split()[1] in {"raises", "elevates", "boosts"}


def test_negation_added_and_removed():
    flipped, _ = flip_sentence("The mutant protein is stable at body temperature.")
    assert flipped == "The mutant protein is not stable at body temperature."
    flipped, _ = flip_sentence("The drug was not effective in mice.")
    assert "not" not in flipped.split()


def test_chinese_pairs_flip_an_antonym_or_negation():
    pairs = build_contradiction_pairs(DOCS[4:], n=2, seed=0)
    assert len(pairs) == 2
    for pair in pairs:
        assert pair.original != pair.flipped
        assert any(
            (a in pair.original and b in pair.flipped) or (b in pair.original and a in pair.flipped)
            for a, b in [("增加", "减少"), ("降低", "提高"), ("降低", "增加"), ("是", "不是")]
        ), pair
        assert pair.query != pair.original


def test_sentences_without_cues_give_no_pairs_and_n_is_checked():
    assert build_contradiction_pairs([ProbeDoc("x", "Red apples taste sweet to me.")], n=3) == []
    assert flip_sentence("Red apples taste sweet to me.") is None
    with pytest.raises(ValueError):
        build_contradiction_pairs(DOCS, n=0)


def test_score_counts_original_wins_and_half_ties():
    q = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    orig = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.0, 1.0]])
    flipped = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8], [1.0, 0.0]])
    score = contradiction_score_from_vectors(q, orig, flipped)
    assert score == pytest.approx((1 + 0 + 0.5 + 1) / 4)
    with pytest.raises(ValueError):
        contradiction_score_from_vectors(q, orig[:2], flipped)
