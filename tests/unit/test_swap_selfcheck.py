"""Issue 22 item 3: a verification that never throws work away (fake models, real Chroma).

* The swap measures the target model's self-consistency before copying (the verification
  sample's first texts in one batch and alone) and refuses a model whose vectors depend on the
  batch, with the measured cosine, before anything is written.
* The verification's tolerance is derived from that measurement (:func:`tolerance_from`): a
  model that moves a little with the batch (as one answering over HTTP may) still swaps.
* A failed verification keeps the copy, names the records that differ with their cosines, and
  ``--status`` gives the commands; a rerun re-verifies the kept copy without re-embedding it.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("chromadb")

from autoembedding.adapters.fake import FakeAdapter  # noqa: E402
from autoembedding.errors import SwapError  # noqa: E402
from autoembedding.integrations.chroma import get_or_create_collection  # noqa: E402
from autoembedding.swap import complete, swap, swap_status  # noqa: E402
from autoembedding.swap.journal import staging_name  # noqa: E402
from autoembedding.swap.verify import (  # noqa: E402
    FLOOR_COSINE,
    MIN_COSINE,
    SELF_CHECK_MARGIN,
    SelfCheckError,
    VerificationError,
    tolerance_from,
)

N = 12


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Swap locks in the test's folder."""
    monkeypatch.setenv("AUTOEMBEDDING_CACHE", str(tmp_path / "cache"))


def fill(client, name: str = "docs"):
    col = get_or_create_collection(client, name, model="fake/old")
    col.add(
        ids=[f"d{i:02d}" for i in range(N)],
        documents=[f"document {i} about cats and dogs, number{i}" for i in range(N)],
    )
    return client.get_collection(name)


def names(client) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


