"""Which requests are traced: page views at SENTRY_TRACES_SAMPLE_RATE, never the requests no
one waits for, and no more than SENTRY_TRACES_PER_MINUTE per worker however busy it gets.

A traced request costs its worker a few milliseconds more than an untraced one (the
transaction is built, serialized and posted by the SDK's sending thread), so a share of
traffic is a cost that grows with the traffic. Above the budget the share is lowered until
the budget is what gets traced; the SDK reports the share used, so Sentry still counts the
requests right.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

# Requests no one waits for: health checks, static files, and the polls of open pages (the
# live dashboard, a task's and an app's progress), which are most of a busy portal's traffic.
# Their errors are still sent; only their traces are not.
UNTRACED = re.compile(r"^/(healthz$|static/|dashboard/live$|(tasks|my-apps)/\d+/progress$)")

WINDOW_SECONDS = 10.0


class TraceBudget:
    """Counts the requests that could be traced, in windows of ten seconds, and gives the
    share that keeps the traced ones within `per_minute` (one worker's budget)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_window = per_minute * WINDOW_SECONDS / 60
        self.clock = clock
        self.lock = threading.Lock()
        self.window_started = clock()
        self.seen = 0  # in this window so far
        self.seen_before = 0  # in the last whole window

    def share(self, rate: float) -> float:
        """The share to trace now: `rate`, or less when the worker is busy."""
        now = self.clock()
        with self.lock:
            elapsed = now - self.window_started
            if elapsed >= WINDOW_SECONDS:
                self.seen_before = self.seen if elapsed < 2 * WINDOW_SECONDS else 0
                self.seen, self.window_started = 0, now
            self.seen += 1
            expected = max(self.seen, self.seen_before)
        return min(rate, self.per_window / expected)


class Sampler:
    """One worker's tracing decisions: `rate` for a page view or a job, nothing for UNTRACED
    paths, and no more than `per_minute` traces however busy the worker gets."""

    def __init__(self, rate: float, per_minute: int):
        self.rate = rate
        self.budget = TraceBudget(per_minute)

    def share(self, path: str = "") -> float:
        """The share of requests to `path` to trace now (a job has no path)."""
        if self.rate == 0 or UNTRACED.match(path):
            return 0.0
        return self.budget.share(self.rate)

    def traces_sampler(self, sampling_context: dict) -> float:
        """The SDK's traces_sampler, which only jobs in the worker reach (tracing.py decides
        for requests before the SDK sees them)."""
        return self.share()
