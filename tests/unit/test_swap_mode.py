"""Retrieval-mode swaps (to BM25, to a hybrid, back to dense) on FakeAdapter collections.

Every test runs on a real embedded Chroma in tmp_path (the ``chroma_client`` fixture) and builds
real BM25 indexes (the ``[lexical]`` extra).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("chromadb")
pytest.importorskip("bm25s")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.candidates import Candidate, CandidateResult  # noqa: E402
from autoembedding.chroma.records import read_record  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.errors import (  # noqa: E402
    CollectionError,
    InvalidArgumentError,
    SwapError,
    UnknownModelError,
)
from autoembedding.integrations.chroma import get_or_create_collection  # noqa: E402
from autoembedding.retrieval.store import index_folder, open_index  # noqa: E402
from autoembedding.swap import swap, swap_status, undo_swap  # noqa: E402
from autoembedding.swap.journal import K_MODE_PHASE, MODE_KEYS  # noqa: E402
from autoembedding.swap.undo import undo  # noqa: E402

N = 30
TOPICS = ["cats chasing mice", "dogs running in parks", "birds singing songs", "fish swimming"]


def docs(n: int = N) -> tuple[list[str], list[str]]:
    ids = [f"d{i:03d}" for i in range(n)]
    texts = [f"Document {i} is about {TOPICS[i % 4]} and the number{i}." for i in range(n)]
    return ids, texts


def fill(client, name: str = "docs", model: str = "fake/old", n: int = N):
    col = get_or_create_collection(client, name, model=model)
    ids, texts = docs(n)
    col.add(ids=ids, documents=texts)
    return client.get_collection(name)


def vectors(col) -> dict[str, np.ndarray]:
    got = col.get(include=["embeddings"])
    return {i: np.asarray(v) for i, v in zip(got["ids"], got["embeddings"], strict=True)}


def names(client) -> set[str]:
    every = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    return {n for n in every if "__swapsync_" not in n}


def no_mode_marks(col) -> bool:
    return not any(k in (col.metadata or {}) for k in MODE_KEYS)


class _Kill(BaseException):
    """A simulated kill (not an Exception: nothing may catch it)."""


# ---------------------------------------------------------------------------- lexical
def test_bm25_keeps_the_vectors_builds_the_index_and_undo_drops_it(chroma_client):
    col = fill(chroma_client)
    before = vectors(col)
    result = swap("docs", "bm25", client=chroma_client, progress=False)
    assert result.mode_swap and result.retrieval == "lexical" and result.tokenizer == "en"
    assert result.embedded == 0 and result.backup is None
    assert result.index_docs == N and result.index_bytes and result.index_bytes > 0
    assert result.index_s is not None and "detected" in " ".join(result.notes)
    assert "bm25 (en tokens)" in result.summary() and "--undo" in result.summary()
    live = chroma_client.get_collection("docs")
    record = read_record(live)
    assert record is not None and record.retrieval == "lexical" and record.tokenizer == "en"
    assert record.model_id == "fake/old"  # new documents are still embedded with it
    assert names(chroma_client) == {"docs"}  # nothing re-embedded, no copy
    assert all(np.allclose(before[i], v) for i, v in vectors(live).items())
    folder = index_folder(live, client=chroma_client)
    assert folder.is_dir()
    index = open_index(live, "en", client=chroma_client)  # fresh: no rebuild warning
    assert index.search("which dogs are running?", k=1)[0][0] in {f"d{i:03d}" for i in (1, 5, 9)}
    assert swap_status("docs", client=chroma_client).state == "mode-swapped"

    again = swap("docs", "bm25", client=chroma_client, progress=False)
    assert again.already_done and again.index_docs == N

    message = undo("docs", client=chroma_client).message
    assert "Restored 'docs' to fake/old" in message and "dropped" in message
    live = chroma_client.get_collection("docs")
    assert read_record(live).retrieval == "dense" and no_mode_marks(live)
    assert not folder.exists()
    with pytest.raises(SwapError, match="nothing to undo"):
        undo_swap("docs", client=chroma_client)


def test_a_forced_language_is_used_and_adds_still_embed_with_the_recorded_model(chroma_client):
    fill(chroma_client)
    result = swap("docs", "bm25:zh", client=chroma_client, progress=False)
    assert result.tokenizer == "zh" and not result.notes
    # Reopened with no model, the guarded collection embeds with the recorded dense model.
    col = get_or_create_collection(chroma_client, "docs")
    col.add(ids=["new"], documents=["cats and dogs 猫和狗"])
    stored = chroma_client.get_collection("docs").get(ids=["new"], include=["embeddings"])
    expected = FakeAdapter("old").embed_documents(["cats and dogs 猫和狗"])[0]
    np.testing.assert_allclose(stored["embeddings"][0], expected, atol=1e-5)
    # and the old model may still be named explicitly (the record's mode is no mismatch)
    get_or_create_collection(chroma_client, "docs", model="fake/old")


def test_a_dense_label_switches_back_to_dense_and_undo_restores_bm25(chroma_client):
    fill(chroma_client)
    swap("docs", "bm25:en", client=chroma_client, progress=False)
    live = chroma_client.get_collection("docs")
    folder = index_folder(live, client=chroma_client)
    back = swap("docs", "fake/old", client=chroma_client, progress=False)
    assert back.mode_swap and back.retrieval == "dense" and back.embedded == 0
    assert read_record(chroma_client.get_collection("docs")).retrieval == "dense"
    assert not folder.exists() and names(chroma_client) == {"docs"}
    assert "Restored 'docs' to bm25" in undo("docs", client=chroma_client).message
    assert read_record(chroma_client.get_collection("docs")).tokenizer == "en"
    assert folder.is_dir()


# ---------------------------------------------------------------------------- hybrid
def test_hybrid_of_the_recorded_model_reembeds_nothing(chroma_client):
    col = fill(chroma_client)
    before = vectors(col)
    result = swap("docs", "hybrid:fake/old+bm25", client=chroma_client, progress=False)
    assert result.retrieval == "hybrid" and result.fusion == "convex"
    assert result.fusion_weight == 0.5 and any("default 0.5" in n for n in result.notes)
    assert result.embedded == 0 and names(chroma_client) == {"docs"}
    live = chroma_client.get_collection("docs")
    assert all(np.allclose(before[i], v) for i, v in vectors(live).items())
    rrf = swap("docs", "hybrid-rrf:fake/old+bm25:en", client=chroma_client, progress=False)
    record = read_record(chroma_client.get_collection("docs"))
    assert rrf.fusion == "rrf" and record.fusion == "rrf" and record.rrf_k == 60
    assert record.fusion_weight is None
    weighted = swap(
        "docs", "hybrid:fake/old+bm25", client=chroma_client, fusion_weight=0.25, progress=False
    )
    assert weighted.fusion_weight == 0.25
    assert read_record(chroma_client.get_collection("docs")).fusion_weight == 0.25
    # Three mode swaps, three undos, back to where it began.
    for expected in ("rrf", "convex", "dense"):
        undo("docs", client=chroma_client)
        record = read_record(chroma_client.get_collection("docs"))
        assert (record.fusion or record.retrieval) == expected
    assert no_mode_marks(chroma_client.get_collection("docs"))


def test_a_probe_result_gives_the_convex_weight_and_the_tokenizer(chroma_client):
    fill(chroma_client)
    probed = CandidateResult(
        candidate=Candidate.parse("hybrid:fake/old+bm25"),
        lexical={"kind": "hybrid", "weight": 0.7, "tokenizer": "und"},
    )
    result = swap("docs", probed, client=chroma_client, progress=False)
    assert result.fusion_weight == 0.7 and result.tokenizer == "und"
    assert any("probe" in n for n in result.notes)


def test_hybrid_of_another_model_reembeds_then_indexes_and_undo_undoes_both(chroma_client):
    col = fill(chroma_client)
    before = vectors(col)
    old_id = col.id
    result = swap("docs", "hybrid:fake/new+bm25:en", client=chroma_client, progress=False)
    assert result.embedded == N and result.backup and result.retrieval == "hybrid"
    live = chroma_client.get_collection("docs")
    assert live.id != old_id
    record = read_record(live)
    assert record.model_id == "fake/new" and record.retrieval == "hybrid"
    _, texts = docs()
    new = FakeAdapter("new").embed_documents(texts)
    got = vectors(live)
    assert all(np.allclose(got[f"d{i:03d}"], new[i], atol=1e-5) for i in range(N))
    folder = index_folder(live, client=chroma_client)
    assert folder.is_dir()
    assert no_mode_marks(chroma_client.get_collection(result.backup))  # the mark was cleared
    status = swap_status("docs", client=chroma_client)
    assert status.state == "mode-swapped" and result.backup in status.message
    assert status.retrieval == "hybrid"

    message = undo("docs", client=chroma_client).message
    assert "Restored the original 'docs'" in message and "dropped" in message
    live = chroma_client.get_collection("docs")
    assert live.id == old_id and read_record(live).model_id == "fake/old"
    assert read_record(live).retrieval == "dense" and no_mode_marks(live)
    assert all(np.allclose(before[i], v) for i, v in vectors(live).items())
    assert not folder.exists()


# ---------------------------------------------------------------------------- crashes
def test_a_kill_while_indexing_is_finished_by_the_rerun(chroma_client, monkeypatch):
    fill(chroma_client)
    import autoembedding.retrieval.store as store

    real = store.build_index

    def killed(*args, **kwargs):
        raise _Kill()

    monkeypatch.setattr(store, "build_index", killed)
    with pytest.raises(_Kill):
        swap("docs", "hybrid:fake/old+bm25", client=chroma_client, fusion_weight=0.4)
    live = chroma_client.get_collection("docs")
    assert read_record(live).retrieval == "dense"  # not written before the index is saved
    status = swap_status("docs", client=chroma_client)
    assert status.state == "mode-indexing"
    assert "--model hybrid:fake/old+bm25 --fusion-weight 0.4" in status.command
    monkeypatch.setattr(store, "build_index", real)
    result = swap("docs", "hybrid:fake/old+bm25", client=chroma_client, fusion_weight=0.4)
    assert result.fusion_weight == 0.4 and not result.already_done
    live = chroma_client.get_collection("docs")
    assert read_record(live).retrieval == "hybrid" and K_MODE_PHASE not in live.metadata
    assert swap(
        "docs", "hybrid:fake/old+bm25", client=chroma_client, fusion_weight=0.4
    ).already_done
    undo("docs", client=chroma_client)  # one swap in the history, not two
    assert read_record(chroma_client.get_collection("docs")).retrieval == "dense"
    with pytest.raises(SwapError, match="nothing to undo"):
        undo("docs", client=chroma_client)


def test_a_kill_after_a_hybrids_reembedding_keeps_its_undo(chroma_client, monkeypatch):
    col = fill(chroma_client)
    old_id = col.id
    import autoembedding.retrieval.store as store

    real = store.build_index
    monkeypatch.setattr(store, "build_index", lambda *a, **k: (_ for _ in ()).throw(_Kill()))
    with pytest.raises(_Kill):
        swap("docs", "hybrid:fake/new+bm25", client=chroma_client, progress=False)
    assert read_record(chroma_client.get_collection("docs")).model_id == "fake/new"
    status = swap_status("docs", client=chroma_client)
    assert status.state == "mode-indexing" and "--model hybrid:fake/new+bm25" in status.command
    monkeypatch.setattr(store, "build_index", real)
    result = swap("docs", "hybrid:fake/new+bm25", client=chroma_client, progress=False)
    assert result.embedded == 0 and result.retrieval == "hybrid"
    undo("docs", client=chroma_client)  # the dense swap is undone too
    live = chroma_client.get_collection("docs")
    assert live.id == old_id and read_record(live).model_id == "fake/old" and no_mode_marks(live)


def test_a_failure_during_a_hybrids_copy_resumes_with_the_hybrid_label(chroma_client):
    fill(chroma_client)
    label = "hybrid-rrf:fake/new+bm25"
    failing = {"page_size": 5, "fail_after_calls": 2, "progress": False}
    with pytest.raises(SwapError):
        swap("docs", label, client=chroma_client, **failing)
    status = swap_status("docs", client=chroma_client)
    assert status.state == "copying" and status.offset == 10
    assert f"--model {label}" in status.command
    with pytest.raises(SwapError):  # the rerun resumes the copy (and fails again, 2 pages on)
        swap("docs", label, client=chroma_client, **failing)
    assert swap_status("docs", client=chroma_client).offset == 20
    result = swap("docs", label, client=chroma_client, page_size=5, progress=False)
    assert result.fusion == "rrf" and result.backup
    assert read_record(chroma_client.get_collection("docs")).retrieval == "hybrid"


def test_undo_abandons_a_hybrids_unfinished_copy_and_clears_its_mark(chroma_client):
    fill(chroma_client)
    with pytest.raises(SwapError):
        swap("docs", "hybrid:fake/new+bm25", client=chroma_client, page_size=5,
             fail_after_calls=2, progress=False)  # fmt: skip
    message = undo("docs", client=chroma_client).message
    assert "had not switched" in message
    live = chroma_client.get_collection("docs")
    assert names(chroma_client) == {"docs"} and no_mode_marks(live)
    assert read_record(live).model_id == "fake/old"


# ---------------------------------------------------------------------------- bad input
def test_bad_labels_fail_before_anything_changes(chroma_client):
    fill(chroma_client)
    with pytest.raises(InvalidArgumentError, match=r"Unknown language 'xx'.*en.*zh.*words:"):
        swap("docs", "bm25:xx", client=chroma_client)
    with pytest.raises(UnknownModelError):
        swap("docs", "hybrid:nosuchmodel+bm25", client=chroma_client)
    with pytest.raises(InvalidArgumentError, match="hybrid:<dense label>\\+bm25"):
        swap("docs", "hybrid:fake/old", client=chroma_client)
    with pytest.raises(InvalidArgumentError, match="has none"):
        swap("docs", "bm25", client=chroma_client, fusion_weight=0.3)
    with pytest.raises(InvalidArgumentError, match="fusion_weight"):
        swap("docs", "hybrid:fake/old+bm25", client=chroma_client, fusion_weight=1.5)
    live = chroma_client.get_collection("docs")
    assert read_record(live).retrieval == "dense" and no_mode_marks(live)
    assert names(chroma_client) == {"docs"}
    assert swap("docs", "bm25:vi", client=chroma_client).tokenizer == "words:vi"  # a real code


def test_a_collection_without_a_record_says_what_to_do(chroma_client):
    col = chroma_client.create_collection("plain", embedding_function=None)
    col.add(ids=["a"], documents=["a cat"], embeddings=[[0.1, 0.2, 0.3]])
    with pytest.raises(CollectionError, match="records no model.*--model <id>"):
        swap("plain", "bm25", client=chroma_client)


# ---------------------------------------------------------------------------- CLI
def test_cli_swaps_to_bm25_shows_the_status_and_undoes(chroma_client, chroma_path, capsys):
    fill(chroma_client)
    base = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs"]
    assert main([*base, "--model", "bm25:en", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["retrieval"] == "lexical" and data["tokenizer"] == "en"
    assert data["index_docs"] == N and data["index_s"] >= 0 and data["index_bytes"] > 0
    assert data["record"]["retrieval"] == "lexical" and "bm25" in data["summary"]

    assert main([*base, "--status", "--json", "-"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["state"] == "mode-swapped" and state["retrieval"] == "lexical"
    assert main([*base, "--status"]) == 0
    assert "retrieval lexical" in capsys.readouterr().out

    assert main([*base, "--model", "hybrid:fake/old+bm25", "--fusion-weight", "0.25"]) == 0
    assert "convex w=0.25" in capsys.readouterr().out
    assert main([*base, "--undo"]) == 0
    assert "Restored 'docs' to bm25" in capsys.readouterr().out
    assert main([*base, "--undo"]) == 0
    assert "Restored 'docs' to fake/old" in capsys.readouterr().out
    assert main([*base, "--status", "--json", "-"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["state"] == "idle" and state["retrieval"] == "dense"


def test_cli_writes_json_to_a_file_and_refuses_bad_input(
    chroma_client, chroma_path, capsys, tmp_path
):
    fill(chroma_client)
    base = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs"]
    out = tmp_path / "out" / "swap.json"
    assert main([*base, "--model", "hybrid-rrf:fake/old+bm25", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["fusion"] == "rrf"
    capsys.readouterr()
    assert main([*base, "--model", "bm25:xx"]) == 2
    err = capsys.readouterr().err
    assert "Unknown language 'xx'" in err and "words:<code>" in err
    assert main([*base, "--undo", "--fusion-weight", "0.3"]) == 2
    assert "--fusion-weight goes with" in capsys.readouterr().err
    assert main([*base, "--model", "hybrid:fake/old+bm25", "--fusion-weight", "2"]) == 2
    assert main([*base, "--model", "hybrid:nosuchmodel+bm25"]) == 1
    assert "nosuchmodel" in capsys.readouterr().err


def test_undo_of_a_hybrid_whose_original_was_dropped_restores_only_the_record(chroma_client):
    fill(chroma_client)
    result = swap("docs", "hybrid:fake/new+bm25", client=chroma_client, drop_old=True)
    assert result.backup is None and result.embedded == N
    message = undo("docs", client=chroma_client).message
    assert "cannot be undone" in message
    record = read_record(chroma_client.get_collection("docs"))
    assert record.model_id == "fake/new" and record.retrieval == "dense"


def test_sync_after_a_hybrid_swap_indexes_the_carried_writes(chroma_client):
    import warnings

    from autoembedding.errors import LexicalIndexWarning
    from autoembedding.swap import sync_swap

    fill(chroma_client)
    old_handle = chroma_client.get_collection("docs")  # an app's handle from before the swap
    result = swap("docs", "hybrid:fake/new+bm25:en", client=chroma_client, progress=False)
    vector = FakeAdapter("old").embed_documents(["a zebra on the savanna"])[0]
    old_handle.add(ids=["late"], documents=["a zebra on the savanna"], embeddings=[vector])
    assert chroma_client.get_collection(result.backup).count() == N + 1  # stranded there
    synced = sync_swap("docs", client=chroma_client)
    assert synced.carried == 1
    live = chroma_client.get_collection("docs")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LexicalIndexWarning)  # indexed by the sync, not stale
        index = open_index(live, "en", client=chroma_client)
    assert index.count == N + 1 and index.search("zebra")[0][0] == "late"
