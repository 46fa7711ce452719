"""numba kernel of the reweighter's table method: the ratio of each hypothesis' dsigma/dT to the generation one per
event, from tables of the charges with 4-point Lagrange interpolation (generator.reweight builds the tables and
calls it; its numpy method is the reference it is tested against, tests/generator/test_reweight.py).
"""

from __future__ import annotations

from numba import njit, prange

from ._kernels import find_cell


@njit(cache=True, inline="always")
def _lagrange4(tabs, m, r, c, j, l0, l1, l2, l3):
    return l0 * tabs[m, r, c, j] + l1 * tabs[m, r, c, j + 1] + l2 * tabs[m, r, c, j + 2] + l3 * tabs[m, r, c, j + 3]


@njit(cache=True, parallel=True, nogil=True)
def table_ratios(enu, t, row, row_mass, edges, bucket, tabs, out):
    """out[h, i] = f_{h+1} / f_0 at event i, f_m = A K + B M T/(2E^2) + C (1/T - 1/E + T/(4E^2)) from tabs[m, row].

    tabs[m, r] = (Q, I, B, 1e3 C) on ``edges`` (keV), A = Q^2 + I with the signed coherent charge Q interpolated
    (smooth through interference zeros), each by 4-point Lagrange interpolation (error O(h^4)); ``bucket`` maps
    uniform bins of T to grid cells. 0 where f_0 = 0.
    """
    n = edges.shape[0]
    nb = bucket.shape[0] - 1
    t0 = edges[0]
    inv_db = nb / (edges[n - 1] - t0)
    n_models = tabs.shape[0]
    for i in prange(enu.shape[0]):
        r = row[i]
        e = enu[i]
        tt = t[i]
        mass = row_mass[r]
        lo = find_cell(edges, bucket, t0, inv_db, tt)
        # cubic (4-point Lagrange) interpolation on the stencil around cell lo
        j = lo - 1
        if j < 0:
            j = 0
        elif j > n - 4:
            j = n - 4
        x0, x1, x2, x3 = edges[j], edges[j + 1], edges[j + 2], edges[j + 3]
        d0, d1, d2, d3 = tt - x0, tt - x1, tt - x2, tt - x3
        l0 = d1 * d2 * d3 / ((x0 - x1) * (x0 - x2) * (x0 - x3))
        l1 = d0 * d2 * d3 / ((x1 - x0) * (x1 - x2) * (x1 - x3))
        l2 = d0 * d1 * d3 / ((x2 - x0) * (x2 - x1) * (x2 - x3))
        l3 = d0 * d1 * d2 / ((x3 - x0) * (x3 - x1) * (x3 - x2))
        tm = tt * 1e-3
        tmax = 2.0 * e * e / (mass + 2.0 * e)
        inside = e > 0.0 and tm >= 0.0 and tm <= tmax
        kin = 0.0
        c2 = 0.0
        mag = 0.0
        if inside:
            kin = 1.0 - tm / e - mass * tm / (2.0 * e * e) + tm * tm / (2.0 * e * e)
            if kin < 0.0:
                kin = 0.0
            c2 = mass * tm / (2.0 * e * e)
            if tt > 0.0:
                mag = 1.0 / tt - 1e-3 / e + 1e-6 * tt / (4.0 * e * e)
        den = 0.0
        for m in range(n_models):
            qv = _lagrange4(tabs, m, r, 0, j, l0, l1, l2, l3)
            iv = _lagrange4(tabs, m, r, 1, j, l0, l1, l2, l3)
            bv = _lagrange4(tabs, m, r, 2, j, l0, l1, l2, l3)
            cv = _lagrange4(tabs, m, r, 3, j, l0, l1, l2, l3)
            av = qv * qv + (iv if iv > 0.0 else 0.0)
            if bv < 0.0:
                bv = 0.0
            if cv < 0.0:
                cv = 0.0
            f = av * kin + bv * c2
            if cv != 0.0:
                f += cv * mag
            if m == 0:
                den = f
            else:
                out[m - 1, i] = f / den if den > 0.0 else 0.0
