"""Released-analysis fit benchmark: toy fits per second with the numba likelihood kernels (reco/released/_kernels.py)
against the same fit with the numpy reference functions of reco/released/likelihood.py put in their place.

Run:  python benchmarks/bench_released_fit.py [--toys N]
Two models of the CENNS-10 LAr release (960 bins): the released PDFs without systematics (no shape nuisance: the
fit takes the compiled fixed-template NLL) and this package's analysis with its seven shape nuisances (the
general NLL, whose per-bin profiled terms are compiled). Each toy is a Poisson draw of the model's expectation
fitted with the significance (two minimisations), as ``cevns-run --toys`` does. A second table: the
template interpolation kept between the NLL and its gradient at the same point against recomputed at every call. All figures come from one run:
compare ratios (the machines are shared and noisy). Results are quoted in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib

import numpy as np

from _common import best_rate
from generator.config import load_config
from reco.released import coherent_lar as lar
from reco.released import likelihood as lk


def _numpy_nll_sum(lam, var, n):
    return float(np.sum(lk._profiled_bin_nll(lam, var, n)))


def _numpy_derivatives(lam, var, n, g_lam, g_var):
    g_lam[:], g_var[:] = lk._profiled_bin_derivatives(lam, var, n)


def _numpy_scales_nll(scales, templates, variance, n, inv_prior_var):
    lam, var = scales @ templates, (scales * scales) @ variance
    return _numpy_nll_sum(lam, var, n) + 0.5 * float(np.sum(inv_prior_var * (scales - 1.0) ** 2))


def _numpy_scales_gradient(scales, templates, variance, n, inv_prior_var, out):
    lam, var = scales @ templates, (scales * scales) @ variance
    g_lam, g_var = lk._profiled_bin_derivatives(lam, var, n)
    out[:] = inv_prior_var * (scales - 1.0) + templates @ g_lam + 2.0 * scales * (variance @ g_var)


@contextlib.contextmanager
def numpy_reference():
    """The fit with the numpy reference functions where it calls the compiled kernels."""
    swaps = {"profiled_nll_sum": _numpy_nll_sum, "profiled_derivatives": _numpy_derivatives,
             "scales_nll": _numpy_scales_nll, "scales_nll_gradient": _numpy_scales_gradient}
    saved = {name: getattr(lk, name) for name in swaps}
    try:
        for name, fn in swaps.items():
            setattr(lk, name, fn)
        yield
    finally:
        for name, fn in saved.items():
            setattr(lk, name, fn)


@contextlib.contextmanager
def no_template_cache():
    """The fit with the template interpolation recomputed at every NLL and gradient call."""
    saved = lk._Compiled.raw_templates
    try:
        lk._Compiled.raw_templates = lambda self, theta: self.interpolate(theta)
        yield
    finally:
        lk._Compiled.raw_templates = saved


def toy_rate(model, n_toys: int) -> tuple[float, list]:
    results = []

    def run():
        results.clear()
        rng = np.random.default_rng(np.random.SeedSequence(2020, spawn_key=(7,)))
        for _ in range(n_toys):
            results.append(lk.fit(model, data=lk.poisson_toy(model, rng)))

    return best_rate(run, n_toys), list(results)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toys", type=int, default=20)
    args = ap.parse_args(argv)
    models = {"released PDFs, no nuisance (fixed templates)": lar.released_pdf_model(),
              "our template, 7 shape nuisances": lar.build_analysis(load_config(preset="coherent_lar_2020"),
                                                                    n_signal_events=20_000, seed=1).model}
    print(f"\nReleased-fit benchmark (CENNS-10 LAr, 960 bins, {args.toys} toys each, best of 3)\n")
    print("| model | numba toys/s | numpy toys/s | ratio | largest |mu| difference |")
    print("|---|---|---|---|---|")
    for label, model in models.items():
        lk.fit(model)  # compile outside the timing
        fast, r_fast = toy_rate(model, args.toys)
        with numpy_reference():
            slow, r_slow = toy_rate(model, args.toys)
        dmu = max(abs(a.mu - b.mu) for a, b in zip(r_fast, r_slow))
        print(f"| {label} | {fast:.1f} | {slow:.1f} | {fast / slow:.2f}x | {dmu:.1e} |")
    nuisances = models["our template, 7 shape nuisances"]
    cached, r_cached = toy_rate(nuisances, args.toys)
    with no_template_cache():
        fresh, r_fresh = toy_rate(nuisances, args.toys)
    same = all(a.mu == b.mu for a, b in zip(r_cached, r_fresh))
    print("\nTemplate interpolation kept between the NLL and its gradient at the same point (7 shape nuisances):\n")
    print("| interpolation | toys/s | ratio | identical fits |")
    print("|---|---|---|---|")
    print(f"| once per point | {cached:.1f} | {cached / fresh:.2f}x | {same} |")
    print(f"| at every call | {fresh:.1f} | 1 | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
