"""Bad inputs to ``autoembed``: each is refused with a one-line message naming the option.

The commands run in-process (``autoembedding.cli.main``). No case may print a traceback; usage
and argument errors exit with 2, other errors with 1. For ``probe``, opening the collection and
running the probe are replaced by functions that fail the test, so every check is shown to run
before any work.
"""

from __future__ import annotations

import pytest

import autoembedding.cli.probe as cli_probe
import autoembedding.probe as probing
from autoembedding.cli import main


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the probe command opens a collection or runs the probe."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the command did work before checking its arguments")

    monkeypatch.setattr(cli_probe, "_open_collection", forbidden)
    monkeypatch.setattr(probing, "probe", forbidden)


@pytest.fixture
def paths(tmp_path):
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    return {"db": str(tmp_path / "db"), "dir": str(tmp_path), "file": str(a_file)}


def _probe_args(paths, *extra):
    return ["probe", "--chroma-path", paths["db"], "--collection", "docs", "--no-progress", *extra]


# (case id, extra probe arguments, exit code, words the message must hold)
PROBE_CASES = [
    ("budget-zero", ["--budget-s", "0"], ["--budget-s", "> 0", "'0'"]),
    ("budget-negative", ["--budget-s", "-3"], ["--budget-s", "'-3'"]),
    ("budget-word", ["--budget-s", "soon"], ["--budget-s", "'soon'"]),
    ("budget-nan", ["--budget-s", "nan"], ["--budget-s", "'nan'"]),
    ("sample-negative", ["--sample-size", "-5"], ["--sample-size", ">= 5", "'-5'"]),
    ("sample-too-small", ["--sample-size", "2"], ["--sample-size", ">= 5"]),
    ("sample-float", ["--sample-size", "1.5"], ["--sample-size", "integer"]),
    ("timeout-zero", ["--candidate-timeout-s", "0"], ["--candidate-timeout-s", "> 0"]),
    ("latency-zero", ["--max-query-ms", "0"], ["--max-query-ms", "> 0"]),
    ("latency-negative", ["--max-query-ms", "-5"], ["--max-query-ms", "'-5'"]),
    ("hit-above-one", ["--min-hit-at-5", "1.5"], ["--min-hit-at-5", "0..1", "'1.5'"]),
    ("hit-negative", ["--min-hit-at-5", "-0.2"], ["--min-hit-at-5", "0..1"]),
    ("ndcg-above-one", ["--min-ndcg-at-10", "2"], ["--min-ndcg-at-10", "0..1"]),
    ("bytes-zero", ["--max-bytes-per-vector", "0"], ["--max-bytes-per-vector", "> 0"]),
    ("seed-word", ["--seed", "x"], ["--seed", "integer", "'x'"]),
    (
        "candidate-unknown",
        ["--candidates", "minilmm"],
        ["--candidates", "'minilmm'", "Did you mean", "all-MiniLM-L6-v2"],
    ),
    (
        "candidate-unknown-in-list",
        ["--candidates", "fake/a,bge-small-en-v1"],
        ["'bge-small-en-v1'", "BAAI/bge-small-en-v1.5"],
    ),
    ("candidate-dim-too-big", ["--candidates", "fake/a,fake/zz@999"], ["fake/zz@999", "only 64"]),
    ("candidate-none-named", ["--candidates", ",,"], ["--candidates", "names no model"]),
    ("candidate-bad-dim", ["--candidates", "fake/a@abc"], ["--candidates", "fake/a@abc"]),
    ("json-is-a-folder", ["--json", "{dir}"], ["--json", "is a folder"]),
    ("json-under-a-file", ["--json", "{file}/r.json"], ["--json", "taken.txt", "is a file"]),
    ("report-is-a-file", ["--report", "{file}"], ["--report", "taken.txt", "is a file"]),
    ("report-dash", ["--report", "-"], ["--report", "folder", "--json -"]),
    ("queries-without-qrels", ["--queries", "{file}"], ["--qrels", "missing"]),
    ("qrels-without-queries", ["--qrels", "{file}"], ["--queries", "missing"]),
    (
        "queries-file-missing",
        ["--queries", "{dir}/nope.jsonl", "--qrels", "{file}"],
        ["--queries", "nope.jsonl", "does not exist"],
    ),
]


def _run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize(("extra", "words"), [c[1:] for c in PROBE_CASES],
                         ids=[c[0] for c in PROBE_CASES])  # fmt: skip
def test_probe_refuses_bad_options_before_any_work(extra, words, paths, capsys, no_work):
    extra = [e.format(**paths) for e in extra]
    code, out, err = _run(_probe_args(paths, *extra), capsys)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("autoembed probe: error: ")
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert out == ""


def test_probe_did_you_mean_does_not_repeat_itself(paths, capsys, no_work):
    code, _, err = _run(_probe_args(paths, "--candidates", "bge-small-en-v1"), capsys)
    assert code == 2
    hint = err.split("Did you mean ", 1)[1].split("?", 1)[0]
    names = [n.strip() for n in hint.split(",")]
    assert len(names) == len(set(names)), hint


def test_probe_unwritable_json_is_refused_before_the_probe(paths, capsys, no_work, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    target = ro / "r.json"
    ro.chmod(0o500)
    try:
        try:
            target.write_text("probe")  # root ignores modes: then use a path under a file
            target.unlink()
            path = f"{paths['file']}/sub/r.json"
        except PermissionError:
            path = str(target)
        code, _, err = _run(_probe_args(paths, "--json", path), capsys)
    finally:
        ro.chmod(0o700)
    assert code == 2 and "--json" in err and "cannot write" in err


# (case id, arguments, exit code, words the message must hold)
OTHER_CASES = [
    ("probe-no-collection", ["probe", "--chroma-path", "{db}"], 2, ["--collection", "required"]),
    ("probe-no-location", ["probe", "--collection", "x"], 2, ["--chroma-path", "required"]),
    (
        "probe-two-locations",
        ["probe", "--collection", "x", "--chroma-path", "{db}", "--chroma-host", "h"],
        2,
        ["--chroma-host", "not allowed with", "--chroma-path"],
    ),
    (
        "probe-missing-database",
        ["probe", "--collection", "x", "--chroma-path", "{db}", "--no-progress"],
        1,
        ["{db}"],
    ),
    ("models-unknown-option", ["models", "--bogus"], 2, ["--bogus", "unrecognized"]),
    ("demo-budget-zero", ["demo", "--budget-s", "0"], 2, ["--budget-s", "> 0"]),
    ("demo-model-unknown", ["demo", "--model", "minilmm"], 2, ["--model", "minilmm", "Did you"]),
    ("demo-report-is-a-file", ["demo", "--report", "{file}"], 2, ["--report", "is a file"]),
    ("demo-candidates-unknown", ["demo", "--candidates", "nope-x"], 2, ["'nope-x'", "Unknown"]),
    ("demo-path-is-a-file", ["demo", "--path", "{file}"], 2, ["--path", "is a file"]),
    ("unknown-command", ["frobnicate"], 2, ["invalid choice", "'frobnicate'"]),
    ("no-command", [], 2, ["usage: autoembed", "COMMAND"]),
]


@pytest.mark.parametrize(("args", "code", "words"), [c[1:] for c in OTHER_CASES],
                         ids=[c[0] for c in OTHER_CASES])  # fmt: skip
def test_other_commands_refuse_bad_input_without_traceback(args, code, words, paths, capsys):
    args = [a.format(**paths) for a in args]
    got, out, err = _run(args, capsys)
    assert got == code
    for word in words:
        word = word.format(**paths)
        assert word in err, f"{word!r} not in {err!r}"
