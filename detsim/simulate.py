"""The detsim stage: a generator event file in, a detector file out, chunk by chunk.

Chunk k of the generator run (events with event_id // chunk_size == k) is simulated with the stream
``SeedSequence(seed, spawn_key=(1, k))``, so detsim output, like the generator's, does not depend on
threads or on how the chunks were split into jobs. The seed defaults to the generator's.
"""

from __future__ import annotations

import platform
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tqdm import tqdm

from generator import __version__
from generator._validate import resolve_threads
from generator.eventfile import EventReader, EventWriter, file_format
from generator.sampler import EVENT_COLUMNS_TRUTH

from .backgrounds import draw_backgrounds, expected_background_counts, origin_of
from .chain import Chain, Step, target_geometry
from .config import DetectorConfig, to_dict
from .timing import BeamWindows, absolute_time_s

__all__ = ["ORIGINS", "STAGE_DETSIM", "build_chain", "simulate_detector"]

STAGE_DETSIM = 1
# origin codes of the detsim stream
ORIGINS = {"cevns": 0, "ssb": 1, "brn": 2, "nin": 3, "lee": 4}  # lee: detsim.backgrounds.origin_of


def timing_steps(det: DetectorConfig, gen_meta: dict) -> list[Step]:
    """Absolute time and beam windows for pulsed sources (the windows are meaningless otherwise)."""
    if not gen_meta.get("pulsed"):
        return []
    rep = float(gen_meta["rep_rate_hz"])
    t = det.timing
    win = BeamWindows(t.on_start_ns, t.on_length_ns, t.off_start_ns, t.off_length_ns)

    def beam_timing(rng, c):
        return {"abs_time_s": absolute_time_s(c["pulse_index"], c["time_ns"], rep),
                "on_beam": win.on_beam(c["time_ns"]), "off_beam": win.off_beam(c["time_ns"])}

    return [Step("beam_timing", ("pulse_index", "time_ns"), {"abs_time_s": (np.float64, "s"),
                                                             "on_beam": (np.bool_, ""), "off_beam": (np.bool_, "")},
                 beam_timing)]


def build_chain(det: DetectorConfig, gen_meta: dict, inputs: dict) -> Chain:
    return Chain(timing_steps(det, gen_meta) + det.module.steps(det, target_geometry(gen_meta), gen_meta), inputs)


def detsim_rng(seed: int, chunk: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STAGE_DETSIM, chunk)))


STREAM_BACKGROUND = 1
# Columns the stage adds to every event before the chain runs.
STAGE_COLUMNS = {"recoil_type": (np.int8, ""), "origin": (np.int8, ""), "source_on": (np.bool_, "")}


def check_target(det: DetectorConfig, gm: dict, input_path, allow: bool) -> None:
    """A detector made of one material cannot see recoils generated on another (CsI events in germanium)."""
    made_of = det.target_material
    generated = ((gm.get("config") or {}).get("target") or {}).get("material")
    if made_of is None or generated is None or allow or made_of == generated:
        return
    from generator._validate import ConfigError

    raise ConfigError(f"detector {det.name!r} is made of {made_of} but {input_path} holds recoils on {generated}: "
                      f"use a {made_of} generator configuration (or --allow-target-mismatch for a deliberate study)")


OFF_WINDOW_SIGNAL_LIMIT = 0.05  # off-beam window may hold at most this fraction of the on-window signal


