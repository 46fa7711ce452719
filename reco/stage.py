"""The reco stage: a detsim file in; a reco file (events + reconstructed energies + selection flag),
a summary (JSON and text) and plots out.

With ``templates`` (a detsim file of the same configuration, usually a high-statistics fixed-N sample)
the input is treated as data (counts); without, the input's own weighted histograms serve as both
templates and an Asimov data set, which gives the median expected significance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator import __version__
from generator._validate import ConfigError
from generator.eventfile import EventReader, EventWriter

from .analysis import (ORIGIN_NAMES, Layout, _bin_index, data_counts, energy_window, histograms, on_minus_off, reconstruct_columns,
                       select, select_except_energy)
from .config import RecoConfig
from .fit import fit_templates, flatten_templates, flatten_variances
from .histograms import ORIGIN_TITLES as ORIGIN_LABEL  # one title per template name (also the histograms')

__all__ = ["Templates", "analyse", "fit_counts", "reconstruct"]

RECO_COLUMNS = {"e_rec_kevee": (np.float64, "keVee"), "e_rec_kevnr": (np.float64, "keVnr"), "selected": (np.bool_, "")}


def _read(path):
    r = EventReader(path, stage="detsim")
    cols, _ = r.read(jagged=[])
    return r, cols


def sm_flux_averaged_xsec(meta: dict) -> float | None:
    try:
        from generator.config import config_from_dict
        from generator.experiment import Experiment
        from generator.rates import expected_rates

        return expected_rates(Experiment.from_config(config_from_dict(meta["generator_config"]))).flux_averaged_xsec_cm2
    except Exception:  # noqa: BLE001 - a calibration source has none
        return None


@dataclass
class Templates:
    """Expectation histograms per origin on a fixed layout, for a given exposure."""

    layout: Layout
    hists: dict
    names: list
    matrix: np.ndarray
    exposure_fraction: float
    variances: np.ndarray | None = None  # per-bin MC variances in the layout of ``matrix``
    # energy-scale nuisances: name -> (matrix at -1 sigma, matrix at +1 sigma), same layout as ``matrix``
    shape_variants: dict = field(default_factory=dict)

    @classmethod
    def from_columns(cls, cols: dict, meta: dict, cfg: RecoConfig) -> Templates:
        rec = reconstruct_columns(cols, meta)
        keep = select(cols, rec, cfg)
        e_sel = rec["e_rec_kevee"][keep]
        hint = float(np.quantile(e_sel, 0.995)) if e_sel.size else cfg.threshold_kevee + 1.0
        layout = Layout.from_metadata(meta, cfg, hint)
        hists = _template_histograms(cols, rec, keep, layout)
        names, mat = flatten_templates(hists)
        variants = {name: energy_shift_variants(cols, meta, rec, cfg, layout, shift, mat)
                    for name, shift in cfg.energy_shifts().items()}
        return cls(layout, hists, names, mat, float(meta.get("exposure_fraction") or 1.0), flatten_variances(hists),
                   variants)

    def scaled_to(self, exposure_fraction: float) -> Templates:
        r = exposure_fraction / self.exposure_fraction
        if r == 1.0:  # toys ask for the same exposure every time: no copy of the histograms
            return self
        hists = {n: {k: h * r for k, h in v.items()} for n, v in self.hists.items()}
        var = None if self.variances is None else self.variances * r * r
        variants = {n: (lo * r, hi * r) for n, (lo, hi) in self.shape_variants.items()}
        return Templates(self.layout, hists, self.names, self.matrix * r, exposure_fraction, var, variants)


ORIGIN_CODE = {name: code for code, name in ORIGIN_NAMES.items()}
ENERGY_SHIFT_NODES = 8  # copies per template event spread over one energy bin (the variants' smoothing)


def energy_shift_variants(cols: dict, meta: dict, rec: dict, cfg: RecoConfig, layout: Layout, shift,
                          nominal: np.ndarray) -> tuple:
    """Template matrices at -1 and +1 sigma of one energy-scale nuisance (HPGe): the nominal templates plus the
    change that moving the template events' reconstructed keVee by ``shift`` makes.

    - The trigger is re-decided at the moved energy. The HPGe trigger is an erf in the measured keVee and the
      thresholds are set in those reconstructed units, so a miscalibration moves the events, not the turn-on: each
      event counts with its trigger probability at its moved energy. Moving the events with their trigger flags
      would move the background's turn-on against the data and let the data "measure" the offset.
    - Template noise is kept out. Moving a finite sample by a few eV makes a handful of events cross each bin edge
      at random: a "shape" change the fit would read as information about the offset (a flat background, which an
      offset cannot change, then pins it). Each event is spread uniformly over one energy-bin width
      (ENERGY_SHIFT_NODES copies) in the moved and the unmoved histograms, only their difference is added to the
      nominal template (theta = 0 is the nominal template exactly), and a component whose difference is
      consistent with its own MC noise (chi2 of the change against its per-event variance below ndf + 3 sqrt(2
      ndf)) is left unmoved, as HistFactory workflows prune systematics that are statistical noise.
    Other technologies are refused: their triggers act on photoelectrons (xenon, scintillators) or on heat and
    charge (calorimeters, CCDs) through thresholds reco does not re-decide. PSD flags are kept (energy-dependent
    only through the pulse rise time)."""
    tech = meta["detector"]["technology"]
    if tech != "hpge":
        raise ConfigError(f"reco.energy_scale_sigma / energy_offset_sigma_kevee: only for hpge, not for a {tech}: "
                          "moving the energy must re-decide the trigger, and reco does that for the HPGe erf trigger "
                          "only (other detectors trigger on photoelectrons, heat or charge)")
    from detsim.hpge import section_class as hpge_section, trigger_efficiency
    from generator._validate import build

    k_nodes = ENERGY_SHIFT_NODES
    units = build(hpge_section, meta["detector"].get("hpge") or {}, "hpge").detectors
    retrigger = cfg.require_triggered and "triggered" in cols
    base = np.flatnonzero(select_except_energy(cols, rec, cfg, trigger=not retrigger))
    n = len(base)
    e = np.asarray(rec["e_rec_kevee"], dtype=np.float64)[base]
    det = np.asarray(cols["detector_id"])[base]
    thr = np.tile(np.array([u.threshold_ev for u in units])[det] * 1e-3, k_nodes)
    width = np.tile(np.array([u.trigger_width_ev for u in units])[det] * 1e-3, k_nodes)
    weight = np.tile(np.asarray(cols["weight"], dtype=np.float64)[base], k_nodes) / k_nodes
    origin = np.asarray(cols["origin"])[base]
    region_cols = {k: np.tile(np.asarray(cols[k])[base], k_nodes)
                   for k in ("time_ns", "on_beam", "off_beam", "source_on", "event_id") if k in cols}
    on, off = layout.regions(region_cols)
    edges = layout.energy_edges
    n_e = len(edges) - 1
    n_t = len(layout.time_edges) - 1 if layout.pulsed else 1
    it = _bin_index(region_cols["time_ns"], layout.time_edges) if layout.pulsed else np.zeros(n * k_nodes, int)
    h = float(np.min(np.diff(edges)))
    spread = h * ((np.arange(k_nodes) + 0.5) / k_nodes - 0.5)
    event = np.tile(np.arange(n), k_nodes)
    steady = {ORIGIN_CODE[name] for name in ("ssb", "lee") if name in ORIGIN_CODE}
    time_frac = np.diff(layout.time_edges) / np.sum(np.diff(layout.time_edges)) if layout.pulsed else None

    # flat template index of a copy = scale * (energy bin) + offset, fixed per event by its region and time bin
    pulsed_steady = np.tile(np.isin(origin, list(steady)), k_nodes) if layout.pulsed else np.zeros(n * k_nodes, bool)
    timed_on = on & ~pulsed_steady  # an energy x time bin; steady ones take the energy projection, spread later
    scale = np.where(timed_on, n_t, 1)
    offset = np.where(timed_on, it, np.where(on, 0, n_e * n_t))
    counted = (on | off) & ~(timed_on & (it < 0))

    def energy_bins(theta):
        """(energy bin or -1 outside the window, value) of every copy at theta."""
        e_copies = (shift(e, theta)[None, :] + spread[:, None]).ravel()
        value = weight * (trigger_efficiency(e_copies, thr, width) if retrigger else 1.0)
        ie = np.where(energy_window(e_copies, cfg) & counted, _bin_index(e_copies, edges), -1)
        return ie, value

    at_zero = energy_bins(0.0)
    rows = {ORIGIN_CODE[name]: r for r, name in enumerate(layout.origins)}
    row_of_event = np.array([rows.get(int(c), -1) for c in range(int(origin.max()) + 1)])[origin] if n else origin
    size = n_e * n_t + n_e

    def changes(theta):
        """Per template row: the change at theta and its variance over the events (each event's copies netted
        first, so that an event that stays in its bin adds nothing)."""
        ie_t, v_t = energy_bins(theta)
        ie_0, v_0 = at_zero
        ie = np.concatenate([ie_t, ie_0])
        val = np.concatenate([v_t, -v_0])
        ev = np.concatenate([event, event])
        # copies are laid out (copy, event): the lowest bin an event's copies reach, over both positions
        lowest = np.where(ie >= 0, ie, np.iinfo(np.int64).max).reshape(2 * k_nodes, n).min(axis=0)
        live = ie >= 0
        ie, val, ev = ie[live], val[live], ev[live]
        slot = ie - lowest[ev]
        n_slots = int(slot.max()) + 1 if slot.size else 1
        net = np.bincount(ev * n_slots + slot, weights=val, minlength=n * n_slots)
        ev_s, slot_s = np.divmod(np.arange(n * n_slots), n_slots)
        keep = (net != 0) & (row_of_event[ev_s] >= 0)
        ev_s, slot_s, net = ev_s[keep], slot_s[keep], net[keep]
        sc, of = scale[:n][ev_s], offset[:n][ev_s]
        index = row_of_event[ev_s] * size + sc * (lowest[ev_s] + slot_s) + of
        d = np.bincount(index, weights=net, minlength=len(rows) * size).reshape(len(rows), size)
        var = np.bincount(index, weights=net**2, minlength=len(rows) * size).reshape(len(rows), size)
        if layout.pulsed:  # steady states: spread the energy-only on-region part over the time bins (flat_in_time)
            for code in steady & set(rows):
                r = rows[code]
                d[r] = np.concatenate([(d[r, :n_e, None] * time_frac[None, :]).ravel(), d[r, n_e * n_t:]])
                var[r] = np.concatenate([(var[r, :n_e, None] * (time_frac**2)[None, :]).ravel(), var[r, n_e * n_t:]])
        return d, var

    out = []
    for theta in (-1.0, 1.0):
        moved = np.array(nominal, dtype=float, copy=True)
        d, var = changes(theta)
        for r in range(len(rows)):
            live = var[r] > 0
            ndf = int(np.count_nonzero(live))
            chi2 = float(np.sum(d[r, live] ** 2 / var[r, live]))
            if ndf > 0 and chi2 > ndf + 3.0 * np.sqrt(2.0 * ndf):  # more than the change's own MC noise
                moved[r] = moved[r] + d[r]
        out.append(moved)
    return tuple(out)


def _template_histograms(cols: dict, rec: dict, keep: np.ndarray, layout: Layout) -> dict:
    """Expectation histograms per origin; the steady-state ones spread uniformly in time."""
    hists = histograms(cols, rec, keep, layout, weighted=True)
    for steady in ("ssb", "lee"):  # uniform in time
        if layout.pulsed and steady in hists:
            hists[steady]["on"] = flat_in_time(hists[steady]["on"])
    return hists


def flat_in_time(h):
    """An energy x time template of a background uniform in time (steady state): its energy projection spread
    over the time bins in proportion to their widths. The same MC events then fill every time bin, instead of
    leaving bins empty by chance."""
    values, variances = h.values(), h.variances()
    widths = np.diff(h.axes[1].edges)
    frac = widths / widths.sum()
    out = h.copy()
    out.view()["value"] = values.sum(axis=1)[:, None] * frac[None, :]
    out.view()["variance"] = variances.sum(axis=1)[:, None] * (frac * frac)[None, :]
    return out


def analyse(data_cols: dict, data_meta: dict, templates: Templates, cfg: RecoConfig, data_weighted: bool) -> dict:
    """Data histograms on the templates' layout, on-minus-off and the template fit (all in memory)."""
    t = templates.scaled_to(float(data_meta.get("exposure_fraction") or 1.0))
    rec = reconstruct_columns(data_cols, data_meta)
    keep = select(data_cols, rec, cfg)
    data = histograms(data_cols, rec, keep, t.layout, weighted=data_weighted)
    out = {"layout": t.layout, "templates": t.hists, "data": data, "excess": on_minus_off(data, t.layout),
           "rec": rec, "keep": keep}
    if cfg.fit and t.matrix[0].sum() > 0:
        _, dmat = flatten_templates(data)
        priors = cfg.priors()
        out["fit"] = fit_templates(t.names, t.matrix, dmat.sum(axis=0), priors, t.variances, t.shape_variants)
    return out


