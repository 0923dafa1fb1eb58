"""A process pool whose workers never outlive the process that made it.

A plain ``ProcessPoolExecutor`` leaves its workers running when its owner is killed
(``kill -9``, an out-of-memory kill) and lets Ctrl-C interrupt workers in the middle of
a task. Workers of :func:`worker_pool` instead:

- exit when their parent dies, however it dies: on Linux the kernel kills them
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), and everywhere a daemon thread checks twice a
  second whether the parent is still theirs (an orphan is re-parented, so
  ``os.getppid()`` changes);
- ignore SIGINT, which a terminal sends to the whole process group: the owner decides
  what an interruption means;
- are terminated when the ``with`` block is left by an exception (KeyboardInterrupt, a
  SIGTERM turned into one, a generator closed early), instead of finishing their tasks.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_CHECK_SECONDS = 0.5
TERMINATE_TIMEOUT_SECONDS = 5.0


@contextlib.contextmanager
def worker_pool(
    workers: int, initializer: Callable[[], None] | None = None
) -> Iterator[ProcessPoolExecutor]:
    """A ``ProcessPoolExecutor`` of ``workers`` processes, each set up as the module
    docstring says and then by ``initializer`` (a module-level function)."""
    context = multiprocessing.get_context()
    # a fork server's children are its own, not ours: they watch the server, which
    # exits with us
    parent = None if context.get_start_method() == "forkserver" else os.getpid()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(parent, initializer),
    )
    try:
        yield pool
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Cancel the pool's pending tasks and end its workers, running tasks included."""
    workers = list((pool._processes or {}).values())  # no public handle before Python 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(TERMINATE_TIMEOUT_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _start_worker(parent: int | None, initializer: Callable[[], None] | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent)
    if initializer is not None:
        initializer()


def exit_with_parent(expected_parent: int | None = None) -> None:
    """Make this process exit as soon as its parent dies.

    Args:
        expected_parent: the parent this process must have now; if it has another, the
            parent already died and this process exits at once. None: whichever it has.
    """
    parent = os.getppid()
    if expected_parent is not None and parent != expected_parent:
        os._exit(1)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the thread below still notices
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)
