"""``cevns-merge``: one file from the event files of a production (``cevns-produce`` lives in reco)."""

from __future__ import annotations

import argparse
from .cli import run_cli

__all__ = ["merge_main"]


def merge_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cevns-merge", description="Merge the event files of one production (same "
                                "configuration, disjoint chunks) into one file, in chunk order.")
    p.add_argument("output", help="merged file, .h5 or .root")
    p.add_argument("inputs", nargs="+", help="input files, production directories or globs")
    p.add_argument("--stage", choices=("generator", "detsim"), help="merge the files of this stage (default: the "
                   "last stage present, e.g. the detector files of a production directory)")
    p.add_argument("--allow-missing", action="store_true", help="merge even if chunks are missing (listed in the "
                   "output's metadata)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def body():
        from .eventfile import file_format
        from .merge import merge_files

        file_format(args.output)
        from ._validate import check_output_is_not_an_input
        from .merge import expand_paths

        check_output_is_not_an_input(args.output, *expand_paths(args.inputs))
        meta = merge_files(args.inputs, args.output, allow_missing=args.allow_missing,
                           progress=False if args.quiet else None, stage=args.stage)
        print(f"merged {len(meta['merged_from'])} {meta['stage']} files, {meta['n_events']} events, chunks {meta['chunk_range']}"
              + (f"; missing chunks {meta['missing_chunks']}" if meta["missing_chunks"] else "") + f" -> {args.output}")
        return 0

    return run_cli("cevns-merge", body)
