"""Energy-scale nuisances (reco.energy_offset_sigma_kevee): what they cost in the simulated chain.

Run:  python benchmarks/bench_energy_variants.py [--fits N]
On the conus_plus_2025 preset (HPGe, its own template sample from one cevns-run): the time to build the templates
with and without the offset nuisance (the +-1 sigma variants re-decide the trigger for 8 copies of every template
event), and fits per second of Poisson pseudo-data with and without it (with a shape nuisance the fit leaves the
compiled fixed-template likelihood for the general one). Ratios from one run; results in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import best_rate
from generator.config import load_config
from generator.eventfile import EventReader
from reco.config import reco_from_dict
from reco.fit import fit_templates
from reco.run import run_chain
from reco.stage import Templates


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fits", type=int, default=20)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run_chain(load_config(preset="conus_plus_2025", overrides=["reco.plots=false", "reco.data=asimov"]),
                  Path(tmp) / "run", threads=1, progress=False)
        reader = EventReader(Path(tmp) / "run" / "templates_detector.h5")
        cols, _ = reader.read()
        meta = reader.metadata
        base = json.loads((Path(tmp) / "run" / "summary.json").read_text())["reco_config"]
    print(f"\nEnergy-offset nuisance, conus_plus_2025 ({len(cols['weight'])} template events), best of 3\n")
    print("| | without | with the offset nuisance | ratio |")
    print("|---|---|---|---|")
    built, seconds = {}, {}
    for label, sigma in (("without", 0.0), ("with", 0.005)):
        cfg = reco_from_dict({**base, "energy_offset_sigma_kevee": sigma})
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            built[label] = Templates.from_columns(cols, meta, cfg)
            best = min(best, time.perf_counter() - t0)
        seconds[label] = best
    print(f"| template build [s] | {seconds['without']:.2f} | {seconds['with']:.2f} | "
          f"{seconds['with'] / seconds['without']:.1f}x |")
    rates = {}
    priors = reco_from_dict(base).priors()
    for label, t in built.items():
        expectation = t.matrix.sum(axis=0)

        def fits(t=t, expectation=expectation):
            rng = np.random.default_rng(1)
            for _ in range(args.fits):
                fit_templates(t.names, t.matrix, rng.poisson(expectation).astype(float), priors, t.variances,
                              t.shape_variants)

        rates[label] = best_rate(fits, args.fits)
    print(f"| fits of pseudo-data [1/s] | {rates['without']:.1f} | {rates['with']:.1f} | "
          f"{rates['without'] / rates['with']:.1f}x slower |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
