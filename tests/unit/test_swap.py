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
from autoembedding.errors import (  # noqa: E402
    ChromaUnavailableError,
    CollectionNotFoundError,
)
from autoembedding.selector import swap, undo_swap  # noqa: E402
from autoembedding.swap import (  # noqa: E402
    K_BACKUP,
    K_COUNT,
    K_OFFSET,
    K_PHASE,
    K_SOURCE,
    K_UNDO_OF,
    SwapError,
    backup_name,
    staging_name,
)
from autoembedding.swap import swap as package_swap  # noqa: E402
from autoembedding.swap import undo_swap as package_undo  # noqa: E402
from autoembedding.swap.copy import copy_records, open_staging  # noqa: E402
from autoembedding.swap.journal import Journal  # noqa: E402
from autoembedding.swap.switch import switch_names  # noqa: E402
from autoembedding.swap.verify import verify_copy  # noqa: E402

N = 120


def make_docs(n: int = N) -> tuple[list[str], list[str], list[dict | None]]:
    ids = [f"id-{i:04d}" for i in range(n)]
    docs = [f"doc {i} about {['cats', 'dogs', 'birds', 'fish'][i % 4]} number{i}" for i in range(n)]
    metas = [{"i": i, "kind": "even"} if i % 2 == 0 else None for i in range(n)]
    return ids, docs, metas


def fill(
    chroma_client, name: str = "docs", n: int = N, *, space: str = "cosine", legacy: bool = False
):
    ids, docs, metas = make_docs(n)
    kwargs = {"embedding_function": None}
    if legacy:
        kwargs["metadata"] = {"hnsw:space": space, "owner": "me"}
    else:
        kwargs["metadata"] = {"owner": "me"}
        kwargs["configuration"] = {"hnsw": {"space": space}}
    col = chroma_client.create_collection(name, **kwargs)
    old = FakeAdapter("old", dim=16)
    col.add(ids=ids, documents=docs, metadatas=metas, embeddings=old.embed_documents(docs))
    return col


def all_names(chroma_client) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in chroma_client.list_collections()}


def names(chroma_client) -> set[str]:
    """The collections a user works with (without the swap's sync baselines)."""
    return {n for n in all_names(chroma_client) if "__swapsync_" not in n}


def assert_swapped(
    chroma_client, name: str = "docs", n: int = N, model: str = "new", dim: int = 24
):
    ids, docs, metas = make_docs(n)
    col = chroma_client.get_collection(name)
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
        k.startswith("autoembedding:swap_")
        and k not in ("autoembedding:swap_backup", "autoembedding:swap_sync")
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


def test_selector_swap_is_the_package_swap_and_moves_a_small_collection(chroma_client):
    assert swap is package_swap and undo_swap is package_undo
    fill(chroma_client, n=10)
    adapter = FakeAdapter("new", dim=24)
    result = swap(
        "docs", adapter, client=chroma_client, page_size=4, verify_sample=3, progress=False
    )
    assert result.record == adapter.record()
    assert (result.name, result.docs, result.embedded, result.resumed_from) == ("docs", 10, 10, 0)
    assert result.verified_vectors == 3 and not result.already_done  # one per page of 4, 4, 2
    assert_swapped(chroma_client, n=10)


def test_swap_moves_every_record_and_keeps_the_original(chroma_client):
    fill(chroma_client, space="cosine")
    result = swap(
        "docs", FakeAdapter("new", dim=24), client=chroma_client, page_size=25, progress=False
    )
    col = assert_swapped(chroma_client)
    assert col.configuration["hnsw"]["space"] == "cosine"
    assert result.docs == N and result.embedded == N and result.resumed_from == 0
    assert result.verified_vectors > 0 and result.docs_per_s > 0
    assert result.backup and result.backup.startswith("docs__backup_")
    assert names(chroma_client) == {"docs", result.backup}
    assert_original_intact(chroma_client, result.backup)
    assert "docs/s" in result.summary()


def test_swap_keeps_a_legacy_metadata_space(chroma_client):
    fill(chroma_client, space="ip", legacy=True)
    swap("docs", FakeAdapter("new", dim=24), client=chroma_client, page_size=50, progress=False)
    col = chroma_client.get_collection("docs")
    assert col.configuration["hnsw"]["space"] == "ip"


def test_swap_writes_truncation_and_precision_into_the_record(chroma_client):
    fill(chroma_client)
    swap("docs", "fake/new@16:int8", client=chroma_client, dim=32, progress=False)
    record = get_record(chroma_client.get_collection("docs"))
    assert (record.model_id, record.dim, record.truncate_dim, record.precision) == (
        "fake/new",
        16,
        16,
        "int8",
    )


