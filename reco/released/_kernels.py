"""numba versions of the per-bin profiled likelihood of :mod:`reco.released.likelihood` (tested against the
numpy reference there): a toy fit calls it a few hundred times on ~100 bins, where numpy's per-call overhead
was most of the fit's time."""

from __future__ import annotations

import math

from numba import njit

__all__ = ["profiled_derivatives", "profiled_nll_sum", "scales_nll", "scales_nll_gradient"]


@njit(cache=True, inline="always")
def _bin_nll(lam, var, n):
    """One bin's min over delta of Poisson(n | lam + delta) + delta^2 / (2 var), as -log L (no constant).
    x = lam + delta is the positive root of x^2 + (var - lam) x - n var = 0, written without cancellation."""
    if var > 0.0:
        d = lam - var
        root = math.sqrt(d * d + 4.0 * n * var)
        x = 0.5 * (d + root) if d >= 0.0 else 2.0 * n * var / (root - d)
        value = x + (x - lam) ** 2 / (2.0 * var)
    else:
        x = lam
        value = x
    if n > 0.0:
        value -= n * math.log(x) if x > 0.0 else -math.inf
    return value


@njit(cache=True, inline="always")
def _bin_derivatives(lam, var, n):
    """(d/d lam, d/d var) of :func:`_bin_nll` (envelope theorem: the partial derivatives at the profiled x)."""
    if var > 0.0:
        d = lam - var
        root = math.sqrt(d * d + 4.0 * n * var)
        r = (0.5 * (d + root) if d >= 0.0 else 2.0 * n * var / (root - d)) - lam
        return -r / var, -(r * r) / (2.0 * var * var)
    if n > 0.0:
        return 1.0 - n / (lam if lam > 0.0 else 1e-300), 0.0
    return 1.0, 0.0


@njit(cache=True, inline="always")
def _bin_expectation(scales, templates, variance, b):
    """(lam_b, var_b) = (sum_j s_j T_jb, sum_j s_j^2 V_jb)."""
    lam = 0.0
    var = 0.0
    for j in range(templates.shape[0]):
        lam += scales[j] * templates[j, b]
        var += scales[j] * scales[j] * variance[j, b]
    return lam, var


@njit(cache=True)
def profiled_nll_sum(lam, var, n):
    """Sum over bins of :func:`_bin_nll`."""
    total = 0.0
    for b in range(lam.shape[0]):
        total += _bin_nll(lam[b], var[b], n[b])
    return total


@njit(cache=True)
def profiled_derivatives(lam, var, n, g_lam, g_var):
    """Fill g_lam, g_var with each bin's derivatives of :func:`_bin_nll`."""
    for b in range(lam.shape[0]):
        g_lam[b], g_var[b] = _bin_derivatives(lam[b], var[b], n[b])


@njit(cache=True)
def scales_nll(scales, templates, variance, n, inv_prior_var):
    """The whole NLL at fixed templates (no shape nuisance): profiled bins of lam_b, var_b plus the Gaussian
    priors 0.5 (s_j - 1)^2 / sigma_j^2 (inv_prior_var_j = 0: no prior)."""
    total = 0.0
    for b in range(templates.shape[1]):
        lam, var = _bin_expectation(scales, templates, variance, b)
        total += _bin_nll(lam, var, n[b])
    for j in range(templates.shape[0]):
        total += 0.5 * inv_prior_var[j] * (scales[j] - 1.0) ** 2
    return total


@njit(cache=True)
def scales_nll_gradient(scales, templates, variance, n, inv_prior_var, out):
    """Fill ``out`` with d NLL / d s_j of :func:`scales_nll`."""
    n_c = templates.shape[0]
    for j in range(n_c):
        out[j] = inv_prior_var[j] * (scales[j] - 1.0)
    for b in range(templates.shape[1]):
        lam, var = _bin_expectation(scales, templates, variance, b)
        g_lam, g_var = _bin_derivatives(lam, var, n[b])
        for j in range(n_c):
            out[j] += g_lam * templates[j, b] + 2.0 * scales[j] * variance[j, b] * g_var
