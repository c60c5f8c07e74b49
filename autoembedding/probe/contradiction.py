"""The contradiction probe: "similar" is not "correct".

Two texts that differ only in polarity ("X increases Y" / "X decreases Y", "is" / "is not")
are nearly identical to a bag of words but say opposite things. From sampled documents this
module builds such minimal pairs and a query written from the original, and scores a model by
how often it ranks the original above its flipped twin.

The query must not make this trivial: it is never the original verbatim. Where the cue is a
directional word, the query states the same direction with a *different* word of the same
polarity ("raises" for "increases"), so neither document shares the query's cue word and only
the meaning can tell them apart. Where the cue is a negation, the query is the cue's clause
with the document's other words partly dropped.

Example:
    >>> from autoembedding.probe.queries import ProbeDoc
    >>> doc = ProbeDoc("d1", "Aspirin reduces the risk of stroke in older adults.")
    >>> pair = build_contradiction_pairs([doc], n=1)[0]
    >>> pair.flipped
    'Aspirin raises the risk of stroke in older adults.'

"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autoembedding.probe.queries import ProbeDoc, split_sentences
from autoembedding.probe.queries.text import has_han

__all__ = [
    "ContradictionPair",
    "build_contradiction_pairs",
    "contradiction_score_from_vectors",
    "flip_sentence",
]


@dataclass(frozen=True)
class ContradictionPair:
    """A query, the original text it was written from, and the same text with its meaning flipped.

    Attributes:
        query: Query stating what the original says (not the original verbatim).
        original: The original text.
        flipped: The original with one polarity cue flipped (negation or antonym).

    """

    query: str
    original: str
    flipped: str


# Directional cue groups: (positive forms, negative forms). A cue found in one list is flipped
# to the same-index word of the other list; the query uses another word of the cue's own list.
_EN_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("increases", "raises", "elevates", "boosts"),
        ("decreases", "reduces", "lowers", "diminishes"),
    ),
    (
        ("increased", "raised", "elevated", "boosted"),
        ("decreased", "reduced", "lowered", "diminished"),
    ),
    (("increase", "raise", "elevate", "boost"), ("decrease", "reduce", "diminish", "lessen")),
    (
        ("increasing", "raising", "elevating", "boosting"),
        ("decreasing", "reducing", "lowering", "diminishing"),
    ),
    (
        ("promotes", "enhances", "stimulates", "facilitates"),
        ("inhibits", "suppresses", "impairs", "hinders"),
    ),
    (
        ("promoted", "enhanced", "stimulated", "facilitated"),
        ("inhibited", "suppressed", "impaired", "hindered"),
    ),
    (
        ("promote", "enhance", "stimulate", "facilitate"),
        ("inhibit", "suppress", "impair", "hinder"),
    ),
    (("activates", "induces", "triggers"), ("represses", "blocks", "prevents")),
    (("activated", "induced", "triggered"), ("repressed", "blocked", "prevented")),
    (("higher", "greater", "larger"), ("lower", "smaller", "lesser")),
    (("more",), ("less",)),
    (("upregulated", "up-regulated"), ("downregulated", "down-regulated")),
    (("positive", "positively"), ("negative", "negatively")),
    (("improves", "benefits"), ("worsens", "harms")),
    (("improved",), ("worsened",)),
    (("gain",), ("loss",)),
    (("rise", "rises"), ("fall", "falls")),
    (("effective",), ("ineffective",)),
    (("sufficient",), ("insufficient",)),
    (("likely",), ("unlikely",)),
)

_EN_NEGATABLE = (
    "is",
    "are",
    "was",
    "were",
    "can",
    "could",
    "does",
    "did",
    "do",
    "has",
    "have",
    "had",
    "will",
    "may",
    "should",
    "must",
)
_EN_NEGATION = re.compile(
    r"\b(?:is|are|was|were|can|could|does|did|do|has|have|had|will|may|should|must)"
    r"(?: not|n't)\b|\bcannot\b|\bno longer\b",
    re.IGNORECASE,
)

_ZH_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("增加", "增多"), ("减少", "减小")),
    (("提高", "升高", "提升"), ("降低", "下降", "减低")),
    (("促进", "推动"), ("抑制", "阻碍")),
    (("上升", "增长"), ("下降", "减少")),
    (("扩大",), ("缩小",)),
    (("成功",), ("失败",)),
    (("支持", "赞成"), ("反对", "反对")),
    (("开始",), ("结束",)),
    (("最大",), ("最小",)),
    (("最高",), ("最低",)),
    (("最早",), ("最晚",)),
    (("胜利",), ("失败",)),
    (("加入",), ("退出",)),
    (("允许",), ("禁止",)),
)
#: (affirmative, negated) pairs for Chinese; single characters are too often part of words
#: (于是, 会议, 能力), so only these, and 是 only where it is the copula.
_ZH_NEGATABLE = (("具有", "不具有"), ("可以", "不可以"), ("能够", "不能够"), ("属于", "不属于"))
_ZH_COPULA = re.compile(r"(?<![于但就还只或可总凡即若要像不也])是(?!否)")


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _en_directional(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    """Flip one directional cue; return (flipped, query cue sentence) or ``None``."""
    words = list(re.finditer(r"[A-Za-z][A-Za-z-]*", sentence))
    rng.shuffle(words)
    for match in words:
        word = match.group(0)
        low = word.lower()
        for positive, negative in _EN_GROUPS:
            for own, other in ((positive, negative), (negative, positive)):
                if low in own:
                    index = own.index(low)
                    antonym = other[min(index, len(other) - 1)]
                    synonyms = [w for w in own if w != low]
                    span = match.span()
                    flipped = sentence[: span[0]] + _match_case(antonym, word) + sentence[span[1] :]
                    if not synonyms:
                        query = sentence  # no same-polarity synonym: shorten below instead
                    else:
                        synonym = synonyms[rng.randrange(len(synonyms))]
                        query = (
                            sentence[: span[0]] + _match_case(synonym, word) + sentence[span[1] :]
                        )
                    return flipped, query
    return None


def _en_negation(sentence: str) -> tuple[str, str] | None:
    """Flip the first negatable auxiliary (or remove an existing negation)."""
    negated = _EN_NEGATION.search(sentence)
    if negated:
        text = negated.group(0)
        low = text.lower()
        if low == "cannot":
            repl = "can"
        elif low == "no longer":
            repl = "still"
        else:
            repl = re.sub(r"(?i)(?: not|n't)$", "", text)
        flipped = sentence[: negated.start()] + _match_case(repl, text) + sentence[negated.end() :]
        return flipped, sentence
    for match in re.finditer(r"\b(" + "|".join(_EN_NEGATABLE) + r")\b", sentence, re.IGNORECASE):
        word = match.group(0)
        flipped = sentence[: match.end()] + " not" + sentence[match.end() :]
        if word.lower() == "can":
            cannot = _match_case("cannot", word)
            flipped = sentence[: match.start()] + cannot + sentence[match.end() :]
        return flipped, sentence
    return None


def _zh_flip(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    groups = list(_ZH_GROUPS)
    rng.shuffle(groups)
    for positive, negative in groups:
        for own, other in ((positive, negative), (negative, positive)):
            for index, cue in enumerate(own):
                at = sentence.find(cue)
                if at < 0:
                    continue
                antonym = other[min(index, len(other) - 1)]
                flipped = sentence[:at] + antonym + sentence[at + len(cue) :]
                synonyms = [w for w in own if w != cue and w != antonym]
                query = sentence
                if synonyms:
                    query = (
                        sentence[:at]
                        + synonyms[rng.randrange(len(synonyms))]
                        + sentence[at + len(cue) :]
                    )
                return flipped, query
    for affirmed, negated in _ZH_NEGATABLE:
        at = sentence.find(negated)
        if at >= 0:
            return sentence[:at] + affirmed + sentence[at + len(negated) :], sentence
        at = sentence.find(affirmed)
        if at >= 0 and sentence[max(0, at - 1) : at] not in ("不", "没"):
            return sentence[:at] + negated + sentence[at + len(affirmed) :], sentence
    return None


def flip_sentence(sentence: str, *, seed: int = 0) -> tuple[str, str] | None:
    """Flip the meaning of one sentence with a minimal edit.

    Tries a directional antonym first (increases/decreases, promotes/inhibits, higher/lower,
    增加/减少 ...), then a negation (is/is not, can/cannot, 是/不是 ...).

    Args:
        sentence: One sentence.
        seed: Seed for which cue is flipped when there are several.

    Returns:
        ``(flipped, query_base)``: the flipped sentence and the original with its cue replaced
        by a same-polarity synonym when there is one (else the original), or ``None`` when no
        cue was found.

    """
    rng = random.Random(seed)
    if has_han(sentence):
        return _zh_flip(sentence, rng)
    if _EN_NEGATION.search(sentence):
        return _en_negation(sentence)  # remove the negation rather than stack a second one
    return _en_directional(sentence, rng) or _en_negation(sentence)


def _shorten(text: str, keep: str, rng: random.Random) -> str:
    """Drop about a quarter of the words (never ``keep``-cue words) so the query is not verbatim."""
    if has_han(text):
        # Unspaced script: keep the clause that holds the cue and its neighbour.
        parts = [p for p in re.split(r"[，,；;：:、]", text.strip("。！？ ")) if p.strip()]
        at = next((i for i, p in enumerate(parts) if keep and keep in p), None)
        if len(parts) > 2 and at is not None:
            lo = max(0, at - 1) if rng.random() < 0.5 else at
            return "，".join(parts[lo : lo + 2])
        return "，".join(parts)
    words = text.split()
    if len(words) <= 4:
        return text.rstrip(".")
    keep_words = set(keep.lower().split())
    droppable = [
        i for i, w in enumerate(words) if w.lower().strip(".,;:()") not in keep_words and len(w) > 2
    ]
    rng.shuffle(droppable)
    drop = set(droppable[: max(1, len(words) // 4)])
    return " ".join(w for i, w in enumerate(words) if i not in drop).rstrip(".")


def build_contradiction_pairs(
    docs: Sequence[ProbeDoc], *, n: int, seed: int = 0
) -> list[ContradictionPair]:
    """Build up to ``n`` minimal pairs (original sentence, flipped sentence) with a query each.

    Sentences of 6-60 words (or 8-120 characters for unspaced scripts) that hold a polarity cue
    are used, at most one per document, documents in random order. The pair's texts are the
    sentence and its flipped twin; the query states the original's polarity with a synonym cue
    where possible and drops some other words, so it never equals the original.

    Args:
        docs: Documents to draw sentences from.
        n: Pairs wanted; fewer are returned when fewer sentences have a cue.
        seed: Seed for the choice of documents, sentences and cues.

    Returns:
        The pairs (possibly empty: then the probe reports no contradiction score).

    Raises:
        ValueError: If ``n`` < 1.

    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    rng = random.Random(seed)
    order = list(range(len(docs)))
    rng.shuffle(order)
    pairs: list[ContradictionPair] = []
    seen: set[str] = set()
    for index in order:
        if len(pairs) >= n:
            break
        sentences = split_sentences(docs[index].text)
        rng.shuffle(sentences)
        for sentence in sentences:
            if sentence in seen or not _good_length(sentence):
                continue
            flipped = flip_sentence(sentence, seed=rng.randrange(1 << 30))
            if flipped is None or flipped[0] == sentence:
                continue
            seen.add(sentence)
            flipped_text, query_base = flipped
            cue = (
                _changed_span(query_base, sentence)
                if query_base != sentence
                else _changed_span(sentence, flipped_text)
            )
            query = _shorten(query_base, cue, rng)
            if query == sentence:
                continue
            pairs.append(ContradictionPair(query=query, original=sentence, flipped=flipped_text))
            break
    return pairs


