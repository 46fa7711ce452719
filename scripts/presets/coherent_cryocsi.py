"""COHERENT CryoCsI concept (undoped CsI at 77 K with SiPMs): data/presets/coherent_cryocsi.toml.

Efficiency: Poisson PE statistics with a 5 PE threshold and a two-end coincidence (the cryocsi detector preset).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import poisson

from ._common import (HEADER, NO_BACKGROUNDS_TAIL, PHYSICS_BLOCK, csi_qf_2021, detector_timing, generator_block, grid,
                      recoil_block, window_block)


NAME = "coherent_cryocsi"
PAPER = None                                                # a concept: no published count
WINDOW = (-500.0, 5500.0)                                   # ASSUMED

# CryoCsI (INPUTS 12.4, 7.5; detector preset data/detectors/cryocsi.toml): 43 PE/keVee (Ding et al.,
# arXiv:2201.00483, measured with SiPMs), threshold 5 PE (assumption of the preset), >= 1 PE on each of the two
# ends (coincidence of the preset), CsI[Na] QF polynomial (assumption, INPUTS 7.5).
CRYO_LY = 43.0
CRYO_THRESHOLD_PE = 5


def cryocsi_eff(mu_pe):
    """P(n >= 5 PE and >= 1 PE on each end): the light splits binomially (share 1/2), so the two ends are
    independent Poisson(mu/2). Crosstalk is already in the 43 PE/keVee mean; its extra variance is ignored."""
    n = np.arange(0, 401)
    out = np.zeros(len(mu_pe))
    for i, mu in enumerate(mu_pe):
        pa = poisson.pmf(n, 0.5 * mu)
        # P(na + nb >= thr, na >= 1, nb >= 1) = sum_na pa(na) P(nb >= max(1, thr - na)), na >= 1
        tail = poisson.sf(np.maximum(1, CRYO_THRESHOLD_PE - n) - 1, 0.5 * mu)
        out[i] = float(np.sum(pa[1:] * tail[1:]))
    return out


def table():
    x = grid((0.0, 5.0, 0.1), (5.25, 10.0, 0.25), (10.5, 60.0, 0.5))
    return x, cryocsi_eff(CRYO_LY * csi_qf_2021(x) * x)


def preset_text(x, y):
    comment = (
        "# Efficiency vs keVnr: P(>= 5 PE in total and >= 1 PE on each end) with Poisson PE statistics, mean\n"
        "# 43 PE/keVee x QF(T) x T (COHERENT CsI[Na] 2021 QF polynomial [ASSUMED for undoped CsI at 77 K, INPUTS 7.5]),\n"
        "# light split equally between the two SiPM arrays: the threshold and coincidence of the cryocsi detector\n"
        "# preset. Crosstalk is inside the 43 PE/keVee (measured with SiPMs); its extra variance, afterpulses and dark\n"
        "# counts are left to the detector simulation. 5 PE puts the 50 % point near 2 keVnr, not at the ~0.5 keVnr\n"
        "# goal of the concept.\n")
    return f"""{HEADER}name = "coherent_cryocsi"
description = "COHERENT CryoCsI concept: ~10 kg undoped CsI at 77 K with SiPMs, 20 m from the SNS, 1 year at 1.4 MW, 5 PE threshold"

# Concept (INPUTS 12.4): ~10 kg undoped CsI at 77 K with SiPMs [paper: conference abstract; sensitivity study
# arXiv:2311.13032], threshold goal ~0.5 keVnr (Ding thesis, arXiv:2405.19476). No published event count.

[source]
kind = "pion_dar"
facility = "sns"
distance_m = 20.0                    # [ASSUMED] a Neutrino Alley distance (19-28 m)
beam_power_mw = 1.4                  # [paper] SNS during the CsI/LAr runs
proton_energy_gev = 1.0              # [ASSUMED]
nu_per_proton_per_flavour = 0.09     # [data] LAr release at ~1 GeV

[target]
material = "CsI"
mass_kg = 10.0                       # [paper] ~10 kg crystal
geometry = {{ shape = "cylinder", radius_cm = 7.0, height_cm = 14.4 }}   # [ASSUMED] 10 kg at 4.51 g/cm3

[exposure]
live_days = 365.0                    # [ASSUMED] one year of beam

{PHYSICS_BLOCK}
{recoil_block(x, y, comment)}
{window_block(WINDOW)}
{generator_block(77)}
# The cryocsi preset with its 6 us window opened 500 ns before the pulse centre [ASSUMED] (times here are centred on
# the proton pulse; a window starting at 0 would cut half of the prompt flux).
[detector]
preset = "cryocsi"
{detector_timing(WINDOW)}
# BACKGROUNDS: the projected CryoCsI steady-state and BRN rates (proposal, arXiv:2311.13032, Ding
# thesis arXiv:2405.19476){NO_BACKGROUNDS_TAIL}
[reco]
backgrounds_published = false      # [paper] not read here: no significance is quoted without backgrounds
threshold_kevee = 0.1                # ~5 PE / 43 PE/keVee
max_kevee = 4.0
n_energy_bins = 16
n_time_bins = 12
template_events = 100000
"""
