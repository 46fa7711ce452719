"""Observables back to energies: keVee from the detector's observable, keVnr by inverting the quenching.

hpge          e_det_kevee is already calibrated in keVee.
scintillator  keVee = num_pe / (light yield in PE per keVee, as configured).
xenon         combined energy keVee = W (S1/g1 + S2/g2) with W = 13.7 eV (the classic value) unless the
              detector section says otherwise.
keVnr         the mean quenching curve of the detector's model for the target's most abundant isotope,
              inverted on a grid (E_ee = QF(T) T is monotonic for every model used here).
"""

from __future__ import annotations

import numpy as np

from detsim.config import detector_from_dict
from generator.nuclei import material

__all__ = ["ENERGY_SOURCES", "energy_kevee", "kevnr_from_kevee"]

ENERGY_SOURCES = {"hpge": ("e_det_kevee",), "scintillator": ("num_pe",), "xenon": ("s1_pe", "s2_pe")}


def energy_kevee(cols: dict, detector: dict) -> np.ndarray:
    tech = detector["technology"]
    if tech == "hpge":
        return np.asarray(cols["e_det_kevee"], dtype=np.float64)
    if tech == "scintillator":
        sc = detector.get("scintillator") or {}
        ly = sc.get("light_yield_pe_per_kevee")
        if not ly:
            raise ValueError("the detector's scintillator section has no light_yield_pe_per_kevee to convert PE")
        return np.asarray(cols["num_pe"], dtype=np.float64) / ly
    if tech == "xenon":
        xe = detector.get("xenon") or {}
        w_kev = xe.get("w_value_ev", 13.7) * 1e-3
        g1 = xe["g1_pe_per_photon"] if "g1_pe_per_photon" in xe else xe["g1_phd"] * (1 + xe.get("p_dphe", 0.0))
        g2 = xe.get("g2_pe_per_electron") or (xe["extraction_efficiency"] * xe["se_gain_pe"])
        return w_kev * (np.asarray(cols["s1_pe"]) / g1 + np.asarray(cols["s2_pe"]) / g2)
    raise ValueError(f"no energy estimator for technology {tech!r}")


def kevnr_from_kevee(e_kevee, detector: dict, generator_config: dict) -> np.ndarray:
    """Nuclear-recoil energy whose mean quenched energy is e_kevee (most abundant isotope of the target)."""
    det = detector_from_dict(detector)
    tgt = generator_config["target"]
    mat = material(tgt["material"], tgt.get("isotopes"))
    iso = mat.isotopes[int(np.argmax(mat.nuclei_per_kg()))]
    t = np.geomspace(1e-3, 2000.0, 4000)
    ee = det.quenching.build().qf(t, iso.z, iso.a) * t
    ee = np.maximum.accumulate(ee)  # guard the inversion against a model turning over at high energy
    return np.interp(np.asarray(e_kevee, dtype=np.float64), ee, t)
