"""What the portal's long-running processes set at start: glibc's malloc settings, which give
memory back, and the loaded app frozen out of the garbage collector's sight.

A request or a job on a large cluster briefly holds megabytes (Proxmox's answer to
/cluster/resources, decoded). With glibc's defaults, the size above which a block is mapped on
its own rises to the largest block freed so far, and each thread may get an arena of its own;
such answers then come from heaps that keep the memory once it is freed, and a gunicorn worker
(16 threads) grew by 20 MB and more at 5,000 guests. With the threshold fixed at 128 KiB, a
large block is mapped on its own and returned to the system when freed; two arenas keep sixteen
threads from each holding freed memory of its own. Both are set once, at start, in the gunicorn
master (its workers inherit them) and in the job worker.
"""

from __future__ import annotations

import ctypes
import gc

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's <malloc.h>
LARGE_BLOCK = 128 * 1024


def give_back_large_blocks() -> bool:
    """Apply the settings above where the C library is glibc; True when it took them (other C
    libraries keep their own ways)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already uses
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)) and bool(mallopt(M_ARENA_MAX, 2))


def freeze_startup_objects() -> None:
    """Move every object made so far (the loaded app: modules, templates, the catalog) out of
    the garbage collector's sight.

    A request allocates enough for the collector to run a few times each, and its oldest
    generation walked all ~125,000 objects the app is made of every few hundred requests: about
    0.7 ms of a 10 ms dashboard. They live as long as the process, so walking them finds nothing;
    frozen in the gunicorn master before it forks, they are skipped by every worker (and pages
    the workers share with the master stay shared, as the collector no longer writes to them).
    """
    gc.collect()
    gc.freeze()
