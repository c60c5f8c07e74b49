"""Time-box one candidate's work: wait at most ``timeout`` seconds, then abandon it.

A thread cannot be killed: an abandoned model keeps its worker until it returns. The worker is a
daemon thread that completes a :class:`concurrent.futures.Future`, so the wait is
``future.result(timeout=...)`` (no polling) and an abandoned worker never blocks the process from
exiting for long. (A ``ThreadPoolExecutor`` would: the interpreter joins its workers at exit, even
after ``shutdown(wait=False)``.)

An abandoned worker is told to stop (``cancel`` is set; the probe checks it between batches) and,
at interpreter exit, is given up to :data:`EXIT_WAIT_S` seconds to return: a daemon thread still
inside a native library (PyTorch, ONNX Runtime) when the interpreter finalises can abort the
process (``terminate called without an active exception``).

An abandoned worker that is still inside a native call keeps a core busy: a latency timed beside
it is the two models' contention, not the model's. :func:`wait_abandoned` lets the timing wait
for abandoned workers to return (they were told to stop) and says whether one still runs, so the
timing is marked as taken beside one (:mod:`.measure`).
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

__all__ = [
    "EXIT_WAIT_S",
    "THREAD_NAME",
    "abandoned_running",
    "box_left_s",
    "run_with_timeout",
    "wait_abandoned",
]

T = TypeVar("T")

#: Name of the worker threads (an abandoned one can be told apart while it runs on).
THREAD_NAME = "autoembedding-probe"
#: Seconds, in all, that interpreter exit waits for abandoned workers to return.
EXIT_WAIT_S = 15.0

#: Abandoned workers still running (process-wide: interpreter exit is process-wide too).
_abandoned: set[threading.Thread] = set()
_abandoned_lock = threading.Lock()
#: Worker -> ``time.monotonic()`` at which its time box runs out.
_deadlines: dict[threading.Thread, float] = {}
#: Abandoned worker -> seconds that timings may still wait for it (:func:`wait_abandoned`).
_grace: dict[threading.Thread, float] = {}


def _join_abandoned() -> None:
    """At exit: let abandoned workers finish their batch (at most ``EXIT_WAIT_S`` in all)."""
    deadline = time.monotonic() + EXIT_WAIT_S
    with _abandoned_lock:
        threads = list(_abandoned)
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))


def abandoned_running() -> int:
    """How many abandoned workers are still running (the calling thread not counted)."""
    me = threading.current_thread()
    with _abandoned_lock:
        return sum(1 for t in _abandoned if t.is_alive() and t is not me)


def box_left_s() -> float | None:
    """Seconds left in the calling worker's time box (``None`` outside a time box)."""
    deadline = _deadlines.get(threading.current_thread())
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def wait_abandoned(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds, in all, for abandoned workers to return.

    Inside a time box, the wait is at most a quarter of what is left of it (the wait is the
    box's time). Each abandoned worker is waited for at most ``timeout`` seconds over all the
    calls (its grace): once a worker has had it, later timings do not wait for it again (they
    are only told it still runs).

    Args:
        timeout: Seconds to wait at most (``0``: only look).

    Returns:
        ``True`` when none is left running (the calling thread not counted), ``False`` when one
        still runs after the wait: a timing taken now competes with it for the CPU.
    """
    left = box_left_s()
    if left is not None:
        timeout = min(timeout, left / 4)
    deadline = time.monotonic() + max(timeout, 0.0)
    me = threading.current_thread()
    with _abandoned_lock:
        threads = [t for t in _abandoned if t is not me and t.is_alive()]
    for thread in threads:
        grace = _grace.setdefault(thread, max(timeout, 0.0))
        wait = min(max(deadline - time.monotonic(), 0.0), grace)
        began = time.monotonic()
        thread.join(wait)
        _grace[thread] = max(grace - (time.monotonic() - began), 0.0)
    return abandoned_running() == 0


def _abandon(thread: threading.Thread) -> None:
    with _abandoned_lock:
        for old in [t for t in _abandoned if not t.is_alive()]:
            _abandoned.discard(old)
            _grace.pop(old, None)
        if not _abandoned:
            atexit.unregister(_join_abandoned)
            atexit.register(_join_abandoned)
        _abandoned.add(thread)


def run_with_timeout(
    fn: Callable[[], T], timeout: float, *, cancel: threading.Event | None = None
) -> T:
    """Run ``fn`` in a daemon worker thread and return its result, waiting at most ``timeout`` s.

    Args:
        fn: The work, with no arguments.
        timeout: Seconds to wait for it.
        cancel: Set when the work is abandoned, for ``fn`` to stop at its next check.

    Returns:
        What ``fn`` returned.

    Raises:
        TimeoutError: If ``fn`` is still running after ``timeout`` seconds (it is abandoned).
        Exception: Whatever ``fn`` raised.

    Example:
        >>> run_with_timeout(lambda: 6 * 7, timeout=5.0)
        42
    """
    future: Future[T] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            future.set_exception(exc)
        finally:
            _deadlines.pop(threading.current_thread(), None)

    thread = threading.Thread(target=work, name=THREAD_NAME, daemon=True)
    _deadlines[thread] = time.monotonic() + timeout
    thread.start()
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        if not future.done():
            if cancel is not None:
                cancel.set()
            _abandon(thread)
            raise TimeoutError(
                f"timed out after {timeout:g} s (abandoned; its thread cannot be killed and may "
                "still run)"
            ) from None
    return future.result()  # finished just as the wait ran out: its own result or error
