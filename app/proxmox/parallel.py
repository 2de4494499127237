"""Independent Proxmox calls made at once, such as a guest page's reads.

Each call runs in a pool thread with a copy of the caller's context (the request's Sentry
scope, the deploy's hidden secrets) and a Sentry scope of its own, so concurrent spans do not
trip over each other. Errors come back to the caller's thread, where they are reported once.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from app import observability

_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls concurrently and return their results in order. Once all have ended,
    the first failed call's error (in the order given) is raised."""
    futures = started(*calls)
    wait(futures)
    return [future.result() for future in futures]


def started(*calls: Callable[[], Any]) -> list[Future]:
    """Start the calls concurrently; their futures, in order, for a caller that may not need
    every result (a future's `result()` raises its call's error)."""
    pool = _executor()
    return [pool.submit(contextvars.copy_context().run, _own_scope, call) for call in calls]


def _own_scope(call: Callable[[], Any]) -> Any:
    with observability.forked_scope():
        return call()


def _executor() -> ThreadPoolExecutor:
    """One pool per process: a pool's threads do not survive a fork (gunicorn's workers)."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="proxmox")
        _pool_pid = os.getpid()
    return _pool
