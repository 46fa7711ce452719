"""Constants of silicon and the validated ``[ccd]`` table of a Skipper-CCD detector preset.

Numbers and their sources (tags as in data/presets: [paper] read in the cited abstract/paper, [UNVERIFIED] a
literature value quoted from memory that the stored sources did not let us check, [ASSUMED] a choice):

* pair creation energy 3.749 +- 0.001 eV and Fano factor 0.119 +- 0.002 in Si at 123 K, 5.9 keV:
  D. Rodrigues et al., NIM A 1010, 165511 (2021), arXiv:2004.11499 [paper, abstract].
* lateral charge diffusion sigma_xy(z)^2 = -A ln|1 - b z| (z = depth below the pixel gates), A = 216.2 um^2,
  b = 8.8e-4 um^-1 for the DAMIC 675 um CCDs: DAMIC, PRD 94, 082006 (2016), arXiv:1607.07410 [UNVERIFIED: the
  constants could not be read in the stored sources]; the same model is used by CONNIE.
* silicon density 2.329 g/cm^3 (crystalline Si at room temperature; the few-per-mille change at 130 K is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator._validate import ConfigError, option

from ..quenching import RECOIL_ER, RECOIL_NR, RECOIL_SENSOR

__all__ = ["CCDConfig", "RECOIL_DARK", "RECOIL_ER", "RECOIL_NR", "SI_DENSITY_G_CM3", "section_class"]

SI_DENSITY_G_CM3 = 2.329
# recoil_type codes of the detsim stream (detsim.quenching): a dark-current cluster is a sensor-only event
RECOIL_DARK = RECOIL_SENSOR


@dataclass(frozen=True)
class CCDConfig:
    """[ccd] table of a detector preset."""

    pair_energy_ev: float = option(3.749, unit="eV", doc="mean energy per electron-hole pair", gt=0)
    fano: float = option(0.119, doc="Fano factor of the electron count (0 < F < 1)", gt=0, lt=1)
    pixel_size_um: float = option(15.0, unit="um", doc="pixel pitch (square pixels)", gt=0)
    thickness_um: float = option(675.0, unit="um", doc="fully depleted sensor thickness", gt=0)
    diffusion_a_um2: float = option(216.2, unit="um^2", doc="A of sigma_xy^2 = -A ln|1 - b z|", ge=0)
    diffusion_b_per_um: float = option(8.8e-4, unit="1/um", doc="b of sigma_xy^2 = -A ln|1 - b z|", ge=0)
    single_sample_noise_e: float = option(2.0, unit="e-", doc="readout noise of one sample of a pixel", ge=0)
    skipper_samples: int = option(1, doc="non-destructive samples averaged per pixel (noise / sqrt(N))", ge=1)
    dark_current_e_per_pix_day: float = option(0.0, unit="e-/pix/day", doc="dark current", ge=0)
    image_exposure_h: float = option(1.0, unit="h", doc="time a pixel collects dark current before it is read",
                                     gt=0)
    pixel_threshold_e: float = option(0.5, unit="e-", doc="a pixel joins a cluster at this measured charge",
                                      ge=0)
    cluster_threshold_e: float = option(1.0, unit="e-", doc="a cluster is kept (triggered) at this total charge",
                                        ge=0)
    patch_pixels: int = option(7, doc="odd side of the pixel patch simulated around each event", ge=3, le=41)
    dark_seed_min_e: int = option(1, doc="dark-current clusters (background kind 'dark_clusters') are drawn "
                                  "around pixels holding at least this many dark electrons", ge=1)

    def __post_init__(self):
        if self.patch_pixels % 2 == 0:
            raise ConfigError(f"ccd.patch_pixels = {self.patch_pixels}: must be odd (the event sits in the "
                              "central pixel)")
        if self.diffusion_b_per_um * self.thickness_um >= 1.0:
            raise ConfigError(f"ccd.diffusion_b_per_um = {self.diffusion_b_per_um}: b x thickness_um "
                              f"({self.diffusion_b_per_um * self.thickness_um:.3g}) must be < 1 (the diffusion "
                              "model diverges at z = 1/b)")
        if self.cluster_threshold_e < self.pixel_threshold_e:
            raise ConfigError(f"ccd.cluster_threshold_e = {self.cluster_threshold_e}: must be >= "
                              f"ccd.pixel_threshold_e = {self.pixel_threshold_e} (a cluster holds a pixel above it)")

    @property
    def readout_noise_e(self) -> float:
        """Noise of the averaged pixel value: sigma_1 / sqrt(N) (independent samples)."""
        return self.single_sample_noise_e / self.skipper_samples**0.5


section_class = CCDConfig
