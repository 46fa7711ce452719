"""COHERENT CsI[Na] full dataset (PRL 129, 081801 (2022)): data/presets/coherent_csi_2022.toml.

Efficiency: Poisson folding of the release's PE acceptance with the 2021 QF; window with the timing efficiency.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import gamma as gamma_dist

from reco.released import coherent_csi as released_csi

from ._common import (CSI_GRID, CSI_PE_MAX, HEADER, PHYSICS_BLOCK, RELEASE_T0_NS, csi_qf_2021, detector_timing,
                      generator_block, klein_nystrand, poisson_fold, rate_with_table, recoil_block, window_block)


NAME = "coherent_csi_2022"
# (paper value, uncertainty used as the tolerance, what it is, source)
PAPER = (341.0, math.hypot(11.0, 42.0), "SM prediction 341 +- 11 +- 42 [M: not verified]",
         "PRL 129, 081801 (2022), arXiv:2110.07730")
WINDOW = (0.0 - RELEASE_T0_NS, 6000.0 - RELEASE_T0_NS)    # 0-6 us [code, Newtrinos tcut]

# The response of the released analysis, in one place (reco.released.coherent_csi, with their sources):
# COHERENT CsI[Na] full dataset (PRL 129, 081801; arXiv:2110.07730): 13.35 PE/keVee (V-code, Newtrinos);
# Gamma PE resolution of the 2021 release (INPUTS 7.1): shape 1 + b E, scale 1/(a (1 + b E)), a = 0.0749/E,
# b = 9.56 (E in keVee), used here only to quantify the Poisson-vs-Gamma difference; the CsI-2021 timing
# efficiency (INPUTS 4.2): 1 up to 520 ns of the release frame, exp(-0.0494/us (t - 520 ns)) after.
CSI2022_LY = released_csi.LIGHT_YIELD_PE_PER_KEVEE
CSI2022_GAMMA = (released_csi.GAMMA_A, released_csi.GAMMA_B_PER_KEVEE)
CSI2021_TIMING_EFF = (released_csi.TIMING_FLAT_UNTIL_US * 1e3, released_csi.TIMING_DECAY_PER_US)
# acceptance a/(1+exp(-b(x-c)))+d, clamped at 0 (effCoefficients.txt of the release; INPUTS 12.1: V-data).
CSI2022_EFF = (1.32045, 0.285979, 10.8646, -0.333322)


def csi2022_eff_pe(n, pe_max=CSI_PE_MAX):
    a, b, c, d = CSI2022_EFF
    n = np.asarray(n, dtype=float)
    e = np.clip(a / (1.0 + np.exp(-b * (n - c))) + d, 0.0, 1.0)
    return e if pe_max is None else np.where(n >= pe_max, 0.0, e)


def gamma_fold(e_kevee, eff_pe, pe_max=CSI_PE_MAX):
    """Alternative for CsI 2021: the release's Gamma PE resolution instead of Poisson (for the comparison only)."""
    a0, b0 = CSI2022_GAMMA
    x = np.linspace(0.0, 200.0, 8001)
    out = np.zeros(len(e_kevee))
    for i, e in enumerate(e_kevee):
        if e <= 0:
            continue
        a, b = a0 / e, b0 * e
        pdf = gamma_dist.pdf(x, 1.0 + b, scale=1.0 / (a * (1.0 + b)))
        w = eff_pe(x, pe_max) if pe_max is not None else eff_pe(x, None)
        out[i] = np.trapezoid(pdf * w, x)
    return out


def timing_efficiency_lines() -> str:
    """The [window] lines of the CsI-2021 timing efficiency (flat, then exponential), in this package's frame."""
    t0, k = CSI2021_TIMING_EFF
    return (f"efficiency_flat_until_ns = {t0 - RELEASE_T0_NS:.1f}       # [code] timing efficiency 1 up to {t0:g} ns "
            f"(release frame)\nefficiency_decay_per_us = {k:g}        # [code] then exp(-{k:g}/us (t - {t0:g} ns))\n")


