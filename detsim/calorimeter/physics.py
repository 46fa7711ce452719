"""Plain-numpy formulas of the cryogenic calorimeter: ionisation yield per recoil type, Neganov-Trofimov-Luke gain,
mean heat signal, trigger probability, ionisation-yield band, live fraction, and the numpy sampler the chain uses.

Heat: a recoil of energy E_r whose ionisation yield is Y (E_ion = Y E_r, in eVee) drifts N = Y E_r / eps pairs
through the bias V and releases e V N of Luke phonons on top of E_r:
    E_heat = E_r (1 + Y e V / eps)                      (Neganov & Trofimov 1985; Luke, J. Appl. Phys. 64, 6858 (1988))
The signal is eta E_heat (eta: phonon collection relative to the calibration) plus the Gaussian baseline noise.
Ionisation: E_ion = Y E_r + Gaussian noise (eVee); Y = 1 for electron recoils, the quenching model for nuclear
recoils, 0 for heat-only events. The recoil energy is rebuilt from both channels, E_r' = E_heat / eta - (V/eps)
E_ion, and the measured yield Q = E_ion / E_r' separates nuclear from electron recoils (EDELWEISS-style).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ..quenching import visible_yield
from .config import CalorimeterConfig

__all__ = ["heat_ev_to_kevee", "heat_kevee_of_recoil", "heat_sigma_ev", "ionisation_yield", "live_fraction", "luke_gain", "mean_heat_ev",
           "recoil_from_heat_ev", "sample_response", "trigger_probability", "yield_band_sigma"]


def luke_gain(y, v_over_eps):
    """Heat per eV of recoil: 1 + Y e V / eps."""
    return 1.0 + np.asarray(y, dtype=np.float64) * v_over_eps


# Y of each event: the quenching factor for nuclear recoils, 1 for electron recoils, 0 for heat-only events
ionisation_yield = visible_yield


def mean_heat_ev(t_kev, y, cfg: CalorimeterConfig):
    """Mean heat signal (eV) of recoils of t_kev with yield y."""
    return np.asarray(t_kev, dtype=np.float64) * 1e3 * luke_gain(y, cfg.luke_ev_per_pair) * \
        cfg.phonon_collection_efficiency


def heat_sigma_ev(mean_ev, cfg: CalorimeterConfig):
    """Spread of the heat signal: baseline noise (+) collection-efficiency spread."""
    return np.sqrt(cfg.baseline_sigma_ev**2 + (cfg.collection_spread * np.asarray(mean_ev)) ** 2)


def trigger_probability(t_kev, y, cfg: CalorimeterConfig):
    """P(heat signal >= n sigma threshold), before dead time."""
    m = mean_heat_ev(t_kev, y, cfg)
    return ndtr((m - cfg.threshold_ev) / heat_sigma_ev(m, cfg))


def live_fraction(cfg: CalorimeterConfig) -> float:
    """Probability that no other pulse fell in the dead time before an event: exp(-rate tau) (Poisson pulses)."""
    return float(np.exp(-cfg.pulse_rate_hz * cfg.dead_time_ms * 1e-3))


def yield_band_sigma(t_kev, y, cfg: CalorimeterConfig):
    """1 sigma of the measured yield Q around Y at recoil energy t_kev (linear error propagation of the two
    independent baseline noises): sigma_Q = sqrt(sigma_I^2 (1 + Y V/eps)^2 + Y^2 sigma_H'^2) / E_r, with
    sigma_H' = sigma_heat / eta the heat noise in eV of phonon energy."""
    e_ev = np.asarray(t_kev, dtype=np.float64) * 1e3
    eta = cfg.phonon_collection_efficiency
    sig_h = heat_sigma_ev(mean_heat_ev(t_kev, y, cfg), cfg) / eta
    sig_i = cfg.ion_sigma_evee
    return np.sqrt((sig_i * luke_gain(y, cfg.luke_ev_per_pair)) ** 2 + (np.asarray(y) * sig_h) ** 2) / e_ev


def heat_kevee_of_recoil(t_kev, y, cfg: CalorimeterConfig):
    """Mean heat in keVee (the electron-recoil calibration of the heat channel) of recoils of t_kev with yield y:
    t (1 + Y V/eps) / (1 + V/eps). Equal to t_kev without bias (a calorimeter measures the whole recoil energy)."""
    return np.asarray(t_kev, dtype=np.float64) * luke_gain(y, cfg.luke_ev_per_pair) / \
        luke_gain(1.0, cfg.luke_ev_per_pair)


def heat_ev_to_kevee(e_heat_ev, cfg: CalorimeterConfig):
    """Reconstructed keVee of a heat signal: divide out eta and the electron-recoil Luke gain."""
    return np.asarray(e_heat_ev, dtype=np.float64) * 1e-3 / (cfg.phonon_collection_efficiency *
                                                              luke_gain(1.0, cfg.luke_ev_per_pair))


def recoil_from_heat_ev(e_heat_ev, e_ion_evee, cfg: CalorimeterConfig):
    """Recoil energy (eV) rebuilt from heat and ionisation: E_heat / eta - (V / eps) E_ion."""
    return np.asarray(e_heat_ev) / cfg.phonon_collection_efficiency - cfg.luke_ev_per_pair * np.asarray(e_ion_evee)


def sample_response(rng, t_kev, y, cfg: CalorimeterConfig) -> dict:
    """Heat and ionisation signals, measured yield and trigger of recoils (t_kev, yield y), drawn from rng in a
    fixed order (heat noise, collection spread, ionisation noise, dead time)."""
    t_kev = np.asarray(t_kev, dtype=np.float64)
    n = t_kev.size
    mean = mean_heat_ev(t_kev, y, cfg)
    noise = rng.standard_normal(n)
    gain = 1.0 + cfg.collection_spread * rng.standard_normal(n) if cfg.collection_spread > 0 else 1.0
    heat = mean * gain + cfg.baseline_sigma_ev * noise
    if cfg.ion_sigma_evee is not None:
        ion = np.asarray(y) * t_kev * 1e3 + cfg.ion_sigma_evee * rng.standard_normal(n)
        e_rec = recoil_from_heat_ev(heat, ion, cfg)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = ion / e_rec
    else:
        ion = np.full(n, np.nan)
        q = np.full(n, np.nan)
    dead = rng.random(n) >= live_fraction(cfg) if cfg.dead_time_ms > 0 else np.zeros(n, dtype=bool)
    return {"e_heat_ev": heat, "e_ion_evee": ion, "ionisation_yield": q, "in_dead_time": dead,
            "triggered": (heat >= cfg.threshold_ev) & ~dead}
