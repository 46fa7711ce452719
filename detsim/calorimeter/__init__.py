"""Cryogenic calorimeters (NUCLEUS CaWO4 / Al2O3 TES calorimeters, RICOCHET Ge CryoCube with heat + ionisation).

Steps: ionisation yield of each recoil (quenching model for nuclear recoils, 1 for electron recoils, 0 for the
heat-only low-energy excess); heat signal E_heat = eta E_r (1 + Y e V / eps) + Gaussian baseline noise
(Neganov-Trofimov-Luke gain under a bias V, eps the pair energy, eta the phonon collection relative to the
calibration); optional ionisation channel E_ion = Y E_r + Gaussian noise and the measured yield
Q = E_ion / (E_heat / eta - (V/eps) E_ion) that separates nuclear from electron recoils; trigger at n sigma of
the heat baseline; pile-up dead time exp(-rate tau). Columns: ``ionisation_yield_model`` (Y used), ``e_heat_ev``,
``e_ion_evee`` (NaN without an ionisation channel), ``ionisation_yield`` (measured Q, NaN without one),
``in_dead_time``, ``triggered``.

Package layout (detsim/README.md): ``config`` (``CalorimeterConfig`` = ``section_class``), ``physics`` (numpy
formulas and the sampler), ``steps``. No ``_kernels``: the response is a few vectorised numpy operations per
event (Gaussian noises, a product), which numba would not speed up.
"""

from .config import (PAIR_ENERGY_EV, RECOIL_ER, RECOIL_HEAT_ONLY, RECOIL_NR, CalorimeterConfig,
                     section_class)
from .physics import (heat_ev_to_kevee, heat_kevee_of_recoil, heat_sigma_ev, ionisation_yield, live_fraction,
                      luke_gain, mean_heat_ev, recoil_from_heat_ev, sample_response, trigger_probability,
                      yield_band_sigma)
from .steps import calorimeter_steps, metadata, steps

__all__ = ["PAIR_ENERGY_EV", "RECOIL_ER", "RECOIL_HEAT_ONLY", "RECOIL_NR", "CalorimeterConfig",
           "calorimeter_steps", "heat_ev_to_kevee", "heat_kevee_of_recoil", "heat_sigma_ev", "ionisation_yield",
           "live_fraction", "luke_gain", "mean_heat_ev", "metadata", "recoil_from_heat_ev", "sample_response",
           "section_class", "steps", "trigger_probability", "yield_band_sigma"]
