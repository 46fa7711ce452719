"""Commands of the reco stage: ``cevns-reco`` and ``cevns-run``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from generator._validate import ConfigError, check_output_is_not_an_input
from generator.cli import add_config_arguments, config_from_args, run_cli, run_config_cli

__all__ = ["produce_main", "reco_main", "run_main", "toys_merge_main"]


def reco_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-reco", description="Reconstruct a detector file: energies, selections, "
                                "spectra, on-minus-off, template fit, significance, plots.")
    p.add_argument("input", help="detector (detsim) file")
    p.add_argument("-o", "--output", required=True, help="reco event file (.h5 or .root); summary and plots beside it")
    p.add_argument("--templates", help="detsim file of a high-statistics fixed-N sample (default: Asimov on the input)")
    p.add_argument("--config", help="TOML file with a [reco] table (or the table's keys at top level)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="reco.KEY=VALUE",
                   help="override a reco key, e.g. --set reco.threshold_kevee=1.5 (defaults: the [reco] table "
                   "stored in the input file's configuration, then --config)")
    args = p.parse_args(argv)

    def body():
        from generator.eventfile import file_format

        from .config import reco_from_dict
        from .stage import reconstruct

        file_format(args.output)
        check_output_is_not_an_input(args.output, args.input, *([args.templates] if args.templates else []))
        raw = reco_settings(args.input, args.config, args.overrides)
        summary = reconstruct(args.input, args.output, reco_from_dict(raw), templates=args.templates,
                              outdir=Path(args.output).parent)
        print((Path(args.output).parent / "summary.txt").read_text(encoding="utf-8"), end="")
        return 0 if summary else 1

    return run_cli("cevns-reco", body)


def reco_settings(input_path, config_path, overrides) -> dict:
    """The reco table for a file: the run's own stored [reco], then a --config file's, then --set reco.KEY=VALUE."""
    import tomllib

    from generator.config import apply_override
    from generator.eventfile import EventReader

    if not Path(input_path).is_file():
        raise FileNotFoundError(f"input file {input_path} does not exist")
    meta = EventReader(input_path).metadata
    raw = dict((meta.get("generator_config") or {}).get("reco") or {})
    if config_path:
        if not Path(config_path).is_file():
            raise FileNotFoundError(f"--config {config_path}: no such file")
        with open(config_path, "rb") as f:
            extra = tomllib.load(f)
        raw.update(extra.get("reco", extra))
    for o in overrides:
        key = o.split("=", 1)[0]
        if not key.startswith("reco.") or key.count(".") != 1:
            raise ConfigError(f"--set {o}: write reco.KEY=VALUE (SECTION.KEY=VALUE, as every tool takes), "
                              f"e.g. --set reco.threshold_kevee=1.5")
        wrapped = {"reco": raw}
        apply_override(wrapped, o)
        raw = wrapped["reco"]
    return raw


def run_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-run", description="The whole chain for one configuration: generate -> "
                                "detsim -> reco, with plots and a summary (JSON and text).")
    add_config_arguments(p)
    p.add_argument("-o", "--output", default="cevns_run", help="output directory (default: cevns_run)")
    p.add_argument("--threads", type=int, help="threads and toy workers (default: all cores, NUMBA_NUM_THREADS)")
    p.add_argument("--toys", type=int, help="run a toy ensemble of this many pseudo-experiments")
    p.add_argument("--toy-range", help="only toys START:STOP of the ensemble (job arrays; merge the toys.csv "
                   "files with cevns-toys-merge)")
    p.add_argument("--dask", help="run the toys on Dask: local[:N], tcp://host:port, slurm[:N], htcondor[:N]")
    p.add_argument("--seed", type=int, help="the run's seed")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--asimov", action="store_true",
                   help="fit the expectation (mu = 1, no Poisson fluctuation): for a released analysis instead of "
                   "the released observed data, for any other preset the same as --set 'reco.data=\"asimov\"'")
    p.add_argument("--simulate", action="store_true",
                   help="presets with a released analysis: run the simulated chain (generate -> detsim -> reco) "
                   "instead of fitting the released data")
    args = p.parse_args(argv)

    def body():
        from .released import has_released_analysis
        from .run import run_chain

        if not (args.config or args.preset):
            args.preset = "demo"
        cfg = config_from_args(args)
        if args.toys is not None and args.toys < 0:
            raise ConfigError(f"--toys {args.toys}: must be >= 0")
        toy_range = None
        if args.toy_range is not None:
            from generator.generate import parse_chunk_range

            a, b = parse_chunk_range(args.toy_range)
            if b is None or not 0 <= a < b:
                raise ConfigError(f"--toy-range {args.toy_range}: expected START:STOP with 0 <= START < STOP")
            toy_range = (a, b)
        if has_released_analysis(cfg.name) and not args.simulate:
            from .released.run import run_released

            if args.dask:
                raise ConfigError("--dask: the toys of a released analysis run in one process (~10-400 fits/s); "
                                  "split a large ensemble into jobs with --toy-range and merge with cevns-toys-merge")
            run_released(cfg, args.output, asimov=args.asimov, toys=args.toys, seed=args.seed,
                         progress=False if args.quiet else None, toy_range=toy_range)
            print((Path(args.output) / "summary.txt").read_text(encoding="utf-8"), end="")
            print(f"\nfiles and plots in {args.output}/")
            return 0
        if args.asimov:  # the simulated chain's own switch; rebuilt so that the value is validated as a --set is
            args.overrides = list(args.overrides or []) + ['reco.data="asimov"']
            cfg = config_from_args(args)
        run_chain(cfg, args.output, threads=args.threads, toys=args.toys, seed=args.seed,
                  progress=False if args.quiet else None, toy_range=toy_range, dask=args.dask)
        print((Path(args.output) / "summary.txt").read_text(encoding="utf-8"), end="")
        print(f"\nfiles and plots in {args.output}/")
        return 0

    return run_config_cli("cevns-run", args, body)


def toys_merge_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-toys-merge", description="Merge the toys.csv tables of the jobs of one "
                                "toy ensemble (cevns-run --toy-range) into one, checking that they belong together.")
    p.add_argument("output", help="merged toys.csv")
    p.add_argument("inputs", nargs="+", help="toys.csv of each job")
    args = p.parse_args(argv)

    def body():
        from generator._validate import check_output_is_not_an_input

        from .toys import ensemble_from_rows, merge_toy_csv

        check_output_is_not_an_input(args.output, *args.inputs)
        identity, header, rows = merge_toy_csv(args.inputs, args.output)
        if "n_cevns_true" not in header:  # a released analysis: fitted counts, no true count to take a bias from
            from .released.run import merged_toys_line

            print(merged_toys_line(rows, args.output))
            return 0
        ens = ensemble_from_rows(rows)
        s = ens.summary()
        print(f"merged {s['n_toys']} toys ({int(ens.index[0])}..{int(ens.index[-1])}) -> {args.output}; bias "
              f"{s['bias']:+.4f} ± {s['bias_err']:.4f}, pull mean {s['pull_mean']:+.3f}, width {s['pull_width']:.3f}")
        return 0

    return run_cli("cevns-toys-merge", body)


def produce_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-produce", description="Make (or resume) a production: one file per "
                                "unit of chunks in a directory, for job arrays and Dask clusters.")
    add_config_arguments(p)
    p.add_argument("-o", "--output", required=False, help="production directory")
    p.add_argument("--n-events", type=int, help="events of the whole production (default: generator.n_events)")
    p.add_argument("--seed", type=int, help="the production's seed")
    p.add_argument("--chunks-per-file", type=int, default=1, help="chunks per output file (default 1)")
    p.add_argument("--job-index", help="this job's index (0-based), or 'auto' for SLURM_ARRAY_TASK_ID")
    p.add_argument("--n-jobs", type=int, help="number of jobs the production is split into")
    p.add_argument("--dask", help="run the units on Dask: local[:N], tcp://host:port, slurm[:N], htcondor[:N]")
    p.add_argument("--threads", type=int, help="threads per unit (default 1: units run side by side)")
    p.add_argument("--format", dest="file_format", choices=("h5", "root"), default="h5",
                   help="file format of the units (default h5; root for TChain / uproot.concatenate)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def body():
        if not args.output:
            raise ConfigError("a production directory is required: -o DIR")
        from .production import produce

        report = produce(config_from_args(args), args.output, n_events=args.n_events, seed=args.seed,
                         chunks_per_file=args.chunks_per_file, job_index=args.job_index, n_jobs=args.n_jobs,
                         dask=args.dask, threads=args.threads, progress=False if args.quiet else None,
                         file_format=args.file_format)
        print(json.dumps({k: v for k, v in report.items() if k != "files"}, indent=1))
        return 0

    return run_config_cli("cevns-produce", args, body)
