"""A Sentry endpoint for the benchmark, in a process of its own (so that receiving envelopes
costs the measuring process nothing): accepts every envelope, keeps none.

    python bench/envelopes.py PORT
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Envelopes(BaseHTTPRequestHandler):
    # Keep-alive, as Sentry and Bugsink answer: the SDK reuses its connection.
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Envelopes).serve_forever()
