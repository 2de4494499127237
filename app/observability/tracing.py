"""A request's transaction, built only for the requests that are traced.

The SDK's Flask integration builds a transaction for every request and asks the sampler only
then, so each request it drops still costs about 0.3 ms at 100 guests: the transaction, the
spans started under it, and taking them down again. That was most of what Sentry cost a
dashboard view (docs/PERFORMANCE.md). The portal asks its Sampler first and starts a
transaction through the SDK's API only for a request it keeps; setup.py tells the integration
to start none itself (`http_methods_to_capture=()`), and the integration still gives every
request its scope, its name and its request data.
"""

from __future__ import annotations

import random
from contextlib import ExitStack

import sentry_sdk
from flask import Flask, g, request
from sentry_sdk.consts import OP
from sentry_sdk.tracing import TransactionSource

from app.observability.sampling import Sampler


def trace_sampled_requests(flask_app: Flask, sampler: Sampler) -> None:
    """Start a transaction for each request `sampler` picks; it covers the request's hooks,
    view and error handling, and ends with the response's status."""

    def start() -> None:
        share = sampler.share(request.path)
        if not share or random.random() >= share:
            return
        name = request.url_rule.endpoint if request.url_rule else "generic WSGI request"
        transaction = sentry_sdk.continue_trace(
            request.environ,
            op=OP.HTTP_SERVER,
            name=name,
            source=TransactionSource.COMPONENT,
            origin="auto.http.flask",
        )
        transaction.sampled = True  # decided above, at `share`
        g.sentry_traced = ExitStack()  # the transaction, ended by finish()
        g.sentry_traced.enter_context(sentry_sdk.start_transaction(transaction))
        transaction.sample_rate = share  # what Sentry scales its counts by

    def record_status(response):
        if "sentry_traced" in g:
            sentry_sdk.get_current_scope().transaction.set_http_status(response.status_code)
        return response

    def finish(error: BaseException | None) -> None:
        traced = g.pop("sentry_traced", None)
        if traced is not None and error is not None:
            traced.__exit__(type(error), error, error.__traceback__)  # status: internal error
        elif traced is not None:
            traced.close()

    # First of the request's hooks, so that the transaction covers the others.
    flask_app.before_request_funcs.setdefault(None, []).insert(0, start)
    flask_app.after_request(record_status)
    flask_app.teardown_request(finish)
