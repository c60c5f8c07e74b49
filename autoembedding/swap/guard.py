"""``@locked(action)``: run a swap, undo, sync or drop-staging under its collection's lock.

The lock itself is :mod:`.lock`; this decorator adds what a refusal says about the running one
(:func:`~.status.swap_status`), so the lock needs no status and the status no decorator.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from autoembedding.swap.lock import collection_lock
from autoembedding.swap.status import swap_status

__all__ = ["locked"]

_F = TypeVar("_F", bound=Callable[..., Any])


def locked(action: str) -> Callable[[_F], _F]:
    """Run the decorated ``fn(collection, ..., client=...)`` under :func:`collection_lock`."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def run(collection: Any, *args: Any, **kwargs: Any) -> Any:
            client = kwargs.get("client")
            if client is None:  # the function says what it needs
                return fn(collection, *args, **kwargs)
            name = collection if isinstance(collection, str) else str(collection.name)

            def describe() -> str:
                return swap_status(name, client=client).message

            with collection_lock(client, name, action, describe=describe):
                return fn(collection, *args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap
