"""Command-line entry points of the generator stage: ``cevns-rate``, ``cevns-generate`` and ``cevns-reweight``."""

from __future__ import annotations

import argparse
import json
import sys

from ._validate import ConfigError, check_output_is_not_an_input

__all__ = ["rate_main", "generate_main", "reweight_main", "add_config_arguments", "config_from_args", "run_cli",
           "run_config_cli"]


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="TOML configuration file (or a preset name)")
    p.add_argument("--preset", help="use a shipped preset (see --list-presets)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a configuration key (repeatable; value in TOML syntax)")
    p.add_argument("--list-presets", action="store_true", help="list the shipped presets and exit")


def config_from_args(args):
    from .config import load_config

    return load_config(args.config, preset=args.preset, overrides=args.overrides) if (
        args.config or args.preset) else _missing_config()


def _missing_config():
    raise ConfigError("give a configuration file or --preset NAME (--list-presets shows the presets)")


# --list-presets headings, in the order printed: a preset is grouped by its [source] kind (calibration sources
# such as mono_recoil, flat_recoil and user tables fall under "other").
PRESET_GROUPS = (("pion DAR", ("pion_dar",)), ("reactor", ("reactor",)), ("solar", ("solar",)), ("other", None))


def presets_by_source_kind() -> dict[str, dict[str, str]]:
    """The shipped presets as {group heading: {name: description}}, every group present (possibly empty)."""
    import tomllib

    from ._data import data_path
    from .config import list_presets

    groups: dict[str, dict[str, str]] = {heading: {} for heading, _ in PRESET_GROUPS}
    for name, desc in list_presets().items():
        with data_path("presets", f"{name}.toml").open("rb") as f:
            kind = tomllib.load(f).get("source", {}).get("kind")
        heading = next(h for h, kinds in PRESET_GROUPS if kinds is None or kind in kinds)
        groups[heading][name] = desc
    return groups


def print_presets() -> None:
    groups = presets_by_source_kind()
    width = max(len(n) for g in groups.values() for n in g)
    blocks = []
    for heading, presets in groups.items():
        if presets:
            blocks.append("\n".join([f"{heading}:"] + [f"  {n:<{width}}  {d}" for n, d in presets.items()]))
    print("\n\n".join(blocks))


def run_config_cli(prog: str, args, body) -> int:
    """run_cli for commands that take a configuration: ``--list-presets`` is answered here, once."""

    def listing_or_body():
        if args.list_presets:
            print_presets()
            return 0
        return body()

    return run_cli(prog, listing_or_body)


