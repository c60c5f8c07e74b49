"""The adapter a resolver pinned, how to build it again, and how a resolver is copied.

:class:`AdapterHolder` is the base of :class:`~autoembedding.integrations.auto.ModelResolver`:
it keeps the chosen adapter with its :class:`~autoembedding.integrations.choice.ModelChoice` and
a *recipe* (``get_adapter(model_id, **options)``) to build it again. Pickling drops the lock and
the adapter (rebuilt on unpickling, its weights load again on first use), so an ``AutoEmbedding``
pickles and deep-copies like the Hugging Face classes; a live Chroma collection is shared by a
deep copy and refused by pickle with a message saying what to do.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any

from autoembedding.adapters import get_adapter
from autoembedding.adapters.base import BaseAdapter
from autoembedding.integrations.choice import (
    ModelChoice,
    choice_key,
    load_choice,
    resolve_choice_path,
    save_choice,
)
from autoembedding.record import VECTOR_OPTIONS, ModelRecord

__all__ = ["AdapterHolder", "Recipe"]

logger = logging.getLogger("autoembedding")

#: How to build an adapter again: ``get_adapter(model_id, **options)``.
Recipe = tuple[str, dict[str, Any]]

_NO_PICKLE = (
    "An AutoEmbedding bound to a Chroma collection (collection=..., or made by chroma_store / "
    "chroma_vector_store) cannot be pickled: the collection is a live connection. Pickle one "
    "without collection= (the model choice is kept), or build the store again in the other "
    "process; copy.deepcopy works and shares the collection."
)


class AdapterHolder:
    """The pinned adapter, its choice and recipe; pickling and deep copies (see the module).

    Subclasses set, in ``__init__``: ``adapter_options``, ``save``, ``choice_path``,
    ``_binding``, ``_collection``.
    """

    adapter_options: dict[str, Any]
    save: bool
    choice_path: Any
    _binding: Any
    _collection: Any

    def _init_holder(self) -> None:
        self.choice: ModelChoice | None = None
        self._adapter: BaseAdapter | None = None
        #: How to rebuild the adapter after pickling (``None``: a given adapter, kept as is).
        self._recipe: Recipe | None = None
        self._lock = threading.RLock()

    @property
    def adapter(self) -> BaseAdapter | None:
        """The adapter in use, or ``None`` while the choice waits for the first documents."""
        return self._adapter

    # ------------------------------------------------------------------ copies
    def __getstate__(self) -> dict[str, Any]:
        if self._binding is not None or self._collection is not None:
            raise TypeError(_NO_PICKLE)
        return self._portable_state()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        if self._adapter is None and self._recipe is not None:
            model_id, options = self._recipe
            self._adapter = get_adapter(model_id, **options)  # weights load on first use

    def __deepcopy__(self, memo: dict[int, Any]) -> AdapterHolder:
        for handle in (self._collection, self._binding):
            if handle is not None:  # a live collection is shared, not copied
                memo.setdefault(id(handle), handle)
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new.__setstate__(copy.deepcopy(self._portable_state(), memo))
        return new

    def _portable_state(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k != "_lock"}
        if self._recipe is not None:
            state["_adapter"] = None
        return state

    # ------------------------------------------------------------------ pinning
    def _pin(
        self, adapter: BaseAdapter, source: str, reason: str, recipe: Recipe | None = None
    ) -> None:
        self._adapter = adapter
        self._recipe = recipe
        self.choice = ModelChoice(adapter.record(), source, reason)
        logger.info("AutoEmbedding uses %s (%s: %s)", adapter.name, source, reason)

    def _pin_built(
        self, model_id: str, options: dict[str, Any], source: str, reason: str, save: bool = False
    ) -> None:
        options = dict(options)
        self._pin(get_adapter(model_id, **options), source, reason, (model_id, options))
        if save and self.save and self.choice is not None:
            path = save_choice(self.choice, self.choice_path, self._choice_key())
            logger.info("AutoEmbedding saved its choice to %s", path)

    def _choice_key(self) -> str:
        """The key its choice is saved under (:func:`~.choice.choice_key`; never the folder)."""
        return choice_key(
            self._binding if self._binding is not None else self._collection,
            getattr(self, "candidates", None),
            getattr(self, "targets", None),
        )

    def _pin_record(self, record: ModelRecord, source: str, reason: str) -> None:
        options = {**record.to_options(), **self._non_vector_options()}
        self._pin_built(record.model_id, options, source, reason)

    def _non_vector_options(self) -> dict[str, Any]:
        return {k: v for k, v in self.adapter_options.items() if k not in VECTOR_OPTIONS}

    def _load_saved(self) -> ModelChoice | None:
        if not self.save:
            return None
        key = self._choice_key()
        saved = load_choice(self.choice_path, key)
        if saved is not None:
            reason = f"reused {resolve_choice_path(self.choice_path, key)}"
            self._pin_record(saved.record, "saved", reason)
        return saved
