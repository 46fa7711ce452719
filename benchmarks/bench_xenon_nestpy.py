"""Xenon TPC benchmark: our NEST-v2 chain against NEST's own Python bindings (nestpy), one core.

Run:  python benchmarks/bench_xenon_nestpy.py [--events N] [--nest-events M]
The same solar-8B recoil energies and vertices (solar_xe preset, 8B only) go through
  - our xenon chain (mean yields + GetQuanta fluctuations + S1 + drift + S2, numba kernels), lz preset;
  - our quanta step alone;
  - nestpy ``runNESTvec`` with NEST's LZ_WS2024 detector file and the same NR parameters (C++ loop: yields,
    quanta, S1 in 'Hybrid' mode, S2), and nestpy GetYields + GetQuanta called from Python;
  - bare numpy ``Generator.standard_normal`` for the machine's random-number throughput.
Peak memory (VmHWM of a fresh process running ``simulate_detector`` file to file) is printed for two
file sizes, to show that it does not grow with the number of events.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from _common import peak_rss_mb

LZ_TOP_DRIFT_MM = 1461.0  # NEST LZ_WS2024.hh TopDrift (liquid surface, dt = 0)



def make_events(path, n):
    from generator.config import load_config
    from generator.generate import generate

    cfg = load_config(preset="solar_xe", overrides=["source.components=['b8']"])
    generate(cfg, path, n_events=n, progress=False, threads=1)


def memory_child(gen, out):
    """Run in a fresh process: simulate a file with the xenonnt preset, print the peak RSS."""
    from detsim.config import load_detector
    from detsim.simulate import simulate_detector

    simulate_detector(gen, out, load_detector("xenonnt"), progress=False, threads=1)
    print(f"{peak_rss_mb():.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000, help="events for our chain")
    ap.add_argument("--nest-events", type=int, default=20_000, help="events for nestpy")
    ap.add_argument("--memory-sizes", type=int, nargs=2, default=(200_000, 2_000_000))
    ap.add_argument("--_memory-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._memory_child:
        memory_child(*args._memory_child)
        return

    import numba

    numba.set_num_threads(1)
    from detsim.chain import Chain
    from detsim.config import load_detector
    from detsim.xenon import quanta_model, xenon_steps
    from generator.eventfile import EventReader
    from generator.sampler import EVENT_COLUMNS_TRUTH

    rows = []
    with tempfile.TemporaryDirectory() as d:
        gen = os.path.join(d, "b8.h5")
        make_events(gen, args.events)
        r = EventReader(gen)
        cols, _ = r.read()
        geo = r.metadata["config"]["target"]["geometry"]
        det = load_detector("lz")
        n = len(cols["t_nr_kev"])
        chain = Chain(xenon_steps(det, geo), dict(EVENT_COLUMNS_TRUTH))
        chain.run(np.random.default_rng(0), {k: v[:1000] for k, v in cols.items()})  # compile / load caches
        t = time.perf_counter()
        chain.run(np.random.default_rng(1), cols)
        ours = n / (time.perf_counter() - t)
        rows.append(("ours: full chain (quanta, S1, drift, S2), lz", ours))
        model = quanta_model(det.xenon)
        t = time.perf_counter()
        model.sample(np.random.default_rng(2), cols["t_nr_kev"], cols["target_a"])
        ours_q = n / (time.perf_counter() - t)
        rows.append(("ours: quanta only (yields + GetQuanta)", ours_q))

        rng = np.random.default_rng(3)
        t = time.perf_counter()
        rng.standard_normal(10_000_000)
        rows.append(("bare numpy standard_normal (draws/s)", 1e7 / (time.perf_counter() - t)))

        try:
            import nestpy
        except ImportError:
            print("nestpy not installed")
            nestpy = None
        if nestpy is not None:
            m = min(args.nest_events, n)
            e = np.ascontiguousarray(cols["t_nr_kev"][:m], dtype=np.float64)
            z_mm = LZ_TOP_DRIFT_MM - (0.5 * geo["height_cm"] - cols["z_cm"][:m].astype(np.float64)) * 10.0
            pos = np.ascontiguousarray(np.c_[np.zeros(m), np.zeros(m), z_mm])
            width = list(det.xenon.nr_width_params) + [0.3, 0.04311, 0.46894, 0.15505, -0.26564, 0.0, 0.0]
            lz = nestpy.detectors.LZ_WS2024()
            t = time.perf_counter()
            nestpy.array.runNESTvec(lz, nestpy.interactions.NR, e, pos, det.xenon.drift_field_v_cm, 1,
                                    nr_yield_params=list(det.xenon.nr_yield_params), width_params=width)
            nest_full = m / (time.perf_counter() - t)
            rows.append(("nestpy runNESTvec (LZ_WS2024, C++ loop)", nest_full))
            nc = nestpy.NESTcalc(lz)
            t = time.perf_counter()
            for x in e:
                y = nc.GetYields(interaction=nestpy.interactions.NR, energy=float(x), density=2.8687,
                                 drift_field=96.5, A=131.293, nr_parameters=list(det.xenon.nr_yield_params))
                nc.GetQuanta(y, 2.8687, width)
            nest_q = m / (time.perf_counter() - t)
            rows.append(("nestpy GetYields + GetQuanta from Python", nest_q))

        mem = []
        for size in args.memory_sizes:
            g = os.path.join(d, f"m{size}.h5")
            make_events(g, size)
            out = subprocess.run([sys.executable, __file__, "--_memory-child", g, os.path.join(d, f"o{size}.h5")],
                                 capture_output=True, text=True, check=True)
            mem.append((size, float(out.stdout.strip().splitlines()[-1])))

    print(f"\nXenon chain vs nestpy (1 core, {n:.0e} solar-8B events on Xe; nestpy {args.nest_events:.0e})\n")
    print(f"| {'measurement':<46} | {'events/s':>10} |")
    print(f"|{'-' * 48}|{'-' * 12}|")
    for name, rate in rows:
        print(f"| {name:<46} | {rate:10.3e} |")
    if nestpy is not None:
        print(f"\nfull chain: ours / nestpy runNESTvec = {ours / nest_full:.0f}x; "
              f"quanta: ours / nestpy (Python loop) = {ours_q / nest_q:.0f}x")
    print("\nPeak memory of simulate_detector (fresh process, xenonnt, HDF5 -> HDF5, 1 thread):")
    for size, mb in mem:
        print(f"  {size:>9,d} events: VmHWM {mb:7.1f} MB")


if __name__ == "__main__":
    main()
