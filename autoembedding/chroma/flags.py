"""The ``autoembed`` connection options that reach a database, for copyable commands."""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

__all__ = ["location_flags"]


def location_flags(where: str | None) -> str:
    """``--chroma-path DIR``, ``--chroma-host H [--chroma-port P]`` or ``--chroma-url URL``.

    Args:
        where: The database folder or server URL (as ``describe_client`` gives it); ``None``
            or empty gives the placeholder ``--chroma-path DB``.
    """
    if not where:
        return "--chroma-path DB"
    if "://" not in where:
        return f"--chroma-path {shlex.quote(where)}"
    parts = urlsplit(where)
    if parts.scheme == "https" or parts.hostname is None:
        return f"--chroma-url {shlex.quote(where)}"
    port = f" --chroma-port {parts.port}" if parts.port else ""
    return f"--chroma-host {shlex.quote(parts.hostname)}{port}"
