"""``cevns-detsim``: detector simulation of a generator event file."""

from __future__ import annotations

import argparse

from generator._validate import ConfigError, check_output_is_not_an_input
from generator.cli import run_cli

__all__ = ["detsim_main"]


def detsim_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-detsim", description="Simulate a detector's response to the events "
                                "of a generator file (.h5 or .root); write a detector file (.h5 or .root).")
    p.add_argument("input", nargs="?", help="generator event file")
    p.add_argument("-o", "--output", help="output detector file, .h5 or .root")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--detector", help="detector preset (see --list-detectors)")
    g.add_argument("--config", help="detector TOML file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a detector key, e.g. --set hpge.fano=0.12 (repeatable)")
    p.add_argument("--seed", type=int, help="seed (default: the generator's)")
    p.add_argument("--threads", type=int, help="threads (default: all cores, NUMBA_NUM_THREADS)")
    p.add_argument("--chunks", help="simulate only the run's chunks START:STOP held by the input (job arrays)")
    p.add_argument("--list-detectors", action="store_true", help="list detector presets and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--allow-target-mismatch", action="store_true",
                   help="simulate recoils generated on another target material (deliberate studies only)")
    args = p.parse_args(argv)

    def body():
        from .config import list_detectors, load_detector

        if args.list_detectors:
            presets = list_detectors()
            width = max(map(len, presets))
            for name, desc in presets.items():
                print(f"{name:<{width}}  {desc}")
            return 0
        if not args.input or not args.output:
            raise ConfigError("usage: cevns-detsim IN -o OUT (--detector PRESET | --config FILE)")
        if not (args.detector or args.config):
            raise ConfigError("choose a detector: --detector PRESET or --config FILE (--list-detectors)")
        from generator.eventfile import file_format

        from generator.generate import parse_chunk_range

        from .simulate import simulate_detector

        file_format(args.output)
        check_output_is_not_an_input(args.output, args.input)
        det = load_detector(args.detector or args.config, args.overrides)
        meta = simulate_detector(args.input, args.output, det, seed=args.seed, threads=args.threads,
                                 progress=False if args.quiet else None, chunks=parse_chunk_range(args.chunks),
                                 allow_target_mismatch=args.allow_target_mismatch)
        print(f"wrote {meta['n_events']} events with the {det.name} response to {args.output}")
        return 0

    return run_cli("cevns-detsim", body)
