"""Issue 11 item 5: after a crash, every state says what happened and the command that helps.

Before: killed between the renames, the collection "does not exist" and ``--undo`` said nothing
was pending; killed during the copy, ``--undo`` said there was nothing to undo and never
mentioned the staging copy; ``--drop-old`` suggested an ``--undo`` that then failed. Now each
state the journal can be in maps to one message and one complete command (with the connection
options), ``autoembed swap --status`` prints it, and these tests *run* the command it gives.
"""

from __future__ import annotations

import json
import shlex

import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import get_record  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.errors import SwapError  # noqa: E402
from autoembedding.swap import (  # noqa: E402
    K_PHASE,
    STATES,
    staging_name,
    swap,
    swap_status,
    undo_swap,
)

N = 40


class _Crash(BaseException):
    """A SIGKILL stand-in: nothing after it runs."""


def fill(client, n: int = N):
    ids = [f"id-{i:03d}" for i in range(n)]
    docs = [f"doc {i} on topic{i % 4}" for i in range(n)]
    col = client.create_collection(
        "docs", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    col.add(ids=ids, documents=docs, embeddings=FakeAdapter("old", dim=16).embed_documents(docs))


class Wrapped:
    """A client whose collections' ``modify`` goes through ``hook(inner, kwargs)``."""

    def __init__(self, client, hook) -> None:
        self._client, self._hook = client, hook

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_collection(self, name, **kw):
        return _Col(self._client.get_collection(name, **kw), self._hook)

    def get_or_create_collection(self, name, **kw):
        return _Col(self._client.get_or_create_collection(name, **kw), self._hook)


class _Col:
    def __init__(self, inner, hook) -> None:
        self._inner, self._hook = inner, hook

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def modify(self, **kw):
        self._hook(kw)
        return self._inner.modify(**kw)


def crash_in_switch(client, step: int) -> None:
    """Stop a swap to fake/new after ``step`` of the switch's modify calls."""
    seen = {"n": 0}

    def hook(kw):
        if (kw.get("metadata") or {}).get(K_PHASE) == "switching" or seen["n"]:
            seen["n"] += 1
            if seen["n"] > step:
                raise _Crash()

    with pytest.raises(_Crash):
        swap("docs", FakeAdapter("new"), client=Wrapped(client, hook), page_size=8, progress=False)


def crash_in_copy(client) -> None:
    with pytest.raises(SwapError):
        swap(
            "docs",
            FakeAdapter("new", fail_after_calls=2),
            client=client,
            page_size=8,
            progress=False,
        )


def crash_before_verified(client) -> None:
    """The copy is done (5 pages) and the verification's sample fails to embed."""
    with pytest.raises(SwapError):
        swap(
            "docs",
            FakeAdapter("new", fail_after_calls=5),
            client=client,
            page_size=8,
            progress=False,
        )


def run_command(command: str) -> int:
    words = shlex.split(command)
    assert words[:2] == ["autoembed", "swap"], command
    return main(words[1:])


def names(client) -> set[str]:
    return {c.name for c in client.list_collections() if "__swapsync_" not in c.name}


def assert_swapped_to_new(client) -> None:
    col = client.get_collection("docs")
    assert get_record(col).model_id == "fake/new" and col.count() == N
    assert swap_status("docs", client=client).state == "swapped"


def assert_original(client) -> None:
    col = client.get_collection("docs")
    assert get_record(col) is None and col.count() == N
    assert names(client) == {"docs"} or all(not n.startswith("docs__swap_") for n in names(client))


@pytest.mark.parametrize(
    ("stop", "state", "says"),
    [
        (lambda c: crash_in_copy(c), "copying", "was stopped while copying: 16 of 40 records"),
        (crash_before_verified, "verifying", "stopped before it was verified"),
        (lambda c: crash_in_switch(c, 1), "switch-started", "nothing was renamed"),
        (lambda c: crash_in_switch(c, 2), "between-renames", "stopped between its two renames"),
        (lambda c: crash_in_switch(c, 3), "switch-unfinished", "renamed both collections"),
    ],
)
def test_each_interrupted_state_names_the_command_that_finishes_it(
    chroma_client, chroma_path, capsys, stop, state, says
):
    fill(chroma_client)
    stop(chroma_client)
    status = swap_status("docs", client=chroma_client)
    assert (status.state, status.model) == (state, "fake/new")
    assert says in status.message
    want = f"autoembed swap --chroma-path {chroma_path} --collection docs --model fake/new"
    assert status.command == want and want in status.message
    # The CLI prints the same message, with the options the user typed.
    assert main(["swap", "--status", "docs", "--chroma-path", str(chroma_path)]) == 0
    assert says in capsys.readouterr().out
    assert run_command(status.command) == 0  # the command it gives finishes the swap
    assert_swapped_to_new(chroma_client)


@pytest.mark.parametrize(
    "stop",
    [
        crash_in_copy,
        crash_before_verified,
        lambda c: crash_in_switch(c, 1),
        lambda c: crash_in_switch(c, 2),
    ],
    ids=["copying", "verifying", "switch-started", "between-renames"],
)
def test_undo_before_the_switch_finished_abandons_the_swap(
    chroma_client, chroma_path, capsys, stop
):
    fill(chroma_client)
    stop(chroma_client)
    staging = staging_name("docs", FakeAdapter("new").record())
    assert staging in names(chroma_client)
    assert main(["swap", "--undo", "--collection", "docs", "--chroma-path", str(chroma_path)]) == 0
    out = capsys.readouterr().out
    assert "had not switched" in out and staging in out  # it says what it removed
    assert_original(chroma_client)
    assert staging not in names(chroma_client)
    assert swap_status("docs", client=chroma_client).state == "idle"


def test_killed_between_the_renames_the_missing_collection_explains_itself(chroma_client):
    fill(chroma_client)
    crash_in_switch(chroma_client, 2)
    assert "docs" not in names(chroma_client)
    with pytest.raises(SwapError, match="stopped between its two renames") as info:
        swap("docs", FakeAdapter("other", dim=8), client=chroma_client, progress=False)
    assert "--model fake/new" in str(info.value)  # the swap that would finish it


def test_leftover_staging_with_no_source(chroma_client, chroma_path):
    fill(chroma_client)
    crash_in_copy(chroma_client)
    chroma_client.delete_collection("docs")
    status = swap_status("docs", client=chroma_client)
    assert status.state == "leftover-staging"
    assert status.command == (
        f"autoembed swap --chroma-path {chroma_path} --collection docs --drop-staging"
    )
    with pytest.raises(SwapError, match="--drop-staging"):
        undo_swap("docs", client=chroma_client)
    assert run_command(status.command) == 0
    assert names(chroma_client) == set()
    assert swap_status("docs", client=chroma_client).state == "absent"


def test_an_interrupted_undo_is_named_and_finished_by_its_command(chroma_client):
    fill(chroma_client)
    swap("docs", FakeAdapter("new"), client=chroma_client, progress=False)
    seen = {"n": 0}

    def hook(kw):
        seen["n"] += 1
        if seen["n"] > 2:  # after marking and moving the swapped copy aside
            raise _Crash()

    with pytest.raises(_Crash):
        undo_swap("docs", client=Wrapped(chroma_client, hook))
    status = swap_status("docs", client=chroma_client)
    assert status.state == "undo-interrupted" and "was interrupted" in status.message
    assert status.command.endswith("--collection docs --undo")
    assert run_command(status.command) == 0
    assert_original(chroma_client)


def test_drop_old_never_suggests_an_undo_that_fails(chroma_client, chroma_path, capsys):
    fill(chroma_client)
    args = ["swap", "--collection", "docs", "--chroma-path", str(chroma_path)]
    assert main([*args, "--model", "fake/new", "--drop-old", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "--undo" not in out and "cannot be undone" in out
    status = swap_status("docs", client=chroma_client)
    assert status.state == "idle" and status.command is None
    assert main([*args, "--undo"]) == 1
    assert "nothing to undo" in capsys.readouterr().err


def test_status_of_a_finished_swap_and_json(chroma_client, chroma_path, capsys):
    fill(chroma_client)
    result = swap("docs", FakeAdapter("new"), client=chroma_client, progress=False)
    status = swap_status("docs", client=chroma_client)
    assert (status.state, status.backup) == ("swapped", result.backup)
    assert status.command.endswith("--collection docs --sync")
    assert "--undo" in status.message
    args = ["swap", "--status", "--collection", "docs", "--chroma-path", str(chroma_path)]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "swapped" and data["backup"] == result.backup
    assert set(data) >= {"name", "state", "message", "command", "model", "staging", "backup"}


def test_old_swaps_that_dropped_their_backup_say_so(chroma_client):
    fill(chroma_client)
    swap("docs", FakeAdapter("new"), client=chroma_client, progress=False)
    col = chroma_client.get_collection("docs")
    backup = col.metadata["autoembedding:swap_backup"]
    chroma_client.delete_collection(backup)  # what --drop-old did before this fix
    status = swap_status("docs", client=chroma_client)
    assert status.state == "swapped-backup-dropped" and "cannot be undone" in status.message
    with pytest.raises(SwapError, match="no longer exists"):
        undo_swap("docs", client=chroma_client)


def test_absent_and_idle(chroma_client):
    assert swap_status("docs", client=chroma_client).state == "absent"
    fill(chroma_client)
    assert swap_status("docs", client=chroma_client).state == "idle"
    assert set(STATES) >= {"absent", "idle", "copying", "between-renames", "swapped"}


def test_server_commands_quote_host_and_port():
    from autoembedding.swap.status import connection_flags

    class Settings:
        is_persistent = False
        chroma_server_host = "10.0.0.5"
        chroma_server_http_port = 8123
        chroma_server_ssl_enabled = False

    class Client:
        def get_settings(self):
            return Settings()

    assert connection_flags(Client()) == "--chroma-host 10.0.0.5 --chroma-port 8123"
    Settings.chroma_server_ssl_enabled = True
    assert connection_flags(Client()) == "--chroma-url https://10.0.0.5:8123"
