"""Reactor antineutrinos (anti-nu_e) from the four main fissioning isotopes and the 238U neutron captures.

Above 2 MeV: S_i(E) = exp(sum_k a_k E^k) per fission per MeV,
 - 235U, 239Pu, 241Pu: Huber, PRC 84, 024617 (2011), Table III;
 - 238U: Mueller et al., PRC 83, 054615 (2011), Table VI ("Huber-Mueller").
The fits are valid for 2-8 MeV; above 8 MeV the same exponential of a polynomial is continued up to
``e_max_mev`` (default 10 MeV), where it is < 1e-4 of its 2 MeV value.
Below 2 MeV (low_energy), down to ``e_min_mev`` (default 0):
 - 'conflux' (default): the summation spectra of CONFLUX (arXiv:2503.18966; JEFF-3.3 yields, ENSDF decay data)
   for 450 days of constant fission rate, data/reactor/summation_conflux_450d.csv, scaled per isotope by
   HM(2 MeV)/table(2 MeV) so that the spectrum is continuous at 2 MeV (``join_scale``; the jump before scaling is
   that factor minus one, 8-15 %: the summation misses nuclides without decay data);
 - 'vogel_engel': the shape of Vogel & Engel, PRD 39, 3378 (1989), S = exp(a0 + a1 E + a2 E^2), scaled per isotope
   to join the Huber-Mueller value at 2 MeV (not reliable at sub-MeV energies);
 - 'none': no flux below 2 MeV.
Neutron capture: ``capture_per_fission`` 238U(n,g) captures per fission (default 0.6, whatever the treatment
below 2 MeV: the captures are not fission products), each followed by one 239U and one 239Np beta decay (components
reactor_u239, reactor_np239; in equilibrium, both decay rates equal the capture rate). All their anti-nu are below
1.27 MeV, so they need a spectrum that starts below that ('none' starts at 2 MeV and has none). Their spectra are sums of the ENSDF beta branches
(data/reactor/capture_u239_np239_branches.csv) with the allowed shape p W E_nu^2 F(Z, W), F the relativistic Fermi
function with the nuclear radius 1.2 A^(1/3) fm (no screening; first-forbidden non-unique branches as allowed).
Energy per fission: Ma et al., PRC 88, 014605 (2013). Fission rate = P_th / sum_i f_i E_i,
fluence = rate x live time x nu per fission / (4 pi L^2). The energy range the flux integrates is
``generator.rates.flux_range_mev(source)`` (in ``cevns-rate``'s table and JSON).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import loggamma

from .._data import read_csv_rows
from ..constants import JOULE_PER_MEV, PDG
from .base import Component, Source, pdf_from_grid, trapezoid

__all__ = ["CAPTURE_ISOTOPES", "FISSION_ISOTOPES", "FISSION_FRACTION_SETS", "capture_spectrum", "huber_mueller",
           "join_scale", "reactor_source", "spectrum_per_fission", "summation_table"]

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
LOW_ENERGY_MODELS = ("conflux", "vogel_engel", "none")
DEFAULT_LOW_ENERGY = "conflux"
JOIN_MEV = 2.0
SUMMATION_FILE = ("reactor", "summation_conflux_450d.csv")
CAPTURE_FILE = ("reactor", "capture_u239_np239_branches.csv")
CAPTURE_ISOTOPES = ("u239", "np239")
# 238U(n,g) captures per fission in a power reactor: ~0.6 [UNVERIFIED: INPUTS.md 5.2 [M], the value commonly
# attributed to Kopeikin, Mikaelyan & Sinev, Phys. At. Nucl. 67, 1892 (2004), which could not be re-read from the
# stored sources]. It is the LWR conversion ratio (~0.6 new 239Pu per fission), so it is a property of the core:
# configurable per preset.
DEFAULT_CAPTURE_PER_FISSION = 0.6
_ME_MEV = 0.51099895  # electron mass (CODATA 2018)
_ALPHA = 7.2973525693e-3  # fine-structure constant (CODATA 2018)
_HBARC_MEV_FM = 197.3269804


@functools.cache
def summation_table() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The CONFLUX summation spectra (MeV; anti-nu per fission per MeV per isotope), as tabulated (unscaled)."""
    header, rows = read_csv_rows(*SUMMATION_FILE)
    arr = np.array(rows, dtype=np.float64)
    return arr[:, 0], {iso: arr[:, header.index(iso)] for iso in FISSION_ISOTOPES}


