"""Which model an ``AutoEmbedding`` uses: pinned, recorded in a collection, probed, or saved.

Both framework classes (LangChain and LlamaIndex) delegate to :class:`ModelResolver`, so the rules
are the same everywhere:

1. ``model="<id>"`` pins that model.
2. ``collection=...`` that records a model (in its metadata or its persisted
   ``AutoEmbeddingFunction`` config, see :func:`autoembedding.chroma.records.read_record`) uses
   that model, and never silently changes it once vectors exist. A pinned model that differs is
   refused with :class:`~autoembedding.errors.ModelMismatchError`.
3. Otherwise ``$AUTOEMBEDDING_MODEL`` pins a model (no probe), and ``$AUTOEMBEDDING_AUTO=0``
   turns auto-selection off (the offline default, no probe, one warning); see
   :mod:`autoembedding.env`.
4. ``collection=...`` with documents and no record is probed; the winner is used.
5. No collection (or an empty one): a choice saved earlier is reused (a file in the user's cache
   keyed by the collection, candidates and targets, never by the working directory; see
   :mod:`autoembedding.integrations.choice`); otherwise the first batch of at least
   ``min_probe_docs`` documents is probed (a seeded sample of at most
   :data:`PROBE_SAMPLE_SIZE`, within ``probe_budget_s``) and the winner pinned and saved.
   Without ``candidates=``, what is raced and the sample size are fixed before the probe from
   the catalog's cost figures (:mod:`autoembedding.integrations._zero_config`), so the clock
   does not decide the pick; a probe the budget cut anyway is reported with a warning. A
   smaller first batch, a query before any document, a failed probe or a probe that finds
   nothing meeting the targets all fall back to :data:`~autoembedding.catalog.OFFLINE_DEFAULT`
   with a :class:`AutoSelectionWarning`.
   The saved file is a cache: a collection's record always wins over it, and the first write
   through a given collection records the model there.
6. ``collection=`` a :class:`~autoembedding.retrieval.binding.CollectionBinding` (what the store
   helpers pass) is re-read by name at most once a second: when a swap gives the name a
   collection of another model, an auto-selected model follows it (logged once) and a pinned
   one is refused loudly.

Warnings point at the user's line and are not also logged (see
:mod:`autoembedding.warn`). A resolver pickles without its lock and its adapter
(rebuilt on unpickling; weights load again on first use); one bound to a collection deep-copies
(sharing the collection) but does not pickle.

Example:
    >>> from autoembedding.integrations.auto import ModelResolver
    >>> resolver = ModelResolver("fake/demo")
    >>> resolver.adapter_for_documents(["a"]).name
    'fake/demo'

"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from autoembedding.adapters import get_adapter
from autoembedding.adapters.base import BaseAdapter
from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.records import check_dimension, check_record, read_record, write_record
from autoembedding.env import AUTO_ENV, MODEL_ENV, auto_enabled, env_model
from autoembedding.errors import (
    AutoSelectionWarning,
    CollectionError,
    UnknownModelError,
)
from autoembedding.integrations._auto_probe import Prober
from autoembedding.integrations._reads import count, has_no_documents, moved_error
from autoembedding.integrations._zero_config import PROBE_SAMPLE_SIZE
from autoembedding.integrations.choice import (
    CHOICE_PATH_ENV,
    DEFAULT_CHOICE_PATH,
    ModelChoice,
    choice_key,
    load_choice,
    resolve_choice_path,
    save_choice,
)
from autoembedding.record import ModelRecord
from autoembedding.retrieval.binding import CollectionBinding
from autoembedding.warn import warn_user

__all__ = [
    "CHOICE_PATH_ENV",
    "DEFAULT_CHOICE_PATH",
    "PROBE_SAMPLE_SIZE",
    "AutoSelectionWarning",
    "ModelChoice",
    "ModelResolver",
    "choice_key",
    "load_choice",
    "resolve_choice_path",
    "save_choice",
]

logger = logging.getLogger("autoembedding")


class ModelResolver(Prober):
    """Decides, once, which adapter an ``AutoEmbedding`` uses, and guards its collection.

    Args:
        model: A catalog id to pin (``None`` to auto-select, or ``$AUTOEMBEDDING_MODEL``).
        collection: A Chroma collection the vectors live in (optional), or a
            :class:`~autoembedding.retrieval.binding.CollectionBinding` (then the collection
            holding that name is followed, see the module's rule 6). Its record decides the
            model; without a record it is probed (when it has documents).
        candidates: Candidates for the probe: labels (``"id[@dim][:precision]"``),
            ``Candidate`` objects or ready adapters; ``None`` uses the probe's default set.
        targets: A :class:`~autoembedding.selector.Targets` for the probe.
        choice_path: Where the auto-selected choice is saved and read back; ``None`` uses
            ``$AUTOEMBEDDING_CHOICE_PATH``, else a file in the user's cache keyed by the
            collection, ``candidates`` and ``targets`` (:func:`~.choice.resolve_choice_path`).
        save: Save and reuse auto-selected choices (default ``True``).
        min_probe_docs: The first batch of documents must have this many to be probed.
        probe_budget_s: Time budget handed to the probe (``None``: the probe's default).
        progress: The probe's progress: ``False``, ``True`` (a bar on a terminal) or a callable
            ``(message, fraction)``.
        adapter_options: Extra options for :func:`~autoembedding.get_adapter` (``truncate_dim``,
            ``precision``, prompts, ``batch_size``, ``device``, ...). Options that change the
            vectors apply to a pinned model only; a recorded model keeps its recorded options.
        adapter: A ready adapter to use as is (overrides ``model``).

    Raises:
        ModelMismatchError: If ``model`` is pinned and ``collection`` records another model
            (also later, when a swap gave a bound collection another model).
        CollectionError: If ``collection`` has vectors but no documents and no record.
        UnknownModelError: If ``model`` or ``$AUTOEMBEDDING_MODEL`` names no known model.
        InvalidArgumentError: If ``$AUTOEMBEDDING_AUTO`` is not a yes/no value.

    """

    def __init__(
        self,
        model: str | None = None,
        *,
        collection: Any = None,
        candidates: Sequence[Any] | None = None,
        targets: Any = None,
        choice_path: str | os.PathLike[str] | None = None,
        save: bool = True,
        min_probe_docs: int = 50,
        probe_budget_s: float | None = None,
        progress: bool | Callable[[str, float], None] = False,
        adapter_options: dict[str, Any] | None = None,
        adapter: BaseAdapter | None = None,
    ) -> None:
        self.model = model
        self._binding = collection if isinstance(collection, CollectionBinding) else None
        self._collection = None if self._binding is not None else collection
        self._seen_generation = self._binding.generation if self._binding is not None else 0
        self._handle: Any = None  # HandleCheck of a plain collection handle, made on first write
        self.candidates = list(candidates) if candidates is not None else None
        self.targets = targets
        self.choice_path = choice_path
        self.save = save
        self.min_probe_docs = int(min_probe_docs)
        self.probe_budget_s = probe_budget_s
        self.progress = progress
        self.adapter_options = dict(adapter_options or {})
        self._init_holder()
        #: The probe report, when a probe picked the model.
        self.report: Any = None
        self._record_written = False
        self._env_model: str | None = None
        self._auto = True
        if adapter is not None:
            self._pin(adapter, "pinned", f"adapter {adapter.name} given", None)
        elif model is not None:
            self._pin_built(model, self.adapter_options, "pinned", f"model={model!r}")
        else:
            self._env_model = _checked_env_model(self.adapter_options)
            self._auto = auto_enabled()
        if collection is not None:
            self._resolve_from_collection()
        elif self._adapter is None and not self._may_probe():
            self._settle_without_probe()

    # ------------------------------------------------------------------ public
    @property
    def collection(self) -> Any:
        """The collection guarded (for a binding: the handle that holds its name now)."""
        if self._binding is not None:
            return self._binding.collection
        return self._collection

    @property
    def binding(self) -> CollectionBinding | None:
        """The binding followed, when ``collection=`` was one."""
        return self._binding

    def adapter_for_documents(self, texts: Sequence[str]) -> BaseAdapter:
        """Return the adapter to embed ``texts`` with; probes on them if nothing is chosen yet.

        Also writes the model record into the collection (if one was given and has none) before
        the caller writes vectors, and refuses if the collection records another model.
        """
        with self._lock:
            self._follow()
            if self._adapter is None:
                self._choose_from_documents(texts)
            assert self._adapter is not None
            self._guard_collection(write=True)
            return self._adapter

    def adapter_for_query(self) -> BaseAdapter:
        """Return the adapter for queries (a saved choice, or the default if none yet)."""
        with self._lock:
            self._follow()
            if self._adapter is None:
                saved = self._load_saved()
                if saved is None:
                    self._pin_default(
                        "a query came before any documents, so there was nothing to probe"
                    )
            assert self._adapter is not None
            self._guard_collection(write=False)
            return self._adapter

    def _pin_default(self, why: str, *, save: bool = True) -> None:
        options = self._non_vector_options()
        get_adapter(OFFLINE_DEFAULT, **options)  # fails before warning if it cannot be built
        warn_user(
            f"AutoEmbedding uses the offline default {OFFLINE_DEFAULT} because {why}.",
            AutoSelectionWarning,
        )
        self._pin_built(OFFLINE_DEFAULT, options, "default", why, save=save)

    def _may_probe(self) -> bool:
        """Whether auto-selection may probe (no ``$AUTOEMBEDDING_MODEL``, auto mode on)."""
        return self._env_model is None and self._auto

    def _settle_without_probe(self) -> None:
        """Pin ``$AUTOEMBEDDING_MODEL``, or the offline default when auto mode is off."""
        if self._env_model is not None:
            reason = f"${MODEL_ENV}={self._env_model!r}"
            self._pin_built(self._env_model, self.adapter_options, "env", reason)
        else:
            self._pin_default(f"auto-selection is off (${AUTO_ENV}=0)", save=False)

    # ------------------------------------------------------------------ choosing
    def _resolve_from_collection(self) -> None:
        collection = self.collection
        stored = read_record(collection)
        name = getattr(collection, "name", "?")
        if self._adapter is not None:
            check_record(collection, self._adapter.record(), action="use")
            self._check_dim_of_unrecorded(stored)
            return
        if stored is not None:
            self._warn_env_model_unused(name, stored)
            self._pin_record(
                stored, "collection", f"collection {name!r} records {stored.describe()}"
            )
            return
        n = count(collection)
        if n == 0:
            # Nothing stored yet: behave as if there were no collection (probe the first batch).
            if self._may_probe():
                self._load_saved()
            else:
                self._settle_without_probe()
            return
        if self._may_probe():
            if has_no_documents(collection):
                raise CollectionError(
                    f"Collection {name!r} stores {n} vectors but no documents and no model "
                    "record, so it cannot be probed and the model that made it is unknown. Pass "
                    "model='<the id that made its vectors>'."
                )
            # Saved only once the pick passed every check: a refused constructor saves nothing.
            self._probe(
                collection=collection, n_docs=n, source_desc=f"collection {name!r}", save=False
            )
        else:
            self._settle_without_probe()
        self._check_dim_of_unrecorded(None)
        if self._may_probe():
            self._save_choice()
        chosen = self._adapter.model_id if self._adapter else "?"
        warn_user(
            f"Collection {name!r} has {n} vectors but no model record, so which model made "
            f"them is unknown; AutoEmbedding now uses {chosen}. If that is not the model that "
            f"made them, re-embed with: autoembed swap --collection {name} --model {chosen}.",
            AutoSelectionWarning,
        )

    def _warn_env_model_unused(self, name: str, stored: ModelRecord) -> None:
        if self._env_model is None:
            return
        if get_adapter(self._env_model, **self.adapter_options).model_id != stored.model_id:
            warn_user(
                f"${MODEL_ENV}={self._env_model!r} is not used for collection {name!r}: it "
                f"records {stored.describe()}, the model that made its vectors.",
                AutoSelectionWarning,
            )

    def _check_dim_of_unrecorded(self, stored: ModelRecord | None) -> None:
        """Without a record, compare at least the dimension of one stored vector."""
        if stored is None and self._adapter is not None:
            check_dimension(self.collection, self._adapter.record())

    def _choose_from_documents(self, texts: Sequence[str]) -> None:
        if not self._may_probe():
            self._settle_without_probe()
            return
        if self._load_saved() is not None:
            return
        if len(texts) < self.min_probe_docs:
            self._pin_default(
                f"the first batch had {len(texts)} documents, fewer than the "
                f"{self.min_probe_docs} needed to probe"
            )
            return
        desc = f"the first {len(texts)} documents"
        self._probe(documents=list(texts), n_docs=len(texts), source_desc=desc)

    # ------------------------------------------------------------------ the collection
    def _guard_collection(self, *, write: bool) -> None:
        if self.collection is None or self._adapter is None:
            return
        record = self._adapter.record()
        if write and self._binding is None and hasattr(self.collection, "_client"):
            self._handle_check().check("add to")  # a chromadb handle opened before a swap
        check_record(self.collection, record, action="add to" if write else "query")
        if write and not self._record_written and read_record(self.collection) is None:
            if count(self.collection) == 0:
                write_record(self.collection, record)
            self._record_written = True

    def _handle_check(self) -> Any:
        if self._handle is None:
            from autoembedding.chroma.handles import HandleCheck

            self._handle = HandleCheck(self.collection)
        return self._handle

    def _follow(self) -> None:
        """For a binding: re-check (at most once per ``recheck_s``) and follow a swap.

        An auto-selected or recorded model switches to the model the collection now records
        (logged once per change); a pinned one is refused on every call until it matches.
        """
        binding = self._binding
        if binding is None:
            return
        binding.refresh()
        if binding.generation == self._seen_generation:
            return
        recorded = read_record(binding.collection)
        current = self._adapter
        if recorded is not None and current is not None:
            used = current.record()
            if not recorded.same_vectors_as(used):
                if self.choice is not None and self.choice.source == "pinned":
                    raise moved_error(binding.name, recorded, used)
                logger.warning(
                    "Collection %r now holds vectors made by %s (it was swapped); "
                    "AutoEmbedding follows it (it used %s).",
                    binding.name,
                    recorded.describe(),
                    used.describe(),
                )
                self._pin_record(recorded, "collection", f"collection {binding.name!r} was swapped")
        elif recorded is not None:
            self._pin_record(recorded, "collection", f"collection {binding.name!r} records a model")
        self._seen_generation = binding.generation
        self._record_written = False


def _checked_env_model(options: dict[str, Any]) -> str | None:
    """``$AUTOEMBEDDING_MODEL``, checked now (a bad id fails at construction, not first use)."""
    model = env_model()
    if model is not None:
        try:
            get_adapter(model, **options)
        except UnknownModelError as exc:
            raise UnknownModelError(f"${MODEL_ENV}={model!r}: {exc}") from exc
    return model
