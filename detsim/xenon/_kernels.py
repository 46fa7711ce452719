"""numba kernels of the xenon model and the Python drivers that build their tables and call them.

The same model as physics.py, per event: mean yields (NR through a table), GetQuanta's set-up and fluctuations
(:class:`QuantaModel`, :func:`sample_quanta`), and the S1/S2 detector response (:func:`s1_response`,
:func:`s2_response`). The kernels draw from the chunk's numpy Generator (same stream as numpy). This is the only
module of the package that uses numba; it is longer than ~400 lines because it is one concept, the compiled
per-event model, whose ``inline="always"`` helpers must sit with the kernels that inline them.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import types
from numba.extending import intrinsic

from generator._kernels import NO_REFCOUNT
from generator._rng import binomial, local_state, standard_normal, state_from, uniform

from .config import (
    NEST_ER_WIDTHS,
    NEST_NR_WIDTHS,
    NEST_NR_YIELDS,
    SKEW_FIELD_RANGE_V_CM,
    SKEW_MAX_QUANTA,
    XENON_MOLAR_MASS,
    XENON_REF_DENSITY,
    XenonConfig,
    work_function,
)
from .physics import _fano_lxe

__all__ = [
    "MAX_MASS_NUMBER", "NR_TABLE_E_KEV", "NR_TABLE_OCTAVES", "NR_TABLE_SUBBITS", "QuantaModel",
    "SCALE_BY_MASS_NUMBER", "quanta_model", "s1_response", "s2_response", "sample_quanta",
]

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



def quanta_model(xe: XenonConfig) -> QuantaModel:
    return QuantaModel(xe.drift_field_v_cm, xe.density_g_cm3, xe.w_value_ev, xe.nr_yield_params, xe.nr_width_params)



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




# Outputs are allocated in the columns' file dtypes, so the chain does not copy them again.
def s1_response(rng, num_photons, xe: XenonConfig) -> dict:
    """S1 of each event (:func:`_s1_kernel`): columns s1_phd, s1_pe, s1_pass."""
    nph = np.ascontiguousarray(num_photons)
    n = nph.size
    phd = np.empty(n, dtype=np.int32)
    pe = np.empty(n, dtype=np.float32)
    ok = np.empty(n, dtype=np.bool_)
    _s1_kernel(state_from(rng), nph, xe.g1_phd, xe.p_dphe, xe.spe_efficiency, xe.spe_resolution,
               xe.s1_coincidence,
               xe.s1_threshold_pe, np.zeros(xe.n_pmts, dtype=np.int64), phd, pe, ok)
    return {"s1_phd": phd, "s1_pe": pe, "s1_pass": ok}


def s2_response(rng, num_electrons, drift_time_us, s1_pass, xe: XenonConfig) -> dict:
    """S2 of each event (:func:`_s2_kernel`): columns s2_electrons, s2_pe, triggered, s2_only."""
    ne = np.ascontiguousarray(num_electrons)
    n = ne.size
    ext = np.empty(n, dtype=np.int32)
    pe = np.empty(n, dtype=np.float32)
    dt = np.ascontiguousarray(drift_time_us)
    trig = np.empty(n, dtype=np.bool_)
    s2_only = np.empty(n, dtype=np.bool_)
    _s2_kernel(state_from(rng), ne, dt, xe.electron_lifetime_us, xe.extraction_efficiency, xe.se_gain_pe,
               xe.se_gain_sigma_pe, xe.s2_threshold_pe, np.ascontiguousarray(s1_pass, dtype=np.bool_), ext,
               pe, trig, s2_only)
    return {"s2_electrons": ext, "s2_pe": pe, "triggered": trig, "s2_only": s2_only}