class BatchDependent(FakeAdapter):
    """A model whose vector of a text moves with the size of its batch by ``shift``.

    ``shift`` 1.0 is a broken model (cosine ~0.5 between a batch and alone); 0.04 moves a
    vector by cosine ~0.998 (a model that is close, not bitwise, stable).
    """

    batch_invariant = False

    def __init__(self, *args, shift: float = 1.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shift = shift
        self.texts = 0

    def embed_documents(self, texts):
        self.texts += len(texts)
        vectors = np.asarray(super().embed_documents(texts), dtype=np.float64)
        direction = np.random.default_rng(len(texts)).standard_normal(vectors.shape[1])
        moved = vectors + self.shift * direction / np.linalg.norm(direction)
        return (moved / np.linalg.norm(moved, axis=1, keepdims=True)).tolist()


def test_the_tolerance_is_derived_from_the_measurement():
    assert tolerance_from(1.0) == MIN_COSINE == 0.999  # bitwise stable: the strict bar
    assert tolerance_from(0.9995) == pytest.approx(0.9995 - SELF_CHECK_MARGIN)
    assert tolerance_from(0.9992) == pytest.approx(0.9982)
    assert tolerance_from(0.95) == FLOOR_COSINE == 0.99  # never below the floor


def test_a_model_whose_vectors_depend_on_the_batch_is_refused_before_copying(chroma_client):
    fill(chroma_client)
    before = chroma_client.get_collection("docs").get(include=["embeddings"])
    model = BatchDependent("new", dim=16)
    with pytest.raises(SelfCheckError) as caught:
        swap("docs", model, client=chroma_client, progress=False)
    message = str(caught.value)
    assert "does not reproduce its own vectors" in message
    assert "Nothing was copied" in message and "--model fake/new" in message
    cosine = float(message.split("gives cosine ")[1].split(",")[0])
    assert cosine < FLOOR_COSINE
    # nothing written: no staging copy, no baseline, the original as it was
    assert names(chroma_client) == {"docs"}
    after = chroma_client.get_collection("docs").get(include=["embeddings"])
    assert np.array_equal(np.asarray(after["embeddings"]), np.asarray(before["embeddings"]))
    assert swap_status("docs", client=chroma_client).state == "idle"
    # only the self-check's texts were embedded (12 in a batch + 12 alone), no page
    assert model.texts == 2 * N


def test_a_model_failing_in_the_self_check_says_nothing_was_copied(chroma_client):
    fill(chroma_client)
    model = BatchDependent("new", dim=16, fail_after_calls=2)
    with pytest.raises(SwapError) as caught:
        swap("docs", model, client=chroma_client, progress=False)
    message = str(caught.value)
    assert "while checking the model before the copy" in message and "failed on purpose" in message
    assert "Nothing was copied; rerun: autoembed swap" in message
    assert names(chroma_client) == {"docs"}


def test_a_slightly_unstable_model_swaps_under_the_derived_tolerance(chroma_client):
    fill(chroma_client)
    model = BatchDependent("new", dim=16, shift=0.04)
    # pages of 5: the copy embeds batches of 5, 5, 2; verification one batch of 12
    result = swap("docs", model, client=chroma_client, page_size=5, progress=False)
    assert result.verified_vectors == N and result.backup
    (note,) = [n for n in result.notes if n.startswith("Self-check")]
    tolerance = float(note.rsplit("tolerance ", 1)[1].rstrip("."))
    assert note.startswith("Self-check: 5 texts")  # the first page's, batched and alone
    assert FLOOR_COSINE <= tolerance < MIN_COSINE  # a fixed 0.999 would have failed this swap
    assert note in result.summary()


def _corrupting(monkeypatch, client, ids: list[str]) -> None:
    """Corrupt the stored vectors of ``ids`` in the staging copy just before verification."""
    real = complete.catch_up

    def corrupt_then_verify(source, copy, *args, **kwargs):
        got = copy.get(ids=ids, include=["embeddings"])
        flipped = [(-np.asarray(e)).tolist() for e in got["embeddings"]]
        copy.update(ids=got["ids"], embeddings=flipped)
        return real(source, copy, *args, **kwargs)

    monkeypatch.setattr(complete, "catch_up", corrupt_then_verify)


def test_a_failed_verification_names_the_records_keeps_the_copy_and_reverifies_it(
    chroma_client, monkeypatch
):
    fill(chroma_client)
    model = FakeAdapter("new", dim=16)
    staging = staging_name("docs", model.record())
    _corrupting(monkeypatch, chroma_client, ["d03", "d07"])
    with pytest.raises(VerificationError) as caught:
        swap("docs", model, client=chroma_client, progress=False)
    monkeypatch.undo()
    message = str(caught.value)
    assert "does not match a fresh embedding" in message
    assert "'d03' (cosine -1.0000)" in message and "'d07' (cosine -1.0000)" in message
    assert "2 of 12 sampled records" in message
    assert "--model fake/new" in message and "--drop-staging" in message
    # the copy is kept, every record in it
    assert staging in names(chroma_client)
    assert chroma_client.get_collection(staging).count() == N

    state = swap_status("docs", client=chroma_client)
    assert state.state == "verify-failed"
    assert "'d03' (cosine -1.0000)" in state.message
    assert "Re-verify the kept copy" in state.message and "--model fake/new" in state.message
    assert "--drop-staging" in state.message and state.command.endswith("--drop-staging")

    # a rerun re-verifies the kept copy: only the sample is embedded, the copy is not redone
    again = FakeAdapter("new", dim=16)
    with pytest.raises(VerificationError, match="'d03' \\(cosine -1.0000\\)"):
        swap("docs", again, client=chroma_client, progress=False)
    assert again.texts_seen == N  # the verification sample (all 12), no page re-embedded

    # once the two vectors are right again, the rerun switches without re-embedding the copy
    copy = chroma_client.get_collection(staging)
    source = chroma_client.get_collection("docs").get(ids=["d03", "d07"])
    fixed = FakeAdapter("new", dim=16).embed_documents(source["documents"])
    copy.update(ids=source["ids"], embeddings=np.asarray(fixed))
    last = FakeAdapter("new", dim=16)
    result = swap("docs", last, client=chroma_client, progress=False)
    assert result.embedded == 0 and result.verified_vectors == N and result.backup
    assert last.texts_seen == N
    assert swap_status("docs", client=chroma_client).state == "swapped"
