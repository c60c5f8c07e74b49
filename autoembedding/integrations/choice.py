"""The saved choice of an auto-selected model: a cache in the user's cache folder, keyed.

A :class:`ModelChoice` says which model an ``AutoEmbedding`` uses and why. An auto-selected one is
saved so a restart does not probe again. It is only a cache: a collection's model record
(:func:`autoembedding.chroma.records.read_record`) always wins over it.

Where it is saved never depends on the working directory (the same app started from another
folder uses the same model):

1. ``choice_path=...`` (or ``$AUTOEMBEDDING_CHOICE_PATH``): that one file, whatever the key.
2. Otherwise one file per *key* in :func:`choice_dir` (``$AUTOEMBEDDING_CHOICE_DIR``, else
   ``choices/`` in the user cache folder of :func:`autoembedding.offline.cache_dir`:
   ``$AUTOEMBEDDING_CACHE``, ``$XDG_CACHE_HOME/autoembedding`` or ``~/.cache/autoembedding``).
   The key (:func:`choice_key`) is a fingerprint of what the ``AutoEmbedding`` knows: the
   collection (its name and where it lives) when it has one, and the ``candidates`` and
   ``targets`` it was given. A bare ``AutoEmbedding()`` (e.g. handed to a LangChain ``Chroma``
   store, which never shows it its collection) has the key of "no collection, default
   candidates, no targets": every such app of this user shares that one choice.

The file ``./.autoembedding/choice.json`` of older versions (:data:`LEGACY_CHOICE_PATH`) is read
only when the keyed file does not exist yet: it is then copied to the keyed file (logged as a
warning), which wins from then on, from any folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoembedding.errors import AutoEmbeddingError
from autoembedding.record import ModelRecord

__all__ = [
    "CHOICE_DIR_ENV",
    "CHOICE_PATH_ENV",
    "DEFAULT_CHOICE_PATH",
    "LEGACY_CHOICE_PATH",
    "ModelChoice",
    "choice_dir",
    "choice_key",
    "load_choice",
    "resolve_choice_path",
    "save_choice",
]

logger = logging.getLogger("autoembedding")

#: Where older versions saved the choice (relative to the working directory); read once, to move.
LEGACY_CHOICE_PATH = Path(".autoembedding") / "choice.json"
#: Kept for imports of older versions: the legacy path (no longer where choices are saved).
DEFAULT_CHOICE_PATH = LEGACY_CHOICE_PATH
#: Environment variable naming one file for every saved choice (overrides the keyed files).
CHOICE_PATH_ENV = "AUTOEMBEDDING_CHOICE_PATH"
#: Environment variable naming the folder of the keyed choice files.
CHOICE_DIR_ENV = "AUTOEMBEDDING_CHOICE_DIR"
#: The key of a bare ``AutoEmbedding()``: no collection, default candidates, no targets.
_BARE = "auto"


@dataclass(frozen=True)
class ModelChoice:
    """A model chosen for an ``AutoEmbedding`` and why.

    Attributes:
        record: The model and the options that change its vectors.
        source: ``"pinned"``, ``"collection"``, ``"probe"``, ``"saved"`` or ``"default"``.
        reason: One human-readable sentence.

    """

    record: ModelRecord
    source: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (what :func:`save_choice` writes)."""
        return {**self.record.to_config(), "source": self.source, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelChoice:
        """Read back what :meth:`to_json` wrote."""
        record = ModelRecord.from_config(data)
        return cls(record, str(data.get("source", "saved")), str(data.get("reason", "")))


def choice_dir() -> Path:
    """The folder of the keyed choice files: ``$AUTOEMBEDDING_CHOICE_DIR``, else the user cache's.

    The user cache is :func:`autoembedding.offline.cache_dir` (``$AUTOEMBEDDING_CACHE``, else
    ``$XDG_CACHE_HOME/autoembedding`` or ``~/.cache/autoembedding`` on Linux); choices go in its
    ``choices/`` folder. Nothing is created here.
    """
    forced = os.environ.get(CHOICE_DIR_ENV, "").strip()
    if forced:
        return Path(forced).expanduser()
    from autoembedding.offline import cache_dir

    return cache_dir() / "choices"


def collection_identity(collection: Any) -> str | None:
    """A collection's name and where it lives (path or server), or ``None`` without one.

    Example:
        >>> collection_identity(None) is None
        True
    """
    if collection is None:
        return None
    name = str(getattr(collection, "name", "?"))
    client = getattr(collection, "client", None) or getattr(collection, "_client", None)
    where = ""
    try:
        settings = client.get_settings() if client is not None else None
    except Exception:  # noqa: BLE001 - a client without settings: the name alone
        settings = None
    if settings is not None:
        if getattr(settings, "is_persistent", False):
            where = str(Path(str(settings.persist_directory)).expanduser().resolve())
        elif getattr(settings, "chroma_server_host", None):
            port = getattr(settings, "chroma_server_http_port", "")
            where = f"http://{settings.chroma_server_host}:{port}"
        else:
            where = "memory"
    return f"{name}@{where}" if where else name


def choice_key(
    collection: Any = None,
    candidates: Sequence[Any] | None = None,
    targets: Any = None,
) -> str:
    """The key of a saved choice: a fingerprint of the collection, candidates and targets.

    Never the working directory. A bare ``AutoEmbedding()`` gets ``"auto"``; anything else gets
    a readable prefix (the collection's name, else ``"auto"``) and 12 hex digits of a sha256.

    Args:
        collection: The collection (or binding) the choice is for, if known.
        candidates: The ``candidates=`` given (labels, Candidates or adapters), or ``None``.
        targets: The ``targets=`` given, or ``None``.

    Example:
        >>> choice_key()
        'auto'
        >>> choice_key(candidates=["fake/a"]) == choice_key(candidates=["fake/a"])
        True
    """
    identity = collection_identity(collection)
    if identity is None and candidates is None and targets is None:
        return _BARE
    labels = None if candidates is None else [_label(c) for c in candidates]
    blob = json.dumps(
        {"collection": identity, "candidates": labels, "targets": _targets(targets)},
        sort_keys=True,
        default=repr,
    )
    digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    prefix = _BARE if identity is None else re.sub(r"[^A-Za-z0-9._-]", "_", identity.split("@")[0])
    return f"{prefix[:60]}-{digest}"


def resolve_choice_path(path: str | os.PathLike[str] | None, key: str | None = None) -> Path:
    """Return the choice file: ``path``, else ``$AUTOEMBEDDING_CHOICE_PATH``, else the keyed one.

    Args:
        path: An explicit file (``choice_path=``), or ``None``.
        key: The key (:func:`choice_key`); ``None`` is the bare ``AutoEmbedding()``'s.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CHOICE_PATH_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return choice_dir() / f"{key or _BARE}.json"


def _explicit(path: str | os.PathLike[str] | None) -> bool:
    return path is not None or bool(os.environ.get(CHOICE_PATH_ENV, "").strip())


def load_choice(
    path: str | os.PathLike[str] | None = None, key: str | None = None
) -> ModelChoice | None:
    """Return the choice saved at ``path`` (see :func:`resolve_choice_path`), or ``None``.

    Without an explicit path, a legacy ``./.autoembedding/choice.json`` is read when the keyed
    file does not exist, and copied to it (see the module).

    Raises:
        AutoEmbeddingError: If the file exists but is not a saved choice; says to delete it.

    """
    file = resolve_choice_path(path, key)
    if file.is_file():
        return _read(file)
    if _explicit(path) or not LEGACY_CHOICE_PATH.is_file():
        return None
    legacy = LEGACY_CHOICE_PATH.resolve()
    choice = _read(legacy)
    moved = save_choice(choice, file)
    logger.warning(
        "AutoEmbedding read its choice (%s) from %s, where older versions saved it in the "
        "working directory; it is now kept in %s, used from any folder (that file wins from "
        "now on; delete %s once every app uses this version).",
        choice.record.model_id,
        legacy,
        moved,
        legacy,
    )
    return choice


def save_choice(
    choice: ModelChoice, path: str | os.PathLike[str] | None = None, key: str | None = None
) -> Path:
    """Write ``choice`` as JSON (atomically) and return the file's path."""
    file = resolve_choice_path(path, key)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(file.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(choice.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(file)
    return file


def _read(file: Path) -> ModelChoice:
    try:
        return ModelChoice.from_json(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise AutoEmbeddingError(
            f"{file} is not a saved model choice ({exc}). Delete it to choose again, or pass "
            "model=... to pin a model."
        ) from exc


def _label(candidate: Any) -> str:
    label = getattr(candidate, "label", None)
    if isinstance(label, str):
        return label
    name = getattr(candidate, "name", None)  # an adapter
    return str(name) if name is not None else str(candidate)


def _targets(targets: Any) -> Any:
    if targets is None:
        return None
    fields = getattr(targets, "__dataclass_fields__", None)
    if fields is not None:
        return {k: getattr(targets, k) for k in sorted(fields)}
    return repr(targets)
