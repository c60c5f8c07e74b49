"""Issue 24 items 2, 4 and 10: what ``autoembed swap`` says is true, and every state ends.

Item 4, messages that were false (each reproduced with the CLI on fake models):

* ``--undo`` of a hybrid that re-embedded said "Restored 'docs' to <the hybrid's dense model>"
  while it put back the original (another model);
* ``--status`` after such a swap said "before that swap it served <the hybrid's dense model>";
* a swap to the model already recorded said "The original was dropped, so this swap cannot be
  undone" (nothing was swapped, nothing dropped); a BM25 swap after a dense swap said it had
  "re-embedded 0 docs ... original kept as" (it re-embeds nothing);
* ``--status`` after a failed verification said "stopped before it was verified ... Resume it"
  (a rerun verifies the same copy again).

Every test runs on a real embedded Chroma in tmp_path with fake models.
"""

from __future__ import annotations

import json
import os
import shlex

import numpy as np
import pytest

pytest.importorskip("chromadb")
pytest.importorskip("bm25s")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import read_record  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.errors import SwapError  # noqa: E402
from autoembedding.integrations.chroma import get_or_create_collection  # noqa: E402
from autoembedding.swap import swap, swap_status, undo_swap  # noqa: E402

N = 12


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Swap locks in the test's folder."""
    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(tmp_path / "cache"))


def fill(client, name: str = "docs", model: str = "fake/old"):
    col = get_or_create_collection(client, name, model=model)
    col.add(
        ids=[f"d{i:02d}" for i in range(N)],
        documents=[f"document {i} about cats and dogs, number{i}" for i in range(N)],
    )
    return client.get_collection(name)


def names(client) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


def run_command(command: str) -> int:
    """Run an ``autoembed ...`` command line the way a user would paste it."""
    argv = shlex.split(command)
    assert argv[0] == "autoembed", command
    return main(argv[1:])


@pytest.fixture
def cli(chroma_path, capsys):
    """``cli(*args)`` -> (exit code, stdout, stderr) of ``autoembed swap`` on 'docs'."""
    base = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs"]

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*base, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


