"""The numba photodetection kernel and its driver :func:`photodetect` (the only module of the package that uses
numba). ``photodetect_loop`` is plain Python: the interpreter runs it as the same-draws reference, numba compiles
it into the production kernel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from generator.eventfile import Jagged

from .physics import KernelParams

__all__ = ["photodetect", "photodetect_loop"]

# --------------------------------------------------------------------------------------------------------
# the per-event loop: plain Python (reference, same draws) and its numba compilation (production)
# --------------------------------------------------------------------------------------------------------
def _ensure_py(bt, ba, bk, need):
    """Grow the PE buffers (time, array, kind) to hold ``need`` entries (at least doubling)."""
    cap = bt.shape[0]
    new_cap = max(2 * cap, need)
    t = np.empty(new_cap, dtype=np.float32)
    a = np.empty(new_cap, dtype=np.int8)
    k = np.empty(new_cap, dtype=np.int8)
    t[:cap] = bt
    a[:cap] = ba
    k[:cap] = bk
    return t, a, k


_ensure = njit(cache=True, nogil=True)(_ensure_py)


def _pick_array_py(rng, n_arrays, share):
    """Array (0 or 1) a photon lands on: array 0 with probability ``share`` (one draw when there are two)."""
    if n_arrays == 2 and rng.random() >= share:
        return 1
    return 0


_pick_array = njit(cache=True, nogil=True)(_pick_array_py)


def photodetect_loop(rng, mean, is_er, offset, taus, cum_nr, cum_er, jitter, photons_mode, pde, intrinsic,
                     n_arrays, share, lam, borel_cdf, p_ap, tau_ap, dark_per_array_ns, afterglow_ns, lo, hi, prompt,
                     spe, add_offset, capacity):
    """Per-event photodetection; returns per-event arrays and the flat (time, array, kind) PE buffer.

    The same source runs under the interpreter (reference) and compiled by numba (``_photodetect_kernel``);
    both draw the same numbers from ``rng`` in the same order.
    """
    n = mean.shape[0]
    n_pe = np.zeros(n, dtype=np.int32)
    n_prim = np.zeros(n, dtype=np.int32)
    n_a0 = np.zeros(n, dtype=np.int32)
    n_prompt = np.zeros(n, dtype=np.int32)
    charge = np.zeros(n, dtype=np.float64)
    cap = max(capacity, 16)
    bt = np.empty(cap, dtype=np.float32)
    ba = np.empty(cap, dtype=np.int8)
    bk = np.empty(cap, dtype=np.int8)
    width = hi - lo
    n_comp = taus.shape[0]
    m = 0
    for i in range(n):
        start = m
        mu = mean[i]
        # 1. primary photoelectrons
        if intrinsic > 0.0 and mu > 0.0:
            mu = mu * max(0.0, 1.0 + intrinsic * rng.normal())
        if photons_mode:
            nph = rng.poisson(mu)
            k = rng.binomial(nph, pde) if nph > 0 else 0
        else:
            k = rng.poisson(mu)
        n_prim[i] = k
        cum = cum_er if is_er[i] else cum_nr
        if m + k > bt.shape[0]:
            bt, ba, bk = _ensure(bt, ba, bk, m + k)
        for _ in range(k):
            c = 0
            if n_comp > 1:
                u = rng.random()
                while u >= cum[c]:
                    c += 1
            t = rng.exponential(taus[c])
            if jitter > 0.0:
                t += jitter * rng.normal()
            bt[m] = t
            ba[m] = _pick_array(rng, n_arrays, share)
            bk[m] = 0
            m += 1
        # 2. afterglow: single PE uniform in the window, split between arrays like light
        if afterglow_ns > 0.0:
            k = rng.poisson(afterglow_ns * width)
            if m + k > bt.shape[0]:
                bt, ba, bk = _ensure(bt, ba, bk, m + k)
            for _ in range(k):
                t = lo + width * rng.random()
                bt[m] = t
                ba[m] = _pick_array(rng, n_arrays, share)
                bk[m] = 4
                m += 1
        # 3. dark counts of each array, uniform in the window
        if dark_per_array_ns > 0.0:
            for a in range(n_arrays):
                k = rng.poisson(dark_per_array_ns * width)
                if m + k > bt.shape[0]:
                    bt, ba, bk = _ensure(bt, ba, bk, m + k)
                for _ in range(k):
                    bt[m] = lo + width * rng.random()
                    ba[m] = a
                    bk[m] = 3
                    m += 1
        # 4. every primary avalanche: Borel crosstalk cells (same time, same array), then afterpulses
        n_primaries = m
        for j in range(start, n_primaries):
            t = np.float64(bt[j])
            aj = ba[j]
            extra = 0
            if lam > 0.0:  # Borel(lambda) cells in all: inverse CDF, one uniform
                u = rng.random()
                while u >= borel_cdf[extra]:
                    extra += 1
                if m + extra > bt.shape[0]:
                    bt, ba, bk = _ensure(bt, ba, bk, m + extra)
                for _ in range(extra):
                    bt[m] = t
                    ba[m] = aj
                    bk[m] = 1
                    m += 1
            if p_ap > 0.0:  # each of the 1 + extra fired cells afterpulses with probability p_ap
                if m + 1 + extra > bt.shape[0]:
                    bt, ba, bk = _ensure(bt, ba, bk, m + 1 + extra)
                for _ in range(1 + extra):
                    if rng.random() < p_ap:
                        bt[m] = t + rng.exponential(tau_ap)
                        ba[m] = aj
                        bk[m] = 2
                        m += 1
        # 5. keep the PE inside the integration window (in place), count arrays and the prompt part
        w = start
        for j in range(start, m):
            t = np.float64(bt[j])
            if t >= lo and t < hi:
                if t < prompt:
                    n_prompt[i] += 1
                if ba[j] == 0:
                    n_a0[i] += 1
                bt[w] = t + offset[i] if add_offset else t
                ba[w] = ba[j]
                bk[w] = bk[j]
                w += 1
        m = w
        n_pe[i] = m - start
        # 6. charge: sum of N(1, spe) single-PE charges
        if spe > 0.0 and n_pe[i] > 0:
            charge[i] = max(0.0, n_pe[i] + spe * np.sqrt(n_pe[i]) * rng.normal())
        else:
            charge[i] = n_pe[i]
    return n_pe, n_prim, n_a0, n_prompt, charge, bt[:m], ba[:m], bk[:m]


_photodetect_kernel = njit(cache=True, nogil=True)(photodetect_loop)


def _args(p: KernelParams):
    return (p.taus, p.cum_nr, p.cum_er, p.jitter, p.photons_mode, p.pde, p.intrinsic, p.n_arrays, p.share,
            p.lam, p.borel_cdf, p.p_ap, p.tau_ap, p.dark_per_array_ns, p.afterglow_ns, p.lo, p.hi, p.prompt, p.spe,
            p.add_offset)


def _capacity(p: KernelParams, mean) -> int:
    per_cell = (1.0 + p.p_ap / (1.0 - p.lam)) / (1.0 - p.lam)
    noise = (p.dark_per_array_ns * p.n_arrays + p.afterglow_ns) * (p.hi - p.lo)
    return int(1.1 * (float(np.sum(mean)) + noise * len(mean)) * per_cell) + 1024


def _pack(out):
    n_pe, n_prim, n_a0, n_prompt, charge, bt, ba, bk = out
    jag = Jagged(n_pe, {"time_ns": bt, "array": ba, "kind": bk})
    return {"num_pe": n_pe, "num_primary_pe": n_prim, "num_pe_a": n_a0, "num_pe_b": n_pe - n_a0,
            "num_prompt_pe": n_prompt, "charge_pe": charge}, jag


def photodetect(rng, mean, is_er, offset, p: KernelParams, *, jit: bool = True):
    """Run the photodetection loop (numba kernel, or the interpreted reference with ``jit=False``)."""
    mean = np.ascontiguousarray(mean, dtype=np.float64)
    is_er = np.ascontiguousarray(is_er, dtype=np.bool_)
    offset = np.ascontiguousarray(offset, dtype=np.float64)
    fn = _photodetect_kernel if jit else photodetect_loop
    return _pack(fn(rng, mean, is_er, offset, *_args(p), _capacity(p, mean)))
