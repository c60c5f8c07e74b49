"""Open Chroma: one connect for a path, a host or a URL, and readers that wait out a swap.

Every place in the package that needs a Chroma client calls :func:`connect`, and every place that
opens a collection by name calls :func:`open_collection`, so a missing database, a server that is
not there or a collection that does not exist always gives the same clear error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from autoembedding.chroma.errors import chroma_errors, is_not_found
from autoembedding.chroma.flags import location_flags
from autoembedding.errors import CollectionError, MissingExtraError

__all__ = [
    "connection_flags",
    "DEFAULT_PORT",
    "call_with_collection",
    "connect",
    "describe_client",
    "import_chromadb",
    "open_collection",
]

#: The port ``chroma run`` listens on unless told otherwise.
DEFAULT_PORT = 8000
#: The file every Chroma 1.x database folder holds.
_DATABASE_FILE = "chroma.sqlite3"


def import_chromadb() -> Any:
    """Import chromadb or raise an error naming the extra."""
    try:
        import chromadb
    except ImportError as exc:
        raise MissingExtraError(
            "chromadb is not installed; install it with: "
            f"pip install 'autoembedding[chroma]' ({exc})"
        ) from exc
    return chromadb


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    url: str | None = None,
    must_exist: bool = False,
    **settings: Any,
) -> Any:
    """Open a Chroma client: an embedded database folder, or a server by host or by URL.

    Give exactly one of ``path``, ``host`` or ``url``. A server is asked for a ``heartbeat()``
    before the client is returned, so a server that is not there fails here, clearly, and not at
    the first read.

    Args:
        path: Folder of an embedded (``PersistentClient``) database.
        host: Host of a Chroma server (with ``port``, default 8000).
        port: Port of the server named by ``host``.
        url: ``http(s)://host[:port]`` of a Chroma server (port 8000 if omitted for ``http``,
            443 for ``https``).
        must_exist: For ``path``: refuse a folder that holds no Chroma database instead of
            creating an empty one (what a command that reads a collection wants).
        **settings: Passed to ``chromadb.PersistentClient`` / ``chromadb.HttpClient``
            (``settings``, ``tenant``, ``database``, and for a server ``headers``, ``ssl``).

    Returns:
        A chromadb client.

    Raises:
        CollectionError: If not exactly one of ``path``/``host``/``url`` is given, the URL is
            not ``http(s)://host[:port]``, or ``path`` is a file, cannot be used, or (with
            ``must_exist``) holds no database; the message names the path.
        ChromaUnavailableError: If no Chroma server answers; the message names the URL.
        MissingExtraError: If chromadb is not installed.

    Example:
        >>> client = connect("./db")  # doctest: +SKIP
        >>> client = connect(url="http://localhost:8000")  # doctest: +SKIP
    """
    given = [name for name, value in (("path", path), ("host", host), ("url", url)) if value]
    if len(given) != 1:
        raise CollectionError(
            "Say where Chroma is with exactly one of: a database folder (path), a server host "
            f"(host and port) or a server URL (url=http://host:port); got {given or 'none'}."
        )
    if port is not None and host is None:
        raise CollectionError("port= goes with host=; put the port into the URL instead.")
    chromadb = import_chromadb()
    if path:
        return _connect_path(chromadb, Path(path).expanduser(), must_exist, settings)
    if url:
        host, port, ssl = _parse_url(url)
        settings.setdefault("ssl", ssl)
    assert host is not None
    port = DEFAULT_PORT if port is None else int(port)
    where = f"{'https' if settings.get('ssl') else 'http'}://{host}:{port}"
    with chroma_errors("connect to", where=where):
        client = chromadb.HttpClient(host=host, port=port, **settings)
        client.heartbeat()
    return client


def _parse_url(url: str) -> tuple[str, int, bool]:
    """``(host, port, ssl)`` of ``http(s)://host[:port]``."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError as exc:
        raise CollectionError(f"The Chroma URL {url!r} has a bad port ({exc}).") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CollectionError(
            f"The Chroma URL {url!r} is not http(s)://host[:port] (e.g. http://localhost:8000)."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise CollectionError(
            f"The Chroma URL {url!r} has a path or query; give only http(s)://host[:port]."
        )
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else DEFAULT_PORT), ssl


