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
``autoembedding_chroma_path``   ``--autoembedding-chroma-path DIR``  ... in this persistent folder
``autoembedding_chroma_url``    ``--autoembedding-chroma-url URL``   ... or on this server
``autoembedding_sample_size``   ``--autoembedding-sample-size N``    at most N texts (default 256)
``autoembedding_queries``       ``--autoembedding-queries FILE``     jsonl: ``{"query": ...,
                                                                     "relevant": [ids]}``
``autoembedding_k``             ``--autoembedding-k K``              k of hit@k (default 10)
=============================== ==================================== =============================

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

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

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

#: Where the plugin keeps its per-session state (loaded adapters, corpus, embeddings).
_STATE_KEY = pytest.StashKey["_SessionState"]()

#: Fields tried, in order, when a jsonl record has no ``autoembedding_text_field``.
_TEXT_FIELDS = ("text", "document", "content", "page_content", "body")
_ID_FIELDS = ("_id", "id", "doc_id", "corpus-id")
_QUERY_FIELDS = ("query", "text", "question")
_RELEVANT_FIELDS = ("relevant", "relevant_ids", "ids", "answers_ids")

# (ini name, command-line flag, help, default)
_OPTIONS: tuple[tuple[str, str, str, str | None], ...] = (
    (
        "autoembedding_candidates",
        "--autoembedding-candidates",
        "embedding models to compare: catalog ids, aliases or local folders, separated by "
        "commas or spaces",
        None,
    ),
    (
        "autoembedding_texts",
        "--autoembedding-texts",
        "file of sample texts: .jsonl (one object a line) or .txt (one text a line)",
        None,
    ),
    ("autoembedding_text_field", "--autoembedding-text-field", "jsonl field with the text", None),
    (
        "autoembedding_collection",
        "--autoembedding-collection",
        "read texts from this Chroma collection instead of a file",
        None,
    ),
    (
        "autoembedding_chroma_path",
        "--autoembedding-chroma-path",
        "folder of a persistent Chroma (with --autoembedding-collection)",
        None,
    ),
    (
        "autoembedding_chroma_url",
        "--autoembedding-chroma-url",
        "URL of a Chroma server, e.g. http://localhost:8000 (with --autoembedding-collection)",
        None,
    ),
    (
        "autoembedding_sample_size",
        "--autoembedding-sample-size",
        "use at most this many texts (default 256)",
        "256",
    ),
    (
        "autoembedding_queries",
        "--autoembedding-queries",
        'jsonl of {"query": ..., "relevant": [ids of relevant texts]} for hit@k',
        None,
    ),
    ("autoembedding_k", "--autoembedding-k", "k of hit@k (default 10)", "10"),
)


