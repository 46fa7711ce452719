"""p-type point-contact HPGe response (CONUS+, COHERENT Ge-Mini, nuGeN, TEXONO).

Steps: quenching (keVnr -> keVee); electron-hole pairs with Fano statistics and electronic noise,
sigma_E^2 = F eps E + sigma_noise^2 with sigma_noise = FWHM_pulser / 2.355; trigger turn-on (erf around
the threshold); rise-time pulse-shape discrimination: bulk events rise fast, events in the surface
(lithium-diffused transition) layer rise slowly; both rise-time spreads grow at low energy as
sqrt(sigma_0^2 + (c / E)^2). The cut keeps a fixed fraction of bulk events at every energy, so the
rejection of slow pulses worsens towards threshold (CONUS, arXiv:2308.12105; TEXONO, arXiv:2412.00089).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from .chain import Step
from .config import DetectorConfig, HPGeConfig

section_class = HPGeConfig

__all__ = ["hpge_steps", "metadata", "psd_expectation", "resolution_sigma_kev", "section_class", "steps"]

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


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


def hpge_steps(det: DetectorConfig, geometry: dict) -> list[Step]:
    hp, psd = det.hpge, det.psd
    quench = det.quenching.build()
    masses = np.array([d.mass_kg for d in hp.detectors])
    share = np.cumsum(masses) / masses.sum()
    thr_kev = np.array([d.threshold_ev for d in hp.detectors]) * 1e-3
    width_kev = np.array([d.trigger_width_ev for d in hp.detectors]) * 1e-3
    noise_kev = np.array([d.pulser_fwhm_ev for d in hp.detectors]) / FWHM_PER_SIGMA * 1e-3
    eps_kev = hp.pair_energy_ev * 1e-3

    def quenching(rng, c):
        e = quench.quench(rng, c["t_nr_kev"], c["target_z"], c["target_a"])
        if "recoil_type" in c:  # electron recoils (backgrounds) are not quenched
            e = np.where(c["recoil_type"] == 1, c["t_nr_kev"], e)
        return {"e_ion_kevee": e}

    def ionisation(rng, c):
        n = len(c["e_ion_kevee"])
        det_id = np.searchsorted(share, rng.random(n), side="right").astype(np.int16)
        mean_pairs = c["e_ion_kevee"] / eps_kev
        pairs = np.maximum(np.rint(mean_pairs + np.sqrt(hp.fano * mean_pairs) * rng.standard_normal(n)), 0.0)
        e = (pairs * eps_kev + noise_kev[det_id] * rng.standard_normal(n)) * hp.energy_scale
        return {"detector_id": det_id, "num_pairs": pairs.astype(np.int64), "e_det_kevee": e}

    def trigger(rng, c):
        e, d = c["e_det_kevee"], c["detector_id"]
        w = width_kev[d]
        eff = np.where(w > 0, ndtr((e - thr_kev[d]) / np.where(w > 0, w, 1.0)), (e >= thr_kev[d]).astype(float))
        return {"triggered": rng.random(len(e)) < eff}

    def pulse_shape(rng, c):
        n = len(c["e_det_kevee"])
        if psd.surface_model == "geometry":
            depth_mm = _distance_to_surface_cm(c["x_cm"], c["y_cm"], c["z_cm"], geometry) * 10.0
            slow = depth_mm < psd.transition_layer_mm
        else:
            slow = rng.random(n) < psd.surface_fraction
        e = np.maximum(c["e_det_kevee"], 1e-3)
        mean = np.where(slow, psd.slow_rise_ns, psd.bulk_rise_ns)
        sig = np.where(slow, rise_sigma(psd.slow_rise_sigma_ns, psd.rise_noise_ns_kev, e),
                       rise_sigma(psd.bulk_rise_sigma_ns, psd.rise_noise_ns_kev, e))
        rise = mean + sig * rng.standard_normal(n)
        cut, _, _ = psd_expectation(psd, e)
        passed = (rise < cut) if psd.enabled else np.ones(n, dtype=bool)
        return {"rise_time_ns": rise, "slow_pulse": slow, "psd_pass": passed}

    steps = [
        Step("quenching", ("t_nr_kev", "target_z", "target_a"), {"e_ion_kevee": (np.float64, "keVee")}, quenching),
        Step("ionisation", ("e_ion_kevee",), {"detector_id": (np.int16, ""), "num_pairs": (np.int64, ""),
                                              "e_det_kevee": (np.float64, "keVee")}, ionisation),
        Step("trigger", ("e_det_kevee", "detector_id"), {"triggered": (np.bool_, "")}, trigger),
        Step("pulse_shape", ("e_det_kevee", "x_cm", "y_cm", "z_cm"),
             {"rise_time_ns": (np.float32, "ns"), "slow_pulse": (np.bool_, ""), "psd_pass": (np.bool_, "")},
             pulse_shape),
    ]
    return steps


def steps(det: DetectorConfig, geometry: dict, gen_meta: dict) -> list[Step]:
    return hpge_steps(det, geometry)


def metadata(det: DetectorConfig, gen_meta: dict) -> dict:
    """Analytic PSD figures of merit at threshold and at 1 keVee, for the file metadata."""
    thr = min(d.threshold_ev for d in det.hpge.detectors) * 1e-3
    _, acc, rej_thr = psd_expectation(det.psd, thr)
    _, _, rej_1 = psd_expectation(det.psd, 1.0)
    return {"psd": {"bulk_acceptance": acc, "slow_rejection_at_threshold": float(rej_thr),
                    "slow_rejection_at_1kevee": float(rej_1)}}
