"""``swap(collection, model)``: which swap a model asks for.

A model id, label, ``Candidate`` or adapter asks for re-embedded vectors
(:func:`~.dense.swap_vectors`); a lexical or hybrid label (or a ``fusion_weight``) asks for a
retrieval-mode swap (:func:`~.mode.swap_mode`), which re-embeds first only when the hybrid's model
is not the recorded one.
"""

from __future__ import annotations

from typing import Any

from autoembedding.progress import ProgressFn
from autoembedding.swap.dense import swap_vectors
from autoembedding.swap.guard import locked
from autoembedding.swap.model import check_arguments
from autoembedding.swap.result import SwapResult

__all__ = ["swap"]


@locked("swap")
def swap(
    collection: Any,
    model: Any,
    *,
    client: Any = None,
    page_size: int = 256,
    drop_old: bool = False,
    verify_sample: int = 64,
    progress: bool | ProgressFn = True,
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0.0,
    fusion_weight: float | None = None,
    **adapter_options: Any,
) -> SwapResult:
    """Move a Chroma collection to another embedding model, or to BM25 or a hybrid, in place.

    Rerunning the same call after a crash resumes where it stopped (finished pages are not
    re-embedded) or completes an interrupted switch.

    Lexical and hybrid labels (``"bm25"``, ``"bm25:zh"``, ``"hybrid:<model>+bm25"``,
    ``"hybrid-rrf:<model>+bm25"``, every label a probe report prints) build the collection's
    BM25 index and record the mode; the vectors are kept, re-embedded first only when a
    hybrid's model is not the recorded one (see :mod:`~.mode`). A dense label on a collection
    that holds that model's vectors but serves BM25 or a hybrid switches it back to dense.

    Args:
        collection: The collection or its name.
        model: A model id or label (``"id@256:int8"``), a lexical or hybrid label, a
            :class:`~autoembedding.candidates.Candidate` (or a probe's ``CandidateResult``,
            whose convex weight is used) or an embedding adapter.
        client: The Chroma client (``PersistentClient`` or ``HttpClient``) holding the collection;
            needed to create and rename collections.
        page_size: Records read, embedded and written at a time; memory grows with it, not with
            the collection.
        drop_old: Delete the original after the switch instead of keeping it as a backup.
        verify_sample: How many stored vectors to re-embed and compare; above the tolerance
            the self-check derives before the copy (at most cosine 0.999, see
            :func:`~.verify.self_check`: a model that cannot reproduce its own vectors is
            refused before anything is written). 0: no verification, no self-check.
        progress: Show a progress bar on stderr (``True``), nothing (``False``), or call
            ``fn(message, fraction_done)`` after each page written.
        engine: ``"local"`` (this process) or ``"ray"``: the copy phase runs on Ray Data
            (read tasks, an actor pool of encoders, parallel writes to a Chroma server; see
            :mod:`~.ray_engine`). Journal, verify and switch are the same for both.
        ray_address: With ``engine="ray"``: the Ray cluster to connect to when this process is
            not connected yet (``None``: ``RAY_ADDRESS`` or a new local cluster).
        workers: With ``engine="ray"``: encoder actors (default: one per CPU of the cluster, or
            per ``gpus_per_worker`` GPUs).
        gpus_per_worker: With ``engine="ray"``: GPUs per encoder actor (0: CPU actors).
        fusion_weight: A convex hybrid's dense weight in ``[0, 1]`` (default: the probe's,
            when ``model`` is its ``CandidateResult``, else 0.5, said in the result's notes).
        **adapter_options: Options for ``get_adapter`` when ``model`` is an id.

    Returns:
        A :class:`SwapResult`; ``result.summary()`` is a one-line report.

    Raises:
        SwapError: If a phase fails; the message says what was kept and how to resume.
        MissingExtraError: If ``engine="ray"`` and Ray Data is not installed.
        CollectionNotFoundError: If the collection does not exist.
        ChromaUnavailableError: If the Chroma server does not answer before anything started.
        CollectionError: If ``client`` is missing or Chroma fails otherwise.
    """
    options: dict[str, Any] = {
        "page_size": page_size,
        "drop_old": drop_old,
        "verify_sample": verify_sample,
        "progress": progress,
        "engine": engine,
        "ray_address": ray_address,
        "workers": workers,
        "gpus_per_worker": gpus_per_worker,
        **adapter_options,
    }
    from autoembedding.swap.mode import swap_mode
    from autoembedding.swap.mode_target import is_mode_model

    if fusion_weight is not None or is_mode_model(model):
        check_arguments(page_size=page_size, verify_sample=verify_sample)
        return swap_mode(collection, model, client=client, fusion_weight=fusion_weight, **options)
    return swap_vectors(collection, getattr(model, "candidate", model), client=client, **options)
