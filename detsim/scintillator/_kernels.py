"""The numba photodetection kernel and its driver :func:`photodetect` (the only module of the package that uses
numba).

One compiled pass per chunk draws every photoelectron of every event (primary count, decay times, array, Borel
crosstalk, afterpulses, afterglow, dark counts, charge) and writes the kept ones straight into the flat jagged
buffers (time, array, kind) with the per-event counts; nothing is allocated per event. Draws come from a
xoshiro256++ state taken from the chunk's numpy Generator (generator/_rng.py, as the xenon kernels do), held in
registers (``local_state``); the kernel is compiled without reference counting (``NO_REFCOUNT``).

Buffers: the driver sizes them from the expected PE count (+10 %). An event that does not fit stops the kernel
*before* it is written: the kernel restores the RNG state and the crosstalk and afterpulse gaps it had at the
event's start and returns; the driver doubles the buffers and resumes at that event, so the output does not depend
on the first capacity (tests check it).

``photodetect_loop`` is the kernel's own source run by the interpreter (with the compiled draw helpers): the
same-draws reference of the compiled kernel.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit

from generator._kernels import NO_REFCOUNT
from generator._rng import (
    POISSON_INVERSION_MAX_MEAN,
    binomial,
    local_state,
    poisson,
    poisson_inversion,
    standard_exponential,
    standard_normal,
    state_from,
    store_state,
    uniform,
    uniform_open,
)
from generator.eventfile import Jagged

from .config import KIND_AFTERGLOW, KIND_AFTERPULSE, KIND_CROSSTALK, KIND_DARK
from .physics import KernelParams

__all__ = ["photodetect", "photodetect_loop"]


# --------------------------------------------------------------------------------------------------------
# draw helpers (inlined into the kernel: the local RNG state must not escape)
# --------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _geometric(s, log_q):
    """Failures before the first success of Bernoulli(p) trials, log_q = log(1 - p): P(G >= k) = (1 - p)^k."""
    return int(math.floor(math.log(uniform_open(s)) / log_q))


@njit(cache=True, inline="always")
def _noise_count(s, mu, p0):
    """Poisson(mu) for a mean constant over the chunk, p0 = exp(-mu) precomputed: inversion for small means (the
    presets' noise, < 1 PE per window), PTRS above (inversion would never end beyond mu ~ 745, where p0 = 0)."""
    if mu < POISSON_INVERSION_MAX_MEAN:
        return poisson_inversion(s, mu, p0)
    return poisson(s, mu)


@njit(cache=True, inline="always")
def _pick_array(s, n_arrays, share):
    """Array (0 or 1) a photon lands on: 1 with probability 1 - share when there are two (one uniform). A
    comparison turned into an integer, not a branch: a mispredicted coin flip per PE cost ~6 ns."""
    if n_arrays == 2:
        return int(uniform(s) >= share)
    return 0


@njit(cache=True, inline="always")
def _avalanche(s, t, a, kind, add, lam, borel_cdf, xt_gap, p_ap, tau_ap, log_q_ap, gap, lo, hi, prompt, bt, ba, bk,
               m):
    """One primary avalanche at time t (< hi) on array a: its Borel(lam) cells (the primary of ``kind`` and the
    crosstalk cells, kept when t >= lo) and their afterpulses; writes from index m.

    Both by geometric skipping over i.i.d. trials, so that only the rare successes cost draws and mispredicted
    branches: ``xt_gap`` counts the primaries (over the whole chunk, in order) until the next one with crosstalk
    (P(no crosstalk) = Borel P(1) = exp(-lam)), whose cells are then drawn from the Borel CDF conditioned on >= 2
    (inverse CDF, one uniform); ``gap`` counts the cells until the next one that afterpulses (Bernoulli(p_ap) each).
    Returns (m, xt_gap, gap, PE written on array 0, PE written before ``prompt``), or m = -1 if the buffers
    (capacity bt.shape[0]) cannot hold the avalanche's worst case, 2 x cells (nothing written then).
    """
    extra = 0
    if lam > 0.0:
        if xt_gap > 0:
            xt_gap -= 1
        else:
            p1 = borel_cdf[0]
            u = p1 + (1.0 - p1) * uniform(s)  # uniform on [P(1), 1): the CDF conditioned on >= 2 cells
            extra = 1
            while u >= borel_cdf[extra]:
                extra += 1
            xt_gap = _geometric(s, -lam)
    cells = 1 + extra
    if m + 2 * cells > bt.shape[0]:
        return -1, xt_gap, gap, 0, 0
    n_a0 = 0
    n_prompt = 0
    if t >= lo:
        tw = t + add
        bt[m] = tw
        ba[m] = a
        bk[m] = kind
        m += 1
        for _ in range(extra):
            bt[m] = tw
            ba[m] = a
            bk[m] = KIND_CROSSTALK
            m += 1
        n_a0 += cells * (1 - a)  # arithmetic, not a branch: the array is a coin flip, unpredictable
        if t < prompt:
            n_prompt += cells
    if p_ap > 0.0:
        left = cells
        while gap < left:
            left -= gap + 1
            ta = t + tau_ap * standard_exponential(s)
            if ta >= lo and ta < hi:
                bt[m] = ta + add
                ba[m] = a
                bk[m] = KIND_AFTERPULSE
                m += 1
                n_a0 += 1 - a
                if ta < prompt:
                    n_prompt += 1
            gap = _geometric(s, log_q_ap)
        gap -= left
    return m, xt_gap, gap, n_a0, n_prompt


@njit(cache=True, inline="always")
def _window_pe(s, count, kind, share, n_arrays, add, lam, borel_cdf, xt_gap, p_ap, tau_ap, log_q_ap, gap, lo, width,
               hi, prompt, bt, ba, bk, m):
    """``count`` single PE of ``kind`` uniform in the window [lo, lo + width), each on array 1 with probability
    1 - share (two arrays), each avalanching (:func:`_avalanche`). Returns as :func:`_avalanche`, summed over
    them (m = -1 when one did not fit; the sums are then unused)."""
    na0 = 0
    npr = 0
    for _ in range(count):
        t = lo + width * uniform(s)
        a = _pick_array(s, n_arrays, share)
        m, xt_gap, gap, x0, xp = _avalanche(s, t, a, kind, add, lam, borel_cdf, xt_gap, p_ap, tau_ap, log_q_ap, gap,
                                            lo, hi, prompt, bt, ba, bk, m)
        if m < 0:
            break
        na0 += x0
        npr += xp
    return m, xt_gap, gap, na0, npr


# --------------------------------------------------------------------------------------------------------
# the per-chunk pass
# --------------------------------------------------------------------------------------------------------
@njit(nogil=True, **NO_REFCOUNT)  # the detsim stage runs chunks in threads
def _photodetect_kernel(state, first, m, xt_gap, gap, mean, is_er, offset, taus, cum_nr, cum_er, jitter,
                        photons_mode, pde, intrinsic, n_arrays, share, lam, borel_cdf, p_ap, tau_ap, dark_per_array_ns,
                        afterglow_ns, lo, hi, prompt, spe, add_offset, n_pe, n_prim, n_pe_a0, n_prompt_pe, charge, bt,
                        ba, bk):
    """Events first.. of the chunk into the buffers from index m; returns (next event, m, crosstalk gap, afterpulse
    gap): the next event is mean.shape[0] when all are done, else the one that did not fit (RNG state and gaps as at
    its start; gaps < 0 are drawn first).

    Per event: primary PE ~ Poisson(mean x intrinsic spread) (photons mode: Binomial(Poisson, pde)), each with a
    decay time from its component (uniform for the component, exponential), jitter and an array, then afterglow
    and dark counts uniform in the window (one Poisson for all arrays; the array is uniform among them, which is
    the same as independent per-array Poisson counts), every primary avalanching (:func:`_avalanche`); then the
    charge. Primaries at t >= hi are dropped before their array and avalanche are drawn (nothing of them can
    land in the window).
    """
    s = local_state(state)  # drawn from in registers (see local_state); stored back before every return
    n = mean.shape[0]
    width = hi - lo
    n_comp = taus.shape[0]
    log_q_ap = math.log1p(-p_ap) if p_ap > 0.0 else -1.0
    if p_ap > 0.0 and gap < 0:
        gap = _geometric(s, log_q_ap)
    if lam > 0.0 and xt_gap < 0:
        xt_gap = _geometric(s, -lam)
    glow_mu = afterglow_ns * width
    glow_p0 = math.exp(-glow_mu)
    dark_mu = dark_per_array_ns * n_arrays * width
    dark_p0 = math.exp(-dark_mu)
    for i in range(first, n):
        s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
        gap0 = gap
        xt_gap0 = xt_gap
        start = m
        na0 = 0
        npr = 0
        add = offset[i] if add_offset else 0.0
        # 1. primary photoelectrons
        mu = mean[i]
        if intrinsic > 0.0 and mu > 0.0:
            mu = mu * max(0.0, 1.0 + intrinsic * standard_normal(s))
        if photons_mode:
            k = binomial(s, poisson(s, mu), pde)
        else:
            k = poisson(s, mu)
        n_prim[i] = k
        cum = cum_er if is_er[i] else cum_nr
        for _ in range(k):
            c = 0
            if n_comp > 1:
                u = uniform(s)
                while u >= cum[c]:
                    c += 1
            t = taus[c] * standard_exponential(s)
            if jitter > 0.0:
                t += jitter * standard_normal(s)
            if t >= hi:
                continue
            a = _pick_array(s, n_arrays, share)
            m, xt_gap, gap, x0, xp = _avalanche(s, t, a, 0, add, lam, borel_cdf, xt_gap, p_ap, tau_ap, log_q_ap,
                                                    gap, lo, hi, prompt, bt, ba, bk, m)
            if m < 0:
                break
            na0 += x0
            npr += xp
        # 2. afterglow (single PE uniform in the window, split like light) and dark counts (uniform, any array:
        #    share 1/2, the same coin as int(2 u) since 2 u is exact)
        if m >= 0 and glow_mu > 0.0:
            m, xt_gap, gap, x0, xp = _window_pe(s, _noise_count(s, glow_mu, glow_p0), KIND_AFTERGLOW, share,
                                                n_arrays, add, lam, borel_cdf, xt_gap, p_ap, tau_ap, log_q_ap, gap,
                                                lo, width, hi, prompt, bt, ba, bk, m)
            na0 += x0
            npr += xp
        if m >= 0 and dark_mu > 0.0:
            m, xt_gap, gap, x0, xp = _window_pe(s, _noise_count(s, dark_mu, dark_p0), KIND_DARK, 0.5,
                                                n_arrays, add, lam, borel_cdf, xt_gap, p_ap, tau_ap, log_q_ap, gap,
                                                lo, width, hi, prompt, bt, ba, bk, m)
            na0 += x0
            npr += xp
        if m < 0:  # out of room: undo the event's draws; the driver grows the buffers and resumes here
            s[0], s[1], s[2], s[3] = s0, s1, s2, s3
            store_state(state, s)
            return i, start, xt_gap0, gap0
        npe = m - start
        n_pe[i] = npe
        n_pe_a0[i] = na0
        n_prompt_pe[i] = npr
        # 3. charge: sum of N(1, spe) single-PE charges
        if spe > 0.0 and npe > 0:
            charge[i] = max(0.0, npe + spe * math.sqrt(npe) * standard_normal(s))
        else:
            charge[i] = npe
    store_state(state, s)
    return n, m, xt_gap, gap


def _interpreted(kernel):
    """The kernel's own source run by the interpreter on the state array itself (local_state and store_state
    become no-ops; the draw helpers stay compiled): the same-draws reference of the compiled kernel."""
    g = dict(kernel.py_func.__globals__, local_state=lambda state: state, store_state=lambda dst, s: None)
    return types.FunctionType(kernel.py_func.__code__, g, "photodetect_loop")


photodetect_loop = _interpreted(_photodetect_kernel)


# --------------------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------------------
def _args(p: KernelParams):
    return (p.taus, p.cum_nr, p.cum_er, p.jitter, p.photons_mode, p.pde, p.intrinsic, p.n_arrays, p.share,
            p.lam, p.borel_cdf, p.p_ap, p.tau_ap, p.dark_per_array_ns, p.afterglow_ns, p.lo, p.hi, p.prompt, p.spe,
            p.add_offset)


def _capacity(p: KernelParams, mean) -> int:
    """Expected PE entries (all primaries in the window, crosstalk, afterpulses, noise) + 10 % + 1024."""
    per_cell = (1.0 + p.p_ap) / (1.0 - p.lam)
    noise = (p.dark_per_array_ns * p.n_arrays + p.afterglow_ns) * (p.hi - p.lo)
    return int(1.1 * (float(np.sum(mean)) + noise * len(mean)) * per_cell) + 1024


def photodetect(rng, mean, is_er, offset, p: KernelParams, *, jit: bool = True, capacity: int | None = None):
    """Photodetection of one chunk: (per-event columns, Jagged ``pe``). ``jit=False`` runs the interpreted body
    (same draws); ``capacity`` sets the first buffer size (default: expected PE + 10 %; tests use small ones)."""
    mean = np.ascontiguousarray(mean, dtype=np.float64)
    is_er = np.ascontiguousarray(is_er, dtype=np.bool_)
    offset = np.ascontiguousarray(offset, dtype=np.float64)
    n = len(mean)
    state = state_from(rng)
    n_pe, n_prim, n_a0, n_prompt = (np.zeros(n, dtype=np.int32) for _ in range(4))
    charge = np.zeros(n, dtype=np.float64)
    cap = max(int(capacity if capacity is not None else _capacity(p, mean)), 16)
    bt, ba, bk = np.empty(cap, np.float32), np.empty(cap, np.int8), np.empty(cap, np.int8)
    args = _args(p)
    first, m, xt_gap, gap = 0, 0, -1, -1
    fn = _photodetect_kernel if jit else photodetect_loop
    while True:
        first, m, xt_gap, gap = fn(state, first, m, xt_gap, gap, mean, is_er, offset, *args, n_pe, n_prim, n_a0,
                                   n_prompt, charge, bt, ba, bk)
        if first >= n:
            break
        cap *= 2  # an event did not fit: grow (amortised doubling) and resume at it
        bt, ba, bk = (np.concatenate([b[:m], np.empty(cap - m, b.dtype)]) for b in (bt, ba, bk))
    jag = Jagged(n_pe, {"time_ns": bt[:m], "array": ba[:m], "kind": bk[:m]})
    return {"num_pe": n_pe, "num_primary_pe": n_prim, "num_pe_a": n_a0, "num_pe_b": n_pe - n_a0,
            "num_prompt_pe": n_prompt, "charge_pe": charge}, jag
