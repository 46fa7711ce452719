"""Standard-Model CEvNS cross section, the numpy reference for every kernel.

dsigma/dT = (G_F^2 M / pi) Q_v^2 [1 - T/E - M T/(2 E^2) + T^2/(2 E^2)],
Q_v = Z g_V^p F_p(q) + N g_V^n F_n(q)
(e.g. Barranco, Miranda & Rashba, JHEP 12 (2005) 021; COHERENT's dukecevns `diffxscnvec`).
With F_p = F_n = F and tree-level couplings this is (G_F^2 M / 4 pi) Q_W^2 F^2 [...],
Q_W = N - (1 - 4 sin^2 theta_W) Z. The kinematic factor is clamped at 0 and the cross section is
set to 0 above T_max (the factor equals T_max^2/(2E^2) there, not 0).

Beyond the SM: a model with ``bsm`` set (a :class:`generator.bsm.BSMHypothesis` that is not the SM)
is evaluated by :func:`generator.bsm.dsigma_dt_bsm` (NSI, light mediators, magnetic moment, charge
radius, sin^2 theta_W); then the flavour matters and ``nu_pdg`` is passed. With ``bsm`` None the code
below is the SM reference, unchanged.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .constants import FERMI_CONSTANT_MEV2, HBARC_MEV_CM, SIN2_THETA_W_LOW_Q2, vector_couplings
from .form_factors import FormFactor
from .bsm import dsigma_dt_bsm
from .kinematics import kinematic_factor, momentum_transfer_fm, t_max_kev
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
    bsm: Any = None  # a generator.bsm.BSMHypothesis (not the SM), or None for the SM

    @property
    def is_bsm(self) -> bool:
        return self.bsm is not None and not self.bsm.is_sm

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


def dsigma_dt_cm2_per_kev(enu_mev, t_kev, iso: Isotope, model: CrossSectionModel | None = None, nu_pdg=None):
    """Differential cross section dsigma/dT in cm^2/keV per nucleus (broadcasts over E and T).

    ``nu_pdg`` (the neutrino's PDG code) matters only for flavour-dependent BSM hypotheses.
    """
    model = model or CrossSectionModel()
    if model.is_bsm:
        return dsigma_dt_bsm(enu_mev, t_kev, iso, model, nu_pdg)
    m = model.mass_mev(iso)
    enu = np.asarray(enu_mev, dtype=np.float64)
    t = np.asarray(t_kev, dtype=np.float64)
    qv = weak_charge(t, iso, model)
    # G_F^2 M / pi [MeV^-3] * (hbar c)^2 [MeV^2 cm^2] -> cm^2/MeV; 1e-3 -> cm^2/keV.
    pref = FERMI_CONSTANT_MEV2**2 * m / np.pi * HBARC_MEV_CM**2 * 1e-3
    return pref * qv * qv * kinematic_factor(enu, t, m)


@functools.lru_cache(maxsize=64)
def _composite_nodes(n_panels: int, order: int = 16):
    """Nodes and weights on [0, 1] of Gauss-Legendre panels [0, 2^-n], [2^-n, 2^-n+1], ..., [1/2, 1].

    Resolves integrands varying on scales down to 2^-n of the range next to its lower end: the light-
    mediator propagators 1/(2MT + m^2)^2 near T = 0 and the magnetic-moment 1/T next to the threshold.
    """
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.concatenate([[0.0], 2.0 ** -np.arange(n_panels, -1, -1, dtype=np.float64)])
    a, b = edges[:-1, None], edges[1:, None]
    nodes = (a + 0.5 * (b - a) * (x[None, :] + 1.0)).ravel()
    weights = (0.5 * (b - a) * w[None, :]).ravel()
    return nodes, weights


def _bsm_panels(model: CrossSectionModel, iso: Isotope, threshold_kev: float, width_kev: float) -> int:
    """Panels of the composite rule: enough halvings to resolve the smallest scale next to the threshold.

    Scales: the threshold itself for the magnetic 1/T; thr + m^2/(2M) for a mediator of mass m.
    """
    scales = [max(width_kev, 1e-300)]
    if model.bsm.has_magnetic_moment and threshold_kev > 0:
        scales.append(threshold_kev)
    for m2 in model.bsm.mediator_scales_mev2():
        scales.append(threshold_kev + 1e3 * m2 / (2.0 * model.mass_mev(iso)))
    n = math.ceil(math.log2(max(width_kev, 1e-300) / min(scales))) + 6
    return min(max(n, 6), 48)


def sigma_cm2(enu_mev, iso: Isotope, model: CrossSectionModel | None = None, threshold_kev: float = 0.0,
              efficiency=None, nu_pdg=None):
    """Total cross section (cm^2) for recoils above ``threshold_kev``, by Gauss-Legendre quadrature in T.

    ``efficiency``, a function of T in keVnr, weights the recoils (detection efficiency). BSM models use
    composite panels refined towards the threshold (see :func:`_composite_nodes`, :func:`_bsm_panels`).
    """
    model = model or CrossSectionModel()
    m = model.mass_mev(iso)
    enu = np.atleast_1d(np.asarray(enu_mev, dtype=np.float64))
    tmax = t_max_kev(enu, m)
    lo = np.full_like(tmax, float(threshold_kev))
    hi = np.maximum(tmax, lo)
    if model.is_bsm:
        nodes, weights = _composite_nodes(_bsm_panels(model, iso, float(threshold_kev), float(np.max(hi - lo))))
        t = lo[:, None] + (hi - lo)[:, None] * nodes[None, :]
        integrand = dsigma_dt_cm2_per_kev(enu[:, None], t, iso, model, nu_pdg)
        if efficiency is not None:
            integrand = integrand * efficiency(t)
        out = (hi - lo) * (integrand @ weights)
        return out if np.ndim(enu_mev) else float(out[0])
    half = 0.5 * (hi - lo)
    t = (lo + half)[:, None] + half[:, None] * _GL_NODES[None, :]
    integrand = dsigma_dt_cm2_per_kev(enu[:, None], t, iso, model)
    if efficiency is not None:
        integrand = integrand * efficiency(t)
    out = half * (integrand @ _GL_WEIGHTS)
    return out if np.ndim(enu_mev) else float(out[0])
