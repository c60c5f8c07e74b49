"""Check :func:`~autoembedding.probe.probe`'s arguments before any work starts.

A bad number, an unknown candidate or a missing BEIR file is refused here, naming the argument
(``candidates[2]``, ``budget_s``, ``queries``), before a document is read or a model loaded. The
CLI runs the same checks on its options, so both refuse the same inputs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoembedding.adapters.base import BaseAdapter
from autoembedding.arguments import integer, number
from autoembedding.candidates import Candidate, Targets
from autoembedding.errors import InvalidArgumentError, UnknownModelError

__all__ = ["check_candidate", "check_candidates", "check_probe_arguments", "check_queries"]

#: What follows ``fake/`` in a fake model id.
_FAKE_NAME = re.compile(r"[\w.\-]+")
_PRECISIONS = ("float32", "int8", "binary")


def check_candidate(cand: Candidate, name: str) -> None:
    """Check that a candidate names a model that exists, with options it can take.

    Args:
        cand: The parsed candidate.
        name: How to name it in a message (``"candidates[1]"``, ``"--candidates"``).

    Raises:
        UnknownModelError: If the model id is not in the catalog, not ``fake/<name>``, not a
            local path, and no ``backend`` option says how to load it (with close names).
        InvalidArgumentError: If ``truncate_dim`` or ``precision`` cannot apply to it.
    """
    from autoembedding.catalog import get_spec

    kind = getattr(cand, "kind", "dense")
    if kind == "lexical":
        return  # its language is checked with the other lexical labels
    if kind == "hybrid":
        check_candidate(cand.parts[0], name)  # the dense half must be a known model
        return
    if cand.precision not in _PRECISIONS:
        raise InvalidArgumentError(
            f"{name}: precision {cand.precision!r} of {cand.model_id!r} is not one of "
            f"{', '.join(_PRECISIONS)}.",
            argument=name,
        )
    if cand.truncate_dim is not None:
        integer(cand.truncate_dim, f"{name}: truncate_dim of {cand.model_id!r}", minimum=1)
    options = dict(cand.options)
    dim: int | None = None
    if cand.model_id.startswith("fake/"):
        fake = cand.model_id.removeprefix("fake/")
        if not _FAKE_NAME.fullmatch(fake):
            raise InvalidArgumentError(
                f"{name}: {cand.model_id!r} is not a fake model id; use 'fake/<letters, digits, "
                "._->' then optionally '@<dim>' and ':int8' or ':binary' "
                "(e.g. 'fake/a@32:int8').",
                argument=name,
            )
        dim = int(options.get("dim", 64))
    elif "backend" in options or Path(cand.model_id).expanduser().exists():
        return  # loaded by name through a backend, or a local folder: known only on load
    else:
        try:
            dim = get_spec(cand.model_id).dim
        except UnknownModelError as exc:
            raise UnknownModelError(f"{name}: {exc}") from None
    if cand.truncate_dim is not None and dim and cand.truncate_dim > dim:
        raise InvalidArgumentError(
            f"{name}: {cand.label!r} truncates to {cand.truncate_dim} dims but "
            f"{cand.model_id} has only {dim}.",
            argument=name,
        )


def _parse(label: str, name: str) -> Candidate:
    if not label.strip():
        raise InvalidArgumentError(f"{name} is an empty label.", argument=name)
    try:
        cand = Candidate.parse(label)
    except ValueError as exc:
        raise InvalidArgumentError(f"{name}: {exc}", argument=name) from None
    return cand


def check_candidates(candidates: Any, name: str = "candidates") -> None:
    """Check the ``candidates=`` argument of the probe (labels, candidates or adapters).

    Args:
        candidates: ``None``, one label/candidate/adapter, or a sequence of them.
        name: The argument's name in messages.

    An empty list is left to the probe, which raises
    :class:`~autoembedding.errors.NoCandidateError`.

    Raises:
        InvalidArgumentError: If an item is neither a label, a :class:`Candidate`
            nor an adapter, or a label cannot be parsed or applied.
        UnknownModelError: If a label names no known model (the message suggests close ones).
    """
    if candidates is None or isinstance(candidates, BaseAdapter):
        return
    items = [candidates] if isinstance(candidates, (str, Candidate)) else candidates
    if not isinstance(items, Sequence):
        raise InvalidArgumentError(
            f"{name} must be a list of model labels, Candidates or adapters, got "
            f"{type(candidates).__name__}.",
            argument=name,
        )
    for index, item in enumerate(items):
        where = f"{name}[{index}]" if len(items) > 1 or not isinstance(candidates, str) else name
        if isinstance(item, BaseAdapter):
            continue
        if isinstance(item, str):
            check_candidate(_parse(item, where), where)
        elif isinstance(item, Candidate):
            check_candidate(item, where)
        else:
            raise InvalidArgumentError(
                f"{where} must be a label string, a Candidate or an adapter, got "
                f"{type(item).__name__} ({item!r:.60}).",
                argument=where,
            )


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, Path))


def check_queries(queries: Any) -> Any:
    """Check ``queries=`` and load a BEIR ``(queries.jsonl, qrels.tsv)`` pair now.

    Args:
        queries: ``None``, a ``ProbeSet``, ``(query, relevant ids)`` pairs, or two paths.

    Returns:
        ``queries`` itself, or for two paths the loaded ``(query, relevant ids)`` pairs (so a
        missing or malformed file fails before the sample is read).

    Raises:
        InvalidArgumentError: If a path is missing, no pair is given, or an item is not a
            ``(text, ids)`` pair.
        CollectionError: If a BEIR file is malformed (names the file and line), repeats a
            query id, or yields no pair (says why).
    """
    from autoembedding.probe.queries import ProbeSet, load_beir

    if queries is None or isinstance(queries, ProbeSet):
        return queries
    if isinstance(queries, (str, Path)):
        raise InvalidArgumentError(
            "queries takes a (queries.jsonl, qrels.tsv) pair of paths or (query, relevant ids) "
            f"pairs, got one path {str(queries)!r}.",
            argument="queries",
        )
    if isinstance(queries, (tuple, list)) and len(queries) == 2 and all(map(_is_path, queries)):
        for label, path in zip(("queries file", "qrels file"), queries, strict=True):
            if not Path(path).is_file():
                raise InvalidArgumentError(
                    f"queries: the {label} {str(path)!r} does not exist or is not a file.",
                    argument="queries",
                )
        return load_beir(Path(queries[0]), Path(queries[1]))
    try:
        items = list(queries)
    except TypeError:
        raise InvalidArgumentError(
            f"queries must be (query, relevant ids) pairs, got {type(queries).__name__}.",
            argument="queries",
        ) from None
    if not items:
        raise InvalidArgumentError(
            "queries is empty: give (query text, [relevant ids]) pairs, a (queries.jsonl, "
            "qrels.tsv) pair of paths, or None for queries made from the documents.",
            argument="queries",
        )
    for index, item in enumerate(items):
        ok = (
            isinstance(item, (tuple, list))
            and len(item) == 2
            and isinstance(item[0], str)
            and not isinstance(item[1], str)
        )
        if not ok:
            raise InvalidArgumentError(
                f"queries[{index}] must be a (query text, [relevant ids]) pair, got {item!r:.80}.",
                argument=f"queries[{index}]",
            )
    return items


def check_probe_arguments(
    *,
    collection: Any,
    documents: Any,
    candidates: Any,
    targets: Any,
    budget_s: Any,
    seed: Any,
    progress: Any,
    sample_size: Any,
    n_queries: Any,
    candidate_timeout_s: Any,
    max_doc_chars: Any,
    min_docs: int,
) -> None:
    """Check every argument of the probe that can be checked without reading anything.

    Raises:
        InvalidArgumentError: On the first bad argument, naming it.
        UnknownModelError: On an unknown candidate.
    """
    if (collection is None) == (documents is None):
        raise InvalidArgumentError(
            "Pass exactly one of collection=... or documents=[...], got "
            f"{'both' if collection is not None else 'neither'}.",
            argument="collection",
        )
    if documents is not None and isinstance(documents, (str, bytes)):
        raise InvalidArgumentError(
            "documents must be a list of texts or (id, text) pairs, got a single string.",
            argument="documents",
        )
    if targets is not None and not isinstance(targets, Targets):
        raise InvalidArgumentError(
            f"targets must be a Targets(...), got {type(targets).__name__}; e.g. "
            "Targets(max_query_ms=20, min_hit_at_5=0.8).",
            argument="targets",
        )
    if budget_s is not None:
        number(budget_s, "budget_s", minimum=0, exclusive=True)
    if candidate_timeout_s is not None:
        number(candidate_timeout_s, "candidate_timeout_s", minimum=0, exclusive=True)
    if sample_size is not None:
        integer(sample_size, "sample_size", minimum=min_docs)
    if n_queries is not None:
        integer(n_queries, "n_queries", minimum=1)
    integer(seed, "seed")
    if not (isinstance(progress, bool) or callable(progress)):
        raise InvalidArgumentError(
            f"progress must be True, False or a callable (message, fraction), got {progress!r}.",
            argument="progress",
        )
    if max_doc_chars is not None and max_doc_chars != "auto":
        if isinstance(max_doc_chars, str):
            raise InvalidArgumentError(
                f"max_doc_chars must be an int, None or 'auto', got {max_doc_chars!r}.",
                argument="max_doc_chars",
            )
        integer(max_doc_chars, "max_doc_chars", minimum=1)
    check_candidates(candidates)
