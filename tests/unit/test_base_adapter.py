"""Behaviour shared by every adapter, checked on the fake adapter."""

from __future__ import annotations

import numpy as np
import pytest

import autoembedding as ae
from autoembedding.adapters.base import TruncationWarning
from autoembedding.adapters.fake import FakeAdapter


def test_shapes_dtype_and_norm():
    adapter = FakeAdapter(dim=32)
    docs = adapter.embed_documents(["red apple", "blue car", ""])
    assert docs.shape == (3, 32) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-5)
    query = adapter.embed_query("red apple")
    assert query.shape == (32,)
    np.testing.assert_allclose(query, docs[0], rtol=1e-5)


def test_empty_list_gives_empty_array():
    assert FakeAdapter(dim=16).embed_documents([]).shape == (0, 16)


def test_empty_string_gives_valid_vector():
    vec = FakeAdapter().embed_query("")
    assert np.isfinite(vec).all() and np.linalg.norm(vec) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [None, 3, b"bytes"])
def test_non_string_names_index(bad):
    with pytest.raises(TypeError, match="index 2"):
        FakeAdapter().embed_documents(["a", "b", bad])


def test_single_string_is_refused():
    with pytest.raises(TypeError, match="single string"):
        FakeAdapter().embed_documents("abc")


def test_order_is_kept_despite_length_sorting():
    adapter = FakeAdapter(batch_size=2)
    texts = ["a b c d e f", "x", "long text " * 10, "mid size text"]
    together = adapter.embed_documents(texts)
    alone = np.stack([adapter.embed_documents([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)


def test_truncate_dim_renormalises_and_keeps_prefix_direction():
    full = FakeAdapter(dim=64).embed_query("matryoshka doll")
    cut = FakeAdapter(dim=64, truncate_dim=16).embed_query("matryoshka doll")
    assert cut.shape == (16,)
    assert np.linalg.norm(cut) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(cut, full[:16] / np.linalg.norm(full[:16]), rtol=1e-4)


def test_truncate_dim_out_of_range():
    with pytest.raises(ValueError, match="truncate_dim"):
        FakeAdapter(dim=32, truncate_dim=64)


def test_int8_and_binary_precision():
    texts = ["red apple pie", "green apple", "fast blue car", "slow red truck"]
    f32 = FakeAdapter(dim=64).embed_documents(texts)
    i8 = FakeAdapter(dim=64, precision="int8").embed_documents(texts)
    b1 = FakeAdapter(dim=64, precision="binary").embed_documents(texts)
    raw_i8 = FakeAdapter(dim=64, precision="int8", normalize=False).embed_documents(texts)
    assert raw_i8.min() >= -128 and raw_i8.max() <= 127
    np.testing.assert_array_equal(raw_i8, np.round(raw_i8))
    raw_b = FakeAdapter(dim=64, precision="binary", normalize=False).embed_documents(texts)
    assert set(np.unique(raw_b)) <= {-1.0, 1.0}
    # Quantised similarities track the float ones. Measured on these texts: 0.9977 for int8,
    # 0.9718 for binary (1 bit per dimension); a broken scale or sign would fall far below.
    for quant, floor in ((i8, 0.995), (b1, 0.95)):
        sims_f, sims_q = f32 @ f32.T, quant @ quant.T
        assert np.corrcoef(sims_f.ravel(), sims_q.ravel())[0, 1] > floor
    assert FakeAdapter(dim=64, precision="int8").bytes_per_vector == 64
    assert FakeAdapter(dim=64, precision="binary").bytes_per_vector == 8


def test_bad_precision():
    with pytest.raises(ValueError, match="precision"):
        FakeAdapter(precision="fp16")  # type: ignore[arg-type]


def test_prompts_are_applied():
    adapter = FakeAdapter(query_prompt="query: ", document_prompt="passage: ")
    plain = FakeAdapter()
    assert not np.allclose(adapter.embed_query("apple"), plain.embed_query("apple"))
    np.testing.assert_allclose(
        adapter.embed_query("apple"), plain.embed_query("query: apple"), rtol=1e-5
    )
    np.testing.assert_allclose(
        adapter.embed_documents(["apple"])[0],
        plain.embed_documents(["passage: apple"])[0],
        rtol=1e-5,
    )


def test_truncation_warning_said_once():
    adapter = FakeAdapter()
    with pytest.warns(TruncationWarning):
        adapter._warn_truncated(3)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adapter._warn_truncated(2)  # second time: silent


def test_record_roundtrip():
    adapter = FakeAdapter("r", dim=32, truncate_dim=16, precision="int8", query_prompt="q: ")
    record = adapter.record()
    assert record.dim == 16
    again = ae.ModelRecord.from_metadata({"other": 1, **record.to_metadata()})
    assert again == record and again.same_vectors_as(record)
    assert ae.ModelRecord.from_metadata({"x": 1}) is None


def test_get_adapter_unknown_lists_how_to_see_known():
    with pytest.raises(ae.UnknownModelError, match="autoembed models"):
        ae.get_adapter("no-such-model-xyz")


def test_get_adapter_unknown_backend():
    with pytest.raises(ae.UnknownModelError, match="backend"):
        ae.get_adapter("whatever/model", backend="nope")


def test_fake_failure_modes():
    with pytest.raises(ae.BackendError):
        FakeAdapter(fail_after_calls=0).embed_query("x")
    with pytest.raises(ValueError):
        FakeAdapter(noise=2.0)


def test_noise_makes_retrieval_worse():
    docs = [f"topic{i} alpha{i} beta{i} gamma{i}" for i in range(50)]
    queries = [f"alpha{i} gamma{i}" for i in range(50)]

    def hits(adapter):
        d = adapter.embed_documents(docs)
        q = adapter.embed_queries(queries)
        return int(((q @ d.T).argmax(axis=1) == np.arange(50)).sum())

    assert hits(FakeAdapter("a")) > hits(FakeAdapter("a", noise=0.95))


class _CuttingFake(FakeAdapter):
    """A fake that reports texts of more than 20 characters as cut, batch by batch."""

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        self._add_truncated(sum(1 for t in texts if len(t) > 20))
        return super()._encode(texts, is_query=is_query)


def test_truncation_warning_counts_every_batch_of_the_call():
    adapter = _CuttingFake(batch_size=2)
    texts = ["a long text of many words " * 2] * 5 + ["short"] * 3  # 5 long ones, 3 batches
    with pytest.warns(TruncationWarning, match=r"^5 text\(s\)") as caught:
        adapter.embed_documents(texts)
    assert len(caught) == 1
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adapter.embed_documents(texts)  # once per adapter


def test_postprocess_is_the_quantize_functions():
    from autoembedding.adapters import quantize

    texts = ["red apple pie", "green apple", "fast blue car", "slow red truck", ""]
    base = FakeAdapter(dim=64)
    raw = base.encode_raw(texts, is_query=False)
    cal = base.encode_raw(base.calibration_texts, is_query=False)
    for truncate_dim in (None, 16):
        ranges = quantize.calibrate_int8(cal, truncate_dim)
        for precision in ("float32", "int8", "binary"):
            for normalize in (True, False):
                adapter = FakeAdapter(
                    dim=64, truncate_dim=truncate_dim, precision=precision, normalize=normalize
                )
                want = quantize.postprocess(
                    raw,
                    truncate_dim=truncate_dim,
                    precision=precision,
                    normalize=normalize,
                    int8_ranges=ranges,
                )
                got = adapter.embed_documents(texts)
                assert got.tobytes() == want.tobytes(), (truncate_dim, precision, normalize)


def test_quantize_functions_by_value():
    from autoembedding.adapters import quantize

    raw = np.array([[3.0, 4.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(quantize.matryoshka(raw, 2), [[0.6, 0.8], [0.0, 0.0]], atol=1e-7)
    assert quantize.quantize_binary(raw).tolist() == [[1, 1, -1, -1], [-1, -1, -1, -1]]
    low, high = np.array([-1.0, 0.0], np.float32), np.array([1.0, 0.0], np.float32)
    codes = quantize.quantize_int8(np.array([[-1.0, 5.0], [1.5, -5.0], [0.0, 0.0]]), (low, high))
    assert codes.tolist() == [[-128, 5 - 128], [127, -128], [-1, -128]]  # clipped, empty range
    with pytest.raises(ValueError, match="int8_ranges"):
        quantize.postprocess(raw, precision="int8")


def test_view_calibrates_afresh_and_accepts_given_raw_vectors():
    base = FakeAdapter(dim=64)
    texts = ["red apple pie", "green apple"]
    view = base.view(truncate_dim=16, precision="int8")
    assert not view.int8_calibrated and view.dim == 16
    own = view.embed_documents(texts)  # calibrates itself
    assert view.int8_calibrated
    other = base.view(truncate_dim=16, precision="int8")
    other.calibrate_int8(base.encode_raw(base.calibration_texts, is_query=False))
    assert other.embed_documents(texts).tobytes() == own.tobytes()
    same = FakeAdapter(dim=64, truncate_dim=16, precision="int8").embed_documents(texts)
    assert same.tobytes() == own.tobytes()
