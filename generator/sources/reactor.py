"""Reactor antineutrinos (anti-nu_e) from the four main fissioning isotopes.

Above 2 MeV: S_i(E) = exp(sum_k a_k E^k) per fission per MeV,
 - 235U, 239Pu, 241Pu: Huber, PRC 84, 024617 (2011), Table III;
 - 238U: Mueller et al., PRC 83, 054615 (2011), Table VI ("Huber-Mueller").
The fits are valid for 2-8 MeV; above 8 MeV the same exponential of a polynomial is continued up to
``e_max_mev`` (default 10 MeV), where it is < 1e-4 of its 2 MeV value.
Below 2 MeV (low_energy):
 - 'vogel_engel' (default): the shape of Vogel & Engel, PRD 39, 3378 (1989), S = exp(a0 + a1 E + a2 E^2),
   scaled per isotope to join the Huber-Mueller value at 2 MeV, down to ``e_min_mev`` (default 1 MeV;
   not reliable at sub-MeV energies);
 - 'none': no flux below 2 MeV.
Energy per fission: Ma et al., PRC 88, 014605 (2013). Fission rate = P_th / sum_i f_i E_i,
fluence = rate x live time x nu per fission / (4 pi L^2).
"""

from __future__ import annotations

import numpy as np

from ..constants import JOULE_PER_MEV, PDG
from .base import Component, Source, pdf_from_grid, trapezoid

__all__ = ["FISSION_ISOTOPES", "FISSION_FRACTION_SETS", "huber_mueller", "reactor_source", "spectrum_per_fission"]

FISSION_ISOTOPES = ("u235", "u238", "pu239", "pu241")

HUBER_MUELLER = {
    "u235": (4.367, -4.577, 2.100, -5.294e-1, 6.186e-2, -2.777e-3),
    "pu239": (4.757, -5.392, 2.563, -6.596e-1, 7.820e-2, -3.536e-3),
    "pu241": (2.990, -2.882, 1.278, -3.343e-1, 3.905e-2, -1.754e-3),
    "u238": (4.833e-1, 1.927e-1, -1.283e-1, -6.762e-3, 2.233e-3, -1.536e-4),
}
VOGEL_ENGEL = {
    "u235": (0.870, -0.160, -0.0910),
    "u238": (0.976, -0.162, -0.0790),
    "pu239": (0.896, -0.239, -0.0981),
    "pu241": (0.793, -0.080, -0.1085),
}
# MeV released per fission, Ma et al., PRC 88, 014605 (2013).
ENERGY_PER_FISSION_MEV = {"u235": 202.36, "u238": 205.99, "pu239": 211.12, "pu241": 214.26}
# Typical fission fractions; Daya Bay average (An et al., PRL 118, 251801 (2017)).
FISSION_FRACTION_SETS = {
    "daya_bay": {"u235": 0.564, "u238": 0.076, "pu239": 0.304, "pu241": 0.056},
    "pure_u235": {"u235": 1.0, "u238": 0.0, "pu239": 0.0, "pu241": 0.0},
}
LOW_ENERGY_MODELS = ("vogel_engel", "none")
JOIN_MEV = 2.0


def huber_mueller(enu_mev, iso: str):
    """Huber-Mueller spectrum of one isotope, anti-nu per fission per MeV (the fit itself, no range cut)."""
    e = np.asarray(enu_mev, dtype=np.float64)
    return np.exp(np.polynomial.polynomial.polyval(e, HUBER_MUELLER[iso]))


def spectrum_per_fission(enu_mev, iso: str, low_energy: str = "vogel_engel", e_min_mev: float = 1.0,
                         e_max_mev: float = 10.0):
    """Anti-nu per fission per MeV over [e_min, e_max] with the chosen treatment below 2 MeV."""
    e = np.asarray(enu_mev, dtype=np.float64)
    hm = huber_mueller(e, iso)
    if low_energy == "none":
        low = np.zeros_like(e)
    elif low_energy == "vogel_engel":
        ve = lambda x: np.exp(np.polynomial.polynomial.polyval(x, VOGEL_ENGEL[iso]))  # noqa: E731
        low = ve(e) * (huber_mueller(JOIN_MEV, iso) / ve(JOIN_MEV))
    else:
        raise ValueError(f"unknown low-energy treatment {low_energy!r}; allowed: {', '.join(LOW_ENERGY_MODELS)}")
    s = np.where(e >= JOIN_MEV, hm, low)
    return np.where((e >= e_min_mev) & (e <= e_max_mev), s, 0.0)


def reactor_source(*, live_days: float, fission_fractions: dict[str, float], thermal_power_gw: float | None = None,
                   distance_m: float | None = None, cores: list[tuple[float, float]] | None = None,
                   low_energy: str = "vogel_engel", e_min_mev: float = 1.0, e_max_mev: float = 10.0,
                   n_grid: int = 2001) -> Source:
    """Antineutrinos from one core (thermal_power_gw, distance_m) or several cores [(power GW, distance m), ...]
    burning the same fuel: one spectrum, fluxes summed as sum_i P_i / (4 pi L_i^2)."""
    if cores is None:
        cores = [(thermal_power_gw, distance_m)]
    if not cores or any(p is None or d is None or p <= 0 or d <= 0 for p, d in cores):
        raise ValueError(f"reactor cores need positive powers and distances, got {cores}")
    fr = {k: float(fission_fractions.get(k, 0.0)) for k in FISSION_ISOTOPES}
    total = sum(fr.values())
    if total <= 0:
        raise ValueError("fission fractions sum to zero")
    fr = {k: v / total for k, v in fr.items()}
    mev_per_fission = sum(fr[k] * ENERGY_PER_FISSION_MEV[k] for k in FISSION_ISOTOPES)
    total_power_gw = float(sum(p for p, _ in cores))
    fission_rate = total_power_gw * 1e9 / (mev_per_fission * JOULE_PER_MEV)
    live_s = live_days * 86400.0
    # fission rate / area summed over the cores = fission_rate / area with the power-weighted 1/L^2 distance
    inv_l2 = sum(p / (d * 100.0) ** 2 for p, d in cores) / total_power_gw
    area = 4.0 * np.pi / inv_l2
    effective_distance_m = 1.0 / np.sqrt(inv_l2) / 100.0
    e_lo = e_min_mev if low_energy != "none" else max(e_min_mev, JOIN_MEV)
    e = np.linspace(e_lo, e_max_mev, n_grid)
    comps = []
    for iso in FISSION_ISOTOPES:
        if fr[iso] == 0:
            continue
        s = spectrum_per_fission(e, iso, low_energy, e_min_mev, e_max_mev)
        nu_per_fission = trapezoid(s, e)
        flux = fission_rate * fr[iso] * nu_per_fission / area
        comps.append(Component(f"reactor_{iso}", PDG["anti_nu_e"], flux * live_s, flux, None, *pdf_from_grid(e, s)))
    exposure = {"thermal_power_gw": total_power_gw, "distance_m": effective_distance_m, "live_days": live_days,
                "cores": [{"thermal_power_gw": p, "distance_m": d} for p, d in cores],
                "fission_rate_s": fission_rate, "fission_fractions": fr, "low_energy": low_energy,
                "e_min_mev": e_min_mev, "e_max_mev": e_max_mev}
    return Source("reactor", tuple(comps), live_s, exposure=exposure)
