"""Plain-numpy reference of every formula of the xenon model (the package docstring gives them with their NEST
sources): NR and ER mean yields, GetQuanta's per-event parameters and analytic moments, the reference sampler
:func:`sample_quanta_numpy`, the mean yields of a configuration and the drift time. The numba kernels
(_yield_kernels.py, _quanta_kernels.py, _signal_kernels.py) evaluate the same model per event and are tested against these functions.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from .config import (
    NEST_ER_WIDTHS,
    NEST_NR_WIDTHS,
    NEST_NR_YIELDS,
    RECOIL_ER,
    SKEW_FIELD_RANGE_V_CM,
    SKEW_MAX_QUANTA,
    XENON_MOLAR_MASS,
    XENON_REF_DENSITY,
    XenonConfig,
    work_function,
)

__all__ = [
    "drift_time_us", "er_mean_yields", "mean_yields", "nr_mean_yields", "nr_scale_free_yields", "quanta_moments",
    "quanta_parameters", "sample_quanta_numpy", "work_function",
]

# --- mean yields (plain numpy) -------------------------------------------------------------------------------

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


# --- the configuration's mean yields and drift time (used by the chain) ----------------------------------------

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



def drift_time_us(z_cm, gate_cm, drift_velocity_cm_us):
    """Drift time (us) from z up to the gate at gate_cm (0 above it), in the event file's float32."""
    # In the file's float32 (NEP 50: the Python floats take the array's precision): no float64 round trip.
    z = np.asarray(z_cm, dtype=np.float32)
    return np.maximum(np.float32(gate_cm) - z, np.float32(0.0)) / np.float32(drift_velocity_cm_us)
