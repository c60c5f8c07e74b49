"""What a swap is asked for: the model (an id, a Candidate or an adapter) and its arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autoembedding.errors import InvalidArgumentError
from autoembedding.record import ModelRecord

__all__ = ["check_arguments", "resolve_model"]


def resolve_model(model: Any, options: Mapping[str, Any]) -> tuple[Any, ModelRecord]:
    """Build an adapter and its record from a model id/label, a Candidate or an adapter."""
    from autoembedding.candidates import Candidate

    if isinstance(model, str):
        cand = Candidate.parse(model)
        opts = dict(options)
        if cand.truncate_dim is not None:
            opts.setdefault("truncate_dim", cand.truncate_dim)
        if cand.precision != "float32":
            opts.setdefault("precision", cand.precision)
        from autoembedding.adapters import get_adapter

        adapter = get_adapter(cand.model_id, **opts)
    elif isinstance(model, Candidate):
        adapter = model.build()
    else:
        adapter = model
    if not hasattr(adapter, "embed_documents"):
        raise TypeError(
            f"model must be a model id, a Candidate or an embedding adapter, got {type(model)}."
        )
    record_fn = getattr(adapter, "record", None)
    if callable(record_fn):
        record = record_fn()
    else:
        record = ModelRecord(
            model_id=str(getattr(adapter, "name", type(adapter).__name__)),
            backend="custom",
            dim=int(adapter.dim),
        )
    return adapter, record


def check_arguments(*, page_size: int, verify_sample: int) -> None:
    """Refuse bad swap arguments before anything is opened or embedded.

    Raises:
        InvalidArgumentError: Naming the argument and what it takes.
    """
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise InvalidArgumentError(
            f"page_size must be a whole number >= 1, got {page_size!r}.", argument="page_size"
        )
    if isinstance(verify_sample, bool) or not isinstance(verify_sample, int) or verify_sample < 0:
        raise InvalidArgumentError(
            f"verify_sample must be a whole number >= 0, got {verify_sample!r}.",
            argument="verify_sample",
        )
