"""Unit tests of autoembedding.selector.swap on FakeAdapter and an embedded Chroma in tmp_path."""

from __future__ import annotations

import errno
import threading
import time

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.client import call_with_collection  # noqa: E402
from autoembedding.chroma.records import get_record  # noqa: E402
from autoembedding.cli import main  # noqa: E402
from autoembedding.selector import swap, undo_swap  # noqa: E402
from autoembedding.selector import swap as swap_fn  # noqa: E402
from autoembedding.selector.swapping import (  # noqa: E402
    K_PHASE,
    SwapError,
    backup_name,
    staging_name,
)

N = 120


def make_docs(n: int = N) -> tuple[list[str], list[str], list[dict | None]]:
    ids = [f"id-{i:04d}" for i in range(n)]
    docs = [f"doc {i} about {['cats', 'dogs', 'birds', 'fish'][i % 4]} number{i}" for i in range(n)]
    metas = [{"i": i, "kind": "even"} if i % 2 == 0 else None for i in range(n)]
    return ids, docs, metas


@pytest.fixture()
def client(tmp_path):
    return chromadb.PersistentClient(path=str(tmp_path / "db"))


def fill(client, name: str = "docs", n: int = N, *, space: str = "cosine", legacy: bool = False):
    ids, docs, metas = make_docs(n)
    kwargs = {"embedding_function": None}
    if legacy:
        kwargs["metadata"] = {"hnsw:space": space, "owner": "me"}
    else:
        kwargs["metadata"] = {"owner": "me"}
        kwargs["configuration"] = {"hnsw": {"space": space}}
    col = client.create_collection(name, **kwargs)
    old = FakeAdapter("old", dim=16)
    col.add(ids=ids, documents=docs, metadatas=metas, embeddings=old.embed_documents(docs))
    return col


def names(client) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


def assert_swapped(client, name: str = "docs", n: int = N, model: str = "new", dim: int = 24):
    ids, docs, metas = make_docs(n)
    col = client.get_collection(name)
    assert col.count() == n
    got = col.get(ids=ids, include=["documents", "metadatas", "embeddings"])
    order = {i: k for k, i in enumerate(got["ids"])}
    assert set(got["ids"]) == set(ids)
    expected = FakeAdapter(model, dim=dim).embed_documents(docs)
    for k, i in enumerate(ids):
        j = order[i]
        assert got["documents"][j] == docs[k]
        assert (got["metadatas"][j] or None) == metas[k]
        np.testing.assert_allclose(got["embeddings"][j], expected[k], atol=1e-5)
    record = get_record(col)
    assert record is not None and record.model_id == f"fake/{model}" and record.dim == dim
    assert col.metadata["owner"] == "me"
    assert not any(
        k.startswith("autoembedding:swap_") and k != "autoembedding:swap_backup"
        for k in col.metadata
    )
    return col


def assert_original_intact(col_or_client, name: str = "docs", n: int = N):
    col = (
        col_or_client.get_collection(name)
        if hasattr(col_or_client, "get_collection")
        else (col_or_client)
    )
    ids, docs, metas = make_docs(n)
    got = col.get(ids=ids, include=["documents", "embeddings"])
    assert col.count() == n
    order = {i: k for k, i in enumerate(got["ids"])}
    old = FakeAdapter("old", dim=16).embed_documents(docs)
    for k, i in enumerate(ids):
        np.testing.assert_allclose(got["embeddings"][order[i]], old[k], atol=1e-5)
    assert get_record(col) is None
    assert col.metadata.get("owner") == "me"


def test_selector_exports_the_functions():
    assert callable(swap) and callable(swap_fn) and callable(undo_swap)


def test_swap_moves_every_record_and_keeps_the_original(client):
    fill(client, space="cosine")
    result = swap("docs", FakeAdapter("new", dim=24), client=client, page_size=25, progress=False)
    col = assert_swapped(client)
    assert col.configuration["hnsw"]["space"] == "cosine"
    assert result.docs == N and result.embedded == N and result.resumed_from == 0
    assert result.verified_vectors > 0 and result.docs_per_s > 0
    assert result.backup and result.backup.startswith("docs__backup_")
    assert names(client) == {"docs", result.backup}
    assert_original_intact(client, result.backup)
    assert "docs/s" in result.summary()


def test_swap_keeps_a_legacy_metadata_space(client):
    fill(client, space="ip", legacy=True)
    swap("docs", FakeAdapter("new", dim=24), client=client, page_size=50, progress=False)
    col = client.get_collection("docs")
    assert col.configuration["hnsw"]["space"] == "ip"


def test_swap_writes_truncation_and_precision_into_the_record(client):
    fill(client)
    swap("docs", "fake/new@16:int8", client=client, dim=32, progress=False)
    record = get_record(client.get_collection("docs"))
    assert (record.model_id, record.dim, record.truncate_dim, record.precision) == (
        "fake/new",
        16,
        16,
        "int8",
    )


