#!/usr/bin/env python
"""Build the experiment presets data/presets/<name>.toml and compare their rates with the papers.

Every preset is a complete run configuration (generator sections, a [detector] table naming a detector preset,
a [reco] table). Its [recoil] efficiency_kevnr / efficiency table is computed here from the paper's detector
response (quenching, light yield or ionisation resolution, threshold / acceptance), by one of:

* Poisson folding of an efficiency in photoelectrons (CsI):  eff(T) = sum_n Poisson(n; LY QF(T) T) eff_PE(n);
* an erf trigger turn-on in electron-equivalent energy (HPGe):  eff(T) = sum_i m_i/M Phi((QF(T) T - thr_i) / s_i),
  s_i^2 = F eps E + sigma_noise_i^2 + w_i^2, with the numbers of the detector preset (data/detectors/);
* a released table (CENNS-10 LAr, data/efficiency/cenns10_anlA_efficiency.csv);
* a released table (XENONnT: the mono-energetic NR efficiencies of its 8B data release, data/releases/xenonnt_b8_2024).

Usage:
    python scripts/make_experiment_presets.py                 # write every preset, print the comparison
    python scripts/make_experiment_presets.py --compare       # only print predictions vs papers
    python scripts/make_experiment_presets.py --check         # exit 1 if a preset differs from what is built

The efficiency curve is used by ``cevns-rate`` (it multiplies dsigma/dT); generation ignores it, so the
presets' ``threshold_kevnr`` is put where the efficiency has fallen below 1e-4 (negligible loss).
Timing cuts (beam windows, the CsI-2021 timing efficiency) are not functions of the recoil energy and cannot
enter a rate preset; ``--compare`` prints an estimate of their acceptance next to the rate.

Layout: this file is the command line and the comparison table. Each experiment is one builder module,
scripts/presets/<preset>.py (its inputs with their sources, its efficiency table, its preset text, its paper
value); helpers used by more than one experiment are in scripts/presets/_common.py. Adding an experiment is adding
a module there: the driver finds it (scripts/presets/__init__.py lists what a module provides).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESET_DIR = ROOT / "data" / "presets"
BUILDER_DIR = ROOT / "scripts" / "presets"
sys.path.insert(0, str(ROOT))

_PACKAGE = "experiment_preset_builders"  # scripts/ is not an installed package: load scripts/presets/ by its path


def _import(module: str, directory: Path = BUILDER_DIR):
    """<directory>/<module>.py, imported as a submodule of a package made of ``directory`` (relative imports work).
    scripts/presets/ is the package ``experiment_preset_builders``; another directory (tests) gets its own name."""
    directory = Path(directory).resolve()
    package = _PACKAGE
    if directory != BUILDER_DIR:
        package += "_" + hashlib.sha1(str(directory).encode()).hexdigest()[:12]
    if package not in sys.modules:
        spec = importlib.util.spec_from_file_location(package, directory / "__init__.py",
                                                      submodule_search_locations=[str(directory)])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[package] = mod
        spec.loader.exec_module(mod)
    return importlib.import_module(f"{package}.{module}")


def builders(directory: Path = BUILDER_DIR) -> dict:
    """Preset name -> builder module, for every <directory>/<name>.py not starting with '_', sorted by name."""
    out = {}
    for info in sorted(pkgutil.iter_modules([str(directory)]), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = _import(info.name, directory)
        missing = [a for a in ("NAME", "PAPER", "table", "preset_text") if not hasattr(mod, a)]
        if missing or mod.NAME != info.name:
            raise SystemExit(f"{directory / info.name}.py: a builder needs NAME = '{info.name}', PAPER, table() "
                             f"and preset_text(x, y) (scripts/presets/__init__.py); "
                             f"{'missing: ' + ', '.join(missing) if missing else 'NAME is ' + repr(mod.NAME)}")
        out[info.name] = mod
    return out


# ---------------------------------------------------------------------------------------------------------------
# Paper comparisons
# ---------------------------------------------------------------------------------------------------------------


def compare():
    from generator.config import load_config
    from generator.experiment import Experiment
    from generator.windows import window_acceptance

    rates = _import("_common").rates
    rows = []
    for name, mod in builders().items():
        if not (PRESET_DIR / f"{name}.toml").is_file():
            continue
        t = rates(name)
        n = t.expected_events
        raw = rates(name, efficiency=False).expected_events
        extra = {}
        if getattr(mod, "WINDOW", None) is not None:  # the preset's [window]: the same acceptance cevns-rate reports
            cfg = load_config(preset=name)
            acc = window_acceptance(Experiment.from_config(cfg).source, cfg.window)
            extra["with_timing"] = sum(v * acc[c] for c, v in t.by_component().items())
            extra["timing_acc"] = (acc["prompt_nu_mu"], acc["delayed_nu_e"])
        if hasattr(mod, "compare_notes"):
            extra.update(mod.compare_notes(n))
        rows.append((name, raw, n, extra))
    return rows


def print_comparison():
    """Columns: no efficiency, the preset's rate, ours = rate x beam-window acceptance (SNS), the paper, ours/paper."""
    papers = {name: mod.PAPER for name, mod in builders().items()}
    print(f"{'preset':18s} {'no eff':>8s} {'rate':>8s} {'ours':>8s} {'paper':>14s} {'diff':>7s}  notes")
    for name, raw, n, extra in compare():
        p = papers[name]
        o = extra.pop("with_timing", n)
        paper = f"{p[0]:g} +- {p[1]:.3g}" if p else "-"
        diff = f"{100 * (o / p[0] - 1):+.1f}%" if p else ""
        notes = "; ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}=({v[0]:.3f},{v[1]:.3f})"
                          for k, v in extra.items())
        print(f"{name:18s} {raw:8.2f} {n:8.2f} {o:8.2f} {paper:>14s} {diff:>7s}  {notes}")


# ---------------------------------------------------------------------------------------------------------------


def build_all(skip_xenon: bool = False, xenon_events: int = 0, directory: Path = BUILDER_DIR) -> dict[str, str]:
    """Preset name -> preset text of every builder in ``directory``. The XENONnT table is read from its data release
    (deterministic); skip_xenon and xenon_events only concerned the former detector-simulation table
    (xenonnt_b8_2024.xenonnt_efficiency, kept as a cross-check) and are ignored."""
    return {name: mod.preset_text(*mod.table()) for name, mod in builders(directory).items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skip-xenon", action="store_true", help="no effect (kept for old scripts): the XENONnT table is read from its data "
                   "release")
    p.add_argument("--xenon-events", type=int, default=20000, help="recoils per energy of xenonnt_efficiency "
                   "(a detector-simulation cross-check, not used for the preset)")
    p.add_argument("--compare", action="store_true", help="only print the comparison with the papers")
    p.add_argument("--check", action="store_true", help="exit 1 if a written preset differs (XENONnT skipped)")
    args = p.parse_args(argv)
    if args.compare:
        print_comparison()
        return 0
    built = build_all(skip_xenon=args.skip_xenon or args.check, xenon_events=args.xenon_events)
    if args.check:
        stale = [n for n, text in built.items() if (PRESET_DIR / f"{n}.toml").read_text() != text]
        print("stale: " + ", ".join(stale) if stale else "all presets up to date")
        return 1 if stale else 0
    for name, text in built.items():
        (PRESET_DIR / f"{name}.toml").write_text(text)
        print(f"wrote data/presets/{name}.toml", file=sys.stderr)
    print_comparison()
    return 0


if __name__ == "__main__":
    sys.exit(main())