def check_beam_windows(gm: dict, windows: BeamWindows) -> None:
    """Refuse on/off windows that cannot separate beam from background: an off window that holds the signal's
    time profile (e.g. 6 us windows inside the ESS's 2.86 ms pulse), or an on window that holds none of it."""
    from generator._validate import ConfigError
    from generator.config import WindowConfig, config_from_dict
    from generator.experiment import Experiment
    from generator.windows import window_acceptance

    cfg = config_from_dict(gm["config"])
    source = Experiment.from_config(cfg).source
    weights = gm.get("expected_by_component") or {c.name: 1.0 for c in source.components}

    def signal(start, length):
        acc = window_acceptance(source, WindowConfig(start_ns=start, length_ns=length))
        return sum(weights.get(name, 0.0) * a for name, a in acc.items())

    total = sum(weights.values()) or 1.0
    on = signal(windows.on_start_ns, windows.on_length_ns) / total
    off = signal(windows.off_start_ns, windows.off_length_ns) / total
    pulse = source.pulse
    length = pulse.width_ns if pulse.kind == "flat" else 2.355 * pulse.sigma_ns
    where = (f"on-beam [{windows.on_start_ns:g}, {windows.on_start_ns + windows.on_length_ns:g}) ns, off-beam "
             f"[{windows.off_start_ns:g}, {windows.off_start_ns + windows.off_length_ns:g}) ns; the "
             f"{source.exposure.get('facility', 'beam')} pulse is {length:.3g} ns long")
    if off > OFF_WINDOW_SIGNAL_LIMIT * on:
        raise ConfigError(f"beam windows cannot separate the beam: the off-beam window holds {100 * off:.2g} % of the "
                          f"CEvNS time profile against {100 * on:.2g} % in the on-beam window ({where}); set "
                          "detector.timing (on_start_ns, on_length_ns, off_start_ns, off_length_ns) to fit the pulse")
    if on < 1e-3:
        raise ConfigError(f"the on-beam window holds {100 * on:.2g} % of the CEvNS time profile ({where}); set "
                          "detector.timing to cover the pulse")


def prepare_chunk(det: DetectorConfig, gm: dict, seed: int, chunk: int, cols: dict, windows: BeamWindows,
                  n: int | None = None) -> dict:
    """CEvNS events of one generator chunk plus that chunk's share of the backgrounds (input columns + stage ones).
    ``n``: the chunk's event count when ``cols`` holds only the columns the chain reads (no backgrounds)."""
    n = len(cols["event_id"]) if n is None else n
    cols = dict(cols)
    cols["recoil_type"] = np.zeros(n, dtype=np.int8)
    cols["origin"] = np.full(n, ORIGINS["cevns"], dtype=np.int8)
    cols["source_on"] = np.ones(n, dtype=bool)
    if not det.backgrounds:
        return cols
    total = int(gm["n_events_total"]) or 1
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STAGE_DETSIM, chunk, STREAM_BACKGROUND)))
    bg = draw_backgrounds(rng, det.backgrounds, gm, windows, chunk, n / total, det.source_off_live_days,
                          id_offset=chunk * 10_000_000)
    if bg is None:
        return cols
    n_bg = len(bg["event_id"])
    out = {}
    for k, v in cols.items():
        if k in bg:
            extra = np.asarray(bg[k], dtype=v.dtype)
        elif k.startswith("weight"):  # e.g. reweighting columns: a background event keeps its own weight
            extra = np.asarray(bg["weight"], dtype=v.dtype)
        else:  # other columns of the input file have no meaning for backgrounds
            extra = np.zeros(n_bg, dtype=v.dtype)
        out[k] = np.concatenate([v, extra])
    return out