def test_drop_old_and_rerun_is_a_no_op(chroma_client):
    fill(chroma_client)
    result = swap(
        "docs", FakeAdapter("new", dim=24), client=chroma_client, drop_old=True, progress=False
    )
    assert result.backup is None and names(chroma_client) == {"docs"}
    again = swap("docs", FakeAdapter("new", dim=24), client=chroma_client, progress=False)
    assert again.already_done and again.embedded == 0
    assert_swapped(chroma_client)


def test_undo_restores_the_original_and_refuses_twice(chroma_client):
    fill(chroma_client)
    result = swap("docs", FakeAdapter("new", dim=24), client=chroma_client, progress=False)
    moved = undo_swap("docs", client=chroma_client)
    assert moved.startswith("docs__undone_")
    assert names(chroma_client) == {"docs", moved}
    assert_original_intact(chroma_client)
    with pytest.raises(SwapError, match="nothing to undo"):
        undo_swap("docs", client=chroma_client)
    assert result.backup not in names(chroma_client)


def test_model_failing_midway_leaves_a_resumable_state(chroma_client):
    fill(chroma_client)
    bad = FakeAdapter("new", dim=24, fail_after_calls=3, batch_size=64)
    with pytest.raises(SwapError, match="rerun the same command to resume") as info:
        swap("docs", bad, client=chroma_client, page_size=10, progress=False)
    assert "failed on purpose" in str(info.value)
    assert_original_intact(chroma_client)
    staging = staging_name("docs", bad.record())
    staging_col = chroma_client.get_collection(staging)
    done = staging_col.metadata["autoembedding:swap_offset"]
    assert done == 30 and staging_col.count() == 30  # three pages written, nothing claimed beyond
    good = FakeAdapter("new", dim=24, batch_size=64)
    result = swap("docs", good, client=chroma_client, page_size=10, progress=False)
    assert result.resumed_from == 30 and result.embedded == N - 30
    assert good.texts_seen < N + result.verified_vectors + 5
    assert_swapped(chroma_client)
    assert staging not in names(chroma_client)


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


def test_full_disk_is_reported_and_resumable(chroma_client):
    fill(chroma_client)
    adapter = FakeAdapter("new", dim=24)
    staging = staging_name("docs", adapter.record())

    def wrap(col):
        return _FlakyCollection(col, ok=2) if col.name == staging else col

    with pytest.raises(SwapError, match="No space left on device") as info:
        swap("docs", adapter, client=_Client(chroma_client, wrap), page_size=20, progress=False)
    assert "offset 40" in str(info.value)
    assert_original_intact(chroma_client)
    assert chroma_client.get_collection(staging).metadata["autoembedding:swap_offset"] == 40
    result = swap("docs", adapter, client=chroma_client, page_size=20, progress=False)
    assert result.resumed_from == 40
    assert_swapped(chroma_client)


def test_missing_documents_are_refused_with_their_ids(chroma_client):
    col = fill(chroma_client)
    col.add(ids=["no-doc"], embeddings=[[0.1] * 16])
    with pytest.raises(SwapError, match="no-doc"):
        swap("docs", FakeAdapter("new", dim=24), client=chroma_client, progress=False)
    assert chroma_client.get_collection("docs").count() == N + 1
    assert get_record(chroma_client.get_collection("docs")) is None


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


def test_duplicate_ids_are_refused(chroma_client):
    fill(chroma_client)
    dup_client = _Client(chroma_client, lambda c: _DupSource(c) if c.name == "docs" else c)
    with pytest.raises(SwapError, match="Duplicate ids"):
        swap("docs", FakeAdapter("new", dim=24), client=dup_client, progress=False)
    assert_original_intact(chroma_client)


def test_long_names_stay_within_chromas_limit(chroma_client):
    name = "c" * 500
    fill(chroma_client, name=name, n=10)
    record = FakeAdapter("new", dim=24).record()
    assert len(staging_name(name, record)) == 512 and len(backup_name(name)) == 512
    result = swap(name, FakeAdapter("new", dim=24), client=chroma_client, progress=False)
    assert len(result.backup) <= 512
    assert_swapped(chroma_client, name=name, n=10)
    moved = undo_swap(name, client=chroma_client)
    assert len(moved) <= 512


class _Crash(BaseException):
    pass


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_crash_during_the_switch_is_completed_by_the_next_run(chroma_client, crash_at):
    """Interrupt the switch after the journal (1), after renaming the original (2) or after
    renaming the copy (3); the next run must recognise the state and finish."""
    fill(chroma_client)
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
        swap("docs", adapter, client=_Client(chroma_client, Crashing), page_size=40, progress=False)
    after = names(chroma_client)
    assert ("docs" in after) == (crash_at != 2)  # after step 2 only, the name is free
    result = swap("docs", FakeAdapter("new", dim=24), client=chroma_client, progress=False)
    assert result.embedded == 0  # nothing re-embedded
    assert_swapped(chroma_client)
    assert len(names(chroma_client)) == 2
    assert_original_intact(chroma_client, result.backup)


