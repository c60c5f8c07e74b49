"""Bad inputs to the Python API: each is refused with our error type, naming what was wrong.

Every probe case passes a collection that fails the test if anything touches it, so each check
is shown to run before any work. Each case asserts the error type and the words of its message
that name the argument (and, where it helps, the bad value).
"""

from __future__ import annotations

import pickle
import warnings

import pytest

from autoembedding import get_adapter, get_spec
from autoembedding.adapters.fake import FakeAdapter
from autoembedding.arguments import output_dir, output_file
from autoembedding.candidates import Candidate, Targets
from autoembedding.errors import (
    AutoEmbeddingError,
    AutoEmbeddingWarning,
    InvalidArgumentError,
    NoCandidateError,
    UnknownModelError,
)
from autoembedding.probe import probe


class Untouchable:
    """A stand-in collection: any use of it fails the test (the checks must come first)."""

    def __getattr__(self, name: str) -> None:
        raise AssertionError(f"the probe touched the collection ({name}) before checking")


DOCS = [f"document number {i} about topic {i % 7}" for i in range(30)]


def _probe(**kwargs):
    kwargs.setdefault("candidates", ["fake/a"])
    if "documents" not in kwargs:
        kwargs.setdefault("collection", Untouchable())
    return lambda: probe(**kwargs)


# (case id, call, error type, words the message must hold)
PROBE_CASES = [
    ("budget-zero", _probe(budget_s=0), InvalidArgumentError, ["budget_s", "> 0", "0"]),
    ("budget-negative", _probe(budget_s=-1), InvalidArgumentError, ["budget_s", "-1"]),
    ("budget-string", _probe(budget_s="10"), InvalidArgumentError, ["budget_s", "str"]),
    ("budget-nan", _probe(budget_s=float("nan")), InvalidArgumentError, ["budget_s", "nan"]),
    ("budget-bool", _probe(budget_s=True), InvalidArgumentError, ["budget_s", "bool"]),
    ("sample-negative", _probe(sample_size=-5), InvalidArgumentError, ["sample_size", "-5"]),
    ("sample-too-small", _probe(sample_size=2), InvalidArgumentError, ["sample_size", ">= 5"]),
    ("sample-float", _probe(sample_size=10.5), InvalidArgumentError, ["sample_size", "integer"]),
    ("sample-string", _probe(sample_size="100"), InvalidArgumentError, ["sample_size", "str"]),
    ("n-queries-zero", _probe(n_queries=0), InvalidArgumentError, ["n_queries", ">= 1"]),
    (
        "timeout-zero",
        _probe(candidate_timeout_s=0),
        InvalidArgumentError,
        ["candidate_timeout_s", "> 0"],
    ),
    ("seed-string", _probe(seed="x"), InvalidArgumentError, ["seed", "integer"]),
    ("seed-float", _probe(seed=1.5), InvalidArgumentError, ["seed", "1.5"]),
    ("progress-string", _probe(progress="yes"), InvalidArgumentError, ["progress", "'yes'"]),
    (
        "doc-chars-word",
        _probe(max_doc_chars="all"),
        InvalidArgumentError,
        ["max_doc_chars", "'auto'", "'all'"],
    ),
    ("doc-chars-zero", _probe(max_doc_chars=0), InvalidArgumentError, ["max_doc_chars", ">= 1"]),
    ("doc-chars-negative", _probe(max_doc_chars=-3), InvalidArgumentError, ["max_doc_chars"]),
    (
        "targets-dict",
        _probe(targets={"max_query_ms": 5}),
        InvalidArgumentError,
        ["targets", "dict", "Targets("],
    ),
    (
        "collection-and-documents",
        _probe(documents=DOCS, collection=Untouchable()),
        InvalidArgumentError,
        ["exactly one", "collection", "documents", "both"],
    ),
    (
        "no-collection-no-documents",
        lambda: probe(candidates=["fake/a"]),
        InvalidArgumentError,
        ["exactly one", "neither"],
    ),
    (
        "documents-one-string",
        _probe(documents="one long text", collection=None),
        InvalidArgumentError,
        ["documents", "single string"],
    ),
    (
        "candidate-unknown",
        _probe(candidates=["minilmm"]),
        UnknownModelError,
        ["candidates", "minilmm", "Did you mean", "all-MiniLM-L6-v2"],
    ),
    (
        "candidate-unknown-second",
        _probe(candidates=["fake/a", "e5-small-v"]),
        UnknownModelError,
        ["candidates[1]", "e5-small-v", "intfloat/e5-small-v2"],
    ),
    (
        "candidate-bad-dim",
        _probe(candidates=["fake/a@abc"]),
        InvalidArgumentError,
        ["candidates", "fake/a@abc", "@<dim>"],
    ),
    (
        "candidate-dim-too-big",
        _probe(candidates=["fake/a@128"]),
        InvalidArgumentError,
        ["candidates", "128", "only 64"],
    ),
    (
        "candidate-dim-zero",
        _probe(candidates=["fake/a@0"]),
        InvalidArgumentError,
        ["truncate_dim", "fake/a", ">= 1"],
    ),
    (
        "candidate-not-a-label",
        _probe(candidates=["fake/a", 42]),
        InvalidArgumentError,
        ["candidates[1]", "int", "42"],
    ),
    (
        "candidate-empty-label",
        _probe(candidates=["fake/a", "  "]),
        InvalidArgumentError,
        ["candidates[1]", "empty"],
    ),
    (
        "candidate-bad-precision",
        _probe(candidates=[Candidate("fake/a", precision="int4")]),
        InvalidArgumentError,
        ["candidates", "precision", "'int4'", "binary"],
    ),
    (
        "queries-missing-files",
        _probe(queries=("nowhere/q.jsonl", "nowhere/qrels.tsv")),
        InvalidArgumentError,
        ["queries", "nowhere/q.jsonl", "does not exist"],
    ),
    (
        "queries-one-path",
        _probe(queries="q.jsonl"),
        InvalidArgumentError,
        ["queries", "one path", "q.jsonl"],
    ),
    (
        "queries-ids-as-string",
        _probe(queries=[("what is x", "d1")]),
        InvalidArgumentError,
        ["queries[0]", "relevant ids"],
    ),
    (
        "queries-not-pairs",
        _probe(queries=[("what is x", ["d1"]), ("lonely",)]),
        InvalidArgumentError,
        ["queries[1]", "pair"],
    ),
    ("queries-number", _probe(queries=5), InvalidArgumentError, ["queries", "int"]),
]

