"""The HPGe chain steps (quenching, ionisation, trigger, pulse shape; each declares the columns it needs and
provides and draws its fluctuations with the chunk's generator, with the formulas of physics.py) and the file
metadata: ``steps`` and ``metadata`` of the technology contract, ``hpge_steps`` for direct use."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ..chain import Step
from ..config import DetectorConfig
from .config import FWHM_PER_SIGMA
from .physics import _distance_to_surface_cm, psd_expectation, rise_sigma

__all__ = ["hpge_steps", "metadata", "steps"]


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
