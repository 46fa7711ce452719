"""Detector-simulation benchmark: events/s of each detector chain for 1 and 2 threads.

Run:  python benchmarks/bench_detsim.py [--events N]
For each case a generator file is made (reactor on Ge; solar 8B on Xe; SNS on CsI; timed: `generate` -> HDF5 on
2 threads, the disk-speed reference) and run through the detector preset, in memory (chain only) and file to file
(read, simulate, write compressed HDF5; each in a fresh process whose peak resident memory, VmHWM from
/proc/self/status, is reported). The ratios of issue #17 follow the table: HPGe against xenon in memory, each
file-to-file run (2 threads) against `generate` -> HDF5 of the same run, CryoCsI's photodetection kernel against its
plain-numpy reference and its chain against `generate` -> HDF5.

Memory (issue #17): python benchmarks/bench_detsim.py --memory [--memory-events 1e6 1e7] runs CryoCsI file to file
(2 threads, HDF5) on inputs of each size, each in a fresh process, and prints peak resident memory against N.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from detsim.config import load_detector
from detsim.simulate import build_chain, detsim_rng, simulate_detector
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from generator.sampler import EVENT_COLUMNS_TRUTH
from _common import best_rate, peak_rss_mb

# (detector preset, generator preset[, generator overrides]) to time; later technologies add their lines here.
CASES = [("conus_plus", "reactor_ge"),
         ("xenonnt", "solar_xe", ["source.components=['b8']"]),
         ("cryocsi", "sns_csi"),
         ("nucleus_cawo4", "nucleus_cawo4"), ("ricochet_cryocube", "ricochet_cryocube"),
         ("connie_skipper", "connie_skipper")]   # Skipper-CCD: 2.2e5 events/s in memory vs conus_plus 5.0e6, same run



def file_to_file(gen: str, det_name: str, threads: int, out: str) -> tuple[float, float]:
    """In a fresh process: warm the kernels up on 1000 events, then time the stage; (events/s, peak RSS MB)."""
    det = load_detector(det_name)
    r = EventReader(gen)
    cols, _ = next(r.iter_chunks(step=1000))
    build_chain(det, r.metadata, dict(EVENT_COLUMNS_TRUTH)).run(detsim_rng(1, 0), cols)
    t = time.perf_counter()
    simulate_detector(gen, out, det, threads=threads, progress=False)
    return r.n_events / (time.perf_counter() - t), peak_rss_mb()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--detectors", nargs="*", help="only these detector presets of CASES")
    ap.add_argument("--memory", action="store_true", help="only the CryoCsI peak-memory-against-N runs")
    ap.add_argument("--memory-events", type=float, nargs="*", default=[1e6, 1e7])
    args = ap.parse_args()
    if args.memory:
        return memory_flat_in_n([int(x) for x in args.memory_events])
    rows = []
    in_memory, f2f, gen_rate, photo = {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as d:
        for det_name, gen_preset, *over in CASES:
            if args.detectors and det_name not in args.detectors:
                continue
            gen = os.path.join(d, f"{gen_preset}.h5")
            cfg = load_config(preset=gen_preset, overrides=over[0] if over else ())
            generate(cfg, gen, n_events=20_000, progress=False, threads=2)  # warm-up (kernels, tables)
            t = time.perf_counter()
            generate(cfg, gen, n_events=args.events, progress=False, threads=2)
            gen_rate[det_name] = args.events / (time.perf_counter() - t)
            rows.append((f"{det_name}: its input, generate -> HDF5, 2 threads", gen_rate[det_name]))
            det = load_detector(det_name)
            r = EventReader(gen)
            cols, _ = r.read()
            chain = build_chain(det, r.metadata, dict(EVENT_COLUMNS_TRUTH))
            chain.run(detsim_rng(1, 0), {k: v[:1000] for k, v in cols.items()})
            t = time.perf_counter()
            res, _ = chain.run(detsim_rng(1, 0), cols)
            in_memory[det_name] = args.events / (time.perf_counter() - t)
            rows.append((f"{det_name}: chain in memory, 1 thread", in_memory[det_name]))
            if det.technology == "scintillator":  # photodetection kernel against its plain-numpy reference
                from detsim.scintillator import kernel_params, mean_primary_pe, photodetect, photodetect_numpy

                p = kernel_params(det.scintillator)
                # at most 5e5 events: the numpy reference holds every PE of its input at once (~1 kB per event)
                k = min(args.events, 500_000)
                mean = mean_primary_pe(det.scintillator, res["e_ee_kevee"][:k])
                er, off = np.zeros(k, bool), cols["time_ns"][:k]
                for label, fn, rep in (("numba kernel", photodetect, 3),
                                       ("plain-numpy reference", photodetect_numpy, 1)):
                    photo[label] = best_rate(lambda fn=fn: fn(np.random.default_rng(1), mean, er, off, p), k, rep)
                    rows.append((f"{det_name}: photodetection, {label}", photo[label]))
            for th in (1, 2):
                out = os.path.join(d, "det.h5")
                if os.path.exists(out):  # not timed: replacing a 2e6-event file costs ~70 ms of unlinking
                    os.remove(out)
                # a fresh process per measurement, so that its peak memory (VmHWM) is the stage's own
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
                    rate, rss = ex.submit(file_to_file, gen, det_name, th, out).result()
                rows.append((f"{det_name}: file -> file (HDF5), {th} thread{'s' if th > 1 else ''}", rate, rss))
                f2f[det_name] = rate
    print(f"\nDetector-simulation benchmark ({os.cpu_count()} cores, {args.events:.0e} events)\n")
    print(f"| {'measurement':<52} | {'events/s':>10} | {'peak RSS (MB)':>13} |")
    print(f"|{'-' * 54}|{'-' * 12}|{'-' * 15}|")
    for name, rate, *rss in rows:
        print(f"| {name:<52} | {rate:10.3e} | {f'{rss[0]:.0f}' if rss else '':>13} |")
    print("\nRatios in this run (issue #17 targets: HPGe >= 10 M/s, ~ xenon; file -> file >= 0.8 x generate -> HDF5)")
    if "conus_plus" in in_memory and "xenonnt" in in_memory:
        print(f"  HPGe (conus_plus) / xenon (xenonnt), chain in memory, 1 thread: "
              f"{in_memory['conus_plus'] / in_memory['xenonnt']:.2f}")
    for name, rate in f2f.items():
        print(f"  {name}: file -> file, 2 threads / generate -> HDF5, 2 threads: {rate / gen_rate[name]:.2f}")
    if photo and "cryocsi" in in_memory:  # issue #17 item 1: >= 1.6 M/s in memory, kernel >= 10 x numpy
        print(f"  cryocsi photodetection, numba kernel / plain-numpy reference: "
              f"{photo['numba kernel'] / photo['plain-numpy reference']:.1f} (target >= 10)")
        print(f"  cryocsi chain in memory, 1 thread / generate -> HDF5, 2 threads: "
              f"{in_memory['cryocsi'] / gen_rate['cryocsi']:.2f} (target: 1.6e6 events/s)")
    if "cryocsi" in f2f:  # issue #17 item 3: CryoCsI file to file >= 1 M events/s on 2 threads
        print(f"  cryocsi file -> file (HDF5), 2 threads: {f2f['cryocsi'] / 1e6:.2f} M events/s (target >= 1.0)")


def memory_flat_in_n(sizes):
    """CryoCsI file -> file (2 threads, HDF5) on inputs of each size, each in a fresh process: peak RSS vs N."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        cfg = load_config(preset="sns_csi")
        gen, out = os.path.join(d, "sns_csi.h5"), os.path.join(d, "det.h5")
        for n in sizes:
            generate(cfg, gen, n_events=n, progress=False, threads=2)
            if os.path.exists(out):
                os.remove(out)
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
                rate, rss = ex.submit(file_to_file, gen, "cryocsi", 2, out).result()
            rows.append((n, rate, rss, os.path.getsize(out) / n))
    print(f"\nCryoCsI file -> file (HDF5), 2 threads, peak memory against N ({os.cpu_count()} cores)\n")
    print("| events | events/s | peak RSS (MB) | output bytes/event |")
    print("|---|---|---|---|")
    for n, rate, rss, b in rows:
        print(f"| {n:.0e} | {rate:.3e} | {rss:.0f} | {b:.0f} |")
    if len(rows) > 1:
        print(f"\npeak RSS at {rows[-1][0]:.0e} / at {rows[0][0]:.0e}: {rows[-1][2] / rows[0][2]:.2f} (flat: ~1)")


if __name__ == "__main__":
    main()
