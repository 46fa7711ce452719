"""numba kernels of NEST's GetQuanta: the set-up (exciton/ion split, recombination and its fluctuation amplitude,
skewness, Fano factor) and the fluctuations (ions and excitons, skew-normal recombination), per event.

:func:`_quanta_chain_kernel` runs mean yields (_yield_kernels), set-up and fluctuations in one pass per event;
:func:`_params_kernel` and :func:`_sample_kernel` expose the set-up and the fluctuations alone for the tests against
physics.py (``quanta_parameters``, ``sample_quanta_numpy``). Draws come from the chunk's numpy Generator state
(generator._rng). The ``inline="always"`` helpers are shared by the kernels of this module that inline them.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from generator._kernels import NO_REFCOUNT
from generator._rng import binomial, local_state, standard_normal

from ._yield_kernels import _er_mean, _nr_finish, _nr_scale_free_tab
from .config import SKEW_MAX_QUANTA


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


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _sample_kernel(state, nq, mean_nph, alf, exr, r, high_e, omega, skew, fano, is_er, fano_ion, fano_exc,
                   out_nph, out_ne):
    s = local_state(state)  # drawn from in registers (see local_state)
    for k in range(nq.size):
        delta, sd1, inv_corr = _skew_consts(skew[k])
        out_nph[k], out_ne[k] = _sample_one(s, nq[k], mean_nph[k], alf[k], exr[k], r[k], high_e[k], omega[k],
                                            delta, sd1, inv_corr, fano[k], is_er[k], fano_ion, fano_exc)

@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _params_kernel(ne, nph, ratio, is_er, field, nrw, erc, skew_on, out):
    for k in range(ne.size):
        nq, alf, exr, r, high_e, omega, skew, fano = _params_one(ne[k], nph[k], ratio[k], is_er[k], field, nrw,
                                                                 erc, skew_on)
        out[k, 0], out[k, 1], out[k, 2], out[k, 3] = nq, alf, exr, r
        out[k, 4], out[k, 5], out[k, 6], out[k, 7] = 1.0 if high_e else 0.0, omega, skew, fano


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
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
