"""Many job files as one: merging (``cevns-merge``) and reading a list or glob of files without merging.

Files of one production share a configuration and differ only in the chunks they hold. A merge checks
that every input exists, is an event file of the same format version and stage, comes from the same
configuration, seed and chunk size, and that the chunk ranges are disjoint; it then concatenates them in
chunk order, streaming, and sums the exposures. Missing chunks are reported (and refused unless
``allow_missing``).
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .eventfile import EventFileError, EventReader, EventWriter

__all__ = ["EventFileSet", "MergeError", "expand_paths", "merge_files"]

# Metadata that must agree between files of one production (the chunk bookkeeping may differ).
IDENTITY_KEYS = ("format", "format_version", "stage", "config", "generator_config", "detector", "reco_config",
                 "seed", "detsim_seed", "chunk_size", "mode", "n_chunks_total", "n_events_total",
                 "expected_events_total", "package_version")
ADDITIVE_KEYS = ("n_generated", "expected_events", "exposure_fraction")


class MergeError(EventFileError):
    """Inputs that cannot be merged: mixed configurations, overlapping chunks, missing files..."""


STAGE_ORDER = ("generator", "detsim", "reco")
UNIT_FILE = re.compile(r"(events|detector)_c\d{6}-\d{6}\.(h5|root)")  # the unit files of cevns-produce


def expand_paths(paths) -> list[Path]:
    """Paths, directories (their *.h5/*.root) and globs -> sorted list of files; missing ones are an error."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = []
    for p in paths:
        p = str(p)
        if any(ch in p for ch in "*?["):
            hits = sorted(glob.glob(p))
            if not hits:
                raise MergeError(f"{p}: the pattern matches no file")
            out += [Path(h) for h in hits]
        elif Path(p).is_dir():
            files = sorted(x for x in Path(p).iterdir() if x.suffix in (".h5", ".hdf5", ".root"))
            units = [x for x in files if UNIT_FILE.fullmatch(x.name)]
            out += units or files  # a production directory: its unit files, not a merged file beside them
        else:
            if not Path(p).is_file():
                raise MergeError(f"{p}: no such file")
            out.append(Path(p))
    return out


def _identity(meta: dict) -> dict:
    return {k: meta.get(k) for k in IDENTITY_KEYS}


class EventFileSet:
    """Several files of one production, validated together and read in chunk order."""

    def __init__(self, paths, *, stage: str | None = None, require=(), allow_missing: bool = True):
        files = expand_paths(paths)
        if not files:
            raise MergeError("no input files")
        if stage is None:
            readers = [EventReader(f, require=require) for f in files]
            stages = {r.metadata.get("stage") for r in readers}
            # a production directory holds the generator's and the detector's files: take the last stage present
            stage = next((s for s in STAGE_ORDER[::-1] if s in stages), None)
            self.readers = [r for r in readers if r.metadata.get("stage") == stage] if len(stages) > 1 else readers
        else:
            readers = [EventReader(f, require=require) for f in files]
            self.readers = [r for r in readers if r.metadata.get("stage") == stage]
            if not self.readers:
                raise MergeError(f"no {stage!r} file among the inputs")
        self.stage = self.readers[0].metadata.get("stage")
        ref = _identity(self.readers[0].metadata)
        for r in self.readers[1:]:
            ident = _identity(r.metadata)
            diff = [k for k in IDENTITY_KEYS if ident[k] != ref[k]]
            if diff:
                raise MergeError(f"{r.path} does not belong with {self.readers[0].path}: they differ in "
                                 f"{', '.join(diff)}")
            if r.columns != self.readers[0].columns or r.jagged != self.readers[0].jagged:
                raise MergeError(f"{r.path}: its columns differ from {self.readers[0].path}'s")
        self.readers.sort(key=lambda r: tuple(r.metadata.get("chunk_range") or (0, 0)))
        covered = []
        for r in self.readers:
            a, b = r.metadata.get("chunk_range") or (0, 0)
            for c0, c1, other in covered:
                if a < c1 and c0 < b:
                    raise MergeError(f"{r.path} (chunks {a}:{b}) overlaps {other} (chunks {c0}:{c1})")
            covered.append((a, b, r.path))
        n_total = int(self.readers[0].metadata.get("n_chunks_total") or 0)
        have = np.zeros(n_total, dtype=bool)
        for a, b, _ in covered:
            have[a:b] = True
        self.missing_chunks = [int(i) for i in np.flatnonzero(~have)]
        if self.missing_chunks and not allow_missing:
            raise MergeError(f"chunks missing from the inputs: {_ranges(self.missing_chunks)} "
                             f"(of {n_total}); pass allow_missing to merge anyway")

    @property
    def metadata(self) -> dict:
        return self.readers[0].metadata

    @property
    def n_events(self) -> int:
        return sum(r.n_events for r in self.readers)

    def iter_chunks(self, step: int = 1_000_000, columns=None, jagged=None):
        for r in self.readers:
            yield from r.iter_chunks(step=step, columns=columns, jagged=jagged)

    def read(self, columns=None, jagged=None):
        parts = [r.read(columns, jagged) for r in self.readers]
        cols = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
        from .eventfile import Jagged

        jag = {g: Jagged(np.concatenate([p[1][g].counts for p in parts]),
                         {f: np.concatenate([p[1][g].fields[f] for p in parts]) for f in parts[0][1][g].fields})
               for g in parts[0][1]}
        return cols, jag


def _ranges(ids) -> str:
    out, start, prev = [], None, None
    for i in ids:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            out.append(f"{start}:{prev + 1}")
            start = prev = i
    if start is not None:
        out.append(f"{start}:{prev + 1}")
    return ", ".join(out)


def merge_files(inputs, output, *, allow_missing: bool = False, progress: bool | None = None,
                stage: str | None = None) -> dict:
    """Concatenate the event files of one production in chunk order into ``output``; return its metadata.
    ``stage``: merge only the files of this stage (default: the last stage among the inputs)."""
    fs = EventFileSet(inputs, allow_missing=allow_missing, stage=stage)
    first = fs.readers[0]
    sample, sample_jag = next(first.iter_chunks(step=1)) if first.n_events else (None, None)
    if sample is None:
        raise MergeError(f"{first.path}: holds no events to take the column types from")
    columns = {k: (v.dtype, first.units.get(k, "")) for k, v in sample.items()}
    jag_units = first.metadata.get("jagged", {})
    jagged = {g: {f: (arr.dtype, jag_units[g][f]) for f, arr in j.fields.items()} for g, j in sample_jag.items()}
    step = int(first.metadata.get("chunk_size") or 1_000_000)
    with EventWriter(output, stage=first.metadata["stage"], columns=columns, jagged=jagged) as w, tqdm(
            total=fs.n_events, unit="ev", unit_scale=True, desc="merge",
            disable=None if progress is None else not progress) as bar:
        for cols, jag in fs.iter_chunks(step=step):
            w.write(cols, jag)
            bar.update(len(next(iter(cols.values()))))
        meta = {k: v for k, v in first.metadata.items()
                if k not in ("format", "format_version", "stage", "n_events", "columns", "jagged", "provenance_hash")}
        for k in ADDITIVE_KEYS:
            if k in meta and meta[k] is not None:
                meta[k] = float(sum(r.metadata.get(k) or 0 for r in fs.readers))
        if "n_generated" in meta:
            meta["n_generated"] = int(meta["n_generated"])
        ranges = [r.metadata.get("chunk_range") for r in fs.readers]
        meta["chunk_ranges"] = ranges
        meta["chunk_range"] = [min(a for a, _ in ranges), max(b for _, b in ranges)]
        meta["missing_chunks"] = fs.missing_chunks
        meta["merged_from"] = [{"file": str(r.path), "provenance_hash": r.metadata.get("provenance_hash"),
                                "chunk_range": r.metadata.get("chunk_range")} for r in fs.readers]
        if meta.get("expected_background_events"):  # per-file shares of the exposure add up
            merged = json.loads(json.dumps(meta["expected_background_events"]))
            for i, entry in enumerate(merged):
                for side in ("source_on", "source_off"):
                    entry[side] = float(sum(r.metadata["expected_background_events"][i][side] for r in fs.readers))
            meta["expected_background_events"] = merged
        return w.close(meta)
