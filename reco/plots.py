"""PNG plots of a reconstruction: energy spectra, time distribution, on-minus-off excess."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_all"]

COLOURS = {"cevns": "tab:blue", "ssb": "tab:gray", "brn": "tab:orange", "nin": "tab:green", "lee": "tab:purple"}
LABELS = {"cevns": "CEvNS", "ssb": "steady state", "brn": "beam-related n", "nin": "ν-induced n",
          "lee": "low-energy excess"}
BEAM_BACKGROUNDS = ("brn", "nin")  # in time with the beam: the off-beam window does not remove them


def _stack(ax, edges, parts, data=None, data_label="data", xlabel="", ylabel="events / bin"):
    bottom = np.zeros(len(edges) - 1)
    for name, vals in parts.items():
        if vals.sum() <= 0:
            continue
        ax.stairs(bottom + vals, edges, baseline=bottom, fill=True, color=COLOURS[name], alpha=0.7,
                  label=LABELS[name])
        bottom = bottom + vals
    if data is not None:
        centres = 0.5 * (edges[1:] + edges[:-1])
        ax.errorbar(centres, data, yerr=np.sqrt(np.maximum(data, 1.0)), fmt="ko", ms=3, label=data_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8)


def plot_all(outdir: Path, templates: dict, data: dict, layout, excess: dict, title: str, fit_mu=None) -> list[str]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    files = []
    scale = {n: (fit_mu.get(n, 1.0) if fit_mu else 1.0) for n in templates}
    # energy spectrum in the on region
    fig, ax = plt.subplots(figsize=(6, 4))
    parts = {n: scale[n] * (h["on"].values().sum(axis=1) if h["on"].values().ndim == 2 else h["on"].values())
             for n, h in templates.items()}
    d = sum((h["on"].values().sum(axis=1) if h["on"].values().ndim == 2 else h["on"].values()) for h in data.values())
    _stack(ax, layout.energy_edges, parts, d, xlabel="reconstructed energy [keVee]")
    ax.set_title(f"{title}: {'on-beam' if layout.pulsed else 'source-on'} spectrum", fontsize=9)
    files.append(str(outdir / "energy_spectrum.png"))
    fig.tight_layout()
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)
    # time distribution (pulsed)
    if layout.pulsed:
        fig, ax = plt.subplots(figsize=(6, 4))
        parts = {n: scale[n] * h["on"].values().sum(axis=0) for n, h in templates.items()}
        d = sum(h["on"].values().sum(axis=0) for h in data.values())
        _stack(ax, layout.time_edges / 1000.0, parts, d, xlabel="time after the proton pulse [µs]")
        ax.set_title(f"{title}: arrival times in the on-beam window", fontsize=9)
        files.append(str(outdir / "time_distribution.png"))
        fig.tight_layout()
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)
    # on - off excess
    fig, ax = plt.subplots(figsize=(6, 4))
    edges = np.asarray(excess["energy_edges"])
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax.errorbar(centres, excess["excess"], yerr=excess["excess_err"], fmt="ko", ms=3, label="on − scaled off")
    # what on − off still contains: CEvNS and the backgrounds that arrive with the beam
    bottom = np.zeros(len(edges) - 1)
    for name in ("cevns",) + BEAM_BACKGROUNDS:
        if name not in templates:
            continue
        v = templates[name]["on"].values()
        v = scale[name] * (v.sum(axis=1) if v.ndim == 2 else v)
        if v.sum() <= 0:
            continue
        fit_note = " (fitted)" if fit_mu else " (expected)"
        ax.stairs(bottom + v, edges, baseline=bottom, fill=True, alpha=0.6, color=COLOURS[name],
                  label=LABELS[name] + fit_note)
        bottom = bottom + v
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("reconstructed energy [keVee]")
    ax.set_ylabel("events / bin")
    ax.set_title(f"{title}: excess {excess['total']:.1f} ± {excess['total_err']:.1f}", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    files.append(str(outdir / "on_minus_off.png"))
    fig.tight_layout()
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)
    return files


def plot_pe_spectrum(outdir: Path, data_cols: dict, data_sel, tmpl_cols: dict, tmpl_sel, scale: float,
                     title: str) -> str:
    """Photoelectron spectrum of the selected on-region events (scintillators): expectation by origin and data."""
    n_max = int(np.quantile(tmpl_cols["num_pe"][tmpl_sel], 0.995)) + 2 if tmpl_sel.any() else 50
    edges = np.arange(0, max(n_max, 10) + 1, max(1, n_max // 40))
    parts = {}
    for code, name in enumerate(("cevns", "ssb", "brn", "nin")):
        s = tmpl_sel & (tmpl_cols["origin"] == code)
        parts[name] = np.histogram(tmpl_cols["num_pe"][s], edges, weights=tmpl_cols["weight"][s] * scale)[0]
    data = np.histogram(data_cols["num_pe"][data_sel], edges)[0]
    fig, ax = plt.subplots(figsize=(6, 4))
    _stack(ax, edges, parts, data, xlabel="photoelectrons per event")
    ax.set_title(f"{title}: photoelectron spectrum (selected, on region)", fontsize=9)
    path = str(Path(outdir) / "pe_spectrum.png")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
