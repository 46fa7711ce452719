"""Commands for running at scale: ``cevns-produce`` (job arrays, Dask, resume) and ``cevns-merge``."""

from __future__ import annotations

import argparse
import json

from ._validate import ConfigError
from .cli import add_config_arguments, config_from_args, run_cli, run_config_cli

__all__ = ["merge_main", "produce_main"]


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
    p.add_argument("--threads", type=int, help="threads per unit (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def body():
        if not args.output:
            raise ConfigError("a production directory is required: -o DIR")
        from .production import produce

        report = produce(config_from_args(args), args.output, n_events=args.n_events, seed=args.seed,
                         chunks_per_file=args.chunks_per_file, job_index=args.job_index, n_jobs=args.n_jobs,
                         dask=args.dask, threads=args.threads, progress=False if args.quiet else None)
        print(json.dumps({k: v for k, v in report.items() if k != "files"}, indent=1))
        return 0

    return run_config_cli("cevns-produce", args, body)


def merge_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-merge", description="Merge the event files of one production (same "
                                "configuration, disjoint chunks) into one file, in chunk order.")
    p.add_argument("output", help="merged file, .h5 or .root")
    p.add_argument("inputs", nargs="+", help="input files, directories or globs")
    p.add_argument("--allow-missing", action="store_true", help="merge even if chunks are missing (listed in the "
                   "output's metadata)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def body():
        from .eventfile import file_format
        from .merge import merge_files

        file_format(args.output)
        meta = merge_files(args.inputs, args.output, allow_missing=args.allow_missing,
                           progress=False if args.quiet else None)
        print(f"merged {len(meta['merged_from'])} files, {meta['n_events']} events, chunks {meta['chunk_range']}"
              + (f"; missing chunks {meta['missing_chunks']}" if meta["missing_chunks"] else "") + f" -> {args.output}")
        return 0

    return run_cli("cevns-merge", body)
