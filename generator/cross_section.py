"""Standard-Model CEvNS cross section, the numpy reference for every kernel.

dsigma/dT = (G_F^2 M / pi) Q_v^2 [1 - T/E - M T/(2 E^2) + T^2/(2 E^2)],
Q_v = Z g_V^p F_p(q) + N g_V^n F_n(q)
(e.g. Barranco, Miranda & Rashba, JHEP 12 (2005) 021; COHERENT's dukecevns `diffxscnvec`).
With F_p = F_n = F and tree-level couplings this is (G_F^2 M / 4 pi) Q_W^2 F^2 [...],
Q_W = N - (1 - 4 sin^2 theta_W) Z. The kinematic factor is clamped at 0 and the cross section is
set to 0 above T_max (the factor equals T_max^2/(2E^2) there, not 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .constants import FERMI_CONSTANT_MEV2, HBARC_MEV_CM, SIN2_THETA_W_LOW_Q2, vector_couplings
from .form_factors import FormFactor
from .kinematics import momentum_transfer_fm, t_max_kev
from .nuclei import Isotope

__all__ = ["CrossSectionModel", "dsigma_dt_cm2_per_kev", "sigma_cm2", "weak_charge"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(96)


@dataclass(frozen=True)
class CrossSectionModel:
    """Everything the SM cross section depends on besides (E_nu, T, isotope)."""

    coupling_scheme: str = "radiative"
    sin2_theta_w: float = SIN2_THETA_W_LOW_Q2
    form_factor: FormFactor = field(default_factory=FormFactor)
    mass_convention: str = "nuclear"

    @property
    def couplings(self) -> tuple[float, float]:
        return vector_couplings(self.coupling_scheme, self.sin2_theta_w)

    def mass_mev(self, iso: Isotope) -> float:
        return iso.mass_mev(self.mass_convention)


def weak_charge(t_kev, iso: Isotope, model: CrossSectionModel):
    """Q_v(q) = Z g_V^p F_p + N g_V^n F_n at the momentum transfer of a recoil ``t_kev``."""
    gvp, gvn = model.couplings
    q = momentum_transfer_fm(t_kev, model.mass_mev(iso))
    return iso.z * gvp * model.form_factor.proton(q, iso.a) + iso.n * gvn * model.form_factor.neutron(q, iso.a)


def kinematic_factor(enu_mev, t_kev, mass_mev):
    """1 - T/E - M T/(2E^2) + T^2/(2E^2), clamped at 0 and zero above T_max."""
    e = np.asarray(enu_mev, dtype=np.float64)
    t = np.asarray(t_kev, dtype=np.float64) * 1e-3
    es = np.where(e > 0, e, 1.0)  # E = 0 has no allowed recoil; avoid 0/0
    k = 1.0 - t / es - mass_mev * t / (2.0 * es * es) + t * t / (2.0 * es * es)
    return np.where((e > 0) & (t * 1e3 <= t_max_kev(e, mass_mev)) & (t >= 0), np.maximum(k, 0.0), 0.0)


def dsigma_dt_cm2_per_kev(enu_mev, t_kev, iso: Isotope, model: CrossSectionModel | None = None):
    """Differential cross section dsigma/dT in cm^2/keV per nucleus (broadcasts over E and T)."""
    model = model or CrossSectionModel()
    m = model.mass_mev(iso)
    enu = np.asarray(enu_mev, dtype=np.float64)
    t = np.asarray(t_kev, dtype=np.float64)
    qv = weak_charge(t, iso, model)
    # G_F^2 M / pi [MeV^-3] * (hbar c)^2 [MeV^2 cm^2] -> cm^2/MeV; 1e-3 -> cm^2/keV.
    pref = FERMI_CONSTANT_MEV2**2 * m / np.pi * HBARC_MEV_CM**2 * 1e-3
    return pref * qv * qv * kinematic_factor(enu, t, m)


def sigma_cm2(enu_mev, iso: Isotope, model: CrossSectionModel | None = None, threshold_kev: float = 0.0,
              efficiency=None):
    """Total cross section (cm^2) for recoils above ``threshold_kev``, by Gauss-Legendre quadrature in T.

    ``efficiency``, a function of T in keVnr, weights the recoils (detection efficiency).
    """
    model = model or CrossSectionModel()
    m = model.mass_mev(iso)
    enu = np.atleast_1d(np.asarray(enu_mev, dtype=np.float64))
    tmax = t_max_kev(enu, m)
    lo = np.full_like(tmax, float(threshold_kev))
    hi = np.maximum(tmax, lo)
    half = 0.5 * (hi - lo)
    t = (lo + half)[:, None] + half[:, None] * _GL_NODES[None, :]
    integrand = dsigma_dt_cm2_per_kev(enu[:, None], t, iso, model)
    if efficiency is not None:
        integrand = integrand * efficiency(t)
    out = half * (integrand @ _GL_WEIGHTS)
    return out if np.ndim(enu_mev) else float(out[0])
