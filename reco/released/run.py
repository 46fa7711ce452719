"""``cevns-run`` on a preset with a released analysis: fit the collaboration's observed data (default), the
Asimov expectation (``--asimov``) or a toy ensemble drawn from the released backgrounds (``--toys N``).

Writes ``summary.json`` / ``summary.txt`` (ours beside the paper's numbers), ``fit.png`` (data and the fitted
stack in each observable, as the papers show them) and, with toys, ``toys.csv`` (one row per toy) and
``toys.png``.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import numpy as np

from . import build_released_analysis
from .likelihood import SIGNAL, ReleasedAnalysis, asimov_data, count_error_floor, fit, poisson_toy

__all__ = ["run_released", "summarise"]

DATA_SOURCES = {"data": "released data", "asimov": "asimov"}
TOY_STREAM = 3  # SeedSequence spawn key of the toy ensemble (0 generator, 1 detsim, 2 reco data sets)
TOY_COLUMNS = ["toy", "mu", "mu_err", "n_cevns", "significance", "valid"]


def summarise(ana: ReleasedAnalysis, result, data_source: str) -> dict:
    """summary.json's content for one fit of a released analysis."""
    sm_total = float(ana.model.components[0].expected.sum())
    comps = {c.name: {"expected_nominal": float(c.expected.sum()),
                      "fitted": float(result.expected[c.name].sum()),
                      "norm_prior_sigma": c.norm_sigma} for c in ana.model.components}
    return {
        "analysis": ana.name,
        "data_source": data_source,
        "observed_events": float(np.sum(ana.model.data)) if data_source == "released data" else None,
        "fit": {"n_cevns": result.n_signal, "n_cevns_err": result.n_signal_err,
                "n_cevns_err_floor": count_error_floor(result.expected),
                "mu": result.mu, "mu_err": result.mu_err,
                "mu_minos": None if result.mu_minos is None else list(result.mu_minos),
                "valid": result.valid, "params": result.to_dict()["params"], "components": comps},
        "n_cevns_sm_expected": sm_total,
        "sigma_meas_over_sigma_sm": result.mu,
        "sigma_meas_over_sigma_sm_err": result.mu_err,
        "significance_no_cevns": result.significance,
        "significance_note": result.significance_note,
        "published": ana.published,
        "notes": list(ana.notes),
        "bins": {a.name: {"label": a.label, "edges": [float(e) for e in a.edges]} for a in ana.axes},
    }


def _fmt(x, spec=".2f", missing="n/a"):
    return missing if x is None else format(x, spec)


def merged_toys_line(rows: list[dict], output) -> str:
    """cevns-toys-merge's one-line account of a merged released-analysis toy table (rows as read from it)."""
    s = _toy_summary(read_toy_rows(rows))
    return (f"merged {s['n_toys']} toys ({rows[0]['toy']}..{rows[-1]['toy']}) -> {output}; {s['n_valid']} valid, "
            f"fitted CEvNS median {_fmt(s['n_cevns_median'], '.1f', 'undefined')} (16-84 %: "
            f"{_fmt(s['n_cevns_q16'], '.1f', 'undefined')}-{_fmt(s['n_cevns_q84'], '.1f', 'undefined')}), "
            f"significance median {_fmt(s['significance_median'], '.2f', 'undefined')}")


