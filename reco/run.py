"""``cevns-run``: the whole chain for one configuration, generate -> detsim -> reco, with plots and a summary.

Steps: a fixed-N template sample (``reco.template_events``, backgrounds oversampled) gives the expectation
histograms; a data set (a pseudo-experiment, or the Asimov expectation) goes through generate -> detsim ->
reco; the fit compares them; optionally a toy ensemble measures bias, pulls and coverage.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

from detsim.config import detector_from_dict, load_detector, to_dict
from generator._validate import resolve_threads
from detsim.simulate import simulate_detector
from generator.config import Config
from generator.eventfile import EventReader
from generator.generate import generate

from .config import reco_from_dict
from .stage import Templates, reconstruct, write_summary

__all__ = ["detector_for_run", "run_chain"]


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def detector_for_run(cfg: Config):
    """The run's [detector] table: ``preset = NAME`` as a base, the other keys merged over it."""
    raw = dict(cfg.detector or {})
    if not raw:
        from generator._validate import ConfigError

        raise ConfigError("the run configuration needs a [detector] table (e.g. preset = \"conus_plus\")")
    preset = raw.pop("preset", None)
    base = to_dict(load_detector(preset)) if preset else {}
    if cfg.window is not None:  # the analysis window is the on-beam window, declared once
        timing = raw.setdefault("timing", {})
        for key, value in (("on_start_ns", cfg.window.start_ns), ("on_length_ns", cfg.window.length_ns)):
            if key in timing and float(timing[key]) != float(value):
                from generator._validate import ConfigError

                raise ConfigError(f"detector.timing.{key} = {timing[key]} contradicts the analysis window "
                                  f"[window] ({value}): set one of them")
            timing[key] = value
    return detector_from_dict(_merge(base, raw))


def with_oversampled_backgrounds(det, factor: float):
    raw = to_dict(det)
    for bg in raw.get("backgrounds", []):
        bg["oversample"] = bg.get("oversample", 1.0) * factor
    return detector_from_dict(raw)


def run_chain(cfg: Config, outdir, *, threads: int | None = None, toys: int | None = None, seed: int | None = None,
              progress: bool | None = None, toy_range: tuple[int, int] | None = None, dask: str | None = None) -> dict:
    """generate -> detsim -> reco for ``cfg``; with ``toys`` (or ``toy_range`` = (a, b): toys a..b-1 of the
    ensemble, for job arrays) a toy ensemble, in processes or on Dask (``dask``)."""
    outdir = Path(outdir)
    det = detector_for_run(cfg)
    for i, bg in enumerate(det.backgrounds):
        if bg.oversample != 1.0:  # the data set and the toys are counts: their backgrounds must weigh 1
            from generator._validate import ConfigError

            raise ConfigError(f"detector.backgrounds[{i}].oversample = {bg.oversample:g}: in a run the data set is "
                              "drawn with weight-1 events; oversample the templates with reco.template_oversample")
    outdir.mkdir(parents=True, exist_ok=True)
    rc = reco_from_dict(cfg.reco)
    seed = cfg.generator.seed if seed is None else seed
    t0 = time.perf_counter()
    tmpl_gen, tmpl_det = outdir / "templates_events.h5", outdir / "templates_detector.h5"
    generate(cfg, tmpl_gen, n_events=rc.template_events, seed=seed, mode="fixed", threads=threads,
             progress=progress)
    simulate_detector(tmpl_gen, tmpl_det, with_oversampled_backgrounds(det, rc.template_oversample), seed=seed,
                      threads=threads, progress=progress)
    events, detector, reco = outdir / "events.h5", outdir / "detector.h5", outdir / "reco.h5"
    if rc.data == "asimov":
        generate(cfg, events, n_events=rc.template_events, seed=seed, mode="fixed", threads=threads,
                 progress=progress)
        simulate_detector(events, detector, with_oversampled_backgrounds(det, rc.template_oversample), seed=seed,
                          threads=threads, progress=progress)
    else:
        data_seed = seed + 1  # the data set must not share the templates' random streams
        generate(cfg, events, seed=data_seed, mode="pseudo_experiment", threads=threads, progress=progress)
        simulate_detector(events, detector, det, seed=data_seed, threads=threads, progress=progress)
    summary = reconstruct(detector, reco, rc, templates=tmpl_det, outdir=outdir, title=cfg.name)
    summary["data_source"] = "asimov" if rc.data == "asimov" else "pseudo_experiment"
    summary["run"] = {"seed": seed, "data": rc.data, "template_events": rc.template_events,
                      "files": {"events": str(events), "detector": str(detector), "reco": str(reco),
                                "templates": str(tmpl_det)},
                      "seconds": round(time.perf_counter() - t0, 2)}
    n_toys = rc.toys if toys is None else toys
    first = 0
    if toy_range is not None:
        first, n_toys = toy_range[0], toy_range[1] - toy_range[0]
    if n_toys:
        import os

        from .toys import ensemble_identity, run_toys, write_toy_table

        tr = EventReader(tmpl_det)
        cols, _ = tr.read(jagged=[])
        templates = Templates.from_columns(cols, tr.metadata, rc)
        ens = run_toys(cfg, det, rc, templates, tr.metadata, n_toys, seed, workers=resolve_threads(threads),
                       progress=progress, first=first, dask=dask)
        summary["toys"] = ens.summary()
        summary["toys"]["range"] = [first, first + n_toys]
        identity = ensemble_identity(cfg, rc, tr.metadata, seed)
        summary["toys"]["ensemble"] = identity
        tmp = outdir / "toys.csv.part"
        write_toy_table(tmp, ens, identity)
        os.replace(tmp, outdir / "toys.csv")
        _plot_toys(outdir, ens)
    write_summary(outdir, summary)
    if "toys" in summary:
        t = summary["toys"]
        with (outdir / "summary.txt").open("a", encoding="utf-8") as f:
            f.write(f"\n  toys: {t['n_valid']}/{t['n_toys']} valid; bias {t['bias']:+.3f} ± {t['bias_err']:.3f}; "
                    f"pull mean {t['pull_mean']:+.3f}, width {t['pull_width']:.3f} ± {t['pull_width_err']:.3f}; "
                    f"68 % coverage {t['coverage_68']:.3f}; median significance "
                    f"{'undefined' if t['significance_median'] is None else format(t['significance_median'], '.2f')}\n")
    (outdir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=float))
    return summary


def _plot_toys(outdir: Path, ens) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    p = ens.pulls[np.isfinite(ens.pulls)]
    axes[0].hist(p, bins=30, density=True, color="tab:blue", alpha=0.7, label="toys")
    x = np.linspace(-4, 4, 200)
    axes[0].plot(x, np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi), "k-", label="N(0, 1)")
    axes[0].set_xlabel("pull of the CEvNS signal strength")
    axes[0].legend(frameon=False, fontsize=8)
    axes[1].hist(ens.significance, bins=30, color="tab:orange", alpha=0.7)
    axes[1].set_xlabel("significance against no CEvNS [sigma]")
    fig.tight_layout()
    fig.savefig(outdir / "toys.png", dpi=110)
    plt.close(fig)
