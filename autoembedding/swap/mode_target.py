"""The targets of a retrieval-mode swap: lexical and hybrid labels, languages, the journal.

:func:`parse_target` reads a label the probe report prints (``bm25``, ``bm25:<lang>``,
``hybrid:<dense>+bm25[:<lang>]``, ``hybrid-rrf:<dense>+bm25[:<lang>]``), a probe ``Candidate``
or ``CandidateResult`` into a :class:`ModeTarget`; :func:`check_language` refuses a forced
language nobody knows, naming the choices. :mod:`~.mode` performs the swap.
"""

from __future__ import annotations

import json
import locale
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from autoembedding.arguments import number
from autoembedding.errors import InvalidArgumentError
from autoembedding.record import ModelRecord
from autoembedding.swap.journal import K_MODE_PHASE, K_MODE_PREV, K_MODE_TARGET

__all__ = [
    "DEFAULT_WEIGHT",
    "PHASE_INDEX",
    "PHASE_REEMBED",
    "RRF_K",
    "ModeTarget",
    "Previous",
    "check_language",
    "dump_previous",
    "is_mode_model",
    "parse_target",
    "pending_target",
    "previous_records",
    "target_label",
]

#: Dense weight of a convex hybrid when neither the probe nor the caller gave one.
DEFAULT_WEIGHT = 0.5
#: RRF's rank constant (the probe's).
RRF_K = 60
#: ``K_MODE_PHASE`` values: a hybrid's dense swap is under way; the BM25 index is being built.
PHASE_REEMBED = "reembed"
PHASE_INDEX = "index"


@dataclass(frozen=True)
class ModeTarget:
    """What a retrieval-mode swap was asked for.

    Attributes:
        retrieval: ``"lexical"``, ``"hybrid"`` or ``"dense"``.
        label: The label asked for.
        tokenizer: The forced tokenizer spec (``""``: detect it from the documents).
        dense: A hybrid's dense part (a label, ``id[@dim][:precision]``).
        fusion: ``"convex"`` or ``"rrf"`` for a hybrid.
        fusion_weight: A convex hybrid's dense weight.
        weight_from: ``"probe"``, ``"argument"`` or ``"default"``.
        rrf_k: An RRF hybrid's rank constant.
    """

    retrieval: str
    label: str
    tokenizer: str = ""
    dense: str = ""
    fusion: str = ""
    fusion_weight: float | None = None
    weight_from: str = ""
    rrf_k: int = RRF_K

    def to_json(self) -> str:
        """The target as a JSON string (the ``swap_mode_target`` journal value)."""
        return json.dumps(asdict(self), sort_keys=True)

    @property
    def command_label(self) -> str:
        """The ``--model`` value (and ``--fusion-weight``) that ask for this target again."""
        weight = self.weight_from == "argument" and self.fusion_weight is not None
        given = f" --fusion-weight {self.fusion_weight:g}" if weight else ""
        return shlex.quote(self.label) + given


# ---------------------------------------------------------------------------- labels
def is_mode_model(model: Any) -> bool:
    """Whether ``model`` asks for BM25 or a hybrid (a label, a Candidate or a CandidateResult)."""
    from autoembedding.candidates import Candidate

    model = getattr(model, "candidate", model)
    if isinstance(model, str):
        try:
            model = Candidate.parse(model)
        except ValueError:  # a malformed lexical or hybrid label: parse_target explains it
            return model.strip().lower().startswith(("bm25", "hybrid"))
    return isinstance(model, Candidate) and model.kind != "dense"


def parse_target(model: Any, fusion_weight: float | None = None) -> ModeTarget:
    """Read a lexical or hybrid label (or a probe Candidate / CandidateResult) into a target.

    A convex hybrid's weight is ``fusion_weight`` if given, else the one the probe chose (from
    a :class:`~autoembedding.candidates.CandidateResult`'s ``lexical["weight"]``), else
    :data:`DEFAULT_WEIGHT`.

    Raises:
        InvalidArgumentError: For a label that cannot be parsed, an unknown language (naming
            the choices), or a weight that is not in ``[0, 1]`` or goes with no convex hybrid.
    """
    from autoembedding.candidates import Candidate

    details: Mapping[str, Any] = {}
    if hasattr(model, "candidate"):  # a CandidateResult from a probe report
        details = dict(getattr(model, "lexical", None) or {})
        model = model.candidate
    if isinstance(model, str):
        try:
            model = Candidate.parse(model)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"{exc} The labels are 'bm25', 'bm25:<lang>', 'hybrid:<model>+bm25[:<lang>]' "
                "and 'hybrid-rrf:<model>+bm25[:<lang>]', as the probe report prints them.",
                argument="model",
            ) from exc
    if not isinstance(model, Candidate):
        raise InvalidArgumentError(
            f"model must be a label or a Candidate, got {type(model).__name__}.", argument="model"
        )
    if fusion_weight is not None:
        fusion_weight = number(fusion_weight, "fusion_weight", minimum=0.0, maximum=1.0)
        if model.fusion != "convex":
            raise InvalidArgumentError(
                f"fusion_weight (--fusion-weight) sets a convex hybrid's dense weight; "
                f"{model.label!r} has none. Use a 'hybrid:<model>+bm25' label with it.",
                argument="fusion_weight",
            )
    if model.kind == "dense":
        return ModeTarget("dense", model.label, dense=model.label)
    lexical = model if model.kind == "lexical" else model.parts[1]
    forced = lexical.model_id.partition(":")[2].strip()
    measured = str(details.get("tokenizer") or "")  # what the probe measured, for plain bm25
    tokenizer = check_language(forced, model.label) if forced else measured
    if model.kind == "lexical":
        return ModeTarget("lexical", model.label, tokenizer=tokenizer)
    dense = model.parts[0].label
    if model.fusion == "rrf":
        k = int(details.get("k") or RRF_K)
        return ModeTarget("hybrid", model.label, tokenizer, dense, "rrf", rrf_k=k)
    if fusion_weight is not None:
        weight, source = fusion_weight, "argument"
    elif details.get("weight") is not None:
        weight, source = float(details["weight"]), "probe"
    else:
        weight, source = DEFAULT_WEIGHT, "default"
    return ModeTarget("hybrid", model.label, tokenizer, dense, "convex", weight, source)


