"""Wait until HOST:PORT accepts TCP connections: `python wait_for_port.py HOST PORT SECONDS`."""

import socket
import sys
import time


def wait_for_port(host: str, port: int, seconds: float) -> bool:
    """True once a connection succeeds, False after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


if __name__ == "__main__":
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if not wait_for_port(host, port, seconds):
        sys.exit(f"Nothing answered on {host}:{port} within {seconds:g} s.")
