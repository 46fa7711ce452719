"""COHERENT Ge-Mini (PRL 134, 231801 (2025)): data/presets/coherent_ge_2025.toml.

Efficiency: the erf turn-on of the coherent_ge_mini HPGe detector preset at the 1.5 keVee analysis threshold.
"""

from __future__ import annotations

from ._common import (HEADER, NO_BACKGROUNDS_TAIL, PHYSICS_BLOCK, generator_block, grid, hpge_efficiency,
                      rate_with_table, rates, recoil_block, window_block)


NAME = "coherent_ge_2025"
# (paper value, uncertainty used as the tolerance, what it is, source)
PAPER = (20.6 / 0.59, 7.1, "SM = 20.6 / 0.59: measured 20.6 +7.1 -6.3 (arXiv:2406.13806 abstract), data/SM "
         "0.59 +- 0.21 (CONUS+, Nature 643, 1229 (2025), Table 1)", "arXiv:2406.13806; Nature 643, 1229, Table 1")
WINDOW = (-500.0, 5500.0)                                   # the coherent_ge_mini preset window
GRID = grid((0.0, 15.0, 0.1), (15.5, 90.0, 0.5))


def table():
    return GRID, hpge_efficiency(GRID, "coherent_ge_mini")


def preset_text(x, y):
    comment = (
        "# Efficiency vs keVnr: erf turn-on of the coherent_ge_mini detector preset at the 1.5 keVee analysis\n"
        "# threshold [paper], E = QF(T) T with Lindhard k = 0.162 ([ASSUMED] the paper's QF model was not extracted),\n"
        "# s^2 = F eps E + (150 eVee FWHM / 2.355)^2 + (50 eVee)^2 (pulser and trigger width: [ASSUMED], detector\n"
        "# preset). NOT included: an upper edge of the energy ROI (not extracted), the time window, PSD and cuts.\n")
    return f"""{HEADER}name = "coherent_ge_2025"
description = "COHERENT Ge-Mini (PRL 134, 231801 (2025), arXiv:2406.13806): natural Ge at the SNS, 10.22 GWh kg, 1.5 keVee threshold"

# Paper [paper, abstract]: on-beam excess 20.6 +7.1 -6.3 counts, 3.9 sigma, "agrees with the SM prediction within
# 2 sigma" (the predicted number was not extracted).

[source]
kind = "pion_dar"
facility = "sns"
distance_m = 20.0                    # [ASSUMED] Neutrino Alley (19-28 m, INPUTS 12.4); Ge-Mini distance not extracted
beam_power_mw = 1.4
proton_energy_gev = 1.0              # [ASSUMED, M] SNS at ~1 GeV during the run
nu_per_proton_per_flavour = 0.09     # [data] LAr release value at ~1 GeV (10 % uncertainty) [ASSUMED for this run]

[target]
material = "Ge"                      # natural germanium [paper]
mass_kg = 1.0                        # [ASSUMED] only the product 10.22 GWh kg is published in the abstract:
geometry = {{ shape = "cylinder", radius_cm = 3.1, height_cm = 6.2 }}   # 1 kg x 10.22 GWh (the detector preset has one 1 kg "array")

[exposure]
beam_energy_gwh = 10.22              # [paper] total exposure 10.22 GWh kg, carried by 1 kg here

{PHYSICS_BLOCK}
{recoil_block(x, y, comment)}
{window_block(WINDOW)}
{generator_block(2024)}
[detector]
preset = "coherent_ge_mini"
# BACKGROUNDS: Ge-Mini's steady-state background and BRN/NIN estimates (arXiv:2406.13806 body){NO_BACKGROUNDS_TAIL}
[reco]
backgrounds_published = false      # [paper] not read here: no significance is quoted without backgrounds
threshold_kevee = 1.5                # [paper] analysis threshold
max_kevee = 15.0                     # [ASSUMED]
n_energy_bins = 27
template_events = 100000
"""


def compare_notes(n):
    """Extra --compare numbers: 22 m instead of 20 m, Lindhard k = 0.179."""
    return {"distance_22m": rates(NAME, ["source.distance_m=22.0"]).expected_events,
            "k=0.179": rate_with_table(NAME, GRID, hpge_efficiency(GRID, "coherent_ge_mini", ["quenching.k=0.179"]))}
