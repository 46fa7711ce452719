"""The calorimeter chain steps (each declares the columns it needs and provides and draws from the chunk's
generator with the formulas of physics.py) and the file metadata: ``steps`` and ``metadata`` of the technology
contract, ``calorimeter_steps`` for direct use."""

from __future__ import annotations

import numpy as np

from ..chain import Step
from .config import CalorimeterConfig
from .physics import ionisation_yield, live_fraction, sample_response

__all__ = ["calorimeter_steps", "metadata", "steps"]


def calorimeter_steps(det) -> list[Step]:
    cal: CalorimeterConfig = det.calorimeter
    quench = det.quenching.build()

    def yields(rng, c):
        t = np.asarray(c["t_nr_kev"], dtype=np.float64)
        e_ee = quench.quench(rng, t, c["target_z"], c["target_a"])  # event-by-event QF spread if configured
        qf = e_ee / np.where(t > 0, t, 1.0)
        zero = ~(t > 0)  # no recoil energy to divide by: the mean QF there (evaluated for those events only)
        if zero.any():
            qf[zero] = quench.qf(t[zero], np.asarray(c["target_z"])[zero], np.asarray(c["target_a"])[zero])
        # recoil_type is added by the detsim stage (backgrounds); a bare generator chunk holds nuclear recoils only
        rt = c["recoil_type"] if "recoil_type" in c else np.zeros(len(t), dtype=np.int8)
        return {"ionisation_yield_model": ionisation_yield(qf, rt)}

    def response(rng, c):
        return sample_response(rng, c["t_nr_kev"], c["ionisation_yield_model"], cal)

    return [
        Step("calorimeter_yield", ("t_nr_kev", "target_z", "target_a"),
             {"ionisation_yield_model": (np.float64, "")}, yields),
        Step("calorimeter_response", ("t_nr_kev", "ionisation_yield_model"),
             {"e_heat_ev": (np.float64, "eV"), "e_ion_evee": (np.float64, "eVee"),
              "ionisation_yield": (np.float64, ""), "in_dead_time": (np.bool_, ""), "triggered": (np.bool_, "")},
             response),
    ]


def steps(det, geometry: dict, gen_meta: dict) -> list[Step]:
    return calorimeter_steps(det)


def metadata(det, gen_meta: dict) -> dict:
    """Derived constants: threshold in eV, Luke factor eV/eps, live fraction after dead time."""
    cal: CalorimeterConfig = det.calorimeter
    return {"calorimeter": {"threshold_ev": cal.threshold_ev, "luke_v_over_eps": cal.luke_ev_per_pair,
                            "electron_recoil_luke_gain": 1.0 + cal.luke_ev_per_pair,
                            "live_fraction": live_fraction(cal),
                            "ionisation_channel": cal.ion_sigma_evee is not None}}
