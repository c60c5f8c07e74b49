"""OpenAIAdapter against httpx.MockTransport servers (and one real slow socket server)."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest

from autoembedding.adapters import get_adapter
from autoembedding.adapters.openai_http import OpenAIAdapter
from autoembedding.catalog import ModelSpec, get_spec
from autoembedding.errors import BackendError

SECRET = "sk-test-SECRETKEY1234567890"


def _vec(text: str, dim: int) -> list[float]:
    rng = np.random.default_rng(abs(hash(text)) % (1 << 32))
    return rng.normal(size=dim).astype(np.float32).tolist()


class Server:
    """A scripted /v1/embeddings: each call pops the next behaviour, then answers normally."""

    def __init__(self, dim: int = 8, script: list[str] | None = None) -> None:
        self.dim = dim
        self.script = list(script or [])
        self.requests: list[dict] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        self.headers.append(request.headers)
        action = self.script.pop(0) if self.script else "ok"
        texts = body["input"]
        dim = body.get("dimensions", self.dim)
        vectors = [_vec(t, dim) for t in texts]
        if action == "500":
            return httpx.Response(500, text="internal error")
        if action == "429":
            return httpx.Response(429, headers={"retry-after": "0"}, text="slow down")
        if action == "401":
            return httpx.Response(
                401, json={"error": {"message": f"Incorrect API key provided: {SECRET}"}}
            )
        if action == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if action == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        if action == "garbage":
            return httpx.Response(200, text="<html>proxy error</html>")
        if action == "count":
            vectors = vectors[:-1]
        if action == "dim":
            vectors = [v[:-1] for v in vectors]
        if action == "nan":
            vectors[0][0] = float("nan")
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        if action == "shuffled":
            data.reverse()
        if body.get("encoding_format") == "base64":
            for item in data:
                raw = np.asarray(item["embedding"], dtype="<f4").tobytes()
                item["embedding"] = base64.b64encode(raw).decode()
        # json.dumps writes NaN as a bare token, as careless servers do.
        return httpx.Response(200, content=json.dumps({"object": "list", "data": data}))


def make(server: Server, dim: int = 8, **options) -> OpenAIAdapter:
    spec = ModelSpec(id="test-model", family="custom", backend="openai", dim=dim, hub_id="m")
    options.setdefault("backoff", 0.0)
    options.setdefault("base_url", "http://test/v1")
    return OpenAIAdapter(spec, transport=httpx.MockTransport(server), **options)


def expected(texts: list[str], dim: int = 8) -> np.ndarray:
    raw = np.asarray([_vec(t, dim) for t in texts], dtype=np.float32)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def test_embeds_in_batches_in_input_order():
    server = Server()
    adapter = make(server, batch_size=2)
    texts = ["a", "bb", "ccc", "dddd", "e"]
    out = adapter.embed_documents(texts)
    assert out.shape == (5, 8)
    np.testing.assert_allclose(out, expected(texts), atol=1e-6)
    assert [len(r["input"]) for r in server.requests] == [2, 2, 1]
    assert all(r["model"] == "m" for r in server.requests)


def test_results_sorted_by_index_and_base64_accepted():
    server = Server(script=["shuffled"])
    adapter = make(server, encoding_format="base64")
    texts = ["one", "two", "three"]
    np.testing.assert_allclose(adapter.embed_documents(texts), expected(texts), atol=1e-6)
    assert server.requests[0]["encoding_format"] == "base64"


def test_500_then_ok_retries():
    server = Server(script=["500", "429", "ok"])
    adapter = make(server, max_retries=3)
    assert adapter.embed_query("hello").shape == (8,)
    assert len(server.requests) == 3


@pytest.mark.parametrize("failure", ["connect", "timeout", "500", "garbage", "count", "dim", "nan"])
def test_persistent_failure_raises_backend_error_after_retries(failure):
    server = Server(script=[failure] * 10)
    adapter = make(server, max_retries=2)
    with pytest.raises(BackendError) as info:
        adapter.embed_documents(["x", "y"])
    assert len(server.requests) == 3
    assert "3 attempt(s)" in str(info.value)


def test_garbage_message_is_clear():
    adapter = make(Server(script=["garbage"] * 5), max_retries=0)
    with pytest.raises(BackendError, match="not an OpenAI embeddings response"):
        adapter.embed_query("x")
    adapter = make(Server(script=["count"] * 5), max_retries=0)
    with pytest.raises(BackendError, match="1 vectors for 2 inputs"):
        adapter.embed_documents(["x", "y"])


def test_4xx_not_retried_and_key_never_leaks(monkeypatch):
    monkeypatch.setenv("MY_KEY", SECRET)
    server = Server(script=["401"] * 5)
    adapter = make(server, api_key_env="MY_KEY", max_retries=3)
    with pytest.raises(BackendError) as info:
        adapter.embed_query("x")
    assert len(server.requests) == 1
    assert server.headers[0]["authorization"] == f"Bearer {SECRET}"
    text = str(info.value) + repr(adapter) + repr(vars(adapter))
    assert "SECRET" not in text and "MY_KEY" in str(info.value)


def test_no_key_sends_no_auth_header_to_local_server(monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    server = Server()
    make(server, api_key_env="NOPE_KEY").embed_query("x")
    assert "authorization" not in server.headers[0]


def test_openai_without_key_says_what_to_set(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    adapter = get_adapter("text-embedding-3-small")
    with pytest.raises(BackendError, match="OPENAI_API_KEY"):
        adapter.embed_query("x")


def test_dimensions_field_sent_for_matryoshka_and_not_truncated_twice():
    server = Server(dim=1536)
    spec = get_spec("text-embedding-3-small")
    adapter = OpenAIAdapter(
        spec, base_url="http://test/v1", truncate_dim=256, transport=httpx.MockTransport(server)
    )
    out = adapter.embed_documents(["a", "b"])
    assert server.requests[0]["dimensions"] == 256
    assert out.shape == (2, 256)
    np.testing.assert_allclose(out, expected(["a", "b"], 256), atol=1e-6)


def test_no_dimensions_field_without_matryoshka():
    server = Server(dim=8)
    out = make(server, truncate_dim=4).embed_documents(["a"])
    assert "dimensions" not in server.requests[0]
    assert out.shape == (1, 4)


def test_dim_learned_from_first_response_for_ad_hoc_model():
    server = Server(dim=12)
    adapter = get_adapter(
        "my-server-model",
        backend="openai",
        base_url="http://test/v1",
        backoff=0.0,
        transport=httpx.MockTransport(server),
    )
    assert adapter.dim == 12
    assert adapter.embed_documents(["a", "b"]).shape == (2, 12)
    server.script = ["dim"] * 5
    with pytest.raises(BackendError, match="expected 12"):
        adapter.embed_documents(["a"])


def test_input_type_and_extra_body_sent():
    server = Server()
    adapter = make(server, input_type=("query", "passage"), extra_body={"truncate": True})
    adapter.embed_query("q")
    adapter.embed_documents(["d"])
    assert server.requests[0]["input_type"] == "query"
    assert server.requests[1]["input_type"] == "passage"
    assert server.requests[1]["truncate"] is True


def test_empty_string_sent_as_space():
    server = Server()
    make(server).embed_documents([""])
    assert server.requests[0]["input"] == [" "]


class _SlowHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        time.sleep(3)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_slow_real_server_never_hangs_past_deadline():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        spec = ModelSpec(id="slow", family="custom", backend="openai", dim=8, hub_id="m")
        adapter = OpenAIAdapter(
            spec,
            base_url=f"http://127.0.0.1:{httpd.server_port}/v1",
            timeout=0.3,
            deadline=1.0,
            max_retries=5,
            backoff=0.1,
        )
        start = time.monotonic()
        with pytest.raises(BackendError, match="timed out"):
            adapter.embed_query("x")
        assert time.monotonic() - start < 2.0
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_api_down_raises_backend_error_quickly():
    spec = ModelSpec(id="down", family="custom", backend="openai", dim=8, hub_id="m")
    adapter = OpenAIAdapter(
        spec,
        base_url="http://127.0.0.1:9/v1",
        timeout=0.5,
        connect_timeout=0.5,
        max_retries=1,
        backoff=0.05,
    )
    with pytest.raises(BackendError, match="cannot reach the server|timed out"):
        adapter.embed_query("x")


def test_base_url_is_parsed_not_pasted():
    server = Server()
    seen: list[httpx.URL] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return server(request)

    spec = ModelSpec(id="test-model", family="custom", backend="openai", dim=8, hub_id="m")
    adapter = OpenAIAdapter(
        spec,
        base_url="https://azure.example/openai/v1/?api-version=2024-02-01",
        transport=httpx.MockTransport(recording),
    )
    assert adapter.base_url == "https://azure.example/openai/v1?api-version=2024-02-01"
    adapter.embed_query("x")
    assert str(seen[0]) == "https://azure.example/openai/v1/embeddings?api-version=2024-02-01"


@pytest.mark.parametrize("bad", ["localhost:8000/v1", "ftp://host/v1", "http:///v1", "/v1"])
def test_base_url_that_is_not_http_is_refused(bad):
    spec = ModelSpec(id="test-model", family="custom", backend="openai", dim=8, hub_id="m")
    with pytest.raises(ValueError, match="http"):
        OpenAIAdapter(spec, base_url=bad)


def test_key_is_required_only_by_openai_itself(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = get_spec("text-embedding-3-small")
    with pytest.raises(BackendError, match="OPENAI_API_KEY"):
        OpenAIAdapter(spec, base_url="https://api.openai.com/v1/").load()
    OpenAIAdapter(spec, base_url="http://127.0.0.1:9/v1").load()  # a local server: no key needed


def test_password_in_base_url_never_leaks():
    spec = ModelSpec(id="test-model", family="custom", backend="openai", dim=8, hub_id="m")
    adapter = OpenAIAdapter(
        spec,
        base_url="http://user:hunter2secret@test/v1",
        transport=httpx.MockTransport(Server(script=["401"])),
        max_retries=0,
    )
    with pytest.raises(BackendError) as info:
        adapter.embed_query("x")
    assert "hunter2secret" not in str(info.value) and "401" in str(info.value)
