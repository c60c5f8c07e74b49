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
from autoembedding.selector.swapping import swap, swap_status  # noqa: E402

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
