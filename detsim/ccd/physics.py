"""Plain-numpy formulas of the Skipper-CCD response and a vectorised numpy sampler of the electron count.

Electron count.  A deposit of E (keVee) frees on average mu = 1000 E / eps electrons with variance F mu
(Fano). With F < 1 a binomial has the right shape: N ~ Binomial(n, 1 - F) with n = mu / (1 - F) trials gives
mean mu and variance F mu. n is not an integer, so n is drawn as floor(n) or floor(n) + 1 with probabilities
that keep E[n] = mu / (1 - F): the mean stays mu exactly and the variance becomes
F mu + (1 - F)^2 w (1 - w), w = frac(mu / (1 - F)) (at most 0.19 electrons^2 more, visible only for a few
electrons, where no integer distribution can reach F mu anyway: its floor is w'(1 - w'), w' = frac(mu)).

Diffusion.  Charge created at depth z below the pixel gates spreads laterally with
sigma_xy(z) = sqrt(-A ln|1 - b z|) (DAMIC/CONNIE model, see config.py for the numbers).

Readout.  A skipper pixel averages N non-destructive samples: sigma = sigma_1 / sqrt(N).
Dark current: Poisson(lambda) electrons per pixel, lambda = rate (e-/pix/day) x exposure of the image.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import poisson

from .config import SI_DENSITY_G_CM3, CCDConfig

__all__ = ["dark_cluster_rate_per_kg_day", "dark_lambda", "dark_seed_table", "diffusion_sigma_um",
           "electron_moments", "mean_electrons", "pixels_per_kg", "readout_noise_e", "sample_electrons_numpy",
           "sheppard_sigma_um"]


def mean_electrons(e_kevee, pair_energy_ev):
    """Mean number of electrons freed by an ionisation energy e_kevee (keVee)."""
    return np.asarray(e_kevee, dtype=np.float64) * 1e3 / pair_energy_ev


def electron_moments(mu, fano):
    """(mean, variance) of the sampled electron count at mean mu (exact for the mixed binomial above)."""
    mu = np.asarray(mu, dtype=np.float64)
    trials = mu / (1.0 - fano)
    w = trials - np.floor(trials)
    return mu, fano * mu + (1.0 - fano) ** 2 * w * (1.0 - w)


def sample_electrons_numpy(rng, mu, fano):
    """Vectorised reference sampler of the electron counts (same law as the kernel, not the same draws)."""
    mu = np.asarray(mu, dtype=np.float64)
    trials = mu / (1.0 - fano)
    lo = np.floor(trials)
    n = (lo + (rng.random(mu.shape) < trials - lo)).astype(np.int64)
    return rng.binomial(n, 1.0 - fano)


def diffusion_sigma_um(depth_um, a_um2, b_per_um):
    """Lateral diffusion sigma (um) of charge created depth_um below the pixel gates."""
    z = np.asarray(depth_um, dtype=np.float64)
    return np.sqrt(np.maximum(-a_um2 * np.log(np.abs(1.0 - b_per_um * z)), 0.0))


def sheppard_sigma_um(sigma_um, pixel_um):
    """RMS of the pixel centres of a Gaussian cloud of width sigma: sqrt(sigma^2 + p^2 / 12) (Sheppard)."""
    return np.sqrt(np.asarray(sigma_um, dtype=np.float64) ** 2 + pixel_um**2 / 12.0)


def readout_noise_e(single_sample_noise_e, n_samples):
    """Noise of a skipper pixel averaging n_samples independent samples."""
    return single_sample_noise_e / np.sqrt(n_samples)


def dark_lambda(ccd: CCDConfig) -> float:
    """Mean dark electrons per pixel in one image."""
    return ccd.dark_current_e_per_pix_day * ccd.image_exposure_h / 24.0


def pixels_per_kg(ccd: CCDConfig) -> float:
    volume_cm3 = (ccd.pixel_size_um * 1e-4) ** 2 * ccd.thickness_um * 1e-4
    return 1e3 / (volume_cm3 * SI_DENSITY_G_CM3)


def dark_seed_table(ccd: CCDConfig, tail: float = 1e-15) -> tuple[int, np.ndarray]:
    """(k_min, cdf) of the dark charge of a seed pixel: Poisson(lambda) conditioned on k >= k_min."""
    lam, k_min = dark_lambda(ccd), ccd.dark_seed_min_e
    if lam <= 0:
        return k_min, np.ones(1)
    k_max = max(int(poisson.isf(tail, lam)), k_min) + 1
    p = poisson.pmf(np.arange(k_min, k_max + 1), lam)
    return k_min, np.cumsum(p) / p.sum()


def dark_cluster_rate_per_kg_day(ccd: CCDConfig) -> float:
    """Seed pixels with >= dark_seed_min_e dark electrons per kg of silicon and day (one image = exposure_h)."""
    lam = dark_lambda(ccd)
    if lam <= 0:
        return 0.0
    images_per_day = 24.0 / ccd.image_exposure_h
    return pixels_per_kg(ccd) * images_per_day * float(poisson.sf(ccd.dark_seed_min_e - 1, lam))
