"""Fixtures and options shared by every test.

* ``--run-slow`` turns on tests marked ``slow``.
* ``test_data`` (alias ``shared_data``): the small real data sets bundled in ``tests/data``
  (SciFact and CMRC 2018 subsets in BEIR layout, cut by ``scripts/make_test_data.py``), so the
  suite runs from a bare clone; ``../shared/data`` is for the benchmarks only.
* ``chroma_path`` / ``chroma_client``: an embedded Chroma in the test's ``tmp_path``.
* ``free_port()``: a free TCP port on 127.0.0.1 (a plain function, importable with
  ``from conftest import free_port``, and a fixture of the same name returning it).
* ``chroma_server``: a real ``chroma run`` on 127.0.0.1 (see :class:`ChromaServer`), stopped at the
  end of the test.
* Every test gets its own ``$AUTOEMBEDDING_CHOICE_DIR`` (autouse), so no test saves an
  auto-selected choice in the user's cache.
* In CI (``CI=true``), a skip because a dependency cannot be imported (``pytest.importorskip``)
  fails the run instead: a missing extra must not turn whole modules green. Locally it stays a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: The data sets bundled with the tests.
TEST_DATA = Path(__file__).resolve().parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: pass --run-slow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


# ------------------------------------------------------------------------------------ CI skips
#: What ``pytest.importorskip`` puts in the message of the skip it raises.
_IMPORT_SKIP = "could not import"


def _in_ci() -> bool:
    """Whether this run is CI's: ``CI`` set to ``true``/``1``/``yes`` (GitHub, GitLab and ours)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _fail_import_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    """Turn a skip for a missing dependency into a failure when this run is CI's."""
    if not (report.skipped and _in_ci()):
        return
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if _IMPORT_SKIP not in str(message):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"{message}\nCI=true: a missing dependency fails the run instead of skipping it. "
        "Install every extra the tests need (bash scripts/setup.sh)."
    )


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    report = yield
    _fail_import_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    _fail_import_skip(report)
    return report


# ------------------------------------------------------------------------------------ choices
@pytest.fixture(autouse=True)
def _private_choice_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any) -> Path:
    """Every test saves auto-selected choices in its own folder, never the user's cache."""
    folder = tmp_path_factory.mktemp("choices")
    monkeypatch.setenv("AUTOEMBEDDING_CHOICE_DIR", str(folder))
    monkeypatch.delenv("AUTOEMBEDDING_CHOICE_PATH", raising=False)
    return folder


# ------------------------------------------------------------------------------------ data
@pytest.fixture(scope="session")
def test_data() -> Path:
    """Folder of the bundled data sets: ``scifact/`` and ``cmrc2018-zh/`` (BEIR layout)."""
    for name in ("scifact", "cmrc2018-zh"):
        assert (TEST_DATA / name / "corpus.jsonl").is_file(), (
            f"missing {TEST_DATA / name}; regenerate with python scripts/make_test_data.py"
        )
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_data(test_data: Path) -> Path:
    """Alias of ``test_data`` (the tests once read ``../shared/data``)."""
    return test_data


# ------------------------------------------------------------------------------------ chroma
@pytest.fixture
def chroma_path(tmp_path: Path) -> Path:
    """Folder of the test's embedded Chroma database (``tmp_path / "db"``, not created yet)."""
    return tmp_path / "db"


@pytest.fixture
def chroma_client(chroma_path: Path) -> Any:
    """An embedded Chroma (``chromadb.PersistentClient``) in ``chroma_path``."""
    import chromadb

    return chromadb.PersistentClient(path=str(chroma_path))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="free_port", scope="session")
def _free_port_fixture() -> Callable[..., int]:
    """The :func:`free_port` helper, for tests that prefer a fixture to an import."""
    return free_port


def chroma_executable() -> str:
    """The ``chroma`` command of this virtualenv, else the one on ``PATH``."""
    exe = Path(sys.executable).with_name("chroma")
    return str(exe) if exe.exists() else (shutil.which("chroma") or "chroma")


class ChromaServer:
    """A ``chroma run --path PATH --host 127.0.0.1 --port PORT`` process for one test.

    Attributes:
        path: The server's database folder (kept across :meth:`stop` / :meth:`start`).
        host: Always ``127.0.0.1``.
        port: The port it listens on (a new free one on ``start(new_port=True)``).
        proc: The process while it runs, else ``None``.
        log: File with the server's output (quoted when it fails to start).

    """

    host = "127.0.0.1"

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = Path(path)
        self.port = port or free_port(self.host)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.path.parent / f"{self.path.name}.log"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def start(self, *, new_port: bool = False, timeout_s: float = 60.0) -> ChromaServer:
        """Start the server (on a fresh port if asked) and wait until its heartbeat answers."""
        if self.running:
            raise RuntimeError(f"chroma server already running on port {self.port}")
        if new_port:
            self.port = free_port(self.host)
        self.path.mkdir(parents=True, exist_ok=True)
        command = [chroma_executable(), "run", "--path", str(self.path)]
        command += ["--host", self.host, "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"chroma run exited with {self.proc.returncode}: {self._log_tail()}"
                )
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(
            f"chroma run did not answer on {self.url} in {timeout_s} s: {self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop it gracefully (SIGTERM), or kill it if it does not exit in ``timeout_s``."""
        self._signal(signal.SIGTERM)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """Kill it at once (SIGKILL), as a crash would."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def client(self, **kwargs: Any) -> Any:
        """A new ``chromadb.HttpClient`` for this server."""
        import chromadb

        return chromadb.HttpClient(host=self.host, port=self.port, **kwargs)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A running ``chroma run`` on 127.0.0.1 with its database in ``tmp_path``; stopped after."""
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()
