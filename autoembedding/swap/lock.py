"""One swap per collection at a time: an exclusive, non-blocking lock per (database, collection).

:func:`swap`, :func:`~.undo.undo`, :func:`~.sync.sync_swap` and :func:`~.undo.drop_staging`
run under :func:`collection_lock`. A second one of the same collection, from another process or
another thread, is refused at once with :class:`SwapLockedError`, which names the process that
runs the first and says where that swap stands (:func:`~.status.swap_status`).

The lock is an ``fcntl.flock`` on a small file in the user cache
(``<cache>/locks/swap-<hash>.lock``, ``<cache>`` being :func:`autoembedding.offline.cache_dir`;
``<tmp>/autoembedding-locks-<uid>/`` when that folder cannot be written),
named by a hash of where the database is (the folder of an embedded Chroma, resolved; the URL
of a server) and the collection name. The file also says who holds it (pid, host, command,
start time), for the refusal's message.

Why there is no ``--break-lock``: the kernel releases an ``flock`` when the last file
descriptor on it is closed, which happens when its process ends in any way (exit, exception,
``SIGKILL``, a crash). A lock can therefore only be held by a running process; the file left
behind is not a lock and is reused. To stop a hung swap, stop its process (the refusal names
its pid); the next run resumes that swap from its journal.

Limits: the lock guards swaps started on one machine, by one user (it lives in that user's
cache), addressing the database the same way (a server as ``localhost`` and as ``127.0.0.1``
are two keys). Without ``fcntl`` (Windows) no lock is taken.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from autoembedding.errors import SwapError
from autoembedding.swap.state import SwapState

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LockHolder",
    "SwapLockedError",
    "collection_lock",
    "lock_path",
    "running_state",
    "running_swap",
]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Locks this thread holds: key -> depth (a swap calls undo, mode swaps call dense swaps ...).
_held = threading.local()


class SwapLockedError(SwapError):
    """Another swap, undo or sync of the same collection is running (see :mod:`~.lock`)."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a collection's swap lock, as written in the lock file.

    Attributes:
        pid: Its process id (``None`` if the file could not be read).
        host: The machine it runs on.
        action: ``"swap"``, ``"undo"``, ``"sync"`` or ``"drop-staging"``.
        command: Its command line.
        started: When it took the lock (UTC, ISO 8601).
        path: The lock file.
    """

    pid: int | None
    host: str
    action: str
    command: str
    started: str
    path: str

    def describe(self) -> str:
        """``'a swap (pid 123 on host, started ...: autoembed swap ...)'``."""
        who = f"pid {self.pid}" if self.pid is not None else "another process"
        if self.host and self.host != socket.gethostname():
            who += f" on {self.host}"
        since = f", started {self.started}" if self.started else ""
        command = f": {self.command}" if self.command else ""
        article = "an" if self.action[:1] in "aeiou" else "a"
        return f"{article} {self.action} ({who}{since}{command})"


def _location(client: Any) -> str:
    """Where ``client``'s database is, as one string (a resolved folder, or a server URL)."""
    from autoembedding.chroma.client import describe_client

    try:
        where = describe_client(client)
    except Exception:  # noqa: BLE001 - a client that cannot say: this process's own
        where = None
    if not where:
        return f"process:{os.getpid()}:{id(client)}"
    if "://" in where:
        return where.rstrip("/").lower()
    return str(Path(where).expanduser().resolve())


def lock_path(client: Any, name: str) -> Path:
    """The lock file of collection ``name`` in ``client``'s database (nothing is created)."""
    return _lock_paths(client, name)[0]


def _lock_paths(client: Any, name: str) -> tuple[Path, Path]:
    """The lock file in the user cache, and where it goes when that folder is not writable."""
    from autoembedding.offline import cache_dir

    key = json.dumps([_location(client), name])
    file = f"swap-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}.lock"
    user = getattr(os, "getuid", lambda: "user")()
    fallback = Path(tempfile.gettempdir()) / f"autoembedding-locks-{user}" / file
    return cache_dir() / "locks" / file, fallback


def _depths() -> dict[str, int]:
    depths = getattr(_held, "depths", None)
    if depths is None:
        depths = _held.depths = {}
    return depths


def _read_holder(handle: IO[str], path: Path) -> LockHolder:
    try:
        handle.seek(0)
        data = json.loads(handle.read() or "{}")
    except (OSError, ValueError):
        data = {}
    pid = data.get("pid")
    return LockHolder(
        pid=int(pid) if isinstance(pid, int) else None,
        host=str(data.get("host") or ""),
        action=str(data.get("action") or "swap"),
        command=str(data.get("command") or ""),
        started=str(data.get("started") or ""),
        path=str(path),
    )


