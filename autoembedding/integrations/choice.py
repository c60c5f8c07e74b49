"""The saved choice of an auto-selected model: a cache under the working directory.

A :class:`ModelChoice` says which model an ``AutoEmbedding`` uses and why. An auto-selected one is
saved (``./.autoembedding/choice.json`` unless told otherwise) so a restart does not probe again.
It is only a cache: a collection's model record (:func:`autoembedding.chroma.records.read_record`)
always wins over it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoembedding.errors import AutoEmbeddingError
from autoembedding.record import ModelRecord

__all__ = [
    "CHOICE_PATH_ENV",
    "DEFAULT_CHOICE_PATH",
    "ModelChoice",
    "load_choice",
    "resolve_choice_path",
    "save_choice",
]

#: Where an auto-selected model is saved unless told otherwise.
DEFAULT_CHOICE_PATH = Path(".autoembedding") / "choice.json"
#: Environment variable that overrides :data:`DEFAULT_CHOICE_PATH`.
CHOICE_PATH_ENV = "AUTOEMBEDDING_CHOICE_PATH"


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


def resolve_choice_path(path: str | os.PathLike[str] | None) -> Path:
    """Return the choice file: ``path``, else ``$AUTOEMBEDDING_CHOICE_PATH``, else the default."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CHOICE_PATH_ENV)
    return Path(env).expanduser() if env else DEFAULT_CHOICE_PATH


def load_choice(path: str | os.PathLike[str] | None = None) -> ModelChoice | None:
    """Return the choice saved at ``path`` (see :func:`resolve_choice_path`), or ``None``.

    Raises:
        AutoEmbeddingError: If the file exists but is not a saved choice; says to delete it.

    """
    file = resolve_choice_path(path)
    if not file.is_file():
        return None
    try:
        return ModelChoice.from_json(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise AutoEmbeddingError(
            f"{file} is not a saved model choice ({exc}). Delete it to choose again, or pass "
            "model=... to pin a model."
        ) from exc


def save_choice(choice: ModelChoice, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``choice`` as JSON (atomically) and return the file's path."""
    file = resolve_choice_path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(file.suffix + ".tmp")
    tmp.write_text(json.dumps(choice.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(file)
    return file