def test_readers_keep_getting_answers_during_a_swap(chroma_client):
    fill(chroma_client, n=200)
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
                model, top = call_with_collection(chroma_client, "docs", ask, wait_s=5.0)
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
            client=chroma_client,
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


def test_cli_swap_and_undo(chroma_path, capsys):
    path = str(chroma_path)
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


def test_cli_errors_are_clear(chroma_path, capsys):
    assert main(["swap", "--collection", "docs", "--model", "fake/new"]) == 1
    assert "--chroma-path DIR" in capsys.readouterr().err
    path = str(chroma_path)
    assert main(["swap", "--collection", "nope", "--model", "fake/new", "--chroma-path", path]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_crash_during_undo_is_completed_by_the_next_undo(chroma_client, crash_at):
    fill(chroma_client)
    swap("docs", FakeAdapter("new", dim=24), client=chroma_client, progress=False)
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
        undo_swap("docs", client=_Client(chroma_client, Crashing))
    moved = undo_swap("docs", client=chroma_client)
    assert moved.startswith("docs__undone_") and names(chroma_client) == {"docs", moved}
    assert_original_intact(chroma_client)
    left = chroma_client.get_collection(moved).metadata
    assert not any(k.startswith("autoembedding:swap_") for k in left)
    assert get_record(chroma_client.get_collection(moved)).model_id == "fake/new"


def test_a_failure_after_the_source_is_read_does_not_hang(chroma_client):
    """The reader has queued every page and waits to hand over its end marker when the model
    fails: the swap must still stop (and report) instead of waiting forever."""
    fill(chroma_client, n=40)
    adapter = FakeAdapter("new", dim=24, hang_s=0.5, fail_after_calls=1, batch_size=64)
    outcome: list[BaseException] = []

    def run():
        try:
            swap("docs", adapter, client=chroma_client, page_size=10, progress=False)
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "swap hung after the model failed"
    assert outcome and isinstance(outcome[0], SwapError)
    assert "Records up to offset 10 of 40" in str(outcome[0])


def test_the_journal_keys_are_the_stored_format():
    """Renaming a key would strand swaps interrupted by an older version."""
    assert (K_SOURCE, K_PHASE, K_OFFSET, K_COUNT, K_BACKUP, K_UNDO_OF) == (
        "autoembedding:swap_source",
        "autoembedding:swap_phase",
        "autoembedding:swap_offset",
        "autoembedding:swap_source_count",
        "autoembedding:swap_backup",
        "autoembedding:swap_undo_of",
    )


def _old_staging(chroma_client, n_copied: int, **journal):
    """A staging collection as the pre-split swap left it when killed (literal keys)."""
    adapter = FakeAdapter("new", dim=24)
    ids, docs, metas = make_docs()
    metadata = {
        "owner": "me",
        **adapter.record().to_metadata(),
        "autoembedding:swap_source": "docs",
        "autoembedding:swap_source_count": N,
        **journal,
    }
    col = chroma_client.create_collection(
        staging_name("docs", adapter.record()),
        metadata=metadata,
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    if n_copied:
        col.add(
            ids=ids[:n_copied],
            documents=docs[:n_copied],
            metadatas=metas[:n_copied],
            embeddings=adapter.embed_documents(docs[:n_copied]),
        )
    return col


def test_a_copy_interrupted_by_the_old_code_resumes(chroma_client):
    fill(chroma_client)
    _old_staging(
        chroma_client, 40, **{"autoembedding:swap_phase": "copy", "autoembedding:swap_offset": 40}
    )
    adapter = FakeAdapter("new", dim=24)
    result = swap("docs", adapter, client=chroma_client, page_size=20, progress=False)
    assert result.resumed_from == 40 and result.embedded == N - 40
    assert adapter.texts_seen == N - 40 + result.verified_vectors
    assert_swapped(chroma_client)
    assert_original_intact(chroma_client, result.backup)


def test_a_switch_interrupted_by_the_old_code_is_completed(chroma_client):
    fill(chroma_client)
    backup = "docs__backup_20250101T000000Z"
    _old_staging(
        chroma_client,
        N,
        **{
            "autoembedding:swap_phase": "switching",
            "autoembedding:swap_offset": N,
            "autoembedding:swap_backup": backup,
        },
    )
    adapter = FakeAdapter("new", dim=24)
    result = swap("docs", adapter, client=chroma_client, progress=False)
    assert adapter.texts_seen == 0 and result.backup == backup
    assert names(chroma_client) == {"docs", backup}
    col = assert_swapped(chroma_client)
    assert col.metadata["autoembedding:swap_backup"] == backup
    assert_original_intact(chroma_client, backup)


def test_the_phases_run_on_their_own(chroma_client):
    """copy, verify and switch take the client, names and journal (a later engine reuses them)."""
    fill(chroma_client, n=30)
    adapter = FakeAdapter("new", dim=24)
    record = adapter.record()
    source = chroma_client.get_collection("docs")
    staging = staging_name("docs", record)
    col, journal = open_staging(chroma_client, "docs", source, staging, None, 30, record)
    assert (journal.phase, journal.offset, journal.source_count, journal.source) == (
        "copy",
        0,
        30,
        "docs",
    )
    embedded, journal = copy_records(source, col, adapter, journal, page_size=7)
    assert embedded == 30 and journal.offset == 30
    # written, not just returned:
    assert Journal.of(chroma_client.get_collection(staging)).offset == 30
    checked = verify_copy(chroma_client, "docs", staging, adapter, journal, page_size=7, sample=5)
    assert checked == 5  # one per page: ceil(5 / ceil(30 / 7))
    backup = switch_names(chroma_client, "docs", staging, journal)
    assert backup is not None and backup.startswith("docs__backup_")
    assert names(chroma_client) == {"docs", backup}
    assert_swapped(chroma_client, n=30)
    assert_original_intact(chroma_client, backup, n=30)


def test_a_copy_that_differs_is_dropped_by_verify(chroma_client):
    fill(chroma_client, n=30)
    adapter = FakeAdapter("new", dim=24)
    source = chroma_client.get_collection("docs")
    staging = staging_name("docs", adapter.record())
    col, journal = open_staging(chroma_client, "docs", source, staging, None, 30, adapter.record())
    _, journal = copy_records(source, col, adapter, journal, page_size=10)
    col.update(ids=["id-0011"], metadatas=[{"tampered": True}])
    with pytest.raises(SwapError, match=r"'id-0011' differs.*was removed"):
        verify_copy(chroma_client, "docs", staging, adapter, journal, page_size=10)
    assert names(chroma_client) == {"docs"}
    assert_original_intact(chroma_client, n=30)


def test_progress_callable_counts_written_records(chroma_client):
    fill(chroma_client, n=50)
    seen: list[float] = []
    swap(
        "docs",
        FakeAdapter("new", dim=24),
        client=chroma_client,
        page_size=20,
        progress=lambda message, fraction: seen.append(fraction),
    )
    assert seen == [0.4, 0.8, 1.0]


class _Unreachable:
    """A client whose server is down: every call fails in the transport."""

    def __getattr__(self, name):
        import httpx

        def fail(*args, **kwargs):
            raise httpx.ConnectError("[Errno 111] Connection refused")

        return fail


def test_chroma_failures_are_translated_and_name_the_collection(chroma_client):
    with pytest.raises(ChromaUnavailableError, match="'docs'"):
        swap("docs", FakeAdapter("new", dim=24), client=_Unreachable(), progress=False)
    with pytest.raises(CollectionNotFoundError, match="'nope' does not exist"):
        swap("nope", FakeAdapter("new", dim=24), client=chroma_client, progress=False)
    with pytest.raises(ChromaUnavailableError, match="'docs'"):
        undo_swap("docs", client=_Unreachable())


class _DroppingSource:
    """A source collection whose server goes away after ``ok`` reads."""

    def __init__(self, inner, ok: int) -> None:
        self._inner, self._ok = inner, ok

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def get(self, **kw):
        import httpx

        if self._ok <= 0:
            raise httpx.ReadError("server closed the connection")
        self._ok -= 1
        return self._inner.get(**kw)


def test_a_source_that_fails_mid_copy_stops_both_sides_and_saves_what_was_embedded(chroma_client):
    fill(chroma_client)
    flaky = _Client(chroma_client, lambda c: _DroppingSource(c, ok=2) if c.name == "docs" else c)
    adapter = FakeAdapter("new", dim=24)
    outcome: list[BaseException] = []

    def run():
        try:
            swap("docs", adapter, client=flaky, page_size=20, progress=False)
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "swap hung after the source failed"
    assert outcome and isinstance(outcome[0], SwapError), outcome
    message = str(outcome[0])
    assert "reading the source" in message and "no Chroma server answers" in message
    assert "Records up to offset 40 of 120" in message
    assert isinstance(outcome[0].__cause__, ChromaUnavailableError)
    assert adapter.texts_seen == 40  # nothing embedded past the failure
    result = swap("docs", adapter, client=chroma_client, page_size=20, progress=False)
    assert result.resumed_from == 40
    assert_swapped(chroma_client)