def fit_counts(data_cols: dict, data_meta: dict, templates: Templates, cfg: RecoConfig):
    """The template fit of unweighted data (a toy): (reco.fit.FitResult, selection mask). The same fit as
    :func:`analyse` without its histograms per origin and on-minus-off (tested equal)."""
    t = templates.scaled_to(float(data_meta.get("exposure_fraction") or 1.0))
    rec = reconstruct_columns(data_cols, data_meta)
    keep = select(data_cols, rec, cfg)
    priors = cfg.priors()
    return fit_templates(t.names, t.matrix, data_counts(data_cols, rec, keep, t.layout), priors, t.variances,
                         t.shape_variants), keep


def reconstruct(input_path, output_path, cfg: RecoConfig, *, templates=None, outdir=None,
                title: str | None = None) -> dict:
    """Run the reco stage; return the summary dictionary (also written as JSON and text)."""
    reader, cols = _read(input_path)
    meta = reader.metadata
    if templates is not None:
        t_reader, t_cols = _read(templates)
        t_meta = t_reader.metadata
        if t_meta.get("generator_config", {}).get("target") != meta.get("generator_config", {}).get("target"):
            raise ValueError(f"templates {templates} were made for another target than {input_path}")
        weighted = meta.get("mode") != "pseudo_experiment"
    else:
        t_cols, t_meta, weighted = cols, meta, True
    res = analyse(cols, meta, Templates.from_columns(t_cols, t_meta, cfg), cfg, weighted)
    outdir = Path(outdir) if outdir is not None else Path(output_path).parent
    summary = build_summary(res, meta, cfg, input_path, templates)
    if cfg.plots:
        from .plots import plot_all

        fit_mu = None
        if "fit" in res:
            fit_mu = {"cevns": res["fit"].mu_cevns, **{k: v["mu"] for k, v in res["fit"].backgrounds.items()}}
        name = title or meta.get("generator_config", {}).get("name", "run")
        summary["plots"] = plot_all(outdir, res["templates"], res["data"], res["layout"], res["excess"], name, fit_mu)
        if "num_pe" in cols:
            from .plots import plot_pe_spectrum

            t_res = analyse(t_cols, t_meta, Templates.from_columns(t_cols, t_meta, cfg), cfg, True) \
                if templates is not None else res
            on_d, _ = res["layout"].regions(cols)
            on_t, _ = res["layout"].regions(t_cols)
            ratio = float(meta.get("exposure_fraction") or 1.0) / float(t_meta.get("exposure_fraction") or 1.0)
            summary["plots"].append(plot_pe_spectrum(outdir, cols, res["keep"] & on_d, t_cols, t_res["keep"] & on_t,
                                                     ratio, name))
    columns = {k: (np.asarray(v).dtype, reader.units.get(k, "")) for k, v in cols.items()}
    columns.update(RECO_COLUMNS)
    with EventWriter(output_path, stage="reco", columns=columns) as w:
        w.write({**cols, "e_rec_kevee": res["rec"]["e_rec_kevee"], "e_rec_kevnr": res["rec"]["e_rec_kevnr"],
                 "selected": res["keep"]})
        from .histograms import H5_GROUP, collect_histograms, to_root_object, write_h5_group

        fit_scales = None
        if "fit" in res:
            fit_scales = {"cevns": res["fit"].mu_cevns, **{k: v["mu"] for k, v in res["fit"].backgrounds.items()}}
        hists = collect_histograms(res, fit_scales)

        def h5_histograms(f):
            group = f.create_group(H5_GROUP)
            for h in hists:
                write_h5_group(group, h)

        w.add_extra(h5=h5_histograms, root={h.name: to_root_object(h) for h in hists})
        summary["histograms"] = [h.name for h in hists]
        keep = ("seed", "mode", "expected_events", "exposure", "pulsed", "rep_rate_hz", "live_time_s", "components",
                "detector", "generator_config", "beam_windows", "source_off_live_days")
        w.close({**{k: meta.get(k) for k in keep}, "package_version": __version__,
                 "reco_config": summary["reco_config"], "summary": {k: v for k, v in summary.items() if k != "plots"},
                 "parent_provenance_hash": meta.get("provenance_hash"),
                 "parents": meta.get("parents", []) + [{k: v for k, v in meta.items() if k not in ("columns", "jagged", "parents")}]})
    write_summary(outdir, summary)
    return summary


