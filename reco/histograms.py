"""The histograms behind a reconstruction summary, in the reco file: ``TH1D``/``TH2D`` in ROOT (titles and axis
titles with units, readable in a TBrowser, JSROOT or uproot), one group per histogram under ``/histograms`` in
HDF5 (``edges_x``, ``edges_y``, ``values``, ``variances`` and title/label attributes).

Names (``h_`` + what + region + origin): ``h_energy_on_<origin>`` and ``h_energy_off_<origin>`` (expectation per
origin from the templates, at the data's exposure), ``h_energy_time_on_<origin>`` (pulsed sources),
``h_energy_on_fit_<origin>`` (the templates scaled to the fit), ``h_energy_on_data``, ``h_energy_off_data``,
``h_energy_time_on_data`` and ``h_on_minus_off`` (with its variances). :func:`read_histograms` returns
``hist.Hist`` objects from either format.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Histogram", "collect_histograms", "read_histograms", "to_hist"]

ORIGIN_TITLES = {"cevns": "CEvNS", "ssb": "steady-state background", "brn": "beam-related neutrons",
                 "nin": "neutrino-induced neutrons", "lee": "low-energy excess"}
ENERGY_LABEL = "reconstructed energy [keVee]"
TIME_LABEL = "time after the proton pulse [ns]"
H5_GROUP = "histograms"


@dataclass
class Histogram:
    """A 1-D or 2-D histogram with its variances and labels (format-neutral)."""

    name: str
    title: str
    edges: list  # one edge array per axis
    labels: list  # one axis label (with unit) per axis
    values: np.ndarray
    variances: np.ndarray
    y_label: str = "events / bin"


def _project(h, keep_time: bool):
    v, var = h.values(), h.variances()
    if v.ndim == 2 and not keep_time:
        return v.sum(axis=1), var.sum(axis=1)
    return v, var


def collect_histograms(res: dict, fit_scales: dict | None = None) -> list[Histogram]:
    """Every histogram behind the summary, from :func:`reco.stage.analyse`'s result."""
    lay = res["layout"]
    e_edges = np.asarray(lay.energy_edges, dtype=float)
    out = []
    region_on = "on-beam" if lay.pulsed else "source-on"
    region_off = "off-beam" if lay.pulsed else "source-off"
    for kind, hists, what in (("", res["templates"], "expected"), ("data", res["data"], "observed")):
        if kind == "data":
            on = sum(_project(h["on"], False)[0] for h in hists.values())
            on_var = sum(_project(h["on"], False)[1] for h in hists.values())
            off = sum(h["off"].values() for h in hists.values())
            off_var = sum(h["off"].variances() for h in hists.values())
            items = [("data", "data", on, on_var, off, off_var,
                      sum(h["on"].values() for h in hists.values()) if lay.pulsed else None,
                      sum(h["on"].variances() for h in hists.values()) if lay.pulsed else None)]
        else:
            items = []
            for name, h in hists.items():
                on, on_var = _project(h["on"], False)
                items.append((name, ORIGIN_TITLES.get(name, name), on, on_var, h["off"].values(), h["off"].variances(),
                              h["on"].values() if lay.pulsed else None, h["on"].variances() if lay.pulsed else None))
        for name, title, on, on_var, off, off_var, et, et_var in items:
            out.append(Histogram(f"h_energy_on_{name}", f"{title}, {what}, {region_on}", [e_edges], [ENERGY_LABEL],
                                 np.asarray(on, float), np.asarray(on_var, float)))
            out.append(Histogram(f"h_energy_off_{name}", f"{title}, {what}, {region_off}", [e_edges], [ENERGY_LABEL],
                                 np.asarray(off, float), np.asarray(off_var, float)))
            if et is not None:
                out.append(Histogram(f"h_energy_time_on_{name}", f"{title}, {what}, {region_on}",
                                     [e_edges, np.asarray(lay.time_edges, float)], [ENERGY_LABEL, TIME_LABEL],
                                     np.asarray(et, float), np.asarray(et_var, float)))
    if fit_scales:
        for name, h in res["templates"].items():
            s = float(fit_scales.get(name, 1.0))
            on, on_var = _project(h["on"], False)
            out.append(Histogram(f"h_energy_on_fit_{name}", f"{ORIGIN_TITLES.get(name, name)}, fitted "
                                 f"(x {s:.4g}), {region_on}", [e_edges], [ENERGY_LABEL], s * on, s * s * on_var))
    ex = res["excess"]
    out.append(Histogram("h_on_minus_off", f"{region_on} minus {ex['scale']:.4g} x {region_off}, data",
                         [np.asarray(ex["energy_edges"], float)], [ENERGY_LABEL], np.asarray(ex["excess"], float),
                         np.asarray(ex["excess_err"], float) ** 2))
    return out


