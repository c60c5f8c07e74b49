"""Whether a collection handle still points at the collection holding its name (after a swap).

:class:`HandleCheck` is used before writes by
:class:`~autoembedding.integrations.chroma.GuardedCollection` and by the frameworks'
``AutoEmbedding(collection=<handle>)``, so that no write is stranded in a swap's backup.
"""

from __future__ import annotations

import shlex
import time
from typing import Any

from autoembedding.chroma.client import connection_flags
from autoembedding.chroma.errors import chroma_errors, is_not_found
from autoembedding.errors import CollectionError

__all__ = ["HandleCheck"]


class HandleCheck:
    """Tells whether a collection handle still points at the collection that holds its name.

    ``autoembed swap`` moves a collection by renaming: afterwards the name holds the re-embedded
    collection and the original is ``NAME__backup_<time>``, but a handle opened before keeps the
    original's id, so its writes would be stranded in the backup. :meth:`check` compares the
    handle's ``id`` with the id of the collection now holding its name (one metadata read, at
    most once per ``recheck_s`` while the handle is current) and refuses when they differ.

    Args:
        collection: The chromadb collection handle.
        client: The chromadb client it came from; without one, the handle's own connection
            is used.
        recheck_s: Re-read the name at most this often (seconds) while the handle is current.
        wait_s: While the name is missing (the instant of a swap's rename), wait this long.

    """

    def __init__(
        self, collection: Any, client: Any = None, *, recheck_s: float = 1.0, wait_s: float = 10.0
    ) -> None:
        self.collection = collection
        self.client = client
        self.recheck_s = float(recheck_s)
        self.wait_s = float(wait_s)
        self._checked_at: float | None = None

    def check(self, action: str = "write to") -> None:
        """Raise if another collection now holds the handle's name (cached while current).

        Args:
            action: What is about to happen, for the message.

        Raises:
            CollectionError: If the name now holds another collection (or none): says to reopen.
            ChromaUnavailableError: If the server cannot be reached.

        """
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < self.recheck_s:
            return
        own = getattr(self.collection, "id", None)
        if own is None:
            return
        live = self._live_id()
        if live == own:
            self._checked_at = time.monotonic()
            return
        self._checked_at = None  # stale: re-read on every call (an undo may make it current)
        raise CollectionError(self._moved_message(action, live))

    def _live_id(self) -> Any:
        """The id of the collection holding the name now (``None``: none; waits out a rename)."""
        name = str(self.collection.name)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                with chroma_errors("open", collection=name):
                    return self._fetch(name=name).id
            except CollectionError as exc:
                if not is_not_found(exc):
                    raise
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def _fetch(self, **where: Any) -> Any:
        if self.client is not None:
            if "name" in where:
                return self.client.get_collection(name=where["name"], embedding_function=None)
            return self.client.get_collection_by_id(where["id"], embedding_function=None)
        # chromadb's own connection of the handle (its ServerAPI), keyed by tenant and database.
        server = self.collection._client
        scope = {"tenant": self.collection.tenant, "database": self.collection.database}
        if "name" in where:
            return server.get_collection(name=where["name"], **scope)
        return server.get_collection_by_id(where["id"], **scope)

    def _moved_message(self, action: str, live: Any) -> str:
        name = str(self.collection.name)
        try:
            now_called = f"now called {str(self._fetch(id=self.collection.id).name)!r}"
        except Exception:  # noqa: BLE001 - only for the message: the old one may be gone
            now_called = "since deleted"
        holds = "another collection" if live is not None else "no collection"
        return (
            f"Cannot {action} collection {name!r} through this handle: the name now holds "
            f"{holds} (e.g. after autoembed swap), and the handle still points at the old one "
            f"({now_called}), so the write would be stranded there. Reopen it: "
            f"get_collection(client, {name!r}) (or client.get_collection({name!r})). Writes "
            f"already made through old handles: autoembed swap --sync "
            f"{connection_flags(self.client or getattr(self.collection, '_client', None))} "
            f"--collection {shlex.quote(name)}."
        )
