"""CONUS+ first observation (Nature 643, 1229 (2025)): data/presets/conus_plus_2025.toml.

Efficiency: the mass-weighted erf trigger turn-on of the conus_plus HPGe detector preset.
"""

from __future__ import annotations

from ._common import (HEADER, NO_BACKGROUNDS_TAIL, PHYSICS_BLOCK, generator_block, grid, hpge_efficiency,
                      rate_with_table, rates, recoil_block)


NAME = "conus_plus_2025"
# (paper value, uncertainty used as the tolerance, what it is, source)
PAPER = (347.0, 59.0, "SM prediction 347 +- 59", "arXiv:2501.05206 v2 abstract")
GRID = grid((0.0, 3.2, 0.02))


def table():
    return GRID, hpge_efficiency(GRID, "conus_plus")


def preset_text(x, y):
    comment = (
        "# Efficiency vs keVnr: erf trigger turn-on of the conus_plus detector preset, mass-weighted over C2, C3, C5:\n"
        "# eff(T) = sum_i m_i/M Phi((E - thr_i) / s_i), E = QF(T) T with Lindhard k = 0.162 [paper], thresholds\n"
        "# 160/170/180 eVee ([paper] range 160-180 eVee; per-detector assignment [ASSUMED]), s_i^2 = F eps E +\n"
        "# (50 eVee FWHM / 2.355)^2 + (10 eVee)^2 (pulser ~50 eVee [M, INPUTS 9], Fano 0.11 [M], trigger width\n"
        "# [ASSUMED]). Upper ROI edge: irrelevant (recoils stay below ~0.6 keVee). NOT included: PSD and\n"
        "# analysis-cut acceptances of the paper, the measured (pulser) trigger efficiency curves.\n")
    return f"""{HEADER}name = "conus_plus_2025"
description = "CONUS+ first observation (Nature 643, 1229 (2025), arXiv:2501.05206): 2.83 kg Ge, 20.7 m from 3.6 GW_th, 327 kg d"

# Paper [paper, abstract v2]: 395 +- 106 CEvNS events measured, SM prediction 347 +- 59, in 119 days of reactor
# operation.

[source]
kind = "reactor"
thermal_power_gw = 3.6               # [paper] KKL Leibstadt
distance_m = 20.7                    # [paper]
fission_fractions = "daya_bay"       # [ASSUMED] the paper's fission fractions were not extracted (INPUTS 5.4, 12.2)
low_energy = "conflux"               # whole spectrum, 0-10 MeV: flux_cm2_s 1.41e13 vs 1.5e13 [paper]; below 2 MeV
e_min_mev = 0.0                      # only recoils < 0.13 keVnr, far below threshold (counts unchanged vs vogel_engel)
capture_per_fission = 0.6            # [ASSUMED] typical LWR 238U captures per fission (239U + 239Np, E_nu < 1.27 MeV)

[target]
material = "Ge"                      # natural germanium
mass_kg = 2.83                       # [paper] C2 + C3 + C5 active mass 2.83 +- 0.02 kg
geometry = {{ shape = "cylinder", radius_cm = 3.1, height_cm = 6.2 }}   # [ASSUMED] ~1 kg crystal (the detector shares out masses)

[exposure]
live_days = 115.548                  # [calc] 327 kg d [paper] / 2.83 kg

{PHYSICS_BLOCK}
{recoil_block(x, y, comment)}
{generator_block(2025)}
[detector]
preset = "conus_plus"
source_off_live_days = 21.2          # [paper] 60 kg d reactor OFF (Methods, "Data taking") / 2.83 kg [calc]
# BACKGROUNDS: the paper's background level (counts/(kg d keVee) in the ROI) and its
# background model{NO_BACKGROUNDS_TAIL}
[reco]
backgrounds_published = false      # [paper] not read here: no significance is quoted without backgrounds
threshold_kevee = 0.16               # [paper] lowest threshold
max_kevee = 1.0
n_energy_bins = 21
template_events = 100000
"""


def _hpge_units(thr_ev):
    units = [f"{{name = 'C{i}', mass_kg = 0.943, threshold_ev = {thr_ev}, trigger_width_ev = 10.0, "
             f"pulser_fwhm_ev = 50.0}}" for i in (2, 3, 5)]
    return "[" + ", ".join(units) + "]"


def compare_notes(n):
    """Extra --compare numbers: Lindhard k +- 0.004, all thresholds at 160 or 180 eVee, 12 MeV spectrum end,
    pure 235U fission."""
    extra = {}
    for label, ov in (("k=0.158", ["quenching.k=0.158"]), ("k=0.166", ["quenching.k=0.166"]),
                      ("all_thr_160eV", [f"hpge.detectors={_hpge_units(160)}"]),
                      ("all_thr_180eV", [f"hpge.detectors={_hpge_units(180)}"])):
        extra[label] = rate_with_table(NAME, GRID, hpge_efficiency(GRID, "conus_plus", ov))
    extra["e_max_12MeV"] = rates(NAME, ["source.e_max_mev=12"]).expected_events
    extra["pure_u235"] = rates(NAME, ["source.fission_fractions=pure_u235"]).expected_events
    return extra
