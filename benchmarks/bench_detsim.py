"""Detector-simulation benchmark: events/s of each detector chain for 1 and 2 threads.

Run:  python benchmarks/bench_detsim.py [--events N]
A generator file is made once (reactor on Ge, no recoil threshold) and run through each detector
preset, in memory (chain only) and file to file (read, simulate, write compressed HDF5).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from detsim.config import load_detector
from detsim.simulate import build_chain, detsim_rng, simulate_detector
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from generator.sampler import EVENT_COLUMNS_TRUTH

# (detector preset, generator preset) pairs to time; later technologies add their lines here.
CASES = [("conus_plus", "reactor_ge")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=2_000_000)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for det_name, gen_preset in CASES:
            gen = os.path.join(d, f"{gen_preset}.h5")
            generate(load_config(preset=gen_preset), gen, n_events=args.events, progress=False)
            det = load_detector(det_name)
            r = EventReader(gen)
            cols, _ = r.read()
            chain = build_chain(det, r.metadata, dict(EVENT_COLUMNS_TRUTH))
            chain.run(detsim_rng(1, 0), {k: v[:1000] for k, v in cols.items()})
            t = time.perf_counter()
            chain.run(detsim_rng(1, 0), cols)
            rows.append((f"{det_name}: chain in memory, 1 thread", args.events / (time.perf_counter() - t)))
            for th in (1, 2):
                out = os.path.join(d, "det.h5")
                t = time.perf_counter()
                simulate_detector(gen, out, det, threads=th, progress=False)
                rows.append((f"{det_name}: file -> file (HDF5), {th} thread{'s' if th > 1 else ''}",
                             args.events / (time.perf_counter() - t)))
    print(f"\nDetector-simulation benchmark ({os.cpu_count()} cores, {args.events:.0e} events)\n")
    print(f"| {'measurement':<52} | {'events/s':>10} |")
    print(f"|{'-' * 54}|{'-' * 12}|")
    for name, rate in rows:
        print(f"| {name:<52} | {rate:10.3e} |")


if __name__ == "__main__":
    main()
