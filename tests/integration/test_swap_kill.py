"""SIGKILL a running swap at random moments (copy and switch), rerun it, and check nothing is lost.

Each trial copies a prepared embedded Chroma folder, runs the swap in a subprocess
(FakeAdapter with latency so it takes a couple of seconds), kills it with SIGKILL, then reruns the
same swap and checks every id, document, metadata and vector of the result and of the backup.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

chromadb = pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.chroma.records import get_record  # noqa: E402
from autoembedding.swap import K_OFFSET, K_PHASE, staging_name, swap  # noqa: E402

pytestmark = pytest.mark.integration

N = 200
PAGE = 20
LATENCY_MS = 120
PAUSE_S = 0.25

SCRIPT = """  # noqa: UP031 - a script template filled with %
import sys
import chromadb
from autoembedding.adapters.fake import FakeAdapter
import autoembedding.swap as sw
import autoembedding.swap.dense as sw_dense
import autoembedding.swap.switch as switch

path, mode = sys.argv[1], sys.argv[2]
n, pause, latency, page = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
client = chromadb.PersistentClient(path=path)
if mode == "fill":
    ids = [f"id-{i:04d}" for i in range(n)]
    docs = [f"doc {i} about topic{i % 5} word{i * 7 % 13}" for i in range(n)]
    metas = [{"i": i, "even": i % 2 == 0} if i % 3 else None for i in range(n)]
    col = client.create_collection("docs", metadata={"owner": "me"},
                                   configuration={"hnsw": {"space": "cosine"}},
                                   embedding_function=None)
    col.add(ids=ids, documents=docs, metadatas=metas,
            embeddings=FakeAdapter("old", dim=16).embed_documents(docs))
    sys.exit(0)
switch._STEP_PAUSE_S = pause
finish = switch.finish_switch
def marked(*args, **kwargs):
    print("SWITCH", flush=True)
    return finish(*args, **kwargs)
switch.finish_switch = marked
copy = sw_dense.copy_records
def copied(*args, **kwargs):
    out = copy(*args, **kwargs)
    print("COPIED", flush=True)
    return out
sw_dense.copy_records = copied
print("START", flush=True)
result = sw.swap("docs", FakeAdapter("new", dim=24, latency_ms=latency), client=client,
                 page_size=page, progress=False)
print(result.summary(), flush=True)
"""
ARGS = [str(N), str(PAUSE_S), str(LATENCY_MS), str(PAGE)]


def expected():
    ids = [f"id-{i:04d}" for i in range(N)]
    docs = [f"doc {i} about topic{i % 5} word{i * 7 % 13}" for i in range(N)]
    metas = [{"i": i, "even": i % 2 == 0} if i % 3 else None for i in range(N)]
    return ids, docs, metas


def check_collection(col, model: str, dim: int) -> None:
    ids, docs, metas = expected()
    assert col.count() == N
    got = col.get(ids=ids, include=["documents", "metadatas", "embeddings"])
    assert sorted(got["ids"]) == ids
    pos = {i: k for k, i in enumerate(got["ids"])}
    vectors = FakeAdapter(model, dim=dim).embed_documents(docs)
    for k, i in enumerate(ids):
        j = pos[i]
        assert got["documents"][j] == docs[k], i
        assert (got["metadatas"][j] or None) == metas[k], i
        np.testing.assert_allclose(got["embeddings"][j], vectors[k], atol=1e-5, err_msg=i)
    assert col.metadata["owner"] == "me"


def state_after_kill(path: Path) -> tuple[str, int]:
    """Which phase the killed run reached, and the journal offset (for resume checks)."""
    client = chromadb.PersistentClient(path=str(path))
    staging = staging_name("docs", FakeAdapter("new", dim=24).record())
    present = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    if staging in present:
        meta = client.get_collection(staging).metadata or {}
        phase = meta.get(K_PHASE, "?")
        return ("switch" if phase == "switching" else phase), int(meta.get(K_OFFSET, 0))
    if "docs" not in present:
        return "switch", 0
    record = get_record(client.get_collection("docs"))
    if record is None:
        return "not started", 0
    meta = client.get_collection("docs").metadata
    return ("switch" if meta.get(K_PHASE) == "switching" else "done"), 0


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, Path, float]:
    """The filled database, and how long the copy phase of an uninterrupted swap takes."""
    root = tmp_path_factory.mktemp("swapkill")
    script = root / "run_swap.py"
    script.write_text(SCRIPT, encoding="utf-8")
    db = root / "template"
    subprocess.run([sys.executable, str(script), str(db), "fill", *ARGS], check=True, timeout=120)
    ref = root / "reference"
    shutil.copytree(db, ref)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ref), "swap", *ARGS], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().startswith("START")
    start = time.monotonic()  # the swap itself, without interpreter start-up
    assert proc.stdout.readline().startswith("COPIED")
    duration = time.monotonic() - start  # of the copy
    proc.communicate(timeout=120)
    assert proc.returncode == 0
    check_collection(chromadb.PersistentClient(path=str(ref)).get_collection("docs"), "new", 24)
    return script, db, duration


def wait_for(proc: subprocess.Popen[str], marker: str) -> None:
    """Read the swap's output up to the line starting with ``marker``."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(marker):
            return
    raise AssertionError(f"the swap ended before {marker}")


def test_swap_survives_sigkill_at_random_points(template, tmp_path):
    script, db, duration = template
    rng = random.Random(1234)
    phases: list[str] = []
    trials = 10
    for trial in range(trials):
        path = tmp_path / f"t{trial}"
        shutil.copytree(db, path)
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), "swap", *ARGS],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            if trial % 3 == 1:  # aim at the switch: kill shortly after it starts
                wait_for(proc, "SWITCH")
                time.sleep(rng.uniform(0.0, 2 * PAUSE_S))
            elif trial % 3 == 2:  # aim at the catch-up and verification after the copy
                wait_for(proc, "COPIED")
                time.sleep(rng.uniform(0.05, 0.4))
            else:  # during the copy (sometimes before it starts)
                wait_for(proc, "START")
                time.sleep(rng.uniform(0.0, 0.9) * duration)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
        phase, offset = state_after_kill(path)
        phases.append(phase)
        client = chromadb.PersistentClient(path=str(path))
        result = swap(
            "docs", FakeAdapter("new", dim=24), client=client, page_size=PAGE, progress=False
        )
        if phase == "copy":
            assert result.resumed_from == offset  # finished pages are not embedded again
            assert result.embedded == N - offset
        if phase == "switch":
            assert result.embedded == 0
        check_collection(client.get_collection("docs"), "new", 24)
        present = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        present -= {n for n in present if n.startswith("docs__swapsync_")}  # the sync baseline
        backups = [n for n in present if n.startswith("docs__backup_")]
        assert present == {"docs", *backups} and len(backups) == 1, present
        backup = client.get_collection(backups[0])
        check_collection(backup, "old", 16)
        assert get_record(backup) is None  # the original was never written
        assert client.get_collection("docs").metadata["autoembedding:swap_backup"] == backups[0]
    print(f"swap {duration:.1f} s; phases at kill: {phases}")
    assert phases.count("switch") >= 2, phases
    assert phases.count("copy") >= 2 and phases.count("verify") >= 1, phases
