"""A small, fast random-number generator for the sampling kernels: xoshiro256++.

Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47 (2021) 36
(reference C code at prng.di.unimi.it). 256-bit state, period 2^256 - 1, passes BigCrush; ~1.5 ns per
draw here against ~7 ns for numpy's Generator called from numba, which matters when an event needs a
dozen draws. Each chunk's state comes from ``SeedSequence(seed, spawn_key=(stage, k)).generate_state``,
so streams stay independent and reproducible exactly as with numpy's own bit generators.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types, uint64
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

__all__ = ["binomial", "binomial_large", "chunk_states", "exponential", "local_state", "next_u64", "poisson",
           "poisson_inversion", "standard_exponential", "standard_normal", "state_from", "store_state", "uniform",
           "ziggurat_tables"]

_M53 = 1.0 / 9007199254740992.0  # 2^-53
STATE_WORDS = 4  # xoshiro256++: 4 x 64 bits


def chunk_states(seed: int, chunk_ids, stage: int) -> np.ndarray:
    """One xoshiro256++ state (4 x uint64) per global chunk index, from SeedSequence spawn keys."""
    out = np.empty((len(chunk_ids), STATE_WORDS), dtype=np.uint64)
    for row, k in enumerate(chunk_ids):
        s = np.random.SeedSequence(seed, spawn_key=(stage, int(k))).generate_state(STATE_WORDS, np.uint64)
        if not s.any():  # the all-zero state is the one fixed point; SeedSequence never gives it in practice
            s[0] = 1
        out[row] = s
    return out


@njit(uint64(uint64, uint64), cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (uint64(64) - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """Advance the state ``s`` (uint64[4], modified in place) and return 64 random bits."""
    result = _rotl(s[0] + s[3], uint64(23)) + s[0]
    t = s[1] << uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], uint64(45))
    return result


_STATE_ARRAY = types.Array(types.uint64, 1, "C")


@intrinsic
def local_state(typingctx, src):
    """A copy of the state ``src`` in the calling kernel's own stack frame, to draw from instead of ``src``.

    The kernels write their outputs through array pointers that LLVM cannot prove distinct from a state held in
    an argument array, so it stores the state back after every draw; a stack copy that never escapes is promoted
    to registers instead (A/B runs: 3-14 % of the sampler's time, ~15 % of the xenon chain's). Copy it back
    with :func:`store_state` if the stream is to continue. The copy lives as long as the calling function: use
    it there (and in helpers inlined into it, inline="always"), never return it or hand it to a function that is
    not inlined.
    """
    if not (isinstance(src, types.Array) and src.ndim == 1 and src.dtype == types.uint64):
        return None
    sig = _STATE_ARRAY(src)

    def codegen(context, builder, signature, args):
        src_ary = make_array(signature.args[0])(context, builder, args[0])
        word = context.get_value_type(types.uint64)
        buf = cgutils.alloca_once(builder, word, size=STATE_WORDS)  # in the function's entry block
        for i in range(STATE_WORDS):
            ptr = cgutils.get_item_pointer(context, builder, signature.args[0], src_ary,
                                           [context.get_constant(types.intp, i)])
            builder.store(builder.load(ptr), cgutils.gep_inbounds(builder, buf, i))
        out = make_array(_STATE_ARRAY)(context, builder)
        intp = context.get_value_type(types.intp)
        populate_array(out, data=buf, shape=[intp(STATE_WORDS)], strides=[intp(8)], itemsize=intp(8),
                       meminfo=None)
        return out._getvalue()

    return sig, codegen


@njit(cache=True, inline="always")
def store_state(dst, s):
    """Copy the state ``s`` (a :func:`local_state`) back into ``dst``, so that its stream continues from there."""
    for i in range(STATE_WORDS):
        dst[i] = s[i]


@njit(cache=True, inline="always")
def uniform(s):
    """Uniform double in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> uint64(11)) * _M53


@njit(cache=True, inline="always")
def uniform_open(s):
    """Uniform double in (0, 1]."""
    return (float(next_u64(s) >> uint64(11)) + 1.0) * _M53


