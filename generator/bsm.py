"""Beyond-Standard-Model CEvNS cross sections: the numpy reference for the BSM sampler and for reweighting.

Every term is written as a correction to the SM form of :mod:`generator.cross_section`,

    dsigma/dT = (G_F^2 M / pi) { A(T) K(T, E) + B(T) M T / (2 E^2) + C(T) [1/T - 1/E + T/(4 E^2)] },

with K = 1 - T/E - M T/(2E^2) + T^2/(2E^2) the SM kinematic factor, T and E in MeV and

A  vector part (interferes with the SM): for a neutrino of flavour a,
   A = Q_a^2 + sum_{b != a} |Q_ab|^2,
   Q_a  = Z (g_V^p + dg_s + 2 eps^u_aa + eps^d_aa - Q_CR,a) F_p + N (g_V^n + eps^u_aa + 2 eps^d_aa) F_n
          + q_nu q_q g_Z'^2 3 (Z F_p + N F_n) / (sqrt2 G_F (2 M T + m_Z'^2)),
   Q_ab = Z (2 eps^u_ab + eps^d_ab) F_p + N (eps^u_ab + 2 eps^d_ab) F_n        (flavour-changing NSI),
B  light scalar (no interference with the SM: it flips the neutrino helicity):
   B = [g_phi^2 (c_p Z F_p + c_n N F_n) / (sqrt2 G_F (2 M T + m_phi^2))]^2,
C  neutrino magnetic moment (helicity flip, incoherent with everything else):
   C = (pi alpha^2 / m_e^2) / (G_F^2 M / pi) * mu_a^2 Z^2 F_p^2     (mu_a in Bohr magnetons), in MeV.

Sources and conventions (each checked against the cited form; see tests/generator/test_bsm.py):

- Vector NSI: Barranco, Miranda & Rashba, JHEP 12 (2005) 021, eq. for dsigma/dT of nu_a:
  [Z(g_V^p + 2eps^u_aa + eps^d_aa) + N(g_V^n + eps^u_aa + 2eps^d_aa)]^2 + sum_{b!=a}[Z(2eps^u_ab + eps^d_ab)
  + N(eps^u_ab + 2eps^d_ab)]^2 with g_V^n = -1/2, i.e. eps^V adds to the quark couplings g_V^q of the
  SM operator (G_F/sqrt2)[nu gamma (1-gamma5) nu][q gamma (g_V^q) q]; the form factors F_p, F_n multiply the
  proton and neutron sums as in the SM term. eps is real and symmetric here (eps_ab = eps_ba), so nu and
  anti-nu see the same vector NSI.
- Light vector Z' with L = g Z'_mu (q_nu nu_L gamma^mu nu_L + q_q sum_q q gamma^mu q): t-channel exchange at
  Q^2 = -t = 2 M T adds g^2 q_nu q_q / (sqrt2 G_F (Q^2 + m^2)) to every g_V^q, i.e. 3 of it per nucleon.
  This is Cerdeno et al., JHEP 05 (2016) 118 (arXiv:1604.01025), Q_W -> Q_W - 3A sqrt2 g^2/(G_F(q^2+m^2)) with
  Q_W = -2 Q_v; for same-sign couplings it interferes destructively with the (neutron-dominated, negative)
  SM Q_v. For m^2 >> 2 M T it is the contact NSI eps^u = eps^d = g^2 q_nu q_q / (sqrt2 G_F m^2).
- Light scalar: dsigma/dT = g^4 Q_phi^2 M^2 T / (4 pi E^2 (2 M T + m^2)^2) F^2 (Cerdeno et al. 2016 Table IV;
  Dent et al., PRD 96 (2017) 095007, arXiv:1701.07443, eq. 3.6; Farzan et al., JHEP 05 (2018) 066) with the
  nucleus' scalar charge for a universal quark coupling Q_phi = 14 A + 1.1 Z = 14 N + 15.1 Z (Cerdeno et al.),
  i.e. c_p = 15.1, c_n = 14.0 per proton / neutron. No interference with the SM (massless neutrinos).
- Magnetic moment: dsigma/dT = (pi alpha^2 mu^2 / m_e^2) Z^2 F_p^2 [1/T - 1/E + T/(4E^2)] (Vogel & Engel,
  PRD 39 (1989) 3378 for electrons, (1/T - 1/E); the coherent nuclear form with the T/(4E^2) term as in
  Kosmas et al., PRD 92 (2015) 013011 and COHERENT's dukecevns `diffxscnmag`). The T/(4E^2) term is < 1e-6
  of the 1/T term for CEvNS recoils. mu in units of mu_B = e hbar / (2 m_e); the same for nu and anti-nu.
- Charge radius: g_V^p -> g_V^p - Q_CR,a with Q_CR,a = sqrt2 pi alpha <r^2_a> / (3 G_F) (Cadeddu et al.,
  PRD 98 (2018) 113010, arXiv:1810.05606; Kouzakov & Studenikin). <r^2> in cm^2 with the sign convention in
  which the SM values are negative (Bernabeu et al.: <r^2_nu_e> = -0.83e-32 cm^2), so the SM radii raise
  g_V^p. 1e-32 cm^2 shifts g_V^p by 0.0238. The shift is applied with the same sign to nu_a and anti-nu_a:
  for a spin-0 (pure vector) coherent response the charge-radius operator and the Z operator change sign
  together under nu -> anti-nu, so the cross sections are equal (some codes flip the sign for anti-nu by
  writing <r^2_anti-nu> = -<r^2_nu>; see the README section on BSM hypotheses).
  With the 'radiative' coupling set the SM g_V^p = 0.0298 already contains Erler's nu_mu radius; the values
  here are then deviations from it.
- sin^2 theta_W: a hypothesis value s^2 shifts g_V^p by -2 (s^2 - s^2_physics) (exact for tree-level
  couplings; the linear response of the radiatively corrected g_V^p = rho(1/2 - 2 kappa s^2) + ... otherwise).
  The neutron radius is a [physics] parameter (physics.neutron_rms_radius_fm), reachable from a hypothesis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .constants import FERMI_CONSTANT_MEV2, HBARC_MEV_CM, M_ELECTRON_MEV
from .kinematics import kinematic_factor, momentum_transfer_fm, t_max_kev

__all__ = [
    "ALPHA_EM",
    "FLAVOURS",
    "NSI_PAIRS",
    "BSMHypothesis",
    "bsm_charges",
    "bsm_charges_split",
    "charge_radius_shift",
    "dsigma_dt_bsm",
    "flavour_index",
    "magnetic_prefactor_cm2",
]

# Fine-structure constant, CODATA 2018: 1/137.035999084.
ALPHA_EM = 7.2973525693e-3
SQRT2 = math.sqrt(2.0)
FLAVOURS = ("e", "mu", "tau")
NSI_PAIRS = ("ee", "mumu", "tautau", "emu", "etau", "mutau")
_PAIR_INDEX = {"ee": (0, 0), "mumu": (1, 1), "tautau": (2, 2), "emu": (0, 1), "etau": (0, 2), "mutau": (1, 2)}
# Scalar charge per proton / neutron for a universal scalar coupling to quarks: Q_phi = 14 A + 1.1 Z
# (Cerdeno et al., JHEP 05 (2016) 118, Table IV).
SCALAR_CHARGE_PROTON = 15.1
SCALAR_CHARGE_NEUTRON = 14.0


def flavour_index(nu_pdg) -> int:
    """0, 1, 2 for nu_e, nu_mu, nu_tau (and their antiparticles)."""
    a = abs(int(nu_pdg))
    if a not in (12, 14, 16):
        raise ValueError(f"nu_pdg {nu_pdg} is not a neutrino PDG code (12, 14, 16 and negatives)")
    return (a - 12) // 2


def magnetic_prefactor_cm2() -> float:
    """pi alpha^2 / m_e^2 in cm^2 (multiplies mu^2 Z^2 (1/T - 1/E) with T, E in MeV)."""
    return math.pi * ALPHA_EM**2 * HBARC_MEV_CM**2 / M_ELECTRON_MEV**2


def charge_radius_shift(r2_cm2) -> float:
    """Q_CR = sqrt2 pi alpha <r^2> / (3 G_F) (dimensionless) for <r^2> in cm^2."""
    r2_mev = np.asarray(r2_cm2, dtype=np.float64) / HBARC_MEV_CM**2
    return SQRT2 * math.pi * ALPHA_EM * r2_mev / (3.0 * FERMI_CONSTANT_MEV2)


def _sym3(table) -> tuple:
    m = np.zeros((3, 3))
    for k, v in (table or {}).items():
        i, j = _PAIR_INDEX[k]
        m[i, j] = m[j, i] = float(v)
    return tuple(map(tuple, m))


def _per_flavour(table) -> tuple:
    return tuple(float((table or {}).get(f, 0.0)) for f in FLAVOURS)


@dataclass(frozen=True)
class BSMHypothesis:
    """BSM parameters of a cross-section model; all zero (the default) is the SM.

    eps_u, eps_d: 3x3 real symmetric NSI matrices (flavour order e, mu, tau) as tuples of tuples.
    zprime_*: universal light vector (mass MeV, coupling g, neutrino and quark charges).
    scalar_*: universal light scalar (mass MeV, coupling g, scalar charges per proton / neutron).
    magnetic_moment_mub: (e, mu, tau) in Bohr magnetons. charge_radius_cm2: (e, mu, tau) <r^2> in cm^2.
    sin2_theta_w: None, or the hypothesis' weak mixing angle (shifts g_V^p by -2 (s^2 - physics s^2)).
    """

    eps_u: tuple = field(default_factory=lambda: _sym3(None))
    eps_d: tuple = field(default_factory=lambda: _sym3(None))
    zprime_mass_mev: float = 0.0
    zprime_coupling: float = 0.0
    zprime_nu_charge: float = 1.0
    zprime_quark_charge: float = 1.0
    scalar_mass_mev: float = 0.0
    scalar_coupling: float = 0.0
    scalar_charge_proton: float = SCALAR_CHARGE_PROTON
    scalar_charge_neutron: float = SCALAR_CHARGE_NEUTRON
    magnetic_moment_mub: tuple = (0.0, 0.0, 0.0)
    charge_radius_cm2: tuple = (0.0, 0.0, 0.0)
    sin2_theta_w: float | None = None

    def __post_init__(self):
        if self.zprime_coupling != 0 and not self.zprime_mass_mev > 0:
            raise ValueError("a Z' coupling needs a Z' mass > 0 MeV")
        if self.scalar_coupling != 0 and not self.scalar_mass_mev > 0:
            raise ValueError("a scalar coupling needs a scalar mass > 0 MeV")

    @classmethod
    def build(cls, *, nsi_eps_u=None, nsi_eps_d=None, magnetic_moment_mub=None, charge_radius_cm2=None,
              **kw) -> BSMHypothesis:
        """From per-pair / per-flavour tables: nsi_eps_u={'ee': 0.1, 'emu': 0.05}, magnetic_moment_mub={'e': 1e-10}."""
        for name, table, allowed in (("nsi_eps_u", nsi_eps_u, NSI_PAIRS), ("nsi_eps_d", nsi_eps_d, NSI_PAIRS),
                                     ("magnetic_moment_mub", magnetic_moment_mub, FLAVOURS),
                                     ("charge_radius_cm2", charge_radius_cm2, FLAVOURS)):
            bad = sorted(set(table or {}) - set(allowed))
            if bad:
                raise ValueError(f"{name}: unknown key(s) {', '.join(bad)}; allowed: {', '.join(allowed)}")
        return cls(eps_u=_sym3(nsi_eps_u), eps_d=_sym3(nsi_eps_d), magnetic_moment_mub=_per_flavour(
            magnetic_moment_mub), charge_radius_cm2=_per_flavour(charge_radius_cm2), **kw)

    # -- what is switched on ---------------------------------------------------------------------------
    @property
    def has_nsi(self) -> bool:
        return bool(np.any(np.asarray(self.eps_u)) or np.any(np.asarray(self.eps_d)))

    @property
    def has_zprime(self) -> bool:
        return self.zprime_coupling != 0 and self.zprime_nu_charge * self.zprime_quark_charge != 0

    @property
    def has_scalar(self) -> bool:
        return self.scalar_coupling != 0

    @property
    def has_magnetic_moment(self) -> bool:
        return any(m != 0 for m in self.magnetic_moment_mub)

    @property
    def has_charge_radius(self) -> bool:
        return any(r != 0 for r in self.charge_radius_cm2)

    @property
    def is_sm(self) -> bool:
        return not (self.has_nsi or self.has_zprime or self.has_scalar or self.has_magnetic_moment
                    or self.has_charge_radius or self.sin2_theta_w is not None)

    @property
    def flavour_dependent(self) -> bool:
        return self.has_nsi or self.has_magnetic_moment or self.has_charge_radius

    def mediator_scales_mev2(self) -> list[float]:
        """Squared masses of the light mediators switched on (the q^2 scales of the propagators)."""
        out = []
        if self.has_zprime:
            out.append(self.zprime_mass_mev**2)
        if self.has_scalar:
            out.append(self.scalar_mass_mev**2)
        return out

    def summary(self) -> dict:
        """Only the non-zero parameters, for metadata and printing."""
        d: dict = {}
        for name, mat in (("nsi_eps_u", self.eps_u), ("nsi_eps_d", self.eps_d)):
            t = {k: float(mat[i][j]) for k, (i, j) in _PAIR_INDEX.items() if mat[i][j] != 0}
            if t:
                d[name] = t
        if self.has_zprime:
            d.update(zprime_mass_mev=self.zprime_mass_mev, zprime_coupling=self.zprime_coupling,
                     zprime_nu_charge=self.zprime_nu_charge, zprime_quark_charge=self.zprime_quark_charge)
        if self.has_scalar:
            d.update(scalar_mass_mev=self.scalar_mass_mev, scalar_coupling=self.scalar_coupling,
                     scalar_charge_proton=self.scalar_charge_proton,
                     scalar_charge_neutron=self.scalar_charge_neutron)
        for name, vals in (("magnetic_moment_mub", self.magnetic_moment_mub),
                           ("charge_radius_cm2", self.charge_radius_cm2)):
            t = {f: float(v) for f, v in zip(FLAVOURS, vals, strict=True) if v != 0}
            if t:
                d[name] = t
        if self.sin2_theta_w is not None:
            d["sin2_theta_w"] = self.sin2_theta_w
        return d


def _needs_flavour(bsm: BSMHypothesis, nu_pdg):
    if nu_pdg is None:
        if bsm.flavour_dependent:
            raise ValueError("this BSM hypothesis depends on the neutrino flavour: pass nu_pdg")
        return 0
    return flavour_index(nu_pdg)


def bsm_charges(t_kev, iso, model, nu_pdg=None):
    """(A, B, C) of the module docstring at recoil ``t_kev`` (keV) for a neutrino ``nu_pdg`` on ``iso``.

    A and B are dimensionless; C is in MeV (it multiplies 1/T - 1/E + T/(4E^2) with T, E in MeV).
    """
    qa, incoh, b_val, c_val = bsm_charges_split(t_kev, iso, model, nu_pdg)
    return qa * qa + incoh, b_val, c_val


def bsm_charges_split(t_kev, iso, model, nu_pdg=None):
    """(Q_a, sum_b |Q_ab|^2, B, C): A = Q_a^2 + sum_b |Q_ab|^2 with the signed coherent charge Q_a apart.

    Q_a is smooth through the zeros of a destructive interference, where Q_a^2 is not linear: tables of Q_a
    interpolate well there.
    """
    bsm: BSMHypothesis = model.bsm
    a_idx = _needs_flavour(bsm, nu_pdg)
    t = np.asarray(t_kev, dtype=np.float64)
    m = model.mass_mev(iso)
    q = momentum_transfer_fm(t, m)
    fp = model.form_factor.proton(q, iso.a)
    fn = model.form_factor.neutron(q, iso.a)
    z, n = iso.z, iso.n
    gvp, gvn = model.couplings
    if bsm.sin2_theta_w is not None:
        gvp = gvp - 2.0 * (bsm.sin2_theta_w - model.sin2_theta_w)
    gvp = gvp - float(charge_radius_shift(bsm.charge_radius_cm2[a_idx]))
    eu, ed = np.asarray(bsm.eps_u), np.asarray(bsm.eps_d)
    zp = z * fp
    nn = n * fn
    qa = zp * (gvp + 2.0 * eu[a_idx, a_idx] + ed[a_idx, a_idx]) + nn * (gvn + eu[a_idx, a_idx] + 2.0 * ed[a_idx, a_idx])
    q2 = 2.0 * m * t * 1e-3  # -t = 2 M T (MeV^2), the mediators' propagator argument
    if bsm.has_zprime:
        g2 = bsm.zprime_coupling**2 * bsm.zprime_nu_charge * bsm.zprime_quark_charge
        qa = qa + 3.0 * g2 * (zp + nn) / (SQRT2 * FERMI_CONSTANT_MEV2 * (q2 + bsm.zprime_mass_mev**2))
    qa = qa + np.zeros_like(t)  # broadcast a scalar charge (no form factor) to the shape of T
    incoh = np.zeros_like(qa)
    for b_idx in range(3):
        if b_idx != a_idx and (eu[a_idx, b_idx] or ed[a_idx, b_idx]):
            qab = zp * (2.0 * eu[a_idx, b_idx] + ed[a_idx, b_idx]) + nn * (eu[a_idx, b_idx] + 2.0 * ed[a_idx, b_idx])
            incoh = incoh + qab * qab
    b_val = np.zeros_like(qa)
    if bsm.has_scalar:
        qs = bsm.scalar_coupling**2 * (bsm.scalar_charge_proton * zp + bsm.scalar_charge_neutron * nn) / (
            SQRT2 * FERMI_CONSTANT_MEV2 * (q2 + bsm.scalar_mass_mev**2))
        b_val = qs * qs
    c_val = np.zeros_like(qa)
    mu = bsm.magnetic_moment_mub[a_idx]
    if mu != 0:
        # (pi alpha^2 / m_e^2) / (G_F^2 M / pi), in MeV.
        ratio = math.pi**2 * ALPHA_EM**2 / (M_ELECTRON_MEV**2 * FERMI_CONSTANT_MEV2**2 * m)
        c_val = ratio * mu * mu * zp * zp
    return qa, incoh, b_val, c_val


def dsigma_dt_bsm(enu_mev, t_kev, iso, model, nu_pdg=None):
    """dsigma/dT in cm^2/keV under ``model.bsm`` (broadcasts over E and T); 0 above T_max."""
    m = model.mass_mev(iso)
    enu = np.asarray(enu_mev, dtype=np.float64)
    t = np.asarray(t_kev, dtype=np.float64)
    a_val, b_val, c_val = bsm_charges(t, iso, model, nu_pdg)
    pref = FERMI_CONSTANT_MEV2**2 * m / np.pi * HBARC_MEV_CM**2 * 1e-3
    out = a_val * kinematic_factor(enu, t, m)
    es = np.where(enu > 0, enu, 1.0)
    tm = t * 1e-3
    inside = (enu > 0) & (t >= 0) & (t <= t_max_kev(enu, m))
    if model.bsm.has_scalar:
        out = out + np.where(inside, b_val * m * tm / (2.0 * es * es), 0.0)
    if np.any(c_val):
        with np.errstate(divide="ignore"):
            kin_mag = np.where(tm > 0, 1.0 / np.where(tm > 0, tm, 1.0) - 1.0 / es + tm / (4.0 * es * es), np.inf)
        out = out + np.where(inside & (c_val > 0), c_val * kin_mag, 0.0)
    return pref * out
