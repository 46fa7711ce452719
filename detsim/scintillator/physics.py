"""Plain-numpy reference of the scintillator model: analytic expectations (generalised Poisson moments, Borel
distribution, time profile, prompt fraction, afterpulses in the window, mean primary PE), the flat parameters
shared by the numba kernel and the reference (:class:`KernelParams`, :func:`kernel_params`) and the independent
vectorised photodetection :func:`photodetect_numpy` the kernel of _kernels.py is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from generator.eventfile import Jagged

from .config import KIND_AFTERGLOW, KIND_AFTERPULSE, KIND_CROSSTALK, KIND_DARK, KIND_SCINT, ScintillatorConfig

__all__ = ["KernelParams", "afterpulse_window_ratio", "borel_cdf", "borel_pmf", "generalised_poisson_moments",
           "kernel_params", "mean_primary_pe", "photodetect_numpy", "prompt_fraction", "time_cdf"]

# --------------------------------------------------------------------------------------------------------
# analytic expectations (metadata, tests)
# --------------------------------------------------------------------------------------------------------
def generalised_poisson_moments(mu, lam):
    """Mean and variance of the PE count for Poisson(mu) primaries each firing Borel(lam) cells."""
    return mu / (1.0 - lam), mu / (1.0 - lam) ** 3


def borel_pmf(n, lam):
    """Borel distribution P(n) = exp(-lam n) (lam n)^(n-1) / n!, n >= 1: cells fired by one primary avalanche."""
    n = np.asarray(n, dtype=np.float64)
    if lam == 0:
        return (n == 1).astype(np.float64)
    return np.exp(-lam * n + (n - 1) * np.log(lam * n) - gammaln(n + 1))


def borel_cdf(lam, tail=1e-15):
    """CDF of the Borel distribution at n = 1, 2, ... until 1 - tail; the last entry absorbs the tail."""
    if lam == 0:
        return np.array([2.0])
    n_max = 64
    while True:
        cdf = np.cumsum(borel_pmf(np.arange(1, n_max + 1), lam))
        if cdf[-1] >= 1 - tail or n_max > 1 << 20:
            break
        n_max *= 4
    cut = max(int(np.searchsorted(cdf, 1 - tail)) + 1, 2)  # P(1) and the sentinel at least (the kernel's
    # crosstalk draw starts at the second entry)
    cdf = cdf[:cut].copy()
    cdf[-1] = 2.0  # a uniform draw always ends the search
    return cdf


def time_cdf(t_ns, decay_times_ns, weights):
    """P(delay < t) for the multi-exponential scintillation profile (no jitter)."""
    t = np.maximum(np.asarray(t_ns, dtype=np.float64), 0.0)
    w = np.asarray(weights, float) / np.sum(weights)
    return sum(wk * -np.expm1(-t / tk) for wk, tk in zip(w, decay_times_ns, strict=True))


def prompt_fraction(decay_times_ns, weights, prompt_ns, window_ns):
    """Probability that a scintillation PE inside [0, window) falls in [0, prompt) (the mean F90, no noise)."""
    return time_cdf(min(prompt_ns, window_ns), decay_times_ns, weights) / time_cdf(window_ns, decay_times_ns,
                                                                                   weights)


# --------------------------------------------------------------------------------------------------------
# kernel parameters
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelParams:
    taus: np.ndarray  # decay constants (ns)
    cum_nr: np.ndarray  # cumulative component probabilities, nuclear recoils
    cum_er: np.ndarray  # ... electron recoils
    jitter: float
    photons_mode: bool
    pde: float
    intrinsic: float
    n_arrays: int
    share: float
    lam: float
    borel_cdf: np.ndarray  # CDF of the Borel distribution at n = 1, 2, ... (cells fired per primary)
    p_ap: float
    tau_ap: float
    dark_per_array_ns: float  # dark-count rate per array, per ns
    afterglow_ns: float  # afterglow rate per ns
    lo: float  # window start relative to the interaction (ns)
    hi: float  # window end (ns)
    prompt: float  # end of the prompt window (ns)
    spe: float
    add_offset: bool


def kernel_params(sc: ScintillatorConfig) -> KernelParams:
    tp, ps = sc.time_profile, sc.photosensor
    prompt = sc.psd.prompt_window_ns if sc.psd.enabled else sc.window_ns
    cum = [np.cumsum(tp.weights(e)) for e in (False, True)]
    for c in cum:
        c[-1] = 1.0 + 1e-12  # a uniform draw always lands in a component
    return KernelParams(np.asarray(tp.decay_times_ns, float), cum[0], cum[1], tp.jitter_ns,
                        sc.light_yield_unit == "photons_per_kevee", sc.pde, sc.intrinsic_resolution, ps.n_arrays,
                        ps.array_share, ps.crosstalk_lambda, borel_cdf(ps.crosstalk_lambda),
                        ps.afterpulse_probability, ps.afterpulse_tau_ns,
                        ps.total_dark_rate_hz * 1e-9 / ps.n_arrays, sc.afterglow_rate_hz * 1e-9, -sc.pretrigger_ns,
                        sc.window_ns, prompt, ps.spe_resolution, sc.pe_time_reference == "beam")


def afterpulse_window_ratio(sc: ScintillatorConfig) -> float:
    """Afterpulses inside the window per fired cell inside it, per unit afterpulse probability (NR profile):
    P(T + D < W) / P(T < W) with T the scintillation delay and D ~ Exp(afterpulse_tau_ns)."""
    tp, w_ns, tau_ap = sc.time_profile, sc.window_ns, sc.photosensor.afterpulse_tau_ns
    weights = tp.weights(False)
    both = 0.0
    for wk, tk in zip(weights, tp.decay_times_ns, strict=True):
        if abs(tk - tau_ap) < 1e-9 * tk:  # Gamma(2, tau): P(T + D < W) = 1 - e^{-x}(1 + x)
            x = w_ns / tk
            both += wk * -(np.expm1(-x) + x * np.exp(-x))
        else:  # hypoexponential CDF
            both += wk * (1.0 - (tk * np.exp(-w_ns / tk) - tau_ap * np.exp(-w_ns / tau_ap)) / (tk - tau_ap))
    inside = float(time_cdf(w_ns, tp.decay_times_ns, weights))
    return float(both) / inside if inside > 0 else 0.0


def mean_primary_pe(sc: ScintillatorConfig, e_kevee):
    """Mean primary PE (before crosstalk) for energies in keVee: LY x E x nonproportionality, and, for a light yield
    measured with these SiPMs, divided by the correlated-noise gain it already contains: the crosstalk factor
    1/(1-lambda) and the afterpulses in the window (1 + p_ap x afterpulse_window_ratio)."""
    e = np.asarray(e_kevee, dtype=np.float64)
    rel = np.interp(e, sc.nonproportionality_kevee, sc.nonproportionality_rel) if sc.nonproportionality_kevee \
        else 1.0
    mu = sc.light_yield * e * rel
    if sc.ly_includes_crosstalk:
        ps = sc.photosensor
        mu = mu * (1.0 - ps.crosstalk_lambda) / (1.0 + ps.afterpulse_probability * afterpulse_window_ratio(sc))
    return mu


# --------------------------------------------------------------------------------------------------------
# the plain-numpy reference of the photodetection loop (tests, benchmark baseline)
# --------------------------------------------------------------------------------------------------------
def photodetect_numpy(rng, mean, is_er, offset, p: KernelParams):
    """Independent vectorised numpy implementation of the same model (other draw order: same distributions).

    Used by the tests as a reference for the kernel's distributions and by the benchmark as the plain-numpy
    speed baseline.
    """
    mean = np.asarray(mean, dtype=np.float64)
    n = len(mean)
    mu = mean.copy()
    if p.intrinsic > 0:
        mu = mu * np.maximum(0.0, 1.0 + p.intrinsic * rng.standard_normal(n))
    n_prim = rng.binomial(rng.poisson(mu), p.pde) if p.photons_mode else rng.poisson(mu)
    ev = np.repeat(np.arange(n), n_prim)
    u = rng.random(ev.size)
    comp = np.where(np.asarray(is_er)[ev], np.searchsorted(p.cum_er, u, side="right"),
                    np.searchsorted(p.cum_nr, u, side="right"))
    t = rng.standard_exponential(ev.size) * p.taus[comp]
    if p.jitter > 0:
        t = t + p.jitter * rng.standard_normal(ev.size)
    arr = (rng.random(ev.size) >= p.share).astype(np.int8) if p.n_arrays == 2 else np.zeros(ev.size, np.int8)
    parts = [(ev, t, arr, np.full(ev.size, KIND_SCINT, np.int8))]
    width = p.hi - p.lo
    if p.afterglow_ns > 0:
        e2 = np.repeat(np.arange(n), rng.poisson(p.afterglow_ns * width, n))
        a2 = (rng.random(e2.size) >= p.share).astype(np.int8) if p.n_arrays == 2 else np.zeros(e2.size, np.int8)
        parts.append((e2, p.lo + width * rng.random(e2.size), a2, np.full(e2.size, KIND_AFTERGLOW, np.int8)))
    if p.dark_per_array_ns > 0:
        for a in range(p.n_arrays):
            e3 = np.repeat(np.arange(n), rng.poisson(p.dark_per_array_ns * width, n))
            parts.append((e3, p.lo + width * rng.random(e3.size), np.full(e3.size, a, np.int8),
                          np.full(e3.size, KIND_DARK, np.int8)))
    ev, t, arr, kind = (np.concatenate(x) for x in zip(*parts, strict=True))
    extra = np.zeros(ev.size, dtype=np.int64)
    if p.lam > 0:  # Borel(lambda) - 1 extra cells per primary: total progeny of a Poisson(lambda) branching
        pending = np.ones(ev.size, dtype=np.int64)
        while pending.any():
            pending = rng.poisson(p.lam * pending)
            extra += pending
    xt = np.repeat(np.arange(ev.size), extra)
    out = [(ev, t, arr, kind), (ev[xt], t[xt], arr[xt], np.full(xt.size, KIND_CROSSTALK, np.int8))]
    if p.p_ap > 0:
        ap = np.repeat(np.arange(ev.size), rng.binomial(1 + extra, p.p_ap))
        out.append((ev[ap], t[ap] + p.tau_ap * rng.standard_exponential(ap.size), arr[ap],
                    np.full(ap.size, KIND_AFTERPULSE, np.int8)))
    ev, t, arr, kind = (np.concatenate(x) for x in zip(*out, strict=True))
    keep = (t >= p.lo) & (t < p.hi)
    ev, t, arr, kind = ev[keep], t[keep], arr[keep], kind[keep]
    order = np.argsort(ev, kind="stable")
    ev, t, arr, kind = ev[order], t[order], arr[order], kind[order]
    n_pe = np.bincount(ev, minlength=n).astype(np.int32)
    n_a0 = np.bincount(ev[arr == 0], minlength=n).astype(np.int32)
    n_prompt = np.bincount(ev[t < p.prompt], minlength=n).astype(np.int32)
    charge = n_pe.astype(np.float64)
    if p.spe > 0:
        charge = np.maximum(0.0, charge + p.spe * np.sqrt(charge) * rng.standard_normal(n))
    if p.add_offset:
        t = t + np.asarray(offset, dtype=np.float64)[ev]
    jag = Jagged(n_pe, {"time_ns": t.astype(np.float32), "array": arr, "kind": kind})
    return {"num_pe": n_pe, "num_primary_pe": n_prim.astype(np.int32), "num_pe_a": n_a0, "num_pe_b": n_pe - n_a0,
            "num_prompt_pe": n_prompt, "charge_pe": charge}, jag