def test_drop_old_and_rerun_is_a_no_op(client):
    fill(client)
    result = swap("docs", FakeAdapter("new", dim=24), client=client, drop_old=True, progress=False)
    assert result.backup is None and names(client) == {"docs"}
    again = swap("docs", FakeAdapter("new", dim=24), client=client, progress=False)
    assert again.already_done and again.embedded == 0
    assert_swapped(client)


def test_undo_restores_the_original_and_refuses_twice(client):
    fill(client)
    result = swap("docs", FakeAdapter("new", dim=24), client=client, progress=False)
    moved = undo_swap("docs", client=client)
    assert moved.startswith("docs__undone_")
    assert names(client) == {"docs", moved}
    assert_original_intact(client)
    with pytest.raises(SwapError, match="nothing to undo"):
        undo_swap("docs", client=client)
    assert result.backup not in names(client)


def test_model_failing_midway_leaves_a_resumable_state(client):
    fill(client)
    bad = FakeAdapter("new", dim=24, fail_after_calls=3, batch_size=64)
    with pytest.raises(SwapError, match="rerun the same command to resume") as info:
        swap("docs", bad, client=client, page_size=10, progress=False)
    assert "failed on purpose" in str(info.value)
    assert_original_intact(client)
    stage = staging_name("docs", bad.record())
    staged = client.get_collection(stage)
    done = staged.metadata["autoembedding:swap_offset"]
    assert done == 30 and staged.count() == 30  # three pages written, nothing claimed beyond
    good = FakeAdapter("new", dim=24, batch_size=64)
    result = swap("docs", good, client=client, page_size=10, progress=False)
    assert result.resumed_from == 30 and result.embedded == N - 30
    assert good.texts_seen < N + result.verified_vectors + 5
    assert_swapped(client)
    assert stage not in names(client)


class _FlakyCollection:
    """A staging collection whose upsert fails like a full disk after ``ok`` calls."""

    def __init__(self, inner, ok: int) -> None:
        self._inner, self._ok = inner, ok

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def upsert(self, **kwargs):
        if self._ok <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._ok -= 1
        return self._inner.upsert(**kwargs)


class _Client:
    """A client whose collections can be wrapped."""

    def __init__(self, inner, wrap) -> None:
        self._inner, self._wrap = inner, wrap

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def get_collection(self, name, **kw):
        return self._wrap(self._inner.get_collection(name, **kw))

    def get_or_create_collection(self, name, **kw):
        return self._wrap(self._inner.get_or_create_collection(name, **kw))


def test_full_disk_is_reported_and_resumable(client):
    fill(client)
    adapter = FakeAdapter("new", dim=24)
    stage = staging_name("docs", adapter.record())

    def wrap(col):
        return _FlakyCollection(col, ok=2) if col.name == stage else col

    with pytest.raises(SwapError, match="No space left on device") as info:
        swap("docs", adapter, client=_Client(client, wrap), page_size=20, progress=False)
    assert "offset 40" in str(info.value)
    assert_original_intact(client)
    assert client.get_collection(stage).metadata["autoembedding:swap_offset"] == 40
    result = swap("docs", adapter, client=client, page_size=20, progress=False)
    assert result.resumed_from == 40
    assert_swapped(client)


def test_missing_documents_are_refused_with_their_ids(client):
    col = fill(client)
    col.add(ids=["no-doc"], embeddings=[[0.1] * 16])
    with pytest.raises(SwapError, match="no-doc"):
        swap("docs", FakeAdapter("new", dim=24), client=client, progress=False)
    assert client.get_collection("docs").count() == N + 1
    assert get_record(client.get_collection("docs")) is None


class _DupSource:
    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def get(self, **kw):
        got = dict(self._inner.get(**kw))
        if got["ids"]:
            got["ids"] = [got["ids"][0], *got["ids"][:-1]]
        return got


def test_duplicate_ids_are_refused(client):
    fill(client)
    dup_client = _Client(client, lambda c: _DupSource(c) if c.name == "docs" else c)
    with pytest.raises(SwapError, match="Duplicate ids"):
        swap("docs", FakeAdapter("new", dim=24), client=dup_client, progress=False)
    assert_original_intact(client)


def test_long_names_stay_within_chromas_limit(client):
    name = "c" * 500
    fill(client, name=name, n=10)
    record = FakeAdapter("new", dim=24).record()
    assert len(staging_name(name, record)) == 512 and len(backup_name(name)) == 512
    result = swap(name, FakeAdapter("new", dim=24), client=client, progress=False)
    assert len(result.backup) <= 512
    assert_swapped(client, name=name, n=10)
    moved = undo_swap(name, client=client)
    assert len(moved) <= 512


