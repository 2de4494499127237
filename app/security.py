"""Protections every route gets: security headers, bounded ids, no NUL in addresses, no
unbounded bodies (MAX_CONTENT_LENGTH gives 413 before a form is parsed).

See docs/SECURITY.md for what each one covers.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_talisman import Talisman

from app.validation import BoundedIntConverter

# No inline script or style anywhere: pages load /static files only. Pico's CSS draws its
# select arrows and checkmarks with data: SVG images, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The terminal page only: xterm.js styles its rows with <style> elements it creates.
TERMINAL_POLICY = {**CONTENT_SECURITY_POLICY, "style-src": ["'self'", "'unsafe-inline'"]}
HSTS_MAX_AGE = 365 * 24 * 3600

talisman = Talisman()


def init_security(flask_app: Flask) -> None:
    """Bounded `<int:...>` ids, security headers, no-store for pages, NUL-free addresses."""
    flask_app.url_map.converters["int"] = BoundedIntConverter
    secure_cookie = bool(flask_app.config["SESSION_COOKIE_SECURE"])
    talisman.init_app(
        flask_app,
        force_https=False,  # TLS is the reverse proxy's job (README, Production)
        strict_transport_security=secure_cookie,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=secure_cookie,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
    )
    flask_app.before_request(refuse_nul_in_address)
    flask_app.before_request(refuse_chunked_body)
    flask_app.after_request(no_store)


def refuse_nul_in_address() -> None:
    """A NUL in the path or query string is never meant (and PostgreSQL refuses it): 400."""
    if "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
    ):
        abort(400, description="The address holds a NUL character; remove it and try again.")


def refuse_chunked_body() -> None:
    """411 for a chunked body: werkzeug would cut it at MAX_CONTENT_LENGTH without saying so
    (a truncated form), where a body with a Content-Length over the limit gets 413.
    Browsers always send a Content-Length with a form."""
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        abort(411, description="Send the request with a Content-Length header.")


def no_store(response):
    """Pages show private data and carry CSRF tokens: browsers and proxies must not keep them."""
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response