TARGET_CASES = [
    ("latency-negative", {"max_query_ms": -1}, ["max_query_ms", "> 0", "-1"]),
    ("latency-zero", {"max_query_ms": 0}, ["max_query_ms", "> 0"]),
    ("latency-string", {"max_query_ms": "20"}, ["max_query_ms", "'20'", "str"]),
    ("latency-infinite", {"max_query_ms": float("inf")}, ["max_query_ms", "inf"]),
    ("hit-above-one", {"min_hit_at_5": 1.5}, ["min_hit_at_5", "0..1", "1.5"]),
    ("hit-negative", {"min_hit_at_5": -0.1}, ["min_hit_at_5", "0..1"]),
    ("hit-nan", {"min_hit_at_5": float("nan")}, ["min_hit_at_5", "nan"]),
    ("ndcg-above-one", {"min_ndcg_at_10": 2}, ["min_ndcg_at_10", "0..1", "2"]),
    ("bytes-zero", {"max_bytes_per_vector": 0}, ["max_bytes_per_vector", "> 0"]),
    ("docs-per-s-negative", {"min_docs_per_s": -1}, ["min_docs_per_s", ">= 0"]),
    ("load-zero", {"max_load_s": 0}, ["max_load_s", "> 0"]),
    ("contradiction-above-one", {"min_contradiction": 1.2}, ["min_contradiction", "0..1"]),
]