def _open(paths: tuple[Path, Path]) -> tuple[IO[str], Path]:
    """Open the lock file (the user cache's, else the temporary folder's) for locking."""
    failure: OSError | None = None
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return path.open("a+", encoding="utf-8"), path
        except OSError as exc:
            failure = failure or exc
    raise SwapError(
        f"Cannot create the swap lock file {str(paths[0])!r} ({failure}) nor {str(paths[1])!r}: "
        "make the first folder writable, or point AUTOEMBEDDING_CACHE at a writable folder."
    ) from failure


def running_swap(client: Any, name: str) -> LockHolder | None:
    """Who runs a swap, undo or sync of ``name`` right now in another process or thread.

    ``None`` when nobody does (or this thread does: its own messages must not call it busy).
    """
    paths = _lock_paths(client, name)
    if fcntl is None or str(paths[0]) in _depths():
        return None
    for path in paths:
        try:
            handle = path.open("r", encoding="utf-8")
        except OSError:  # none there
            continue
        with handle:
            try:  # a shared lock is refused only while an exclusive one is held
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_holder(handle, path)
            except OSError:
                continue
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


def _refusal(
    name: str, action: str, holder: LockHolder, describe: Callable[[], str] | None
) -> SwapLockedError:
    where = f"{holder.describe()} of {name!r} is running."
    if describe is not None:
        try:
            where = describe()
        except Exception as exc:  # noqa: BLE001 - the refusal must not fail on the status
            where = f"{holder.describe()} of {name!r} is running (its status: {exc})."
    return SwapLockedError(
        f"This {action} of {name!r} was not started (only one swap, undo or sync of a "
        f"collection runs at a time; rerun it when the other has ended): {where}"
    )


@contextmanager
def collection_lock(
    client: Any,
    name: str,
    action: str = "swap",
    *,
    describe: Callable[[], str] | None = None,
) -> Iterator[None]:
    """Hold ``name``'s swap lock for the block; reentrant within one thread.

    Args:
        client: The Chroma client (its database is part of the key).
        name: The collection.
        action: What runs under it, for the refusal's message of another.
        describe: Says where the running one stands, for the refusal (``locked`` passes the
            collection's :func:`~.status.swap_status` message).

    Raises:
        SwapLockedError: At once, if another process or thread holds it.
        SwapError: If the lock file cannot be created.
    """
    paths = _lock_paths(client, name)
    key = str(paths[0])
    depths = _depths()
    if fcntl is None or key in depths:
        depths[key] = depths.get(key, 0) + 1
        try:
            yield
        finally:
            depths[key] -= 1
            if not depths[key]:
                del depths[key]
        return
    handle, path = _open(paths)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refusal(name, action, _read_holder(handle, path), describe) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "action": action,
            "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "collection": name,
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(info))
        handle.flush()
        depths[key] = 1
        try:
            yield
        finally:
            del depths[key]
            handle.seek(0)
            handle.truncate()  # still locked: nobody reads a half-cleared file
            handle.flush()
    finally:
        handle.close()  # releases the flock


def running_state(client: Any, name: str, state: SwapState) -> SwapState:
    """``state`` as seen while another process runs a swap, undo or sync of ``name``.

    The journal then shows the running swap's progress, not a stopped one: its message is
    replaced by who runs it and how far it got, and there is no command to run.
    """
    holder = running_swap(client, name)
    if holder is None:
        return state
    done = ""
    if state.staging and state.model:
        done = f" (to {state.model}"
        if state.offset is not None and state.total is not None:
            done += f"; {state.offset} of {state.total} records copied to {state.staging!r}"
        done += ")"
    stop = f"kill {holder.pid}" if holder.pid is not None else "stop that process"
    message = (
        f"{holder.describe()[0].upper()}{holder.describe()[1:]} of {name!r} is running now"
        f"{done}; its journal reads {state.state!r}. Wait for it to end (rerun --status to "
        f"follow it). There is no stale lock to break: the lock ({holder.path}) is released "
        f"when that process ends, even when it is killed; if it hangs, stop it ({stop}), then "
        "--status says how to finish or resume what it left."
    )
    return SwapState(**{**state.to_dict(), "state": "running", "message": message, "command": None})
