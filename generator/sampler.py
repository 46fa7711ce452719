"""Event sampler: tables built once per (source, target), then numba kernels draw the events.

Per event, in the SM: (component, isotope) pair, E_nu and T together, by rejection from a piecewise-constant
envelope of the joint density Phi_c N_i p_c(E) dsigma_i/dT(E, T) over cells in (pair, E_nu, T) (alias table
over the cells, see :func:`joint_tables` and :func:`generator._kernels.sample_joint_sm`; ~93 % accepted).
Under a BSM hypothesis: the pair from an alias table weighted by the expected rate; E_nu from the pair's
piecewise-linear density p(E) sigma_thr(E) (alias over bins, exact inversion inside a bin); T by rejection
(:func:`generator._kernels.sample_recoil_bsm_kev`, tables per (flavour, isotope)). Then the time (pulse index
and time in the pulse = proton pulse (x) decay chain, by ziggurat normal and exponential draws, or uniform over
the live time) and a vertex uniform in the active volume.

Randomness: chunk k of a run draws from ``SeedSequence(seed, spawn_key=(STAGE_GENERATOR, k))``, so the
events depend only on (seed, chunk size, k): not on threads, jobs or which chunks a job holds.

Longer than ~400 lines because it is one concept, the sampler's tables: every array the kernels of
generator._kernels read (SM joint envelope, BSM recoil tables, time and vertex parameters) is built here in the
layout those kernels index, so the builders and the driver that hands them over stay together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _kernels as K
from ._rng import chunk_states
from .config import CALIBRATION_KINDS
from .bsm import bsm_charges
from .cross_section import weak_charge
from .experiment import Experiment
from .kinematics import enu_min_mev, t_max_kev
from .rates import RateTable, expected_rates

__all__ = [
    "EVENT_COLUMNS_TRUTH",
    "STAGE_GENERATOR",
    "SamplerTables",
    "alias_table",
    "chunk_sizes",
    "empty_truth",
    "sample_chunks",
]

STAGE_GENERATOR = 0
COUNT_STREAM = 2**32 - 1  # spawn key of the pseudo-experiment's Poisson count (never a chunk index)
N_RECOIL_GRID = 4096
# BSM recoil tables: the uniform grid plus a geometric one towards the threshold (resolves light-mediator
# propagators and the magnetic 1/T), in fractions of [threshold, highest recoil].
N_RECOIL_GRID_BSM = 4096
N_RECOIL_GRID_GEOMETRIC = 2048
RECOIL_GRID_FINEST = 1e-9
N_GUIDE = 4096  # bins of the guide tables (uniform in T, and in each cumulative envelope mass)
# SM joint (E_nu, T) envelope: per (component, isotope) pair N_JOINT_E_ROWS rows uniform in E_nu (one row for a
# line), each cut into 2**K.LOG_T_CELLS cells uniform in T between the threshold and T_max at the row's top energy.
N_JOINT_E_ROWS = 32
# A spectrum's grid is indexed directly when its nodes lie within this fraction of a cell of uniform ones (the
# kernel then corrects its guess by at most one step); otherwise through buckets. See _phi_lookup.
PHI_DIRECT_TOLERANCE = 0.25

# name -> (dtype, unit)
EVENT_COLUMNS_TRUTH = {
    "event_id": (np.int64, ""),
    "component": (np.int16, ""),
    "nu_pdg": (np.int16, ""),
    "enu_mev": (np.float64, "MeV"),
    "target_z": (np.int16, ""),
    "target_a": (np.int16, ""),
    "t_nr_kev": (np.float64, "keV"),
    "pulse_index": (np.int64, ""),
    "time_ns": (np.float64, "ns"),
    "x_cm": (np.float32, "cm"),
    "y_cm": (np.float32, "cm"),
    "z_cm": (np.float32, "cm"),
    "weight": (np.float64, ""),
}


def alias_table(weights) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table (probabilities, aliases) for drawing index i with probability w_i / sum w."""
    w = np.asarray(weights, dtype=np.float64)
    n = w.size
    if n == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("alias table needs finite, non-negative weights with a positive sum")
    scaled = w * (n / w.sum())
    prob = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, big = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = big
        scaled[big] -= 1.0 - scaled[s]
        (small if scaled[big] < 1.0 else large).append(big)
    return prob, alias


