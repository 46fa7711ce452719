"""Selections, energy x time histograms per origin, and on-minus-off subtraction.

A "layout" fixes the binning and the regions from the detsim metadata: for pulsed sources the on-beam
and off-beam windows (energy x time in the on window; energy in the off window), for continuous sources
source-on and source-off periods (energy only). The same layout serves templates and data so that
their bins line up.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import hist
import numpy as np

from generator._validate import ConfigError

from .config import RecoConfig
from .energy import detector_and_isotope, detector_key, energy_kevee, kevnr_from_kevee

__all__ = ["Layout", "histograms", "nr_yield_band", "on_minus_off", "reconstruct_columns", "select"]

ORIGIN_NAMES = {0: "cevns", 1: "ssb", 2: "brn", 3: "nin", 4: "lee"}  # codes of detsim.simulate.ORIGINS
# every layout has these templates (empty ones drop out of the fit); the others only when the run declares them
BASE_ORIGINS = ("cevns", "ssb", "brn", "nin")


def reconstruct_columns(cols: dict, meta: dict) -> dict:
    """Add e_rec_kevee and e_rec_kevnr (every event); for a calorimeter with an ionisation channel also the
    nuclear-recoil band at e_rec_kevnr: its mean yield ``nr_band_yield`` and width ``nr_band_sigma``."""
    e = energy_kevee(cols, meta)
    rec = {"e_rec_kevee": e, "e_rec_kevnr": kevnr_from_kevee(e, meta["detector"], meta["generator_config"])}
    det = meta["detector"]
    if det.get("technology") == "calorimeter" and (det.get("calorimeter") or {}).get("ion_sigma_evee") is not None:
        rec["nr_band_yield"], rec["nr_band_sigma"] = nr_yield_band(rec["e_rec_kevnr"], det, meta["generator_config"])
    return rec


def nr_yield_band(e_nr_kev, detector: dict, generator_config: dict) -> tuple[np.ndarray, np.ndarray]:
    """(Y_NR, sigma_Q) of the nuclear-recoil band of a heat-and-ionisation calorimeter at e_nr_kev: the mean
    quenching (ionisation yield) of the target's most abundant isotope and the Gaussian width of the measured
    yield from the two channels' baseline noises (detsim.calorimeter.yield_band_sigma). The band is evaluated at
    the heat energy read under the nuclear-recoil hypothesis (e_rec_kevnr), as a band in (E_nr, Q) is drawn;
    an event-by-event quenching spread, if configured, is not in its width."""
    from detsim.calorimeter import yield_band_sigma

    cal, model, z, a = _band_model(detector_key(detector, generator_config))
    t = np.maximum(np.asarray(e_nr_kev, dtype=np.float64), 1e-6)  # below-threshold noise reads as <= 0
    y = model.qf(t, z, a)
    return y, yield_band_sigma(t, y, cal)


@functools.lru_cache(maxsize=32)
def _band_model(key: str):
    det, iso = detector_and_isotope(key)
    return det.calorimeter, det.quenching.build(), iso.z, iso.a


def _measured_yield(cols: dict, rec: dict, key: str, value) -> np.ndarray:
    q = cols.get("ionisation_yield")
    if q is None or "nr_band_yield" not in rec:
        raise ConfigError(f"reco.{key} = {value}: the detector has no ionisation channel (a calorimeter with "
                          "calorimeter.ion_sigma_evee set); remove the cut")
    return np.asarray(q, dtype=np.float64)


def select(cols: dict, rec: dict, cfg: RecoConfig) -> np.ndarray:
    """The analysis selection: the energy window and every other cut."""
    return energy_window(rec["e_rec_kevee"], cfg) & select_except_energy(cols, rec, cfg)


def energy_window(e_kevee, cfg: RecoConfig) -> np.ndarray:
    """threshold_kevee <= E (< max_kevee)."""
    e = np.asarray(e_kevee)
    keep = e >= cfg.threshold_kevee
    if cfg.max_kevee is not None:
        keep &= e < cfg.max_kevee
    return keep


def select_except_energy(cols: dict, rec: dict, cfg: RecoConfig, *, trigger: bool = True) -> np.ndarray:
    """Every cut but the energy window (``trigger=False``: not the trigger flag either)."""
    keep = np.ones(len(rec["e_rec_kevee"]), dtype=bool)
    # heat-ionisation discrimination; a NaN yield (no charge measured against a zero rebuilt recoil) fails both
    if cfg.max_ionisation_yield is not None:
        keep &= _measured_yield(cols, rec, "max_ionisation_yield", cfg.max_ionisation_yield) < cfg.max_ionisation_yield
    if cfg.nr_band_n_sigma is not None:
        q = _measured_yield(cols, rec, "nr_band_n_sigma", cfg.nr_band_n_sigma)
        keep &= np.abs(q - rec["nr_band_yield"]) < cfg.nr_band_n_sigma * rec["nr_band_sigma"]
    if trigger and cfg.require_triggered and "triggered" in cols:
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
    origins: tuple = BASE_ORIGINS  # template names, in fit order (ORIGIN_NAMES' values)

    @classmethod
    def from_metadata(cls, meta: dict, cfg: RecoConfig, e_max_hint: float) -> Layout:
        e_hi = cfg.max_kevee if cfg.max_kevee is not None else max(e_max_hint, cfg.threshold_kevee * 1.5, 1e-3)
        edges = np.linspace(cfg.threshold_kevee, e_hi, cfg.n_energy_bins + 1)
        origins = run_origins(meta)
        if meta.get("pulsed"):
            w = meta["beam_windows"]
            t_edges = np.linspace(w["on_start_ns"], w["on_start_ns"] + w["on_length_ns"], cfg.n_time_bins + 1)
            return cls(True, edges, t_edges, w["on_length_ns"] / w["off_length_ns"], origins)
        off_days = float(meta.get("source_off_live_days") or 0.0)
        on_days = float(meta["live_time_s"]) / 86400.0
        return cls(False, edges, None, on_off_scale(meta, on_days, off_days), origins)

    def regions(self, cols: dict) -> tuple[np.ndarray, np.ndarray]:
        """(on-region mask, off-region mask)."""
        if self.pulsed:
            return cols["on_beam"], cols["off_beam"]
        on = cols.get("source_on", np.ones(len(cols["event_id"]), dtype=bool))
        return on, ~on


def on_off_scale(meta: dict, on_days: float, off_days: float) -> float:
    """Factor that turns source-off counts into the source-on background estimate: the live-time ratio, or, when a
    background's source-off rate differs from its source-on rate (``off_scale``), the ratio of the expected
    steady-state counts ON and OFF that detsim recorded (otherwise the excess would hold background)."""
    if off_days <= 0:
        return 0.0
    expected = meta.get("expected_background_events") or []
    if any(float(bg.get("off_scale", 1.0)) != 1.0 for bg in expected):
        on = sum(float(bg.get("source_on") or 0.0) for bg in expected if bg.get("source_off"))
        off = sum(float(bg.get("source_off") or 0.0) for bg in expected)
        if off > 0:
            return on / off
    return on_days / off_days


def run_origins(meta: dict) -> tuple:
    """Template names of a detsim file: the four base origins, plus those of its declared backgrounds beyond them
    (the low-energy excess). Taken from the metadata, not the events, so that a data set lacking them by chance
    keeps the templates' layout."""
    extra = {int(bg["origin"]) for bg in meta.get("expected_background_events") or []} - {0, 1, 2, 3}
    return BASE_ORIGINS + tuple(ORIGIN_NAMES[c] for c in sorted(extra))


def histograms(cols: dict, rec: dict, keep: np.ndarray, layout: Layout, weighted: bool = True) -> dict:
    """Per origin: on-region histogram (energy x time, or energy) and off-region energy histogram.

    Weighted histograms (sum of weights, with variances) are expectations; unweighted ones are data counts.
    """
    on, off = layout.regions(cols)
    w = cols["weight"] if weighted else np.ones(len(keep))
    out = {}
    code_of = {name: code for code, name in ORIGIN_NAMES.items()}
    for name in layout.origins:
        sel = keep & (cols["origin"] == code_of[name])
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
