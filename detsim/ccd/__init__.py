"""Skipper-CCD response (CONNIE, and any thick fully-depleted silicon CCD).

Steps: quenching (keVnr -> keVee; the measured Si curve ``si_chavarria`` or Lindhard, detsim/quenching.py);
electrons from eps = 3.749 eV with the Fano factor 0.119 (mixed-binomial counts, exact mean and known variance);
lateral diffusion sigma_xy(z) = sqrt(-A ln|1 - b z|) of every electron onto a patch of pixels around the deposit,
the depth z taken from the vertex folded into one sensor; dark current (Poisson per pixel per image) and skipper
readout noise sigma_1 / sqrt(N) on every pixel of the patch; the cluster is the brightest pixel and the pixels
above ``pixel_threshold_e`` connected to it; ``triggered`` when its charge reaches ``cluster_threshold_e``.
Sensor-only events (background kind ``dark_clusters``, recoil_type 3) start from a pixel holding dark electrons.

Package layout (detsim/README.md): ``config`` (CCDConfig = ``section_class``), ``physics`` (numpy formulas and
reference sampler), ``_kernels`` (the per-event loop: interpreted reference and numba kernel), ``steps``.
"""

from .config import RECOIL_DARK, SI_DENSITY_G_CM3, CCDConfig, section_class
from .physics import (
    dark_cluster_rate_per_kg_day,
    dark_lambda,
    dark_seed_table,
    diffusion_sigma_um,
    electron_moments,
    mean_electrons,
    pixels_per_kg,
    readout_noise_e,
    sample_electrons_numpy,
    sheppard_sigma_um,
)
from ._kernels import ccd_loop, ccd_response
from .steps import ccd_steps, depth_um, metadata, steps

__all__ = [
    "CCDConfig", "RECOIL_DARK", "SI_DENSITY_G_CM3", "ccd_loop", "ccd_response", "ccd_steps", "dark_cluster_rate_per_kg_day",
    "dark_lambda", "dark_seed_table", "depth_um", "diffusion_sigma_um", "electron_moments", "mean_electrons",
    "metadata", "pixels_per_kg", "readout_noise_e", "sample_electrons_numpy", "section_class", "sheppard_sigma_um",
    "steps",
]
