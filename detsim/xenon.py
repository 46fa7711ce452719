"""Two-phase liquid-xenon TPC response (XENONnT, LZ, PandaX-4T, RED-100).

Microphysics follows NEST v2 (``NESTCollaboration/nest``, ``src/NEST.cpp``; model review
Szydagis et al., arXiv:2211.10726); every formula below was read in the NEST source and checked
number for number against NEST's Python bindings (nestpy 2.1.3, tests/detsim/test_xenon.py).

Mean yields
    NR (``GetYieldNR``, ``default_NRYieldsParam`` = alpha..kappa2):
        N_q = alpha E^beta,  TI = gamma F^delta (rho / 2.90)^0.3,
        Q_y = [1 - (1 + (E/zeta)^eta)^-kappa1] / [TI (E + epsilon)^p],  L_y = N_q/E - Q_y (both >= 0),
        N_e = Q_y E s,  N_ph = L_y E s [1 - (1 + (E/theta)^iota)^-kappa2],  s = sqrt(M_Xe / A)
        (NEST's per-isotope scale, M_Xe = 131.293 g/mol), exciton/ion split
        N_i = (4/TI)(exp(N_e TI/4) - 1), N_ex = N_e + N_ph - N_i (NEST clamps N_ex/N_i <= 1 below 1 keV
        and >= alpha_W above 100 keV); yields vanish when N_e + N_ph < 1 (``YieldResultValidity``).
    ER (``GetYieldBetaGR`` with all ``ERYieldsParam`` = -1, NEST's default beta model, Rischbieter,
        arXiv:1910.04211): field-dependent sigmoids for Q_y, N_q = E / W, N_ex/N_i = alpha_W erf(0.05 E).
    W (``WorkFunction``): W = (18.7263 - 1.01e-23 n_e) x 1.1716263 eV (``OldW13eV``, the default in
        the XENONnT and LZ files; n_e = rho N_A Z / M), alpha_W = 0.067366 + 0.039693 rho.

Fluctuations (``GetQuanta``, ``default_NRERWidthsParam``)
    NR: N_i ~ Gauss(N_q a, sqrt(F_i N_q a)), N_ex ~ Gauss(N_q a x, sqrt(F_ex N_q a x)) (rounded, >= 0),
        a = 1/(1 + x), x = N_ex/N_i, F_i = F_ex = 0.4.
    ER: N_q ~ Gauss(N_q, sqrt(F N_q)) with F = F_LXe(rho) + 0.001 sqrt(N_q E_drift), N_i ~ Binom(N_q, a).
    Recombination: r = 1 - (1 + x) N_e/N_q; N_e ~ SkewGauss(mean (1 - r) N_i, variance
        r(1 - r) N_i + omega^2 N_i^2, skewness alpha_s) truncated to [0, N_i]; N_ph = N_i + N_ex - N_e.
        NR omega = A' exp(-(f_e - xi)^2 / 2 w^2), f_e = N_e/N_q, (A', xi, w) = (0.04, 0.50, 0.19),
        alpha_s = 2.25; ER omega is a skewed Gaussian in f_e (0.45, 0.205, -0.2) with a field-dependent
        amplitude and the LUX skewness model. The skewness is 0 outside 50-4000 V/cm or N_q > 10^4.
        The location and scale of the skew-normal are corrected so mean and variance are as written.
    Known difference: NR means and widths and ER means agree with nestpy 2.1.3 (NEST v2.4) to <1 %; ER widths
    agree up to ~300 V/cm but are 10-20 % wider than nestpy's at 0.35-3 kV/cm, where the ER omega amplitude of
    the NEST version inside nestpy levels off at ~0.070 instead of the 0.086 of the formula read in the source
    (NEST v2.4.0 as transcribed by XENONnT/appletree). ER is not used for CEvNS signals.

Detector (standard two-phase TPC relations, as in NEST ``GetS1``/``GetS2``)
    S1: N_phd ~ Binom(N_ph, g1_phd); each detected photon gives 1 + Bernoulli(P_dphe) PE, each PE seen with
        the single-PE acceptance (NEST sPEeff, raised by PMT occupancy as in GetS1); area = N_PE +
        Gauss(0, sigma_spe sqrt(N_PE)); an n-fold coincidence is required, drawing a PMT (uniform among
        n_pmts) for each detected photon; s1_pass = coincidence and S1 >= s1_threshold_pe.
        g1[PE/photon] = g1_phd (1 + P_dphe).
    S2: t_drift = (z_gate - z) / v_drift, z_gate = +height/2 of the target geometry (liquid surface);
        survivors ~ Binom(N_e, exp(-t/tau_e)); extracted ~ Binom(., eps_ext); S2 = sum of extracted
        single-electron areas ~ Gauss(G, sigma_G) each, so g2 = eps_ext G. triggered = S2 >= s2_threshold_pe;
        s2_only = triggered and not s1_pass.

Per-event sampling runs in numba kernels that take the chunk's numpy Generator (same stream as numpy);
``sample_quanta_numpy`` is the plain-numpy reference the kernels are tested against.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import types
from numba.extending import intrinsic
from scipy.special import erf

from generator._kernels import NO_REFCOUNT
from generator._rng import binomial, local_state, standard_normal, state_from, uniform
from generator._validate import ConfigError, option

from .chain import Step, target_geometry

__all__ = [
    "NEST_ER_WIDTHS", "NEST_NR_FIELD_RANGE_V_CM", "NEST_NR_WIDTHS", "NEST_NR_YIELDS", "QuantaModel", "XenonConfig",
    "er_mean_yields", "mean_yields", "metadata", "nr_mean_yields", "quanta_model", "quanta_moments",
    "quanta_parameters", "sample_quanta", "sample_quanta_numpy", "section_class", "steps", "work_function",
    "xenon_steps",
]

# --- constants (NEST NEST.hh / NEST.cpp, read at NESTCollaboration/nest 2024-25) -----------------------------
XENON_REF_DENSITY = 2.90       # g/cm^3, NEST ``DENSITY`` in the Thomas-Imel density scaling
XENON_MOLAR_MASS = 131.293     # g/mol, natural xenon (NEST default molar mass)
XENON_Z = 54.0
NEST_AVOGADRO = 6.0221409e23   # NEST ``NEST_AVO``
OLD_W_FACTOR = 1.1716263232    # NEST ``InfraredER`` applied when OldW13eV (classic ~13.4 eV W) is on
HIGH_E_NR_KEV = 330.0          # NEST warns above the AmBe endpoint ("No data out here")
# NEST default_NRYieldsParam: alpha, beta, gamma, delta, epsilon, zeta, eta, theta, iota, p, kappa1, kappa2
NEST_NR_YIELDS = (11.0, 1.1, 0.0480, -0.0533, 12.6, 0.3, 2.0, 0.3, 2.0, 0.5, 1.0, 1.0)
# NEST default_NRERWidthsParam[0:6]: Fano ions, Fano excitons, A', xi, omega, skewness (NR)
NEST_NR_WIDTHS = (0.4, 0.4, 0.04, 0.5, 0.19, 2.25)
# NEST default_NRERWidthsParam[6:11] (ER): Fano (<0: field-dependent slope), min. omega amplitude, centre, width, skew
NEST_ER_WIDTHS = (-0.001, 0.046452, 0.45, 0.205, -0.2)
# Range of drift fields where the NEST NR model is backed by data: the NR fits of arXiv:2211.10726 use data from
# tens of V/cm (XENON10/LUX/XENONnT at 23 V/cm) to a few kV/cm; NEST's own skewness model covers 50-4000 V/cm and
# execNEST warns at zero field and above 12 kV/cm. Outside this range we warn; a field <= 0 is an error.
NEST_NR_FIELD_RANGE_V_CM = (10.0, 4000.0)
SKEW_FIELD_RANGE_V_CM = (50.0, 4000.0)  # NEST GetQuanta: skewness 0 outside this range or for N_q > 1e4
SKEW_MAX_QUANTA = 1e4

RECOIL_NR, RECOIL_ER = 0, 1


# --- configuration ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class XenonConfig:
    """[xenon] table of a detector preset."""

    drift_field_v_cm: float = option(100.0, unit="V/cm", doc="drift field in the liquid", gt=0)
    density_g_cm3: float = option(2.90, unit="g/cm3", doc="liquid-xenon density (NEST SetDensity(T, p))", gt=0)
    w_value_ev: float | None = option(None, unit="eV", doc="work function W (default: NEST's density-dependent "
                                      "value with OldW13eV, ~13.4 eV)", gt=0)
    nr_yield_params: list[float] = option(default_factory=lambda: NEST_NR_YIELDS,
                                          doc="NEST NRYieldsParam (12 values: alpha..kappa2)")
    nr_width_params: list[float] = option(default_factory=lambda: NEST_NR_WIDTHS,
                                          doc="NEST NRERWidthsParam[0:6]: Fano ions, Fano excitons, A', xi, "
                                          "omega, skewness")
    g1_phd: float = option(0.12, unit="phd/photon", doc="photon detection efficiency g1 (detected photons)",
                           gt=0, le=1)
    p_dphe: float = option(0.2, doc="double-photoelectron emission probability", ge=0, lt=1)
    spe_efficiency: float = option(1.0, doc="single-photoelectron acceptance (NEST sPEeff): a detected photon's PE "
                                   "is seen with this probability, raised by PMT occupancy as in NEST's GetS1; "
                                   "applied on top of g1_phd", gt=0, le=1)
    spe_resolution: float = option(0.4, unit="PE", doc="single-PE area resolution (Gaussian sigma)", ge=0)
    n_pmts: int = option(400, doc="number of active PMTs (S1 coincidence)", ge=1)
    s1_coincidence: int = option(3, doc="S1 needs photons in at least this many PMTs", ge=1)
    s1_threshold_pe: float = option(0.0, unit="PE", doc="S1 area threshold", ge=0)
    drift_velocity_cm_us: float = option(0.15, unit="cm/us", doc="electron drift velocity", gt=0)
    electron_lifetime_us: float = option(10000.0, unit="us", doc="free-electron lifetime (> 0; inf allowed)", gt=0)
    extraction_efficiency: float = option(0.75, doc="liquid-to-gas electron extraction efficiency", gt=0, le=1)
    se_gain_pe: float = option(30.0, unit="PE/electron", doc="mean S2 area of one extracted electron", gt=0)
    se_gain_sigma_pe: float = option(6.0, unit="PE", doc="Gaussian spread of one electron's S2 area", ge=0)
    s2_threshold_pe: float = option(100.0, unit="PE", doc="S2 threshold (trigger)", ge=0)
    gate_z_cm: float | None = option(None, unit="cm", doc="z of the liquid surface/gate (default +height/2)")

    def __post_init__(self):
        f = self.drift_field_v_cm
        lo, hi = NEST_NR_FIELD_RANGE_V_CM
        if not lo <= f <= hi:
            warnings.warn(f"xenon.drift_field_v_cm = {f:g} V/cm is outside the range where NEST's NR yield model "
                          f"is validated ({lo:g}-{hi:g} V/cm); yields are extrapolated", stacklevel=2)
        if len(self.nr_yield_params) != 12:
            raise ConfigError(f"xenon.nr_yield_params: NEST's NR yield model needs 12 values, got "
                              f"{len(self.nr_yield_params)}")
        if len(self.nr_width_params) != 6:
            raise ConfigError(f"xenon.nr_width_params: need 6 values (Fano ions, Fano excitons, A', xi, omega, "
                              f"skewness), got {len(self.nr_width_params)}")
        if self.nr_width_params[0] < 0 or self.nr_width_params[1] < 0:
            raise ConfigError("xenon.nr_width_params: the Fano factors must be >= 0")
        if self.s1_coincidence > self.n_pmts:
            raise ConfigError(f"xenon.s1_coincidence = {self.s1_coincidence}: more than n_pmts = {self.n_pmts}")

    @property
    def g1_pe(self) -> float:
        """g1 in PE per photon: g1_phd (eff + P_dphe (2 eff - eff^2)) with eff the SPE acceptance (the second PE of
        a photon is seen when the first is, or on its own draw: NEST GetS1); g1_phd (1 + P_dphe) at eff = 1."""
        eff = self.spe_efficiency
        return self.g1_phd * (eff + self.p_dphe * (2.0 * eff - eff * eff))

    @property
    def g2_pe(self) -> float:
        """g2 in PE per produced (surviving) electron: extraction efficiency x single-electron gain."""
        return self.extraction_efficiency * self.se_gain_pe

    @property
    def w_ev(self) -> float:
        return self.w_value_ev if self.w_value_ev is not None else work_function(self.density_g_cm3)[0]


section_class = XenonConfig


# --- mean yields (plain numpy) -------------------------------------------------------------------------------

def work_function(density=XENON_REF_DENSITY, old_w=True):
    """NEST ``WorkFunction``: (W in eV, exciton/ion ratio alpha_W) at liquid density rho [g/cm^3]."""
    alpha = 0.067366 + density * 0.039693
    e_density = density / XENON_MOLAR_MASS * NEST_AVOGADRO * XENON_Z
    w = 18.7263 - 1.01e-23 * e_density
    return (w * OLD_W_FACTOR if old_w else w), alpha


def nr_scale_free_yields(e_kev, field_v_cm, density=XENON_REF_DENSITY, params=NEST_NR_YIELDS):
    """The parts of NEST v2's NR mean yields that do not depend on the isotope: (Q_e E, L_ph E, TI).

    N_e = scale Q_e E and N_ph = scale L_ph E with NEST's isotope scale sqrt(M/A) (see :func:`nr_mean_yields`);
    Q_e and L_ph are the charge and light yields per keV, clipped at 0, L_ph with its low-energy roll-off.
    """
    a, b, g, d, eps, zeta, eta, theta, iota, p, k1, k2 = (float(v) for v in params)
    e = np.maximum(np.asarray(e_kev, dtype=np.float64), 0.0)
    ti = g * float(field_v_cm) ** d * (density / XENON_REF_DENSITY) ** 0.3
    with np.errstate(divide="ignore", invalid="ignore"):
        nq = a * e**b
        qy = 1.0 / (ti * (e + eps) ** p) * (1.0 - (1.0 + (e / zeta) ** eta) ** (-k1))
        ly = np.where(e > 0, nq / np.where(e > 0, e, 1.0), 0.0) - qy
    qe = np.maximum(qy, 0.0) * e
    lp = np.maximum(ly, 0.0) * e * (1.0 - (1.0 + (e / theta) ** iota) ** (-k2))
    return qe, lp, ti


def nr_mean_yields(e_kev, field_v_cm, density=XENON_REF_DENSITY, mass_number=None, params=NEST_NR_YIELDS):
    """NEST v2 NR mean yields. Returns (N_e, N_ph, N_ex/N_i) arrays (quanta per event, not per keV).

    ``mass_number`` (per event or scalar; None or 0: natural molar mass) applies NEST's sqrt(M/A) scale,
    with A truncated to an integer as NEST does.
    """
    e = np.maximum(np.asarray(e_kev, dtype=np.float64), 0.0)
    if mass_number is None:
        scale = np.ones_like(e)
    else:
        am = np.trunc(np.asarray(mass_number, dtype=np.float64))
        scale = np.where(am > 0, np.sqrt(XENON_MOLAR_MASS / np.where(am > 0, am, 1.0)), 1.0) * np.ones_like(e)
    qe, lp, ti = nr_scale_free_yields(e, field_v_cm, density, params)
    ne = qe * scale
    nph = lp * scale
    nq = nph + ne
    with np.errstate(divide="ignore", invalid="ignore"):
        ni = 4.0 / ti * np.expm1(ne * ti / 4.0)
        nex = nq - ni
        ratio = np.where(ni > 0, nex / np.where(ni > 0, ni, 1.0), 0.0)
    alpha_w = work_function(density)[1]
    ratio = np.where((ratio < alpha_w) & (e > 100.0), alpha_w, ratio)
    ratio = np.where((ratio > 1.0) & (e < 1.0), 1.0, ratio)
    # NEST YieldResultValidity: E < W / L, i.e. fewer than one quantum in total, gives no yield.
    dead = nq < 1.0
    return np.where(dead, 0.0, ne), np.where(dead, 0.0, nph), ratio


def er_mean_yields(e_kev, field_v_cm, density=XENON_REF_DENSITY, w_ev=None):
    """NEST v2 beta/ER mean yields (GetYieldBetaGR, default parameters). Returns (N_e, N_ph, N_ex/N_i)."""
    w_default, alpha = work_function(density)
    w = w_default if w_ev is None else w_ev
    e = np.maximum(np.asarray(e_kev, dtype=np.float64), 0.0)
    f = float(field_v_cm)
    with np.errstate(divide="ignore", invalid="ignore"):
        nq = e * 1e3 / w
        e_safe = np.where(e > 0, e, 1.0)
        m1 = 30.66 + (6.1978 - 30.66) / (1.0 + (f / 73.855) ** 2.0318) ** 0.41883
        m5 = nq / e_safe / (1.0 + alpha * erf(0.05 * e)) - m1
        m10 = 0.0508273937 + (0.1166087199 - 0.0508273937) / (1.0 + (f / 1.39260460e2) ** (-0.65763592))
        m3 = math.log10(f) * 0.13946236 + 0.52561312
        m4 = 1.82217496 + (2.82528809 - 1.82217496) / (1.0 + (f / 144.65029656) ** (-2.80532006))
        m7 = 7.02921301 + (98.27936794 - 7.02921301) / (1.0 + (f / 256.48156448) ** 1.29119251)
        qy = (m1 + (77.2931084 - m1) / (1.0 + (e / m3) ** m4) ** 0.3344049589
              + m5 - m5 / (1.0 + (e / m7) ** 4.285781736) ** m10)
        c_ti = (1.0 / XENON_REF_DENSITY) ** 0.3
        c_ni = (1.0 / XENON_REF_DENSITY) ** 1.4
        c_ol = (1.0 / XENON_REF_DENSITY) ** -1.7 / math.log(1.0 + c_ti * c_ni * XENON_REF_DENSITY**1.7)
        qy = qy * c_ol * math.log(1.0 + c_ti * c_ni * density**1.7) * density**-1.7
        ne = qy * e
        nph = nq - ne
    ne = np.maximum(np.where(e > 0, ne, 0.0), 0.0)
    nph = np.maximum(np.where(e > 0, nph, 0.0), 0.0)
    dead = e < 1e-3 * w
    return np.where(dead, 0.0, ne), np.where(dead, 0.0, nph), alpha * erf(0.05 * e)


def _fano_lxe(density):
    """NEST FanoER density part (~0.03 in the liquid, Dahl thesis)."""
    return 0.12707 - 0.029623 * density - 0.0057042 * density**2 + 0.0015957 * density**3


def quanta_parameters(mean_ne, mean_nph, exciton_ratio, is_er, field_v_cm, density=XENON_REF_DENSITY,
                      w_ev=None, nr_widths=NEST_NR_WIDTHS, er_widths=NEST_ER_WIDTHS) -> dict:
    """Per-event parameters of NEST's GetQuanta, computed once per chunk (numpy).

    Returns arrays: nq (mean total quanta), alf (ion fraction 1/(1+x)), exr (N_ex/N_i after NEST's r<0 fix),
    r (mean recombination probability), omega (non-binomial recombination amplitude), skew, fano (ER total-quanta
    Fano factor; unused for NR), plus is_er and the NR Fano factors.
    """
    mean_ne = np.asarray(mean_ne, dtype=np.float64)
    mean_nph = np.asarray(mean_nph, dtype=np.float64)
    is_er = np.broadcast_to(np.asarray(is_er, dtype=bool), mean_ne.shape)
    f = float(field_v_cm)
    nq = mean_ne + mean_nph
    with np.errstate(divide="ignore", invalid="ignore"):
        ef = np.clip(np.where(nq > 0, mean_ne / np.where(nq > 0, nq, 1.0), 0.0), 0.0, 1.0)
        exr = np.asarray(exciton_ratio, dtype=np.float64) * np.ones_like(nq)
        high_e = exr < 0
        exr = np.where(high_e, 0.0, exr)
        alf = 1.0 / (1.0 + exr)
        r = 1.0 - (exr + 1.0) * ef
        exr = np.where(r < 0, np.where(ef > 0, 1.0 / np.where(ef > 0, ef, 1.0) - 1.0, 0.0), exr)
    # NR: Gaussian in the electron fraction
    a_nr, xi_nr, w_nr = float(nr_widths[2]), float(nr_widths[3]), float(nr_widths[4])
    omega_nr = np.maximum(a_nr * np.exp(-0.5 * (ef - xi_nr) ** 2 / (w_nr * w_nr)), 0.0)
    # ER: skewed Gaussian in the electron fraction, amplitude rising with field (NEST 2.4 RecombOmegaER)
    fano_er_par, a_er, cntr, wide, skw = (float(v) for v in er_widths)
    ampl = max(0.086036 + (a_er - 0.086036) / (1.0 + (f / 295.2) ** 251.6) ** 0.0069114, 0.0)
    mode = cntr + math.sqrt(2.0 / math.pi) * skw * wide / math.sqrt(1.0 + skw * skw)
    norm = 1.0 / (math.exp(-0.5 * (mode - cntr) ** 2 / wide**2)
                  * (1.0 + math.erf(skw * (mode - cntr) / (wide * math.sqrt(2.0)))))
    omega_er = np.maximum(norm * ampl * np.exp(-0.5 * (ef - cntr) ** 2 / wide**2)
                          * (1.0 + erf(skw * (ef - cntr) / (wide * math.sqrt(2.0)))), 0.0)
    omega = np.where(is_er, omega_er, omega_nr)
    # skewness: 0 outside NEST's (LUX Run04) range, NR constant, ER LUX model in deposited energy
    in_range = (nq <= SKEW_MAX_QUANTA) & (SKEW_FIELD_RANGE_V_CM[0] <= f) & (f <= SKEW_FIELD_RANGE_V_CM[1])
    w = work_function(density)[0] if w_ev is None else w_ev
    engy = 1e-3 * w * nq
    with np.errstate(over="ignore"):
        skew_er = (1.0 / (1.0 + np.exp((engy - 26.7) / 6.4))
                   * (1.39 + 4.0 * math.exp(-f / 225.0) * (1.0 - np.exp(-engy / 7.7)))
                   + 1.0 / (1.0 + np.exp(-(engy - 26.7) / 6.4)) * 22.1 * np.exp(-engy / 54.0)
                   * math.exp(-math.sqrt(f) / math.sqrt(71.0)))
    skew = np.where(in_range, np.where(is_er, skew_er, float(nr_widths[5])), 0.0)
    fano = (fano_er_par * np.ones_like(nq) if fano_er_par >= 0
            else _fano_lxe(density) + abs(fano_er_par) * np.sqrt(np.maximum(nq, 0.0) * f))
    fano = np.where(is_er, fano, 0.0)
    return {"nq": nq, "mean_nph": mean_nph, "alf": alf, "exr": exr, "r": r, "high_e": high_e, "omega": omega,
            "skew": skew, "fano": fano, "is_er": np.ascontiguousarray(is_er),
            "fano_ion": float(nr_widths[0]), "fano_exc": float(nr_widths[1])}


def quanta_moments(p: dict) -> dict:
    """Analytic mean and standard deviation of N_e and N_ph for the parameters of :func:`quanta_parameters`
    (the Gaussian model before rounding and truncation: the 'NEST expectation' widths are compared with)."""
    nq, alf, exr, r, om = p["nq"], p["alf"], p["exr"], np.clip(p["r"], 0.0, 1.0), p["omega"]
    er = p["is_er"]
    mu_i = nq * alf
    var_i = np.where(er, alf * (1 - alf) * nq + alf**2 * p["fano"] * nq, p["fano_ion"] * mu_i)
    var_ex = np.where(er, 0.0, p["fano_exc"] * nq * exr * alf)
    var_nq_er = p["fano"] * nq
    var_ne = r * (1 - r) * mu_i + om**2 * (mu_i**2 + var_i) + (1 - r) ** 2 * var_i
    var_recomb = r * (1 - r) * mu_i + om**2 * (mu_i**2 + var_i)
    var_nph_nr = var_ex + var_recomb + r**2 * var_i
    cov_nq_ne = (1 - r) * alf * var_nq_er
    var_nph_er = var_nq_er + var_ne - 2 * cov_nq_ne
    mean_ne = (1 - r) * mu_i
    return {"mean_ne": mean_ne, "mean_nph": nq - mean_ne, "std_ne": np.sqrt(var_ne),
            "std_nph": np.sqrt(np.where(er, var_nph_er, var_nph_nr))}


# --- quanta sampling -----------------------------------------------------------------------------------------

def _round_half_up(x):
    return np.floor(x + 0.5)


def sample_quanta_numpy(rng: np.random.Generator, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Reference (plain numpy) GetQuanta: (N_ph, N_e) per event for parameters from :func:`quanta_parameters`."""
    nq, alf, exr, er = p["nq"], p["alf"], p["exr"], p["is_er"]
    n = nq.size
    ni = np.zeros(n)
    nex = np.zeros(n)
    nr = ~er
    mi = nq[nr] * alf[nr]
    mex = nq[nr] * exr[nr] * alf[nr]
    ni[nr] = np.maximum(_round_half_up(rng.normal(mi, np.sqrt(p["fano_ion"] * mi))), 0.0)
    nex[nr] = np.maximum(_round_half_up(rng.normal(mex, np.sqrt(np.maximum(p["fano_exc"] * mex, 0.0)))), 0.0)
    nq_er = np.where(nq[er] > 0, np.maximum(_round_half_up(rng.normal(nq[er], np.sqrt(p["fano"][er] * nq[er]))),
                                            0.0), 0.0)
    ni[er] = rng.binomial(nq_er.astype(np.int64), alf[er])
    nex[er] = nq_er - ni[er]
    nq_act = ni + nex
    r = np.where((nex <= 0) & p["high_e"], p["mean_nph"] / np.maximum(ni, 1.0), p["r"])
    r = np.clip(r, 0.0, 1.0)
    var = r * (1 - r) * ni + p["omega"] ** 2 * ni**2
    a = p["skew"]
    delta = a / np.sqrt(1.0 + a * a)
    width_corr = np.sqrt(1.0 - (2.0 / np.pi) * a * a / (1.0 + a * a))
    scale = np.sqrt(var) / width_corr
    loc = (1.0 - r) * ni - scale * delta * np.sqrt(2.0 / np.pi)
    u0 = np.abs(rng.standard_normal(n))
    u1 = rng.standard_normal(n)
    ne = np.clip(_round_half_up(loc + scale * (delta * u0 + np.sqrt(1.0 - delta * delta) * u1)), 0.0, ni)
    direct = (ni == 0) | (r <= 0)
    ne = np.where(direct, ni, ne)
    nph = nq_act - ne
    return nph.astype(np.int64), ne.astype(np.int64)


# --- numba kernels: the same model per event (tested against the numpy functions above) -----------------------

def _nr_consts(field_v_cm, density, params) -> np.ndarray:
    """Per-configuration constants of the NR model: the 12 NEST parameters, TI, alpha_W."""
    p = np.asarray(params, dtype=np.float64)
    ti = p[2] * float(field_v_cm) ** p[3] * (density / XENON_REF_DENSITY) ** 0.3
    return np.concatenate([p, [ti, work_function(density)[1]]])


def _er_consts(field_v_cm, density, w_ev, er_widths=NEST_ER_WIDTHS) -> np.ndarray:
    """Per-configuration constants of the ER model (field-dependent m's of GetYieldBetaGR, omega amplitude)."""
    f = float(field_v_cm)
    w_default, alpha = work_function(density)
    w = w_default if w_ev is None else w_ev
    m1 = 30.66 + (6.1978 - 30.66) / (1.0 + (f / 73.855) ** 2.0318) ** 0.41883
    m10 = 0.0508273937 + (0.1166087199 - 0.0508273937) / (1.0 + (f / 1.39260460e2) ** (-0.65763592))
    m3 = math.log10(f) * 0.13946236 + 0.52561312
    m4 = 1.82217496 + (2.82528809 - 1.82217496) / (1.0 + (f / 144.65029656) ** (-2.80532006))
    m7 = 7.02921301 + (98.27936794 - 7.02921301) / (1.0 + (f / 256.48156448) ** 1.29119251)
    c_ti = (1.0 / XENON_REF_DENSITY) ** 0.3
    c_ni = (1.0 / XENON_REF_DENSITY) ** 1.4
    c_ol = (1.0 / XENON_REF_DENSITY) ** -1.7 / math.log(1.0 + c_ti * c_ni * XENON_REF_DENSITY**1.7)
    dens = c_ol * math.log(1.0 + c_ti * c_ni * density**1.7) * density**-1.7
    fano_er_par, a_er, cntr, wide, skw = (float(v) for v in er_widths)
    ampl = max(0.086036 + (a_er - 0.086036) / (1.0 + (f / 295.2) ** 251.6) ** 0.0069114, 0.0)
    mode = cntr + math.sqrt(2.0 / math.pi) * skw * wide / math.sqrt(1.0 + skw * skw)
    norm = 1.0 / (math.exp(-0.5 * (mode - cntr) ** 2 / wide**2)
                  * (1.0 + math.erf(skw * (mode - cntr) / (wide * math.sqrt(2.0)))))
    return np.array([w, alpha, m1, m3, m4, m7, m10, dens, norm * ampl, cntr, wide, skw, fano_er_par,
                     _fano_lxe(density)])


@numba.njit(cache=True)
def _pw(x, y):
    """x**y with the exponents of NEST's default parameters done without pow()."""
    if y == 1.0:
        return x
    if y == 2.0:
        return x * x
    if y == 0.5:
        return math.sqrt(x)
    if y == -1.0:
        return 1.0 / x
    return x**y


@numba.njit(cache=True)
def _nr_scale_free_one(e, c):
    """(Q_e E, L_ph E) of :func:`nr_scale_free_yields` for one event (e > 0); c from _nr_consts."""
    ti = c[12]
    nq = c[0] * e ** c[1]
    qy = 1.0 / (ti * _pw(e + c[4], c[9])) * (1.0 - _pw(1.0 + _pw(e / c[5], c[6]), -c[10]))
    ly = nq / e - qy
    qy = max(qy, 0.0)
    ly = max(ly, 0.0)
    return qy * e, ly * e * (1.0 - _pw(1.0 + _pw(e / c[7], c[8]), -c[11]))


@numba.njit(cache=True, inline="always")
def _nr_finish(e, qe, lp, scale, c):
    """(N_e, N_ph, N_ex/N_i) from the scale-free yields, the isotope scale and the exciton/ion rules."""
    ti = c[12]
    ne = qe * scale
    nph = lp * scale
    nq = nph + ne
    ni = 4.0 / ti * math.expm1(ne * ti / 4.0)
    ratio = (nq - ni) / ni if ni > 0.0 else 0.0
    if ratio < c[13] and e > 100.0:
        ratio = c[13]
    if ratio > 1.0 and e < 1.0:
        ratio = 1.0
    if nq < 1.0:
        return 0.0, 0.0, ratio
    return ne, nph, ratio


@numba.njit(cache=True)
def _nr_mean(e, scale, c):
    """NR (N_e, N_ph, N_ex/N_i) for one event; c from _nr_consts."""
    if e <= 0.0:
        return 0.0, 0.0, 0.0
    qe, lp = _nr_scale_free_one(e, c)
    return _nr_finish(e, qe, lp, scale, c)


# NR mean-yield table: Q_e E and L_ph E at the energies 2^k (1 + j / 256), linear in E between them (relative
# error ~2e-6 for these smooth power laws; tests/detsim/test_xenon.py bounds it against the formula). Six pow()
# per event were most of the chain's time. The node below E and the weight come from the bits of the double
# (exponent and top mantissa bits; the remaining mantissa bits are the weight): no logarithm. Outside the table
# the formula is evaluated directly.
NR_TABLE_OCTAVES = (-10, 10)       # 2^-10 ~ 1e-3 keV to 2^10 = 1024 keV
NR_TABLE_SUBBITS = 8               # 256 linear sub-bins per octave
NR_TABLE_E_KEV = (2.0 ** NR_TABLE_OCTAVES[0], 2.0 ** NR_TABLE_OCTAVES[1])
_MANTISSA_REST = 52 - NR_TABLE_SUBBITS


@intrinsic
def _f64_bits(typingctx, x):
    """The IEEE-754 bits of a double as an int64 (a bitcast, no conversion)."""
    if not isinstance(x, types.Float) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


# NEST's isotope scale sqrt(M/A) of the NR yields by integer mass number (0: natural xenon, scale 1).
MAX_MASS_NUMBER = 512
SCALE_BY_MASS_NUMBER = np.concatenate([[1.0], np.sqrt(XENON_MOLAR_MASS / np.arange(1, MAX_MASS_NUMBER))])


def _nr_table(nrc: np.ndarray) -> tuple[np.ndarray, int]:
    k0, k1 = NR_TABLE_OCTAVES
    sub = 1 << NR_TABLE_SUBBITS
    i = np.arange((k1 - k0) * sub + 1)
    e = 2.0 ** (k0 + i // sub) * (1.0 + (i % sub) / sub)
    tab = np.empty((e.size, 2))  # (Q_e E, L_ph E) side by side: one cache line serves an interpolation
    for k, ek in enumerate(e):
        tab[k, 0], tab[k, 1] = _nr_scale_free_one(ek, nrc)
    base = int(np.array(NR_TABLE_E_KEV[0]).view(np.int64)) >> _MANTISSA_REST
    return tab, base


@numba.njit(cache=True, inline="always")
def _nr_scale_free_tab(e, c, tab, base):
    """(Q_e E, L_ph E) through the table of _nr_table (e > 0); the formula outside it."""
    bits = _f64_bits(e)
    k = (bits >> _MANTISSA_REST) - base
    if k < 0 or k >= tab.shape[0] - 1:
        return _nr_scale_free_one(e, c)
    w = float(bits & ((1 << _MANTISSA_REST) - 1)) * (1.0 / (1 << _MANTISSA_REST))
    return tab[k, 0] + w * (tab[k + 1, 0] - tab[k, 0]), tab[k, 1] + w * (tab[k + 1, 1] - tab[k, 1])


@numba.njit(cache=True, inline="always")
def _nr_mean_tab(e, scale, c, tab, base):
    """_nr_mean through the table of _nr_table."""
    if e <= 0.0:
        return 0.0, 0.0, 0.0
    qe, lp = _nr_scale_free_tab(e, c, tab, base)
    return _nr_finish(e, qe, lp, scale, c)


@numba.njit(cache=True)
def _er_mean(e, c):
    """ER (N_e, N_ph, N_ex/N_i) for one event; c from _er_consts."""
    w, alpha = c[0], c[1]
    if e <= 0.0:
        return 0.0, 0.0, 0.0
    ratio = alpha * math.erf(0.05 * e)
    if e < 1e-3 * w:
        return 0.0, 0.0, ratio
    nq = e * 1e3 / w
    m1 = c[2]
    m5 = nq / e / (1.0 + ratio) - m1
    qy = (m1 + (77.2931084 - m1) / (1.0 + (e / c[3]) ** c[4]) ** 0.3344049589
          + m5 - m5 / (1.0 + (e / c[5]) ** 4.285781736) ** c[6]) * c[7]
    ne = max(qy * e, 0.0)
    nph = max(nq - qy * e, 0.0)
    return ne, nph, ratio


@numba.njit(cache=True, inline="always")
def _setup_common(ne, nph, ratio):
    """The part of GetQuanta's set-up shared by NR and ER: (nq, ef, alf, exr, r, high_e)."""
    nq = ne + nph
    ef = min(max(ne / nq, 0.0), 1.0) if nq > 0.0 else 0.0
    exr = ratio
    high_e = exr < 0.0
    if high_e:
        exr = 0.0
    alf = 1.0 / (1.0 + exr)
    r = 1.0 - (exr + 1.0) * ef
    if r < 0.0:
        exr = 1.0 / ef - 1.0 if ef > 0.0 else 0.0
    return nq, ef, alf, exr, r, high_e


@numba.njit(cache=True, inline="always")
def _nr_omega(ef, nrw):
    """NR recombination fluctuation amplitude (before the clamp at 0)."""
    return nrw[2] * math.exp(-0.5 * (ef - nrw[3]) ** 2 / (nrw[4] * nrw[4]))


@numba.njit(cache=True)
def _params_one(ne, nph, ratio, is_er, field, nrw, erc, skew_on):
    """GetQuanta set-up for one event: (nq, alf, exr, r, high_e, omega, skew, fano)."""
    nq, ef, alf, exr, r, high_e = _setup_common(ne, nph, ratio)
    in_range = skew_on and nq <= SKEW_MAX_QUANTA
    if is_er:
        cntr, wide, skw = erc[9], erc[10], erc[11]
        omega = erc[8] * math.exp(-0.5 * (ef - cntr) ** 2 / (wide * wide)) * (
            1.0 + math.erf(skw * (ef - cntr) / (wide * math.sqrt(2.0))))
        skew = 0.0
        if in_range:
            engy = 1e-3 * erc[0] * nq
            skew = (1.0 / (1.0 + math.exp((engy - 26.7) / 6.4))
                    * (1.39 + 4.0 * math.exp(-field / 225.0) * (1.0 - math.exp(-engy / 7.7)))
                    + 1.0 / (1.0 + math.exp(-(engy - 26.7) / 6.4)) * 22.1 * math.exp(-engy / 54.0)
                    * math.exp(-math.sqrt(field) / math.sqrt(71.0)))
        fpar = erc[12]
        fano = fpar if fpar >= 0.0 else erc[13] + abs(fpar) * math.sqrt(max(nq, 0.0) * field)
    else:
        omega = _nr_omega(ef, nrw)
        skew = nrw[5] if in_range else 0.0
        fano = 0.0
    return nq, alf, exr, r, high_e, max(omega, 0.0), skew, fano


@numba.njit(cache=True, inline="always")
def _skew_consts(a):
    """Skew-normal constants of the recombination draw for skewness a: (delta, sqrt(1 - delta^2), 1 / width factor)
    with delta = a / sqrt(1 + a^2) and width factor sqrt(1 - (2/pi) delta^2) (NEST's GetQuanta)."""
    if a == 0.0:
        return 0.0, 1.0, 1.0
    delta = a / math.sqrt(1.0 + a * a)
    return delta, math.sqrt(1.0 - delta * delta), 1.0 / math.sqrt(1.0 - (2.0 / math.pi) * delta * delta)


@numba.njit(cache=True, inline="always")
def _nr_ions_excitons(s, q, alf, exr, fano_ion, fano_exc):
    """NR: ions and excitons drawn as rounded Gaussians around q alf and q exr alf."""
    mi = q * alf
    mex = q * exr * alf
    ni = math.floor(mi + math.sqrt(fano_ion * mi) * standard_normal(s) + 0.5)
    if ni < 0.0:
        ni = 0.0
    nex = math.floor(mex + math.sqrt(max(fano_exc * mex, 0.0)) * standard_normal(s) + 0.5)
    if nex < 0.0:
        nex = 0.0
    return ni, nex


@numba.njit(cache=True, inline="always")
def _recombine(s, ni, nex, nq_act, mean_nph, r, high_e, omega, delta, sd1, inv_corr):
    """Recombination: electrons from ni ions with probability 1 - r, skew-normal with NEST's widths; (N_ph, N_e)."""
    if nex <= 0.0 and high_e:
        r = mean_nph / max(ni, 1.0)
    r = min(max(r, 0.0), 1.0)
    if ni == 0.0 or r <= 0.0:
        return np.int64(nex), np.int64(ni)
    var = r * (1.0 - r) * ni + omega * omega * ni * ni
    scale = math.sqrt(var) * inv_corr
    loc = (1.0 - r) * ni - scale * delta * math.sqrt(2.0 / math.pi)
    u0 = abs(standard_normal(s))
    u1 = standard_normal(s)
    ne = math.floor(loc + scale * (delta * u0 + sd1 * u1) + 0.5)
    ne = min(max(ne, 0.0), ni)
    return np.int64(nq_act - ne), np.int64(ne)


@numba.njit(cache=True)
def _sample_one(s, q, mean_nph, alf, exr, r, high_e, omega, delta, sd1, inv_corr, fano, is_er, fano_ion,
                fano_exc):
    """GetQuanta fluctuations for one event: (N_ph, N_e). Draws from the xoshiro state ``s``."""
    if q <= 0.0:
        return 0, 0
    if is_er:
        nq_act = math.floor(q + math.sqrt(fano * q) * standard_normal(s) + 0.5)
        if nq_act < 0.0:
            nq_act = 0.0
        ni = float(binomial(s, np.int64(nq_act), alf))
        nex = nq_act - ni
    else:
        ni, nex = _nr_ions_excitons(s, q, alf, exr, fano_ion, fano_exc)
        nq_act = ni + nex
    if nq_act <= 0.0:
        return 0, 0
    return _recombine(s, ni, nex, nq_act, mean_nph, r, high_e, omega, delta, sd1, inv_corr)


@numba.njit(cache=True, inline="always")
def _quanta_nr_one(s, ne, nph, ratio, nrw, skew_on, delta_on, sd1_on, inv_corr_on):
    """NR GetQuanta for one event: _params_one then _sample_one with is_er False, from the same pieces in the same
    order (so the same draws give the same quanta) without the ER branches; the skew constants of nrw[5] are the
    caller's."""
    nq, ef, alf, exr, r, high_e = _setup_common(ne, nph, ratio)
    if nq <= 0.0:
        return 0, 0
    omega = max(_nr_omega(ef, nrw), 0.0)
    ni, nex = _nr_ions_excitons(s, nq, alf, exr, nrw[0], nrw[1])
    nq_act = ni + nex
    if nq_act <= 0.0:
        return 0, 0
    if skew_on and nq <= SKEW_MAX_QUANTA:
        return _recombine(s, ni, nex, nq_act, nph, r, high_e, omega, delta_on, sd1_on, inv_corr_on)
    return _recombine(s, ni, nex, nq_act, nph, r, high_e, omega, 0.0, 1.0, 1.0)


@numba.njit(**NO_REFCOUNT)
def _sample_kernel(state, nq, mean_nph, alf, exr, r, high_e, omega, skew, fano, is_er, fano_ion, fano_exc,
                   out_nph, out_ne):
    s = local_state(state)  # drawn from in registers (see local_state)
    for k in range(nq.size):
        delta, sd1, inv_corr = _skew_consts(skew[k])
        out_nph[k], out_ne[k] = _sample_one(s, nq[k], mean_nph[k], alf[k], exr[k], r[k], high_e[k], omega[k],
                                            delta, sd1, inv_corr, fano[k], is_er[k], fano_ion, fano_exc)


def sample_quanta(rng: np.random.Generator, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Numba GetQuanta on parameters from :func:`quanta_parameters` (same model as :func:`sample_quanta_numpy`)."""
    n = p["nq"].size
    nph = np.empty(n, dtype=np.int64)
    ne = np.empty(n, dtype=np.int64)
    c = np.ascontiguousarray
    _sample_kernel(state_from(rng), c(p["nq"]), c(p["mean_nph"]), c(p["alf"]), c(p["exr"]), c(p["r"]), c(p["high_e"]),
                   c(p["omega"]), c(p["skew"]), c(p["fano"]), c(p["is_er"]), p["fano_ion"], p["fano_exc"], nph, ne)
    return nph, ne


@numba.njit(**NO_REFCOUNT)
def _means_kernel(e, a, recoil, scale_by_a, nrc, erc, tab, base, out):
    for k in range(e.size):
        if recoil[k] == 1:
            out[k, 0], out[k, 1], out[k, 2] = _er_mean(e[k], erc)
        else:
            out[k, 0], out[k, 1], out[k, 2] = _nr_mean_tab(e[k], scale_by_a[a[k]], nrc, tab, base)


@numba.njit(**NO_REFCOUNT)
def _params_kernel(ne, nph, ratio, is_er, field, nrw, erc, skew_on, out):
    for k in range(ne.size):
        nq, alf, exr, r, high_e, omega, skew, fano = _params_one(ne[k], nph[k], ratio[k], is_er[k], field, nrw,
                                                                 erc, skew_on)
        out[k, 0], out[k, 1], out[k, 2], out[k, 3] = nq, alf, exr, r
        out[k, 4], out[k, 5], out[k, 6], out[k, 7] = 1.0 if high_e else 0.0, omega, skew, fano


@numba.njit(**NO_REFCOUNT)
def _quanta_chain_kernel(state, e, a, recoil, scale_by_a, field, nrc, erc, nrw, skew_on, tab, base, out_nph,
                         out_ne):
    """Mean yields, GetQuanta set-up and fluctuations for each event in one pass (no temporaries)."""
    s = local_state(state)  # drawn from in registers (see local_state)
    nr_delta, nr_sd1, nr_inv_corr = _skew_consts(nrw[5])  # the NR skewness is a constant: its constants once
    for k in range(e.size):
        is_er = recoil[k] == 1
        if is_er:
            ne, nph, ratio = _er_mean(e[k], erc)
        else:
            ek = e[k]
            scale = scale_by_a[a[k]]
            qe, lp = _nr_scale_free_tab(ek, nrc, tab, base) if ek > 0.0 else (0.0, 0.0)
            if (qe + lp) * scale < 1.0:  # dead before the exciton/ion ratio is needed: skip its expm1
                ne, nph, ratio = 0.0, 0.0, 0.0
            else:
                ne, nph, ratio = _nr_finish(ek, qe, lp, scale, nrc)
        if ne + nph <= 0.0:  # below one quantum (NEST's yield validity): nothing to fluctuate
            out_nph[k] = 0
            out_ne[k] = 0
            continue
        if not is_er:
            out_nph[k], out_ne[k] = _quanta_nr_one(s, ne, nph, ratio, nrw, skew_on, nr_delta, nr_sd1, nr_inv_corr)
            continue
        nq, alf, exr, r, high_e, omega, skew, fano = _params_one(ne, nph, ratio, is_er, field, nrw, erc, skew_on)
        if skew == 0.0:
            delta, sd1, inv_corr = 0.0, 1.0, 1.0
        elif is_er:
            delta, sd1, inv_corr = _skew_consts(skew)
        else:
            delta, sd1, inv_corr = nr_delta, nr_sd1, nr_inv_corr
        out_nph[k], out_ne[k] = _sample_one(s, nq, nph, alf, exr, r, high_e, omega, delta, sd1, inv_corr,
                                            fano, is_er, nrw[0], nrw[1])


class QuantaModel:
    """The yield + fluctuation model of one configuration, evaluated by the numba kernels."""

    def __init__(self, field_v_cm, density=XENON_REF_DENSITY, w_ev=None, nr_params=NEST_NR_YIELDS,
                 nr_widths=NEST_NR_WIDTHS, er_widths=NEST_ER_WIDTHS):
        self.field = float(field_v_cm)
        self.nrc = _nr_consts(field_v_cm, density, nr_params)
        self.erc = _er_consts(field_v_cm, density, w_ev, er_widths)
        self.nrw = np.asarray(nr_widths, dtype=np.float64)
        self.skew_on = SKEW_FIELD_RANGE_V_CM[0] <= self.field <= SKEW_FIELD_RANGE_V_CM[1]
        self.nr_tab, self.nr_tab_base = _nr_table(self.nrc)

    @staticmethod
    def _inputs(e_kev, mass_number, recoil_type):
        e = np.ascontiguousarray(e_kev, dtype=np.float64)
        if mass_number is None:
            a = np.zeros(e.size, dtype=np.int64)
        else:
            am = np.asarray(mass_number)
            if am.dtype.kind == "f":
                am = np.trunc(am)  # NEST truncates A to an integer
            a = np.ascontiguousarray(np.broadcast_to(am, e.shape))
            if a.dtype.kind not in "iu":
                a = a.astype(np.int64)
            if a.size and (a.min() < 0 or a.max() >= MAX_MASS_NUMBER):
                raise ValueError(f"mass numbers must lie in [0, {MAX_MASS_NUMBER}); got {a.min()}..{a.max()}")
        recoil = (np.zeros(e.size, dtype=np.int8) if recoil_type is None
                  else np.ascontiguousarray(np.broadcast_to(np.asarray(recoil_type, dtype=np.int8), e.shape)))
        return e, a, recoil

    def mean_yields(self, e_kev, mass_number=None, recoil_type=None):
        """(N_e, N_ph, N_ex/N_i) from the kernel (nr_mean_yields / er_mean_yields; NR via the table)."""
        e, a, recoil = self._inputs(e_kev, mass_number, recoil_type)
        out = np.empty((e.size, 3))
        _means_kernel(e, a, recoil, SCALE_BY_MASS_NUMBER, self.nrc, self.erc, self.nr_tab, self.nr_tab_base, out)
        return out[:, 0], out[:, 1], out[:, 2]

    def parameters(self, ne, nph, ratio, is_er) -> np.ndarray:
        """GetQuanta set-up from the kernel: columns nq, alf, exr, r, high_e, omega, skew, fano."""
        n = len(ne)
        out = np.empty((n, 8))
        c = np.ascontiguousarray
        _params_kernel(c(ne, dtype=np.float64), c(nph, dtype=np.float64), c(ratio, dtype=np.float64),
                       c(np.broadcast_to(is_er, (n,)), dtype=np.bool_), self.field, self.nrw, self.erc,
                       self.skew_on, out)
        return out

    def sample(self, rng, e_kev, mass_number=None, recoil_type=None):
        """(N_ph, N_e) per event."""
        e, a, recoil = self._inputs(e_kev, mass_number, recoil_type)
        nph = np.empty(e.size, dtype=np.int32)  # the event files' dtype: no conversion pass afterwards
        ne = np.empty(e.size, dtype=np.int32)
        _quanta_chain_kernel(state_from(rng), e, a, recoil, SCALE_BY_MASS_NUMBER, self.field, self.nrc, self.erc,
                             self.nrw, self.skew_on, self.nr_tab, self.nr_tab_base, nph, ne)
        return nph, ne


# --- detector response kernels -------------------------------------------------------------------------------

@numba.njit(**NO_REFCOUNT)
def _s1_kernel(state, nph, g1, p_dphe, spe_eff, spe_res, coincidence, threshold_pe, seen, out_phd, out_pe,
               out_pass):
    """S1 per event: detected photons (g1), double-photoelectron emission, the single-PE acceptance (NEST
    GetS1: eff raised by occupancy, eff + (1 - eff) N_hits / (2 n_PMTs); a photon's second PE is seen if its first
    is, else with eff), area with the SPE resolution, and out_pass = n-fold coincidence of the photons seen and
    area (as stored) >= threshold. ``seen``: zeros, one per PMT (the stamp of the last event that hit it)."""
    s = local_state(state)  # drawn from in registers (see local_state)
    n_pmts = seen.size
    for k in range(nph.size):
        n = np.int64(nph[k])
        phd = binomial(s, n, g1)
        if spe_eff < 1.0:
            eff = min(1.0, spe_eff + (1.0 - spe_eff) / (2.0 * n_pmts) * phd)
            first = binomial(s, phd, eff)
            lost = binomial(s, phd - first, p_dphe * eff)  # first PE lost, its second PE seen
            npe = first + binomial(s, first, p_dphe) + lost
            hits = first + lost
        else:  # the same draws as before the acceptance existed: bit-identical streams at eff = 1
            dphe = binomial(s, phd, p_dphe)
            npe = phd + dphe
            hits = phd
        area = float(npe)
        if npe > 0 and spe_res > 0.0:
            area += spe_res * math.sqrt(npe) * standard_normal(s)
        # n-fold coincidence: each detected photon lands in a uniformly chosen PMT; stop at the n-th distinct one
        ok = False
        if hits >= coincidence:
            distinct = 0
            stamp = k + 1
            for _ in range(hits):
                j = int(uniform(s) * n_pmts)  # (53-bit uniform: bias ~n_pmts / 2^53)
                if seen[j] != stamp:
                    seen[j] = stamp
                    distinct += 1
                    if distinct >= coincidence:
                        ok = True
                        break
        out_phd[k] = phd
        out_pe[k] = area
        out_pass[k] = ok and out_pe[k] >= threshold_pe


@numba.njit(**NO_REFCOUNT)
def _s2_kernel(state, ne, drift_us, tau_us, eps, gain, gain_sigma, threshold_pe, s1_pass, out_ext, out_pe,
               out_trig, out_s2_only):
    """S2 per event: electrons surviving the drift and extracted, area with the single-electron gain spread;
    triggered = area (as stored) >= threshold, s2_only = triggered without a passing S1."""
    s = local_state(state)  # drawn from in registers (see local_state)
    neg_inv_tau = -1.0 / tau_us
    for k in range(ne.size):
        n = np.int64(ne[k])
        surv_p = math.exp(drift_us[k] * neg_inv_tau) if tau_us < np.inf else 1.0
        # Survival over the drift, then extraction: a binomial thinned by a binomial is one binomial.
        ext = binomial(s, n, surv_p * eps)
        area = ext * gain
        if ext > 0 and gain_sigma > 0.0:
            area += gain_sigma * math.sqrt(ext) * standard_normal(s)
        out_ext[k] = ext
        out_pe[k] = max(area, 0.0)
        out_trig[k] = out_pe[k] >= threshold_pe
        out_s2_only[k] = out_trig[k] and not s1_pass[k]


# --- chain ---------------------------------------------------------------------------------------------------

def _gate_and_height(xe: XenonConfig, geometry: dict) -> tuple[float, float]:
    if geometry.get("shape", "cylinder") == "cylinder":
        h = float(geometry["height_cm"])
    else:
        h = float(geometry["size_z_cm"])
    gate = 0.5 * h if xe.gate_z_cm is None else float(xe.gate_z_cm)
    return gate, h


def mean_yields(xe: XenonConfig, e_kev, mass_number=None, recoil_type=None):
    """(N_e, N_ph, N_ex/N_i, is_er) for each event: NR unless recoil_type == 1."""
    e = np.asarray(e_kev, dtype=np.float64)
    ne, nph, ratio = nr_mean_yields(e, xe.drift_field_v_cm, xe.density_g_cm3, mass_number, xe.nr_yield_params)
    if recoil_type is None:
        return ne, nph, ratio, np.zeros(e.shape, dtype=bool)
    is_er = np.asarray(recoil_type) == RECOIL_ER
    if is_er.any():
        ne_er, nph_er, ratio_er = er_mean_yields(e[is_er], xe.drift_field_v_cm, xe.density_g_cm3, xe.w_ev)
        ne, nph, ratio = ne.copy(), nph.copy(), ratio.copy()
        ne[is_er], nph[is_er], ratio[is_er] = ne_er, nph_er, ratio_er
    return ne, nph, ratio, is_er


def quanta_model(xe: XenonConfig) -> QuantaModel:
    return QuantaModel(xe.drift_field_v_cm, xe.density_g_cm3, xe.w_value_ev, xe.nr_yield_params, xe.nr_width_params)


def xenon_steps(det, geometry: dict) -> list[Step]:
    xe: XenonConfig = det.xenon
    gate, _ = _gate_and_height(xe, geometry)
    model = quanta_model(xe)

    def quanta(rng, c):
        e = c["t_nr_kev"]
        rt = c.get("recoil_type")
        recoil = None if rt is None or len(rt) != len(e) else np.asarray(rt)
        e_nr = e if recoil is None else e[recoil != RECOIL_ER]
        if e_nr.size and float(np.max(e_nr)) > HIGH_E_NR_KEV:
            warnings.warn(f"nuclear recoils up to {float(np.max(e_nr)):.0f} keV: NEST's NR model has no data above "
                          f"{HIGH_E_NR_KEV:.0f} keV (AmBe endpoint)", stacklevel=2)
        nph, ne = model.sample(rng, e, c["target_a"], recoil)
        return {"num_photons": nph, "num_electrons": ne}

    # Outputs are allocated in the columns' file dtypes, so the chain does not copy them again.
    def s1(rng, c):
        nph = np.ascontiguousarray(c["num_photons"])
        n = nph.size
        phd = np.empty(n, dtype=np.int32)
        pe = np.empty(n, dtype=np.float32)
        ok = np.empty(n, dtype=np.bool_)
        _s1_kernel(state_from(rng), nph, xe.g1_phd, xe.p_dphe, xe.spe_efficiency, xe.spe_resolution,
                   xe.s1_coincidence,
                   xe.s1_threshold_pe, np.zeros(xe.n_pmts, dtype=np.int64), phd, pe, ok)
        return {"s1_phd": phd, "s1_pe": pe, "s1_pass": ok}

    def drift(rng, c):
        # In the file's float32 (NEP 50: the Python floats take the array's precision): no float64 round trip.
        z = np.asarray(c["z_cm"], dtype=np.float32)
        return {"drift_time_us": np.maximum(np.float32(gate) - z, np.float32(0.0)) / np.float32(
            xe.drift_velocity_cm_us)}

    def s2(rng, c):
        ne = np.ascontiguousarray(c["num_electrons"])
        n = ne.size
        ext = np.empty(n, dtype=np.int32)
        pe = np.empty(n, dtype=np.float32)
        dt = np.ascontiguousarray(c["drift_time_us"])
        trig = np.empty(n, dtype=np.bool_)
        s2_only = np.empty(n, dtype=np.bool_)
        _s2_kernel(state_from(rng), ne, dt, xe.electron_lifetime_us, xe.extraction_efficiency, xe.se_gain_pe,
                   xe.se_gain_sigma_pe, xe.s2_threshold_pe, np.ascontiguousarray(c["s1_pass"], dtype=np.bool_), ext,
                   pe, trig, s2_only)
        return {"s2_electrons": ext, "s2_pe": pe, "triggered": trig, "s2_only": s2_only}

    return [
        Step("xenon_quanta", ("t_nr_kev", "target_a"),
             {"num_photons": (np.int32, ""), "num_electrons": (np.int32, "")}, quanta),
        Step("xenon_s1", ("num_photons",),
             {"s1_phd": (np.int32, "phd"), "s1_pe": (np.float32, "PE"), "s1_pass": (np.bool_, "")}, s1),
        Step("xenon_drift", ("z_cm",), {"drift_time_us": (np.float32, "us")}, drift),
        Step("xenon_s2", ("num_electrons", "drift_time_us", "s1_pass"),
             {"s2_electrons": (np.int32, ""), "s2_pe": (np.float32, "PE"), "triggered": (np.bool_, ""),
              "s2_only": (np.bool_, "")}, s2),
    ]


def _geometry(gen_meta: dict) -> dict:
    return target_geometry(gen_meta)


def steps(det, geometry: dict, gen_meta: dict) -> list[Step]:
    return xenon_steps(det, geometry)


def metadata(det, gen_meta: dict) -> dict:
    """Derived detector constants for the file metadata: g1, g2 in PE, W, maximum drift time."""
    xe: XenonConfig = det.xenon
    gate, h = _gate_and_height(xe, _geometry(gen_meta))
    return {"xenon": {"g1_pe_per_photon": xe.g1_pe, "g2_pe_per_electron": xe.g2_pe, "w_value_ev": xe.w_ev,
                      "drift_field_v_cm": xe.drift_field_v_cm,
                      "max_drift_time_us": (gate + 0.5 * h) / xe.drift_velocity_cm_us,
                      "yield_model": "NEST v2 (GetYieldNR / GetYieldBetaGR, GetQuanta)"}}
