"""The Skipper-CCD chain steps (quenching, depth, pixel response) and the file metadata: ``steps`` and ``metadata`` of
the technology contract, ``ccd_steps`` for direct use. Formulas live in physics.py, the per-event loop in _kernels.py."""

from __future__ import annotations

import numpy as np

from ..chain import Step
from .config import CCDConfig
from .physics import dark_cluster_rate_per_kg_day, dark_lambda, pixels_per_kg
from ._kernels import ccd_response

__all__ = ["ccd_steps", "depth_um", "metadata", "steps"]


def depth_um(z_cm, geometry: dict, thickness_um: float):
    """Depth below the pixel gates: the target volume is read as a stack of sensors of thickness_um, the vertex's
    height above the bottom of the volume folded into one sensor (the stack's sensors are all alike)."""
    height_cm = geometry["height_cm"] if geometry.get("shape", "cylinder") == "cylinder" else geometry["size_z_cm"]
    return np.mod((np.asarray(z_cm, dtype=np.float64) + 0.5 * height_cm) * 1e4, thickness_um)


def ccd_steps(det, geometry: dict) -> list[Step]:
    ccd: CCDConfig = det.ccd
    quench = det.quenching.build()

    def quenching(rng, c):
        e = quench.quench_by_type(rng, c["t_nr_kev"], c["target_z"], c["target_a"], c.get("recoil_type"))
        return {"e_ion_kevee": e}

    def depth(rng, c):
        return {"depth_um": depth_um(c["z_cm"], geometry, ccd.thickness_um)}

    def pixels(rng, c):
        rt = c["recoil_type"] if "recoil_type" in c else np.zeros(len(c["e_ion_kevee"]), dtype=np.int8)
        out = ccd_response(rng, c["e_ion_kevee"], rt, c["depth_um"], ccd)
        out["triggered"] = (out["num_pixels"] > 0) & (out["cluster_charge_e"] >= ccd.cluster_threshold_e)
        return out

    return [
        Step("quenching", ("t_nr_kev", "target_z", "target_a"), {"e_ion_kevee": (np.float64, "keVee")}, quenching),
        Step("depth", ("z_cm",), {"depth_um": (np.float64, "um")}, depth),
        Step("ccd_pixels", ("e_ion_kevee", "depth_um"),
             {"num_electrons": (np.int32, "e-"), "diffusion_sigma_um": (np.float32, "um"),
              "cluster_charge_e": (np.float64, "e-"), "num_pixels": (np.int16, ""),
              "cluster_rms_um": (np.float32, "um"), "triggered": (np.bool_, "")}, pixels),
    ]


def steps(det, geometry: dict, gen_meta: dict) -> list[Step]:
    return ccd_steps(det, geometry)


def metadata(det, gen_meta: dict) -> dict:
    """Derived constants: the skipper pixel noise, dark electrons per pixel and image, the dark-cluster rate."""
    ccd: CCDConfig = det.ccd
    return {"ccd": {"pair_energy_ev": ccd.pair_energy_ev, "readout_noise_e": ccd.readout_noise_e,
                    "dark_electrons_per_pixel_image": dark_lambda(ccd), "pixels_per_kg": pixels_per_kg(ccd),
                    "dark_cluster_rate_per_kg_day": dark_cluster_rate_per_kg_day(ccd)}}