def summary_text(s: dict) -> str:
    p = s.get("published") or {}
    f = s["fit"]
    lines = [f"{s['analysis']}: released analysis, fitted to {s['data_source']}"]
    if s.get("observed_events") is not None:
        lines.append(f"  observed events in the analysis bins: {s['observed_events']:.0f}")
    lines.append(f"  {'':34s} {'ours':>16s} {'published':>16s}")
    ours_n = f"{f['n_cevns']:.1f} ± {f['n_cevns_err']:.1f}"
    pub_n = (f"{p['n_cevns']:.1f} ± {p['n_cevns_err']:.1f}" if p.get("n_cevns") is not None
             and p.get("n_cevns_err") is not None else _fmt(p.get("n_cevns"), ".1f"))
    lines.append(f"  {'fitted CEvNS events':34s} {ours_n:>16s} {pub_n:>16s}")
    if f.get("n_cevns_err_floor") is not None:
        lines.append(f"  {'  error floor (backgrounds known)':34s} {'± ' + _fmt(f['n_cevns_err_floor'], '.1f'):>16s}")
    lines.append(f"  {'SM CEvNS expectation':34s} {s['n_cevns_sm_expected']:>16.1f} "
                 f"{_fmt(p.get('n_cevns_sm_predicted'), '.1f'):>16s}")
    ours_r = f"{s['sigma_meas_over_sigma_sm']:.3f} ± {s['sigma_meas_over_sigma_sm_err']:.3f}"
    lines.append(f"  {'sigma_meas / sigma_SM':34s} {ours_r:>16s} {_fmt(p.get('sigma_ratio'), '.3f'):>16s}")
    z = s["significance_no_cevns"]
    lines.append(f"  {'significance against no CEvNS [σ]':34s} {_fmt(z):>16s} {_fmt(p.get('significance')):>16s}")
    if z is None:
        lines.append(f"  ({s['significance_note']})")
    for name, c in f["components"].items():
        prior = "free" if c["norm_prior_sigma"] is None else f"prior ±{100 * c['norm_prior_sigma']:.0f} %"
        lines.append(f"    {name:6s} expected {c['expected_nominal']:9.1f}   fitted {c['fitted']:9.1f}   ({prior})")
    if p.get("citation"):
        lines.append(f"  paper: {p['citation']}")
    for n in s.get("notes", []):
        lines.append(f"  note: {n}")
    if "toys" in s:
        t = s["toys"]
        lines.append(f"  toys: {t['n_valid']}/{t['n_toys']} valid; fitted CEvNS median {_fmt(t['n_cevns_median'], '.1f')}"
                     f" (16-84 %: {_fmt(t['n_cevns_q16'], '.1f')}-{_fmt(t['n_cevns_q84'], '.1f')}); significance median "
                     f"{_fmt(t['significance_median'])} (16-84 %: {_fmt(t['significance_q16'])}-"
                     f"{_fmt(t['significance_q84'])})")
    return "\n".join(lines) + "\n"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_toys(ana: ReleasedAnalysis, toys, seed: int, progress: bool | None = None) -> list[dict]:
    """Toys around the nominal model (mu = 1): one row per toy, each from its own SeedSequence stream, so toy i
    is the same whichever job makes it. ``toys``: a number of toys (0..n-1) or the toy indices."""
    from tqdm import tqdm

    indices = range(toys) if isinstance(toys, int) else toys
    rows = []
    for i in tqdm(indices, desc="toys", unit="toy", disable=None if progress is None else not progress):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TOY_STREAM, i)))
        r = fit(ana.model, data=poisson_toy(ana.model, rng))
        rows.append({"toy": i, "mu": r.mu, "mu_err": r.mu_err, "n_cevns": r.n_signal,
                     "significance": r.significance, "valid": r.valid})
    return rows


def _toy_summary(rows: list[dict]) -> dict:
    ok = [r for r in rows if r["valid"]]
    n = np.array([r["n_cevns"] for r in ok])
    z = np.array([r["significance"] for r in ok if r["significance"] is not None])

    def q(a, p):
        return float(np.quantile(a, p)) if len(a) else None

    return {"n_toys": len(rows), "n_valid": len(ok), "n_cevns_median": q(n, 0.5), "n_cevns_q16": q(n, 0.16),
            "n_cevns_q84": q(n, 0.84), "significance_median": q(z, 0.5), "significance_q16": q(z, 0.16),
            "significance_q84": q(z, 0.84)}


def ensemble_identity(cfg, seed: int) -> str:
    """What makes toy tables of different jobs one ensemble of a released analysis: the configuration (which the
    analysis and its CEvNS template are built from), the seed and the package version."""
    import hashlib

    from generator import __version__

    blob = json.dumps({"released": cfg.name, "config": cfg.to_json(), "seed": int(seed), "package": __version__},
                      sort_keys=True, default=str)
    return "released-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def write_toy_rows(path: Path, rows: list[dict], identity: str) -> None:
    """toys.csv of a released analysis: the identity line (as the simulated chain's, so that cevns-toys-merge
    joins the tables of the jobs of one ensemble), then one row per toy. Written atomically."""
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="") as f:
        f.write(f"# cevns-toys {identity}\n")
        w = csv.DictWriter(f, fieldnames=TOY_COLUMNS)
        w.writeheader()
        w.writerows({k: ("" if r[k] is None else r[k]) for k in TOY_COLUMNS} for r in rows)
    os.replace(tmp, path)


def read_toy_rows(rows: list[dict]) -> list[dict]:
    """Rows of a released toys.csv (strings, as merged) back to the values run_toys returns."""
    return [{"toy": int(r["toy"]), "mu": float(r["mu"]), "mu_err": float(r["mu_err"]), "n_cevns": float(r["n_cevns"]),
             "significance": float(r["significance"]) if r["significance"] else None, "valid": r["valid"] == "True"}
            for r in rows]