def _connect_path(chromadb: Any, path: Path, must_exist: bool, settings: dict[str, Any]) -> Any:
    if path.exists() and not path.is_dir():
        raise CollectionError(
            f"{path} is a file, not a Chroma database folder. Give the folder the database lives "
            "in (it holds chroma.sqlite3)."
        )
    if must_exist and not path.exists():
        raise CollectionError(
            f"No Chroma database at {path}: the folder does not exist. Check the path (it is "
            "the folder given to chromadb.PersistentClient or chroma run --path)."
        )
    if must_exist and not (path / _DATABASE_FILE).is_file():
        raise CollectionError(
            f"No Chroma database at {path}: the folder holds no {_DATABASE_FILE}. Check the "
            "path (it is the folder given to chromadb.PersistentClient or chroma run --path)."
        )
    with chroma_errors("open the database", where=str(path)):
        return chromadb.PersistentClient(path=str(path), **settings)


def describe_client(client: Any) -> str | None:
    """Where ``client`` points: its database folder or its server URL (``None`` if unknown)."""
    get_settings = getattr(client, "get_settings", None)
    if get_settings is None:  # a stand-in client: nothing to say
        return None
    settings = get_settings()
    if getattr(settings, "is_persistent", False):
        return str(getattr(settings, "persist_directory", "")) or None
    host = getattr(settings, "chroma_server_host", None)
    if not host:
        return None
    scheme = "https" if getattr(settings, "chroma_server_ssl_enabled", False) else "http"
    return f"{scheme}://{host}:{getattr(settings, 'chroma_server_http_port', None) or ''}"


def connection_flags(client: Any) -> str:
    """The ``--chroma-*`` options that reach ``client`` (``--chroma-path DB`` if unknown)."""
    try:
        where = describe_client(client)
    except Exception:  # noqa: BLE001 - a client that cannot say: a placeholder
        where = None
    return location_flags(where)


def open_collection(client: Any, name: str, *, where: str | None = None, **kwargs: Any) -> Any:
    """``client.get_collection(name, **kwargs)`` with Chroma's errors translated.

    Args:
        client: A Chroma client.
        name: Collection name.
        where: Where the client points, for messages (default: read from the client).
        **kwargs: Passed to ``get_collection`` (``embedding_function``, ...).

    Returns:
        The Chroma collection.

    Raises:
        CollectionNotFoundError: If no collection has that name (names it and the place).
        ModelMismatchError: If ``embedding_function`` conflicts with the one Chroma persisted.
        ChromaUnavailableError: If the server cannot be reached.
        CollectionError: If the database fails.
    """
    where = where if where is not None else describe_client(client)
    with chroma_errors("open", collection=name, where=where):
        return client.get_collection(name=name, **kwargs)


_T = TypeVar("_T")


def call_with_collection(
    client: Any,
    name: str,
    fn: Callable[[Any], _T],
    *,
    wait_s: float = 10.0,
    interval_s: float = 0.05,
) -> _T:
    """Open collection ``name`` and call ``fn(collection)``, retrying briefly while it is missing.

    ``autoembed swap`` switches a collection by renaming; for an instant the name does not exist.
    Readers that open the collection by name through this helper wait through that instant (and
    through a dropped backup) instead of failing, and always see the collection that holds the
    name now.

    Args:
        client: A Chroma client.
        name: Collection name.
        fn: What to do with the collection (e.g. ``lambda c: c.query(...)``).
        wait_s: Give up after this long without the collection.
        interval_s: Pause between tries.

    Returns:
        What ``fn`` returned.

    Raises:
        CollectionNotFoundError: Once ``wait_s`` has passed without the collection.
        Exception: Any other error at once.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return fn(open_collection(client, name))
        except Exception as exc:
            if not is_not_found(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(interval_s)
