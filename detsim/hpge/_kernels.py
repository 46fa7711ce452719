"""numba kernels of the HPGe response and the Python drivers that call them.

One pass per step over the chunk, the same model as physics.py per event: quenching (Lindhard family in the
kernel, any other model's mean QF from detsim.quenching), electron-hole pairs with Fano statistics and the
detector's electronic noise, the trigger turn-on, rise times and the PSD cut. Each driver starts its kernel
from a xoshiro256++ state drawn from the chunk's numpy Generator (generator._rng.state_from), draws ziggurat
normals and 53-bit uniforms from a stack copy of it (local_state), and writes straight into outputs allocated
in the file dtypes; the kernels are compiled without reference counting (NO_REFCOUNT), as the xenon ones.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy.special import ndtri

from generator._kernels import NO_REFCOUNT
from generator._rng import local_state, standard_normal, state_from, uniform

from ..quenching import RECOIL_ER
from .physics import detector_tables, surface_box

__all__ = ["QF_ADIABATIC", "QF_ARRAY", "QF_LINDHARD", "TRIGGER_DECIDED_SIGMA", "Ionisation", "PulseShape",
           "Quenching", "Trigger"]

QF_LINDHARD, QF_ADIABATIC, QF_ARRAY = 0, 1, 2
# Beyond this many widths from the threshold the erf turn-on is decided by the uniform alone: ndtr(8.5) is
# 1 - 9.5e-18 and ndtr(-8.5) = 9.5e-18, both closer to 1 and 0 than the 53-bit uniforms' spacing (2^-53 = 1.1e-16),
# so u < ndtr(x) is True / (u == 0) there without the erfc: the same decisions as evaluating it.
TRIGGER_DECIDED_SIGMA = 8.5
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_SEVEN_THIRDS = -7.0 / 3.0


# Z^(-7/3) and Z^(2/3) of the Lindhard formula by integer charge (numpy's power, as in detsim.quenching): a pow per
# event less. Charges beyond the table take the pow.
Z_TABLE_SIZE = 128
_Z_POW_M73 = np.power(np.arange(Z_TABLE_SIZE, dtype=np.float64), -7.0 / 3.0, where=np.arange(Z_TABLE_SIZE) > 0,
                      out=np.zeros(Z_TABLE_SIZE))
_Z_POW_23 = np.power(np.arange(Z_TABLE_SIZE, dtype=np.float64), 2.0 / 3.0)


@numba.njit(cache=True, inline="always")
def _lindhard_qf(t, z, k, z_m73):
    """Lindhard QF k g / (1 + k g), g = 3 eps^0.15 + 0.7 eps^0.6 + eps, eps = 11.5 Z^(-7/3) T: the formula of
    detsim.quenching.lindhard_qf with eps^0.6 = (eps^0.15)^4, one pow instead of two (within ~4e-16 relative of it,
    as are two separate pows, libm's pow and numpy's differing in the last bit)."""
    zp = z_m73[z] if 0 < z < Z_TABLE_SIZE else float(z) ** _SEVEN_THIRDS
    eps = 11.5 * zp * t
    p = eps**0.15
    p2 = p * p
    g = 3.0 * p + 0.7 * (p2 * p2) + eps
    return k * g / (1.0 + k * g)


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _quench_kernel(state, t, z, a, recoil, qf_in, kind, k, k_shift, std_k, xi_kev, fluct, z_m73, z_23, out):
    """keVee per event: QF (Lindhard with k or 0.133 Z^2/3 A^-1/2 + k_shift, times 1 - exp(-t/xi) for the
    adiabatic form; qf_in for any other model) times t, the relative QF fluctuation, electron recoils unquenched."""
    s = local_state(state)
    for i in range(t.size):
        ti = t[i]
        if recoil[i] == RECOIL_ER:
            out[i] = ti
            continue
        if kind == QF_ARRAY:
            qf = qf_in[i]
        else:
            kk = k
            zi = z[i]
            if std_k:
                z23 = z_23[zi] if 0 <= zi < Z_TABLE_SIZE else float(zi) ** (2.0 / 3.0)
                kk = 0.133 * z23 / math.sqrt(float(a[i])) + k_shift
            qf = _lindhard_qf(ti, zi, kk, z_m73)
            if kind == QF_ADIABATIC:
                qf = qf * -math.expm1(-ti / xi_kev)
        if fluct > 0.0:
            qf = max(qf * (1.0 + fluct * standard_normal(s)), 0.0)
        out[i] = qf * ti


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _ionisation_kernel(state, e_ion, share, eps_kev, fano, noise_kev, scale, out_det, out_pairs, out_e):
    """Detector by mass share (first cumulative share above a uniform), pairs = max(rint(N(E/eps, F E/eps)), 0),
    measured energy (pairs eps + N(0, noise of that detector)) x energy scale."""
    s = local_state(state)
    n_det = share.size
    for i in range(e_ion.size):
        u = uniform(s)
        d = 0
        while d < n_det - 1 and share[d] <= u:
            d += 1
        mean = e_ion[i] / eps_kev
        pairs = 0.0
        if mean > 0.0:
            pairs = np.rint(mean + math.sqrt(fano * mean) * standard_normal(s))
            if pairs < 0.0:
                pairs = 0.0
        e = pairs * eps_kev
        sig = noise_kev[d]
        if sig > 0.0:
            e += sig * standard_normal(s)
        out_det[i] = d
        out_pairs[i] = np.int64(pairs)
        out_e[i] = e * scale


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _trigger_kernel(state, e, det, thr_kev, width_kev, out):
    """triggered = u < ndtr((E - threshold) / width) (a step at the threshold for width 0); the erfc only where
    TRIGGER_DECIDED_SIGMA does not decide it."""
    s = local_state(state)
    for i in range(e.size):
        d = det[i]
        w = width_kev[d]
        if w <= 0.0:
            out[i] = e[i] >= thr_kev[d]
            continue
        u = uniform(s)
        x = (e[i] - thr_kev[d]) / w
        if x >= TRIGGER_DECIDED_SIGMA:
            out[i] = True
        elif x <= -TRIGGER_DECIDED_SIGMA and u > 0.0:
            out[i] = False
        else:
            out[i] = u < 0.5 * math.erfc(-x * _INV_SQRT2)


@numba.njit(cache=True, inline="always")
def _slow_geometry(x, y, z, kind, half, layer_mm):
    if kind == 0:
        d = min(half[0] - math.hypot(x, y), half[1] - abs(z))
    else:
        d = min(half[0] - abs(x), half[1] - abs(y), half[2] - abs(z))
    return d * 10.0 < layer_mm


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _pulse_shape_kernel(state, e_det, x, y, z, use_geometry, kind, half, layer_mm, surface_fraction, bulk_ns,
                        bulk_sig2, slow_ns, slow_sig2, noise_ns_kev, z_acc, enabled, out_rise, out_slow, out_pass):
    """Slow flag (vertex in the transition layer, or a uniform below surface_fraction), rise time Gaussian around
    the bulk or slow mean with spread sqrt(sigma_0^2 + (c/E)^2), cut = bulk mean + z_acc x bulk spread."""
    s = local_state(state)
    for i in range(e_det.size):
        if use_geometry:
            slow = _slow_geometry(x[i], y[i], z[i], kind, half, layer_mm)
        else:
            slow = uniform(s) < surface_fraction
        e = max(e_det[i], 1e-3)
        c = noise_ns_kev / e
        c2 = c * c
        sb = math.sqrt(bulk_sig2 + c2)
        mean, sig = (slow_ns, math.sqrt(slow_sig2 + c2)) if slow else (bulk_ns, sb)
        rise = mean + sig * standard_normal(s)
        out_rise[i] = rise
        out_slow[i] = slow
        out_pass[i] = (rise < bulk_ns + sb * z_acc) if enabled else True


# --- drivers: per-configuration constants once, then one kernel call per chunk -------------------------------

_c = np.ascontiguousarray


class Quenching:
    """keVee of recoils under a detsim.quenching model; Lindhard-family models are evaluated in the kernel."""

    def __init__(self, model):
        self.model = model
        m = model.model
        self.kind, self.k, self.k_shift, self.std_k, self.xi = QF_ARRAY, 0.0, 0.0, False, 1.0
        if m in ("lindhard", "conus_2022", "lindhard_adiabatic"):
            k, ks = model.lindhard_k_and_sigma()
            shift = model.variation * ks
            if k is None:
                self.std_k, self.k_shift = True, shift
            else:
                self.k = k + shift
            if m == "lindhard_adiabatic":
                from ..quenching import ADIABATIC_XI_KEV

                self.kind, self.xi = QF_ADIABATIC, ADIABATIC_XI_KEV if model.xi_kev is None else model.xi_kev
            else:
                self.kind = QF_LINDHARD

    def __call__(self, rng, t_kevnr, z, a, recoil_type=None):
        t = _c(t_kevnr, dtype=np.float64)
        n = t.size
        z, a = _c(np.broadcast_to(z, (n,))), _c(np.broadcast_to(a, (n,)))
        recoil = (np.zeros(n, np.int8) if recoil_type is None
                  else _c(np.broadcast_to(np.asarray(recoil_type, dtype=np.int8), (n,))))
        qf = (_c(self.model.qf(t, z, a), dtype=np.float64) if self.kind == QF_ARRAY else np.empty(0))
        out = np.empty(n)
        _quench_kernel(state_from(rng), t, z, a, recoil, qf, self.kind, float(self.k or 0.0), self.k_shift,
                       self.std_k, self.xi, float(self.model.fluctuation), _Z_POW_M73, _Z_POW_23, out)
        return out


class Ionisation:
    """Detector, pairs and measured energy of each event for one [hpge] section."""

    def __init__(self, hp):
        tab = detector_tables(hp)
        self.share, self.noise_kev = tab["share"], tab["noise_kev"]
        self.eps_kev, self.fano, self.scale = hp.pair_energy_ev * 1e-3, float(hp.fano), float(hp.energy_scale)

    def __call__(self, rng, e_ion_kevee):
        e = _c(e_ion_kevee, dtype=np.float64)
        n = e.size
        det, pairs, out = np.empty(n, np.int16), np.empty(n, np.int64), np.empty(n)
        _ionisation_kernel(state_from(rng), e, self.share, self.eps_kev, self.fano, self.noise_kev, self.scale,
                           det, pairs, out)
        return det, pairs, out


class Trigger:
    def __init__(self, hp):
        tab = detector_tables(hp)
        self.thr_kev, self.width_kev = tab["thr_kev"], tab["width_kev"]

    def __call__(self, rng, e_kevee, det_id):
        e = _c(e_kevee, dtype=np.float64)
        out = np.empty(e.size, np.bool_)
        _trigger_kernel(state_from(rng), e, _c(det_id), self.thr_kev, self.width_kev, out)
        return out


class PulseShape:
    """Rise time, slow flag and PSD decision of each event for one [psd] section and active volume."""

    def __init__(self, psd, geometry: dict):
        self.psd = psd
        self.use_geometry = psd.surface_model == "geometry"
        self.kind, self.half = surface_box(geometry) if self.use_geometry else (0, np.zeros(3))
        self.z_acc = float(ndtri(psd.bulk_acceptance))

    def __call__(self, rng, e_kevee, x_cm=None, y_cm=None, z_cm=None):
        p = self.psd
        e = _c(e_kevee, dtype=np.float64)
        n = e.size
        if self.use_geometry:
            x, y, z = (_c(v) for v in (x_cm, y_cm, z_cm))  # in their file dtype (float32): no conversion pass
        else:
            x = y = z = np.empty(0)
        rise, slow, passed = np.empty(n, np.float32), np.empty(n, np.bool_), np.empty(n, np.bool_)
        _pulse_shape_kernel(state_from(rng), e, x, y, z, self.use_geometry, self.kind, self.half,
                            p.transition_layer_mm, p.surface_fraction, p.bulk_rise_ns, p.bulk_rise_sigma_ns ** 2,
                            p.slow_rise_ns, p.slow_rise_sigma_ns ** 2, p.rise_noise_ns_kev, self.z_acc, p.enabled,
                            rise, slow, passed)
        return rise, slow, passed
