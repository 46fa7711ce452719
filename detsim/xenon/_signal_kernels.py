"""numba kernels of the detector response of a two-phase xenon TPC: S1 (photon detection, double-PE emission,
single-PE acceptance, n-fold coincidence) and S2 (drift survival, extraction, single-electron gain).

The relations are those of NEST's GetS1/GetS2 (package docstring); the drivers ``s1_response``/``s2_response``
are in _kernels.py. Draws come from the chunk's numpy Generator state (generator._rng).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from generator._kernels import NO_REFCOUNT
from generator._rng import binomial, local_state, standard_normal, uniform


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
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


@numba.njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
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