def simulate_detector(input_path, output_path, det: DetectorConfig, *, seed: int | None = None,
                      threads: int | None = None, progress: bool | None = None, chunks=None,
                      allow_target_mismatch: bool = False) -> dict:
    """Run the detector chain over a generator file (plus backgrounds); return the output's metadata.

    ``chunks`` = (a, b) simulates only the run's chunks a:b held by the file (job arrays), like
    ``cevns-generate --chunks``; the result equals that part of a whole-file run.
    """
    reader = EventReader(input_path, stage="generator", require=tuple(EVENT_COLUMNS_TRUTH))
    gm = reader.metadata
    check_target(det, gm, input_path, allow_target_mismatch)
    seed = int(gm["seed"] if seed is None else seed)
    chunk_size = int(gm["chunk_size"])
    first_chunk, stop_chunk = (int(x) for x in gm["chunk_range"])
    lo, hi = (first_chunk, stop_chunk) if chunks is None else (
        chunks[0], stop_chunk if chunks[1] is None else chunks[1])
    if not (first_chunk <= lo < hi <= stop_chunk):
        from generator._validate import ConfigError

        raise ConfigError(f"--chunks {lo}:{hi}: {input_path} holds chunks {first_chunk}:{stop_chunk}; "
                          "choose a non-empty range within them")
    inputs = dict(EVENT_COLUMNS_TRUTH)
    # Every other column of the input (e.g. reweighting weights) is carried through unchanged.
    if reader.n_events:
        first, _ = next(reader.iter_chunks(step=1))
        for k, v in first.items():
            if k not in inputs:
                inputs[k] = (v.dtype, reader.units.get(k, ""))
    inputs.update(STAGE_COLUMNS)
    chain = build_chain(det, gm, inputs)
    columns = dict(inputs)
    columns.update(chain.provides)
    if "triggered" not in columns:
        columns["triggered"] = (np.bool_, "")
    threads = resolve_threads(threads)
    t = det.timing
    windows = BeamWindows(t.on_start_ns, t.on_length_ns, t.off_start_ns, t.off_length_ns)
    if gm.get("pulsed"):
        check_beam_windows(gm, windows)
    for bg in det.backgrounds:  # fail before any work if a background does not fit the source
        expected_background_counts(bg, gm, windows, True, det.source_off_live_days)

    plan = stored_plan(reader, det, chain, columns, output_path, chunk_size)
    lo_row, hi_row = (lo - first_chunk) * chunk_size, min((hi - first_chunk) * chunk_size, reader.n_events)

    def process(item):
        chunk, cols = item
        if plan is not None:  # a RawBlock: decode here, in the worker, what is not copied or what the chain reads
            blk = cols
            full = prepare_chunk(det, gm, seed, chunk, blk.decode(plan["decode"]), windows,
                                 n=None if det.backgrounds else blk.n)
            out, jag = chain.run(detsim_rng(seed, chunk), full)
            return out, jag, {c: blk.chunks[c] for c in plan["copy"]}
        full = prepare_chunk(det, gm, seed, chunk, cols, windows)
        out, jag = chain.run(detsim_rng(seed, chunk), full)
        return out, jag, None

    n_written = 0
    stored = {c: plan["chunk_rows"] for c in plan["copy"]} if plan and plan["copy"] else None
    with EventWriter(output_path, stage="detsim", columns=columns, jagged=chain.jagged, threads=threads,
                     rows_per_write=chunk_size, stored=stored) as writer, \
            tqdm(total=reader.n_events, unit="ev", unit_scale=True, desc="detsim",
                 disable=None if progress is None else not progress) as bar, \
            ThreadPoolExecutor(max_workers=threads) as pool:
        if plan is not None:
            blocks = reader.iter_stored_blocks(chunk_size, sorted(set(plan["decode"]) | set(plan["copy"])),
                                               start=lo_row, stop=hi_row)
            todo = ((lo + k, (blk, blk.n)) for k, blk in enumerate(blocks))
        else:
            todo = ((first_chunk + k, (c, len(c["event_id"])))
                    for k, (c, _) in enumerate(reader.iter_chunks(step=chunk_size)) if lo <= first_chunk + k < hi)
        # Chunks are independent: simulate up to `threads` at once (the kernels release the GIL), write in order.
        window = []

        def drain(fut):
            nonlocal n_written
            out, jag, copied = fut.result()
            writer.write(out, jag, copied)
            n_written += len(out["origin"])
            bar.update(int(np.count_nonzero(out["origin"] == 0)))

        n_cevns = 0
        for chunk, (item, n_item) in todo:
            n_cevns += n_item
            window.append(pool.submit(process, (chunk, item)))
            if len(window) > threads:  # one chunk more than threads: the next is read while one is written
                drain(window.pop(0))
        for fut in window:
            drain(fut)
        if (lo, hi) != (first_chunk, stop_chunk):  # this file holds part of its parent's exposure
            frac = n_cevns / max(int(gm["n_events_total"]), 1)
            gm = dict(gm, chunk_range=[lo, hi], n_generated=n_cevns, exposure_fraction=frac,
                      expected_events=float(gm["expected_events_total"]) * frac)
        meta = writer.close(detsim_metadata(det, gm, seed, reader, windows))
    return meta


