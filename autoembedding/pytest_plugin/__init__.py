"""A pytest plugin that turns a pytest-benchmark run into a comparison of embedding models.

Registered through the ``pytest11`` entry point, so it is active wherever autoembedding is
installed. It costs nothing when unused: this module imports only pytest and the standard
library; models, numpy and Chroma are imported when a test asks for one of its fixtures. It does
not need pytest-benchmark; only the ``benchmark`` argument you pass to the quality helper does.

Configuration (``[tool.pytest.ini_options]`` in ``pyproject.toml``, ``pytest.ini``, or the
command line, which wins):

=============================== ==================================== =============================
ini option                      command line                         meaning
=============================== ==================================== =============================
``autoembedding_candidates``    ``--autoembedding-candidates a,b``   models to compare (ids,
                                                                     aliases or local folders)
``autoembedding_texts``         ``--autoembedding-texts FILE``       sample texts: ``.jsonl``
                                                                     (one object a line) or
                                                                     ``.txt`` (one text a line)
``autoembedding_text_field``    ``--autoembedding-text-field F``     jsonl field holding the text
                                                                     (default: ``text``)
``autoembedding_collection``    ``--autoembedding-collection NAME``  or read the texts from a
                                                                     Chroma collection ...
``autoembedding_chroma_path``   ``--autoembedding-chroma-path=DIR``  ... in this persistent folder
``autoembedding_chroma_url``    ``--autoembedding-chroma-url URL``   ... or on this server
``autoembedding_sample_size``   ``--autoembedding-sample-size N``    at most N texts (default 256)
``autoembedding_queries``       ``--autoembedding-queries FILE``     jsonl: ``{"query": ...,
                                                                     "relevant": [ids]}``
``autoembedding_k``             ``--autoembedding-k K``              k of hit@k (default 10)
=============================== ==================================== =============================

On the command line, give a path flag and its value as one argument
(``--autoembedding-chroma-path=../db``): pytest reads a separate ``../db`` as a test path before
the plugin loads, which would move its rootdir, so the plugin refuses that form with the fix.

Fixtures:

* ``autoembedding_candidate``: one adapter per configured model; tests that use it are
  parametrised over the candidates (``test_x[minilm]``, ``test_x[bge-small-en-v1.5]``).
* ``autoembedding_texts``: the sample texts (``list[str]``); ``autoembedding_corpus`` gives them
  with their ids.
* ``autoembedding_queries``: the queries with the ids of their relevant texts.
* ``autoembedding_hit_at_k``: ``record(benchmark, adapter)`` computes hit@k of ``adapter`` on the
  queries against the corpus and stores it in ``benchmark.extra_info`` beside the timings.

At the end of the run the plugin prints one table with speed (median, texts/s) and hit@k for each
benchmark that recorded quality, and for the runs named by ``--benchmark-compare``.

Modules: this one holds the hooks and fixtures; :mod:`.options` the settings, :mod:`.data` the
loading of texts and queries, :mod:`.quality` hit@k (through the probe's metrics) and
:mod:`.summary` the end-of-run table, the only code that reads pytest-benchmark's internals.

Example:
    ``pyproject.toml``::

        [tool.pytest.ini_options]
        autoembedding_candidates = "minilm minilm-int8"
        autoembedding_texts = "data/docs.jsonl"
        autoembedding_queries = "data/queries.jsonl"

    ``test_models.py``::

        def test_embed(benchmark, autoembedding_candidate, autoembedding_texts,
                       autoembedding_hit_at_k):
            benchmark(autoembedding_candidate.embed_documents, autoembedding_texts)
            autoembedding_hit_at_k(benchmark, autoembedding_candidate)

    Then ``pytest --benchmark-autosave`` and later ``pytest --benchmark-compare``.

"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from autoembedding.errors import AutoEmbeddingError
from autoembedding.pytest_plugin.data import (
    Corpus,
    LabelledQuery,
    corpus_from_chroma,
    load_corpus,
    load_queries,
)
from autoembedding.pytest_plugin.options import (
    add_options,
    candidate_ids,
    check_separate_values,
    int_option,
    option,
    path_option,
)
from autoembedding.pytest_plugin.quality import HitAtKRecorder, hit_at_k
from autoembedding.pytest_plugin.summary import benchmark_session, quality_rows, write_table

if TYPE_CHECKING:
    import numpy as np

    from autoembedding.adapters.base import BaseAdapter

__all__ = [
    "Corpus",
    "HitAtKRecorder",
    "LabelledQuery",
    "candidate_ids",
    "hit_at_k",
    "load_corpus",
    "load_queries",
]


@dataclass
class _SessionState:
    """Per-session caches; lives in ``config.stash`` (no module-level state)."""

    adapters: dict[str, BaseAdapter] = field(default_factory=dict)
    corpus: Corpus | None = None
    queries: list[LabelledQuery] | None = None
    doc_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    recorded: list[Any] = field(default_factory=list)


#: Where the plugin keeps its per-session state (loaded adapters, corpus, embeddings).
_STATE_KEY = pytest.StashKey[_SessionState]()


def _state(config: pytest.Config) -> _SessionState:
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        state = config.stash[_STATE_KEY] = _SessionState()
    return state


# ---------------------------------------------------------------------------------- hooks
def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``autoembedding_*`` ini options and ``--autoembedding-*`` flags."""
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Refuse ``--autoembedding-chroma-path ../x`` when pytest took ``../x`` as a test path.

    (It moves the rootdir and drops the project's settings; ``--autoembedding-chroma-path=../x``
    is read right. See :func:`.options.check_separate_values`.)
    """
    check_separate_values(early_config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise tests that use ``autoembedding_candidate`` over the configured models."""
    if "autoembedding_candidate" not in metafunc.fixturenames:
        return
    ids = candidate_ids(metafunc.config)
    if not ids:
        # One param that errors with instructions, rather than a silently skipped benchmark.
        metafunc.parametrize(
            "autoembedding_candidate", [None], ids=["no-candidates"], indirect=True
        )
        return
    metafunc.parametrize("autoembedding_candidate", ids, ids=ids, indirect=True)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print speed and hit@k side by side for benchmarks that recorded quality."""
    if _STATE_KEY not in config.stash and benchmark_session(config) is None:
        return
    write_table(terminalreporter, quality_rows(config, _state(config).recorded))


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture
def autoembedding_candidate(request: pytest.FixtureRequest) -> BaseAdapter:
    """Give the candidate model of this parametrisation, loaded once per session.

    Raises:
        pytest.UsageError: When no candidates are configured (says how to set them).

    """
    model_id = getattr(request, "param", None)
    if model_id is None:
        raise pytest.UsageError(
            "No candidate models: set autoembedding_candidates in [tool.pytest.ini_options] "
            '(e.g. autoembedding_candidates = "minilm minilm-int8") or pass '
            "--autoembedding-candidates minilm,minilm-int8."
        )
    state = _state(request.config)
    if model_id not in state.adapters:
        from autoembedding.adapters import get_adapter

        adapter = get_adapter(model_id)
        adapter.load()
        state.adapters[model_id] = adapter
    return state.adapters[model_id]


def _load_corpus(config: pytest.Config) -> Corpus:
    limit = int_option(config, "autoembedding_sample_size")
    collection = option(config, "autoembedding_collection")
    if collection:
        chroma_path = path_option(config, "autoembedding_chroma_path")
        try:
            return corpus_from_chroma(
                collection,
                path=None if chroma_path is None else str(chroma_path),
                url=option(config, "autoembedding_chroma_url"),
                limit=limit,
            )
        except (AutoEmbeddingError, ValueError) as exc:
            raise pytest.UsageError(f"autoembedding_collection {collection!r}: {exc}") from exc
    path = path_option(config, "autoembedding_texts")
    if path:
        return load_corpus(path, text_field=option(config, "autoembedding_text_field"), limit=limit)
    raise pytest.UsageError(
        "No sample texts: set autoembedding_texts to a .jsonl/.txt file, or "
        "autoembedding_collection with autoembedding_chroma_path or _url "
        "(ini options or --autoembedding-* flags)."
    )


@pytest.fixture(scope="session")
def autoembedding_corpus(pytestconfig: pytest.Config) -> Corpus:
    """Give the sample texts with their ids (``autoembedding_texts`` or a Chroma collection)."""
    state = _state(pytestconfig)
    if state.corpus is None:
        state.corpus = _load_corpus(pytestconfig)
    return state.corpus


@pytest.fixture(scope="session")
def autoembedding_texts(autoembedding_corpus: Corpus) -> list[str]:
    """Give the sample texts, as a list of strings."""
    return list(autoembedding_corpus.texts)


@pytest.fixture(scope="session")
def autoembedding_queries(pytestconfig: pytest.Config) -> list[LabelledQuery]:
    """Give the labelled queries of ``autoembedding_queries``."""
    state = _state(pytestconfig)
    if state.queries is None:
        path = path_option(pytestconfig, "autoembedding_queries")
        if not path:
            raise pytest.UsageError(
                "No queries for hit@k: set autoembedding_queries (or --autoembedding-queries) "
                'to a jsonl file of {"query": ..., "relevant": [ids of texts]}.'
            )
        state.queries = load_queries(path)
    return state.queries


@pytest.fixture
def autoembedding_hit_at_k(
    pytestconfig: pytest.Config,
    autoembedding_corpus: Corpus,
    autoembedding_queries: list[LabelledQuery],
) -> HitAtKRecorder:
    """Give a callable ``(benchmark, adapter) -> hit@k`` that stores it in ``extra_info``."""
    state = _state(pytestconfig)
    return HitAtKRecorder(
        autoembedding_corpus,
        autoembedding_queries,
        int_option(pytestconfig, "autoembedding_k"),
        state.doc_vectors,
        state.recorded,
    )