def run_cli(prog: str, body) -> int:
    """Run ``body()``; user errors print one line and exit 2 (no traceback)."""
    from .eventfile import EventFileError
    from .rates import ThresholdError

    try:
        return body() or 0
    except (ConfigError, ThresholdError, EventFileError, ValueError, FileNotFoundError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def window_summary(cfg, table) -> dict | None:
    """The analysis window's share of the expectation ({} keys for --json), or None without a [window]."""
    if cfg.window is None:
        return None
    from .experiment import Experiment
    from .windows import window_acceptance

    acc = window_acceptance(Experiment.from_config(cfg).source, cfg.window)
    by_comp = table.by_component()
    inside = {c: by_comp[c] * acc[c] for c in by_comp}
    w = cfg.window
    return {"expected_events_in_window": float(sum(inside.values())),
            "window": {"start_ns": w.start_ns, "length_ns": w.length_ns,
                       "efficiency_flat_until_ns": w.efficiency_flat_until_ns,
                       "efficiency_decay_per_us": w.efficiency_decay_per_us,
                       "acceptance_by_component": acc, "expected_in_window_by_component": inside}}


def _format_table(cfg, table, sm_events=None, window=None) -> str:
    lines = [f"{cfg.name}: {cfg.description}".rstrip(": "), ""]
    ex = table.exposure
    keys = [k for k in ("facility", "protons_on_target", "beam_energy_gwh", "thermal_power_gw", "distance_m",
                        "live_days", "live_time_s", "mass_kg", "solar_model") if k in ex]
    for k in keys:
        v = ex[k]
        lines.append(f"  {k:<22} {v:.6g}" if isinstance(v, float) else f"  {k:<22} {v}")
    lines.append(f"  {'threshold_kevnr':<22} {table.threshold_kevnr:g}")
    rng = "" if table.flux_range_mev is None else \
        f"  (E_nu {table.flux_range_mev[0]:.4g}-{table.flux_range_mev[1]:.4g} MeV)"
    lines.append(f"  {'flux_cm2_s':<22} {table.flux_cm2_s:.4e}{rng}")
    if table.flux_averaged_xsec_cm2:
        lines.append(f"  {'<sigma> (no thr), cm2':<22} {table.flux_averaged_xsec_cm2:.4e}")
    lines.append("")
    width = max(12, *(len(c) for c in table.components))
    header = f"  {'component':<{width}} " + " ".join(f"{i:>11}" for i in table.isotopes) + f" {'total':>11}"
    lines.append(header)
    lines.append("  " + "-" * (len(header) - 2))
    for ci, c in enumerate(table.components):
        row = table.events[ci]
        lines.append(f"  {c:<{width}} " + " ".join(f"{v:11.4g}" for v in row) + f" {row.sum():11.4g}")
    lines.append("  " + "-" * (len(header) - 2))
    tot = table.events.sum(axis=0)
    lines.append(f"  {'total':<{width}} " + " ".join(f"{v:11.4g}" for v in tot) + f" {tot.sum():11.4g}")
    lines.append("")
    lines.append(f"  expected CEvNS events: {table.expected_events:.5g}")
    if window is not None:
        w = window["window"]
        eff = "" if w["efficiency_flat_until_ns"] is None else \
            f", timing efficiency 1 to {w['efficiency_flat_until_ns']:g} ns then exp(-{w['efficiency_decay_per_us']:g}/µs)"
        lines.append(f"  in the analysis window [{w['start_ns']:g}, {w['start_ns'] + w['length_ns']:g}) ns{eff}: "
                     f"{window['expected_events_in_window']:.5g}")
    if table.bsm is not None:
        lines.append(f"  BSM hypothesis: {json.dumps(table.bsm['parameters'], sort_keys=True)}")
        if sm_events is not None:
            lines.append(f"  SM expectation for the same exposure: {sm_events:.5g} "
                         f"(ratio {table.expected_events / sm_events:.4g})" if sm_events > 0 else "")
    return "\n".join(lines)


def rate_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-rate", description="Expected CEvNS counts for an exposure, "
                                "per isotope, flavour and source component.")
    add_config_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    p.add_argument("--no-efficiency", action="store_true", help="ignore the configured efficiency curve")
    args = p.parse_args(argv)

    def body():
        from .experiment import Experiment
        from .rates import expected_rates

        cfg = config_from_args(args)
        table = expected_rates(Experiment.from_config(cfg), use_efficiency=not args.no_efficiency)
        sm_events = None
        if table.bsm is not None:  # the SM count for comparison (same exposure, threshold, efficiency)
            import dataclasses

            sm_events = expected_rates(Experiment.from_config(dataclasses.replace(cfg, bsm=None)),
                                       use_efficiency=not args.no_efficiency).expected_events
        window = window_summary(cfg, table)
        if args.json:
            extra = {"sm_expected_events": sm_events} if sm_events is not None else {}
            print(json.dumps({"name": cfg.name, **table.to_json_dict(), **extra, **(window or {})}, indent=2,
                             sort_keys=True))
        else:
            print(_format_table(cfg, table, sm_events, window))
        return 0

    return run_config_cli("cevns-rate", args, body)


