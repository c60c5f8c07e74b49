"""Language tables for the lexical tokenizer: codes, Snowball stemmers, stopwords, scripts.

Stopword lists are not ours: they come from ``bm25s.stopwords`` (a dependency of the
``[lexical]`` extra), which ships lists for English, Danish, Dutch, French, German, Italian,
Norwegian, Portuguese, Russian, Spanish, Swedish, Turkish, Chinese and Korean. The other
Snowball languages are stemmed without stopword removal, and cannot be detected by the
stopword vote (force them instead, e.g. ``Tokenizer("fi")``).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from autoembedding.lexical._deps import import_bm25s

__all__ = [
    "CJK_RUN",
    "HAN",
    "HANGUL",
    "KANA",
    "SEGMENTED",
    "SNOWBALL",
    "normalize_code",
    "stopwords",
    "vote_lists",
]

#: ISO 639-1 code (or ISO 639-3 where there is none) -> PyStemmer's Snowball algorithm name.
SNOWBALL: dict[str, str] = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}

#: Languages written without spaces between words, segmented with jieba.
SEGMENTED: frozenset[str] = frozenset({"zh", "ja"})

_NAMES: dict[str, str] = {
    **{name: code for code, name in SNOWBALL.items()},
    "chinese": "zh",
    "japanese": "ja",
    "korean": "ko",
}

#: bm25s stopword list per language code (the attribute name in ``bm25s.stopwords``).
_BM25S_LISTS: dict[str, str] = {
    "en": "STOPWORDS_EN",
    "da": "STOPWORDS_DANISH",
    "nl": "STOPWORDS_DUTCH",
    "fr": "STOPWORDS_FRENCH",
    "de": "STOPWORDS_GERMAN",
    "it": "STOPWORDS_ITALIAN",
    "no": "STOPWORDS_NORWEGIAN",
    "pt": "STOPWORDS_PORTUGUESE",
    "ru": "STOPWORDS_RUSSIAN",
    "es": "STOPWORDS_SPANISH",
    "sv": "STOPWORDS_SWEDISH",
    "tr": "STOPWORDS_TURKISH",
    "zh": "STOPWORDS_CHINESE",
    "ko": "STOPWORDS_KOREAN",
}

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
#: A run of unspaced CJK characters (Han and kana; Korean is written with spaces).
CJK_RUN = re.compile(f"[{HAN}{KANA}]+")


def normalize_code(language: str) -> str:
    """Lower-case a language code or English language name into a code (``"English"`` -> ``"en"``).

    Args:
        language: A code such as ``"en"`` or a name such as ``"english"``.

    Returns:
        The code; unknown names are returned lower-cased and unchanged.

    """
    lang = language.strip().lower().replace("-", "_")
    return _NAMES.get(lang, lang)


@cache
def stopwords(code: str) -> frozenset[str]:
    """The stopwords bm25s ships for a language, lower-cased; empty when it ships none.

    Args:
        code: Language code, e.g. ``"en"``.

    Returns:
        The stopword set.

    """
    attr = _BM25S_LISTS.get(code)
    if attr is None:
        return frozenset()
    module = import_bm25s().stopwords
    return frozenset(word.lower() for word in getattr(module, attr))


@lru_cache(maxsize=1)
def vote_lists() -> dict[str, frozenset[str]]:
    """Stopword lists used to vote on the language of space-separated text.

    English votes with bm25s' longer list (``STOPWORDS_EN_PLUS``) so that it is not
    outvoted by languages with long lists; removal uses the short one.

    Returns:
        Language code -> stopword set, for the Snowball languages bm25s has a list for.

    """
    lists = {code: stopwords(code) for code in _BM25S_LISTS if code in SNOWBALL}
    plus = import_bm25s().stopwords.STOPWORDS_EN_PLUS
    lists["en"] = frozenset(word.lower() for word in plus)
    return lists
