"""Toy-MC benchmark: pseudo-experiments per minute through generate -> detsim -> reco (in memory) + fit.

Run:  python benchmarks/bench_toys.py [--toys N]
Uses the `demo` preset (SNS, CryoCsI, steady-state + BRN + NIN backgrounds), 1 and 2 worker processes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from reco.config import reco_from_dict
from reco.run import detector_for_run, with_oversampled_backgrounds
from reco.stage import Templates
from reco.toys import run_toys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--toys", type=int, default=6000)
    args = ap.parse_args()
    cfg = load_config(preset="demo")
    det = detector_for_run(cfg)
    rc = reco_from_dict(dict(cfg.reco, plots=False))
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        generate(cfg, d / "g.h5", n_events=rc.template_events, progress=False)
        simulate_detector(d / "g.h5", d / "t.h5", with_oversampled_backgrounds(det, rc.template_oversample),
                          progress=False)
        r = EventReader(d / "t.h5")
        cols, _ = r.read(jagged=[])
        templates = Templates.from_columns(cols, r.metadata, rc)
        rows = []
        for workers in (1, 2):
            t = time.perf_counter()
            ens = run_toys(cfg, det, rc, templates, r.metadata, args.toys, seed=11, workers=workers, progress=False)
            dt = time.perf_counter() - t
            rows.append((workers, args.toys / dt * 60.0, ens.summary()))
    print(f"\nToy-MC benchmark ({os.cpu_count()} cores, demo preset, {args.toys} toys, ~"
          f"{rows[0][2]['mean_mu_err']:.3f} signal-strength error per toy)\n")
    print("| workers | toys/minute (start-up included) | ratio to 1 worker | pull mean | pull width |")
    print("|---|---|---|---|---|")
    for w, rate, s in rows:
        print(f"| {w} | {rate:.0f} | {rate / rows[0][1]:.2f} | {s['pull_mean']:+.3f} | {s['pull_width']:.3f} |")
    print("\nissue #17 targets: >= 10000 toys/minute on 2 cores, second worker >= 1.7x")


if __name__ == "__main__":
    main()
