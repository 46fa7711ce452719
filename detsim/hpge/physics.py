"""Plain-numpy formulas of the HPGe response: energy resolution, rise-time spreads, the analytic PSD cut and its
figures of merit, the distance of a vertex to the crystal surface."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from .config import FWHM_PER_SIGMA

__all__ = ["psd_expectation", "resolution_sigma_kev", "rise_sigma"]


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


def _distance_to_surface_cm(x, y, z, geometry):
    if geometry.get("shape", "cylinder") == "cylinder":
        r = np.hypot(x, y)
        return np.minimum(geometry["radius_cm"] - r, 0.5 * geometry["height_cm"] - np.abs(z))
    return np.minimum.reduce([0.5 * geometry["size_x_cm"] - np.abs(x), 0.5 * geometry["size_y_cm"] - np.abs(y),
                              0.5 * geometry["size_z_cm"] - np.abs(z)])
