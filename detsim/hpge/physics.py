"""Plain-numpy formulas of the HPGe response: energy resolution, rise-time spreads, the analytic PSD cut and its
figures of merit, the distance of a vertex to the crystal surface, and a numpy sampler of every step
(``*_numpy``) that the numba kernels of _kernels.py are tested against (same distributions, not the same draws).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from .config import FWHM_PER_SIGMA

__all__ = ["detector_tables", "ionisation_numpy", "psd_expectation", "pulse_shape_numpy", "quench_numpy",
           "resolution_sigma_kev", "rise_sigma", "slow_from_geometry", "surface_box", "trigger_efficiency", "trigger_numpy"]


def resolution_sigma_kev(e_kevee, fano, pair_energy_ev, pulser_fwhm_ev):
    """Expected energy resolution (1 sigma, keVee): sqrt(F eps E + sigma_noise^2)."""
    noise = pulser_fwhm_ev / FWHM_PER_SIGMA * 1e-3
    return np.sqrt(fano * pair_energy_ev * 1e-3 * np.asarray(e_kevee) + noise**2)


def rise_sigma(sigma0, noise_ns_kev, e_kevee):
    e = np.maximum(np.asarray(e_kevee, dtype=np.float64), 1e-6)
    return np.sqrt(sigma0**2 + (noise_ns_kev / e) ** 2)


def psd_expectation(psd, e_kevee):
    """Analytic (cut, bulk acceptance, slow rejection) of the rise-time cut at energy e_kevee."""
    sb = rise_sigma(psd.bulk_rise_sigma_ns, psd.rise_noise_ns_kev, e_kevee)
    ss = rise_sigma(psd.slow_rise_sigma_ns, psd.rise_noise_ns_kev, e_kevee)
    cut = psd.bulk_rise_ns + sb * ndtri(psd.bulk_acceptance)
    return cut, psd.bulk_acceptance, 1.0 - ndtr((cut - psd.slow_rise_ns) / ss)


def surface_box(geometry: dict) -> tuple[int, np.ndarray]:
    """(kind, half sizes in cm) of the active volume: kind 0 = cylinder (radius, half height, -), 1 = box
    (half x, half y, half z)."""
    if geometry.get("shape", "cylinder") == "cylinder":
        return 0, np.array([geometry["radius_cm"], 0.5 * geometry["height_cm"], 0.0])
    return 1, 0.5 * np.array([geometry["size_x_cm"], geometry["size_y_cm"], geometry["size_z_cm"]])


def _distance_to_surface_cm(x, y, z, geometry):
    if geometry.get("shape", "cylinder") == "cylinder":
        r = np.hypot(x, y)
        return np.minimum(geometry["radius_cm"] - r, 0.5 * geometry["height_cm"] - np.abs(z))
    return np.minimum.reduce([0.5 * geometry["size_x_cm"] - np.abs(x), 0.5 * geometry["size_y_cm"] - np.abs(y),
                              0.5 * geometry["size_z_cm"] - np.abs(z)])


def slow_from_geometry(x, y, z, geometry, transition_layer_mm):
    """Slow pulse: the vertex lies within the transition (lithium-diffused) layer of the crystal surface."""
    return _distance_to_surface_cm(x, y, z, geometry) * 10.0 < transition_layer_mm


def detector_tables(hp) -> dict:
    """Per-detector arrays of an [hpge] section: cumulative mass share (the detector an event falls in),
    threshold, trigger width and noise sigma (keVee)."""
    masses = np.array([d.mass_kg for d in hp.detectors], dtype=np.float64)
    return {"share": np.cumsum(masses) / masses.sum(),
            "thr_kev": np.array([d.threshold_ev for d in hp.detectors], dtype=np.float64) * 1e-3,
            "width_kev": np.array([d.trigger_width_ev for d in hp.detectors], dtype=np.float64) * 1e-3,
            "noise_kev": np.array([d.pulser_fwhm_ev for d in hp.detectors], dtype=np.float64) / FWHM_PER_SIGMA * 1e-3}


def quench_numpy(model, rng, t_kevnr, z, a, recoil_type=None):
    """keVee of each recoil from a detsim.quenching model; electron recoils (recoil_type 1) are not quenched."""
    return model.quench_by_type(rng, t_kevnr, z, a, recoil_type)


def ionisation_numpy(rng, e_ion_kevee, share, eps_kev, fano, noise_kev, energy_scale):
    """(detector index, electron-hole pairs, measured keVee): the detector by mass share, pairs as a rounded
    Gaussian of mean E/eps and variance F E/eps (Fano), then the detector's electronic noise (Gaussian)."""
    n = len(e_ion_kevee)
    det_id = np.searchsorted(share, rng.random(n), side="right").astype(np.int16)
    mean_pairs = np.asarray(e_ion_kevee) / eps_kev
    pairs = np.maximum(np.rint(mean_pairs + np.sqrt(fano * mean_pairs) * rng.standard_normal(n)), 0.0)
    e = (pairs * eps_kev + noise_kev[det_id] * rng.standard_normal(n)) * energy_scale
    return det_id, pairs.astype(np.int64), e


def trigger_efficiency(e_kevee, thr_kev, width_kev):
    """Trigger turn-on: erf around the threshold (a step where the width is 0)."""
    w = np.asarray(width_kev, dtype=np.float64)
    return np.where(w > 0, ndtr((e_kevee - thr_kev) / np.where(w > 0, w, 1.0)), (e_kevee >= thr_kev).astype(float))


def trigger_numpy(rng, e_kevee, det_id, thr_kev, width_kev):
    return rng.random(len(e_kevee)) < trigger_efficiency(e_kevee, thr_kev[det_id], width_kev[det_id])


def pulse_shape_numpy(rng, e_kevee, slow, psd):
    """(rise time ns, psd_pass): Gaussian rise times of bulk or slow events with the energy-dependent spreads, the
    cut at the bulk acceptance. ``slow`` None: slow with probability psd.surface_fraction (drawn here)."""
    n = len(e_kevee)
    if slow is None:
        slow = rng.random(n) < psd.surface_fraction
    e = np.maximum(e_kevee, 1e-3)
    mean = np.where(slow, psd.slow_rise_ns, psd.bulk_rise_ns)
    sig = np.where(slow, rise_sigma(psd.slow_rise_sigma_ns, psd.rise_noise_ns_kev, e),
                   rise_sigma(psd.bulk_rise_sigma_ns, psd.rise_noise_ns_kev, e))
    rise = mean + sig * rng.standard_normal(n)
    cut, _, _ = psd_expectation(psd, e)
    passed = (rise < cut) if psd.enabled else np.ones(n, dtype=bool)
    return rise, slow, passed