def build_summary(res: dict, meta: dict, cfg: RecoConfig, input_path, templates) -> dict:
    import dataclasses

    lay = res["layout"]
    t, d = res["templates"], res["data"]
    exp_on = {n: float(h["on"].values().sum()) for n, h in t.items()}
    obs_on = {n: float(h["on"].values().sum()) for n, h in d.items()}
    s = {
        "input": str(input_path),
        "templates": str(templates) if templates is not None else "input (Asimov)",
        "region": "on-beam window" if lay.pulsed else "source-on",
        "expected_on": exp_on,
        "observed_on_by_origin_truth": obs_on,
        "on_minus_off": {k: res["excess"][k] for k in ("total", "total_err", "on", "off", "scale")},
        "on_minus_off_spectrum": {k: res["excess"][k] for k in ("energy_edges", "excess", "excess_err")},
        "reco_config": dataclasses.asdict(cfg),
        "package_version": __version__,
    }
    if "fit" in res:
        f = res["fit"]
        s["fit"] = f.to_dict()
        s["sigma_meas_over_sigma_sm"] = f.mu_cevns
        s["sigma_meas_over_sigma_sm_err"] = f.mu_cevns_err
        s["significance_no_cevns"] = f.significance
        if f.significance is None:
            s["significance_note"] = f"undefined ({f.significance_note})" if cfg.backgrounds_published else (
                "not quoted: this experiment's backgrounds are not published (add [[detector.backgrounds]] with "
                "cited rates to study them)")
        xs = sm_flux_averaged_xsec(meta)
        if xs:
            s["flux_averaged_xsec_sm_cm2"] = xs
            s["flux_averaged_xsec_measured_cm2"] = xs * f.mu_cevns
            s["flux_averaged_xsec_measured_err_cm2"] = xs * f.mu_cevns_err
    return s