@cache
def _locale_languages() -> frozenset[str]:
    """Language codes the C library has locales for (a list of real codes, from the stdlib)."""
    codes = {k.split("_")[0].split(".")[0].split("@")[0] for k in locale.locale_alias}
    return frozenset(c for c in codes if 2 <= len(c) <= 3 and c.isalpha())


def check_language(spec: str, label: str) -> str:
    """Check a forced tokenizer spec and return its normal form (``"English"`` -> ``"en"``).

    A bare code must name a language: one with a stemmer, a segmenter or a stopword list, or
    one the C library knows (``"vi"``, served as plain words). ``words:<code>`` is always taken.

    Raises:
        InvalidArgumentError: For an unknown language or a malformed spec, naming the choices.
        MissingExtraError: If the ``[lexical]`` extra is not installed.
    """
    from autoembedding.lexical import Tokenizer
    from autoembedding.lexical.languages import SEGMENTED, SNOWBALL, normalize_code, stopwords

    lowered = spec.strip().lower()
    parts = lowered[len("mixed:") :].split("+") if lowered.startswith("mixed:") else [lowered]
    for part in parts:
        code = normalize_code(part)
        if part.startswith("words:") or code in ("", "und"):
            continue
        if not (code in SNOWBALL or code in SEGMENTED or stopwords(code)) and (
            code not in _locale_languages()
        ):
            raise InvalidArgumentError(
                f"Unknown language {part!r} in {label!r}. Choose a code: "
                f"{', '.join(sorted(SNOWBALL))} (stemmed); {', '.join(sorted(SEGMENTED))} "
                "(segmented with jieba); 'words:<code>' for the plain words of another "
                "language (e.g. 'words:ko'); 'mixed:zh+en' for Chinese with another language; "
                "'und' for plain words; or plain 'bm25' to detect it from the documents.",
                argument="model",
            )
    try:
        return Tokenizer(spec).spec
    except ValueError as exc:
        raise InvalidArgumentError(f"{label!r}: {exc}", argument="model") from exc


def pending_target(metadata: Mapping[str, Any]) -> ModeTarget | None:
    """The target of a mode swap journaled in ``metadata`` (pending or re-embedding), if any."""
    if metadata.get(K_MODE_PHASE) not in (PHASE_INDEX, PHASE_REEMBED):
        return None
    try:
        return ModeTarget(**json.loads(str(metadata.get(K_MODE_TARGET))))
    except (ValueError, TypeError):
        return None


def target_label(meta: Mapping[str, Any]) -> str:
    """The label of the mode swap journaled in ``metadata`` (``"a hybrid"`` if unreadable)."""
    try:
        return str(json.loads(str(meta.get(K_MODE_TARGET)))["label"])
    except (ValueError, KeyError, TypeError):
        return "a hybrid"


@dataclass(frozen=True)
class Previous:
    """One entry of a collection's mode-swap history (``swap_mode_prev``), the latest last.

    Attributes:
        record: The record the collection had before that mode swap.
        reembedded: Whether that swap began with a dense swap (its undo undoes that too).
    """

    record: ModelRecord
    reembedded: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON types."""
        return {"record": self.record.to_config(), "reembedded": self.reembedded}


def previous_records(metadata: Mapping[str, Any]) -> list[Previous]:
    """The mode-swap history kept in a collection's metadata (empty if none or unreadable)."""
    try:
        items = json.loads(str(metadata.get(K_MODE_PREV) or "[]"))
        return [
            Previous(ModelRecord.from_config(item["record"]), bool(item.get("reembedded")))
            for item in items
        ]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def dump_previous(history: list[Previous]) -> str:
    """The ``swap_mode_prev`` value of a history."""
    return json.dumps([entry.to_dict() for entry in history], sort_keys=True)