def stored_plan(reader: EventReader, det: DetectorConfig, chain: Chain, columns: dict, output_path,
                chunk_size: int) -> dict | None:
    """How to read an HDF5 input whose generator chunks fall on its stored chunks (the generator's own files): as
    stored chunks, decoded in the worker threads with the physics. HDF5 out without backgrounds: the input's columns
    go to the output as their stored chunks (no decoding, no compression; ``copy``) and only those the chain reads
    are decoded; otherwise (backgrounds interleaved with the events, ROOT out) every column is decoded, still in the
    workers. None for other inputs (ROOT, other chunkings): read and decoded by h5py/uproot in the main thread."""
    if reader.format != "hdf5" or not reader.n_events:
        return None
    rows = reader.stored_chunk_rows(reader.columns)
    if rows is None or chunk_size % rows:
        return None
    copy = []
    if not det.backgrounds and file_format(output_path) == "hdf5":
        dtypes = reader.h5_dtypes
        provided = chain.provides
        copy = [c for c in reader.columns if c in columns and c not in provided and dtypes[c] == columns[c][0]]
    needs = {c for s in chain.steps for c in s.needs}
    decode = [c for c in reader.columns if c in needs or c not in copy]
    return {"chunk_rows": rows, "copy": copy, "decode": decode}


def detsim_metadata(det: DetectorConfig, gm: dict, seed: int, reader, windows: BeamWindows) -> dict:
    keep = ("seed", "chunk_size", "chunk_range", "n_chunks_total", "n_events_total", "n_generated", "mode",
            "expected_events", "expected_events_total", "exposure_fraction", "weight", "components",
            "component_nu_pdg", "isotopes", "threshold_kevnr", "exposure", "pulsed", "rep_rate_hz", "n_pulses",
            "live_time_s")
    meta = {k: gm.get(k) for k in keep}
    meta.update({
        "package_version": __version__,
        "versions": {"numpy": np.__version__, "python": platform.python_version()},
        "detector": to_dict(det),
        "detsim_seed": seed,
        "generator_config": gm.get("config"),
        "parent_provenance_hash": gm.get("provenance_hash"),
        "parent_file": str(reader.path),
        "parents": [{k: v for k, v in gm.items() if k not in ("columns", "jagged")}],
        "origins": ORIGINS,
    })
    if gm.get("pulsed"):
        t = det.timing
        meta["beam_windows"] = {"on_start_ns": t.on_start_ns, "on_length_ns": t.on_length_ns,
                                "off_start_ns": t.off_start_ns, "off_length_ns": t.off_length_ns,
                                "duty_factor": float(gm["rep_rate_hz"]) * t.on_length_ns * 1e-9}
    frac = float(gm.get("exposure_fraction") or 0.0)
    steady = ("steady_state", "dark_clusters")  # uniform in time: generated for the source-off time too
    meta["expected_background_events"] = [
        {"kind": bg.kind, "origin": origin_of(bg),
         "recoil_type": bg.recoil_type, "off_scale": bg.off_scale,
         "source_on": expected_background_counts(bg, gm, windows, True, det.source_off_live_days) * frac,
         "source_off": expected_background_counts(bg, gm, windows, False, det.source_off_live_days) * frac
         if bg.kind in steady else 0.0}
        for bg in det.backgrounds]
    meta["source_off_live_days"] = det.source_off_live_days
    meta.update(det.module.metadata(det, gm))
    return meta