def write_summary(outdir: Path, summary: dict) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=float))
    lines = [f"CEvNS reconstruction summary ({summary['region']})", ""]
    for n, v in summary["expected_on"].items():
        lines.append(f"  expected {ORIGIN_LABEL.get(n, n):<28} {v:10.2f}   observed (truth label) "
                     f"{summary['observed_on_by_origin_truth'][n]:10.2f}")
    om = summary["on_minus_off"]
    lines.append("")
    lines.append(f"  on - {om['scale']:.3g} x off = {om['total']:.2f} ± {om['total_err']:.2f}  "
                 f"(on {om['on']:.1f}, off {om['off']:.1f})")
    if "fit" in summary:
        unpublished = not summary["reco_config"].get("backgrounds_published", True)
        lines.append(f"  fitted CEvNS: sigma_meas / sigma_SM = {summary['sigma_meas_over_sigma_sm']:.3f} ± "
                     f"{summary['sigma_meas_over_sigma_sm_err']:.3f}"
                     + ("  (no backgrounds: the signal's own statistics only)" if unpublished else ""))
        z = summary["significance_no_cevns"]
        if z is None:
            lines.append(f"  significance against no CEvNS: {summary['significance_note']}")
        else:
            lines.append(f"  significance against no CEvNS: {z:.2f} σ")
        for name, v in (summary["fit"].get("nuisances") or {}).items():
            lines.append(f"  nuisance {name}: {v['theta']:+.2f} ± {v['err']:.2f} σ")
        if "flux_averaged_xsec_measured_cm2" in summary:
            lines.append(f"  flux-averaged cross section: {summary['flux_averaged_xsec_measured_cm2']:.3e} ± "
                         f"{summary['flux_averaged_xsec_measured_err_cm2']:.3e} cm^2 (SM "
                         f"{summary['flux_averaged_xsec_sm_cm2']:.3e})")
    (outdir / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