def ziggurat_tables(kind: str, n_layers: int = 256):
    """Layer edges X[0..N] and heights F[0..N] of the ziggurat for exp(-x^2/2) ("normal") or exp(-x) ("exponential").

    Marsaglia & Tsang, "The ziggurat method for generating random variables", J. Stat. Softw. 5 (2000) 8:
    N equal-area layers of area v; layer i >= 1 is the rectangle [0, X[i]] x [F[i], F[i+1]], the base layer the
    rectangle [0, r] x [0, f(r)] plus the tail beyond r, with the virtual width X[0] = v / f(r). r for N = 256 is
    from the paper; v follows from r, and the recursion closes at the top (F[N] = f(0) = 1) to ~1e-14
    (tests/generator/test_sampler_kernels.py checks it).
    """
    if n_layers != 256:
        raise ValueError("only the 256-layer ziggurat (Marsaglia & Tsang's r) is tabulated")
    if kind == "normal":
        r = 3.6541528853610088
        f = lambda x: np.exp(-0.5 * x * x)  # noqa: E731
        finv = lambda y: np.sqrt(-2.0 * np.log(y))  # noqa: E731
        from math import erfc, pi, sqrt
        tail = sqrt(pi / 2.0) * erfc(r / sqrt(2.0))
    elif kind == "exponential":
        r = 7.69711747013104972
        f = lambda x: np.exp(-x)  # noqa: E731
        finv = lambda y: -np.log(y)  # noqa: E731
        tail = float(np.exp(-r))
    else:
        raise ValueError(f"unknown ziggurat kind {kind!r}; allowed: 'normal', 'exponential'")
    v = r * f(r) + tail
    x = np.empty(n_layers + 1)
    x[0], x[1] = v / f(r), r
    for i in range(1, n_layers - 1):
        x[i + 1] = finv(f(x[i]) + v / x[i])
    x[n_layers] = 0.0
    fx = f(x)
    fx[n_layers] = 1.0
    return x, fx, v, r


_ZN_X, _ZN_F, _, _ZN_R = ziggurat_tables("normal")
_ZE_X, _ZE_F, _, _ZE_R = ziggurat_tables("exponential")
# Fast-path test u < X[i+1] / X[i] (x = u X[i] lies inside the layer below the curve): ~99 % of draws.
_ZN_RATIO = _ZN_X[1:] / _ZN_X[:-1]
_ZE_RATIO = _ZE_X[1:] / _ZE_X[:-1]


@njit(cache=True, inline="always")
def _ziggurat_draw(s):
    """One 64-bit draw split for a 256-layer ziggurat: (bits, layer from bits 0-7, abscissa fraction in [0, 1)
    from bits 11-63). xoshiro256++'s low bits are as good as its high bits (Blackman & Vigna 2021), so they
    can share one output."""
    b = next_u64(s)
    return b, b & np.uint64(255), float(b >> np.uint64(11)) * _M53


@njit(cache=True, inline="always")
def standard_normal(s):
    """Standard normal deviate, ziggurat with 256 layers: one 64-bit draw on ~99 % of calls (exact, no approximation).

    Bit 8 of the layer draw gives the sign (see :func:`_ziggurat_draw`).
    """
    while True:
        b, i, u = _ziggurat_draw(s)
        x = u * _ZN_X[i]
        if u < _ZN_RATIO[i]:
            return -x if (b >> np.uint64(8)) & np.uint64(1) else x
        if i == 0:  # tail beyond r (Marsaglia 1964)
            while True:
                xt = -np.log(uniform_open(s)) / _ZN_R
                yt = -np.log(uniform_open(s))
                if yt + yt > xt * xt:
                    break
            x = _ZN_R + xt
            return -x if (b >> np.uint64(8)) & np.uint64(1) else x
        if _ZN_F[i] + uniform(s) * (_ZN_F[i + 1] - _ZN_F[i]) < np.exp(-0.5 * x * x):
            return -x if (b >> np.uint64(8)) & np.uint64(1) else x


@njit(cache=True, inline="always")
def standard_exponential(s):
    """Exp(1) deviate, ziggurat with 256 layers (exact); the tail beyond r is r + Exp(1) by memorylessness."""
    shift = 0.0
    while True:
        _, i, u = _ziggurat_draw(s)
        x = u * _ZE_X[i]
        if u < _ZE_RATIO[i]:
            return shift + x
        if i == 0:
            shift += _ZE_R
            continue
        if _ZE_F[i] + uniform(s) * (_ZE_F[i + 1] - _ZE_F[i]) < np.exp(-x):
            return shift + x


@njit(cache=True, inline="always")
def exponential(s, mean):
    return mean * standard_exponential(s)


# Up to this many trials, counting uniforms below p is cheaper than any set-up with transcendentals.
BINOMIAL_BERNOULLI_MAX_N = 24
# Up to this mean (n min(p, 1 - p)) the inversion walks up from 0 (numpy's switch to BTPE is at 30 too);
# above, it walks outwards from the mode, ~1.6 sigma steps.
BINOMIAL_INVERSION_MAX_MEAN = 30.0


