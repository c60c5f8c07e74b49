"""The pytest plugin (autoembedding.pytest_plugin), run inside throw-away pytest sessions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autoembedding.adapters.fake import FakeAdapter
from autoembedding.pytest_plugin import Corpus, LabelledQuery, hit_at_k, load_corpus, load_queries

pytest_plugins = ["pytester"]

DOCS = [
    {"_id": "d1", "title": "Apples", "text": "red apples grow on apple trees in the orchard"},
    {"_id": "d2", "title": "Cars", "text": "blue cars drive fast on the motorway"},
    {"_id": "d3", "title": "Tea", "text": "green tea is brewed with hot water"},
    {"_id": "d4", "title": "Rain", "text": "heavy rain falls in the autumn storms"},
]
QUERIES = [
    {"query": "apple orchard trees", "relevant": ["d1"]},
    {"query": "fast blue cars", "relevant": ["d2"]},
    {"query": "brewed green tea", "relevant": "d3"},
]

BENCH_FLAGS = (
    "--benchmark-min-rounds=1",
    "--benchmark-max-time=0.001",
    "--benchmark-warmup=off",
    "--benchmark-disable-gc",
)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user project with sample texts and queries configured in its ini file."""
    pytester.makefile(".jsonl", docs="\n".join(json.dumps(d) for d in DOCS))
    pytester.makefile(".jsonl", queries="\n".join(json.dumps(q) for q in QUERIES))
    pytester.makeini(
        """
        [pytest]
        autoembedding_candidates = fake/alpha, fake/beta
        autoembedding_texts = docs.jsonl
        autoembedding_queries = queries.jsonl
        autoembedding_k = 1
        """
    )
    return pytester


def test_candidates_from_ini_parametrise_tests(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_dim(autoembedding_candidate):
            assert autoembedding_candidate.dim == 64
        """
    )
    result = project.runpytest("-v", "-p", "no:benchmark")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_dim?fake/alpha? PASSED*", "*test_dim?fake/beta? PASSED*"])


def test_command_line_overrides_ini_and_drops_duplicates(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_name(autoembedding_candidate):
            assert autoembedding_candidate.model_id.startswith("fake/")
        """
    )
    result = project.runpytest(
        "-v", "-p", "no:benchmark", "--autoembedding-candidates", "fake/x,fake/y fake/x"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_name?fake/x? PASSED*", "*test_name?fake/y? PASSED*"])
    assert "fake/alpha" not in result.stdout.str()


def test_adapter_is_loaded_once_per_session(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        seen = []

        def test_a(autoembedding_candidate):
            seen.append(autoembedding_candidate)

        def test_b(autoembedding_candidate):
            assert any(s is autoembedding_candidate for s in seen)
        """
    )
    project.runpytest("-p", "no:benchmark").assert_outcomes(passed=4)


def test_no_candidates_errors_with_instructions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_x(autoembedding_candidate):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:benchmark")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*No candidate models: set autoembedding_candidates*"])


def test_texts_fixture_reads_jsonl_with_titles_and_limit(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_texts(autoembedding_texts, autoembedding_corpus):
            first = "Apples\\nred apples grow on apple trees in the orchard"
            assert autoembedding_texts[0] == first
            assert len(autoembedding_texts) == 3
            assert autoembedding_corpus.ids == ("d1", "d2", "d3")
        """
    )
    result = project.runpytest("-p", "no:benchmark", "--autoembedding-sample-size", "3")
    result.assert_outcomes(passed=1)


def test_texts_fixture_reads_txt_lines(pytester: pytest.Pytester) -> None:
    pytester.makefile(".txt", sample="first text\n\nsecond text\n")
    pytester.makepyfile(
        """
        def test_texts(autoembedding_texts):
            assert autoembedding_texts == ["first text", "second text"]
        """
    )
    result = pytester.runpytest("-p", "no:benchmark", "--autoembedding-texts", "sample.txt")
    result.assert_outcomes(passed=1)


def test_missing_texts_option_says_what_to_set(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_texts(autoembedding_texts):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:benchmark")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*No sample texts: set autoembedding_texts*"])


