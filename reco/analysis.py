"""Selections, energy x time histograms per origin, and on-minus-off subtraction.

A "layout" fixes the binning and the regions from the detsim metadata: for pulsed sources the on-beam
and off-beam windows (energy x time in the on window; energy in the off window), for continuous sources
source-on and source-off periods (energy only). The same layout serves templates and data so that
their bins line up.
"""

from __future__ import annotations

from dataclasses import dataclass

import hist
import numpy as np

from .config import RecoConfig
from .energy import energy_kevee, kevnr_from_kevee

__all__ = ["Layout", "histograms", "on_minus_off", "reconstruct_columns", "select"]

ORIGIN_NAMES = {0: "cevns", 1: "ssb", 2: "brn", 3: "nin"}


def reconstruct_columns(cols: dict, meta: dict) -> dict:
    """Add e_rec_kevee and e_rec_kevnr (every event)."""
    e = energy_kevee(cols, meta)
    return {"e_rec_kevee": e, "e_rec_kevnr": kevnr_from_kevee(e, meta["detector"], meta["generator_config"])}


def select(cols: dict, rec: dict, cfg: RecoConfig) -> np.ndarray:
    e = rec["e_rec_kevee"]
    keep = e >= cfg.threshold_kevee
    if cfg.max_kevee is not None:
        keep &= e < cfg.max_kevee
    if cfg.require_triggered and "triggered" in cols:
        keep &= cols["triggered"]
    if cfg.require_psd and "psd_pass" in cols:
        keep &= cols["psd_pass"]
    if cfg.fiducial_radius_cm is not None:
        keep &= np.hypot(cols["x_cm"], cols["y_cm"]) < cfg.fiducial_radius_cm
    if cfg.fiducial_half_height_cm is not None:
        keep &= np.abs(cols["z_cm"]) < cfg.fiducial_half_height_cm
    return keep


@dataclass(frozen=True)
class Layout:
    pulsed: bool
    energy_edges: np.ndarray
    time_edges: np.ndarray | None  # on-beam window binning (pulsed)
    on_off_scale: float  # multiply off-region counts by this to estimate the on-region background

    @classmethod
    def from_metadata(cls, meta: dict, cfg: RecoConfig, e_max_hint: float) -> Layout:
        e_hi = cfg.max_kevee if cfg.max_kevee is not None else max(e_max_hint, cfg.threshold_kevee * 1.5, 1e-3)
        edges = np.linspace(cfg.threshold_kevee, e_hi, cfg.n_energy_bins + 1)
        if meta.get("pulsed"):
            w = meta["beam_windows"]
            t_edges = np.linspace(w["on_start_ns"], w["on_start_ns"] + w["on_length_ns"], cfg.n_time_bins + 1)
            return cls(True, edges, t_edges, w["on_length_ns"] / w["off_length_ns"])
        off_days = float(meta.get("source_off_live_days") or 0.0)
        on_days = float(meta["live_time_s"]) / 86400.0
        return cls(False, edges, None, on_days / off_days if off_days > 0 else 0.0)

    def regions(self, cols: dict) -> tuple[np.ndarray, np.ndarray]:
        """(on-region mask, off-region mask)."""
        if self.pulsed:
            return cols["on_beam"], cols["off_beam"]
        on = cols.get("source_on", np.ones(len(cols["event_id"]), dtype=bool))
        return on, ~on


def histograms(cols: dict, rec: dict, keep: np.ndarray, layout: Layout, weighted: bool = True) -> dict:
    """Per origin: on-region histogram (energy x time, or energy) and off-region energy histogram.

    Weighted histograms (sum of weights, with variances) are expectations; unweighted ones are data counts.
    """
    on, off = layout.regions(cols)
    w = cols["weight"] if weighted else np.ones(len(keep))
    out = {}
    for code, name in ORIGIN_NAMES.items():
        sel = keep & (cols["origin"] == code)
        if layout.pulsed:
            h_on = hist.Hist(hist.axis.Variable(layout.energy_edges, name="e_kevee", label="E [keVee]"),
                             hist.axis.Variable(layout.time_edges, name="t_ns", label="t [ns]"),
                             storage=hist.storage.Weight())
            h_on.fill(rec["e_rec_kevee"][sel & on], cols["time_ns"][sel & on], weight=w[sel & on])
        else:
            h_on = hist.Hist(hist.axis.Variable(layout.energy_edges, name="e_kevee", label="E [keVee]"),
                             storage=hist.storage.Weight())
            h_on.fill(rec["e_rec_kevee"][sel & on], weight=w[sel & on])
        h_off = hist.Hist(hist.axis.Variable(layout.energy_edges, name="e_kevee", label="E [keVee]"),
                          storage=hist.storage.Weight())
        h_off.fill(rec["e_rec_kevee"][sel & off], weight=w[sel & off])
        out[name] = {"on": h_on, "off": h_off}
    return out


def _bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value on [edges[i], edges[i+1]) as hist's Variable axis bins it; -1 outside."""
    i = np.searchsorted(edges, x, side="right") - 1
    return np.where((i >= 0) & (i < len(edges) - 1), i, -1)


def data_counts(cols: dict, rec: dict, keep: np.ndarray, layout: Layout) -> np.ndarray:
    """Observed counts of all origins together, in the layout of :func:`reco.fit.flatten_templates` (on region
    raveled energy-major, then the off region): what a toy's fit needs, without one histogram object per origin
    (equal to ``flatten_templates(histograms(..., weighted=False))[1].sum(axis=0)``, tested)."""
    on, off = layout.regions(cols)
    e = rec["e_rec_kevee"]
    n_e = len(layout.energy_edges) - 1
    ie = _bin_index(e, layout.energy_edges)
    if layout.pulsed:
        n_t = len(layout.time_edges) - 1
        it = _bin_index(cols["time_ns"], layout.time_edges)
        sel = keep & on & (ie >= 0) & (it >= 0)
        on_counts = np.bincount(ie[sel] * n_t + it[sel], minlength=n_e * n_t)
    else:
        sel = keep & on & (ie >= 0)
        on_counts = np.bincount(ie[sel], minlength=n_e)
    sel = keep & off & (ie >= 0)
    return np.concatenate([on_counts, np.bincount(ie[sel], minlength=n_e)]).astype(float)


def total(hists: dict, region: str):
    names = list(hists)
    h = hists[names[0]][region].copy()
    for n in names[1:]:
        h += hists[n][region]
    return h


def on_minus_off(hists: dict, layout: Layout) -> dict:
    """Excess = on - scale x off, per energy bin and in total, with Gaussian uncertainties from the variances."""
    h_on, h_off = total(hists, "on"), total(hists, "off")
    on_v = h_on.values()
    on_var = h_on.variances()
    if on_v.ndim == 2:  # integrate the time axis of the on window
        on_v, on_var = on_v.sum(axis=1), on_var.sum(axis=1)
    s = layout.on_off_scale
    excess = on_v - s * h_off.values()
    var = on_var + s * s * h_off.variances()
    return {"energy_edges": layout.energy_edges.tolist(), "excess": excess.tolist(), "excess_err": np.sqrt(var).tolist(),
            "total": float(excess.sum()), "total_err": float(np.sqrt(var.sum())), "on": float(on_v.sum()),
            "off": float(h_off.values().sum()), "scale": s}