ADAPTER_CASES = [
    ("model-none", lambda: get_adapter(None), InvalidArgumentError, ["model_id", "None"]),
    ("model-empty", lambda: get_adapter(""), InvalidArgumentError, ["model_id", "empty"]),
    ("model-int", lambda: get_adapter(42), InvalidArgumentError, ["model_id", "42"]),
    (
        "model-unknown",
        lambda: get_adapter("minilmm"),
        UnknownModelError,
        ["minilmm", "Did you mean", "autoembed models"],
    ),
    (
        "backend-unknown",
        lambda: get_adapter("some/model", backend="nope"),
        UnknownModelError,
        ["'nope'", "known backends", "onnx"],
    ),
    ("spec-none", lambda: get_spec(None), InvalidArgumentError, ["model_id", "None"]),
    (
        "batch-size-string",
        lambda: get_adapter("fake/a", batch_size="8"),
        InvalidArgumentError,
        ["batch_size", "'8'", "str"],
    ),
    (
        "batch-size-zero",
        lambda: get_adapter("fake/a", batch_size=0),
        InvalidArgumentError,
        ["batch_size", ">= 1"],
    ),
    (
        "batch-size-float",
        lambda: get_adapter("fake/a", batch_size=2.5),
        InvalidArgumentError,
        ["batch_size", "2.5"],
    ),
    (
        "fake-dim-negative",
        lambda: get_adapter("fake/a", dim=-4),
        InvalidArgumentError,
        ["dim", ">= 1", "-4"],
    ),
    ("fake-dim-string", lambda: FakeAdapter("a", dim="64"), InvalidArgumentError, ["dim", "str"]),
    ("fake-noise", lambda: FakeAdapter("a", noise=2), InvalidArgumentError, ["noise", "0..1"]),
    (
        "fake-latency",
        lambda: FakeAdapter("a", latency_ms=-1),
        InvalidArgumentError,
        ["latency_ms", ">= 0"],
    ),
    ("fake-name-empty", lambda: FakeAdapter(""), InvalidArgumentError, ["name", "fake/<name>"]),
    (
        "precision-unknown",
        lambda: get_adapter("fake/a", precision="int4"),
        InvalidArgumentError,
        ["precision", "'int4'", "int8"],
    ),
    (
        "truncate-zero",
        lambda: get_adapter("fake/a", truncate_dim=0),
        InvalidArgumentError,
        ["truncate_dim", ">= 1"],
    ),
    (
        "truncate-too-big",
        lambda: get_adapter("fake/a", truncate_dim=100),
        InvalidArgumentError,
        ["truncate_dim=100", "1..64", "fake/a"],
    ),
    (
        "truncate-string",
        lambda: get_adapter("fake/a", truncate_dim="32"),
        InvalidArgumentError,
        ["truncate_dim", "str"],
    ),
    (
        "normalize-string",
        lambda: get_adapter("fake/a", normalize="yes"),
        InvalidArgumentError,
        ["normalize", "'yes'"],
    ),
    (
        "prompt-number",
        lambda: get_adapter("sentence-transformers/all-MiniLM-L6-v2", query_prompt=5),
        InvalidArgumentError,
        ["query_prompt", "int"],
    ),
    (
        "view-truncate",
        lambda: get_adapter("fake/a").view(truncate_dim=65),
        InvalidArgumentError,
        ["truncate_dim=65", "1..64"],
    ),
    (
        "view-precision",
        lambda: get_adapter("fake/a").view(precision="fp16"),
        InvalidArgumentError,
        ["precision", "'fp16'"],
    ),
]

TEXT_CASES = [
    (
        "lone-high-surrogate",
        lambda a: a.embed_documents(["fine", "broken \ud800 text"]),
        ["index 1", "lone surrogate", "U+D800", "character 7"],
    ),
    (
        "lone-low-surrogate-later",
        lambda a: a.embed_documents(["a", "b", "c\udc80"]),
        ["index 2", "U+DC80"],
    ),
    ("none-in-list", lambda a: a.embed_documents(["ok", None]), ["index 1", "NoneType"]),
    ("bytes-in-list", lambda a: a.embed_documents([b"raw"]), ["index 0", "bytes"]),
    ("single-string", lambda a: a.embed_documents("one text"), ["single string", "list"]),
    ("not-a-list", lambda a: a.embed_documents(5), ["list of strings", "int"]),
    ("query-none", lambda a: a.embed_query(None), ["embed_query", "NoneType"]),
    ("query-surrogate", lambda a: a.embed_query("why \udfff"), ["text", "lone surrogate"]),
    ("queries-surrogate", lambda a: a.embed_queries(["\ud83d"]), ["index 0", "U+D83D"]),
    ("raw-surrogate", lambda a: a.encode_raw(["x\ud800"], is_query=False), ["index 0"]),
]


