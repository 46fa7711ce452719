"""p-type point-contact HPGe response (CONUS+, COHERENT Ge-Mini, nuGeN, TEXONO).

Steps: quenching (keVnr -> keVee); electron-hole pairs with Fano statistics and electronic noise,
sigma_E^2 = F eps E + sigma_noise^2 with sigma_noise = FWHM_pulser / 2.355; trigger turn-on (erf around
the threshold); rise-time pulse-shape discrimination: bulk events rise fast, events in the surface
(lithium-diffused transition) layer rise slowly; both rise-time spreads grow at low energy as
sqrt(sigma_0^2 + (c / E)^2). The cut keeps a fixed fraction of bulk events at every energy, so the
rejection of slow pulses worsens towards threshold (CONUS, arXiv:2308.12105; TEXONO, arXiv:2412.00089).

Package layout (detsim/README.md): ``config`` (``section_class``; ``HPGeConfig`` itself stays in detsim/config.py,
see detsim/hpge/config.py: moving it would create an import cycle), ``physics`` (plain-numpy formulas: resolution,
rise times, analytic PSD, and the numpy sampler of each step), ``_kernels`` (one numba pass per step with the xenon
kernels' RNG pattern: a xoshiro256++ state drawn from the chunk's Generator, ziggurat normals), ``steps``
(``hpge_steps``, ``steps``, ``metadata``: declarations only). Everything is re-exported here, so
``detsim.hpge.<name>`` works as it did when this was one module.
"""

from .config import FWHM_PER_SIGMA, HPGeConfig, section_class
from .physics import psd_expectation, resolution_sigma_kev, rise_sigma, trigger_efficiency
from .steps import hpge_steps, metadata, steps

__all__ = ["hpge_steps", "metadata", "psd_expectation", "resolution_sigma_kev", "section_class", "steps",
           "trigger_efficiency"]
