"""Toy-MC ensembles: pseudo-experiments through generate -> detsim -> reco, in memory, parallel over toys.

Each toy i has its own seed, derived from the run's seed by ``SeedSequence(seed, spawn_key=(3, i))``; its
number of CEvNS events is Poisson, the backgrounds are a fresh Poisson draw, and the fit uses the fixed
templates. Reported: bias, pull mean and width, 68 % coverage of the fitted signal strength, and the
distribution of significances.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from detsim.config import DetectorConfig
from detsim.simulate import build_chain, detsim_rng, prepare_chunk
from detsim.timing import BeamWindows
from generator.config import Config
from generator.experiment import Experiment
from generator.generate import pseudo_experiment_count
from generator.sampler import EVENT_COLUMNS_TRUTH, SamplerTables, chunk_sizes, sample_chunks

from .config import RecoConfig
from .stage import Templates, fit_counts

__all__ = ["ToyEnsemble", "ensemble_identity", "merge_toy_tables", "run_toys", "toy_seed", "write_toy_table"]

STAGE_TOYS = 3
_STATE: dict = {}


def toy_seed(seed: int, i: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=(STAGE_TOYS, i)).generate_state(1, np.uint32)[0])


@dataclass
class ToyEnsemble:
    mu: np.ndarray
    err: np.ndarray
    significance: np.ndarray
    n_cevns: np.ndarray
    index: np.ndarray | None = None  # the toys' indices in the ensemble (their seeds)

    def __post_init__(self):
        if self.index is None:
            self.index = np.arange(len(self.mu), dtype=np.int64)

    @property
    def pulls(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):  # a failed fit's zero error gives no pull
            return (self.mu - 1.0) / self.err

    def summary(self) -> dict:
        ok = np.isfinite(self.err) & (self.err > 0)
        p = self.pulls[ok]
        n = int(ok.sum())
        return {
            "n_toys": int(len(self.mu)), "n_valid": n,
            "bias": float(np.mean(self.mu[ok] - 1.0)), "bias_err": float(np.std(self.mu[ok]) / np.sqrt(n)),
            "pull_mean": float(np.mean(p)), "pull_mean_err": float(np.std(p) / np.sqrt(n)),
            "pull_width": float(np.std(p, ddof=1)), "pull_width_err": float(np.std(p, ddof=1) / np.sqrt(2 * (n - 1))),
            "coverage_68": float(np.mean(np.abs(p) <= 1.0)),
            # None when the significance is undefined (a model without background)
            "significance_median": _nan_quantile(self.significance, 0.5),
            "significance_quantiles_16_84": [_nan_quantile(self.significance, q) for q in (0.16, 0.84)],
            "mean_mu_err": float(np.mean(self.err[ok])),
        }


def _nan_quantile(a: np.ndarray, q: float) -> float | None:
    a = a[np.isfinite(a)]
    return float(np.quantile(a, q)) if a.size else None


def _one_toy(i: int):
    st = _STATE
    seed = toy_seed(st["seed"], i)
    n = pseudo_experiment_count(seed, st["tables"].expected_events)
    gm = dict(st["gm"], n_events_total=max(n, 1), exposure_fraction=1.0)
    sizes = chunk_sizes(n, max(n, 1)) if n else np.zeros(0, dtype=np.int64)
    if n:
        ev = sample_chunks(st["tables"], seed, np.arange(len(sizes)), sizes, max(n, 1), 1.0)
    else:
        ev = {k: np.zeros(0, dtype=dt) for k, (dt, _) in EVENT_COLUMNS_TRUTH.items()}
    full = prepare_chunk(st["det"], gm, seed, 0, ev, st["windows"])
    cols, _ = st["chain"].run(detsim_rng(seed, 0), full)
    f, keep = fit_counts(cols, st["dm_toy"], st["templates"], st["cfg"])
    z = np.nan if f.significance is None else f.significance
    return i, f.mu_cevns, f.mu_cevns_err, z, int(np.count_nonzero(keep & (cols["origin"] == 0)))


def _init_worker(*args):
    """A pool worker ignores Ctrl-C: the parent alone handles it, cancels the queue and ends the workers (a SIGINT
    to the process group would otherwise print a traceback from every worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _one_thread()
    _init_state(*args)


def _one_thread():
    """A toy draws ~10^3 events: numba's thread pool costs more to wake than the draws (3.9 ms vs 0.12 ms per toy
    for `demo`). The events do not depend on the thread count; parallelism is over toys (workers)."""
    import numba

    numba.set_num_threads(1)


def _init_state(gen_cfg, det, reco_cfg, templates, template_meta, seed):
    """Build a worker's state once: sampler tables, detector chain, templates."""
    from detsim.simulate import STAGE_COLUMNS

    tables = SamplerTables.build(Experiment.from_config(gen_cfg))
    gm = {k: template_meta.get(k) for k in ("pulsed", "rep_rate_hz", "n_pulses", "live_time_s", "exposure",
                                            "isotopes", "n_events_total")}
    gm["config"] = template_meta["generator_config"]
    t = det.timing
    windows = BeamWindows(t.on_start_ns, t.on_length_ns, t.off_start_ns, t.off_length_ns)
    chain = build_chain(det, gm, {**EVENT_COLUMNS_TRUTH, **STAGE_COLUMNS})
    # every toy is one full exposure: scale the templates once, not per toy
    _STATE.update(seed=seed, tables=tables, gm=gm, det=det, windows=windows, chain=chain,
                  templates=templates.scaled_to(1.0), cfg=reco_cfg, dm_toy={**template_meta, "exposure_fraction": 1.0})


def ensemble_identity(gen_cfg: Config, reco_cfg: RecoConfig, template_meta: dict, seed: int) -> str:
    """What makes toys of different jobs one ensemble: configuration (detector included), reco settings (template
    size included) and seed, from which each job remakes the same templates. ``template_meta`` is not hashed: its
    file paths differ between jobs."""
    import dataclasses
    import hashlib
    import json

    blob = json.dumps({"config": gen_cfg.to_json(), "reco": dataclasses.asdict(reco_cfg), "seed": int(seed),
                       "package": template_meta.get("package_version")}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _toy_rows(indices: list[int]) -> list[tuple]:
    """A process-pool task: toys of a worker whose state its initializer built."""
    return [_one_toy(i) for i in indices]


def _toy_batch(key: str, args: tuple, indices: list[int]) -> list[tuple]:
    """A Dask task: the worker builds its state once per ensemble, then runs its toys."""
    _one_thread()
    if _STATE.get("key") != key:
        _STATE.clear()
        _init_state(*args)
        _STATE["key"] = key
    return _toy_rows(indices)


def _batches(indices: list[int], size: int) -> list[list[int]]:
    """Toys go to workers in batches: a ~5 ms toy costs about as much again in inter-process round trips when sent
    alone; small enough batches keep every worker busy to the end and the progress bar moving."""
    return [indices[a:a + size] for a in range(0, len(indices), size)]


def run_toys(gen_cfg: Config, det: DetectorConfig, reco_cfg: RecoConfig, templates: Templates, template_meta: dict,
             n_toys: int, seed: int, workers: int = 2, progress: bool | None = None, first: int = 0,
             dask: str | None = None) -> ToyEnsemble:
    """Toys ``first`` .. ``first + n_toys - 1`` of the ensemble (each from its own seed, so any split of the
    indices into jobs, processes or Dask tasks gives the same rows). ``template_meta``: metadata of the detsim
    template file (gives the generator metadata for backgrounds)."""
    args = (gen_cfg, det, reco_cfg, templates, template_meta, seed)
    indices = list(range(first, first + n_toys))
    out = np.zeros((n_toys, 4))
    bar = tqdm(total=n_toys, desc="toys", unit="toy", disable=None if progress is None else not progress)
    if dask:
        from generator.dask_backend import client_for, gather_interruptibly

        client = client_for(dask, 1)
        key = ensemble_identity(gen_cfg, reco_cfg, template_meta, seed)
        futures = [client.submit(_toy_batch, key, args, b, pure=False)
                   for b in _batches(indices, max(1, min(100, -(-n_toys // 8))))]
        for rows in gather_interruptibly(client, futures):
            for i, *vals in rows:
                out[i - first] = vals
            bar.update(len(rows))
    elif workers > 1 and n_toys > 1:
        # spawn, not fork: forking a process whose OpenMP/numba threads have started is unsafe
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=args)
        try:
            # A worker is spawned at each of the first ``workers`` submits. They start with SIGINT ignored (an
            # ignored signal stays ignored across exec, and Python then installs no KeyboardInterrupt handler): a
            # Ctrl-C while a worker is still importing would otherwise print its traceback before its initializer
            # could ignore it.
            import signal
            import threading

            batches = _batches(indices, max(1, min(50, n_toys // (8 * workers))))
            main = threading.current_thread() is threading.main_thread()  # only the main thread may set handlers
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                futures = [pool.submit(_toy_rows, b) for b in batches[:workers]]
            finally:
                if main:
                    signal.signal(signal.SIGINT, previous)
            futures += [pool.submit(_toy_rows, b) for b in batches[workers:]]
            for fut in as_completed(futures):
                rows = fut.result()
                for i, *vals in rows:
                    out[i - first] = vals
                bar.update(len(rows))
        except BaseException:  # Ctrl-C or a failed toy: drop the queue and end the workers now
            for proc in list((pool._processes or {}).values()):
                proc.terminate()
            # wait for the pool's manager thread to see its workers gone: left running, it meets interpreter exit
            # with a closed wake-up pipe ("Exception ignored ... Bad file descriptor" under the one-line message)
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
            raise
        pool.shutdown()
    else:
        import numba

        _init_state(*args)
        threads = numba.get_num_threads()
        _one_thread()
        try:
            for i in indices:
                _, *vals = _one_toy(i)
                out[i - first] = vals
                bar.update(1)
        finally:
            numba.set_num_threads(threads)
    bar.close()
    return ToyEnsemble(out[:, 0], out[:, 1], out[:, 2], out[:, 3], np.array(indices, dtype=np.int64))


def merge_toy_tables(inputs, output) -> ToyEnsemble:
    """Merge the toys.csv of several jobs of one simulated-chain ensemble (``merge_toy_csv``) and return it."""
    _, _, rows = merge_toy_csv(inputs, output, require="n_cevns_true")
    return ensemble_from_rows(rows)


def ensemble_from_rows(rows: list[dict]) -> ToyEnsemble:
    """The ToyEnsemble of a simulated-chain toys.csv's rows (as csv.DictReader reads them)."""
    return ToyEnsemble(np.array([float(r["mu"]) for r in rows]), np.array([float(r["mu_err"]) for r in rows]),
                       np.array([float(r["significance"] or "nan") for r in rows]),
                       np.array([int(r["n_cevns_true"]) for r in rows]), np.array([int(r["toy"]) for r in rows]))


def merge_toy_csv(inputs, output, require: str | None = None) -> tuple[str, list[str], list[dict]]:
    """Merge the toys.csv of several jobs of one ensemble (same identity line and columns, disjoint toy indices)
    into one table in toy order, rows written as they were; refuse tables of another ensemble, overlapping ranges
    or (``require``) tables without that column, before writing anything. Any cevns-run toy table (simulated chain
    or released analysis). Returns (identity, columns, rows)."""
    import csv
    import os
    from pathlib import Path

    from generator._validate import ConfigError

    rows, identity, first_path, header = {}, None, None, None
    for path in inputs:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"toy table {path} does not exist")
        with path.open() as f:
            head = f.readline().strip()
            if not head.startswith("# cevns-toys "):
                raise ConfigError(f"{path}: not a toy table of cevns-run (no '# cevns-toys' identity line)")
            if identity is None:
                identity, first_path = head, path
            elif head != identity:
                raise ConfigError(f"{path} does not belong with {first_path}: their ensembles differ ({head} vs "
                                  f"{identity})")
            reader = csv.DictReader(f)
            if header is None:
                header = reader.fieldnames
            elif reader.fieldnames != header:
                raise ConfigError(f"{path}: columns {reader.fieldnames} differ from {first_path}'s {header}")
            for r in reader:
                i = int(r["toy"])
                if i in rows:
                    raise ConfigError(f"{path}: toy {i} is also in another input (overlapping toy ranges)")
                rows[i] = r
    if require is not None and require not in header:
        raise ConfigError(f"{first_path}: no column {require!r} (a toy table of "
                          f"{'a released analysis' if 'n_cevns' in header else 'another kind'})")
    ordered = [rows[i] for i in sorted(rows)]
    tmp = Path(output).with_name(Path(output).name + ".part")
    with tmp.open("w", newline="") as f:
        f.write(identity + "\n")
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(ordered)
    os.replace(tmp, output)
    return identity[len("# cevns-toys "):], list(header), ordered


def write_toy_table(path, ens: ToyEnsemble, identity: str) -> None:
    """toys.csv: an identity line, then one row per toy (index, mu, error, significance, true CEvNS count)."""
    import csv

    with open(path, "w", newline="") as f:
        f.write(f"# cevns-toys {identity}\n")
        w = csv.writer(f)
        w.writerow(["toy", "mu", "mu_err", "significance", "n_cevns_true"])
        for k in range(len(ens.mu)):
            z = ens.significance[k]
            w.writerow([int(ens.index[k]), repr(float(ens.mu[k])), repr(float(ens.err[k])),
                        "" if not np.isfinite(z) else repr(float(z)), int(ens.n_cevns[k])])
