"""Issue 11 item 6 (the swap's part): bad arguments are refused before any work.

Before, ``--page-size 0`` reached ``iter_pages`` after the database was opened and the model
built (a traceback for ``swap --page-size 0`` on the CLI's ValueError), and a negative
``--verify-sample`` crashed in NumPy after the whole copy. Now each is a usage error naming the
option, raised before Chroma is opened or a model is built.
"""

from __future__ import annotations

import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.errors import InvalidArgumentError  # noqa: E402
from autoembedding.swap import swap  # noqa: E402


def exit_code(argv: list[str]) -> int:
    """``main``'s exit code, whether argparse's usage error returns or raises SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--page-size", "0"], "argument --page-size: must be >= 1, got 0"),
        (["--page-size", "-3"], "argument --page-size: must be >= 1, got -3"),
        (["--page-size", "ten"], "argument --page-size: expected a whole number, got 'ten'"),
        (["--verify-sample", "-1"], "argument --verify-sample: must be >= 0, got -1"),
        (["--batch-size", "0"], "argument --batch-size: must be >= 1, got 0"),
    ],
)
def test_cli_refuses_bad_numbers_before_opening_anything(tmp_path, capsys, argv, says):
    missing = tmp_path / "no-such-db"
    base = ["swap", "--collection", "docs", "--model", "fake/new", "--chroma-path", str(missing)]
    assert exit_code([*base, *argv]) == 2
    assert says in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["swap", "--model", "fake/new", "--chroma-path", "db"], "--collection NAME is required"),
        (["swap", "--collection", "docs", "--chroma-path", "db"], "--model is required"),
        (
            ["swap", "--collection", "docs", "--engine", "local", "--workers", "2"],
            "go with --engine ray",
        ),
        (
            ["swap", "--status", "a", "--collection", "b", "--chroma-path", "db"],
            "--status a and --collection b disagree",
        ),
    ],
)
def test_cli_usage_errors_name_the_option(tmp_path, monkeypatch, capsys, argv, says):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "db").exists()


def test_cli_modes_are_exclusive(capsys):
    assert exit_code(["swap", "--collection", "d", "--undo", "--sync", "--chroma-path", "db"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": "256"}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"verify_sample": -5}, "verify_sample"),
        ({"verify_sample": 2.5}, "verify_sample"),
    ],
)
def test_python_swap_checks_arguments_first(kwargs, argument):
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"the client was used ({name}) before the arguments were checked")

    adapter = FakeAdapter("new", dim=8)
    with pytest.raises(InvalidArgumentError, match=argument) as info:
        swap("docs", adapter, client=Untouchable(), progress=False, **kwargs)
    assert info.value.argument == argument
    assert adapter.texts_seen == 0
    with pytest.raises(ValueError):  # still a ValueError for code that caught the old one
        swap("docs", adapter, client=Untouchable(), progress=False, **kwargs)