def _check(call, error, words):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert isinstance(info.value, AutoEmbeddingError)
    return info.value


@pytest.mark.parametrize(("call", "error", "words"), [c[1:] for c in PROBE_CASES],
                         ids=[c[0] for c in PROBE_CASES])  # fmt: skip
def test_probe_refuses_bad_arguments_before_any_work(call, error, words):
    _check(call, error, words)


@pytest.mark.parametrize(("fields", "words"), [c[1:] for c in TARGET_CASES],
                         ids=[c[0] for c in TARGET_CASES])  # fmt: skip
def test_targets_refuse_values_no_candidate_could_meet(fields, words):
    exc = _check(lambda: Targets(**fields), InvalidArgumentError, words)
    assert exc.argument == next(iter(fields))


@pytest.mark.parametrize(("call", "error", "words"), [c[1:] for c in ADAPTER_CASES],
                         ids=[c[0] for c in ADAPTER_CASES])  # fmt: skip
def test_adapters_refuse_bad_arguments_naming_them(call, error, words):
    _check(call, error, words)


@pytest.mark.parametrize(("call", "words"), [c[1:] for c in TEXT_CASES],
                         ids=[c[0] for c in TEXT_CASES])  # fmt: skip
def test_texts_are_checked_naming_the_document_index(call, words):
    adapter = FakeAdapter("a")
    _check(lambda: call(adapter), InvalidArgumentError, words)
    assert adapter.calls == 0  # refused before the model ran


def test_output_paths_are_checked_without_leaving_anything(tmp_path):
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    _check(lambda: output_file(tmp_path, "--json"), InvalidArgumentError, ["--json", "a folder"])
    _check(
        lambda: output_file(a_file / "r.json", "--json"),
        InvalidArgumentError,
        ["--json", "taken.txt", "is a file"],
    )
    _check(lambda: output_file("", "--json"), InvalidArgumentError, ["--json", "empty"])
    _check(
        lambda: output_dir(a_file, "--report"),
        InvalidArgumentError,
        ["--report", "taken.txt", "is a file"],
    )
    assert output_file(tmp_path / "new" / "deeper" / "r.json", "--json").name == "r.json"
    assert output_dir(tmp_path / "rep", "--report").name == "rep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.txt"]  # nothing created


def test_did_you_mean_names_each_model_once():
    for typo in ("bge-small-en-v1", "e5-small-v", "minilmm"):
        with pytest.raises(UnknownModelError) as info:
            get_spec(typo)
        hint = str(info.value).split("Did you mean ", 1)[1].split("?", 1)[0]
        names = [n.strip() for n in hint.split(",")]
        assert len(names) == len(set(names)) >= 1, hint


def test_invalid_argument_error_is_a_value_and_type_error_and_pickles():
    exc = InvalidArgumentError("budget_s must be > 0, got 0.", argument="budget_s")
    assert isinstance(exc, ValueError) and isinstance(exc, TypeError)
    assert exc.argument == "budget_s"
    assert str(pickle.loads(pickle.dumps(exc))) == str(exc)


def test_truncate_dim_without_matryoshka_training_warns_at_the_callers_line():
    with pytest.warns(AutoEmbeddingWarning, match="not trained for Matryoshka") as record:
        adapter = get_adapter("sentence-transformers/all-MiniLM-L6-v2", truncate_dim=128)
    assert adapter.dim == 128  # still cut as asked
    assert record[0].filename == __file__  # points at this line, not inside the package
    with pytest.warns(AutoEmbeddingWarning, match=r"Matryoshka dims \[64, 32, 16\]"):
        get_adapter("fake/a", truncate_dim=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_adapter("fake/a", truncate_dim=32)  # a trained dim: silent
        get_adapter("sentence-transformers/all-MiniLM-L6-v2")  # no truncation: silent


def test_empty_candidate_list_is_still_a_no_candidate_error():
    with pytest.raises(NoCandidateError, match=r"candidates=\[\] is empty"):
        probe(documents=DOCS, candidates=[])


def test_unknown_candidate_fails_before_the_collection_is_read():
    with pytest.raises(UnknownModelError, match="no/such-model"):
        probe(Untouchable(), candidates=["fake/a", Candidate("no/such-model")])
