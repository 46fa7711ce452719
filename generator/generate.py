"""The generator stage: configuration in, event file out, chunk by chunk with flat memory."""

from __future__ import annotations

import dataclasses
import platform
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from tqdm import tqdm

from . import __version__
from ._validate import ConfigError, check_chunk_count, resolve_threads
from .config import Config
from .eventfile import EventWriter
from .experiment import Experiment
from .sampler import COUNT_STREAM, EVENT_COLUMNS_TRUTH, STAGE_GENERATOR, SamplerTables, chunk_sizes, sample_chunks

__all__ = ["generate", "parse_chunk_range", "plan_run"]


def parse_chunk_range(text: str | None):
    """'a:b' -> (a, b) (b may be empty for 'to the end'); None -> None."""
    if text is None:
        return None
    try:
        a, b = text.split(":")
        return int(a or 0), (int(b) if b else None)
    except ValueError:
        raise ConfigError(f"--chunks {text!r}: expected START:STOP, e.g. 0:10") from None


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """How many events, in which chunks, with which weight: fixed by the config and the seed alone."""

    config: Config
    experiment: Experiment  # built once per run: the tables, the metadata and the source all come from it
    tables: SamplerTables
    seed: int
    mode: str
    chunk_size: int
    n_events_total: int
    sizes: np.ndarray
    first_chunk: int
    stop_chunk: int

    @property
    def weight(self) -> float:
        if self.mode == "pseudo_experiment" or self.n_events_total == 0:
            return 1.0
        return self.tables.expected_events / self.n_events_total

    @property
    def n_events_here(self) -> int:
        return int(self.sizes[self.first_chunk:self.stop_chunk].sum())


def pseudo_experiment_count(seed: int, expected_events: float) -> int:
    """N ~ Poisson(expected) from its own stream of the seed: the same N in every job of a run."""
    count_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STAGE_GENERATOR, COUNT_STREAM)))
    return int(count_rng.poisson(expected_events))


def plan_run(cfg: Config, *, n_events=None, seed=None, mode=None, chunks=None) -> RunPlan:
    g = cfg.generator
    seed = g.seed if seed is None else int(seed)
    mode = mode or g.mode
    if n_events is not None and n_events <= 0:
        raise ConfigError(f"--n-events {n_events}: must be > 0")
    if mode != "pseudo_experiment":
        check_chunk_count(g.n_events if n_events is None else n_events, g.chunk_size)  # before any table is built
    experiment = Experiment.from_config(cfg)
    tables = SamplerTables.build(experiment)
    if mode == "pseudo_experiment":
        n_total = pseudo_experiment_count(seed, tables.expected_events)
        check_chunk_count(n_total, g.chunk_size)
    else:
        n_total = int(g.n_events if n_events is None else n_events)
    sizes = chunk_sizes(n_total, g.chunk_size)
    n_chunks = len(sizes)
    a, b = (0, n_chunks) if chunks is None else (chunks[0], n_chunks if chunks[1] is None else chunks[1])
    if not (0 <= a <= b <= n_chunks) or (n_chunks and a == b):
        raise ConfigError(f"--chunks {a}:{b}: the run has {n_chunks} chunk(s) of {g.chunk_size} events; "
                          f"allowed ranges lie within 0:{n_chunks} and are not empty")
    resolved = dataclasses.replace(cfg, generator=dataclasses.replace(g, seed=seed, mode=mode, n_events=max(n_total, 1)))
    return RunPlan(resolved, experiment, tables, seed, mode, g.chunk_size, n_total, sizes, a, b)


def generate(cfg: Config, output, *, n_events=None, seed=None, mode=None, threads=None, chunks=None,
             progress: bool | None = None) -> dict:
    """Generate events of ``cfg`` into ``output`` (.h5 or .root); return the file's metadata."""
    plan = plan_run(cfg, n_events=n_events, seed=seed, mode=mode, chunks=chunks)
    threads = resolve_threads(threads)
    numba.set_num_threads(threads)
    tables = plan.tables
    columns = {k: v for k, v in EVENT_COLUMNS_TRUTH.items()}
    ids = np.arange(plan.first_chunk, plan.stop_chunk)
    batch = max(1, threads)
    with EventWriter(output, stage="generator", columns=columns, threads=threads,
                     rows_per_write=plan.chunk_size) as writer, tqdm(
            total=plan.n_events_here, unit="ev", unit_scale=True, desc="generate", disable=None if progress is None
            else not progress) as bar:
        blocks = [ids[s:s + batch] for s in range(0, len(ids), batch)]

        def draw(block):
            return sample_chunks(tables, plan.seed, block, plan.sizes[block], plan.chunk_size, plan.weight)

        # Draw block k+1 (numba, GIL released) while block k is compressed and written.
        with ThreadPoolExecutor(max_workers=1) as ahead:
            pending = ahead.submit(draw, blocks[0]) if blocks else None
            for k, block in enumerate(blocks):
                events = pending.result()
                pending = ahead.submit(draw, blocks[k + 1]) if k + 1 < len(blocks) else None
                # one write per chunk, whatever the thread count: the HDF5 layout (the order in which storage
                # chunks are allocated) then depends on the chunks alone, and the file is byte-identical
                start = 0
                for size in plan.sizes[block]:
                    writer.write({name: col[start:start + size] for name, col in events.items()})
                    start += int(size)
                bar.update(int(plan.sizes[block].sum()))
        meta = writer.close(run_metadata(plan))
    return meta


def run_metadata(plan: RunPlan) -> dict:
    t = plan.tables
    r = t.rates
    src = plan.experiment.source
    frac = plan.n_events_here / plan.n_events_total if plan.n_events_total else 0.0
    return {
        "package_version": __version__,
        "versions": {"numpy": np.__version__, "numba": numba.__version__, "python": platform.python_version()},
        "config": plan.config.to_dict(),
        "seed": plan.seed,
        "rng": "xoshiro256++ per chunk from SeedSequence(seed, spawn_key=(0, chunk))",
        "mode": plan.mode,
        "chunk_size": plan.chunk_size,
        "chunk_range": [int(plan.first_chunk), int(plan.stop_chunk)],
        "n_chunks_total": int(len(plan.sizes)),
        "n_events_total": plan.n_events_total,
        "n_generated": plan.n_events_here,
        "exposure_fraction": frac,
        "expected_events_total": t.expected_events,
        "expected_events": t.expected_events * frac,
        "weight": plan.weight,
        "components": list(t.component_names),
        "component_nu_pdg": list(r.nu_pdg),
        "isotopes": list(r.isotopes),
        "expected_by_component": r.by_component(),
        "expected_by_isotope": r.by_isotope(),
        "threshold_kevnr": r.threshold_kevnr,
        "exposure": r.exposure,
        **({"bsm": r.bsm} if r.bsm is not None else {}),
        "pulsed": bool(src is not None and src.pulsed),
        "rep_rate_hz": src.rep_rate_hz if src is not None and src.pulsed else None,
        "n_pulses": src.n_pulses if src is not None and src.pulsed else None,
        "live_time_s": src.live_time_s if src is not None else plan.config.exposure.live_days * 86400.0,
        "parents": [],
    }