class _Crash(BaseException):
    pass


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_crash_during_the_switch_is_completed_by_the_next_run(client, crash_at):
    """Interrupt the switch after the journal (1), after renaming the original (2) or after
    renaming the copy (3); the next run must recognise the state and finish."""
    fill(client)
    adapter = FakeAdapter("new", dim=24)
    calls = {"n": 0}

    class Crashing:
        def __init__(self, inner) -> None:
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def modify(self, **kw):
            if (kw.get("metadata") or {}).get(K_PHASE) == "switching" or calls["n"]:
                calls["n"] += 1
                if calls["n"] > crash_at:
                    raise _Crash()
            return self._inner.modify(**kw)

    with pytest.raises(_Crash):
        swap("docs", adapter, client=_Client(client, Crashing), page_size=40, progress=False)
    after = names(client)
    assert ("docs" in after) == (crash_at != 2)  # after step 2 only, the name is free
    result = swap("docs", FakeAdapter("new", dim=24), client=client, progress=False)
    assert result.embedded == 0  # nothing re-embedded
    assert_swapped(client)
    assert len(names(client)) == 2
    assert_original_intact(client, result.backup)


def test_readers_keep_getting_answers_during_a_swap(client):
    fill(client, n=200)
    ids, docs, _ = make_docs(200)
    adapters = {"fake/old": FakeAdapter("old", dim=16), "fake/new": FakeAdapter("new", dim=24)}
    stop = threading.Event()
    seen: list[str] = []
    failures: list[BaseException] = []

    def ask(col):
        record = get_record(col)
        adapter = adapters[record.model_id if record else "fake/old"]
        hits = col.query(query_embeddings=[adapter.embed_query(docs[57])], n_results=1)
        return (record.model_id if record else "fake/old"), hits["ids"][0][0]

    def reader():
        while not stop.is_set():
            try:
                model, top = call_with_collection(client, "docs", ask, wait_s=5.0)
                assert top == ids[57], (model, top)
                seen.append(model)
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        time.sleep(0.2)
        swap(
            "docs",
            FakeAdapter("new", dim=24, latency_ms=20),
            client=client,
            page_size=20,
            drop_old=True,
            progress=False,
        )
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert seen[0] == "fake/old" and seen[-1] == "fake/new"
    switched = seen.index("fake/new")
    assert all(m == "fake/new" for m in seen[switched:])  # never back to the old one


def test_cli_swap_and_undo(tmp_path, capsys):
    path = str(tmp_path / "db")
    fill(chromadb.PersistentClient(path=path))
    code = main(
        [
            "swap",
            "--collection",
            "docs",
            "--model",
            "fake/new",
            "--chroma-path",
            path,
            "--page-size",
            "30",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "Swapped 'docs' to fake/new" in out and "docs/s" in out
    col = chromadb.PersistentClient(path=path).get_collection("docs")
    assert get_record(col).model_id == "fake/new" and col.count() == N
    assert main(["swap", "--undo", "--collection", "docs", "--chroma-path", path]) == 0
    assert get_record(chromadb.PersistentClient(path=path).get_collection("docs")) is None


def test_cli_errors_are_clear(tmp_path, capsys):
    assert main(["swap", "--collection", "docs", "--model", "fake/new"]) == 1
    assert "--chroma-path DIR" in capsys.readouterr().err
    path = str(tmp_path / "db")
    assert main(["swap", "--collection", "nope", "--model", "fake/new", "--chroma-path", path]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_crash_during_undo_is_completed_by_the_next_undo(client, crash_at):
    fill(client)
    swap("docs", FakeAdapter("new", dim=24), client=client, progress=False)
    calls = {"n": 0}

    class Crashing:
        def __init__(self, inner) -> None:
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def modify(self, **kw):
            calls["n"] += 1
            if calls["n"] > crash_at:
                raise _Crash()
            return self._inner.modify(**kw)

    with pytest.raises(_Crash):
        undo_swap("docs", client=_Client(client, Crashing))
    moved = undo_swap("docs", client=client)
    assert moved.startswith("docs__undone_") and names(client) == {"docs", moved}
    assert_original_intact(client)
    left = client.get_collection(moved).metadata
    assert not any(k.startswith("autoembedding:swap_") for k in left)
    assert get_record(client.get_collection(moved)).model_id == "fake/new"


def test_a_failure_after_the_source_is_read_does_not_hang(client):
    """The reader has queued every page and waits to hand over its end marker when the model
    fails: the swap must still stop (and report) instead of waiting forever."""
    fill(client, n=40)
    adapter = FakeAdapter("new", dim=24, hang_s=0.5, fail_after_calls=1, batch_size=64)
    outcome: list[BaseException] = []

    def run():
        try:
            swap("docs", adapter, client=client, page_size=10, progress=False)
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "swap hung after the model failed"
    assert outcome and isinstance(outcome[0], SwapError)
    assert "Records up to offset 10 of 40" in str(outcome[0])
