"""Issue 25 item 3 (and 22.3): the verification's vector check fires on a real model's swap.

A swap to a real ONNX model copies a small collection; between the copy and the verification one
stored vector of the staging copy is corrupted through Chroma (a sign flip of a real vector: the
dimension and norm are right, only the direction is wrong, which no shape check sees). The swap
must stop with "does not match a fresh embedding", name that record and its cosine, keep the
copy with all its records, and ``autoembed swap --status`` must say ``verify-failed`` with the
commands to re-verify the copy and to remove it. The swap's self-check (before the copy) passes on
this model, so the tolerance is its strict 0.999.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.integration]

MODEL = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
N = 24
BAD = "d07"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap locks in the test's folder (the model cache stays the shared one)."""
    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(tmp_path / "cache"))


def test_a_corrupted_vector_in_the_staging_copy_fails_the_verification_and_keeps_the_copy(
    chroma_client: Any, chroma_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    from autoembedding.cli import main
    from autoembedding.errors import SwapError
    from autoembedding.integrations.chroma import get_or_create_collection
    from autoembedding.swap import complete, swap
    from autoembedding.swap.journal import staging_name
    from autoembedding.swap.model import resolve_model

    words = "cells protein expression tumour growth signalling pathway mice patients".split()
    col = get_or_create_collection(chroma_client, "docs", model="fake/old")
    col.add(
        ids=[f"d{k:02d}" for k in range(N)],
        documents=[" ".join(words[(k + j) % 9] for j in range(3 + 5 * (k % 5))) for k in range(N)],
    )
    _, record = resolve_model(MODEL, {})
    staging = staging_name("docs", record)

    real = complete.catch_up
    seen: dict[str, Any] = {}

    def corrupt_then_verify(source: Any, copy: Any, *args: Any, **kwargs: Any) -> Any:
        got = copy.get(ids=[BAD], include=["embeddings"])
        seen["count"] = copy.count()
        copy.update(ids=[BAD], embeddings=[(-np.asarray(got["embeddings"][0])).tolist()])
        return real(source, copy, *args, **kwargs)

    monkeypatch.setattr(complete, "catch_up", corrupt_then_verify)
    with pytest.raises(SwapError) as caught:
        swap("docs", MODEL, client=chroma_client, page_size=8, verify_sample=N, progress=False)
    monkeypatch.undo()
    message = str(caught.value)
    assert seen["count"] == N  # the copy was complete when the vector was corrupted
    assert "does not match a fresh embedding" in message, message
    assert f"'{BAD}' (cosine -1.0000)" in message, message  # only that record, its cosine
    assert f"1 of {N} sampled records" in message and "(cosine <= 0.999;" in message, message
    # the copy is kept, with every record, and nothing was renamed
    names = {c if isinstance(c, str) else c.name for c in chroma_client.list_collections()}
    assert staging in names and "docs" in names
    assert chroma_client.get_collection(staging).count() == N

    code = main(["swap", "--chroma-path", str(chroma_path), "--collection", "docs", "--status",
                 "--json", "-"])  # fmt: skip
    state = json.loads(capsys.readouterr().out)
    assert code == 0 and state["state"] == "verify-failed", state
    assert f"'{BAD}' (cosine -1.0000)" in state["message"]
    assert "Re-verify the kept copy" in state["message"]
    assert f"--model {MODEL}" in state["message"], state["message"]
    assert state["command"].endswith("--drop-staging")