def generate_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-generate", description="Generate CEvNS events into an HDF5 (.h5) or "
                                "ROOT (.root) event file.")
    add_config_arguments(p)
    p.add_argument("-o", "--output", help="output file, .h5/.hdf5 or .root")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--n-events", type=int, help="fixed number of events (weights carry the normalisation)")
    mode.add_argument("--pseudo-experiment", action="store_true",
                      help="draw the number of events from the Poisson of the expected count (weight 1)")
    p.add_argument("--seed", type=int, help="the run's seed (default: generator.seed of the config)")
    p.add_argument("--threads", type=int, help="threads (default: all cores, NUMBA_NUM_THREADS)")
    p.add_argument("--chunks", help="process only chunks START:STOP of the run (for job arrays)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def body():
        if not args.output:
            raise ConfigError("an output file is required: -o OUT.h5 or -o OUT.root")
        from .eventfile import file_format
        from .generate import generate, parse_chunk_range

        file_format(args.output)  # fail on a bad extension before any work
        cfg = config_from_args(args)
        meta = generate(cfg, args.output, n_events=args.n_events, seed=args.seed,
                        mode="pseudo_experiment" if args.pseudo_experiment else None, threads=args.threads,
                        chunks=parse_chunk_range(args.chunks), progress=False if args.quiet else None)
        print(f"wrote {meta['n_generated']} events ({meta['mode']}, chunks {meta['chunk_range'][0]}:"
              f"{meta['chunk_range'][1]} of {meta['n_chunks_total']}) to {args.output}; expected events for this "
              f"file's exposure {meta['expected_events']:.6g}"
              + (f" under the BSM hypothesis {json.dumps(meta['bsm']['parameters'], sort_keys=True)}"
                 if meta.get("bsm") else ""))
        return 0

    return run_config_cli("cevns-generate", args, body)


def export_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-export", description="Write the events of a generator file as NuHepMC "
                                "(HepMC3 with the NuHepMC 1.0 conventions) for Geant4 and other HepMC3 readers.")
    p.add_argument("input", help="generator event file (.h5 or .root)")
    p.add_argument("-o", "--output", required=True, help="output .hepmc3 or .hepmc3.gz")
    p.add_argument("--limit", type=int, help="write at most this many events")
    p.add_argument("--chunks", help="export only the run's chunks START:STOP held by the input")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def body():
        from .generate import parse_chunk_range
        from .nuhepmc import export_nuhepmc

        check_output_is_not_an_input(args.output, args.input)
        rep = export_nuhepmc(args.input, args.output, limit=args.limit, chunks=parse_chunk_range(args.chunks),
                             progress=False if args.quiet else None)
        print(f"wrote {rep['n_events']} events (sum of weights {rep['sum_of_weights']:.6g}) to {rep['output']}")
        return 0

    return run_cli("cevns-export", body)


def reweight_main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="cevns-reweight",
        description="Copy a generator or detsim event file adding, per hypothesis, a column weight_<name> = weight x "
                    "dsigma_hyp/dsigma_gen at each event's (E_nu, T, isotope, flavour); optional systematic weights.")
    p.add_argument("input", help="event file (.h5 or .root) from cevns-generate or cevns-detsim")
    p.add_argument("-o", "--output", help="output file, .h5/.hdf5 or .root")
    p.add_argument("--hypothesis", action="append", default=[], metavar="FILE.toml",
                   help="hypothesis file with name, [bsm] and optional [physics] overrides (repeatable)")
    p.add_argument("--name", help="column name of a single hypothesis (overrides its file's name)")
    p.add_argument("--flux-sigma", type=float, help="add weight_flux_up/down = weight x (1 +- SIGMA), e.g. 0.1")
    p.add_argument("--rn-variation", type=float,
                   help="add weight_rn_up/down with every neutron rms radius scaled by (1 +- DELTA), e.g. 0.05")
    p.add_argument("--method", choices=("numpy", "table"), default="numpy",
                   help="'numpy': exact cross-section ratio; 'table': numba kernel on tables (~1e-8 relative)")
    p.add_argument("--chunk-events", type=int, default=1_000_000, help="events read and written per chunk")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def body():
        from .eventfile import file_format
        from .reweight import load_hypothesis, reweight_file

        if not args.output:
            raise ConfigError("an output file is required: -o OUT.h5 or -o OUT.root")
        file_format(args.output)
        check_output_is_not_an_input(args.output, args.input)
        if not args.hypothesis and args.flux_sigma is None and args.rn_variation is None:
            raise ConfigError("nothing to do: give --hypothesis FILE.toml (and/or --flux-sigma, --rn-variation)")
        if args.name and len(args.hypothesis) != 1:
            raise ConfigError("--name applies to exactly one --hypothesis")
        if args.chunk_events <= 0:
            raise ConfigError(f"--chunk-events {args.chunk_events}: must be > 0")
        hyps = [load_hypothesis(h, args.name) for h in args.hypothesis]
        meta = reweight_file(args.input, args.output, hyps, flux_sigma=args.flux_sigma,
                             rn_variation=args.rn_variation, method=args.method, step=args.chunk_events,
                             progress=False if args.quiet else None)
        sums = meta["reweight"]["sum_of_weights"]
        print(f"wrote {meta['n_events']} events to {args.output}; sum of weights: "
              + ", ".join(f"{k} {v:.6g}" for k, v in sums.items()))
        return 0

    return run_cli("cevns-reweight", body)
