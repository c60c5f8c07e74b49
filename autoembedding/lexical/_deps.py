"""Lazy imports of the ``[lexical]`` extra: bm25s, PyStemmer and a jieba implementation."""

from __future__ import annotations

from typing import Any

from autoembedding.errors import MissingExtraError

__all__ = ["import_bm25s", "import_stemmer", "jieba_cut"]

_HINT = "install it with: pip install 'autoembedding[lexical]'"


def import_bm25s() -> Any:
    """Import ``bm25s`` or raise :class:`MissingExtraError` naming ``[lexical]``."""
    try:
        import bm25s
        import bm25s.stopwords
    except ImportError as exc:
        raise MissingExtraError(f"bm25s is not installed; {_HINT} ({exc})") from exc
    return bm25s


def import_stemmer() -> Any:
    """Import PyStemmer's ``Stemmer`` module or raise :class:`MissingExtraError`."""
    try:
        import Stemmer
    except ImportError as exc:
        raise MissingExtraError(f"PyStemmer is not installed; {_HINT} ({exc})") from exc
    return Stemmer


def jieba_cut() -> Any:
    """A ``cut(text) -> list[str]`` function from ``rjieba`` (preferred) or ``jieba``.

    Raises:
        MissingExtraError: If neither is installed.

    """
    try:
        import rjieba
    except ImportError:
        pass
    else:
        return rjieba.cut
    try:
        import jieba
    except ImportError as exc:
        raise MissingExtraError(
            f"Chinese/Japanese text needs rjieba (or jieba) for word segmentation; {_HINT} ({exc})"
        ) from exc
    return jieba.lcut