def test_hit_at_k_lands_in_benchmark_json_and_summary(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_embed(benchmark, autoembedding_candidate, autoembedding_texts,
                       autoembedding_hit_at_k):
            benchmark(autoembedding_candidate.embed_documents, autoembedding_texts)
            value = autoembedding_hit_at_k(benchmark, autoembedding_candidate,
                                           texts_per_round=len(autoembedding_texts))
            assert value == 1.0
        """
    )
    result = project.runpytest(*BENCH_FLAGS, "--benchmark-json=out.json")
    result.assert_outcomes(passed=2)
    data = json.loads((project.path / "out.json").read_text())
    infos = {b["param"]: b["extra_info"] for b in data["benchmarks"]}
    assert set(infos) == {"fake/alpha", "fake/beta"}
    for model, info in infos.items():
        assert info["model"] == model
        assert info["hit@1"] == 1.0
        assert info["queries"] == 3 and info["corpus"] == 4 and info["texts_per_round"] == 4
    result.stdout.fnmatch_lines(
        ["*autoembedding: speed and correctness*", "NOW*test_embed?fake/alpha?*hit@1=1.0*"]
    )


def test_compare_shows_stored_quality_beside_current(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_embed(benchmark, autoembedding_candidate, autoembedding_texts,
                       autoembedding_hit_at_k):
            benchmark(autoembedding_candidate.embed_documents, autoembedding_texts)
            autoembedding_hit_at_k(benchmark, autoembedding_candidate, k=2)
        """
    )
    storage = f"file://{project.path / 'bench'}"
    first = project.runpytest(*BENCH_FLAGS, f"--benchmark-storage={storage}", "--benchmark-save=a")
    first.assert_outcomes(passed=2)
    second = project.runpytest(
        *BENCH_FLAGS, f"--benchmark-storage={storage}", "--benchmark-compare=0001"
    )
    second.assert_outcomes(passed=2)
    lines = [line for line in second.stdout.lines if "hit@2=" in line]
    assert len(lines) == 4, second.stdout.str()
    assert sum(line.startswith("NOW") for line in lines) == 2
    assert sum("0001_a" in line for line in lines) == 2


