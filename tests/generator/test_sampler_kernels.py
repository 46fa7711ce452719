"""Sampler building blocks against exact references: RNG, alias tables, linear-density draws."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from generator import _kernels as K
from generator._rng import (
    binomial,
    chunk_states,
    local_state,
    next_u64,
    poisson,
    standard_exponential,
    standard_normal,
    store_state,
    uniform,
)
from generator.sampler import _phi_lookup, alias_table


def xoshiro256pp_reference(state, n):
    """Pure-Python xoshiro256++ (Blackman & Vigna, reference C code) for comparison."""
    mask = (1 << 64) - 1
    s = [int(x) for x in state]

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & mask

    out = []
    for _ in range(n):
        out.append((rotl((s[0] + s[3]) & mask, 23) + s[0]) & mask)
        t = (s[1] << 17) & mask
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


@njit
def _draw_u64(s, n):
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = next_u64(s)
    return out


def test_xoshiro_matches_reference():
    st = chunk_states(7, [3], stage=0)[0]
    ref = xoshiro256pp_reference(st.copy(), 1000)
    got = _draw_u64(st.copy(), 1000)
    assert [int(x) for x in got] == ref


def test_streams_differ_per_chunk_and_stage():
    a, b = chunk_states(1, [0, 1], stage=0)
    c = chunk_states(1, [0], stage=1)[0]
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(chunk_states(1, [5], 0)[0], chunk_states(1, [4, 5], 0)[1])


@njit
def _draws(draw, s, n):
    """n deviates of the jitted ``draw(s)`` (uniform, standard_normal, ...) from state s."""
    out = np.empty(n)
    for i in range(n):
        out[i] = draw(s)
    return out


def test_uniform_and_normal_distributions():
    st = chunk_states(11, [0], 0)[0]
    u = _draws(uniform, st, 200_000)
    assert u.min() >= 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    z = _draws(standard_normal, st, 200_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3


@pytest.mark.parametrize("weights", [[1.0], [1, 2, 3, 4], [0.0, 5.0, 0.0, 1.0, 1e-6], np.arange(1, 200.0)])
def test_alias_table_is_exact(weights):
    w = np.asarray(weights, dtype=float)
    prob, alias = alias_table(w)
    n = w.size
    implied = prob.copy()
    for j in range(n):
        implied[alias[j]] += 1.0 - prob[j]
    np.testing.assert_allclose(implied / n, w / w.sum(), atol=1e-12)


def test_alias_table_rejects_bad_weights():
    with pytest.raises(ValueError):
        alias_table([0.0, 0.0])
    with pytest.raises(ValueError):
        alias_table([1.0, -1.0])


@njit
def _linear(s, n, a, b):
    out = np.empty(n)
    for i in range(n):
        out[i] = K.linear_fraction(s, a, b)
    return out


@pytest.mark.parametrize("a, b", [(1.0, 3.0), (3.0, 1.0), (0.0, 2.0), (2.0, 0.0), (1.0, 1.0)])
def test_linear_fraction_matches_its_density(a, b):
    st = chunk_states(3, [0], 0)[0]
    x = _linear(st, 100_000, a, b)

    def cdf(t):
        return (a * t + 0.5 * (b - a) * t * t) / (0.5 * (a + b))

    assert stats.kstest(x, cdf).pvalue > 1e-3


@njit
def _vertices(s, n, shape, p0, p1, p2):
    out = np.empty((n, 3))
    for i in range(n):
        out[i, 0], out[i, 1], out[i, 2] = K.sample_vertex(s, shape, p0, p1, p2)
    return out


def test_vertices_uniform_in_cylinder_and_box():
    st = chunk_states(5, [0], 0)[0]
    v = _vertices(st, 100_000, K.SHAPE_CYLINDER, 4.0, 10.0, 0.0)
    r2 = (v[:, 0] ** 2 + v[:, 1] ** 2) / 16.0
    assert r2.max() <= 1.0 and np.abs(v[:, 2]).max() <= 5.0
    assert stats.kstest(r2, "uniform").pvalue > 1e-3  # r^2 uniform <=> uniform in the disc
    phi = (np.arctan2(v[:, 1], v[:, 0]) + np.pi) / (2 * np.pi)
    assert stats.kstest(phi, "uniform").pvalue > 1e-3
    assert stats.kstest(v[:, 2] / 10.0 + 0.5, "uniform").pvalue > 1e-3
    b = _vertices(st, 50_000, K.SHAPE_BOX, 2.0, 4.0, 6.0)
    for axis, edge in enumerate((2.0, 4.0, 6.0)):
        assert stats.kstest(b[:, axis] / edge + 0.5, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("kind", ["normal", "exponential"])
def test_ziggurat_layers_have_equal_area_and_close_at_the_top(kind):
    from generator._rng import ziggurat_tables
    x, f, v, r = ziggurat_tables(kind)
    # Layer i >= 1 is [0, X_i] x [F_i, F_(i+1)]: area X_i (F_(i+1) - F_i) = v, closing at F_N = f(0) = 1.
    areas = x[1:-1] * (f[2:] - f[1:-1])
    np.testing.assert_allclose(areas, v, rtol=1e-9)
    tail = np.sqrt(np.pi / 2) * stats.norm.sf(r) * 2 if kind == "normal" else np.exp(-r)
    assert r * f[1] + tail == pytest.approx(v, rel=1e-12)


def test_ziggurat_samples_follow_their_densities_including_tails():
    st = chunk_states(5, [0], 0)[0]
    z = _draws(standard_normal, st, 1_000_000)
    e = _draws(standard_exponential, st, 1_000_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert stats.kstest(e, "expon").pvalue > 1e-3
    assert e.min() >= 0
    # The tails beyond the base layer (|z| > 3.654, e > 7.697) come from the separate tail algorithms.
    k = np.count_nonzero(np.abs(z) > 3.6541528853610088)
    assert abs(k - 1e6 * 2 * stats.norm.sf(3.6541528853610088)) < 4 * np.sqrt(1e6 * 2 * stats.norm.sf(3.654))
    tail = e[e > 7.69711747013104972] - 7.69711747013104972
    assert abs(tail.size - 1e6 * np.exp(-7.697)) < 4 * np.sqrt(1e6 * np.exp(-7.697))
    assert stats.kstest(tail, "expon").pvalue > 1e-3
    assert stats.kstest(np.abs(z[np.abs(z) > 3.0]), lambda v: 1 - stats.norm.sf(v) / stats.norm.sf(3.0)).pvalue > 1e-3


@njit
def _binomials(s, n, p, size):
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        out[i] = binomial(s, n, p)
    return out


@pytest.mark.parametrize("n, p", [(1, 0.3), (12, 0.15), (40, 0.97), (200, 0.05), (3000, 0.4), (0, 0.5), (7, 0.0),
                                  (7, 1.0), (100, 0.5), (61, 0.6), (250, 0.93), (20000, 0.001), (100000, 0.3)])
def test_binomial_matches_its_pmf(n, p):
    """Bernoulli sums (n <= 24), inversion from 0 (small means, both sides of p = 1/2) and from the mode
    (n min(p, 1-p) > 30) against the exact pmf."""
    st = chunk_states(2, [0], 0)[0]
    x = _binomials(st, n, p, 200_000)
    assert x.min() >= 0 and x.max() <= n
    if p in (0.0, 1.0) or n == 0:
        assert np.all(x == round(n * p))
        return
    k = np.arange(n + 1)
    pmf = stats.binom.pmf(k, n, p)
    keep = pmf * x.size > 5  # chi2 cells with enough expectation; the rest pooled
    obs = np.bincount(x, minlength=n + 1)
    o = np.append(obs[keep], obs[~keep].sum())
    e = np.append(pmf[keep], pmf[~keep].sum()) * x.size
    if e[-1] < 5:
        o, e = o[:-1], e[:-1] * o[:-1].sum() / e[:-1].sum()
    assert stats.chisquare(o, e).pvalue > 1e-3


@njit
def _poissons(s, mu, size):
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        out[i] = poisson(s, mu)
    return out


@pytest.mark.parametrize("mu", [0.0, 0.02, 3.0, 9.99, 10.0, 55.0, 2500.0])
def test_poisson_matches_its_pmf(mu):
    """Inversion from 0 (mu < 10) and Hoermann's PTRS (1993, mu >= 10) against the exact pmf (chi2, tails pooled)."""
    st = chunk_states(3, [0], 0)[0]
    x = _poissons(st, mu, 200_000)
    if mu == 0.0:
        assert np.all(x == 0)
        return
    n_max = int(mu + 12 * np.sqrt(mu) + 12)
    assert x.min() >= 0 and x.max() < n_max
    pmf = stats.poisson.pmf(np.arange(n_max), mu)
    keep = pmf * x.size > 5
    obs = np.bincount(x, minlength=n_max)
    o = np.append(obs[keep], obs[~keep].sum())
    e = np.append(pmf[keep], stats.poisson.sf(-1, mu) - pmf[keep].sum()) * x.size
    if e[-1] < 5:
        o, e = o[:-1], e[:-1] * o[:-1].sum() / e[:-1].sum()
    assert stats.chisquare(o, e).pvalue > 1e-3


