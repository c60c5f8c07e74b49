"""The int8 export cache: where it lives, its manifest check, atomic install, re-export, fallback.

The real export (torch -> ONNX -> quantised) is replaced by a fake ``_build`` that writes small
files, so these tests check the logic around it in milliseconds; the real export is in
``tests/integration/test_onnx_export.py``.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from autoembedding.adapters.export import cache, fast_path, onnx_int8
from autoembedding.adapters.export.cache import (
    EXPORT_MANIFEST,
    export_dir,
    export_key,
    install,
    new_staging_dir,
    verify_export,
)
from autoembedding.adapters.export.config import QuantConfig, config_for_cpu
from autoembedding.catalog import get_spec
from autoembedding.errors import AutoEmbeddingWarning, BackendError, WeightsIntegrityError
from autoembedding.offline import cache_dir

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
INT8 = "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(root))
    monkeypatch.setenv("AUTOEMBEDDING_CPU_KIND", "avx2")
    monkeypatch.delenv(fast_path.INT8_EXPORT_ENV, raising=False)
    return root


@pytest.fixture
def fake_build(monkeypatch):
    """Replace the heavy export with one that writes small deterministic files; count calls."""
    calls: list[Path] = []

    def build(deps, source, config, out, min_cosine):
        calls.append(out)
        (out / "model.onnx").write_bytes(b"onnx:" + json.dumps(config.to_dict()).encode())
        (out / "tokenizer.json").write_text("{}", encoding="utf-8")
        return {"model_id": source.id, "config": config.to_dict(), "max_tokens": 256}

    monkeypatch.setattr(onnx_int8, "_import_export_deps", lambda: (None, None, None))
    monkeypatch.setattr(onnx_int8, "_build", build)
    return calls


def test_cache_dir_env_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("AUTOEMBEDDING_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert cache_dir() == tmp_path / "xdg" / "autoembedding"


def test_export_dir_layout_and_key(cache_root):
    folder = export_dir(INT8)
    assert (
        folder.parent == cache_root / "export" / "sentence-transformers--all-MiniLM-L6-v2" / "avx2"
    )
    assert export_dir(MINILM) == folder  # the int8 entry and its source share one export
    assert len(folder.name) == 16
    assert export_dir(MINILM, kind="avx512_vnni").parent.name == "avx512_vnni"
    source = get_spec(MINILM)
    base = QuantConfig()
    assert export_key(source, base) == export_key(source, QuantConfig())  # stable
    assert export_key(source, base) != export_key(source, base.but(per_channel=False))
    with pytest.raises(BackendError, match="sentence-transformers models"):
        export_dir("intfloat/multilingual-e5-small:q4")


def test_export_writes_manifest_and_reuses_a_verified_export(cache_root, fake_build):
    folder = onnx_int8.export_int8(INT8)
    assert folder == export_dir(INT8)
    manifest = verify_export(folder)
    assert set(manifest["files"]) == {"model.onnx", "tokenizer.json"}
    assert manifest["cpu_kind"] == "avx2" and manifest["key"] == folder.name
    assert manifest["config"] == config_for_cpu("avx2").to_dict()
    assert onnx_int8.export_int8(INT8) == folder
    assert len(fake_build) == 1  # the second call verified and kept it
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_tampered_export_is_refused_then_rebuilt_on_resolve(cache_root, fake_build):
    folder = onnx_int8.export_int8(INT8)
    (folder / "model.onnx").write_bytes(b"tampered")
    with pytest.raises(WeightsIntegrityError, match="sha256"):
        onnx_int8.load_exported(folder)
    with pytest.warns(AutoEmbeddingWarning, match="Exporting it again"):
        again = fast_path.resolve_int8(get_spec(INT8))
    assert again == folder and len(fake_build) == 2
    verify_export(folder)  # good again


def test_missing_or_broken_manifest(tmp_path):
    with pytest.raises(FileNotFoundError):
        verify_export(tmp_path)
    with pytest.raises(WeightsIntegrityError, match="no export.json"):
        onnx_int8.load_exported(tmp_path)
    (tmp_path / EXPORT_MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(WeightsIntegrityError, match="not a valid"):
        verify_export(tmp_path)
    (tmp_path / EXPORT_MANIFEST).write_text(json.dumps({"files": {}}), encoding="utf-8")
    with pytest.raises(WeightsIntegrityError, match="model.onnx"):
        verify_export(tmp_path)


def _staged(target: Path, payload: bytes) -> Path:
    staging = new_staging_dir(target)
    (staging / "model.onnx").write_bytes(payload)
    (staging / "tokenizer.json").write_text("{}", encoding="utf-8")
    cache.write_manifest(staging, {"payload": payload.decode()})
    return staging


def test_install_keeps_the_first_verified_export_and_replaces_a_broken_one(tmp_path):
    target = tmp_path / "export" / "key"
    install(_staged(target, b"first"), target)
    install(_staged(target, b"second"), target)  # another process lost the race
    assert (target / "model.onnx").read_bytes() == b"first"
    (target / "model.onnx").write_bytes(b"broken")
    install(_staged(target, b"third"), target)
    assert (target / "model.onnx").read_bytes() == b"third"
    install(_staged(target, b"forced"), target, replace=True)
    assert (target / "model.onnx").read_bytes() == b"forced"
    assert sorted(p.name for p in target.parent.iterdir()) == ["key"]  # nothing left behind


def test_install_refuses_to_replace_a_folder_that_is_not_an_export(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(BackendError, match="not an export"):
        install(_staged(target, b"x"), target, replace=True)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_concurrent_exports_leave_one_complete_verified_folder(cache_root, fake_build):
    barrier = threading.Barrier(4)
    results: list[Path] = []

    def worker() -> None:
        barrier.wait()
        results.append(onnx_int8.export_int8(INT8))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    verify_export(results[0])
    assert [p.name for p in results[0].parent.iterdir()] == [results[0].name]


def test_missing_onnx_falls_back_to_the_pinned_file_with_a_warning(cache_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    with pytest.warns(AutoEmbeddingWarning, match=r"pinned int8 file.*autoembedding\[export\]"):
        assert fast_path.resolve_int8(get_spec(INT8)) is None
    assert not export_dir(INT8).exists()


def test_adapter_loads_the_pinned_file_when_the_export_is_unavailable(cache_root, monkeypatch):
    pytest.importorskip("onnxruntime")
    from autoembedding.adapters import get_adapter
    from autoembedding.offline import offline_root

    monkeypatch.setitem(sys.modules, "onnx", None)
    adapter = get_adapter(INT8)
    with pytest.warns(AutoEmbeddingWarning, match="pinned"):
        adapter.load()
    assert adapter.source == "pinned"
    assert adapter.model_path == offline_root(get_spec(INT8)) / "model.onnx"


def test_switching_the_export_off_uses_the_pinned_file_silently(cache_root, monkeypatch, recwarn):
    pytest.importorskip("onnxruntime")
    from autoembedding.adapters import get_adapter

    monkeypatch.setattr(fast_path, "resolve_int8", lambda spec: pytest.fail("resolved"))
    adapter = get_adapter(INT8, int8_export=False)
    adapter.load()
    assert adapter.source == "pinned"
    monkeypatch.setenv(fast_path.INT8_EXPORT_ENV, "0")
    env_off = get_adapter(INT8)
    env_off.load()
    assert env_off.source == "pinned"
    assert not [w for w in recwarn if issubclass(w.category, AutoEmbeddingWarning)]


def test_adapter_loads_a_cached_export(cache_root, monkeypatch):
    pytest.importorskip("onnxruntime")
    from autoembedding.adapters import get_adapter
    from autoembedding.adapters.onnx import OnnxAdapter

    folder = export_dir(INT8)
    seen: list[Path] = []
    monkeypatch.setattr(fast_path, "resolve_int8", lambda spec: folder)
    monkeypatch.setattr(
        OnnxAdapter, "_load", lambda self: seen.append(self._locate()[0]), raising=True
    )
    adapter = get_adapter(INT8)
    adapter.load()
    assert adapter.source == "export" and seen == [folder / "model.onnx"]


def test_a_cached_export_of_an_older_format_is_rebuilt_not_reused(cache_root, fake_build):
    """Format 2 exports ran batched (vectors depended on their batch): never served, rebuilt."""
    folder = export_dir(INT8)
    staging = new_staging_dir(folder)
    (staging / "model.onnx").write_bytes(b"format 2 export")
    (staging / "tokenizer.json").write_text("{}", encoding="utf-8")
    cache.write_manifest(staging, {"format": 2, "model_id": MINILM})
    install(staging, folder)  # an old export, intact, where this version's export belongs
    with pytest.raises(WeightsIntegrityError, match=r"format 2.*autoembed export MODEL --force"):
        verify_export(folder)
    with pytest.raises(WeightsIntegrityError, match="format 2"):
        onnx_int8.load_exported(folder)
    with pytest.warns(AutoEmbeddingWarning, match="format 2.*Exporting it again"):
        again = fast_path.resolve_int8(get_spec(INT8))
    assert again == folder and len(fake_build) == 1
    manifest = verify_export(folder)
    assert manifest["format"] == cache.EXPORT_FORMAT == 3
    assert manifest["texts_per_run"] == cache.TEXTS_PER_RUN == 1
    assert (folder / "model.onnx").read_bytes() != b"format 2 export"


def test_the_cache_key_changes_with_the_format(cache_root, fake_build, monkeypatch):
    """An export made by the previous format lives under another key: it is not even looked at."""
    new = export_dir(INT8)
    monkeypatch.setattr(cache, "EXPORT_FORMAT", 2)
    old = export_dir(INT8)
    monkeypatch.setattr(cache, "EXPORT_FORMAT", 3)
    assert old != new and old.parent == new.parent
    staging = new_staging_dir(old)
    (staging / "model.onnx").write_bytes(b"format 2 export")
    (staging / "tokenizer.json").write_text("{}", encoding="utf-8")
    cache.write_manifest(staging, {"format": 2, "model_id": MINILM})
    install(staging, old)
    assert fast_path.resolve_int8(get_spec(INT8)) == new  # built anew under the new key
    assert len(fake_build) == 1 and verify_export(new)["format"] == 3
