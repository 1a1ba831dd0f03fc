"""Worker processes that end with the process that started them.

A worker of a process pool waits for its next task on a queue whose write end
it holds itself, so the death of its parent never reaches it: a SIGKILLed
`mastery rebuild` on PostgreSQL left its bulk-load workers running, each
holding its database connections (28 of them), until they were killed by hand.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_EVERY = 0.5  # seconds


def die_with_parent(parent: int) -> None:
    """End this process when `parent` (the pid of the process that started it)
    ends. On Linux the kernel sends SIGKILL at once (the parent-death signal,
    armed here: it follows the parent *thread* that started this process, so
    start workers from a thread that outlives them, as a pool's owner does);
    on every platform a daemon thread ends the process within half a second of
    finding it handed to another parent, the way an orphan is."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_EVERY)
    os._exit(1)  # no cleanup to run: the parent that wanted the work is gone
