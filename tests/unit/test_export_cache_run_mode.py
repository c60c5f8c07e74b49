"""How the ONNX adapter runs an int8 export: one text per ``session.run``, unpadded (issue 22.1).

ONNX Runtime is replaced by a fake session whose output depends on the whole input tensor (its
padded length and batch size), as a dynamically quantised graph's does: a text's vector then
matches alone and in a batch only if every text runs alone. A real tokenizer is built in memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
tokenizers = pytest.importorskip("tokenizers")

from autoembedding.adapters import get_adapter  # noqa: E402
from autoembedding.adapters.export import cache  # noqa: E402


class FakeSession:
    """Outputs ``[tokens of the text, padded length, batch size, 1]`` per row; logs each run."""

    runs: list[tuple[int, ...]] = []

    def __init__(self, path: str, **_: Any) -> None:
        self.path = path

    def get_inputs(self) -> list[Any]:
        return [
            SimpleNamespace(name=name, type="tensor(int64)")
            for name in ("input_ids", "attention_mask", "token_type_ids")
        ]

    def get_outputs(self) -> list[Any]:
        return [SimpleNamespace(name="sentence_embedding", type="tensor(float)", shape=[None, 4])]

    def run(self, names: list[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        mask = feed["attention_mask"]
        FakeSession.runs.append(mask.shape)
        rows, width = mask.shape
        out = np.stack([mask.sum(axis=1), np.full(rows, width), np.full(rows, rows), np.ones(rows)])
        return [out.T.astype(np.float32)]


def _folder(tmp_path: Path, manifest: dict[str, Any] | None) -> Path:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    words = ["[PAD]", "[UNK]", *"alpha beta gamma delta epsilon".split()]
    tokenizer = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    folder = tmp_path / "export"
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "model.onnx").write_bytes(b"fake")
    if manifest is not None:
        (folder / cache.EXPORT_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


TEXTS = ["alpha", "alpha beta gamma delta epsilon alpha beta", "gamma delta", "beta"]


@pytest.fixture
def fake_ort(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "InferenceSession", FakeSession)
    FakeSession.runs = []
    return FakeSession.runs


def test_an_int8_export_runs_one_unpadded_text_per_session_run(tmp_path, fake_ort):
    folder = _folder(tmp_path, {"format": cache.EXPORT_FORMAT, "texts_per_run": 1})
    adapter = get_adapter(str(folder), max_tokens=32)
    adapter.load()
    fake_ort.clear()  # the dimension probe's run
    batch = adapter.embed_documents(TEXTS)
    assert adapter.texts_per_run == 1
    assert all(rows == 1 for rows, _ in fake_ort), fake_ort  # one text per run
    assert sorted(width for _, width in fake_ort) == [1, 1, 2, 7]  # no padding
    alone = np.stack([adapter.embed_documents([text])[0] for text in TEXTS])
    np.testing.assert_array_equal(batch, alone)


def test_other_onnx_files_keep_running_whole_batches(tmp_path, fake_ort):
    folder = _folder(tmp_path, None)  # a plain ONNX file: no export.json
    adapter = get_adapter(str(folder), max_tokens=32)
    adapter.load()
    fake_ort.clear()  # the dimension probe's run
    adapter.embed_documents(TEXTS)
    assert adapter.texts_per_run is None
    assert fake_ort == [(4, 7)]  # one padded batch, one run


def test_an_unreadable_manifest_is_an_error_that_says_to_re_export(tmp_path, fake_ort):
    folder = _folder(tmp_path, None)
    (folder / cache.EXPORT_MANIFEST).write_text("{broken", encoding="utf-8")
    with pytest.raises(Exception, match="re-export"):
        get_adapter(str(folder), max_tokens=32).embed_documents(["alpha"])


def test_texts_per_run_only_takes_one_or_none(tmp_path):
    with pytest.raises(ValueError, match="texts_per_run must be 1"):
        get_adapter(str(_folder(tmp_path, None)), texts_per_run=8)
