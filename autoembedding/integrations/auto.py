"""Which model an ``AutoEmbedding`` uses: pinned, recorded in a collection, probed, or saved.

Both framework classes (LangChain and LlamaIndex) delegate to :class:`ModelResolver`, so the rules
are the same everywhere:

1. ``model="<id>"`` pins that model.
2. ``collection=...`` that records a model (in its metadata or its persisted
   ``AutoEmbeddingFunction`` config, see :func:`autoembedding.chroma.records.read_record`) uses
   that model, and never silently changes it once vectors exist. A pinned model that differs is
   refused with :class:`~autoembedding.errors.ModelMismatchError`.
3. ``collection=...`` with documents and no record is probed; the winner is used.
4. No collection (or an empty one): a choice saved earlier (``./.autoembedding/choice.json`` by
   default) is reused; otherwise the first batch of at least ``min_probe_docs`` documents is probed
   and the winner pinned and saved. A smaller first batch, a query before any document, a failed
   probe or a probe that finds nothing meeting the targets all fall back to
   :data:`~autoembedding.catalog.OFFLINE_DEFAULT` with a :class:`AutoSelectionWarning`.
   The saved file is a cache: a collection's record always wins over it, and the first write
   through a given collection records the model there.
5. ``collection=`` a :class:`~autoembedding.integrations.stores.CollectionBinding` (what the store
   helpers pass) is re-read by name at most once a second: when a swap gives the name a
   collection of another model, an auto-selected model follows it (logged once) and a pinned
   one is refused loudly.

Example:
    >>> from autoembedding.integrations.auto import ModelResolver
    >>> resolver = ModelResolver("fake/demo")
    >>> resolver.adapter_for_documents(["a"]).name
    'fake/demo'

"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from autoembedding.adapters import get_adapter
from autoembedding.adapters.base import BaseAdapter
from autoembedding.catalog import OFFLINE_DEFAULT
from autoembedding.chroma.errors import chroma_errors
from autoembedding.chroma.records import check_dimension, check_record, read_record, write_record
from autoembedding.errors import (
    AutoSelectionWarning,
    CollectionError,
    ModelMismatchError,
)
from autoembedding.integrations.choice import (
    CHOICE_PATH_ENV,
    DEFAULT_CHOICE_PATH,
    ModelChoice,
    load_choice,
    resolve_choice_path,
    save_choice,
)
from autoembedding.integrations.stores import CollectionBinding
from autoembedding.record import VECTOR_OPTIONS, ModelRecord

__all__ = [
    "CHOICE_PATH_ENV",
    "DEFAULT_CHOICE_PATH",
    "AutoSelectionWarning",
    "ModelChoice",
    "ModelResolver",
    "load_choice",
    "resolve_choice_path",
    "save_choice",
]

logger = logging.getLogger("autoembedding")


def _adapter_from_record(record: ModelRecord, **extra: Any) -> BaseAdapter:
    options = {**record.to_options(), **extra}
    return get_adapter(record.model_id, **options)


def _warn(message: str) -> None:
    logger.warning(message)
    warnings.warn(message, AutoSelectionWarning, stacklevel=4)


class ModelResolver:
    """Decides, once, which adapter an ``AutoEmbedding`` uses, and guards its collection.

    Args:
        model: A catalog id to pin (``None`` to auto-select).
        collection: A Chroma collection the vectors live in (optional), or a
            :class:`~autoembedding.integrations.stores.CollectionBinding` (then the collection
            holding that name is followed, see the module's rule 5). Its record decides the
            model; without a record it is probed (when it has documents).
        candidates: Candidates for the probe: labels (``"id[@dim][:precision]"``),
            ``Candidate`` objects or ready adapters; ``None`` uses the probe's default set.
        targets: A :class:`~autoembedding.selector.Targets` for the probe.
        choice_path: Where the auto-selected choice is saved and read back; ``None`` uses
            ``$AUTOEMBEDDING_CHOICE_PATH`` or ``./.autoembedding/choice.json``.
        save: Save and reuse auto-selected choices (default ``True``).
        min_probe_docs: The first batch of documents must have this many to be probed.
        probe_budget_s: Time budget handed to the probe (``None``: the probe's default).
        adapter_options: Extra options for :func:`~autoembedding.get_adapter` (``truncate_dim``,
            ``precision``, prompts, ``batch_size``, ``device``, ...). Options that change the
            vectors apply to a pinned model only; a recorded model keeps its recorded options.
        adapter: A ready adapter to use as is (overrides ``model``).

    Raises:
        ModelMismatchError: If ``model`` is pinned and ``collection`` records another model
            (also later, when a swap gave a bound collection another model).
        CollectionError: If ``collection`` has vectors but no documents and no record.

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
        adapter_options: dict[str, Any] | None = None,
        adapter: BaseAdapter | None = None,
    ) -> None:
        self.model = model
        self._binding = collection if isinstance(collection, CollectionBinding) else None
        self._collection = None if self._binding is not None else collection
        self._seen_generation = self._binding.generation if self._binding is not None else 0
        self.candidates = list(candidates) if candidates is not None else None
        self.targets = targets
        self.choice_path = choice_path
        self.save = save
        self.min_probe_docs = int(min_probe_docs)
        self.probe_budget_s = probe_budget_s
        self.adapter_options = dict(adapter_options or {})
        self.choice: ModelChoice | None = None
        #: The probe report, when a probe picked the model.
        self.report: Any = None
        self._adapter: BaseAdapter | None = None
        self._lock = threading.RLock()
        self._record_written = False
        if adapter is not None:
            self._pin(adapter, "pinned", f"adapter {adapter.name} given")
        elif model is not None:
            self._pin(get_adapter(model, **self.adapter_options), "pinned", f"model={model!r}")
        if collection is not None:
            self._resolve_from_collection()

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

    @property
    def adapter(self) -> BaseAdapter | None:
        """The adapter in use, or ``None`` while the choice waits for the first documents."""
        return self._adapter

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

    # ------------------------------------------------------------------ internals
    def _pin(self, adapter: BaseAdapter, source: str, reason: str) -> None:
        self._adapter = adapter
        record = adapter.record()
        self.choice = ModelChoice(record, source, reason)
        logger.info("AutoEmbedding uses %s (%s: %s)", adapter.name, source, reason)

    def _pin_and_save(self, adapter: BaseAdapter, source: str, reason: str) -> None:
        self._pin(adapter, source, reason)
        if self.save and self.choice is not None:
            path = save_choice(self.choice, self.choice_path)
            logger.info("AutoEmbedding saved its choice to %s", path)

    def _pin_default(self, why: str) -> None:
        adapter = get_adapter(OFFLINE_DEFAULT, **self._non_vector_options())
        _warn(f"AutoEmbedding uses the offline default {OFFLINE_DEFAULT} because {why}.")
        self._pin_and_save(adapter, "default", why)

    def _non_vector_options(self) -> dict[str, Any]:
        return {k: v for k, v in self.adapter_options.items() if k not in VECTOR_OPTIONS}

    def _load_saved(self) -> ModelChoice | None:
        if not self.save:
            return None
        saved = load_choice(self.choice_path)
        if saved is not None:
            adapter = _adapter_from_record(saved.record, **self._non_vector_options())
            self._pin(adapter, "saved", f"reused {resolve_choice_path(self.choice_path)}")
        return saved

    def _resolve_from_collection(self) -> None:
        collection = self.collection
        stored = read_record(collection)
        name = getattr(collection, "name", "?")
        if self._adapter is not None:
            check_record(collection, self._adapter.record(), action="use")
            self._check_dim_of_unrecorded(stored)
            return
        if stored is not None:
            adapter = _adapter_from_record(stored, **self._non_vector_options())
            self._pin(adapter, "collection", f"collection {name!r} records {stored.describe()}")
            return
        count = _count(collection)
        if count == 0:
            # Nothing stored yet: behave as if there were no collection (probe the first batch).
            self._load_saved()
            return
        if _has_no_documents(collection):
            raise CollectionError(
                f"Collection {name!r} stores {count} vectors but no documents and no model "
                "record, so it cannot be probed and the model that made it is unknown. Pass "
                "model='<the id that made its vectors>'."
            )
        self._probe(collection=collection, source_desc=f"collection {name!r}")
        self._check_dim_of_unrecorded(None)
        chosen = self._adapter.model_id if self._adapter else "?"
        _warn_unrecorded = (
            f"Collection {name!r} has {count} vectors but no model record, so which model made "
            f"them is unknown; AutoEmbedding now uses {chosen}. If that is not the model that "
            f"made them, re-embed with: autoembed swap --collection {name} --model {chosen}."
        )
        logger.warning(_warn_unrecorded)
        warnings.warn(_warn_unrecorded, AutoSelectionWarning, stacklevel=3)

    def _check_dim_of_unrecorded(self, stored: ModelRecord | None) -> None:
        """Without a record, compare at least the dimension of one stored vector."""
        if stored is None and self._adapter is not None:
            check_dimension(self.collection, self._adapter.record())

    def _choose_from_documents(self, texts: Sequence[str]) -> None:
        if self._load_saved() is not None:
            return
        if len(texts) < self.min_probe_docs:
            self._pin_default(
                f"the first batch had {len(texts)} documents, fewer than the "
                f"{self.min_probe_docs} needed to probe"
            )
            return
        self._probe(documents=list(texts), source_desc=f"the first {len(texts)} documents")

    def _probe(self, *, source_desc: str, collection: Any = None, documents: Any = None) -> None:
        from autoembedding.selector.probing import probe

        try:
            report = probe(
                collection=collection,
                candidates=self.candidates,
                targets=self.targets,
                budget_s=self.probe_budget_s,
                documents=documents,
            )
        except (CollectionError, ModelMismatchError):
            raise
        except Exception as exc:  # noqa: BLE001 - any probe failure falls back, with a warning
            self._pin_default(f"the probe on {source_desc} failed ({type(exc).__name__}: {exc})")
            return
        self.report = report
        if report.winner is None:
            self._pin_default(f"no candidate met the targets on {source_desc}: {report.reason}")
            return
        adapter = self._given_adapter(report.winner.candidate) or report.winner.candidate.build()
        self._pin_and_save(adapter, "probe", f"probe on {source_desc} picked it: {report.reason}")

    def _given_adapter(self, candidate: Any) -> BaseAdapter | None:
        """The adapter instance passed as a candidate, if the winner is one (keeps its options)."""
        for item in self.candidates or []:
            if (
                isinstance(item, BaseAdapter)
                and item.model_id == candidate.model_id
                and item.truncate_dim == candidate.truncate_dim
                and item.precision == candidate.precision
            ):
                return item
        return None

    def _guard_collection(self, *, write: bool) -> None:
        if self.collection is None or self._adapter is None:
            return
        record = self._adapter.record()
        check_record(self.collection, record, action="add to" if write else "query")
        if write and not self._record_written and read_record(self.collection) is None:
            if _count(self.collection) == 0:
                write_record(self.collection, record)
            self._record_written = True

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
                    raise _moved_error(binding.name, recorded, used)
                adapter = _adapter_from_record(recorded, **self._non_vector_options())
                logger.warning(
                    "Collection %r now holds vectors made by %s (it was swapped); "
                    "AutoEmbedding follows it (it used %s).",
                    binding.name,
                    recorded.describe(),
                    used.describe(),
                )
                self._pin(adapter, "collection", f"collection {binding.name!r} was swapped")
        elif recorded is not None:
            adapter = _adapter_from_record(recorded, **self._non_vector_options())
            self._pin(adapter, "collection", f"collection {binding.name!r} records a model")
        self._seen_generation = binding.generation
        self._record_written = False


def _moved_error(name: str, recorded: ModelRecord, used: ModelRecord) -> ModelMismatchError:
    return ModelMismatchError(
        f"Collection {name!r} now holds vectors made by {recorded.describe()} (it was swapped), "
        f"but this AutoEmbedding is pinned to {used.describe()}; its queries and writes would "
        f"mix two models. Drop model= so the collection's record decides, or pin "
        f"model={recorded.model_id!r}; to go back: autoembed swap --undo --collection {name}."
    )


def _read(collection: Any, method: str, **kwargs: Any) -> Any:
    """Call a read method of the collection, with Chroma's errors translated."""
    with chroma_errors("read", collection=getattr(collection, "name", None)):
        return getattr(collection, method)(**kwargs)


def _count(collection: Any) -> int:
    return int(_read(collection, "count"))


def _has_no_documents(collection: Any) -> bool:
    got = _read(collection, "get", limit=20, include=["documents"])
    docs = got.get("documents") or []
    return all(d is None or d == "" for d in docs)
