"""The xenon TPC's chain steps (each declares the columns it needs and provides; the work is done by
_kernels.py's drivers and physics.py) and the file metadata: ``steps`` and ``metadata`` of the technology
contract, ``xenon_steps`` for direct use.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..chain import Step, target_geometry
from ._kernels import quanta_model, s1_response, s2_response
from .config import HIGH_E_NR_KEV, RECOIL_ER, XenonConfig
from .physics import drift_time_us

__all__ = ["metadata", "steps", "xenon_steps"]

# --- chain ---------------------------------------------------------------------------------------------------

def _gate_and_height(xe: XenonConfig, geometry: dict) -> tuple[float, float]:
    if geometry.get("shape", "cylinder") == "cylinder":
        h = float(geometry["height_cm"])
    else:
        h = float(geometry["size_z_cm"])
    gate = 0.5 * h if xe.gate_z_cm is None else float(xe.gate_z_cm)
    return gate, h


def xenon_steps(det, geometry: dict) -> list[Step]:
    xe: XenonConfig = det.xenon
    gate, _ = _gate_and_height(xe, geometry)
    model = quanta_model(xe)

    def quanta(rng, c):
        e = c["t_nr_kev"]
        rt = c.get("recoil_type")
        recoil = None if rt is None or len(rt) != len(e) else np.asarray(rt)
        e_nr = e if recoil is None else e[recoil != RECOIL_ER]
        if e_nr.size and float(np.max(e_nr)) > HIGH_E_NR_KEV:
            warnings.warn(f"nuclear recoils up to {float(np.max(e_nr)):.0f} keV: NEST's NR model has no data above "
                          f"{HIGH_E_NR_KEV:.0f} keV (AmBe endpoint)", stacklevel=2)
        nph, ne = model.sample(rng, e, c["target_a"], recoil)
        return {"num_photons": nph, "num_electrons": ne}

    # Outputs are allocated in the columns' file dtypes (see s1_response, s2_response): no copy in the chain.
    def s1(rng, c):
        return s1_response(rng, c["num_photons"], xe)

    def drift(rng, c):
        return {"drift_time_us": drift_time_us(c["z_cm"], gate, xe.drift_velocity_cm_us)}

    def s2(rng, c):
        return s2_response(rng, c["num_electrons"], c["drift_time_us"], c["s1_pass"], xe)

    return [
        Step("xenon_quanta", ("t_nr_kev", "target_a"),
             {"num_photons": (np.int32, ""), "num_electrons": (np.int32, "")}, quanta),
        Step("xenon_s1", ("num_photons",),
             {"s1_phd": (np.int32, "phd"), "s1_pe": (np.float32, "PE"), "s1_pass": (np.bool_, "")}, s1),
        Step("xenon_drift", ("z_cm",), {"drift_time_us": (np.float32, "us")}, drift),
        Step("xenon_s2", ("num_electrons", "drift_time_us", "s1_pass"),
             {"s2_electrons": (np.int32, ""), "s2_pe": (np.float32, "PE"), "triggered": (np.bool_, ""),
              "s2_only": (np.bool_, "")}, s2),
    ]


def _geometry(gen_meta: dict) -> dict:
    return target_geometry(gen_meta)


def steps(det, geometry: dict, gen_meta: dict) -> list[Step]:
    return xenon_steps(det, geometry)


def metadata(det, gen_meta: dict) -> dict:
    """Derived detector constants for the file metadata: g1, g2 in PE, W, maximum drift time."""
    xe: XenonConfig = det.xenon
    gate, h = _gate_and_height(xe, _geometry(gen_meta))
    return {"xenon": {"g1_pe_per_photon": xe.g1_pe, "g2_pe_per_electron": xe.g2_pe, "w_value_ev": xe.w_ev,
                      "drift_field_v_cm": xe.drift_field_v_cm,
                      "max_drift_time_us": (gate + 0.5 * h) / xe.drift_velocity_cm_us,
                      "yield_model": "NEST v2 (GetYieldNR / GetYieldBetaGR, GetQuanta)"}}