# ---------------------------------------------------------------------------------- data types
@dataclass(frozen=True)
class Corpus:
    """Sample texts with their ids (jsonl ``_id``/``id``, Chroma ids, or line numbers).

    Attributes:
        ids: One id per text, as strings.
        texts: The texts.
        source: Where they came from, for messages.

    """

    ids: tuple[str, ...]
    texts: tuple[str, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class LabelledQuery:
    """A query and the ids of the corpus texts that answer it.

    Attributes:
        text: The query.
        relevant: Ids of relevant texts (see :class:`Corpus`).

    """

    text: str
    relevant: frozenset[str]


@dataclass
class _SessionState:
    """Per-session caches; lives in ``config.stash`` (no module-level state)."""

    adapters: dict[str, BaseAdapter] = field(default_factory=dict)
    corpus: Corpus | None = None
    queries: list[LabelledQuery] | None = None
    doc_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    recorded: list[Any] = field(default_factory=list)


# ---------------------------------------------------------------------------------- loading
def _first_field(record: dict[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        if name in record:
            return record[name]
    return None


def load_corpus(
    path: str | Path, *, text_field: str | None = None, limit: int | None = None
) -> Corpus:
    """Read sample texts from a ``.jsonl`` or text file.

    Args:
        path: A ``.jsonl`` file (one JSON object a line; ``title`` is prepended when present, as
            BEIR corpora expect) or any other text file (one text a line, blank lines skipped).
        text_field: The jsonl field with the text; by default the first of ``text``,
            ``document``, ``content``, ``page_content``, ``body``.
        limit: Read at most this many texts.

    Returns:
        The corpus; ids come from ``_id``/``id`` fields, else line numbers.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If a jsonl line is not an object with a text field, or the file is empty.

    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(
            f"autoembedding_texts: {file} does not exist; set autoembedding_texts (ini) or "
            "--autoembedding-texts to a .jsonl or .txt file."
        )
    ids: list[str] = []
    texts: list[str] = []
    is_jsonl = file.suffix.lower() in {".jsonl", ".ndjson"}
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and len(texts) >= limit:
                break
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if not is_jsonl:
                ids.append(str(number))
                texts.append(line)
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file}:{number + 1} is not valid JSON ({exc}).") from exc
            fields = (text_field,) if text_field else _TEXT_FIELDS
            text = _first_field(record, fields) if isinstance(record, dict) else None
            if not isinstance(text, str):
                raise ValueError(
                    f"{file}:{number + 1} has no string field {' / '.join(fields)}; set "
                    "autoembedding_text_field to the field that holds the text."
                )
            title = record.get("title") if text_field is None else None
            if isinstance(title, str) and title.strip():
                text = f"{title}\n{text}"
            found_id = _first_field(record, _ID_FIELDS)
            ids.append(str(found_id) if found_id is not None else str(number))
            texts.append(text)
    if not texts:
        raise ValueError(f"{file} holds no texts.")
    return Corpus(tuple(ids), tuple(texts), str(file))


def _corpus_from_chroma(
    name: str, *, path: str | None, url: str | None, limit: int | None
) -> Corpus:
    from autoembedding.chroma.client import import_chromadb
    from autoembedding.chroma.pages import iter_pages

    chromadb = import_chromadb()
    if url:
        match = re.match(r"^(?:(https?)://)?([^:/]+)(?::(\d+))?/?$", url)
        if match is None:
            raise pytest.UsageError(f"autoembedding_chroma_url {url!r} is not http://host:port.")
        scheme, host, port = match.groups()
        client = chromadb.HttpClient(host=host, port=int(port or 8000), ssl=(scheme == "https"))
    elif path:
        client = chromadb.PersistentClient(path=str(Path(path).expanduser()))
    else:
        raise pytest.UsageError(
            "autoembedding_collection needs autoembedding_chroma_path (a persistent folder) or "
            "autoembedding_chroma_url (a server)."
        )
    try:
        collection = client.get_collection(name)
    except Exception as exc:  # chromadb raises NotFoundError/ValueError depending on version
        raise pytest.UsageError(
            f"Chroma collection {name!r} not found at {url or path} ({exc}); check "
            "autoembedding_collection."
        ) from exc
    ids: list[str] = []
    texts: list[str] = []
    for page in iter_pages(collection, include=("documents",), limit=limit):
        for doc_id, doc in zip(page.ids, page.documents, strict=False):
            if doc:
                ids.append(doc_id)
                texts.append(doc)
    if not texts:
        raise pytest.UsageError(f"Chroma collection {name!r} has no documents to sample.")
    return Corpus(tuple(ids), tuple(texts), f"chroma:{url or path}/{name}")


def load_queries(path: str | Path) -> list[LabelledQuery]:
    """Read labelled queries from a jsonl file.

    Each line is ``{"query": "...", "relevant": ["id", ...]}`` (``relevant`` may be a single id;
    ids are compared as strings with the corpus ids).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: On a line without a query or without relevant ids.

    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"autoembedding_queries: {file} does not exist.")
    queries: list[LabelledQuery] = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            text = _first_field(record, _QUERY_FIELDS) if isinstance(record, dict) else None
            relevant = _first_field(record, _RELEVANT_FIELDS) if isinstance(record, dict) else None
            if isinstance(relevant, (str, int)):
                relevant = [relevant]
            if not isinstance(text, str) or not relevant:
                raise ValueError(
                    f'{file}:{number} must be {{"query": str, "relevant": [ids]}}, got '
                    f"{line.strip()[:80]!r}."
                )
            queries.append(LabelledQuery(text, frozenset(str(r) for r in relevant)))
    if not queries:
        raise ValueError(f"{file} holds no queries.")
    return queries


# ---------------------------------------------------------------------------------- metric
def hit_at_k(
    adapter: BaseAdapter,
    corpus: Corpus,
    queries: Sequence[LabelledQuery],
    k: int = 10,
    *,
    doc_vectors: np.ndarray | None = None,
) -> float:
    """Share of queries with at least one relevant text among the ``k`` nearest (cosine).

    Args:
        adapter: The model (anything with ``embed_documents`` and ``embed_queries``/
            ``embed_query``).
        corpus: The texts searched.
        queries: Labelled queries; those whose relevant ids are all outside the corpus are
            skipped (they cannot be hit).
        k: How many nearest texts count.
        doc_vectors: The corpus already embedded by ``adapter`` (saves re-embedding).

    Returns:
        hit@k in ``0..1``.

    Raises:
        ValueError: If no query has a relevant text inside the corpus.

    """
    import numpy as np

    position = {doc_id: i for i, doc_id in enumerate(corpus.ids)}
    usable = [q for q in queries if any(r in position for r in q.relevant)]
    if not usable:
        raise ValueError(
            f"None of the {len(queries)} queries has a relevant id among the {len(corpus)} texts "
            f"of {corpus.source or 'the corpus'}; raise autoembedding_sample_size or check ids."
        )
    docs = doc_vectors if doc_vectors is not None else adapter.embed_documents(list(corpus.texts))
    if hasattr(adapter, "embed_queries"):
        qs = np.asarray(adapter.embed_queries([q.text for q in usable]), dtype=np.float32)
    else:
        qs = np.stack([np.asarray(adapter.embed_query(q.text)) for q in usable])
    docs = np.asarray(docs, dtype=np.float32)
    docs = docs / np.maximum(np.linalg.norm(docs, axis=1, keepdims=True), 1e-12)
    qs = qs / np.maximum(np.linalg.norm(qs, axis=1, keepdims=True), 1e-12)
    scores = qs @ docs.T
    top = min(k, scores.shape[1])
    nearest = np.argpartition(-scores, top - 1, axis=1)[:, :top]
    hits = 0
    for row, query in enumerate(usable):
        found = {corpus.ids[int(i)] for i in nearest[row]}
        hits += bool(found & query.relevant)
    return hits / len(usable)


class HitAtKRecorder:
    """Computes hit@k for an adapter and writes it into ``benchmark.extra_info``.

    The ``autoembedding_hit_at_k`` fixture returns one, bound to the configured corpus and
    queries. Corpus vectors are computed once per model per session.
    """

    def __init__(
        self,
        corpus: Corpus,
        queries: Sequence[LabelledQuery],
        k: int,
        cache: dict[str, np.ndarray],
        recorded: list[Any],
    ) -> None:
        self.corpus = corpus
        self.queries = list(queries)
        self.k = k
        self._cache = cache
        self._recorded = recorded

    def __call__(
        self,
        benchmark: Any,
        adapter: BaseAdapter,
        *,
        k: int | None = None,
        texts_per_round: int | None = None,
    ) -> float:
        """Record hit@k of ``adapter`` beside ``benchmark``'s timings.

        Args:
            benchmark: pytest-benchmark's ``benchmark`` fixture (or any object with an
                ``extra_info`` dict, or ``None`` to only compute the value).
            adapter: The model that was timed.
            k: Override ``autoembedding_k``.
            texts_per_round: Texts embedded per timed call; when given, the summary shows
                texts/s.

        Returns:
            hit@k in ``0..1``.

        """
        k = k or self.k
        key = getattr(adapter, "name", None) or repr(adapter)
        if key not in self._cache:
            self._cache[key] = adapter.embed_documents(list(self.corpus.texts))
        value = hit_at_k(adapter, self.corpus, self.queries, k, doc_vectors=self._cache[key])
        info = getattr(benchmark, "extra_info", None)
        if isinstance(info, dict):
            info["model"] = key
            info["dim"] = int(getattr(adapter, "dim", 0) or 0)
            info[f"hit@{k}"] = round(value, 4)
            info["queries"] = len(self.queries)
            info["corpus"] = len(self.corpus)
            if texts_per_round:
                info["texts_per_round"] = int(texts_per_round)
            self._recorded.append(benchmark)
        return value


# ---------------------------------------------------------------------------------- pytest hooks
def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``autoembedding_*`` ini options and ``--autoembedding-*`` flags."""
    group = parser.getgroup("autoembedding", "compare embedding models (autoembedding)")
    for ini, flag, help_text, default in _OPTIONS:
        group.addoption(flag, dest=ini, default=None, help=help_text)
        parser.addini(ini, help=help_text, default=default)


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(name, default=None)
    if value in (None, ""):
        value = config.getini(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _path_option(config: pytest.Config, name: str) -> Path | None:
    """A path option: relative to the current folder on the command line, to the ini file's."""
    cli = config.getoption(name, default=None)
    raw = _option(config, name)
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if path.is_absolute():
        return path
    if cli not in (None, ""):
        return config.invocation_params.dir / path
    return (config.inipath.parent if config.inipath else config.rootpath) / path


def _opt_str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _int_option(config: pytest.Config, name: str) -> int:
    raw = _option(config, name)
    try:
        value = int(raw or 0)
    except ValueError as exc:
        raise pytest.UsageError(f"{name} must be a positive integer, got {raw!r}.") from exc
    if value < 1:
        raise pytest.UsageError(f"{name} must be a positive integer, got {raw!r}.")
    return value


def candidate_ids(config: pytest.Config) -> list[str]:
    """Return the configured candidate models, in order, without duplicates."""
    raw = _option(config, "autoembedding_candidates") or ""
    seen: dict[str, None] = {}
    for item in re.split(r"[,\s]+", raw):
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _state(config: pytest.Config) -> _SessionState:
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        state = config.stash[_STATE_KEY] = _SessionState()
    return state


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


@pytest.fixture(scope="session")
def autoembedding_corpus(pytestconfig: pytest.Config) -> Corpus:
    """Give the sample texts with their ids (``autoembedding_texts`` or a Chroma collection)."""
    state = _state(pytestconfig)
    if state.corpus is None:
        limit = _int_option(pytestconfig, "autoembedding_sample_size")
        collection = _option(pytestconfig, "autoembedding_collection")
        path = _path_option(pytestconfig, "autoembedding_texts")
        if collection:
            state.corpus = _corpus_from_chroma(
                collection,
                path=_opt_str(_path_option(pytestconfig, "autoembedding_chroma_path")),
                url=_option(pytestconfig, "autoembedding_chroma_url"),
                limit=limit,
            )
        elif path:
            state.corpus = load_corpus(
                path, text_field=_option(pytestconfig, "autoembedding_text_field"), limit=limit
            )
        else:
            raise pytest.UsageError(
                "No sample texts: set autoembedding_texts to a .jsonl/.txt file, or "
                "autoembedding_collection with autoembedding_chroma_path or _url "
                "(ini options or --autoembedding-* flags)."
            )
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
        path = _path_option(pytestconfig, "autoembedding_queries")
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
        _int_option(pytestconfig, "autoembedding_k"),
        state.doc_vectors,
        state.recorded,
    )


# ---------------------------------------------------------------------------------- summary
def _quality_rows(config: pytest.Config) -> list[tuple[str, str, float | None, Any, dict]]:
    """(source, name, median seconds, texts per round, extra_info) of benchmarks with hit@k."""
    rows: list[tuple[str, str, float | None, Any, dict]] = []
    session = getattr(config, "_benchmarksession", None)
    current = list(getattr(session, "benchmarks", None) or [])
    for bench in current:
        info = getattr(bench, "extra_info", None) or {}
        if not any(str(key).startswith("hit@") for key in info):
            continue
        stats = getattr(getattr(bench, "stats", None), "median", None)
        rows.append(("NOW", str(bench.name), stats, info.get("texts_per_round"), info))
    for path, mapping in (getattr(session, "compared_mapping", None) or {}).items():
        for bench in mapping.values():
            info = bench.get("extra_info") or {}
            if not any(str(key).startswith("hit@") for key in info):
                continue
            median = (bench.get("stats") or {}).get("median")
            rows.append(
                (
                    Path(str(path)).stem[:24],
                    str(bench.get("name")),
                    median,
                    info.get("texts_per_round"),
                    info,
                )
            )
    if not rows and not current:
        # Without pytest-benchmark: whatever the recorder saw.
        for bench in _state(config).recorded:
            info = getattr(bench, "extra_info", {}) or {}
            rows.append(
                (
                    "NOW",
                    str(getattr(bench, "name", info.get("model"))),
                    None,
                    info.get("texts_per_round"),
                    info,
                )
            )
    return rows


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print speed and hit@k side by side for benchmarks that recorded quality."""
    if _STATE_KEY not in config.stash and getattr(config, "_benchmarksession", None) is None:
        return
    rows = _quality_rows(config)
    if not rows:
        return
    terminalreporter.write_sep("-", "autoembedding: speed and correctness")
    header = f"{'run':<24} {'benchmark':<64} {'median ms':>10} {'texts/s':>9}  quality"
    terminalreporter.write_line(header)
    for source, name, median, per_round, info in rows:
        hits = ", ".join(
            f"{key}={value}" for key, value in info.items() if str(key).startswith("hit@")
        )
        ms = f"{median * 1000:10.2f}" if isinstance(median, (int, float)) else f"{'-':>10}"
        rate = (
            f"{per_round / median:9.1f}"
            if isinstance(median, (int, float)) and median and per_round
            else f"{'-':>9}"
        )
        terminalreporter.write_line(f"{source:<24} {name[-64:]:<64} {ms} {rate}  {hits}")