def test_recorder_works_without_pytest_benchmark(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        class Holder:
            extra_info = {}

        def test_quality(autoembedding_candidate, autoembedding_hit_at_k):
            holder = Holder()
            assert autoembedding_hit_at_k(holder, autoembedding_candidate) == 1.0
            assert holder.extra_info["hit@1"] == 1.0
            assert autoembedding_hit_at_k(None, autoembedding_candidate) == 1.0
        """
    )
    project.runpytest("-p", "no:benchmark").assert_outcomes(passed=2)


def test_unused_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_plain():
            assert "autoembedding.pytest_plugin" in sys.modules  # the entry point is active
            # numpy is a core dependency (importing autoembedding loads it); these are not.
            heavy = {"torch", "chromadb", "onnxruntime", "sentence_transformers",
                     "transformers", "langchain_core", "llama_index"}
            assert not heavy & set(sys.modules), heavy & set(sys.modules)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:benchmark", "-p", "no:codspeed")
    result.assert_outcomes(passed=1)


# --------------------------------------------------------------------------- helpers, directly
def _corpus() -> Corpus:
    return Corpus(
        ids=tuple(d["_id"] for d in DOCS), texts=tuple(d["text"] for d in DOCS), source="test"
    )


def _queries() -> list[LabelledQuery]:
    return [
        LabelledQuery(
            str(q["query"]),
            frozenset(q["relevant"])
            if isinstance(q["relevant"], list)
            else frozenset([str(q["relevant"])]),
        )
        for q in QUERIES
    ]


def test_hit_at_k_separates_a_good_model_from_noise() -> None:
    good = hit_at_k(FakeAdapter("m"), _corpus(), _queries(), k=1)
    noise = hit_at_k(FakeAdapter("m", noise=1.0), _corpus(), _queries(), k=1)
    assert good == 1.0
    assert noise < good
    # k >= corpus size: every query hits.
    assert hit_at_k(FakeAdapter("m", noise=1.0), _corpus(), _queries(), k=10) == 1.0


def test_hit_at_k_refuses_queries_outside_the_corpus() -> None:
    with pytest.raises(ValueError, match="None of the 1 queries"):
        hit_at_k(FakeAdapter("m"), _corpus(), [LabelledQuery("x", frozenset({"nope"}))])


def test_load_corpus_and_queries_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="autoembedding_texts"):
        load_corpus(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"body_text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="autoembedding_text_field"):
        load_corpus(bad)
    assert load_corpus(bad, text_field="body_text").texts == ("x",)
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="relevant"):
        load_queries(queries)


@pytest.mark.integration
def test_texts_from_a_chroma_collection(
    pytester: pytest.Pytester, chroma_client, chroma_path: Path
) -> None:
    collection = chroma_client.create_collection("notes", embedding_function=None)
    collection.add(
        ids=[d["_id"] for d in DOCS],
        documents=[d["text"] for d in DOCS],
        embeddings=[[float(i), 1.0] for i in range(len(DOCS))],
    )
    pytester.makepyfile(
        """
        def test_texts(autoembedding_corpus):
            assert len(autoembedding_corpus) == 2
            assert set(autoembedding_corpus.ids) <= {"d1", "d2", "d3", "d4"}
        """
    )
    result = pytester.runpytest(
        "-p",
        "no:benchmark",
        "--autoembedding-collection",
        "notes",
        f"--autoembedding-chroma-path={chroma_path}",
        "--autoembedding-sample-size",
        "2",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.integration
def test_misspelled_chroma_path_is_a_usage_error_and_creates_nothing(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-db"
    pytester.makepyfile(
        """
        def test_texts(autoembedding_corpus):
            pass
        """
    )
    result = pytester.runpytest(
        "-p",
        "no:benchmark",
        "--autoembedding-collection",
        "notes",
        f"--autoembedding-chroma-path={missing}",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*autoembedding_collection 'notes'*no-such-db*"])
    assert not missing.exists()


@pytest.mark.integration
def test_unknown_collection_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, chroma_client, chroma_path: Path
) -> None:
    chroma_client.create_collection("notes", embedding_function=None)
    pytester.makepyfile(
        """
        def test_texts(autoembedding_corpus):
            pass
        """
    )
    result = pytester.runpytest(
        "-p",
        "no:benchmark",
        "--autoembedding-collection",
        "nots",
        f"--autoembedding-chroma-path={chroma_path}",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*autoembedding_collection 'nots'*"])


# ------------------------------------------------------------------ entry point, end to end
def test_entry_point_session_prints_hit_at_k_without_pytest_benchmark(
    project: pytest.Pytester,
) -> None:
    """A fresh pytest process (plugin loaded only through its pytest11 entry point)."""
    project.makepyfile(
        """
        class Bench:
            def __init__(self, name):
                self.name, self.extra_info = name, {}

        def test_quality(autoembedding_candidate, autoembedding_texts, autoembedding_hit_at_k):
            bench = Bench("quality-" + autoembedding_candidate.model_id)
            autoembedding_hit_at_k(bench, autoembedding_candidate,
                                   texts_per_round=len(autoembedding_texts))
        """
    )
    result = project.runpytest_subprocess("-p", "no:benchmark", "-p", "no:codspeed")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*autoembedding: speed and correctness*",
            "run*benchmark*median ms*texts/s*quality",
            "NOW*quality-fake/alpha*-*-*hit@1=1.000",
            "NOW*quality-fake/beta*-*-*hit@1=1.000",
        ]
    )


def test_k_zero_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_q(autoembedding_candidate, autoembedding_hit_at_k):
            pass
        """
    )
    result = project.runpytest("-p", "no:benchmark", "--autoembedding-k", "0")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*autoembedding_k must be a positive integer*"])


# --------------------------------------------------------------------------- hit@k, exact ranks
class _Fixed:
    """An adapter whose vectors are given: documents by text, queries by text."""

    name = "fixed"

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.array(self.vectors[text], dtype=np.float32)


def test_hit_at_k_counts_the_rank_of_the_first_relevant_text() -> None:
    # the query is closest to d1, then d2, then d3 (cosine), and d4 is orthogonal
    vectors = {
        "t1": [1.0, 0.0, 0.0],
        "t2": [0.9, 0.3, 0.0],
        "t3": [0.5, 0.8, 0.0],
        "t4": [0.0, 0.0, 1.0],
        "q": [1.0, 0.1, 0.0],
    }
    corpus = Corpus(("d1", "d2", "d3", "d4"), ("t1", "t2", "t3", "t4"), "fixed")
    adapter = _Fixed(vectors)
    third = [LabelledQuery("q", frozenset({"d3"}))]
    assert [hit_at_k(adapter, corpus, third, k) for k in (1, 2, 3, 4)] == [0.0, 0.0, 1.0, 1.0]
    both = [LabelledQuery("q", frozenset({"d3"})), LabelledQuery("q", frozenset({"d2", "d4"}))]
    assert hit_at_k(adapter, corpus, both, 1) == 0.0
    assert hit_at_k(adapter, corpus, both, 2) == 0.5
    assert hit_at_k(adapter, corpus, both, 3) == 1.0
    with pytest.raises(ValueError, match="at least 1"):
        hit_at_k(adapter, corpus, third, 0)


