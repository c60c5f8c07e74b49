"""``swap(..., engine="ray")`` on a local Ray cluster (2 CPUs) against a real ``chroma run``.

One module-scoped ``ray.init(num_cpus=2)`` serves every test (Ray starts slowly). The first test
checks the Ray swap against the single-machine swap with a real model (MiniLM-L3 ONNX); the fault
tests use the fake model with latency, so there is time to kill something mid-run: an encoder
actor's process (Ray restarts it and retries its batch), the driver (SIGKILL; the rerun resumes
from the journal) and the Chroma server (the run stops with a clear error, the original intact).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import get_record  # noqa: E402
from autoembedding.errors import InvalidArgumentError, MissingExtraError, SwapError  # noqa: E402
from autoembedding.swap import Journal, staging_name, swap  # noqa: E402
from autoembedding.swap.journal import K_OFFSET  # noqa: E402
from autoembedding.swap.ray.journal import (  # noqa: E402
    K_DONE,
    DoneRanges,
    split_pages,
)

pytestmark = pytest.mark.integration

MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
WORDS = "apple river stone cloud maple violin harbor lantern copper meadow falcon glacier".split()
#: Fault tests: records, page size and the fake model's sleep per page.
N_FAULT, PAGE, LATENCY_MS = 600, 20, 150


# ---------------------------------------------------------------------------- helpers
def records(n: int) -> tuple[list[str], list[str], list[dict[str, Any] | None]]:
    """ids, short documents and metadata (a third without; floats that Chroma stores exactly)."""
    ids = [f"id-{i:05d}" for i in range(n)]
    docs = [f"{WORDS[i % 12]} {WORDS[i * 7 % 12]} {WORDS[i * 5 % 11]} note {i}" for i in range(n)]
    metas = [{"i": i, "half": i / 2, "even": i % 2 == 0} if i % 3 else None for i in range(n)]
    return ids, docs, metas


def fill(client: Any, name: str, n: int) -> Any:
    ids, docs, metas = records(n)
    col = client.create_collection(
        name,
        metadata={"owner": "me"},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    vectors = FakeAdapter("old", dim=8).embed_documents(docs)
    for k in range(0, n, 500):
        col.add(
            ids=ids[k : k + 500],
            documents=docs[k : k + 500],
            metadatas=metas[k : k + 500],
            embeddings=vectors[k : k + 500],
        )
    return col


def contents(col: Any) -> dict[str, tuple[str, Any, np.ndarray]]:
    got = col.get(include=["documents", "metadatas", "embeddings"])
    assert len(got["ids"]) == len(set(got["ids"])), "duplicate ids"
    return {
        i: (d, m or None, np.asarray(e, dtype=np.float32))
        for i, d, m, e in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        )
    }


def check_fake_swap(client: Any, name: str, n: int) -> None:
    """``name`` holds exactly the n records, with fake/new vectors; its backup the old ones."""
    ids, docs, metas = records(n)
    col = client.get_collection(name)
    assert col.count() == n
    got = contents(col)
    assert sorted(got) == ids  # nothing lost, nothing extra
    new = FakeAdapter("new").embed_documents(docs)
    for k, i in enumerate(ids):
        assert got[i][0] == docs[k] and got[i][1] == metas[k], i
        np.testing.assert_allclose(got[i][2], new[k], atol=1e-6, err_msg=i)
    assert get_record(col).model_id == "fake/new"
    assert not any(key in col.metadata for key in (K_DONE, K_OFFSET))
    backup = client.get_collection(col.metadata["autoembedding:swap_backup"])
    check_original(backup, n)


def check_original(col: Any, n: int) -> None:
    """``col`` is the untouched original: n records, old vectors, no model record."""
    ids, docs, _ = records(n)
    assert col.count() == n and get_record(col) is None
    got = contents(col)
    old = FakeAdapter("old", dim=8).embed_documents(docs)
    for k, i in enumerate(ids):
        np.testing.assert_allclose(got[i][2], old[k], atol=1e-6, err_msg=i)


def staging_of(client: Any) -> Any:
    return client.get_collection(staging_name("docs", FakeAdapter("new").record()))


def when(predicate: Callable[[], bool], action: Callable[[], None], timeout_s: float = 120.0):
    """Run ``action`` in a thread as soon as ``predicate()`` holds; return the thread."""
    fired: dict[str, Any] = {}

    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if predicate():
                    fired["at"] = time.monotonic()
                    action()
                    return
            except Exception:  # noqa: BLE001 - the staging collection may not exist yet
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.fired = fired  # type: ignore[attr-defined]
    thread.start()
    return thread


def encoder_pids() -> list[int]:
    """Processes of Ray encoder actors (Ray titles them ``ray::MapWorker(MapBatches(Encoder))``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("ray::") and "MapBatches(Encoder)" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local Ray cluster with 2 CPUs for the whole module; yields its address."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


# ---------------------------------------------------------------------------- no cluster
def test_done_ranges_merge_and_resume_points() -> None:
    done = DoneRanges.parse(40, "100-120,60-80")
    assert (done.prefix, done.count, done.encode()) == (40, 80, "60-80,100-120")
    done.add(40, 60)  # closes the gap to 60-80: the prefix grows
    assert (done.prefix, done.encode()) == (80, "100-120")
    assert done.missing(130) == [(80, 100), (120, 130)]
    assert split_pages(done.missing(130), 15) == [(80, 15), (95, 5), (120, 10)]
    assert done.journal_changes() == {K_OFFSET: 80, K_DONE: "100-120"}
    # A journal written by the single-machine engine: the offset alone.
    assert DoneRanges.of(Journal({K_OFFSET: 50})).missing(60) == [(50, 60)]
    with pytest.raises(SwapError, match="swap_done"):
        DoneRanges.parse(0, "12-x")


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch, chroma_client: Any) -> None:
    fill(chroma_client, "docs", 5)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(MissingExtraError, match=r"autoembedding\[ray\]"):
        swap("docs", "fake/new", client=chroma_client, engine="ray", progress=False)
    assert [c.name for c in chroma_client.list_collections()] == ["docs"]  # nothing touched


