"""numba kernels of the xenon mean yields (NEST's GetYieldNR and GetYieldBetaGR), one event at a time.

NR through a bit-indexed table of the scale-free yields (:func:`_nr_table`, linear between nodes), the formula
outside it; ER by the formula. The per-configuration constants (:func:`_nr_consts`, :func:`_er_consts`) and the
table are built here in numpy once per model. Same model as physics.py (``nr_mean_yields``, ``er_mean_yields``),
tested against it; :class:`~detsim.xenon._kernels.QuantaModel` drives these kernels.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import types
from numba.extending import intrinsic

from generator._kernels import NO_REFCOUNT

from .config import NEST_ER_WIDTHS, XENON_MOLAR_MASS, XENON_REF_DENSITY, work_function
from .physics import _fano_lxe


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


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _means_kernel(e, a, recoil, scale_by_a, nrc, erc, tab, base, out):
    for k in range(e.size):
        if recoil[k] == 1:
            out[k, 0], out[k, 1], out[k, 2] = _er_mean(e[k], erc)
        else:
            out[k, 0], out[k, 1], out[k, 2] = _nr_mean_tab(e[k], scale_by_a[a[k]], nrc, tab, base)