def join_scale(iso: str) -> float:
    """HM(2 MeV) / summation(2 MeV): the factor that makes the 'conflux' spectrum continuous at the join."""
    e, cols = summation_table()
    return float(huber_mueller(JOIN_MEV, iso) / np.interp(JOIN_MEV, e, cols[iso]))


def _fermi_function(z_daughter: int, w):
    """Relativistic Fermi function F0(Z, W) for beta- decay, W total electron energy in m_e units, nuclear radius
    R = 1.2 A^(1/3) fm with A = 239 (both capture-chain decays)."""
    w = np.asarray(w, dtype=np.float64)
    p = np.sqrt(np.maximum(w * w - 1.0, 1e-30))
    az = _ALPHA * z_daughter
    gam = np.sqrt(1.0 - az * az)
    eta = az * w / p
    r = 1.2 * 239.0 ** (1.0 / 3.0) * _ME_MEV / _HBARC_MEV_FM  # in units of hbar / (m_e c)
    lg = loggamma(gam + 1j * eta).real
    return 2.0 * (1.0 + gam) * (2.0 * p * r) ** (2.0 * (gam - 1.0)) * np.exp(np.pi * eta + 2.0 * lg) \
        / np.exp(2.0 * loggamma(2.0 * gam + 1.0).real)


@functools.cache
def capture_branches(parent: str) -> tuple[tuple[int, float, float], ...]:
    """((daughter Z, endpoint MeV, intensity renormalised to sum 1), ...) of one capture-chain decay."""
    header, rows = read_csv_rows(*CAPTURE_FILE)
    col = {k: header.index(k) for k in ("parent", "daughter_z", "endpoint_mev", "intensity")}
    br = [(int(r[col["daughter_z"]]), float(r[col["endpoint_mev"]]), float(r[col["intensity"]]))
          for r in rows if r[col["parent"]] == parent and float(r[col["intensity"]]) > 0]
    if not br:
        raise ValueError(f"no beta branches for {parent!r}; allowed: {', '.join(CAPTURE_ISOTOPES)}")
    total = sum(b[2] for b in br)
    return tuple((z, e0, i / total) for z, e0, i in br)


def capture_endpoint_mev(parent: str) -> float:
    return max(e0 for _, e0, _ in capture_branches(parent))


def capture_spectrum(enu_mev, parent: str):
    """Anti-nu per decay per MeV of 239U or 239Np ('u239', 'np239'): each branch has the allowed shape
    p W E_nu^2 F(Z, W) (electron kinetic energy E0 - E_nu), normalised to its intensity; the sum integrates to 1."""
    e = np.asarray(enu_mev, dtype=np.float64)
    out = np.zeros_like(e)
    for z, e0, frac in capture_branches(parent):
        out += frac * _branch_shape(e, z, e0) / _branch_norm(z, e0)
    return out


@functools.cache
def _branch_norm(z: int, e0: float) -> float:
    """Integral of one branch's shape over [0, E0] (cached: the spectrum is evaluated point by point in tests)."""
    x = np.linspace(0.0, e0, 4001)
    return float(np.trapezoid(_branch_shape(x, z, e0), x))


def _branch_shape(enu, z, e0):
    t = e0 - enu  # electron kinetic energy
    inside = (enu >= 0) & (t > 0)
    w = np.where(inside, t, 1.0) / _ME_MEV + 1.0
    p = np.sqrt(w * w - 1.0)
    return np.where(inside, p * w * enu * enu * _fermi_function(z, w), 0.0)