def test_bad_ray_options_are_refused_first(chroma_client: Any) -> None:
    fill(chroma_client, "docs", 5)
    for bad in ({"workers": 0}, {"gpus_per_worker": -1}, {"engine": "spark"}):
        options = {"engine": "ray", **bad}
        with pytest.raises(InvalidArgumentError, match=next(iter(bad))):
            swap("docs", "fake/new", client=chroma_client, progress=False, **options)
    assert [c.name for c in chroma_client.list_collections()] == ["docs"]


# ---------------------------------------------------------------------------- cluster
@pytest.mark.server
def test_ray_swap_equals_single_machine_swap(ray_cluster: str, chroma_server: Any) -> None:
    n = 2000
    client = chroma_server.client()
    fill(client, "local", n)
    fill(client, "onray", n)
    single = swap("local", MODEL, client=client, page_size=128, progress=False)
    ray_result = swap(
        "onray", MODEL, client=client, page_size=128, progress=False, engine="ray", workers=2
    )
    assert ray_result.embedded == n and ray_result.verified_vectors > 0
    assert ray_result.record == single.record
    a, b = client.get_collection("local"), client.get_collection("onray")
    assert get_record(a) == get_record(b) == single.record
    got_a, got_b = contents(a), contents(b)
    assert sorted(got_a) == sorted(got_b) == records(n)[0]
    ids = sorted(got_a)
    assert [got_a[i][:2] for i in ids] == [got_b[i][:2] for i in ids]  # documents, metadata
    va = np.stack([got_a[i][2] for i in ids])
    vb = np.stack([got_b[i][2] for i in ids])
    cos = (va * vb).sum(1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
    assert va.shape == (n, 384) and cos.min() >= 0.9999
    assert not any(key in b.metadata for key in (K_DONE, K_OFFSET))
    check_original(client.get_collection(ray_result.backup), n)


def test_ray_swap_on_embedded_chroma_driver_writes(ray_cluster: str, chroma_client: Any) -> None:
    fill(chroma_client, "docs", 300)
    result = swap(
        "docs", "fake/new", client=chroma_client, page_size=32, progress=False,
        engine="ray", workers=2,
    )  # fmt: skip
    assert result.embedded == 300
    check_fake_swap(chroma_client, "docs", 300)


@pytest.mark.parametrize("target", ["minilm-int8", "hybrid:minilm-int8+bm25"])
def test_ray_swap_to_the_int8_export_and_its_hybrid_verifies_and_serves(
    ray_cluster: str, chroma_client: Any, target: str
) -> None:
    """The probe's usual CPU pick, on Ray, on a collection whose metadata is only the space
    (issue 22.1/22.5: the batch-dependent int8 export failed verification on Ray too)."""
    from autoembedding.integrations.langchain import AutoRetriever

    ids, docs, _ = records(240)
    docs = [f"{d} " + " ".join(WORDS[: 1 + i % 12]) for i, d in enumerate(docs)]  # varied lengths
    col = chroma_client.create_collection(
        "docs", metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    col.add(ids=ids, documents=docs, embeddings=FakeAdapter("old", dim=8).embed_documents(docs))
    result = swap(
        "docs", target, client=chroma_client, page_size=40, progress=False,
        engine="ray", workers=2,
    )  # fmt: skip
    record = get_record(chroma_client.get_collection("docs"))
    assert record is not None and record.model_id.endswith(":onnx-int8")
    assert record.retrieval == ("hybrid" if target.startswith("hybrid") else "dense")
    assert result.embedded == 240
    hits = AutoRetriever(collection=chroma_client.get_collection("docs"), k=3).invoke(docs[17])
    assert hits[0].id == ids[17]


@pytest.mark.server
def test_killed_encoder_worker_is_retried(ray_cluster: str, chroma_server: Any) -> None:
    client = chroma_server.client()
    fill(client, "docs", N_FAULT)
    watcher = chroma_server.client()
    killed: list[tuple[int, int]] = []

    def kill_one_encoder() -> None:
        pids = encoder_pids()
        assert pids, "no encoder actor process found"
        written = staging_of(watcher).count()
        os.kill(pids[0], signal.SIGKILL)
        killed.append((pids[0], written))

    thread = when(lambda: staging_of(watcher).count() >= 100, kill_one_encoder)
    result = swap(
        "docs", "fake/new", client=client, page_size=PAGE, progress=False, verify_sample=0,
        engine="ray", workers=2, latency_ms=LATENCY_MS,
    )  # fmt: skip
    thread.join(timeout=5)
    assert killed and killed[0][1] < N_FAULT, "the worker was not killed mid-run"
    assert result.embedded >= N_FAULT
    check_fake_swap(client, "docs", N_FAULT)


DRIVER = """
import sys
import chromadb
from autoembedding.swap import swap
address, port, page, latency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
client = chromadb.HttpClient(host="127.0.0.1", port=port)
swap("docs", "fake/new", client=client, page_size=page, progress=False, verify_sample=0,
     engine="ray", ray_address=address, workers=2, latency_ms=latency)
print("FINISHED", flush=True)
"""


@pytest.mark.server
def test_sigkilled_driver_resumes_from_journal(
    ray_cluster: str, chroma_server: Any, tmp_path: Path
) -> None:
    client = chroma_server.client()
    fill(client, "docs", N_FAULT)
    script = tmp_path / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    args = [ray_cluster, str(chroma_server.port), str(PAGE), str(LATENCY_MS)]
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:  # kill once the journal holds some finished pages, well before the end
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if DoneRanges.of(Journal.of(staging_of(client))).count >= 150:
                    break
            except Exception:  # noqa: BLE001 - no staging collection yet
                pass
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
    assert "FINISHED" not in out, "the driver finished before it was killed"
    done = DoneRanges.of(Journal.of(staging_of(client)))
    assert 150 <= done.count < N_FAULT
    check_original(client.get_collection("docs"), N_FAULT)  # not switched, not written

    result = swap(
        "docs", "fake/new", client=client, page_size=PAGE, progress=False, verify_sample=0,
        engine="ray", workers=2, latency_ms=LATENCY_MS,
    )  # fmt: skip
    assert result.resumed_from == done.prefix
    assert result.embedded == N_FAULT - done.count  # journalled pages were not embedded again
    check_fake_swap(client, "docs", N_FAULT)


@pytest.mark.server
def test_chroma_server_gone_stops_with_clear_error(ray_cluster: str, chroma_server: Any) -> None:
    client = chroma_server.client()
    fill(client, "docs", N_FAULT)
    watcher = chroma_server.client()
    journalled = lambda: DoneRanges.of(Journal.of(staging_of(watcher))).count >= 60  # noqa: E731
    thread = when(journalled, chroma_server.kill)
    with pytest.raises(SwapError) as info:
        swap(
            "docs", "fake/new", client=client, page_size=PAGE, progress=False,
            verify_sample=0, engine="ray", workers=2, latency_ms=LATENCY_MS,
        )  # fmt: skip
    thread.join(timeout=5)
    assert thread.fired, "the server was not stopped mid-run"  # type: ignore[attr-defined]
    message = str(info.value)
    assert "no Chroma server answers" in message and "original is untouched" in message
    chroma_server.start()  # same port, same folder
    client = chroma_server.client()
    check_original(client.get_collection("docs"), N_FAULT)
    # The journal only claims what the staging collection holds (a rerun may trust it).
    staging = staging_of(client)
    done = DoneRanges.of(Journal.of(staging))
    missing = {k for start, end in done.missing(N_FAULT) for k in range(start, end)}
    claimed = [i for k, i in enumerate(records(N_FAULT)[0]) if k not in missing]
    assert 60 <= len(claimed) < N_FAULT
    held = set(staging.get(ids=claimed, include=[])["ids"])
    assert held == set(claimed) and staging.count() < N_FAULT