class Drifting(FakeAdapter):
    """A model that never gives the same vector twice (verification must fail)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    def embed_documents(self, texts):
        self.calls += 1
        vectors = np.asarray(super().embed_documents(texts))
        noise = np.random.default_rng(self.calls).normal(size=vectors.shape)
        return (vectors + noise).tolist()


# ---------------------------------------------------------------------------- item 4
def test_undo_and_status_of_a_reembedding_hybrid_name_the_original_model(chroma_client, cli):
    fill(chroma_client)
    assert cli("--model", "hybrid:fake/new+bm25", "--no-progress")[0] == 0

    code, out, _ = cli("--status")
    assert code == 0
    assert "before that swap it served fake/old" in out  # was: "... it served fake/new"
    assert "before that swap it served fake/new" not in out

    code, out, _ = cli("--undo")
    assert code == 0
    assert "Restored the original 'docs', which serves fake/old" in out
    assert "Restored 'docs' to fake/new" not in out  # the hybrid's dense model was not restored
    assert "Undid the swap of 'docs' to hybrid of fake/new" in out
    assert read_record(chroma_client.get_collection("docs")).model_id == "fake/old"


def test_a_swap_to_the_recorded_model_is_a_no_op_and_says_so(chroma_client, cli):
    fill(chroma_client)
    code, out, _ = cli("--model", "fake/old")
    assert code == 0 and "already holds fake/old" in out and "nothing to do" in out
    assert "cannot be undone" not in out and "dropped" not in out and "--undo" not in out
    assert names(chroma_client) == {"docs"}

    assert cli("--model", "fake/new", "--no-progress")[0] == 0
    code, out, _ = cli("--model", "fake/new", "--json", "-")
    data = json.loads(out)
    assert data["already_done"] and data["embedded"] == 0
    assert "earlier swap's original is kept as" in data["summary"]  # the undo is of that swap
    assert "cannot be undone" not in data["summary"]


def test_a_bm25_swap_after_a_dense_swap_does_not_claim_a_reembedding(chroma_client, cli):
    fill(chroma_client)
    assert cli("--model", "fake/new", "--no-progress")[0] == 0
    code, out, _ = cli("--model", "bm25", "--no-progress")
    assert code == 0 and "no re-embedding (the vectors of fake/new stay)" in out
    assert "re-embedded" not in out and "original kept as" not in out


def test_a_failed_verification_says_so_and_its_command_removes_the_copy(chroma_client, cli):
    col = fill(chroma_client)
    before = col.get(include=["embeddings"])
    with pytest.raises(SwapError, match="Verification failed") as caught:
        swap("docs", Drifting("new", dim=16), client=chroma_client, progress=False)
    message = str(caught.value)
    assert "Nothing was renamed" in message and "--drop-staging" in message

    code, out, _ = cli("--status", "--json", "-")
    state = json.loads(out)
    assert code == 0 and state["state"] == "verify-failed"
    assert "verification of the copy failed: the stored vector of" in state["message"]
    assert "stopped before it was verified" not in state["message"]  # was: "... Resume it"
    assert "Resume it" not in state["message"]
    assert state["command"].endswith("--drop-staging")

    assert run_command(state["command"]) == 0
    assert swap_status("docs", client=chroma_client).state == "idle"
    assert names(chroma_client) == {"docs"}
    after = chroma_client.get_collection("docs").get(include=["embeddings"])
    assert np.array_equal(np.asarray(after["embeddings"]), np.asarray(before["embeddings"]))


# ---------------------------------------------------------------------------- item 2
class _Crash(BaseException):
    """A SIGKILL stand-in: nothing after it runs."""


from tests.unit.test_swap_status import Wrapped  # noqa: E402  # modify goes through a hook


def _crash_after_renames(client, renames: int, action) -> None:
    """Run ``action(wrapped_client)`` and stop it before its rename number ``renames + 1``."""
    seen = {"n": 0}

    def hook(kw):
        if "name" in kw:
            seen["n"] += 1
            if seen["n"] > renames:
                raise _Crash()

    with pytest.raises(_Crash):
        action(Wrapped(client, hook))


def _stop_switch(client, renames: int) -> None:
    _crash_after_renames(
        client, renames, lambda c: swap("docs", "fake/new", client=c, progress=False)
    )


def _stop_switch_before_journal_cleared(client, monkeypatch) -> None:
    import autoembedding.swap.switch as switch

    real = switch.Journal.write

    def write(self, collection, changes=None):
        if changes and set(changes) == {switch.K_BACKUP}:  # step 4 of the switch
            raise _Crash()
        return real(self, collection, changes)

    monkeypatch.setattr(switch.Journal, "write", write)
    with pytest.raises(_Crash):
        swap("docs", "fake/new", client=client, progress=False)
    monkeypatch.setattr(switch.Journal, "write", real)


def _fail_copy(client, model: str = "fake/new") -> None:
    with pytest.raises(SwapError):
        swap("docs", model, client=client, page_size=4, fail_after_calls=1, progress=False)


def _fail_verify_embedding(client) -> None:  # 3 pages copied, the sample fails to embed
    with pytest.raises(SwapError):
        swap("docs", "fake/new", client=client, page_size=4, fail_after_calls=3, progress=False)


def _drifting(client) -> None:
    with pytest.raises(SwapError):
        swap("docs", Drifting("new", dim=16), client=client, progress=False)


def _stop_undo(client) -> None:
    swap("docs", "fake/new", client=client, progress=False)
    _crash_after_renames(client, 1, lambda c: undo_swap("docs", client=c))


def _hybrid_marked_only(client) -> None:  # killed after marking, before the copy was created
    _fail_copy(client, "hybrid:fake/new+bm25")
    for name in names(client) - {"docs"}:
        client.delete_collection(name)


def _stop_indexing(client, monkeypatch) -> None:
    import autoembedding.retrieval.store as store

    real = store.build_index
    monkeypatch.setattr(store, "build_index", lambda *a, **k: (_ for _ in ()).throw(_Crash()))
    with pytest.raises(_Crash):
        swap("docs", "bm25", client=client, progress=False)
    monkeypatch.setattr(store, "build_index", real)


def _backup_dropped(client) -> None:  # an older version's --drop-old kept the backup's name
    backup = swap("docs", "fake/new", client=client, progress=False).backup
    client.delete_collection(backup)


def _leftover(client) -> None:
    _fail_copy(client)
    client.delete_collection("docs")


PRODUCERS = {
    "undo-interrupted": _stop_undo,
    "switch-unfinished": _stop_switch_before_journal_cleared,
    "between-renames": lambda c: _stop_switch(c, 1),
    "switch-started": lambda c: _stop_switch(c, 0),
    "leftover-staging": _leftover,
    "copying": _fail_copy,
    "copying (a hybrid's re-embedding)": lambda c: _fail_copy(c, "hybrid:fake/new+bm25"),
    "verify-failed": _drifting,
    "verifying": _fail_verify_embedding,
    "absent": lambda c: c.delete_collection("docs"),
    "mode-pending": _hybrid_marked_only,
    "mode-indexing": _stop_indexing,
    "mode-swapped": lambda c: swap("docs", "bm25", client=c, progress=False),
    "mode-swapped (with a backup)": lambda c: swap(
        "docs", "hybrid:fake/new+bm25", client=c, progress=False
    ),
    "swapped": lambda c: swap("docs", "fake/new", client=c, progress=False),
    "swapped-backup-dropped": _backup_dropped,
    "idle": lambda c: None,
}
#: States with nothing to run: nothing pending, or (running) wait for the process that runs it,
#: or (lost-between-renames: someone deleted the backup by hand) the one Python line to rename.
NO_COMMAND = {"running", "lost-between-renames", "idle", "absent", "swapped-backup-dropped"}
SETTLED = {"idle", "absent", "swapped", "mode-swapped", "swapped-backup-dropped"}


def test_every_state_is_produced_here_or_has_no_command():
    from autoembedding.swap import STATES

    produced = {key.split(" (")[0] for key in PRODUCERS}
    assert set(STATES) <= produced | NO_COMMAND, set(STATES) - produced - NO_COMMAND


@pytest.mark.parametrize("case", list(PRODUCERS))
def test_the_command_status_gives_ends_the_state(case, chroma_client, monkeypatch):
    fill(chroma_client)
    produce = PRODUCERS[case]
    if produce in (_stop_switch_before_journal_cleared, _stop_indexing):
        produce(chroma_client, monkeypatch)
    else:
        produce(chroma_client)
    state = swap_status("docs", client=chroma_client)
    assert state.state == case.split(" (")[0], state.message
    if state.state in NO_COMMAND:
        assert state.command is None
        return
    if state.command is None:  # a settled state with nothing to carry over
        assert state.state in SETTLED
        return
    assert state.command and state.command in state.message
    assert run_command(state.command) == 0, state.command
    after = swap_status("docs", client=chroma_client)
    assert after.state in SETTLED, (state.command, after.message)
    if state.state not in SETTLED:  # it ended: nothing pending, no staging copy left
        assert not any("__swap_" in n for n in names(chroma_client)), names(chroma_client)
        live = chroma_client.get_collection("docs") if after.state != "absent" else None
        assert live is None or not any(
            k.startswith("autoembedding:swap_mode_phase") for k in live.metadata or {}
        )


def test_drop_staging_abandons_a_pending_hybrid(chroma_client, cli):
    fill(chroma_client)
    _fail_copy(chroma_client, "hybrid:fake/new+bm25")
    assert swap_status("docs", client=chroma_client).state == "copying"
    code, out, _ = cli("--drop-staging")
    assert code == 0 and "Now: 'docs' is not being swapped" in out
    state = swap_status("docs", client=chroma_client)
    assert state.state == "idle", state.message  # was: "mode-pending" forever
    live = chroma_client.get_collection("docs")
    assert not any("swap_mode" in k for k in live.metadata or {})
    assert read_record(live).model_id == "fake/old" and names(chroma_client) == {"docs"}


# ---------------------------------------------------------------------------- item 10
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_json_to_a_full_disk_names_the_file_and_says_the_swap_is_done(chroma_client, cli):
    fill(chroma_client)
    code, out, err = cli("--status", "--json", "/dev/full")
    assert code == 1 and out == ""
    assert "Could not write the result to /dev/full: No space left on device (errno 28)" in err
    assert "Nothing was changed" in err and "--json OTHER_FILE" in err
    assert "autoembed swap: error: [Errno 28]" not in err  # was the whole message

    code, out, err = cli("--model", "fake/new", "--json", "/dev/full")
    assert code == 1 and "/dev/full" in err and "errno 28" in err
    assert "The swap itself finished: Swapped 'docs' to fake/new" in err
    assert read_record(chroma_client.get_collection("docs")).model_id == "fake/new"


def test_the_hint_for_a_collection_without_a_record_has_the_location(chroma_client, cli):
    col = chroma_client.create_collection("docs", embedding_function=None)
    col.add(ids=["a"], documents=["a cat"], embeddings=[[0.1, 0.2, 0.3]])
    code, _, err = cli("--model", "bm25")
    assert code == 1 and "records no model" in err
    hints = [h for h in err.split("autoembed swap ")[1:] if "--model" in h]
    assert len(hints) == 2, err
    assert all(h.startswith("--chroma-path ") for h in hints), err  # was: --collection first
    assert "--collection docs --model <id>" in err
    assert "--collection docs --model hybrid:<id>+bm25" in err


def test_a_dense_swap_that_takes_over_a_hybrids_copy_leaves_no_pending_hybrid(chroma_client, cli):
    fill(chroma_client)
    _fail_copy(chroma_client, "hybrid:fake/new+bm25")
    assert cli("--model", "fake/new", "--no-progress")[0] == 0  # the user changed their mind
    state = swap_status("docs", client=chroma_client)
    assert state.state == "swapped", state.message  # was: "mode-indexing" of the hybrid
    assert cli("--undo")[0] == 0
    live = chroma_client.get_collection("docs")
    assert swap_status("docs", client=chroma_client).state == "idle"
    assert not any("swap_mode" in k for k in live.metadata or {})
