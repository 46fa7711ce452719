"""Reweighting benchmark: events/s of per-event BSM weights, exact numpy against the numba table kernel.

Run:  python benchmarks/bench_reweight.py [--events N]
A 10^6-event SNS CsI sample (preset sns_csi, T > 5 keVnr) drawn in memory; weights for one hypothesis (a light
Z') and for five at once (NSI, Z', scalar, magnetic moment, charge radius + neutron radius), then file to file
(HDF5 -> HDF5 with cevns-reweight's library call), and for comparison drawing the same number of events
directly under the hypothesis with the BSM sampler (and the SM sampler). Prints one table; all figures come
from this one run, so compare ratios (the machines are shared and noisy). Results are quoted in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numba
import numpy as np

from generator.config import load_config
from generator.experiment import Experiment
from generator.generate import generate
from generator.reweight import Reweighter, hypothesis_from_dict, reweight_file
from generator.sampler import SamplerTables, chunk_sizes, sample_chunks

HYPS = [
    {"name": "zprime", "bsm": {"zprime_mass_mev": 20.0, "zprime_coupling": 6e-5}},
    {"name": "nsi", "bsm": {"nsi_eps_u": {"ee": 0.1, "emu": 0.05}}},
    {"name": "scalar", "bsm": {"scalar_mass_mev": 10.0, "scalar_coupling": 4e-5}},
    {"name": "magnetic", "bsm": {"magnetic_moment_mub": {"mu": 3e-9}}},
    {"name": "radius", "bsm": {"charge_radius_cm2": {"e": -0.83e-32}}, "physics": {"neutron_rms_radius_fm": 5.3}},
]


def best(fn, repeat=3):
    t_best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.events
    cfg = load_config(preset="sns_csi", overrides=["recoil.threshold_kevnr=5"])
    tab = SamplerTables.build(Experiment.from_config(cfg))
    sizes = chunk_sizes(n, 100_000)
    ev = sample_chunks(tab, 1, np.arange(len(sizes)), sizes, 100_000, tab.expected_events / n)
    hyps = [hypothesis_from_dict(h) for h in HYPS]
    rows = []
    for label, hs in (("1 hypothesis (Z')", hyps[:1]), ("5 hypotheses", hyps)):
        rw_np = Reweighter(cfg, hs)
        t_np = best(lambda: rw_np.weights(ev), repeat=2)  # noqa: B023
        rw_tab = Reweighter(cfg, hs, method="table")
        t_build = time.perf_counter()
        rw_tab.weights({k: v[:10] for k, v in ev.items()})  # tables + compile / cache load
        t_build = time.perf_counter() - t_build
        rates = {}
        for th in (1, 2):
            if th > numba.config.NUMBA_NUM_THREADS:
                continue
            numba.set_num_threads(th)
            rates[th] = n / best(lambda: rw_tab.weights(ev))  # noqa: B023
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        rows.append((f"{label}: numpy (exact)", n / t_np, ""))
        for th, r in rates.items():
            rows.append((f"{label}: numba tables, {th} thread{'s' if th > 1 else ''}", r,
                         f"{r * t_np / n:.1f}x numpy"))
        rows.append((f"{label}: table build (one-off)", None, f"{t_build:.2f} s (incl. numba compile/cache load)"))
    numba.set_num_threads(1)
    for label, extra in (("SM sampler", []), ("BSM sampler under the Z' hypothesis", [
            "bsm.zprime_mass_mev=20", "bsm.zprime_coupling=6e-5"])):
        gtab = SamplerTables.build(Experiment.from_config(load_config(
            preset="sns_csi", overrides=["recoil.threshold_kevnr=5", *extra])))
        sample_chunks(gtab, 1, [0], [1000], 1000, 1.0)
        rate = n / best(lambda: sample_chunks(gtab, 1, np.arange(len(sizes)), sizes, 100_000, 1.0))  # noqa: B023
        rows.append((f"{label}, 1 thread (generation, for comparison)", rate, ""))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "ev.h5")
        generate(cfg, src, n_events=n, progress=False)
        for method in ("numpy", "table"):
            out = os.path.join(d, f"rw_{method}.h5")
            t = best(lambda: reweight_file(src, out, hyps[:1], method=method, progress=False),  # noqa: B023
                     repeat=2)
            rows.append((f"file to file HDF5, 1 hypothesis, {method}", n / t, ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement (SNS CsI, T > 5 keVnr, ' + str(n) + ' events)':<{width}}  {'events/s':>10}  note")
    for name, rate, note in rows:
        print(f"{name:<{width}}  {'' if rate is None else f'{rate / 1e6:8.2f} M':>10}  {note}")


if __name__ == "__main__":
    main()
