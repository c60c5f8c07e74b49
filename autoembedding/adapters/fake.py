"""A deterministic fake adapter with controllable geometry, for tests (yours and ours).

Like httpx's mock transport, it ships in the package so users can test their own code without a
model. Vectors are hashed bags of words: texts that share words get close vectors, so retrieval
works, and ``noise`` mixes in a per-text random direction to make a *worse* model on purpose.
``latency_ms``, ``fail_after_calls`` and ``hang_s`` let tests exercise the slow/crashing paths.

Example:
    >>> from autoembedding.adapters.fake import FakeAdapter
    >>> good, bad = FakeAdapter("good"), FakeAdapter("bad", noise=0.9)
    >>> good.embed_documents(["red apple", "blue car"]).shape
    (2, 64)
"""

from __future__ import annotations

import hashlib
import re
import time

import numpy as np

from autoembedding.adapters.base import BaseAdapter, Precision
from autoembedding.arguments import integer, number
from autoembedding.catalog import ModelSpec
from autoembedding.errors import BackendError, InvalidArgumentError

__all__ = ["FakeAdapter", "fake_spec"]

_TOKEN = re.compile(r"\w+", re.UNICODE)


def fake_spec(
    name: str = "fake", dim: int = 64, *, query_prompt: str = "", document_prompt: str = ""
) -> ModelSpec:
    """A catalog-like spec for a fake model called ``fake/<name>``."""
    return ModelSpec(
        id=f"fake/{name}",
        family="fake",
        backend="fake",
        dim=dim,
        matryoshka_dims=tuple(d for d in (dim, dim // 2, dim // 4) if d >= 8),
        query_prompt=query_prompt,
        document_prompt=document_prompt,
        languages=("multilingual",),
        max_tokens=512,
        license="mit",
        description="Deterministic hashed bag-of-words, for tests.",
    )


def _seed(*parts: str) -> int:
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class FakeAdapter(BaseAdapter):
    """A fake embedding model: hashed bag of words plus optional noise.

    Args:
        name: Model name; the id is ``fake/<name>``. Different names give different spaces.
        dim: Output dimension.
        noise: 0 (pure bag of words) to 1 (pure per-text noise, useless for retrieval).
        latency_ms: Sleep this long per encode call, to stand in for a slow model.
        fail_after_calls: Raise :class:`BackendError` on every encode call after this many.
        hang_s: Sleep this long on every encode call (a hanging model).
        query_prompt: Query prompt (part of what the vectors are made from).
        document_prompt: Document prompt.
        truncate_dim: See :class:`BaseAdapter`.
        precision: See :class:`BaseAdapter`.
        normalize: See :class:`BaseAdapter`.
        batch_size: See :class:`BaseAdapter`.

    Raises:
        InvalidArgumentError: If an argument has a bad type or value (a ``dim`` < 1, a
            ``noise`` outside 0..1, ...); the message names it.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        dim: int = 64,
        noise: float = 0.0,
        latency_ms: float = 0.0,
        fail_after_calls: int | None = None,
        hang_s: float = 0.0,
        query_prompt: str = "",
        document_prompt: str = "",
        truncate_dim: int | None = None,
        precision: Precision = "float32",
        normalize: bool = True,
        batch_size: int = 32,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgumentError(
                f"name must be a non-empty string (the id is fake/<name>), got {name!r:.60}.",
                argument="name",
            )
        integer(dim, "dim", minimum=1)
        number(noise, "noise", minimum=0, maximum=1)
        number(latency_ms, "latency_ms", minimum=0)
        number(hang_s, "hang_s", minimum=0)
        if fail_after_calls is not None:
            integer(fail_after_calls, "fail_after_calls", minimum=0)
        super().__init__(
            fake_spec(name, dim, query_prompt=query_prompt, document_prompt=document_prompt),
            truncate_dim=truncate_dim,
            precision=precision,
            normalize=normalize,
            batch_size=batch_size,
        )
        self.noise = noise
        self.latency_ms = latency_ms
        self.fail_after_calls = fail_after_calls
        self.hang_s = hang_s
        self.calls = 0
        self.texts_seen = 0

    def _token_vector(self, token: str) -> np.ndarray:
        rng = np.random.default_rng(_seed(self.spec.id, "tok", token))
        return rng.standard_normal(self.native_dim).astype(np.float32)

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        self.calls += 1
        if self.fail_after_calls is not None and self.calls > self.fail_after_calls:
            raise BackendError(f"{self.model_id} failed on purpose (call {self.calls}).")
        if self.hang_s:
            time.sleep(self.hang_s)
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000.0)
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.native_dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = _TOKEN.findall(text.lower())[: self.spec.max_tokens]
            bag = np.zeros(self.native_dim, dtype=np.float32)
            for token in tokens:
                bag += self._token_vector(token)
            norm = float(np.linalg.norm(bag))
            bag = bag / norm if norm else bag
            if self.noise:
                rng = np.random.default_rng(_seed(self.spec.id, "noise", text))
                rand = rng.standard_normal(self.native_dim).astype(np.float32)
                rand /= float(np.linalg.norm(rand))
                bag = (1.0 - self.noise) * bag + self.noise * rand
            if not bag.any():  # empty text: a fixed, valid vector
                bag[0] = 1.0
            out[row] = bag
        return out
