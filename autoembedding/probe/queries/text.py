"""Text handling of the probe queries: sentences, tokens, index terms, unspaced (CJK) scripts.

Example:
    >>> split_sentences("Cats purr. They sleep a lot. They hunt mice at night.")
    ['Cats purr.', 'They sleep a lot.', 'They hunt mice at night.']
    >>> terms("长城很长"), is_unspaced("长城很长")
    (['长城', '城很', '很长'], True)

"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["has_han", "is_unspaced", "joiner", "split_sentences", "terms", "tokenize"]

# Sentence ends: Latin/Greek/Cyrillic . ! ? … followed by space (or end); CJK 。！？；… and the
# full-width forms, which need no following space; Devanagari danda; Arabic question mark.
_SENT_END = re.compile(
    r"""(?<=[.!?…])["'”’)\]]*\s+(?=["'“‘(\[]?[\w\d])"""  # spaced scripts
    r"""|(?<=[。！？!?；…｡])["'”’」』）)]*"""  # unspaced scripts: no space needed
    r"""|(?<=[।॥؟])\s*"""
    r"""|\n\s*\n"""
)
# Abbreviations that end in a period but do not end a sentence.
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|fig|figs|no|dr|mr|mrs|ms|prof|st|approx|ca|al|resp"
    r"|inc|ltd|co|jr|sr|u\.s|eq|ref|vol|pp)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)

# Scripts written without spaces between words: kana, CJK ideographs, Hangul, Thai, Lao,
# Myanmar, Khmer.
_CJK = (
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
    r"\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_UNSPACED = re.compile(rf"[{_CJK}]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
#: Share of unspaced-script characters above which a text counts as unspaced.
UNSPACED_SHARE = 0.3


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, for spaced scripts and for Chinese/Japanese/Thai-like ones.

    Spaced scripts split after ``. ! ? …`` followed by whitespace and an upper-case letter,
    digit or opening quote, except after common abbreviations (``e.g.``, ``et al.``, ``Fig.``,
    initials). Unspaced scripts split after ``。！？；…`` (full- or half-width) with no space
    needed; blank lines always split.

    Args:
        text: Any text.

    Returns:
        Non-empty, stripped sentences in order (``[]`` for blank text).

    """
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text:
        return []
    pieces: list[str] = []
    last = 0
    for match in _SENT_END.finditer(text):
        end = match.end()
        if end <= last:
            continue
        piece = text[last:end]
        head = text[last : match.start()].rstrip()
        if _ABBREV.search(head):
            continue  # keep the abbreviation inside its sentence
        nxt = text[end : end + 1]
        if match.group(0).strip() == "" and nxt.islower() and head.endswith("."):
            continue  # "... 3.5 mg. and" style: a lower-case start is not a new sentence
        pieces.append(piece)
        last = end
    pieces.append(text[last:])
    return [p.strip() for p in pieces if p.strip()]


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; unspaced scripts give one token per character.

    Character bigrams are what lexical matching on Chinese/Japanese uses, so the index terms
    are bigrams of those characters (see :func:`terms`).

    Args:
        text: Any text.

    Returns:
        The tokens in order.

    """
    return [t.lower() for t in _TOKEN.findall(text)]


def is_unspaced(text: str) -> bool:
    """Whether ``text`` is mostly in a script written without spaces (Chinese, Japanese, Thai...).

    Args:
        text: Any text.

    Returns:
        ``True`` when more than :data:`UNSPACED_SHARE` of its non-space characters are
        unspaced-script characters.

    """
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    return sum(1 for c in chars if _UNSPACED.match(c)) / len(chars) > UNSPACED_SHARE


def has_han(text: str) -> bool:
    """Whether ``text`` holds at least one CJK unified ideograph (Chinese characters).

    Args:
        text: Any text.

    Returns:
        ``True`` if one character is in U+4E00-U+9FFF.

    """
    return _HAN.search(text) is not None


def terms(text: str) -> list[str]:
    """Index terms: words for spaced scripts, character bigrams for unspaced ones.

    Args:
        text: Any text.

    Returns:
        The terms in order (a run of one unspaced character gives that character).

    """
    tokens = tokenize(text)
    if not is_unspaced(text):
        return tokens
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, " "]:
        if len(tok) == 1 and _UNSPACED.match(tok):
            run.append(tok)
            continue
        if run:
            if len(run) > 1:
                out.extend(a + b for a, b in zip(run, run[1:], strict=False))
            else:
                out.extend(run)
            run = []
        if tok != " ":
            out.append(tok)
    return out


def joiner(text: str) -> str:
    """The separator that joins pieces of ``text``: ``""`` for unspaced scripts, else a space."""
    return "" if is_unspaced(text) else " "
