"""Time-box one candidate's work: wait at most ``timeout`` seconds, then abandon it.

A thread cannot be killed: an abandoned model keeps its worker until it returns. The worker is a
daemon thread that completes a :class:`concurrent.futures.Future`, so the wait is
``future.result(timeout=...)`` (no polling) and an abandoned worker never blocks the process from
exiting. (A ``ThreadPoolExecutor`` would: the interpreter joins its workers at exit, even after
``shutdown(wait=False)``.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

__all__ = ["THREAD_NAME", "run_with_timeout"]

T = TypeVar("T")

#: Name of the worker threads (an abandoned one can be told apart while it runs on).
THREAD_NAME = "autoembedding-probe"


def run_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run ``fn`` in a daemon worker thread and return its result, waiting at most ``timeout`` s.

    Args:
        fn: The work, with no arguments.
        timeout: Seconds to wait for it.

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

    threading.Thread(target=work, name=THREAD_NAME, daemon=True).start()
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        if not future.done():
            raise TimeoutError(
                f"timed out after {timeout:g} s (abandoned; its thread cannot be killed and may "
                "still run)"
            ) from None
    return future.result()  # finished just as the wait ran out: its own result or error
