"""The fields the LangChain and LlamaIndex ``AutoEmbedding`` classes share, and their resolver.

Both classes inherit :class:`AutoEmbeddingFields` (a pydantic model) next to their framework's
base class, so they take the same arguments with the same defaults and checks, and both build
their :class:`~autoembedding.integrations.auto.ModelResolver` with :func:`build_resolver`. Only the
batching field differs: LangChain's ``batch_size``, LlamaIndex's own ``embed_batch_size``.

Like their peers (``HuggingFaceEmbeddings``, ``HuggingFaceEmbedding``) they refuse unknown
fields (:func:`unknown_fields_message` suggests the close one), check what they can at
construction without loading weights (model ids, candidates, targets), and pickle and
deep-copy (see :mod:`autoembedding.integrations._pinning`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Set
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer, model_validator

from autoembedding.adapters.base import BaseAdapter, validate_texts
from autoembedding.env import MODEL_ENV, env_model
from autoembedding.errors import AutoSelectionWarning, InvalidArgumentError
from autoembedding.integrations._progress import ShowProgress, progress_arg
from autoembedding.integrations.auto import ModelChoice, ModelResolver
from autoembedding.warn import warn_user

__all__ = [
    "AutoEmbeddingFields",
    "build_resolver",
    "check_model_name",
    "document_texts",
    "pop_model_name",
    "unknown_fields_message",
]

#: Default time budget of auto-selection's probe, seconds.
DEFAULT_PROBE_BUDGET_S = 120.0


class AutoEmbeddingFields(BaseModel):
    """The constructor fields of every framework ``AutoEmbedding`` (see their classes)."""

    # ``model`` and ``model_kwargs`` are our names, not pydantic's protected ``model_`` ones.
    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    model: str | None = Field(
        default=None,
        description="Catalog id to pin (`autoembed models` lists them); None to auto-select "
        "(or $AUTOEMBEDDING_MODEL).",
    )
    collection: Any = Field(
        default=None,
        description="A Chroma collection the vectors live in (its recorded model is used, or it "
        "is probed), or a CollectionBinding from autoembedding.retrieval.binding (followed "
        "by name across swaps; what the store helpers pass).",
        exclude=True,
    )
    candidates: list[Any] | None = Field(
        default=None,
        description='Auto-selection candidates: labels "id[@dim][:precision]", Candidates or '
        "adapters.",
    )
    targets: Any = Field(
        default=None,
        description="An autoembedding.selector.Targets that auto-selection must meet.",
        exclude=True,
    )
    # strict: pydantic's lax mode would take True as 1 (1-dimensional vectors) and "16" as 16.
    truncate_dim: int | None = Field(
        default=None,
        strict=True,
        description="Matryoshka truncation for a pinned model (None: native dimension).",
    )
    precision: str = Field(
        default="float32", description='"float32", "int8" or "binary", for a pinned model.'
    )
    query_prompt: str | None = Field(
        default=None, description="Override the catalog's query prompt of a pinned model."
    )
    document_prompt: str | None = Field(
        default=None, description="Override the catalog's document prompt of a pinned model."
    )
    choice_path: str | None = Field(
        default=None,
        description="Where an auto-selected choice is saved (default: the user cache, one "
        "file per collection, candidates and targets; $AUTOEMBEDDING_CHOICE_DIR moves it).",
    )
    save_choice: bool = Field(
        default=True,
        strict=True,
        description="Save an auto-selected choice and reuse it on restart.",
    )
    min_probe_docs: int = Field(
        default=50,
        ge=2,
        strict=True,
        description="The first batch of documents is probed only if it has at least this many.",
    )
    probe_budget_s: float | None = Field(
        default=DEFAULT_PROBE_BUDGET_S,
        gt=0,
        strict=True,
        description="Time budget of auto-selection's probe, seconds (None: no budget).",
    )
    show_progress: ShowProgress = Field(
        default=None,
        description="None: a progress bar while auto-selection probes, on a terminal only; "
        "True: always, and for batch embedding too; False: never; or a callable "
        "(message, fraction_done).",
    )
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Other adapter options (device, max_seq_length, base_url, ...).",
    )

    _resolver: ModelResolver = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            message = unknown_fields_message(cls, data)
            if message is not None:
                raise ValueError(message)
        return data

    @field_serializer("show_progress")
    def _serialize_show_progress(self, value: Any) -> bool | None:
        return value if value is None or isinstance(value, bool) else None

    @property
    def adapter(self) -> BaseAdapter | None:
        """The adapter in use (``None`` until auto-selection has seen documents)."""
        return self._resolver.adapter

    @property
    def choice(self) -> ModelChoice | None:
        """Which model is used and why (``None`` until chosen)."""
        return self._resolver.choice

    # ------------------------------------------------------------------ copies
    def __getstate__(self) -> dict[Any, Any]:
        if self.collection is not None:
            self._resolver.__getstate__()  # raises the TypeError that says what to do
        return super().__getstate__()  # type: ignore[no-any-return]

    def __setstate__(self, state: dict[Any, Any]) -> None:
        # Restore the resolver as pickled (its choice and why), not by running __init__ again
        # as LlamaIndex's BaseComponent does (that would turn an auto-selected model into a
        # pinned one); fall back to that only if the resolver did not travel.
        if "_resolver" in (state.get("__pydantic_private__") or {}):
            BaseModel.__setstate__(self, state)
        else:
            super().__setstate__(state)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> AutoEmbeddingFields:
        memo = {} if memo is None else memo
        if self.collection is not None:  # a live collection is shared, not copied
            memo.setdefault(id(self.collection), self.collection)
        return super().__deepcopy__(memo)


def document_texts(texts: Any, *, method: str = "embed_documents") -> list[str]:
    """Check the documents a framework method was given and return them as a list.

    On top of :func:`~autoembedding.adapters.base.validate_texts` (a single string, a
    non-iterable, a non-string item), refuses a mapping and a set: iterating them gives the keys
    or an arbitrary order, so the vectors would not be those of the texts meant, or not in order.

    Args:
        texts: What the caller passed.
        method: The method's name, for the message.

    Returns:
        The texts as a list.

    Raises:
        InvalidArgumentError: If ``texts`` is not a sequence of strings (names the argument and,
            for a bad item, its index).
    """
    if isinstance(texts, (Mapping, Set)):
        kind = "a mapping (its keys would be embedded)" if isinstance(texts, Mapping) else "a set"
        raise InvalidArgumentError(
            f"{method}() takes a list of strings (texts=), got {kind}: "
            f"{type(texts).__name__}. Pass list(...) of the texts themselves, e.g. "
            f"{method}(list(d.values())) for a dict of texts.",
            argument="texts",
        )
    return validate_texts(texts)


def unknown_fields_message(cls: type[BaseModel], data: Mapping[str, Any]) -> str | None:
    """Say which keys of ``data`` are not fields of ``cls`` (and the close ones), or ``None``."""
    known = _field_names(cls)
    unknown = [key for key in data if isinstance(key, str) and key not in known]
    if not unknown:
        return None
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(known), n=1)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"{cls.__name__} got unexpected field(s) {', '.join(parts)}. Its fields: "
        f"{', '.join(sorted(k for k in known if not k.startswith('_')))}."
    )


def pop_model_name(data: dict[str, Any], *, placeholders: tuple[str, ...] = ()) -> str | None:
    """Take ``model_name`` out of ``data`` and, when ``model`` is not given, pin it as ``model``.

    ``model_name=`` is the name the Hugging Face classes (``HuggingFaceEmbeddings``,
    ``HuggingFaceEmbedding``) and Chroma's functions use; here it is an alias of ``model=``.
    Call :func:`check_model_name` once the resolver is built: both given must name one model.

    Args:
        data: The constructor's keyword arguments (changed in place).
        placeholders: Values of ``model_name`` that mean "no model" (LlamaIndex's ``"auto"``).

    Returns:
        The ``model_name`` given (``None`` if none, or a placeholder).

    Raises:
        InvalidArgumentError: If ``model_name`` is not a string.
    """
    name = data.pop("model_name", None)
    if name is None or name in placeholders:
        return None
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"model_name must be a catalog id (a str), got {name!r:.60} ({type(name).__name__}).",
            argument="model_name",
        )
    if data.get("model") is None:
        data["model"] = name
    return name


def check_model_name(fields: AutoEmbeddingFields, name: str | None) -> None:
    """Refuse a ``model_name`` that names another model than ``model`` (see :func:`pop_model_name`).

    The name may be the id given as ``model``, the catalog id it resolves to, or the adapter's
    label (``id@dim:precision``, what LlamaIndex's ``to_dict`` saves).

    Raises:
        InvalidArgumentError: If ``model`` and ``model_name`` name different models.
    """
    adapter = fields.adapter
    if name is None or adapter is None:
        return
    if name not in (fields.model, adapter.model_id, adapter.name):
        raise InvalidArgumentError(
            f"model={fields.model!r} and model_name={name!r} name different models; "
            "pass one of them.",
            argument="model_name",
        )


def _field_names(cls: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, info in cls.model_fields.items():
        names.add(name)
        if isinstance(info.alias, str):
            names.add(info.alias)
    return names


def build_resolver(fields: AutoEmbeddingFields, *, batch_size: int) -> ModelResolver:
    """The resolver an ``AutoEmbedding`` with these fields uses.

    Options that change the vectors (``truncate_dim``, ``precision``, prompts) apply only to a
    pinned ``model`` (or ``$AUTOEMBEDDING_MODEL``); prompts left as ``None`` keep the catalog's.
    Everything that can be checked without loading weights is checked here.

    Args:
        fields: The validated fields.
        batch_size: Texts per forward pass (the framework's batching field).

    Returns:
        A :class:`~autoembedding.integrations.auto.ModelResolver`.

    Raises:
        UnknownModelError: If ``model``, ``$AUTOEMBEDDING_MODEL`` or a candidate names no known
            model.
        InvalidArgumentError: If a candidate or ``targets`` is not valid (or not an embedding
            model, e.g. ``bm25``), or an option has a bad value.
        ModelMismatchError: If ``model`` is pinned and ``collection`` records another model.
        CollectionError: If ``collection`` cannot be read or probed.
    """
    options: dict[str, Any] = {"batch_size": batch_size, **fields.model_kwargs}
    if fields.model is not None or env_model() is not None:
        options.update(truncate_dim=fields.truncate_dim, precision=fields.precision)
        if fields.query_prompt is not None:
            options["query_prompt"] = fields.query_prompt
        if fields.document_prompt is not None:
            options["document_prompt"] = fields.document_prompt
    if fields.model is None:
        _check_auto_fields(fields.candidates, fields.targets)
    _refuse_unused_targets(fields)
    return ModelResolver(
        fields.model,
        collection=fields.collection,
        candidates=fields.candidates,
        targets=fields.targets,
        choice_path=fields.choice_path,
        save=fields.save_choice,
        min_probe_docs=fields.min_probe_docs,
        probe_budget_s=fields.probe_budget_s,
        progress=progress_arg(fields.show_progress),
        adapter_options=options,
    )


def _refuse_unused_targets(fields: AutoEmbeddingFields) -> None:
    """Refuse ``targets`` with a pinned ``model`` (no probe uses them); warn under the env model.

    Raises:
        InvalidArgumentError: If ``model`` is pinned and ``targets`` is given.
    """
    if fields.targets is None:
        return
    if fields.model is not None:
        raise InvalidArgumentError(
            f"targets= would be ignored: model={fields.model!r} pins the model, so no probe "
            "runs to check them. Drop targets=, or drop model= to let auto-selection pick a "
            "model that meets them.",
            argument="targets",
        )
    pinned = env_model()
    if pinned is not None:
        warn_user(
            f"targets= is not used: ${MODEL_ENV}={pinned!r} pins the model, so no probe runs "
            f"to check them. Unset ${MODEL_ENV} to auto-select a model that meets them.",
            AutoSelectionWarning,
        )


def _check_auto_fields(candidates: Iterable[Any] | None, targets: Any) -> None:
    """Check ``candidates`` and ``targets`` now, not at the first embed (loads nothing)."""
    if targets is not None:
        from autoembedding.candidates import Targets

        if not isinstance(targets, Targets):
            raise InvalidArgumentError(
                f"targets must be an autoembedding.selector.Targets, got {type(targets).__name__}.",
                argument="targets",
            )
    if candidates is None:
        return
    from autoembedding.candidates import Candidate
    from autoembedding.probe.arguments import check_candidates

    items = list(candidates)
    check_candidates(items)
    for index, item in enumerate(items):
        candidate = Candidate.parse(item) if isinstance(item, str) else item
        if isinstance(candidate, Candidate) and candidate.kind != "dense":
            raise InvalidArgumentError(
                f"candidates[{index}] = {candidate.label!r} is a {candidate.kind} candidate, not "
                "an embedding model; an AutoEmbedding can only use embedding models.",
                argument=f"candidates[{index}]",
            )
