"""The embedding function a swapped collection carries: the new model's, whatever the source had.

Chroma persists a collection's embedding-function configuration and rebuilds the function when
the collection is opened without one (``client.get_collection(name)``). A swap therefore gives
the staging copy the new model's
:class:`~autoembedding.chroma.function.AutoEmbeddingFunction`, so queries on the
swapped collection are embedded by the new model even in code that never names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["function_for", "register_function"]


def register_function() -> bool:
    """Register ``AutoEmbeddingFunction`` with Chroma (so collections that carry it open).

    Returns:
        False when chromadb is not installed (nothing to register).
    """
    try:
        import autoembedding.chroma.function  # noqa: F401 - registers on import
    except ImportError:
        return False
    return True


def function_for(adapter: Any, options: Mapping[str, Any] | None = None) -> Any | None:
    """The ``AutoEmbeddingFunction`` of ``adapter``, or ``None`` if Chroma could not rebuild it.

    A function is only worth persisting when Chroma can rebuild the same model from its
    configuration (the record's every field is in it, the dimension included); an adapter built
    by hand (a custom class) gets none, and the collection keeps only the model record in its
    metadata.

    Args:
        adapter: The new model.
        options: The ``get_adapter`` options it was built with (JSON-able ones are persisted).
    """
    from autoembedding.adapters.base import BaseAdapter

    if not isinstance(adapter, BaseAdapter) or not register_function():
        return None
    from autoembedding.chroma.function import AutoEmbeddingFunction

    kept: dict[str, Any] = {
        k: v
        for k, v in (options or {}).items()
        if isinstance(v, (str, int, float, bool)) or v is None
    }
    function = AutoEmbeddingFunction(adapter=adapter, **kept)
    try:
        again = AutoEmbeddingFunction.build_from_config(function.get_config())
    except Exception:  # noqa: BLE001 - not rebuildable: persist none
        return None
    if again.record() != function.record():
        return None
    return function
