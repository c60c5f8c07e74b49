r"""Language-aware tokens for BM25: detect the collection's language, then segment or stem.

A :class:`Tokenizer` is fully described by its :attr:`~Tokenizer.spec`, a short string that a
collection's record can hold and rebuild the tokenizer from:

======================  ============================================================
spec                    tokens
======================  ============================================================
``"und"``               lower-case Unicode words (``\w+``), nothing removed
``"en"``, ``"fr"``, …   lower-case words, that language's stopwords removed, Snowball-stemmed
``"words:ko"``          lower-case words and that language's stopwords removed; no stemmer
``"zh"``, ``"ja"``      CJK runs segmented by jieba, other runs as ``"und"``
``"mixed:zh+en"``       CJK runs segmented by jieba, other runs stemmed as ``"en"``
======================  ============================================================

Example:
    >>> tok = Tokenizer("en")
    >>> tok("The cats are running")
    ['cat', 'run']
    >>> Tokenizer("mixed:zh+en")("我爱北京 running cats")
    ['爱', '北京', 'run', 'cat']
    >>> Tokenizer("vi").spec  # no Snowball stemmer for Vietnamese: plain words
    'words:vi'

"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

from autoembedding.lexical._deps import import_stemmer, jieba_cut
from autoembedding.lexical.languages import (
    CJK_RUN,
    HAN,
    HANGUL,
    KANA,
    SEGMENTED,
    SNOWBALL,
    normalize_code,
    stopwords,
    vote_lists,
)

__all__ = ["Tokenizer", "detect_language"]

_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[^\W\d_]+")
_CODE = re.compile(r"[a-z]{2,3}(_[a-z0-9]+)?")
_RUNS = tuple(re.compile(f"[{chars}]+") for chars in (HAN, KANA, HANGUL))

#: Share of letters that must be Han/kana for CJK segmentation to be switched on.
CJK_SHARE = 0.02
#: Share of letters that must be non-CJK for the other runs to get a language of their own.
LATIN_SHARE = 0.1
#: Share of words that must be one language's stopwords for the vote to name it.
VOTE_SHARE = 0.1
_MIN_VOTE_WORDS = 20


def detect_language(texts: Sequence[str], *, sample: int = 200, max_chars: int = 1000) -> str:
    """Guess the tokenizer language of a collection from its documents.

    Han/kana characters switch on jieba segmentation (``"zh"``, or ``"ja"`` when kana is at
    least a tenth of them); mostly-Hangul text is ``"words:ko"``. The words outside CJK runs vote
    for a language by how many of them are its stopwords (bm25s' lists); a winner with less than
    :data:`VOTE_SHARE` of the words, or fewer than 20 words, gives ``"und"``. CJK plus a voted
    language gives ``"mixed:zh+<lang>"``.

    Args:
        texts: The documents.
        sample: At most this many documents are read, evenly spaced.
        max_chars: At most this many characters are read from each.

    Returns:
        A spec that :class:`Tokenizer` accepts.

    """
    step = max(1, len(texts) // max(1, sample))
    text = unicodedata.normalize("NFKC", "\n".join(t[:max_chars] for t in texts[::step]))
    han, kana, hangul = (_count(rx, text) for rx in _RUNS)
    letters = _count(_LETTERS, text)
    if letters == 0:
        return "und"
    other = letters - han - kana - hangul
    if hangul > max(han + kana, other):
        return "words:ko"
    latin = _vote(CJK_RUN.sub(" ", text)) if other >= LATIN_SHARE * letters else "und"
    if han + kana < CJK_SHARE * letters:
        return latin
    segment = "ja" if kana >= 0.1 * (han + kana) else "zh"
    return segment if latin == "und" else f"mixed:{segment}+{latin}"


def _count(runs: re.Pattern[str], text: str) -> int:
    """Number of characters of ``text`` in runs matched by ``runs``."""
    return sum(map(len, runs.findall(text)))


def _vote(text: str) -> str:
    """The language whose stopwords cover most words of ``text``, or ``"und"``."""
    words = Counter(_LETTERS.findall(text.lower()))
    total = sum(words.values())
    if total < _MIN_VOTE_WORDS:
        return "und"
    lists = vote_lists()
    counts = {code: sum(words[w] for w in lists[code] if w in words) for code in sorted(lists)}
    best = max(counts, key=lambda code: counts[code])
    return best if counts[best] >= VOTE_SHARE * total else "und"


class Tokenizer:
    """Turns a text into BM25 terms for one language (see the module docstring for specs).

    Args:
        language: A spec (``"en"``, ``"zh"``, ``"mixed:zh+en"``, ``"words:ko"``, ``"und"``), a
            language code or an English language name (``"english"``). A language with no
            Snowball stemmer becomes ``"words:<code>"``.

    Raises:
        ValueError: If ``language`` is not a language code or a spec.
        MissingExtraError: If the ``[lexical]`` extra this language needs is not installed.

    """

    def __init__(self, language: str = "und") -> None:
        segment, latin = _parse(language)
        stem, words = (None, latin[6:]) if latin.startswith("words:") else (latin, "")
        if stem == "und":
            stem = None
        self.spec: str = latin if segment is None else segment
        if segment is not None and latin != "und":
            self.spec = f"mixed:{segment}+{latin}"
        stop = stopwords(segment or "") | stopwords(stem or "") | stopwords(words)
        self._stopwords = stop
        self._stem: Callable[[list[str]], list[str]] | None = None
        if stem is not None:
            self._stem = import_stemmer().Stemmer(SNOWBALL[stem]).stemWords
        self._cut: Callable[[str], list[str]] | None = jieba_cut() if segment else None

    @classmethod
    def detect(cls, texts: Sequence[str]) -> Tokenizer:
        """A tokenizer for the language :func:`detect_language` finds in ``texts``."""
        return cls(detect_language(texts))

    @classmethod
    def from_label(cls, label: str, texts: Sequence[str]) -> Tokenizer:
        """The tokenizer of a candidate label: ``"bm25"`` detects, ``"bm25:<lang>"`` forces.

        Args:
            label: ``"bm25"`` or ``"bm25:<spec>"`` (e.g. ``"bm25:zh"``, ``"bm25:mixed:zh+en"``).
            texts: The documents, read only when the language is not forced.

        Returns:
            The tokenizer.

        Raises:
            ValueError: If the label is not a ``bm25`` label or the forced language is invalid.

        """
        head, _, forced = label.partition(":")
        if head.strip().lower() != "bm25":
            raise ValueError(f"{label!r} is not a lexical label; use 'bm25' or 'bm25:<lang>'.")
        return cls(forced) if forced else cls.detect(texts)

    def __call__(self, text: str) -> list[str]:
        """The terms of ``text`` (may be empty, e.g. for a stopword-only text)."""
        text = unicodedata.normalize("NFKC", text).lower()
        if self._cut is None:
            return self._words(text)
        tokens: list[str] = []
        pos = 0
        for run in CJK_RUN.finditer(text):
            tokens += self._words(text[pos : run.start()])
            tokens += [t for t in self._cut(run.group()) if t.strip() and t not in self._stopwords]
            pos = run.end()
        return tokens + self._words(text[pos:])

    def _words(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text) if w not in self._stopwords]
        return self._stem(words) if self._stem is not None and words else words

    def __repr__(self) -> str:
        return f"Tokenizer({self.spec!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)


def _parse(language: str) -> tuple[str | None, str]:
    """``(segmented language or None, latin spec)`` of a language or spec string."""
    lang = language.strip().lower()
    if lang.startswith("mixed:"):
        segment, _, latin = lang[len("mixed:") :].partition("+")
        segment = normalize_code(segment)
        if segment not in SEGMENTED:
            raise ValueError(
                f"{language!r}: the first language of a mixed spec must be one of "
                f"{sorted(SEGMENTED)}, e.g. 'mixed:zh+en'."
            )
        return segment, _latin(latin or "und", language)
    if normalize_code(lang) in SEGMENTED:
        return normalize_code(lang), "und"
    return None, _latin(lang, language)


def _latin(part: str, original: str) -> str:
    """Normalised spec of a non-segmented language: ``"und"``, a Snowball code or ``words:``."""
    words = part.startswith("words:")
    code = normalize_code(part[len("words:") :] if words else part)
    if code in ("", "und", "words"):
        return "und"
    if not _CODE.fullmatch(code):
        raise ValueError(
            f"{original!r} is not a language: use a code such as 'en', 'zh', 'fi', "
            "'words:ko', 'mixed:zh+en' or 'und'."
        )
    return code if code in SNOWBALL and not words else f"words:{code}"
