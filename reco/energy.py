"""Observables back to energies: keVee from the detector's observable, keVnr by inverting the quenching.

hpge          e_det_kevee is already calibrated in keVee.
scintillator  keVee = num_pe / (light yield in PE per keVee, as configured).
xenon         combined energy keVee = W (S1/g1 + S2/g2) with W = 13.7 eV (the classic value) unless the
              detector section says otherwise.
calorimeter   heat channel calibrated on electron recoils: keVee = e_heat_ev / (eta (1 + e V / eps)); keVnr inverts
              the Neganov-Trofimov-Luke gain, E_ee = E_r (1 + Y(E_r) e V / eps) / (1 + e V / eps) (= E_r without
              bias: a calorimeter measures the whole recoil energy).
ccd           keVee = cluster_charge_e x eps (the pair energy in the file's metadata, 3.749 eV by default): the
              cluster's measured electrons back to ionisation energy.
keVnr         the mean quenching curve of the detector's model for the target's most abundant isotope,
              inverted on a grid (E_ee = QF(T) T is monotonic for every model used here).
"""

from __future__ import annotations

import functools
import json

import numpy as np

from detsim.config import detector_from_dict
from generator.nuclei import material

__all__ = ["ENERGY_SOURCES", "detector_and_isotope", "detector_key", "energy_kevee", "kevnr_from_kevee"]

ENERGY_SOURCES = {"hpge": ("e_det_kevee",), "scintillator": ("num_pe",), "xenon": ("s1_pe", "s2_pe"),
                  "calorimeter": ("e_heat_ev",), "ccd": ("cluster_charge_e",)}


def energy_kevee(cols: dict, meta: dict) -> np.ndarray:
    """Reconstructed electron-equivalent energy from a detsim file's observables and metadata."""
    detector = meta["detector"]
    tech = detector["technology"]
    if tech == "hpge":
        return np.asarray(cols["e_det_kevee"], dtype=np.float64)
    if tech == "scintillator":
        sc = detector.get("scintillator") or {}
        pe_per_kevee = sc["light_yield"] * (sc.get("pde", 1.0) if sc.get("light_yield_unit") == "photons_per_kevee"
                                            else 1.0)
        ph = sc.get("photosensor") or {}
        if ph.get("kind", "sipm") == "sipm" and not sc.get("ly_includes_crosstalk", False):
            pe_per_kevee /= 1.0 - ph.get("crosstalk_lambda", 0.0)  # mean cells fired per primary PE
        return np.asarray(cols["num_pe"], dtype=np.float64) / pe_per_kevee
    if tech == "xenon":
        xe = meta.get("xenon") or {}
        w_kev = xe["w_value_ev"] * 1e-3
        tau_us = (detector.get("xenon") or {}).get("electron_lifetime_us", np.inf)
        cs2 = np.asarray(cols["s2_pe"], dtype=np.float64) * np.exp(np.asarray(cols["drift_time_us"]) / tau_us)
        return w_kev * (np.asarray(cols["s1_pe"]) / xe["g1_pe_per_photon"] + cs2 / xe["g2_pe_per_electron"])
    if tech == "calorimeter":
        from detsim.calorimeter import heat_ev_to_kevee, section_class
        from generator._validate import build

        return heat_ev_to_kevee(cols["e_heat_ev"], build(section_class, detector.get("calorimeter") or {},
                                                         "calorimeter"))
    if tech == "ccd":
        from detsim.ccd import section_class as ccd_section
        from generator._validate import build

        eps_ev = (meta.get("ccd") or {}).get("pair_energy_ev") or \
            build(ccd_section, detector.get("ccd") or {}, "ccd").pair_energy_ev  # the [ccd] default, not a copy
        return np.asarray(cols["cluster_charge_e"], dtype=np.float64) * eps_ev * 1e-3
    raise ValueError(f"no energy estimator for technology {tech!r}")


def kevnr_from_kevee(e_kevee, detector: dict, generator_config: dict) -> np.ndarray:
    """Nuclear-recoil energy whose mean quenched energy is e_kevee (most abundant isotope of the target)."""
    ee, t = _quenching_curve(detector_key(detector, generator_config))
    return np.interp(np.asarray(e_kevee, dtype=np.float64), ee, t)


def detector_key(detector: dict, generator_config: dict) -> str:
    """Hashable key of a file's detector and target (for the caches below and reco.analysis's band model)."""
    return json.dumps({"detector": detector, "target": generator_config["target"]}, sort_keys=True, default=str)


@functools.lru_cache(maxsize=32)
def detector_and_isotope(key: str):
    """(DetectorConfig, most abundant isotope of the target) of a :func:`detector_key`."""
    raw = json.loads(key)
    tgt = raw["target"]
    mat = material(tgt["material"], tgt.get("isotopes"))
    return detector_from_dict(raw["detector"]), mat.isotopes[int(np.argmax(mat.nuclei_per_kg()))]


@functools.lru_cache(maxsize=32)
def _quenching_curve(key: str) -> tuple[np.ndarray, np.ndarray]:
    """(E_ee, T_nr) on a grid for one detector and target (cached: toys reconstruct thousands of data sets)."""
    det, iso = detector_and_isotope(key)
    t = np.geomspace(1e-3, 2000.0, 4000)
    qf = det.quenching.build().qf(t, iso.z, iso.a)
    if det.technology == "calorimeter":
        from detsim.calorimeter import heat_kevee_of_recoil

        ee = heat_kevee_of_recoil(t, qf, det.calorimeter)
    else:
        ee = qf * t
    ee = np.maximum.accumulate(ee)  # guard the inversion against a model turning over at high energy
    return ee, t
