"""Production at scale: a directory of per-unit files, job arrays, Dask, resuming after preemption.

A production cuts the run's chunks into units of ``chunks_per_file`` chunks; unit u is the file
``events_c{a:06d}-{b:06d}.h5`` (chunks a:b) and, when the configuration has a ``[detector]`` table,
``detector_c{a:06d}-{b:06d}.h5`` next to it (``.root`` with ``file_format = "root"``). Every unit depends only on (configuration, seed, chunk
range), so a unit is the same bytes whichever job, worker or re-run makes it.

- job arrays: ``job_index``/``n_jobs`` (or ``SLURM_ARRAY_TASK_ID``/``SLURM_ARRAY_TASK_COUNT``) pick units
  u with u % n_jobs == job_index;
- Dask: the same per-unit task on a ``dask.distributed`` cluster (local, a scheduler address, or
  dask-jobqueue's SLURM/HTCondor clusters); workers write their files to the shared directory;
- resume: a unit whose file exists, reads back complete and carries the expected chunk range and
  configuration is skipped; temporary files of killed jobs are removed and their units redone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from generator._validate import ConfigError, check_chunk_count
from generator.config import Config, config_from_dict
from generator.eventfile import EventFileError, EventReader

__all__ = ["Unit", "job_units", "plan_units", "produce", "resolve_job"]


FILE_FORMATS = {"h5": ".h5", "root": ".root"}


@dataclass(frozen=True)
class Unit:
    index: int
    first_chunk: int
    stop_chunk: int
    suffix: str = ".h5"

    @property
    def tag(self) -> str:
        return f"c{self.first_chunk:06d}-{self.stop_chunk:06d}"

    def events_path(self, outdir: Path) -> Path:
        return outdir / f"events_{self.tag}{self.suffix}"

    def detector_path(self, outdir: Path) -> Path:
        return outdir / f"detector_{self.tag}{self.suffix}"


def plan_units(n_chunks: int, chunks_per_file: int, file_format: str = "h5") -> list[Unit]:
    if chunks_per_file <= 0:
        raise ConfigError(f"--chunks-per-file {chunks_per_file}: must be > 0")
    if file_format not in FILE_FORMATS:
        raise ConfigError(f"--format {file_format!r}: allowed {', '.join(FILE_FORMATS)}")
    suffix = FILE_FORMATS[file_format]
    return [Unit(u, a, min(a + chunks_per_file, n_chunks), suffix)
            for u, a in enumerate(range(0, n_chunks, chunks_per_file))]


def resolve_job(job_index, n_jobs) -> tuple[int, int]:
    """(index, count) of this job; 'auto' reads SLURM's array variables (or HTCondor's $(Process) passed in)."""
    if job_index == "auto":
        if "SLURM_ARRAY_TASK_ID" not in os.environ:
            raise ConfigError("--job-index auto: SLURM_ARRAY_TASK_ID is not set (on HTCondor pass "
                              "--job-index $(Process) --n-jobs N)")
        job_index = int(os.environ["SLURM_ARRAY_TASK_ID"]) - int(os.environ.get("SLURM_ARRAY_TASK_MIN", 0))
        n_jobs = n_jobs or int(os.environ.get("SLURM_ARRAY_TASK_COUNT", 0)) or None
    if job_index is None:
        return 0, 1
    if n_jobs is None:
        raise ConfigError("--job-index needs --n-jobs")
    job_index, n_jobs = int(job_index), int(n_jobs)
    if not (0 <= job_index < n_jobs):
        raise ConfigError(f"--job-index {job_index}: allowed 0..{n_jobs - 1} for --n-jobs {n_jobs}")
    return job_index, n_jobs


def job_units(units: list[Unit], job_index: int, n_jobs: int) -> list[Unit]:
    return [u for u in units if u.index % n_jobs == job_index]


def _complete(path: Path, stage: str, unit: Unit, config_json: str) -> bool:
    """The file exists, reads back complete and holds exactly this unit of this configuration."""
    if not path.is_file():
        return False
    try:
        m = EventReader(path, stage=stage).metadata
    except EventFileError:
        return False
    cfg = m.get("config") if stage == "generator" else m.get("generator_config")
    return list(m.get("chunk_range", [])) == [unit.first_chunk, unit.stop_chunk] and \
        config_from_dict(cfg).to_json() == config_json


def _clean_temporaries(outdir: Path) -> int:
    n = 0
    for p in outdir.glob(".*.tmp-*"):
        p.unlink(missing_ok=True)
        n += 1
    return n


def run_unit(config_dict: dict, outdir: str, unit: Unit, seed: int, n_events: int | None, threads: int) -> str:
    """Make one unit's files (skipping what is already complete). Runs in any process: a Dask task too."""
    from generator.generate import generate

    cfg = config_from_dict(config_dict)
    outdir = Path(outdir)
    resolved_json = _resolved_json(cfg, seed, n_events)
    ev = unit.events_path(outdir)
    made = []
    if not _complete(ev, "generator", unit, resolved_json):
        generate(cfg, ev, n_events=n_events, seed=seed, threads=threads, chunks=(unit.first_chunk, unit.stop_chunk),
                 progress=False)
        made.append(ev.name)
    if cfg.detector:
        from detsim.simulate import simulate_detector

        from .run import detector_for_run

        det_path = unit.detector_path(outdir)
        if not _complete(det_path, "detsim", unit, resolved_json):
            simulate_detector(ev, det_path, detector_for_run(cfg), threads=threads, progress=False)
            made.append(det_path.name)
    return ",".join(made)


