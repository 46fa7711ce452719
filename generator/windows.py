"""The analysis' beam window of a pulsed source: which fraction of each flux component arrives in it.

A component's arrival-time density is the proton pulse convolved with its decay chain (pi+ for the prompt
nu_mu; pi+ then mu+ for the delayed nu_e and anti-nu_mu), the same model the sampler draws from. The window
acceptance is the integral of that density over [start, start + length), optionally weighted by a timing
efficiency (COHERENT CsI 2021: 1 up to a time t0, exp(-k (t - t0)) after). Times are in this package's frame:
time within the pulse, the proton pulse centred at 0.
"""

from __future__ import annotations

import numpy as np

from .config import WindowConfig

__all__ = ["arrival_time_density", "timing_efficiency", "window_acceptance"]

GRID_STEP_NS = 1.0
MAX_GRID_POINTS = 200_000


def arrival_time_density(pulse, decay_times_ns, t_ns: np.ndarray) -> np.ndarray:
    """Density (1/ns) of the arrival time on a uniform grid ``t_ns``: the pulse convolved with Exp(tau) for each
    tau. The grid must cover the pulse and the decay tails (the density is renormalised on it)."""
    from scipy.signal import fftconvolve

    dt = t_ns[1] - t_ns[0]
    dens = pulse.density(t_ns)
    for tau in decay_times_ns:
        lag = np.arange(0.0, t_ns[-1] - t_ns[0] + dt, dt)
        # exact bin integrals of Exp(tau) so that short lifetimes (26 ns) on a 1 ns grid stay normalised
        kernel = np.exp(-lag / tau) * -np.expm1(-dt / tau)
        dens = fftconvolve(dens, kernel)[:len(t_ns)]
    total = dens.sum() * dt
    return dens / total if total > 0 else dens


def timing_efficiency(window: WindowConfig, t_ns: np.ndarray) -> np.ndarray:
    t = np.asarray(t_ns, dtype=float)
    if window.efficiency_flat_until_ns is None:
        return np.ones_like(t)
    k = window.efficiency_decay_per_us * 1e-3  # per ns
    return np.where(t <= window.efficiency_flat_until_ns, 1.0,
                    np.exp(-k * np.clip(t - window.efficiency_flat_until_ns, 0.0, None)))


def window_acceptance(source, window: WindowConfig) -> dict[str, float]:
    """{component name: fraction of its neutrinos arriving in the window, times the timing efficiency}."""
    if not source.pulsed:
        raise ValueError("a beam window needs a pulsed source")
    taus = [t for c in source.components for t in c.decay_times_ns]
    p = source.pulse
    half = max(8.0 * p.sigma_ns, 0.5 * p.width_ns + 10.0, 0.5 * p.separation_ns + 8.0 * p.sigma_ns)
    t_lo = min(-half, window.start_ns) - 10.0
    t_hi = max(half + 25.0 * max(taus, default=0.0), window.start_ns + window.length_ns) + 10.0
    step = max(GRID_STEP_NS, (t_hi - t_lo) / MAX_GRID_POINTS)  # 1 ns at the SNS; coarser for ms-long pulses
    t = np.arange(t_lo, t_hi, step)
    centres = t + 0.5 * step
    inside = (centres >= window.start_ns) & (centres < window.start_ns + window.length_ns)
    weight = inside * timing_efficiency(window, centres)
    out = {}
    for c in source.components:
        dens = arrival_time_density(p, c.decay_times_ns, centres)
        out[c.name] = float(np.sum(dens * weight) * step)
    return out
