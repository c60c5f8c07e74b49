"""The ``--chroma-*`` options shared by ``autoembed probe`` and ``autoembed swap``."""

from __future__ import annotations

import argparse
from typing import Any

from autoembedding.chroma.client import DEFAULT_PORT, connect
from autoembedding.errors import CollectionError

__all__ = ["add_chroma_arguments", "client_from_args", "register_function"]


def register_function() -> None:
    """Register ``AutoEmbeddingFunction`` with Chroma, so collections made with it open.

    Chroma rebuilds a collection's persisted embedding function by name from its registry; a
    collection made with ``AutoEmbeddingFunction`` (or ``get_or_create_collection``) cannot be
    opened, copied or swapped in a process that never imported the module that registers it.
    Imported here, not at the top, so ``autoembed models`` does not import chromadb.
    """
    import autoembedding.integrations.chroma  # noqa: F401 - registers the function


def add_chroma_arguments(parser: Any, *, required: bool) -> None:
    """Add ``--chroma-path``, ``--chroma-host``, ``--chroma-url`` (one of) and ``--chroma-port``.

    Args:
        parser: The subcommand's parser.
        required: Let argparse refuse a command line without a location (usage error, exit 2);
            otherwise :func:`client_from_args` refuses it with a :class:`CollectionError`.
    """
    group = parser.add_argument_group("Chroma (one of --chroma-path, --chroma-host, --chroma-url)")
    where = group.add_mutually_exclusive_group(required=required)
    where.add_argument("--chroma-path", metavar="DIR", help="folder of an embedded Chroma")
    where.add_argument("--chroma-host", metavar="HOST", help="host of a Chroma server")
    where.add_argument(
        "--chroma-url", metavar="URL", help="URL of a Chroma server (http(s)://host:port)"
    )
    group.add_argument(
        "--chroma-port",
        metavar="PORT",
        type=int,
        default=None,
        help=f"port of the server at --chroma-host (default {DEFAULT_PORT})",
    )


def client_from_args(args: argparse.Namespace) -> Any:
    """Open the Chroma client the arguments name; the database must already exist.

    ``AutoEmbeddingFunction`` is registered with Chroma first (:func:`register_function`).

    Raises:
        CollectionError: If no location is given, or ``--chroma-path`` holds no Chroma database.
        ChromaUnavailableError: If no server answers at ``--chroma-host``/``--chroma-url``.
    """
    if not (args.chroma_path or args.chroma_host or args.chroma_url):
        raise CollectionError(
            "Say where the collection lives: --chroma-path DIR (embedded), or "
            "--chroma-host HOST --chroma-port PORT or --chroma-url URL (server)."
        )
    if args.chroma_port is not None and not args.chroma_host:
        raise CollectionError("--chroma-port goes with --chroma-host.")
    register_function()
    return connect(
        args.chroma_path or None,
        host=args.chroma_host or None,
        port=args.chroma_port if args.chroma_host else None,
        url=args.chroma_url or None,
        must_exist=True,
    )
