"""``autoembed`` as a whole: version, errors without tracebacks, --debug, --json -, aliases."""

from __future__ import annotations

import io
import json
import warnings

import pytest

import autoembedding
import autoembedding.cli.models as cli_models
from autoembedding.cli import main
from autoembedding.errors import CollectionError, ProbeWarning
from autoembedding.progress import Progress

chromadb = pytest.importorskip("chromadb")

from tests.unit.test_probe import make_collection, make_docs  # noqa: E402


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"autoembed {autoembedding.__version__}"


def test_help_exits_zero(capsys):
    assert main(["probe", "--help"]) == 0
    assert "--json OUT" in capsys.readouterr().out


def _break_models(monkeypatch, exc):
    def boom(*args, **kwargs):
        raise exc

    monkeypatch.setattr(cli_models, "model_rows", boom)


def test_unexpected_error_is_one_line_without_traceback(monkeypatch, capsys):
    monkeypatch.delenv("AUTOEMBEDDING_DEBUG", raising=False)
    _break_models(monkeypatch, RuntimeError("boom"))
    assert main(["models"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "autoembed models: unexpected error: RuntimeError: boom" in err
    assert "--debug" in err and "AUTOEMBEDDING_DEBUG=1" in err


@pytest.mark.parametrize("how", ["flag-before", "flag-after", "env"])
def test_debug_shows_the_traceback(how, monkeypatch):
    monkeypatch.delenv("AUTOEMBEDDING_DEBUG", raising=False)
    _break_models(monkeypatch, RuntimeError("boom"))
    args = {"flag-before": ["--debug", "models"], "flag-after": ["models", "--debug"]}
    if how == "env":
        monkeypatch.setenv("AUTOEMBEDDING_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):  # re-raised: Python prints the traceback
        main(args.get(how, ["models"]))


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (CollectionError("collection 'x' is empty"), 1, "error: collection 'x' is empty"),
        (KeyboardInterrupt(), 130, "autoembed models: interrupted"),
        (PermissionError(13, "Permission denied", "/x"), 1, "error: [Errno 13] Permission denied"),
    ],
)
def test_known_failures_print_a_message_and_exit_code(exc, code, text, monkeypatch, capsys):
    monkeypatch.delenv("AUTOEMBEDDING_DEBUG", raising=False)
    _break_models(monkeypatch, exc)
    assert main(["models"]) == code
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err and "unexpected" not in err


def test_warnings_are_one_plain_line(monkeypatch, capsys):
    real = cli_models.model_rows

    def warn_then_list(*args, **kwargs):
        warnings.warn("sample smaller than asked", ProbeWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli_models, "model_rows", warn_then_list)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["models"]) == 0
    err = capsys.readouterr().err
    assert err.strip() == "autoembed models: warning: sample smaller than asked"


def test_models_table_shows_aliases(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert "aliases" in header
    row = next(line for line in out.splitlines() if line.startswith("BAAI/bge-small-en-v1.5 "))
    assert "bge-small-en-v1.5" in row.split()[-1]
    assert any(line.split()[-1] == "all-MiniLM-L6-v2,minilm" for line in out.splitlines())


@pytest.fixture(scope="module")
def chroma_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("chroma-cli-main")
    make_collection(path, make_docs(60), "notes")
    return path


def test_json_dash_writes_json_to_stdout_not_a_file(chroma_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["probe", "--chroma-path", str(chroma_dir), "--collection", "notes"]
    args += ["--candidates", "fake/a", "--json", "-", "--no-progress", "--sample-size", "40"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)  # stdout is only the JSON
    assert data["winner"] == "fake/a" and data["collection"] == "notes"
    assert "Winner: fake/a" in err  # the table went to stderr
    assert not (tmp_path / "-").exists()


def test_probe_progress_bar_shows_no_rate_or_eta(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    bar = Progress(True, total=100, desc="probe", unit="")
    for step in range(1, 5):
        bar.set(f"stage {step}", step / 4)
    bar.close()
    text = screen.getvalue()
    assert "probe:" in text and "%|" in text  # the bar was drawn
    assert "/s" not in text and "it/s" not in text and "<" not in text  # no rate, no ETA


def test_cli_sample_size_floor_is_the_probes():
    from autoembedding.cli.probe import MIN_DOCS
    from autoembedding.probe.sampling import MIN_DOCS as PROBE_MIN_DOCS

    assert MIN_DOCS == PROBE_MIN_DOCS