def test_hit_at_k_ranks_past_ten() -> None:
    # twelve distractors closer to the query than the relevant text: it ranks 13th
    vectors = {f"t{i}": [1.0, 0.01 * i] for i in range(12)}
    vectors["rel"] = [0.0, 1.0]
    vectors["q"] = [1.0, 0.0]
    ids = tuple(f"d{i}" for i in range(12)) + ("r",)
    corpus = Corpus(ids, tuple(f"t{i}" for i in range(12)) + ("rel",), "fixed")
    query = [LabelledQuery("q", frozenset({"r"}))]
    adapter = _Fixed(vectors)
    assert hit_at_k(adapter, corpus, query, 12) == 0.0
    assert hit_at_k(adapter, corpus, query, 13) == 1.0


# --------------------------------------------------------------------------- the summary table
def test_table_keeps_the_distinguishing_end_of_long_names_and_the_run_counter() -> None:
    from autoembedding.pytest_plugin.summary import Row, fit, format_row

    names = [
        "test_embedding_throughput_on_the_sample[sentence-transformers/all-MiniLM-L6-v2]",
        "test_embedding_throughput_on_the_sample[sentence-transformers/all-MiniLM-L6-v2:onnx-int8]",
    ]
    run = "0007_9f2e7c3a1b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f_20261130_053000_uncommitted-changes"
    lines = [format_row(Row(run, n, 0.01, 32, {"hit@5": 0.5}), 60, 24) for n in names]
    assert lines[0] != lines[1]
    assert "all-MiniLM-L6-v2]" in lines[0] and "L6-v2:onnx-int8]" in lines[1]
    assert all(line.startswith("0007_") for line in lines)
    assert all("..." in line for line in lines)
    assert fit("short", 10) == "short"
    assert len(fit(names[1], 30)) == 30


def test_hit_at_k_values_print_with_one_precision() -> None:
    from autoembedding.pytest_plugin.summary import Row, format_row

    line = format_row(Row("NOW", "b", None, None, {"hit@1": 1, "hit@5": 0.8333333, "x": 2}))
    assert "hit@1=1.000, hit@5=0.833" in line
    assert "x=" not in line


def test_table_columns_grow_to_the_longest_name(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_a_rather_long_module_name_for_benchmarks="""
        def test_embedding_throughput_of_each_candidate_model(
            benchmark, autoembedding_candidate, autoembedding_texts, autoembedding_hit_at_k
        ):
            benchmark(autoembedding_candidate.embed_documents, autoembedding_texts)
            autoembedding_hit_at_k(benchmark, autoembedding_candidate)
        """
    )
    result = project.runpytest(*BENCH_FLAGS)
    result.assert_outcomes(passed=2)
    rows = [line for line in result.stdout.lines if line.startswith("NOW ")]
    assert len(rows) == 2
    assert rows[0].split()[1].endswith("[fake/alpha]") and rows[1].split()[1].endswith(
        "[fake/beta]"
    )
    assert all("hit@1=1.000" in row for row in rows)


# --------------------------------------------------------------------------- rootdir and ini
def _rootdir_project(pytester: pytest.Pytester) -> Path:
    """A project with its settings in pyproject.toml and a Chroma folder beside it in ../x."""
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        autoembedding_candidates = "fake/alpha fake/beta"
        """
    )
    pytester.makepyfile(
        """
        def test_dim(autoembedding_candidate):
            assert autoembedding_candidate.dim == 64
        """
    )
    outside = pytester.path.parent / "x"
    outside.mkdir(exist_ok=True)
    return outside


def test_separate_path_value_that_would_move_rootdir_is_refused(pytester: pytest.Pytester) -> None:
    _rootdir_project(pytester)
    result = pytester.runpytest_subprocess(
        "--autoembedding-chroma-path", "../x", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "--autoembedding-chroma-path=../x" in err
    assert "pyproject.toml" in err  # names the settings that would be lost


def test_path_value_with_equals_keeps_rootdir_and_pyproject_settings(
    pytester: pytest.Pytester,
) -> None:
    _rootdir_project(pytester)
    result = pytester.runpytest_subprocess(
        "-v", "--autoembedding-chroma-path=../x", "-p", "no:benchmark", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)  # the candidates of pyproject.toml parametrise the test
    result.stdout.fnmatch_lines([f"rootdir: {pytester.path}*", "*configfile: pyproject.toml*"])


def test_separate_value_that_moves_nothing_is_accepted(pytester: pytest.Pytester) -> None:
    _rootdir_project(pytester)
    (pytester.path / "db").mkdir()
    result = pytester.runpytest_subprocess(
        "--autoembedding-chroma-path", "db", "-p", "no:benchmark", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)