def _resolved_json(cfg: Config, seed: int, n_events: int | None) -> str:
    import dataclasses

    g = dataclasses.replace(cfg.generator, seed=seed, mode="fixed",
                            n_events=cfg.generator.n_events if n_events is None else n_events)
    return dataclasses.replace(cfg, generator=g).to_json()


def produce(cfg: Config, outdir, *, n_events: int | None = None, seed: int | None = None, chunks_per_file: int = 1,
            job_index=None, n_jobs=None, dask: str | None = None, threads: int | None = None,
            progress: bool | None = None, file_format: str = "h5") -> dict:
    """Make (or complete) this job's units of a fixed-N production in ``outdir``; return a report."""
    if cfg.generator.mode != "fixed":
        raise ConfigError("a production runs in fixed-N mode (generator.mode = 'fixed'); a pseudo-experiment "
                          "is one small run: use cevns-generate --pseudo-experiment")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    seed = cfg.generator.seed if seed is None else int(seed)
    n_total = cfg.generator.n_events if n_events is None else int(n_events)
    check_chunk_count(n_total, cfg.generator.chunk_size)
    n_chunks = -(-n_total // cfg.generator.chunk_size)
    units = plan_units(n_chunks, chunks_per_file, file_format)
    ji, nj = resolve_job(job_index, n_jobs)
    mine = job_units(units, ji, nj)
    removed = _clean_temporaries(outdir)
    raw = cfg.to_dict()
    threads = threads or 1
    done = []
    if dask:
        from generator.dask_backend import client_for

        from generator.dask_backend import gather_interruptibly

        client = client_for(dask, threads)
        futures = [client.submit(run_unit, raw, str(outdir), u, seed, n_total, 1, pure=False) for u in mine]
        with tqdm(total=len(futures), desc="units", disable=None if progress is None else not progress) as bar:
            done.extend(gather_interruptibly(client, futures, bar))
    else:
        for u in tqdm(mine, desc="units", disable=None if progress is None else not progress):
            done.append(run_unit(raw, str(outdir), u, seed, n_total, threads))
    made = [d for d in done if d]
    return {"units_total": len(units), "units_this_job": len(mine), "units_made": len(made),
            "units_skipped": len(mine) - len(made), "temporaries_removed": removed, "job": [ji, nj],
            "files": sorted(str(p.name) for p in outdir.iterdir() if p.suffix in (".h5", ".root")),
            "chunks_total": int(n_chunks),
            "missing_units": [u.tag for u in units if not u.events_path(outdir).is_file()],
            "seed": seed, "events_total": int(n_total), "mean_chunk": float(np.mean([u.stop_chunk - u.first_chunk
                                                                                     for u in units]))}
