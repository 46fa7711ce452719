"""The HPGe chain steps (quenching, ionisation, trigger, pulse shape): each declares the columns it needs and
provides and calls its numba kernel (_kernels.py, the formulas of physics.py) with the chunk's generator; and the
file metadata: ``steps`` and ``metadata`` of the technology contract, ``hpge_steps`` for direct use."""

from __future__ import annotations

import numpy as np

from ..chain import Step
from ..config import DetectorConfig
from ._kernels import Ionisation, PulseShape, Quenching, Trigger
from .physics import psd_expectation

__all__ = ["hpge_steps", "metadata", "steps"]


def hpge_steps(det: DetectorConfig, geometry: dict) -> list[Step]:
    quench = Quenching(det.quenching.build())
    ionise = Ionisation(det.hpge)
    trig = Trigger(det.hpge)
    shape = PulseShape(det.psd, geometry)

    def quenching(rng, c):
        return {"e_ion_kevee": quench(rng, c["t_nr_kev"], c["target_z"], c["target_a"], c.get("recoil_type"))}

    def ionisation(rng, c):
        det_id, pairs, e = ionise(rng, c["e_ion_kevee"])
        return {"detector_id": det_id, "num_pairs": pairs, "e_det_kevee": e}

    def trigger(rng, c):
        return {"triggered": trig(rng, c["e_det_kevee"], c["detector_id"])}

    def pulse_shape(rng, c):
        rise, slow, passed = shape(rng, c["e_det_kevee"], c["x_cm"], c["y_cm"], c["z_cm"])
        return {"rise_time_ns": rise, "slow_pulse": slow, "psd_pass": passed}

    return [
        Step("quenching", ("t_nr_kev", "target_z", "target_a"), {"e_ion_kevee": (np.float64, "keVee")}, quenching),
        Step("ionisation", ("e_ion_kevee",), {"detector_id": (np.int16, ""), "num_pairs": (np.int64, ""),
                                              "e_det_kevee": (np.float64, "keVee")}, ionisation),
        Step("trigger", ("e_det_kevee", "detector_id"), {"triggered": (np.bool_, "")}, trigger),
        Step("pulse_shape", ("e_det_kevee", "x_cm", "y_cm", "z_cm"),
             {"rise_time_ns": (np.float32, "ns"), "slow_pulse": (np.bool_, ""), "psd_pass": (np.bool_, "")},
             pulse_shape),
    ]


def steps(det: DetectorConfig, geometry: dict, gen_meta: dict) -> list[Step]:
    return hpge_steps(det, geometry)


def metadata(det: DetectorConfig, gen_meta: dict) -> dict:
    """Analytic PSD figures of merit at threshold and at 1 keVee, for the file metadata."""
    thr = min(d.threshold_ev for d in det.hpge.detectors) * 1e-3
    _, acc, rej_thr = psd_expectation(det.psd, thr)
    _, _, rej_1 = psd_expectation(det.psd, 1.0)
    return {"psd": {"bulk_acceptance": acc, "slow_rejection_at_threshold": float(rej_thr),
                    "slow_rejection_at_1kevee": float(rej_1)}}