def chunk_sizes(n_events: int, chunk_size: int) -> np.ndarray:
    """Events per chunk: all full except possibly the last."""
    n_chunks = -(-n_events // chunk_size)
    sizes = np.full(n_chunks, chunk_size, dtype=np.int64)
    if n_chunks:
        sizes[-1] = n_events - chunk_size * (n_chunks - 1)
    return sizes


@dataclass
class SamplerTables:
    """Everything the kernels need, as flat arrays, plus the rate table they reproduce."""

    calibration: bool
    rates: RateTable
    component_names: tuple[str, ...]
    arrays: dict

    @property
    def expected_events(self) -> float:
        return self.rates.expected_events

    @classmethod
    def build(cls, exp: Experiment) -> SamplerTables:
        cfg = exp.config
        geo = cfg.target.geometry
        shape = K.SHAPE_CYLINDER if geo.shape == "cylinder" else K.SHAPE_BOX
        gp = (geo.radius_cm, geo.height_cm, 0.0) if shape == K.SHAPE_CYLINDER else (
            geo.size_x_cm, geo.size_y_cm, geo.size_z_cm)
        isos = exp.material.isotopes
        iso_z = np.array([i.z for i in isos], dtype=np.int16)
        iso_a = np.array([i.a for i in isos], dtype=np.int16)
        grids: dict = {}
        rates = expected_rates(exp, use_efficiency=False, grids=grids)
        if cfg.source_kind in CALIBRATION_KINDS:
            frac = exp.material.nuclei_per_kg()
            prob, alias = alias_table(frac)
            s = cfg.source
            mode = K.RECOIL_MONO if cfg.source_kind == "mono_recoil" else K.RECOIL_FLAT
            lo = s.recoil_kevnr if mode == K.RECOIL_MONO else s.recoil_min_kevnr
            hi = s.recoil_kevnr if mode == K.RECOIL_MONO else s.recoil_max_kevnr
            arrays = dict(mode=mode, t_lo=float(lo), t_hi=float(hi), iso_prob=prob, iso_alias=alias, iso_z=iso_z,
                          iso_a=iso_a, live_ns=exp.live_time_s * 1e9, shape=shape, g0=gp[0], g1=gp[1], g2=gp[2])
            return cls(True, rates, (cfg.source_kind,), arrays)

        src, model, thr = exp.source, exp.model, exp.threshold_kevnr
        comps = src.components
        pairs = [(ci, ii) for ci in range(len(comps)) for ii in range(len(isos)) if rates.events[ci, ii] > 0]
        pair_w = np.array([rates.events[ci, ii] for ci, ii in pairs])
        pair_prob, pair_alias = alias_table(pair_w)
        e_parts, g_parts, bp_parts, ba_parts = [], [], [], []
        pair_goff, pair_boff, pair_ng = [], [], []
        goff = boff = 0
        for ci, ii in pairs:
            comp = comps[ci]
            if comp.is_line:
                e, g = np.zeros(2), np.zeros(2)  # unused placeholder keeps offsets simple
                bp, ba = np.ones(1), np.zeros(1, dtype=np.int64)
            else:
                e, g = grids[(ci, ii)]
                bins = 0.5 * (g[1:] + g[:-1]) * np.diff(e)
                bp, ba = alias_table(bins)
            pair_goff.append(goff)
            pair_boff.append(boff)
            pair_ng.append(e.size)
            goff += e.size
            boff += bp.size
            e_parts.append(e)
            g_parts.append(g)
            bp_parts.append(bp)
            ba_parts.append(ba)

        # Q_v^2(T) per isotope on a uniform grid from the threshold to the highest reachable recoil.
        e_top = max(c.e_max_mev for c in comps)
        t_top = max(float(t_max_kev(e_top, model.mass_mev(i))) for i in isos)
        t_grid = np.linspace(thr, t_top, N_RECOIL_GRID)
        qv2 = np.empty((len(isos), N_RECOIL_GRID + 1))
        for ii, iso in enumerate(isos):
            q = weak_charge(t_grid, iso, model) ** 2
            qv2[ii, :-1] = q
            qv2[ii, -1] = q.max() * (1.0 + 1e-9)  # supremum above threshold for the rejection envelope

        tab_bsm = bsm_tables(exp, pairs, comps, isos, t_grid) if model.is_bsm else None
        iso_mass = np.array([model.mass_mev(i) for i in isos])
        n_nuclei = exp.material.nuclei_per_kg() * exp.mass_kg
        tab_joint = joint_tables(pairs, comps, iso_mass, n_nuclei, thr, t_grid, qv2[:, :-1]) if tab_bsm is None \
            else _EMPTY_JOINT

        comp_tau = np.zeros((len(comps), 2))
        for ci, c in enumerate(comps):
            comp_tau[ci, : len(c.decay_times_ns)] = c.decay_times_ns
        pulse = src.pulse
        pulse_kind = K.PULSE_NONE if not src.pulsed else {
            "gaussian": K.PULSE_GAUSSIAN, "flat": K.PULSE_FLAT, "double_gaussian": K.PULSE_DOUBLE_GAUSSIAN}[pulse.kind]
        tab_f = np.array([thr, t_grid[0], t_grid[1] - t_grid[0],
                          pulse.sigma_ns if pulse else 0.0, pulse.width_ns if pulse else 0.0,
                          pulse.separation_ns if pulse else 0.0, src.live_time_s * 1e9, *gp])
        tab_i = np.array([len(pairs), pulse_kind, max(src.n_pulses, 1), shape,
                          K.RECOIL_BSM if tab_bsm is not None else K.RECOIL_SM], dtype=np.int64)
        arrays = dict(
            tab_f=tab_f, tab_i=tab_i, pair_prob=pair_prob, pair_alias=pair_alias,
            pair_comp=np.array([p[0] for p in pairs], dtype=np.int64),
            pair_iso=np.array([p[1] for p in pairs], dtype=np.int64),
            pair_goff=np.array(pair_goff, dtype=np.int64), pair_boff=np.array(pair_boff, dtype=np.int64),
            pair_ng=np.array(pair_ng, dtype=np.int64),
            comp_line=np.array([c.line_mev if c.is_line else 0.0 for c in comps]),
            comp_pdg=np.array([c.nu_pdg for c in comps], dtype=np.int16), comp_tau=comp_tau,
            e_grid=np.concatenate(e_parts), g_grid=np.concatenate(g_parts),
            bin_prob=np.concatenate(bp_parts), bin_alias=np.concatenate(ba_parts).astype(np.int64),
            iso_mass=iso_mass, iso_z=iso_z, iso_a=iso_a, qv2=qv2,
        )
        arrays.update(tab_joint)
        arrays.update(tab_bsm or dict(pair_row=arrays["pair_iso"].copy(), bsm_edges=np.zeros(2),
                                      bsm_bucket=np.zeros(2, dtype=np.int64), bsm_tab=np.zeros((1, 3, 2)),
                                      bsm_env=np.zeros((1, 3, 1)), bsm_cum=np.zeros((1, 4, 2)),
                                      bsm_guide=np.zeros((1, 4, 2), dtype=np.int64)))
        return cls(False, rates, tuple(c.name for c in comps), arrays)


def joint_tables(pairs, comps, iso_mass, n_nuclei, thr_kev, t_grid, qv2) -> dict:
    """Tables of :func:`generator._kernels.sample_joint_sm`: a piecewise-constant envelope of the joint density

        f_p(E, T) = w_p phi_c(E) K(E, T; M_i) Q_v,i^2(T),   w_p = Phi_c N_i M_i,

    over (pair p = (component c, isotope i), E_nu, T), which is the SM dsigma/dT (prop. to M Q_v^2 K) times the
    fluence, the number of nuclei and the component's normalised piecewise-linear spectrum phi_c (a line: E fixed,
    phi = 1). Each pair has rows uniform in E_nu from E_min(threshold) to the spectrum's end; row r holds
    NT = 2**LOG_T_CELLS cells uniform in T from the threshold to T_max(top energy of the row). The cell bound is
    max(phi over the row) x K(top energy, lowest T) x max(Q_v^2 over the cell): K rises with E and falls with T,
    and the maxima of the piecewise-linear phi and Q_v^2 lie on their nodes or on the cell's edges, so the bound
    is a true upper bound and rejection from it is exact. ``cell_bounds[c]`` = (upper, lower) bound without w_p
    (the kernel compares them with f_p / w_p); the lower bound (phi min x K at the lowest E and highest T x
    Q_v^2 min) is a squeeze: a point under it is accepted without evaluating f. The alias table draws cells by
    w_p x upper bound x area. Per row, ``row_f`` holds
    (E_lo, dE, T_lo, dT, first E of the pair's phi grid, bucket scale, nucleus mass) and ``row_i`` (pair, isotope,
    phi offset, phi points, bucket offset, buckets): see generator._kernels.ROW_F / ROW_I.
    """
    nt = 1 << K.LOG_T_CELLS
    t0, dtq = float(t_grid[0]), float(t_grid[1] - t_grid[0])
    nq = qv2.shape[1]
    row_pair, row_e_lo, row_de, row_t_lo, row_dt, fmax, fmin, row_w = [], [], [], [], [], [], [], []
    phi_e, phi_v, phi_slope, bucket, pair_phi_f = [], [], [], [], []
    pair_phi_off, pair_phi_n, pair_bucket_off, pair_bucket_n, pair_w = [], [], [], [], []
    phi_off = bucket_off = 0
    comp_phi = {}
    for p, (ci, ii) in enumerate(pairs):
        comp, mass = comps[ci], float(iso_mass[ii])
        pair_w.append(comp.fluence_cm2 * float(n_nuclei[ii]) * mass)
        if comp.is_line:
            e_nodes = np.array([comp.line_mev * 0.5, comp.line_mev * 1.5])
            v_nodes = np.ones(2)
            rows = [(comp.line_mev, 0.0, 1.0, 1.0)]
        else:
            e_nodes, v_nodes = comp.energy_mev, comp.pdf_per_mev
            e_lo = max(float(enu_min_mev(thr_kev, mass)), float(e_nodes[0]))
            # (Rows at quantiles of the squeeze's expected loss instead gained < 5 %, within the noise.)
            edges = np.linspace(e_lo, float(e_nodes[-1]), N_JOINT_E_ROWS + 1)
            rows = []
            for a, b in zip(edges[:-1], edges[1:], strict=True):
                inner = v_nodes[(e_nodes > a) & (e_nodes < b)]
                ends = np.interp([a, b], e_nodes, v_nodes)
                rows.append((a, b - a, max(ends.max(), inner.max() if inner.size else 0.0),
                             min(ends.min(), inner.min() if inner.size else np.inf)))
        for e_lo_r, de_r, phi_max, phi_min in rows:
            e_top = e_lo_r + de_r
            t_top = float(t_max_kev(e_top, mass))
            row_pair.append(p)
            row_e_lo.append(e_lo_r)
            row_de.append(de_r)
            row_t_lo.append(thr_kev)
            dt = max(t_top - thr_kev, 0.0) / nt
            row_dt.append(dt)
            t_edges = thr_kev + dt * np.arange(nt + 1)
            # Q_v^2 is piecewise linear on t_grid: its maximum over a cell is among the nodes bracketing it.
            k_lo = np.clip(np.floor((t_edges[:-1] - t0) / dtq).astype(np.int64), 0, nq - 1)
            k_hi = np.clip(np.ceil((t_edges[1:] - t0) / dtq).astype(np.int64), 0, nq - 1)
            g_max = _cell_maxima(qv2[ii], k_lo, k_hi)
            k = 1.0 - t_edges[:-1] * 1e-3 / e_top - mass * t_edges[:-1] * 1e-3 / (2 * e_top**2) + (
                t_edges[:-1] * 1e-3) ** 2 / (2 * e_top**2)
            cell = phi_max * np.clip(k, 0.0, None) * g_max
            fmax.append(np.where(t_edges[:-1] < t_top, cell, 0.0) * (1.0 + 1e-12))
            # Squeeze: a lower bound, at the cell's lowest E and highest T (0 where the cell crosses T_max(E)).
            g_min = _cell_minima(qv2[ii], k_lo, k_hi)
            if e_lo_r > 0.0:
                t_hi = t_edges[1:] * 1e-3
                k_min = 1.0 - t_hi / e_lo_r - mass * t_hi / (2 * e_lo_r**2) + t_hi**2 / (2 * e_lo_r**2)
                low = max(phi_min, 0.0) * np.clip(k_min, 0.0, None) * g_min * (1.0 - 1e-12)
                # Strictly inside T_max: at T_max itself the cross section drops to 0 (K(T_max) = T^2 / 2E^2 > 0).
                fmin.append(np.where(t_edges[1:] < float(t_max_kev(e_lo_r, mass)) * (1.0 - 1e-9), low, 0.0))
            else:  # a row starting at E = 0 allows no recoil at its lowest energy
                fmin.append(np.zeros(nt))
            row_w.append(pair_w[-1])
        if ci not in comp_phi:  # phi once per component, shared by its isotopes' rows
            e0, inv_db, nb = _phi_lookup(e_nodes, v_nodes, phi_e, phi_v, phi_slope, bucket)
            comp_phi[ci] = (phi_off, bucket_off, e0, inv_db, nb)
            phi_off += e_nodes.size
            bucket_off += nb + 1
        off, boff, e0, inv_db, nb = comp_phi[ci]
        pair_phi_f.append((e0, inv_db))
        pair_phi_off.append(off)
        pair_phi_n.append(e_nodes.size)
        pair_bucket_off.append(boff)
        pair_bucket_n.append(nb + 1)
    cell_fmax = np.concatenate(fmax)
    if cell_fmax.sum() <= 0:
        raise ValueError("no recoil above the threshold is possible for any (component, isotope) pair")
    # Envelope mass of a cell: w_p x bound x area (a line's rows have no E extent).
    de = np.array(row_de)
    w = cell_fmax * np.repeat(np.array(row_w) * np.where(de > 0, de, 1.0) * np.array(row_dt), nt)
    prob, alias = alias_table(w)
    cell_bounds = np.ascontiguousarray(np.c_[cell_fmax, np.minimum(np.concatenate(fmin), cell_fmax)])
    # Everything a trial needs about its row in one 64-byte row of row_f and one of row_i (a cache line each).
    pair_arr = np.array(row_pair, dtype=np.int64)
    row_f = np.zeros((pair_arr.size, K.ROW_F_WIDTH))
    row_i = np.zeros((pair_arr.size, K.ROW_I_WIDTH), dtype=np.int64)
    phi_f = np.array(pair_phi_f)
    iso_of_pair = np.array([ii for _, ii in pairs], dtype=np.int64)
    row_f[:, :4] = np.c_[row_e_lo, row_de, row_t_lo, row_dt]
    row_f[:, 4:6] = phi_f[pair_arr]
    row_f[:, 6] = iso_mass[iso_of_pair[pair_arr]]
    row_i[:, 0] = pair_arr
    row_i[:, 1] = iso_of_pair[pair_arr]
    row_i[:, 2:6] = np.c_[pair_phi_off, pair_phi_n, pair_bucket_off, np.array(pair_bucket_n) - 1][pair_arr]
    return dict(
        cell_prob=prob, cell_alias=alias.astype(np.int32), cell_bounds=cell_bounds, row_f=row_f, row_i=row_i,
        phi_e=np.concatenate(phi_e), phi_v=np.concatenate(phi_v), phi_slope=np.concatenate(phi_slope),
        phi_bucket=np.concatenate(bucket),
    )


def _phi_lookup(e_nodes, v_nodes, phi_e, phi_v, phi_slope, bucket) -> tuple[float, float, int]:
    """Append a spectrum's nodes, values and cell slopes to the phi tables and choose how the kernel finds a cell
    (generator._kernels.interp_on_grid): (first node, scale, buckets). A grid whose nodes lie within
    PHI_DIRECT_TOLERANCE of a cell of uniform ones (as tabulated spectra usually are) is indexed directly,
    scale = 1 / spacing and no buckets: one dependent memory access instead of three. Any other grid gets a
    uniform bucket index (2 buckets per node) mapping to its cells, scale = buckets / range. Either way the cell
    is exact."""
    e = np.asarray(e_nodes, dtype=float)
    v = np.asarray(v_nodes, dtype=float)
    h = np.diff(e)
    phi_e.append(e)
    phi_v.append(v)
    phi_slope.append(np.append(np.divide(np.diff(v), h, out=np.zeros_like(h), where=h > 0), 0.0))
    span = float(e[-1] - e[0])
    step = span / (e.size - 1)
    if np.all(np.abs(e - (e[0] + step * np.arange(e.size))) < PHI_DIRECT_TOLERANCE * step):
        bucket.append(np.zeros(1, dtype=np.int64))  # keeps every pair's bucket range non-empty
        return float(e[0]), 1.0 / step, 0
    nb = 2 * e.size
    bk = np.searchsorted(e, np.linspace(e[0], e[-1], nb + 1), side="right") - 1
    bucket.append(np.clip(bk, 0, e.size - 2).astype(np.int64))
    return float(e[0]), nb / span, nb


def _cell_minima(q: np.ndarray, k_lo: np.ndarray, k_hi: np.ndarray) -> np.ndarray:
    """min(q[k_lo[i] : k_hi[i] + 1]) for consecutive cells, as :func:`_cell_maxima` (extra nodes only lower it)."""
    seg = np.minimum.reduceat(q[: k_hi[-1] + 1], k_lo)
    nxt = np.append(k_lo[1:], k_hi[-1])
    return np.minimum(seg, np.minimum(q[nxt], q[k_hi]))


def _cell_maxima(q: np.ndarray, k_lo: np.ndarray, k_hi: np.ndarray) -> np.ndarray:
    """max(q[k_lo[i] : k_hi[i] + 1]) for consecutive cells (k_lo non-decreasing, k_hi[i] <= k_lo[i+1] + 1).

    reduceat covers [k_lo[i], k_lo[i+1]); the one or two nodes up to k_hi[i] are added explicitly. It may include
    a node more than needed, which only loosens the bound.
    """
    seg = np.maximum.reduceat(q[: k_hi[-1] + 1], k_lo)
    nxt = np.append(k_lo[1:], k_hi[-1])
    return np.maximum(seg, np.maximum(q[nxt], q[k_hi]))


_EMPTY_JOINT = dict(cell_prob=np.ones(1), cell_alias=np.zeros(1, dtype=np.int32), cell_bounds=np.zeros((1, 2)),
                    row_f=np.zeros((1, K.ROW_F_WIDTH)), row_i=np.zeros((1, K.ROW_I_WIDTH), dtype=np.int64),
                    phi_e=np.zeros(2), phi_v=np.zeros(2), phi_slope=np.zeros(2), phi_bucket=np.zeros(2, dtype=np.int64))


def bsm_recoil_grid(t_lo: float, t_hi: float) -> np.ndarray:
    """Recoil grid (keV) of the BSM tables: uniform plus geometric towards ``t_lo``, strictly increasing."""
    g = np.union1d(np.linspace(0.0, 1.0, N_RECOIL_GRID_BSM),
                   np.geomspace(RECOIL_GRID_FINEST, 1.0, N_RECOIL_GRID_GEOMETRIC))
    edges = t_lo + (t_hi - t_lo) * g
    keep = np.concatenate([[True], np.diff(edges) > 1e-12 * max(t_hi, 1e-300)])
    edges = edges[keep]
    edges[-1] = t_hi
    return edges


def bsm_tables(exp: Experiment, pairs, comps, isos, t_grid) -> dict:
    """Tables of :func:`generator._kernels.sample_recoil_bsm_kev`, one row per (flavour, isotope) in use.

    tab[row] = (A, B, 1e3 C) of :func:`generator.bsm.bsm_charges` on the grid; env[row] the maxima of each over
    every cell (x(1 + 1e-12)); cum[row] the cumulative envelope masses over cells:
    S0 = sum Ahat h, S1 = sum Ahat h (T_mid - T_0), S2 = sum Bhat h T_mid, SL = sum Chat ln(T_k+1 / T_k).
    """
    model = exp.model
    edges = bsm_recoil_grid(float(t_grid[0]), float(t_grid[-1]))
    keys = sorted({(comps[ci].nu_pdg, ii) for ci, ii in pairs})
    row_of = {k: r for r, k in enumerate(keys)}
    tab = np.empty((len(keys), 3, edges.size))
    for r, (pdg, ii) in enumerate(keys):
        a_val, b_val, c_val = bsm_charges(edges, isos[ii], model, pdg)
        tab[r, 0], tab[r, 1], tab[r, 2] = a_val, b_val, 1e3 * c_val
    env = np.maximum(tab[:, :, 1:], tab[:, :, :-1]) * (1.0 + 1e-12)
    h = np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    with np.errstate(divide="ignore"):
        logr = np.where(edges[:-1] > 0, np.log(edges[1:] / np.where(edges[:-1] > 0, edges[:-1], 1.0)), 0.0)
    if np.any(env[:, 2] > 0) and edges[0] <= 0:
        raise ValueError("a magnetic moment needs a recoil threshold > 0")
    parts = np.stack([env[:, 0] * h, env[:, 0] * h * (mid - edges[0]), env[:, 1] * h * mid,
                      np.where(env[:, 2] > 0, env[:, 2] * logr, 0.0)], axis=1)
    cum = np.concatenate([np.zeros((len(keys), 4, 1)), np.cumsum(parts, axis=2)], axis=2)
    # bucket[b]: last grid point <= t0 + b (t_top - t0) / N_GUIDE; guide[row, c, g]: last j with
    # cum[row, c, j] <= g / N_GUIDE x total (so a lookup leaves ~1 cell to bisect).
    bucket = np.searchsorted(edges, np.linspace(edges[0], edges[-1], N_GUIDE + 1), side="right") - 1
    bucket = np.clip(bucket, 0, edges.size - 2).astype(np.int64)
    guide = np.zeros((len(keys), 4, N_GUIDE + 1), dtype=np.int64)
    frac = np.linspace(0.0, 1.0, N_GUIDE + 1)
    for r in range(len(keys)):
        for c in range(4):
            tot = cum[r, c, -1]
            if tot > 0:
                guide[r, c] = np.clip(np.searchsorted(cum[r, c], frac * tot, side="right") - 1, 0, edges.size - 2)
    pair_row = np.array([row_of[(comps[ci].nu_pdg, ii)] for ci, ii in pairs], dtype=np.int64)
    return dict(pair_row=pair_row, bsm_edges=edges, bsm_bucket=bucket, bsm_tab=tab, bsm_env=env, bsm_cum=cum,
                bsm_guide=guide)


_NEUTRINO_ARGS = ("tab_f", "tab_i", "pair_prob", "pair_alias", "pair_comp", "pair_iso", "pair_goff", "pair_boff",
                  "pair_ng", "comp_line", "comp_pdg", "comp_tau", "e_grid", "g_grid", "bin_prob", "bin_alias",
                  "iso_mass", "iso_z", "iso_a", "qv2", "pair_row", "bsm_edges", "bsm_bucket", "bsm_tab", "bsm_env",
                  "bsm_cum", "bsm_guide", "cell_prob", "cell_alias", "cell_bounds", "row_f", "row_i", "phi_e", "phi_v",
                  "phi_slope", "phi_bucket")
_CALIB_ARGS = ("mode", "t_lo", "t_hi", "iso_prob", "iso_alias", "iso_z", "iso_a", "live_ns", "shape", "g0", "g1", "g2")


def empty_truth(n: int) -> dict[str, np.ndarray]:
    # np.empty: the kernels write every row (zeroing first would touch the memory twice).
    return {name: np.empty(n, dtype=dt) for name, (dt, _) in EVENT_COLUMNS_TRUTH.items()}


def sample_chunks(tables: SamplerTables, seed: int, chunk_ids, sizes, chunk_size: int,
                  weight: float, out: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Draw the events of the given global chunk indices (sizes = events per chunk), in chunk order.

    ``out``: optional columns to fill (from :func:`empty_truth`, at least sum(sizes) rows), reused across calls
    by a streaming caller to spare fresh memory each time; the first sum(sizes) rows are returned.
    """
    chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    n = int(sizes.sum())
    if out is None:
        out = empty_truth(n)
    else:
        if set(out) != set(EVENT_COLUMNS_TRUTH) or any(
                out[k].dtype != np.dtype(dt) or out[k].shape[0] < n for k, (dt, _) in EVENT_COLUMNS_TRUTH.items()):
            raise ValueError(f"out must hold the truth columns of empty_truth with at least {n} rows")
        out = {k: v[:n] for k, v in out.items()}
    states = chunk_states(seed, chunk_ids, STAGE_GENERATOR)
    a = tables.arrays
    id_base = chunk_ids * chunk_size
    ids_weights = (id_base, float(weight), out["event_id"], out["weight"])
    if tables.calibration:
        K.sample_calibration_chunks(states, starts, sizes, *(a[k] for k in _CALIB_ARGS), *ids_weights,
                                    out["target_z"], out["target_a"], out["t_nr_kev"], out["time_ns"], out["x_cm"],
                                    out["y_cm"], out["z_cm"])
        out["pulse_index"][:] = -1
        for name in ("component", "nu_pdg", "enu_mev"):  # no neutrino in a calibration event
            out[name][:] = 0
    else:
        K.sample_neutrino_chunks(states, starts, sizes, *(a[k] for k in _NEUTRINO_ARGS), *ids_weights,
                                 out["component"], out["nu_pdg"], out["enu_mev"], out["target_z"], out["target_a"],
                                 out["t_nr_kev"], out["pulse_index"], out["time_ns"], out["x_cm"], out["y_cm"],
                                 out["z_cm"])
    return out