def huber_mueller(enu_mev, iso: str):
    """Huber-Mueller spectrum of one isotope, anti-nu per fission per MeV (the fit itself, no range cut)."""
    e = np.asarray(enu_mev, dtype=np.float64)
    return np.exp(np.polynomial.polynomial.polyval(e, HUBER_MUELLER[iso]))


def spectrum_per_fission(enu_mev, iso: str, low_energy: str = DEFAULT_LOW_ENERGY, e_min_mev: float = 0.0,
                         e_max_mev: float = 10.0):
    """Anti-nu per fission per MeV over [e_min, e_max] with the chosen treatment below 2 MeV."""
    e = np.asarray(enu_mev, dtype=np.float64)
    hm = huber_mueller(e, iso)
    if low_energy == "none":
        low = np.zeros_like(e)
    elif low_energy == "conflux":
        te, cols = summation_table()
        low = np.interp(e, te, cols[iso], left=0.0, right=0.0) * join_scale(iso)
    elif low_energy == "vogel_engel":
        ve = lambda x: np.exp(np.polynomial.polynomial.polyval(x, VOGEL_ENGEL[iso]))  # noqa: E731
        low = ve(e) * (huber_mueller(JOIN_MEV, iso) / ve(JOIN_MEV))
    else:
        raise ValueError(f"unknown low-energy treatment {low_energy!r}; allowed: {', '.join(LOW_ENERGY_MODELS)}")
    s = np.where(e >= JOIN_MEV, hm, low)
    return np.where((e >= e_min_mev) & (e <= e_max_mev), s, 0.0)


def reactor_source(*, live_days: float, fission_fractions: dict[str, float], thermal_power_gw: float | None = None,
                   distance_m: float | None = None, cores: list[tuple[float, float]] | None = None,
                   low_energy: str = DEFAULT_LOW_ENERGY, e_min_mev: float = 0.0, e_max_mev: float = 10.0,
                   capture_per_fission: float = DEFAULT_CAPTURE_PER_FISSION, n_grid: int = 2001) -> Source:
    """Antineutrinos from one core (thermal_power_gw, distance_m) or several cores [(power GW, distance m), ...]
    burning the same fuel: one spectrum, fluxes summed as sum_i P_i / (4 pi L_i^2).

    ``capture_per_fission`` (238U captures per fission) adds the 239U and 239Np decays as components
    ``reactor_u239`` and ``reactor_np239`` (one decay of each per capture), over the same [e_min, e_max] range."""
    if cores is None:
        cores = [(thermal_power_gw, distance_m)]
    if low_energy not in LOW_ENERGY_MODELS:
        raise ValueError(f"unknown low-energy treatment {low_energy!r}; allowed: {', '.join(LOW_ENERGY_MODELS)}")
    if capture_per_fission < 0:
        raise ValueError(f"capture_per_fission = {capture_per_fission}: must be >= 0")
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
    for parent in CAPTURE_ISOTOPES:
        e_end = min(capture_endpoint_mev(parent), e_max_mev)
        if capture_per_fission == 0 or e_lo >= e_end:
            continue
        ec = np.linspace(e_lo, e_end, 1201)
        sc = capture_spectrum(ec, parent)
        nu_per_fission = capture_per_fission * trapezoid(sc, ec)  # one decay per capture; < 1 above e_min > 0
        flux = fission_rate * nu_per_fission / area
        comps.append(Component(f"reactor_{parent}", PDG["anti_nu_e"], flux * live_s, flux, None,
                               *pdf_from_grid(ec, sc)))
    exposure = {"thermal_power_gw": total_power_gw, "distance_m": effective_distance_m, "live_days": live_days,
                "cores": [{"thermal_power_gw": p, "distance_m": d} for p, d in cores],
                "fission_rate_s": fission_rate, "fission_fractions": fr, "low_energy": low_energy,
                "e_min_mev": e_min_mev, "e_max_mev": e_max_mev, "capture_per_fission": capture_per_fission}
    return Source("reactor", tuple(comps), live_s, exposure=exposure)
