"""Dask clients for productions: a LocalCluster, a scheduler address, or dask-jobqueue batch clusters.

Dask is an optional extra (``pip install .[dask]``); nothing else imports it.
"""

from __future__ import annotations

import os

from ._validate import ConfigError

__all__ = ["client_for", "gather_interruptibly"]


def client_for(spec: str, threads: int = 1):
    """'local[:N]' -> LocalCluster of N single-threaded workers; 'tcp://host:port' -> that scheduler;
    'slurm[:N]' / 'htcondor[:N]' -> dask-jobqueue cluster scaled to N jobs (queue, cores, memory and
    walltime from DASK_JOBQUEUE_* settings or dask's jobqueue config)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--dask needs the dask extra: pip install 'cevns-sim[dask]'") from None
    kind, _, n = spec.partition(":")
    workers = int(n) if n else max(1, os.cpu_count() or 1)
    if kind == "local":
        import logging

        # A task's error reaches the caller as its exception; the workers' own log lines would only add noise,
        # e.g. "failed to communicate with scheduler during heartbeat" from a worker outliving a Ctrl-C shutdown.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.CRITICAL, preload=["generator._dask_worker_setup"])
        return Client(cluster)
    if kind in ("slurm", "htcondor"):
        try:
            import dask_jobqueue
        except ImportError:
            raise ConfigError("--dask slurm/htcondor needs dask-jobqueue: pip install dask-jobqueue") from None
        cls = dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.HTCondorCluster
        cluster = cls(cores=1, processes=1, memory=os.environ.get("CEVNS_DASK_MEMORY", "2GB"),
                      walltime=os.environ.get("CEVNS_DASK_WALLTIME", "04:00:00"),
                      job_script_prologue=["export NUMBA_NUM_THREADS=1"])
        cluster.scale(jobs=workers)
        return Client(cluster)
    if "://" in spec:
        return Client(spec)
    raise ConfigError(f"--dask {spec!r}: use local[:N], a scheduler address tcp://host:port, slurm[:N] or htcondor[:N]")


def gather_interruptibly(client, futures, progress_bar=None) -> list:
    """Results of ``futures`` as they complete; on Ctrl-C (or any error) cancel what is queued, close the client and
    its cluster, and re-raise, so that an interrupted run ends within seconds without worker tracebacks."""
    from distributed import as_completed

    out = []
    try:
        for fut in as_completed(futures):
            out.append(fut.result())
            if progress_bar is not None:
                progress_bar.update(1)
    except BaseException:
        client.cancel(futures, force=True)
        _close(client)
        raise
    _close(client)
    return out


def _close(client) -> None:
    cluster = getattr(client, "cluster", None)
    try:
        client.close(timeout=10)
        if cluster is not None:
            cluster.close(timeout=10)
    except Exception:  # noqa: BLE001 - closing after an interrupt is best effort
        pass