# --- ROOT ------------------------------------------------------------------------------------------------
def _taxis(name: str, title: str, edges: np.ndarray):
    from uproot.writing.identify import to_TAxis

    edges = np.asarray(edges, dtype=np.float64)
    uniform = np.allclose(np.diff(edges), edges[1] - edges[0], rtol=1e-12, atol=0)
    return to_TAxis(name, title, len(edges) - 1, float(edges[0]), float(edges[-1]),
                    None if uniform else edges)


def to_root_object(h: Histogram):
    """A TH1D/TH2D (uproot writable) with flow bins zero, the title and the axis titles with units."""
    from uproot.writing.identify import to_TH1x, to_TH2x

    if len(h.edges) == 1:
        n = len(h.values)
        data = np.zeros(n + 2)
        data[1:-1] = h.values
        sumw2 = np.zeros(n + 2)
        sumw2[1:-1] = h.variances
        centres = 0.5 * (h.edges[0][1:] + h.edges[0][:-1])
        return to_TH1x(h.name, h.title, data, float(h.values.sum()), float(h.values.sum()), float(h.variances.sum()),
                       float((h.values * centres).sum()), float((h.values * centres**2).sum()), sumw2,
                       _taxis("xaxis", h.labels[0], h.edges[0]), _taxis("yaxis", h.y_label, np.array([0.0, 1.0])))
    nx, ny = h.values.shape
    data = np.zeros((nx + 2, ny + 2))
    data[1:-1, 1:-1] = h.values
    sumw2 = np.zeros((nx + 2, ny + 2))
    sumw2[1:-1, 1:-1] = h.variances
    cx = 0.5 * (h.edges[0][1:] + h.edges[0][:-1])
    cy = 0.5 * (h.edges[1][1:] + h.edges[1][:-1])
    w = h.values
    return to_TH2x(h.name, h.title, data.ravel(order="F"), float(w.sum()), float(w.sum()), float(h.variances.sum()),
                   float((w.sum(axis=1) * cx).sum()), float((w.sum(axis=1) * cx**2).sum()),
                   float((w.sum(axis=0) * cy).sum()), float((w.sum(axis=0) * cy**2).sum()),
                   float((w * np.outer(cx, cy)).sum()), sumw2.ravel(order="F"),
                   _taxis("xaxis", h.labels[0], h.edges[0]), _taxis("yaxis", h.labels[1], h.edges[1]),
                   _taxis("zaxis", h.y_label, np.array([0.0, 1.0])))


# --- HDF5 ------------------------------------------------------------------------------------------------
def write_h5_group(parent, h: Histogram) -> None:
    g = parent.create_group(h.name)
    for axis, (edges, label) in zip("xy", zip(h.edges, h.labels, strict=True), strict=False):
        ds = g.create_dataset(f"edges_{axis}", data=np.asarray(edges, dtype=np.float64))
        ds.attrs["label"] = label
    g.create_dataset("values", data=np.asarray(h.values, dtype=np.float64))
    g.create_dataset("variances", data=np.asarray(h.variances, dtype=np.float64))
    g.attrs["title"] = h.title
    g.attrs["y_label"] = h.y_label
    g.attrs["labels"] = list(h.labels)


# --- reading ---------------------------------------------------------------------------------------------
def to_hist(h: Histogram):
    import hist

    axes = [hist.axis.Variable(e, name=f"axis{i}", label=lab) for i, (e, lab) in enumerate(zip(h.edges, h.labels))]
    out = hist.Hist(*axes, storage=hist.storage.Weight(), name=h.name, label=h.title)
    out.view()["value"] = h.values
    out.view()["variance"] = h.variances
    return out


def read_histograms(path) -> dict:
    """{name: hist.Hist} of a reco file (.root or .h5), titles in ``.label`` and axis labels with units."""
    from pathlib import Path

    path = Path(path)
    hists = {}
    if path.suffix == ".root":
        import uproot

        with uproot.open(path) as f:
            for key, cls in f.classnames().items():
                if cls in ("TH1D", "TH2D"):
                    obj = f[key]
                    name = key.split(";")[0]
                    axes = [obj.member("fXaxis")] + ([obj.member("fYaxis")] if cls == "TH2D" else [])
                    edges = [np.asarray(a.edges(flow=False)) for a in axes]
                    labels = [str(a.member("fTitle")) for a in axes]
                    hists[name] = to_hist(Histogram(name, str(obj.member("fTitle")), edges, labels,
                                                    np.asarray(obj.values(flow=False)),
                                                    np.asarray(obj.variances(flow=False))))
        return hists
    import h5py

    with h5py.File(path, "r") as f:
        for name, g in f.get(H5_GROUP, {}).items():
            edges = [g[f"edges_{a}"][()] for a in "xy" if f"edges_{a}" in g]
            labels = [str(g[f"edges_{a}"].attrs["label"]) for a in "xy" if f"edges_{a}" in g]
            hists[name] = to_hist(Histogram(name, str(g.attrs["title"]), edges, labels, g["values"][()],
                                            g["variances"][()]))
    return hists