@njit(cache=True, inline="always")
def binomial(s, n, p):
    """Binomial(n, p) deviate, exact (up to the rounding of the pmf recursions, ~1e-15). n <= 24: the count of n
    uniforms below p (inlined: no call, no transcendental); larger n: :func:`binomial_large`."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if n <= BINOMIAL_BERNOULLI_MAX_N:
        k = 0
        for _ in range(n):
            k += uniform(s) < p
        return k
    return binomial_large(s, n, p)


@njit(cache=True)
def binomial_large(s, n, p):
    """Binomial(n, p) for 0 < p < 1 by inversion, with the p <-> 1 - p symmetry: from 0 upwards when the mean is
    small (as numpy does below 30, its 10-sigma restart included), otherwise outwards from the mode m,
    visiting m, m+1, m-1, m+2, ... (an inversion over a reordering of the outcomes, still exact; Kemp 1986's
    chop-down search), with P(m) from log-gamma functions."""
    flip = p > 0.5
    pp = 1.0 - p if flip else p
    q = 1.0 - pp
    mean = n * pp
    ratio = pp / q
    if mean <= BINOMIAL_INVERSION_MAX_MEAN:
        qn = np.exp(n * np.log1p(-pp))
        bound = min(float(n), mean + 10.0 * np.sqrt(mean * q + 1.0))
        x = 0
        px = qn
        u = uniform(s)
        while u > px:
            x += 1
            if x > bound:
                x = 0
                px = qn
                u = uniform(s)
            else:
                u -= px
                px *= (n - x + 1) * ratio / x
        return n - x if flip else x
    m = int((n + 1) * pp)
    if m > n:
        m = n
    pm = math.exp(math.lgamma(n + 1.0) - math.lgamma(m + 1.0) - math.lgamma(n - m + 1.0) + m * math.log(pp)
                  + (n - m) * math.log1p(-pp))
    while True:
        u = uniform(s)
        x = m
        if u > pm:
            u -= pm
            hi, lo = m, m
            p_hi, p_lo = pm, pm
            x = -1
            while hi < n or lo > 0:
                if hi < n:
                    p_hi *= (n - hi) * ratio / (hi + 1)
                    hi += 1
                    if u <= p_hi:
                        x = hi
                        break
                    u -= p_hi
                if lo > 0:
                    p_lo *= lo / ((n - lo + 1) * ratio)
                    lo -= 1
                    if u <= p_lo:
                        x = lo
                        break
                    u -= p_lo
            if x < 0:  # the rounding residual (~1e-15) beyond all outcomes: draw again
                continue
        return n - x if flip else x


# Below this mean the Poisson count is drawn by inversion from 0 (a uniform and ~mu multiplications); above it
# by Hoermann's transformed rejection, O(1) (valid for mu >= 10; numpy switches at the same mean).
POISSON_INVERSION_MAX_MEAN = 10.0


@njit(cache=True, inline="always")
def poisson_inversion(s, mu, p0):
    """Poisson(mu) by inversion from 0, P(0) = p0 = exp(-mu) given (precomputed for constant means). The rounding
    residual of the pmf sum (~1e-16) is absorbed by a restart beyond mean + 10 sigma + 10. For small means (cost
    ~mu; p0 underflows to 0 beyond mu ~ 745 and the restarts never end): :func:`poisson` otherwise."""
    bound = mu + 10.0 * math.sqrt(mu) + 10.0
    while True:
        u = uniform(s)
        k = 0
        p = p0
        while u > p and k <= bound:
            u -= p
            k += 1
            p *= mu / k
        if k <= bound:
            return k


@njit(cache=True, inline="always")
def _poisson_ptrs(s, mu):
    """Poisson(mu), mu >= 10: transformed rejection with squeeze, PTRS (W. Hoermann, "The transformed rejection
    method for generating Poisson random variables", Insurance: Math. Econ. 12 (1993) 39; constants a, b,
    1/alpha and v_r from the paper). Exact: the final test compares with the log pmf."""
    smu = math.sqrt(mu)
    log_mu = math.log(mu)
    b = 0.931 + 2.53 * smu
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(s) - 0.5
        v = uniform(s)
        us = 0.5 - abs(u)
        if us <= 0.0:  # u = -0.5 exactly (probability 2^-53): the transformation is undefined there
            continue
        k = math.floor((2.0 * a / us + b) * u + mu + 0.43)
        if us >= 0.07 and v <= v_r:
            return int(k)
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= -mu + k * log_mu - math.lgamma(k + 1.0):
            return int(k)


@njit(cache=True, inline="always")
def poisson(s, mu):
    """Poisson(mu) deviate from the xoshiro256++ state ``s`` (exact: inversion below a mean of 10, PTRS above)."""
    if mu <= 0.0:
        return 0
    if mu < POISSON_INVERSION_MAX_MEAN:
        return poisson_inversion(s, mu, math.exp(-mu))
    return _poisson_ptrs(s, mu)


def state_from(rng: np.random.Generator) -> np.ndarray:
    """A xoshiro256++ state drawn from a numpy Generator: reproducible from the Generator's own seed, so code that
    hands its kernels a Generator (detsim chunks) keeps one stream per chunk."""
    st = rng.bit_generator.random_raw(STATE_WORDS).astype(np.uint64)
    if not st.any():
        st[0] = 1
    return st
