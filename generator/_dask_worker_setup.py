"""Dask worker preload: a worker ignores Ctrl-C. The SIGINT that a terminal sends to the whole process group is
handled by the client process alone, which cancels the work and closes the cluster; workers interrupted on their
own would each print a traceback."""

from __future__ import annotations

import signal
import threading


def dask_setup(worker) -> None:  # noqa: ARG001 - the preload hook's signature
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
