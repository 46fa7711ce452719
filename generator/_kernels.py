"""numba kernels of the event sampler: small pure functions over arrays.

They assume validated input (built by :mod:`generator.sampler`) and allocate nothing per event.
Random numbers come from a xoshiro256++ state per chunk (:mod:`generator._rng`), a row of ``states``.
Longer than ~400 lines because it is one concept, the sampler's per-event draw: the small helpers (alias draw,
cell lookup, interpolation) are inlined into the SM and BSM recoil samplers and the event kernels that follow,
and the row/column layout constants they share are read in one place.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._rng import exponential, local_state, standard_normal, store_state, uniform

# The per-event kernels allocate nothing, so they are compiled without numba's reference counting (NRT). With
# it, each array handed to an inlined helper inside a rejection loop costs an atomic incref and decref per event
# that numba's pruning pass cannot remove across branches (numba issues #2345, #2350, where _nrt=False is the
# maintainers' workaround): 11 pairs per SM event, more than half of the sampler's time. Such a kernel must not
# create arrays (slices are views and stay allowed).
NO_REFCOUNT = dict(cache=True, _nrt=False)

# Pulse-shape and geometry codes shared with generator.sampler.
PULSE_NONE, PULSE_GAUSSIAN, PULSE_FLAT, PULSE_DOUBLE_GAUSSIAN = 0, 1, 2, 3
SHAPE_CYLINDER, SHAPE_BOX = 0, 1
RECOIL_MONO, RECOIL_FLAT = 0, 1
# Recoil sampler: SM joint (E_nu, T) envelope (sample_joint_sm), or E_nu then the BSM piecewise envelope in T
# (sample_recoil_bsm_kev).
RECOIL_SM, RECOIL_BSM = 0, 1
# Cells per E_nu row of the SM joint envelope (generator.sampler.joint_tables): a power of two, so a cell index
# splits into (row, T cell) with a shift and a mask.
LOG_T_CELLS = 6
# Columns of the joint envelope's row tables (generator.sampler.joint_tables), 8 wide: one cache line per row.
RF_E_LO, RF_DE, RF_T_LO, RF_DT, RF_PHI_E0, RF_PHI_INV_DB, RF_MASS = range(7)
RI_PAIR, RI_ISO, RI_PHI_OFF, RI_PHI_N, RI_BUCKET_OFF, RI_N_BUCKETS = range(6)
ROW_F_WIDTH = ROW_I_WIDTH = 8


@njit(cache=True, inline="always")
def alias_draw(u, prob, alias, offset, n):
    """Draw an index in [0, n) from a Walker/Vose alias table with a single uniform."""
    x = u * n
    i = int(x)
    if i >= n:
        i = n - 1
    if x - i < prob[offset + i]:
        return i
    return alias[offset + i]


@njit(cache=True, inline="always")
def linear_fraction(s, a, b):
    """x in [0, 1] with density proportional to a + (b - a) x (a, b >= 0).

    Composition: a flat part of weight min(a, b) and a triangle of weight |b - a| / 2, whose variate is the
    max (rising) or min (falling) of two uniforms. No division or square root: uniforms are cheaper here.
    """
    m = a if a < b else b
    d = b - a if b > a else a - b
    u1 = uniform(s)
    if uniform(s) * (m + 0.5 * d) < m:
        return u1
    u2 = uniform(s)
    if b > a:
        return u1 if u1 > u2 else u2
    return u1 if u1 < u2 else u2


@njit(cache=True, inline="always")
def find_cell(edges, bucket, t0, inv_db, t):
    """Index k with edges[k] <= t < edges[k+1] on a non-uniform grid: the uniform bucket of t gives the range
    of candidate cells (``bucket`` maps uniform bins of width 1/inv_db to grid cells), then bisection."""
    n = edges.shape[0]
    nb = bucket.shape[0] - 1
    ib = int((t - t0) * inv_db)
    if ib < 0:
        ib = 0
    elif ib > nb - 1:
        ib = nb - 1
    lo = bucket[ib]
    hi = bucket[ib + 1] + 1
    if hi > n - 1:
        hi = n - 1
    while lo > 0 and edges[lo] > t:  # rounding at the bucket's edges
        lo -= 1
    while hi < n - 1 and edges[hi] <= t:
        hi += 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if edges[mid] <= t:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def interp_uniform(x, x0, inv_dx, table, row, n):
    """Linear interpolation of table[row, :n] tabulated at x0 + k / inv_dx."""
    f = (x - x0) * inv_dx
    k = int(f)
    if k < 0:
        return table[row, 0]
    if k >= n - 1:
        return table[row, n - 1]
    w = f - k
    return table[row, k] * (1.0 - w) + table[row, k + 1] * w


@njit(cache=True, inline="always")
def interp_on_grid(x, e, v, slope, off, n, bucket, boff, nb, e0, inv_db):
    """np.interp(x, e[off:off+n], v[off:off+n]) for x inside the grid; ``slope`` holds each cell's slope, so no
    division. nb == 0: a near-uniform grid (nodes within a quarter cell of e0 + k / inv_db), the cell guessed
    from x and corrected by at most a step; otherwise found by :func:`find_cell` through
    ``bucket[boff:boff+nb+1]``."""
    if nb == 0:
        k = int((x - e0) * inv_db)
        if k < 0:
            k = 0
        elif k > n - 2:
            k = n - 2
        k += off
        while k > off and e[k] > x:
            k -= 1
        while k < off + n - 2 and e[k + 1] <= x:
            k += 1
    else:
        k = off + find_cell(e[off:off + n], bucket[boff:boff + nb + 1], e0, inv_db, x)
    return v[k] + (x - e[k]) * slope[k]


@njit(cache=True, inline="always")
def sample_joint_sm(s, cell_prob, cell_alias, cell_bounds, row_f, row_i, phi_e, phi_v, phi_slope, phi_bucket, qv2, n_q,
                    t0, inv_dt):
    """(pair, E_nu in MeV, T in keV) from the SM joint density, by rejection from a piecewise-constant envelope.

    Cell c (alias table over all pairs' cells) is T cell c & (NT - 1) of row c >> LOG_T_CELLS; E and T uniform
    in the cell; accept with f_p(E, T) / (w_p upper[c]) where f_p / w_p = phi(E) K(E, T) Q_v^2(T) (K may go
    negative beyond T_max(E): such points are rejected), at once when under the cell's lower bound (squeeze: most
    points, and no need to evaluate f). cell_bounds[c] = (upper, lower). See generator.sampler.joint_tables.
    """
    n_cells = cell_prob.shape[0]
    mask = (1 << LOG_T_CELLS) - 1
    while True:
        c = alias_draw(uniform(s), cell_prob, cell_alias, 0, n_cells)
        r = c >> LOG_T_CELLS
        enu = row_f[r, RF_E_LO] + uniform(s) * row_f[r, RF_DE]
        t = row_f[r, RF_T_LO] + ((c & mask) + uniform(s)) * row_f[r, RF_DT]
        u = uniform(s) * cell_bounds[c, 0]
        if u < cell_bounds[c, 1]:
            return row_i[r, RI_PAIR], enu, t
        mass = row_f[r, RF_MASS]
        if 1e-3 * t * (mass + 2.0 * enu) > 2.0 * enu * enu:  # T > T_max(E) = 2E^2 / (M + 2E): no cross section
            continue
        iso = row_i[r, RI_ISO]
        phi = interp_on_grid(enu, phi_e, phi_v, phi_slope, row_i[r, RI_PHI_OFF], row_i[r, RI_PHI_N], phi_bucket,
                             row_i[r, RI_BUCKET_OFF], row_i[r, RI_N_BUCKETS], row_f[r, RF_PHI_E0],
                             row_f[r, RF_PHI_INV_DB])
        inv_e = 1.0 / enu
        x = 1e-3 * t * inv_e
        kin = 1.0 - x - 0.5 * mass * 1e-3 * t * inv_e * inv_e + 0.5 * x * x
        f = phi * kin * interp_uniform(t, t0, inv_dt, qv2, iso, n_q)
        if u < f:
            return row_i[r, RI_PAIR], enu, t


@njit(cache=True, inline="always")
def _guided_cell(cum, row, c, guide, v, jm):
    """Largest j < jm with cum[row, c, j] <= v (v < cum[row, c, jm]), starting from a guide table.

    guide[row, c, g] = largest j with cum[j] <= g / NG x (total), so the search interval holds ~1 cell.
    """
    ng = guide.shape[2] - 1
    tot = cum[row, c, cum.shape[2] - 1]
    g = int(v / tot * ng)
    if g > ng - 1:
        g = ng - 1
    elif g < 0:
        g = 0
    lo = guide[row, c, g]
    hi = guide[row, c, g + 1] + 1
    if hi > jm:
        hi = jm
    if lo > hi - 1:
        lo = hi - 1
    while lo > 0 and cum[row, c, lo] > v:  # rounding at the guide's edges
        lo -= 1
    while hi < jm and cum[row, c, hi] <= v:
        hi += 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if cum[row, c, mid] <= v:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _envelope_cell(cum, row, c, guide, v, jm, edges, tmax):
    """Cell k and its upper edge for the cumulative envelope mass v of term c: the cell holding T_max (edge
    T_max) when v lies beyond the last full cell, otherwise the guided search."""
    if v >= cum[row, c, jm]:
        return jm, tmax
    k = _guided_cell(cum, row, c, guide, v, jm)
    return k, edges[k + 1]


@njit(inline="always", **NO_REFCOUNT)  # inlined: the kernel's local state must not escape
def sample_recoil_bsm_kev(s, enu, mass, row, edges, bucket, tab, env, cum, guide):
    """Recoil energy (keV) from the BSM dsigma/dT at fixed E_nu, by rejection from a piecewise envelope.

    Target (units of G_F^2 M / pi, T in keV on the grid ``edges``, linear interpolation of the tables):
        f(T) = A(T) K(T) + B(T) c2 T + C(T) [1/T - 1e-3/E + 1e-6 T/(4E^2)],   c2 = 1e-3 M/(2E^2),
    tab[row] = (A, B, C) on the grid (C already x1e3 so that it multiplies 1/T in keV).
    Envelope on cell k: Ahat_k chord(T) + Bhat_k c2 T + Chat_k / T, with Xhat_k = max of the table at the cell's
    ends (env[row]) and chord(T) >= K(T) (K is convex) between the threshold and T_max; each term bounds the
    corresponding term of f, so the envelope is a true upper bound. A term is chosen by its mass on
    [threshold, T_max] (from the E-independent cumulative sums cum[row] = S0, S1, S2, SL of generator.sampler),
    then T from that term: Ahat chord by drawing from Ahat (guide table over S0) thinned by chord / K(thr);
    Bhat T and Chat / T from their cumulative sums, exactly inside the cell (linear, log-uniform). Accept with
    f / envelope. ``bucket`` maps uniform bins of T to grid cells, ``guide`` the cumulative sums to cells.
    """
    n = edges.shape[0]
    nb = bucket.shape[0] - 1
    t0 = edges[0]
    inv_db = nb / (edges[n - 1] - t0)
    inv_e = 1.0 / enu
    a = 1e-3 * (inv_e + 0.5 * mass * inv_e * inv_e)
    b = 1e-6 * 0.5 * inv_e * inv_e
    c2 = 1e-3 * 0.5 * mass * inv_e * inv_e
    m1 = 1e-3 * inv_e
    m2 = 1e-6 * 0.25 * inv_e * inv_e
    tmax = 2.0 * enu * enu / (mass + 2.0 * enu) * 1e3
    if tmax > edges[n - 1]:
        tmax = edges[n - 1]
    width = tmax - t0
    if width <= 0.0:
        return t0
    k0 = 1.0 - a * t0 + b * t0 * t0
    k1 = 1.0 - a * tmax + b * tmax * tmax
    if k1 < 0.0:
        k1 = 0.0
    beta = (k1 - k0) / width
    jm = find_cell(edges, bucket, t0, inv_db, tmax)  # the cell holding T_max
    ta = edges[jm]
    s0m = cum[row, 0, jm] + env[row, 0, jm] * (tmax - ta)  # Ahat mass on [t0, tmax]
    w1 = k0 * cum[row, 0, jm] + beta * cum[row, 1, jm] + env[row, 0, jm] * (tmax - ta) * (
        k0 + beta * (0.5 * (ta + tmax) - t0))
    w2 = c2 * (cum[row, 2, jm] + env[row, 1, jm] * 0.5 * (tmax * tmax - ta * ta))
    w3 = cum[row, 3, jm]
    if env[row, 2, jm] > 0.0:
        w3 += env[row, 2, jm] * np.log(tmax / ta)
    wtot = w1 + w2 + w3
    while True:
        u = uniform(s) * wtot
        if u < w1:
            while True:  # T ~ Ahat on [t0, tmax], thinned by chord(T) / k0: T ~ Ahat chord
                v = uniform(s) * s0m
                k, tb = _envelope_cell(cum, row, 0, guide, v, jm, edges, tmax)
                tk = edges[k]
                t = tk + uniform(s) * (tb - tk)
                if uniform(s) * k0 < k0 + beta * (t - t0):
                    break
        elif u < w1 + w2:
            v = (u - w1) / c2
            k, tb = _envelope_cell(cum, row, 2, guide, v, jm, edges, tmax)
            tk = edges[k]
            t = tk + linear_fraction(s, tk, tb) * (tb - tk)
        elif w3 > 0.0:
            v = u - w1 - w2
            k, tb = _envelope_cell(cum, row, 3, guide, v, jm, edges, tmax)
            tk = edges[k]
            t = tk * np.exp(uniform(s) * np.log(tb / tk))
        else:
            continue
        h = edges[k + 1] - tk
        w = (t - tk) / h if h > 0.0 else 0.0
        if w < 0.0:
            w = 0.0
        elif w > 1.0:
            w = 1.0
        kin = 1.0 - a * t + b * t * t
        if kin < 0.0:
            kin = 0.0
        f = (tab[row, 0, k] * (1.0 - w) + tab[row, 0, k + 1] * w) * kin
        g = env[row, 0, k] * (k0 + beta * (t - t0))
        if env[row, 1, k] > 0.0:
            f += (tab[row, 1, k] * (1.0 - w) + tab[row, 1, k + 1] * w) * c2 * t
            g += env[row, 1, k] * c2 * t
        if env[row, 2, k] > 0.0 and t > 0.0:
            f += (tab[row, 2, k] * (1.0 - w) + tab[row, 2, k + 1] * w) * (1.0 / t - m1 + m2 * t)
            g += env[row, 2, k] / t
        if uniform(s) * g < f:
            return t


@njit(cache=True, inline="always")
def sample_vertex(s, shape, p0, p1, p2):
    """Uniform point in a cylinder (p0 radius, p1 height, axis z) or a box (edges p0, p1, p2), centred on 0."""
    if shape == SHAPE_CYLINDER:
        while True:  # rejection from the square: no trigonometry, 4/pi trials on average
            x = 2.0 * uniform(s) - 1.0
            y = 2.0 * uniform(s) - 1.0
            if x * x + y * y <= 1.0:
                return p0 * x, p0 * y, p1 * (uniform(s) - 0.5)
    return p0 * (uniform(s) - 0.5), p1 * (uniform(s) - 0.5), p2 * (uniform(s) - 0.5)


@njit(cache=True, inline="always")
def sample_pulse_time(s, kind, sigma, width, separation):
    """Proton arrival time within the pulse (ns), centred on 0."""
    if kind == PULSE_GAUSSIAN:
        return sigma * standard_normal(s)
    if kind == PULSE_FLAT:
        return width * (uniform(s) - 0.5)
    centre = -0.5 * separation if uniform(s) < 0.5 else 0.5 * separation  # two equal bunches
    return centre + sigma * standard_normal(s)


@njit(**NO_REFCOUNT)
def sample_neutrino_events(state, n, first, tab_f, tab_i, pair_prob, pair_alias, pair_comp, pair_iso, pair_goff,
                           pair_boff, pair_ng, comp_line, comp_pdg, comp_tau, e_grid, g_grid, bin_prob, bin_alias,
                           iso_mass, iso_z, iso_a, qv2, pair_row, bsm_edges, bsm_bucket, bsm_tab, bsm_env, bsm_cum,
                           bsm_guide, cell_prob, cell_alias, cell_bounds, row_f, row_i, phi_e, phi_v, phi_slope, phi_bucket,
                           id_base, weight, out_id, out_weight,
                           out_comp, out_pdg, out_enu, out_z, out_a, out_t, out_pulse, out_time, out_x, out_y, out_z_cm):
    """Fill rows [first, first + n) of the outputs with CEvNS events drawn from ``state`` (advanced); event_id
    runs from id_base (chunk index x chunk size), every weight is ``weight``.

    tab_f = (t_thr_kev, t0_kev, dt_kev, pulse_sigma_ns, pulse_width_ns, pulse_separation_ns, live_time_ns,
             geo_p0, geo_p1, geo_p2); tab_i = (n_pairs, pulse_kind, n_pulses, geo_shape, recoil_mode).
    SM (recoil_mode 0): (pair, E, T) from the joint envelope (cell_*, row_f, row_i, phi_*; see
    sample_joint_sm); qv2 has one row of Q_v^2 per isotope on the uniform T grid (last column: its supremum).
    BSM (recoil_mode 1): pair p uses row pair_row[p] of bsm_tab / bsm_env / bsm_cum / bsm_guide on the grid
    bsm_edges (bsm_bucket maps uniform bins of T to its cells).
    """
    t0, inv_dt = tab_f[1], 1.0 / tab_f[2]
    sigma, width, sep, live_ns = tab_f[3], tab_f[4], tab_f[5], tab_f[6]
    g0, g1, g2 = tab_f[7], tab_f[8], tab_f[9]
    n_pairs, pulse_kind, n_pulses, shape = tab_i[0], tab_i[1], tab_i[2], tab_i[3]
    recoil_mode = tab_i[4]
    n_q = qv2.shape[1] - 1
    n_tau = comp_tau.shape[1]
    s = local_state(state)
    for j in range(first, first + n):
        if recoil_mode == RECOIL_SM:
            p, enu, t = sample_joint_sm(s, cell_prob, cell_alias, cell_bounds, row_f, row_i, phi_e, phi_v, phi_slope,
                                        phi_bucket, qv2, n_q, t0, inv_dt)
            c = pair_comp[p]
            iso = pair_iso[p]
        else:
            p = alias_draw(uniform(s), pair_prob, pair_alias, 0, n_pairs)
            c = pair_comp[p]
            iso = pair_iso[p]
            if comp_line[c] > 0.0:
                enu = comp_line[c]
            else:
                b = alias_draw(uniform(s), bin_prob, bin_alias, pair_boff[p], pair_ng[p] - 1)
                g = pair_goff[p] + b
                x = linear_fraction(s, g_grid[g], g_grid[g + 1])
                enu = e_grid[g] + x * (e_grid[g + 1] - e_grid[g])
            t = sample_recoil_bsm_kev(s, enu, iso_mass[iso], pair_row[p], bsm_edges, bsm_bucket, bsm_tab, bsm_env,
                                      bsm_cum, bsm_guide)
        if pulse_kind == PULSE_NONE:
            time = live_ns * uniform(s)
            pulse = -1
        else:
            time = sample_pulse_time(s, pulse_kind, sigma, width, sep)
            for k in range(n_tau):
                if comp_tau[c, k] > 0.0:
                    time += exponential(s, comp_tau[c, k])
            pulse = int(uniform(s) * n_pulses)
        x, y, z = sample_vertex(s, shape, g0, g1, g2)
        out_id[j] = id_base + j - first
        out_weight[j] = weight
        out_comp[j] = c
        out_pdg[j] = comp_pdg[c]
        out_enu[j] = enu
        out_z[j] = iso_z[iso]
        out_a[j] = iso_a[iso]
        out_t[j] = t
        out_pulse[j] = pulse
        out_time[j] = time
        out_x[j] = x
        out_y[j] = y
        out_z_cm[j] = z
    store_state(state, s)


@njit(**NO_REFCOUNT)
def sample_calibration_events(state, n, first, mode, t_lo, t_hi, iso_prob, iso_alias, iso_z, iso_a, live_ns, shape,
                              g0, g1, g2, id_base, weight, out_id, out_weight, out_z, out_a, out_t, out_time, out_x,
                              out_y, out_z_cm):
    """Recoils at a fixed energy (mode 0, t_lo) or flat in [t_lo, t_hi) (mode 1), uniform in time and volume."""
    n_iso = iso_z.shape[0]
    s = local_state(state)
    for j in range(first, first + n):
        iso = alias_draw(uniform(s), iso_prob, iso_alias, 0, n_iso)
        out_id[j] = id_base + j - first
        out_weight[j] = weight
        out_z[j] = iso_z[iso]
        out_a[j] = iso_a[iso]
        out_t[j] = t_lo if mode == RECOIL_MONO else t_lo + (t_hi - t_lo) * uniform(s)
        out_time[j] = live_ns * uniform(s)
        x, y, z = sample_vertex(s, shape, g0, g1, g2)
        out_x[j] = x
        out_y[j] = y
        out_z_cm[j] = z
    store_state(state, s)


@njit(parallel=True, nogil=True, **NO_REFCOUNT)
def sample_neutrino_chunks(states, starts, counts, tab_f, tab_i, pair_prob, pair_alias, pair_comp, pair_iso,
                           pair_goff, pair_boff, pair_ng, comp_line, comp_pdg, comp_tau, e_grid, g_grid, bin_prob,
                           bin_alias, iso_mass, iso_z, iso_a, qv2, pair_row, bsm_edges, bsm_bucket, bsm_tab, bsm_env,
                           bsm_cum, bsm_guide, cell_prob, cell_alias, cell_bounds, row_f, row_i, phi_e, phi_v, phi_slope,
                           phi_bucket, id_base, weight, out_id,
                           out_weight, out_comp, out_pdg, out_enu, out_z, out_a, out_t, out_pulse, out_time, out_x, out_y,
                           out_z_cm):
    """One chunk per iteration, each with its own state row: identical output for any thread count.
    id_base[k]: the first event_id of chunk k."""
    for k in prange(states.shape[0]):
        sample_neutrino_events(states[k], counts[k], starts[k], tab_f, tab_i, pair_prob, pair_alias, pair_comp,
                               pair_iso, pair_goff, pair_boff, pair_ng, comp_line, comp_pdg, comp_tau, e_grid, g_grid,
                               bin_prob, bin_alias, iso_mass, iso_z, iso_a, qv2, pair_row, bsm_edges, bsm_bucket,
                               bsm_tab, bsm_env, bsm_cum, bsm_guide, cell_prob, cell_alias, cell_bounds, row_f, row_i,
                               phi_e, phi_v, phi_slope, phi_bucket,
                               id_base[k], weight, out_id, out_weight, out_comp, out_pdg, out_enu, out_z, out_a, out_t,
                               out_pulse, out_time, out_x, out_y, out_z_cm)


@njit(parallel=True, nogil=True, **NO_REFCOUNT)
def sample_calibration_chunks(states, starts, counts, mode, t_lo, t_hi, iso_prob, iso_alias, iso_z, iso_a, live_ns,
                              shape, g0, g1, g2, id_base, weight, out_id, out_weight, out_z, out_a, out_t, out_time,
                              out_x, out_y, out_z_cm):
    for k in prange(states.shape[0]):
        sample_calibration_events(states[k], counts[k], starts[k], mode, t_lo, t_hi, iso_prob, iso_alias, iso_z,
                                  iso_a, live_ns, shape, g0, g1, g2, id_base[k], weight, out_id, out_weight, out_z,
                                  out_a, out_t, out_time, out_x, out_y, out_z_cm)
