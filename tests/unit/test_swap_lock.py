"""Issue 24 item 3: one swap per collection at a time.

Before: two swaps of one collection both ran to the end (to different models the later won and
``--undo`` took the other's copy for "the original"; to the same model they did the work twice,
then one failed on a staging collection the other had renamed). Now a swap, undo, sync or
drop-staging of a collection takes an exclusive ``flock`` keyed by the database and the
collection; a second one, from another process or another thread, is refused at once, naming
the running one and where it stands, and ``--status`` says a swap is running. The lock dies with
its process (``SIGKILL`` included), so no stale lock is ever left to break.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

pytest.importorskip("chromadb")

from autoembedding.chroma.records import read_record  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.integrations.chroma import get_or_create_collection  # noqa: E402
from autoembedding.swap import (  # noqa: E402
    SwapLockedError,
    swap,
    swap_status,
    undo_swap,
)
from autoembedding.swap.lock import lock_path, running_swap  # noqa: E402

N = 12

#: A second process that takes the lock the way a swap does, says so, and waits for stdin.
HOLDER = textwrap.dedent(
    """
    import sys
    from types import SimpleNamespace
    from autoembedding.swap.lock import collection_lock

    class Client:  # where a PersistentClient on sys.argv[1] points, without importing chromadb
        def get_settings(self):
            return SimpleNamespace(is_persistent=True, persist_directory=sys.argv[1])

    with collection_lock(Client(), "docs", "swap"):
        print("held", flush=True)
        sys.stdin.read()
    """
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Lock files in the test's folder (the second process inherits it)."""
    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(tmp_path / "cache"))


def fill(client, name: str = "docs"):
    col = get_or_create_collection(client, name, model="fake/old")
    col.add(ids=[f"d{i}" for i in range(N)], documents=[f"document {i} on cats" for i in range(N)])
    return client.get_collection(name)


def names(client) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


@pytest.fixture
def holder(chroma_path):
    """A second process holding the swap lock of 'docs' in ``chroma_path``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(chroma_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_swap_while_another_process_holds_the_lock_is_refused_at_once(
    chroma_client, chroma_path, holder, capsys
):
    fill(chroma_client)
    before = names(chroma_client)
    with pytest.raises(SwapLockedError) as caught:
        swap("docs", "fake/new", client=chroma_client, progress=False)
    message = str(caught.value)
    assert f"pid {holder.pid}" in message and "is running now" in message
    assert "only one swap, undo or sync of a collection runs at a time" in message
    assert "no stale lock to break" in message and f"kill {holder.pid}" in message
    assert names(chroma_client) == before  # nothing was started
    assert read_record(chroma_client.get_collection("docs")).model_id == "fake/old"

    # the undo, sync and drop-staging of that collection are refused too
    with pytest.raises(SwapLockedError, match="This undo of .docs. was not started"):
        undo_swap("docs", client=chroma_client)
    base = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs"]
    assert main([*base, "--drop-staging"]) == 1
    assert f"pid {holder.pid}" in capsys.readouterr().err

    # --status says a swap is running, who runs it, and gives no command to run meanwhile
    state = swap_status("docs", client=chroma_client)
    assert state.state == "running" and state.command is None
    assert f"pid {holder.pid}" in state.message

    # SIGKILL: the kernel drops the lock with the process; the next swap just runs
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert lock_path(chroma_client, "docs").exists()  # the file is left, the lock is not
    assert running_swap(chroma_client, "docs") is None
    assert swap("docs", "fake/new", client=chroma_client, progress=False).embedded == N


def test_another_collection_or_database_is_not_locked(chroma_client, holder, tmp_path):
    fill(chroma_client, "other")
    assert swap("other", "fake/new", client=chroma_client, progress=False).embedded == N
    import chromadb

    elsewhere = chromadb.PersistentClient(path=str(tmp_path / "db2"))
    fill(elsewhere)
    assert swap("docs", "fake/new", client=elsewhere, progress=False).embedded == N


def test_two_threads_racing_one_runs_the_other_is_refused_with_its_progress(chroma_client):
    fill(chroma_client)
    copying, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def slow(message: str, fraction: float) -> None:  # the first swap waits after a page
        copying.set()
        assert release.wait(10)

    def first() -> None:
        try:
            results["first"] = swap("docs", "fake/new", client=chroma_client, progress=slow,
                                    page_size=4)  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - reported below
            results["first"] = exc

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert copying.wait(10)
        with pytest.raises(SwapLockedError) as caught:
            swap("docs", "fake/other", client=chroma_client, progress=False)
        message = str(caught.value)
        assert f"pid {os.getpid()}" in message
        assert "to fake/new; 4 of 12 records copied to" in message
        assert "'copying'" in message
    finally:
        release.set()
        thread.join(10)
    assert not isinstance(results["first"], BaseException), results["first"]
    assert read_record(chroma_client.get_collection("docs")).model_id == "fake/new"
    # nothing of the refused swap to fake/other was made
    assert not any("__swap_" in n for n in names(chroma_client))


def test_of_threads_that_start_at_once_exactly_one_holds_the_lock(chroma_client):
    from autoembedding.swap.lock import collection_lock

    n = 8
    start, release = threading.Barrier(n), threading.Event()
    held, refused = [], []

    def contend(k: int) -> None:
        start.wait(10)
        try:
            with collection_lock(chroma_client, "docs"):
                held.append(k)
                release.wait(10)
        except SwapLockedError:
            refused.append(k)
            if len(refused) == n - 1:
                release.set()

    threads = [threading.Thread(target=contend, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(held) == 1 and len(refused) == n - 1
    with collection_lock(chroma_client, "docs"):  # released with its holder
        with collection_lock(chroma_client, "docs"):  # and reentrant in one thread
            pass


def test_an_unwritable_user_cache_falls_back_to_the_temporary_folder(
    chroma_client, tmp_path, monkeypatch
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(blocker / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    fill(chroma_client)
    assert swap("docs", "fake/new", client=chroma_client, progress=False).embedded == N
    assert list((tmp_path / "tmp").glob("autoembedding-locks-*/swap-*.lock"))