def table():
    x = CSI_GRID
    return x, poisson_fold(CSI2022_LY * csi_qf_2021(x) * x, csi2022_eff_pe)


def preset_text(x, y):
    comment = (
        "# Efficiency vs keVnr = Poisson folding of the full-dataset PE acceptance [data: effCoefficients.txt of the\n"
        "# CsI release, INPUTS 12.1]: eff(T) = sum_n Poisson(n; 13.35 x QF(T) x T) eff_PE(n), eff_PE = 1.32045/(1+exp(\n"
        "# -0.285979(n-10.8646))) - 0.333322 clamped at 0, QF = COHERENT 2021 polynomial (detsim.quenching\n"
        f"# coherent_csi_qf, arXiv:2111.02477), 0 from {CSI_PE_MAX} PE (the release analysis bins 0-60 PE).\n"
        "# The release itself smears PE with a Gamma resolution (INPUTS 7.1), not Poisson: 0.4 % fewer events with it.\n"
        "# NOT included (a rate preset cannot apply time cuts): the 0-6 us window and the timing efficiency (1 up to\n"
        "# 520 ns, exp(-0.0494/us (t - 520 ns)) later; INPUTS 4.2), which keep ~87 % of the events (prompt 99.7 %,\n"
        "# delayed 84.9 %: scripts/make_experiment_presets.py --compare).\n")
    return f"""{HEADER}name = "coherent_csi_2022"
description = "COHERENT CsI[Na] full dataset (PRL 129, 081801 (2022), arXiv:2110.07730): 14.6 kg at 19.3 m, 13.99 GWh"

# Paper: 306 +- 20 CEvNS events observed, SM prediction 341 +- 11 (th) +- 42 (exp) [NOT VERIFIED here: M].

[source]
kind = "pion_dar"
facility = "sns"
distance_m = 19.3                    # [code] Newtrinos coherent_csi.jl (distance = 1930 cm)
beam_power_mw = 1.4
proton_energy_gev = 0.983            # [calc] 13.99 GWh <-> 3.198e23 POT (public re-analysis code uses 0.0848 x 3.198e23)
nu_per_proton_per_flavour = 0.0848   # [code] public CsI re-analysis code; INPUTS 4.3 tags it M (arXiv:2109.11049)

[target]
material = "CsI"
mass_kg = 14.6                       # [code] Newtrinos (Nt = 2 x 14.6 kg / 259.81 g/mol x N_A)
geometry = {{ shape = "cylinder", radius_cm = 5.6, height_cm = 33.0 }}   # [ASSUMED]

[exposure]
beam_energy_gwh = 13.99              # [code] Newtrinos coherent_csi.jl (exposure = 13.99 GWh); = 3.198e23 POT here

{PHYSICS_BLOCK}
{recoil_block(x, y, comment)}
{window_block(WINDOW, timing_efficiency_lines())}
{generator_block(2022)}
# Detector simulation: the COHERENT CsI[Na] preset (2021 QF polynomial, 13.35 PE/keVee, the effCoefficients
# acceptance) with the 0-6 us window moved to this package's frame (pulse centred at 0; the release frame puts the
# POT mean at +440 ns [ASSUMED as in the LAr release]): without the shift half of the prompt pulse is cut.
[detector]
preset = "coherent_csi_na"
{detector_timing(WINDOW)}

[reco]
threshold_kevee = 0.0
max_kevee = 4.49                     # 60 PE / 13.35 PE/keVee
n_energy_bins = 6                    # 10-PE bins as in the release analysis
n_time_bins = 12                     # 0.5-us bins over 0-6 us
template_events = 100000
"""


def compare_notes(n):
    """Extra --compare numbers: Klein-Nystrand form factor, Gamma instead of Poisson PE resolution, 0.09 nu/POT."""
    x = CSI_GRID
    g = gamma_fold(csi_qf_2021(x) * x, csi2022_eff_pe)
    return {"klein_nystrand": klein_nystrand(NAME), "gamma_resolution": rate_with_table(NAME, x, g),
            "nu_per_pot_0.09": n * 0.09 / 0.0848}