def run_released(cfg, outdir, *, asimov: bool = False, toys: int | None = None, seed: int | None = None,
                 progress: bool | None = None, toy_range: tuple[int, int] | None = None) -> dict:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    seed = cfg.generator.seed if seed is None else int(seed)
    t0 = time.perf_counter()
    ana = build_released_analysis(cfg, seed=seed)
    source = "asimov" if asimov else "data"
    data = asimov_data(ana.model) if asimov else ana.model.data
    result = fit(ana.model, data=data, minos=True)
    summary = summarise(ana, result, DATA_SOURCES[source])
    if asimov:
        summary["observed_events"] = None
    summary["run"] = {"seed": seed, "seconds": None}
    if toys or toy_range:
        indices = range(*toy_range) if toy_range else range(toys)
        rows = run_toys(ana, indices, seed, progress)
        identity = ensemble_identity(cfg, seed)
        summary["toys"] = _toy_summary(rows)
        summary["toys"].update(ensemble=identity, range=[indices.start, indices.stop])
        write_toy_rows(outdir / "toys.csv", rows, identity)
        _plot_toys(outdir, rows, ana)
    plot_fit(outdir / "fit.png", ana, result, data, source)
    summary["run"]["seconds"] = round(time.perf_counter() - t0, 2)
    _atomic_write_text(outdir / "summary.txt", summary_text(summary))
    _atomic_write_text(outdir / "summary.json", json.dumps(summary, indent=2, sort_keys=True, default=float))
    return summary


COLOURS = {"cevns": "tab:red", "ssb": "tab:gray", "brn": "tab:blue", "brn_prompt": "tab:blue",
           "brn_delayed": "tab:cyan", "nin": "tab:green", "er": "tab:purple", "ac": "tab:olive",
           "neutron": "tab:brown", "flat": "tab:gray", "epithermal": "tab:blue", "ec_peaks": "tab:orange"}


LABELS = {"cevns": "CEvNS", "ssb": "steady state", "brn": "beam-related n", "brn_prompt": "prompt BRN",
          "brn_delayed": "delayed BRN", "nin": "ν-induced n", "er": "ER background", "ac": "accidental coincidences",
          "neutron": "neutrons", "flat": "flat background", "epithermal": "epithermal neutrons",
          "ec_peaks": "Ge L/M-shell EC peaks"}


def plot_fit(path: Path, ana: ReleasedAnalysis, result, data, source: str) -> None:
    """Data and the fitted stack projected on each observable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = np.asarray(data, dtype=float)
    n_ax = len(ana.axes)
    fig, axes = plt.subplots(1, n_ax, figsize=(4.2 * n_ax, 3.6), squeeze=False)
    names = ana.model.component_names
    order = names[1:] + [SIGNAL]  # signal on top
    for k, ax_def in enumerate(ana.axes):
        ax = axes[0, k]
        others = tuple(i for i in range(n_ax) if i != k)
        edges = np.asarray(ax_def.edges, dtype=float)
        bottom = np.zeros(len(edges) - 1)
        for name in order:
            y = result.expected[name].sum(axis=others) if others else result.expected[name]
            ax.stairs(bottom + y, edges, baseline=bottom, fill=True, alpha=0.75, color=COLOURS.get(name),
                      label=f"{LABELS.get(name, name)} ({y.sum():.1f})")
            bottom = bottom + y
        d = data.sum(axis=others) if others else data
        centres = 0.5 * (edges[1:] + edges[:-1])
        label = "released data" if source == "data" else "Asimov data"
        ax.errorbar(centres, d, yerr=np.sqrt(np.maximum(d, 0)) if source == "data" else None, fmt="ko", ms=3,
                    label=f"{label} ({d.sum():.0f})")
        ax.set_xlabel(ax_def.label)
        ax.set_ylabel("events / bin")
        if k == 0:
            ax.legend(frameon=False, fontsize=7)
    z = result.significance
    fig.suptitle(f"{ana.name}: fitted CEvNS {result.n_signal:.1f} ± {result.n_signal_err:.1f}, "
                 f"{'significance undefined' if z is None else f'{z:.1f}σ'}", fontsize=10)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".part.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def _plot_toys(outdir: Path, rows: list[dict], ana: ReleasedAnalysis) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = np.array([r["n_cevns"] for r in rows if r["valid"]])
    z = np.array([r["significance"] for r in rows if r["valid"] and r["significance"] is not None])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    axes[0].hist(n, bins=30, color="tab:red", alpha=0.7)
    axes[0].axvline(ana.model.components[0].expected.sum(), color="k", ls="--", label="SM expectation")
    axes[0].set_xlabel("fitted CEvNS events")
    axes[0].legend(frameon=False, fontsize=8)
    if len(z):
        axes[1].hist(z, bins=30, color="tab:orange", alpha=0.7)
    axes[1].set_xlabel("significance against no CEvNS [σ]")
    fig.tight_layout()
    tmp = outdir / "toys.part.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, outdir / "toys.png")
