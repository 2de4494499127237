"""glibc's malloc settings for the long-running processes (app/memory.py)."""

import subprocess
import sys

# Large blocks, each followed by a small one that stays: once the large ones are freed, the
# heap cannot shrink past the small ones, so only blocks mapped on their own go back.
FRAGMENTED_HEAP = """
import sys
from app.memory import give_back_large_blocks
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
if sys.argv[1] == "settings":
    assert give_back_large_blocks()
big = bytearray(8_000_000)
del big  # with glibc's defaults, blocks below 8 MB now come from the heap
blocks, kept = [], []
for _ in range(60):
    blocks.append(bytearray(1_000_000))
    kept.append(bytearray(2_000))
before = rss_mb()
del blocks
print(before - rss_mb())
"""


def freed_mb(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", FRAGMENTED_HEAP, mode], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_freed_large_blocks_go_back_to_the_system():
    assert freed_mb("defaults") < 20  # what a worker did before: the memory stays its own
    assert freed_mb("settings") >= 50


FROZEN_AT_START = """
import gc, runpy
conf = runpy.run_path("gunicorn.conf.py")
before = gc.get_freeze_count()
conf["when_ready"](None)
print(before, gc.get_freeze_count())
"""


def test_the_gunicorn_master_freezes_what_the_app_is_made_of():
    """gunicorn.conf.py's when_ready (after preload_app, before the first fork) moves every
    object made so far out of the collector's sight."""
    done = subprocess.run([sys.executable, "-c", FROZEN_AT_START], capture_output=True, text=True,
                          check=True)  # fmt: skip
    before, after = map(int, done.stdout.split())
    assert before == 0
    assert after > 10_000
