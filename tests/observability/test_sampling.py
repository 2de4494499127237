"""Which requests are traced: the share, the untraced paths, and each worker's budget."""

import sentry_sdk

from app.observability.sampling import Sampler, TraceBudget
from tests.conftest import log_in


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def traced_in(budget: TraceBudget, clock: Clock, per_second: int, seconds: int) -> float:
    """How many requests a steady load would have traced (the sum of the shares given)."""
    traced = 0.0
    for _ in range(per_second * seconds):
        clock.now += 1 / per_second
        traced += budget.share(0.1)
    return traced


def test_a_quiet_worker_traces_its_full_share():
    clock = Clock()
    budget = TraceBudget(per_minute=30, clock=clock)
    # 2 requests a second at 10 %: 12 a minute, under the budget.
    for _ in range(240):
        clock.now += 0.5
        assert budget.share(0.1) == 0.1


def test_a_busy_worker_traces_its_budget_and_no_more():
    clock = Clock()
    budget = TraceBudget(per_minute=30, clock=clock)
    # 100 requests a second for five minutes: 10 % would be 3,000 traces.
    traced = traced_in(budget, clock, per_second=100, seconds=300)
    assert 150 <= traced <= 165  # 30 a minute, and a little more while the first window fills
    # Once quiet again, a whole window later, the full share comes back.
    clock.now += 25
    assert budget.share(0.1) == 0.1


def test_untraced_paths_and_a_zero_rate():
    sampler = Sampler(0.5, per_minute=30)
    for path in ("/healthz", "/static/app.css", "/dashboard/live", "/tasks/7/progress",
                 "/my-apps/3/progress"):  # fmt: skip
        assert sampler.share(path) == 0.0
    assert sampler.share("/") == 0.5
    assert sampler.traces_sampler({}) == 0.5  # a job in the worker
    assert Sampler(0.0, per_minute=30).share("/") == 0.0


def test_over_its_budget_a_worker_sends_fewer_traces_and_says_at_what_rate(sentry):
    app, transport = sentry(SENTRY_TRACES_SAMPLE_RATE=1.0, SENTRY_TRACES_PER_MINUTE=6)
    client = log_in(app)
    for _ in range(60):
        assert client.get("/account/password").status_code == 200
    # A budget of one trace per ten seconds: the share falls as the requests come (1, 1/2,
    # 1/3, ...), and each trace tells Sentry the share it was taken at.
    rates = [float(envelope.headers["trace"]["sample_rate"]) for envelope in transport.envelopes
             if any(item.type == "transaction" for item in envelope.items)]  # fmt: skip
    assert 1 <= len(rates) <= 15  # of 60 and more requests (about 5 on average)
    assert rates[0] == 1.0  # the first request of a window is always within the budget
    assert all(rate < 1.0 for rate in rates[1:])
    assert rates == sorted(rates, reverse=True)


def test_templates_do_not_build_sentry_trace_meta_tags(sentry, monkeypatch):
    """No page loads Sentry's browser SDK: the meta tags it would read are not built."""
    app, _ = sentry(SENTRY_TRACES_SAMPLE_RATE=1.0)
    built = []
    real = sentry_sdk.Scope.trace_propagation_meta
    monkeypatch.setattr(sentry_sdk.Scope, "trace_propagation_meta",
                        lambda self, *a, **k: built.append(1) or real(self, *a, **k))  # fmt: skip
    client = log_in(app)
    assert client.get("/account/password").status_code == 200
    assert built == []
