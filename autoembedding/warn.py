"""Warnings that point at the user's line, not at ours or a framework's.

An ``AutoEmbedding`` warns from deep inside a call that came through LangChain, LlamaIndex or
Chroma (``store.add_texts`` -> ``embed_documents`` -> the resolver), so no fixed ``stacklevel``
is right. :func:`warn_user` walks the stack to the first frame that belongs to none of them and
warns there, through the normal filters: shown once per line and message by default, and never
also logged (a message that is both logged and warned appears twice).
"""

from __future__ import annotations

import sys
import warnings
from types import FrameType

__all__ = ["warn_user"]

#: Top-level packages whose frames are not the user's line (ours, the frameworks', the stdlib's
#: plumbing between a user's call and ours).
_PASS_THROUGH = frozenset(
    {
        "autoembedding",
        "chromadb",
        "pydantic",
        "pydantic_core",
        "tqdm",
        "asyncio",
        "concurrent",
        "threading",
        "contextlib",
        "functools",
        "anyio",
        "importlib",
    }
)


#: Prefixes of framework packages (``langchain_core``, ``llama_index_instrumentation``, ...).
_FRAMEWORK_PREFIXES = ("langchain", "llama_index")


def _package(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", "")).partition(".")[0]


def _passes_through(package: str) -> bool:
    return package in _PASS_THROUGH or package.startswith(_FRAMEWORK_PREFIXES)


def user_frame(start: FrameType | None) -> FrameType | None:
    """The first frame from ``start`` outwards that is the user's (else the first not ours)."""
    first_not_ours: FrameType | None = None
    frame = start
    while frame is not None:
        package = _package(frame)
        if not _passes_through(package):
            return frame
        if first_not_ours is None and package != "autoembedding":
            first_not_ours = frame
        frame = frame.f_back
    return first_not_ours


def warn_user(message: str, category: type[Warning]) -> None:
    """Warn ``message`` at the user's line (see the module docstring).

    Args:
        message: The text.
        category: The warning class (an ``AutoEmbeddingWarning``).
    """
    caller = sys._getframe(1)
    frame = user_frame(caller) or caller
    module_globals = frame.f_globals
    registry = module_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(
        message,
        category,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=str(module_globals.get("__name__", "<unknown>")),
        registry=registry,
        # No module_globals: CPython asks the frame's loader for its source by __name__, and
        # a module run with ``python -m pkg`` is named "__main__" while its loader is for
        # "pkg.__main__", so the loader raises ImportError. The file name is enough.
    )