def _good_length(sentence: str) -> bool:
    if has_han(sentence):
        return 8 <= len(sentence) <= 120
    return 6 <= len(sentence.split()) <= 60


def _changed_span(a: str, b: str) -> str:
    """Return the words around where ``a`` and ``b`` differ (kept in the query)."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    if has_han(a):
        return a[start : max(start, len(a) - end)] or a[max(0, start - 1) : start + 1]
    left = a.rfind(" ", 0, max(0, start - 1))
    right = a.find(" ", len(a) - end + 1)
    return a[left + 1 : right if right >= 0 else len(a)]


def contradiction_score_from_vectors(q: np.ndarray, orig: np.ndarray, flipped: np.ndarray) -> float:
    """Share of pairs where the original scores above its flipped twin for its query.

    Args:
        q: ``(n, dim)`` query vectors, L2-normalised.
        orig: ``(n, dim)`` original-text vectors, row-aligned with ``q``.
        flipped: ``(n, dim)`` flipped-text vectors, row-aligned with ``q``.

    Returns:
        The share in ``[0, 1]``; exact ties count as half; ``nan`` for no pairs.

    Raises:
        ValueError: If the shapes differ.

    """
    q, orig, flipped = (np.asarray(x, dtype=np.float64) for x in (q, orig, flipped))
    if not q.shape == orig.shape == flipped.shape or q.ndim != 2:
        raise ValueError(
            f"q, orig and flipped must be row-aligned (n, dim) arrays; got {q.shape}, "
            f"{orig.shape} and {flipped.shape}."
        )
    if q.shape[0] == 0:
        return float("nan")
    a = (q * orig).sum(axis=1)
    b = (q * flipped).sum(axis=1)
    wins = (a > b).astype(np.float64) + 0.5 * (a == b)
    return float(wins.mean())