@njit
def _interp_many(x, e, v, slope, off, n, bucket, boff, nb, e0, inv_db):
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = K.interp_on_grid(x[i], e, v, slope, off, n, bucket, boff, nb, e0, inv_db)
    return out


@pytest.mark.parametrize("grid", ["uniform", "near-uniform", "log", "line"])
def test_phi_lookup_matches_np_interp(grid):
    # The joint sampler's phi(E): direct index on (near-)uniform grids, bucket index otherwise; both must give
    # np.interp's value (same cell) everywhere, nodes and both ends included, with another table before it.
    rng = np.random.default_rng(11)
    step = 0.0045
    e = {"uniform": 1.0 + step * np.arange(2001),
         "near-uniform": 1.0 + step * (np.arange(2001) + rng.uniform(-0.2, 0.2, 2001) * (np.arange(2001) % 2000 > 0)),
         "log": np.geomspace(0.1, 20.0, 300),
         "line": np.array([14.9, 44.7])}[grid]
    v = rng.random(e.size)
    phi_e, phi_v, phi_slope, bucket = [], [], [], []
    _phi_lookup(np.linspace(0.0, 1.0, 7), np.ones(7), phi_e, phi_v, phi_slope, bucket)  # a first table
    e0, inv_db, nb = _phi_lookup(e, v, phi_e, phi_v, phi_slope, bucket)
    assert (nb == 0) == (grid != "log")
    off, boff = phi_e[0].size, bucket[0].size
    x = np.concatenate([e, rng.uniform(e[0], e[-1], 20_000)])
    got = _interp_many(x, np.concatenate(phi_e), np.concatenate(phi_v), np.concatenate(phi_slope),
                       off, e.size, np.concatenate(bucket), boff, nb, e0, inv_db)
    np.testing.assert_allclose(got, np.interp(x, e, v), rtol=1e-12, atol=1e-15)


@njit(_nrt=False)
def _draw_through_local_state(state, n):
    s = local_state(state)
    out = 0.0
    for _ in range(n):
        out += uniform(s) + standard_normal(s)
    store_state(state, s)
    return out


@njit
def _draw_in_place(state, n):
    out = 0.0
    for _ in range(n):
        out += uniform(state) + standard_normal(state)
    return out


def test_local_state_draws_the_same_stream_and_hands_it_back():
    # The kernels draw from a stack copy of their chunk's state (kept in registers); the numbers and the state
    # left behind must be those of drawing from the array itself, also for a strided view of the state.
    rows = chunk_states(3, [0, 1], stage=0)
    strided = np.zeros(8, dtype=np.uint64)
    strided[::2] = rows[1]
    for src, ref in ((rows[0].copy(), rows[0].copy()), (strided[::2], rows[1].copy())):
        assert _draw_through_local_state(src, 1000) == _draw_in_place(ref, 1000)
        np.testing.assert_array_equal(src, ref)
