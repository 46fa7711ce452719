"""The event-file schema shared by every stage: one table of events per file, HDF5 or ROOT.

Layout (both formats hold the same columns; the output's extension picks the format):

HDF5 (``.h5``/``.hdf5``)
    root attributes  format = "cevns-events", format_version, stage, complete, metadata (JSON)
    /events/<column> one 1-D chunked dataset per column, shuffle + gzip, attribute ``units``
    jagged data      a counter dataset ``n<group>`` per event plus flat ``<group>_<field>`` datasets
                     (attribute ``counter``), i.e. counts + content, appendable and concatenable
ROOT (``.root``)
    TTree ``events`` written with uproot ``mktree`` + ``extend`` (never RNTuple, which JSROOT cannot
    read); jagged groups are records sharing one counter branch ``n<group>``; ZSTD compression;
    TObjString ``metadata`` (JSON, same content as the HDF5 attribute).

Metadata always holds format, format_version, stage, package_version, the resolved config, seed,
chunk range and the normalisation (expected_events for the file's exposure, n_generated) plus the
parents' provenance. Files are written under a temporary name and renamed when complete; readers
check the format name, version and columns and fail with :class:`EventFileError`.

Longer than ~400 lines because it is one concept, the file format: writer and reader of both back ends must
agree on every attribute, dataset and branch name and on the stored-chunk layout, so they stay side by side.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "EventFileError",
    "EventReader",
    "EventWriter",
    "Jagged",
    "RawBlock",
    "file_format",
    "provenance_hash",
]

FORMAT_NAME = "cevns-events"
FORMAT_VERSION = 1
TREE_NAME = "events"
H5_GROUP = "events"
H5_CHUNK = 1 << 16  # default elements per HDF5 storage chunk
# Jagged contents (e.g. ~23 PE per CryoCsI event, three fields) get longer chunks: each stored chunk costs the writer
# HDF5 calls under the GIL; 2^18 elements (256 kB-1 MB) quarter their number and stay within HDF5's default 1 MB
# chunk cache for the widest field (float32).
JAGGED_CHUNK = 1 << 18


def storage_chunk(rows_per_write: int | None) -> int:
    """HDF5 chunk length for writes of ``rows_per_write`` rows: a divisor of it near 2^16 when there is one,
    so whole writes fill whole chunks and per-event columns never straddle (no copies)."""
    if not rows_per_write:
        return H5_CHUNK
    best = None
    for k in range(1, 65):
        if rows_per_write % k == 0:
            d = rows_per_write // k
            if 16384 <= d <= 262144 and (best is None or abs(d - H5_CHUNK) < abs(best - H5_CHUNK)):
                best = d
    return best or H5_CHUNK


class EventFileError(ValueError):
    """A file is missing, foreign, truncated, of another format version or lacks a column."""


@dataclass
class Jagged:
    """Per-event lists stored as counts + flat content (one array per field)."""

    counts: np.ndarray
    fields: dict[str, np.ndarray] = field(default_factory=dict)

    def to_awkward(self):
        import awkward as ak

        return ak.zip({k: ak.unflatten(v, self.counts) for k, v in self.fields.items()})


def file_format(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return "hdf5"
    if suffix == ".root":
        return "root"
    raise EventFileError(f"{path}: unknown extension {suffix!r}; use .h5/.hdf5 (HDF5) or .root (ROOT)")


def provenance_hash(metadata: dict) -> str:
    """sha256 of the metadata without its own hash: names a file's content and origin."""
    m = {k: v for k, v in metadata.items() if k != "provenance_hash"}
    return hashlib.sha256(json.dumps(m, sort_keys=True, default=str).encode()).hexdigest()


try:  # ISA-L's deflate: the same zlib streams (any inflater, h5dump, HDF5 itself reads them), 4-15x faster than
    from isal import isal_zlib as _fast_zlib  # zlib at level 1 and as small or smaller on our columns
except ImportError:  # pragma: no cover - isal is a dependency; files stay valid without it, only slower to write
    _fast_zlib = zlib

PROBE_BYTES = 16384
SKIP_DEFLATE_MASK = 0b10  # HDF5 filter mask: pipeline (shuffle, deflate), bit 1 = deflate not applied
SKIP_SHUFFLE_MASK = 0b01  # bit 0 = shuffle not applied
# HDF5 compression effort: (zlib level, deflate a chunk only if a probe of it shrinks below this fraction, deflater)
HDF5_COMPRESSION = {"fast": (1, 0.45, "isal"), "small": (4, 1.0, "zlib")}
_DEFLATERS = {"isal": _fast_zlib, "zlib": zlib}


def _shuffle_deflate(raw: np.ndarray, level: int, worth: float, deflater: str = "zlib") -> tuple:
    """HDF5's shuffle filter (byte planes) then, if it pays, its deflate filter; returns (bytes or the array itself
    when neither filter applies, filter mask).

    Random mantissas (energies, times, positions) shrink only to 0.7-0.9; in 'fast' mode such chunks are stored
    as they are (neither shuffled nor deflated), flagged in the chunk's filter mask, which every HDF5 reader (h5py,
    h5dump) honours.
    Counters, codes and ids still deflate. 'fast' deflates with ISA-L (python-isal), whose level 1 runs at
    250-1000 MB/s on one-byte PE fields and counts where zlib's level 1 runs at 60-200 MB/s (CryoCsI's two
    one-byte PE columns alone cost ~550 ns per event with zlib); its output is an ordinary zlib stream.
    """
    z = _DEFLATERS[deflater]
    size = raw.dtype.itemsize
    if worth < 1.0:
        # The probe: bytes [0, P/2) and [L/2, L/2 + P/2) of the shuffled chunk (L bytes), gathered without shuffling it
        n, length = raw.size, raw.size * size
        at = np.r_[0: min(PROBE_BYTES // 2, length), length // 2: min(length // 2 + PROBE_BYTES // 2, length)]
        probe = raw.view(np.uint8).reshape(-1, size)[at % n, at // n].tobytes()
        if len(z.compress(probe, 1)) > worth * len(probe):
            # Not deflated: not shuffled either, and not even copied (h5py writes the array's buffer; the writer's
            # callers never modify arrays they handed over); the mask says both filters were skipped, which HDF5
            # (h5py, h5dump) and our reader honour.
            return np.ascontiguousarray(raw), SKIP_DEFLATE_MASK | SKIP_SHUFFLE_MASK
    return z.compress(raw.view(np.uint8).reshape(-1, size).T.tobytes(), level), 0


def _unshuffle_inflate(mask: int, data: bytes, dtype: np.dtype, out: np.ndarray) -> None:
    """Undo :func:`_shuffle_deflate` for one stored chunk into ``out`` (its first len(out) rows): inflate unless the
    filter mask says deflate was skipped, then gather the byte planes. zlib releases the GIL, and so does numpy's
    strided copy: chunks decode in parallel in a thread pool."""
    planes = data if mask & SKIP_DEFLATE_MASK else _fast_zlib.decompress(data)
    size = dtype.itemsize
    rows = len(out)
    if size == 1 or mask & SKIP_SHUFFLE_MASK:  # one byte plane, or the shuffle filter was skipped
        out.view(np.uint8)[:] = np.frombuffer(planes, np.uint8, count=rows * size)
        return
    n_chunk = len(planes) // size
    out.view(np.uint8).reshape(rows, size)[:] = np.frombuffer(planes, np.uint8).reshape(size, n_chunk)[:, :rows].T


@dataclass
class RawBlock:
    """Rows [start, start + n) of an HDF5 event file as its stored chunks, not decoded: ``chunks[column]`` is a list
    of (filter mask, bytes), one per storage chunk of ``chunk_rows`` rows (the last may be partial: padded)."""

    start: int
    n: int
    chunk_rows: int
    chunks: dict
    dtypes: dict

    def decode(self, columns=None) -> dict:
        """The block's columns as arrays (call it in a worker thread: inflating is most of a reader's time)."""
        out = {}
        for c in self.chunks if columns is None else columns:
            arr = np.empty(self.n, dtype=self.dtypes[c])
            for i, (mask, data) in enumerate(self.chunks[c]):
                lo = i * self.chunk_rows
                _unshuffle_inflate(mask, data, arr.dtype, arr[lo: min(lo + self.chunk_rows, self.n)])
            out[c] = arr
        return out


class _H5Column:
    """Appends to one dataset, compressing full storage chunks in a thread pool (direct chunk writes)."""

    def __init__(self, group, name, dtype, unit, level, attrs=None, chunk: int = H5_CHUNK):
        self.dtype = np.dtype(dtype)
        self.chunk = chunk
        self.ds = group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=self.dtype, chunks=(chunk,),
                                       shuffle=True, compression="gzip", compression_opts=level)
        self.ds.attrs["units"] = unit
        for k, v in (attrs or {}).items():
            self.ds.attrs[k] = v
        self.pending: list[np.ndarray] = []
        self.n_pending = 0
        self.n_written = 0  # elements handed to chunks so far
        self.chunk_index = 0
        self.extent = 0  # the dataset's length, tracked here: h5py's .shape asks HDF5 each time

    def grow(self, need: int) -> None:
        """Extend the dataset to ``need`` rows if shorter. Grow only, never shrink: HDF5 re-filters the edge chunk on
        a shrink and ignores its filter mask."""
        if self.extent < need:
            self.ds.resize((need,))
            self.extent = need

    def append_stored(self, chunks, n_rows: int) -> None:
        """Append ``n_rows`` rows given as stored chunks [(filter mask, bytes)] of this column's chunk length (e.g.
        copied from an input file): written as they are, never decoded or compressed again."""
        if self.n_pending:
            raise EventFileError(f"{self.ds.name}: stored chunks after {self.n_pending} unwritten rows")
        self.n_written += n_rows
        self.grow(self.n_written)  # one resize for the whole call
        for mask, data in chunks:
            self.ds.id.write_direct_chunk((self.chunk_index * self.chunk,), data, mask)
            self.chunk_index += 1

    def take_full_chunks(self, final: bool):
        """Yield (chunk index, array of one storage chunk) ready to compress; copies only straddling chunks."""
        size = self.chunk
        while self.n_pending >= size or (final and self.n_pending):
            take = min(size, self.n_pending)
            head = self.pending[0]
            if head.size >= take and take == size:
                piece = head[:take]
                self.pending[0] = head[take:]
            else:
                parts, need = [], take
                while need:
                    h = self.pending[0]
                    parts.append(h[:need])
                    self.pending[0] = h[need:]
                    need -= min(need, h.size)
                    if not self.pending[0].size:
                        self.pending.pop(0)
                piece = np.concatenate(parts)
            if self.pending and not self.pending[0].size:
                self.pending.pop(0)
            if piece.size < size:  # the last, partial chunk is stored full size, padded
                padded = np.zeros(size, dtype=self.dtype)
                padded[: piece.size] = piece
                piece = padded
            self.n_pending -= take
            yield self.chunk_index, np.ascontiguousarray(piece)
            self.chunk_index += 1


class EventWriter:
    """Write an event table chunk by chunk; ``close()`` adds the metadata and renames into place.

    ``columns``: name -> (dtype, unit); ``jagged``: group -> {field: (dtype, unit)}. ``stored`` (HDF5 only): column
    -> storage-chunk rows for columns whose rows :meth:`write` receives as stored chunks (``RawBlock.chunks`` of an
    input file with the same chunk length), written as they are: a carried-through column costs no compression.
    Use as a context manager: an exception removes the temporary file and leaves nothing behind.
    """

    def __init__(self, path, *, stage: str, columns: dict, jagged: dict | None = None, threads: int = 2,
                 compression: str = "fast", root_compression_level: int = 3, rows_per_write: int | None = None,
                 stored: dict | None = None):
        self.path = Path(path)
        self.format = file_format(self.path)
        self.stage = stage
        self.columns = {k: (np.dtype(d), u) for k, (d, u) in columns.items()}
        self.jagged = {g: {f: (np.dtype(d), u) for f, (d, u) in fs.items()} for g, fs in (jagged or {}).items()}
        self.n_events = 0
        self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._closed = False
        if compression not in HDF5_COMPRESSION:
            raise EventFileError(f"compression {compression!r}: allowed {', '.join(HDF5_COMPRESSION)}")
        self._level, self._worth, self._deflater = HDF5_COMPRESSION[compression]
        self.stored = dict(stored or {})
        if self.stored and (self.format != "hdf5" or set(self.stored) - set(self.columns)):
            raise EventFileError("stored chunks: HDF5 output only, and only for declared columns")
        if self.format == "hdf5":
            import h5py

            self._pool = ThreadPoolExecutor(max_workers=max(1, threads))
            self._inflight: list = []  # compression jobs of the previous write, written at the next one
            self._h5 = h5py.File(self.tmp, "w")
            self._h5.attrs["format"] = FORMAT_NAME
            self._h5.attrs["format_version"] = FORMAT_VERSION
            self._h5.attrs["stage"] = stage
            self._h5.attrs["complete"] = False
            grp = self._h5.create_group(H5_GROUP)
            lv = self._level
            rows = storage_chunk(rows_per_write)  # per-event columns; jagged contents keep the default
            self._cols = {k: _H5Column(grp, k, d, u, lv, chunk=self.stored.get(k, rows))
                          for k, (d, u) in self.columns.items()}
            for g, fs in self.jagged.items():
                self._cols[f"n{g}"] = _H5Column(grp, f"n{g}", np.int32, "", lv, {"counts_for": g}, chunk=rows)
                for f, (d, u) in fs.items():
                    self._cols[f"{g}_{f}"] = _H5Column(grp, f"{g}_{f}", d, u, lv, {"counter": f"n{g}"},
                                                       chunk=JAGGED_CHUNK)
        else:
            import uproot

            self._root = uproot.recreate(self.tmp, compression=uproot.ZSTD(root_compression_level))
            schema = {k: d for k, (d, _) in self.columns.items()}
            for g, fs in self.jagged.items():
                schema[g] = "var * {" + ", ".join(f"{f}: {d.name}" for f, (d, _) in fs.items()) + "}"
            self._tree = self._root.mktree(TREE_NAME, schema, title="CEvNS events")

    # -- writing ---------------------------------------------------------------------------------------
    def write(self, columns: dict, jagged: dict | None = None, stored: dict | None = None) -> None:
        """Append one chunk: every declared column, and each jagged group as a :class:`Jagged`; the ``stored``
        columns of the constructor as lists of stored chunks [(filter mask, bytes)] in ``stored``."""
        jagged = jagged or {}
        stored = stored or {}
        missing = set(self.columns) - set(columns) - set(stored)
        if missing or set(self.stored) - set(stored):
            raise EventFileError(f"chunk lacks column(s) {', '.join(sorted(missing | (set(self.stored) - set(stored))))}")
        n = len(next(iter(columns.values()))) if columns else len(next(iter(jagged.values())).counts)
        if self.format == "hdf5":
            for k in self.columns:
                if k in self.stored:
                    self._cols[k].append_stored(stored[k], n)
                    continue
                self._append_h5(k, np.asarray(columns[k], dtype=self.columns[k][0]))
            for g, fs in self.jagged.items():
                jg = jagged[g]
                self._append_h5(f"n{g}", np.asarray(jg.counts, dtype=np.int32))
                for f, (d, _) in fs.items():
                    self._append_h5(f"{g}_{f}", np.asarray(jg.fields[f], dtype=d))
            self._flush_h5(final=False)
        else:
            import awkward as ak

            data = {k: np.asarray(columns[k], dtype=self.columns[k][0]) for k in self.columns}
            for g, fs in self.jagged.items():
                jg = jagged[g]
                data[g] = ak.zip({f: ak.unflatten(np.asarray(jg.fields[f], dtype=d), np.asarray(jg.counts))
                                  for f, (d, _) in fs.items()})
            if n:
                self._tree.extend(data)
        self.n_events += n

    def _append_h5(self, name, arr):
        col = self._cols[name]
        col.pending.append(arr)
        col.n_pending += arr.size
        col.n_written += arr.size

    def _flush_h5(self, final: bool) -> None:
        """Hand the full storage chunks to the compression pool and write those of the previous call (all of them if
        ``final``): compression overlaps the caller's next chunk, while the sequence of HDF5 calls, and so the file's
        bytes, stays that of writing every chunk as soon as it is compressed."""
        jobs = []
        for col in self._cols.values():
            if col.n_pending >= col.chunk or final:
                for idx, raw in col.take_full_chunks(final):
                    need = min((idx + 1) * col.chunk, col.n_written)
                    jobs.append((col, idx, need, self._pool.submit(_shuffle_deflate, raw, self._level, self._worth,
                                                                            self._deflater)))
        ready, self._inflight = self._inflight, jobs
        if final:
            ready, self._inflight = ready + jobs, []
        grown = {}  # one resize per column and call, to the end of its last chunk written now
        for col, idx, need, fut in ready:
            grown[col] = max(grown.get(col, 0), need)
        for col, need in grown.items():
            col.grow(need)
        for col, idx, need, fut in ready:  # write in order; compression ran in parallel
            data, mask = fut.result()
            col.ds.id.write_direct_chunk((idx * col.chunk,), data, mask)

    def add_extra(self, *, h5=None, root: dict | None = None) -> None:
        """Objects beside the events, inside the same atomically written file: ``h5(file)`` writes into the open
        HDF5 file; ``root`` maps names to uproot-writable objects (e.g. TH1D) for a ROOT file."""
        if self.format == "hdf5":
            if h5 is not None:
                h5(self._h5)
        elif root:
            for name, obj in root.items():
                self._root[name] = obj

    # -- closing ---------------------------------------------------------------------------------------
    def close(self, metadata: dict) -> dict:
        """Write the metadata (format fields and provenance hash added), finalise and rename into place."""
        meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "stage": self.stage, **metadata,
                "n_events": self.n_events}
        meta["columns"] = {k: u for k, (_, u) in self.columns.items()}
        meta["jagged"] = {g: {f: u for f, (_, u) in fs.items()} for g, fs in self.jagged.items()}
        meta["provenance_hash"] = provenance_hash(meta)
        text = json.dumps(meta, sort_keys=True, default=str)
        if self.format == "hdf5":
            self._flush_h5(final=True)
            self._h5.attrs["metadata"] = text
            self._h5.attrs["complete"] = True
            self._h5.close()
            self._pool.shutdown()
        else:
            self._root["metadata"] = text
            self._root.close()
        os.replace(self.tmp, self.path)
        self._closed = True
        return meta

    def abort(self) -> None:
        if self._closed:
            return
        try:
            if self.format == "hdf5":
                self._h5.close()
                self._pool.shutdown(cancel_futures=True)
            else:
                self._root.close()
        finally:
            self.tmp.unlink(missing_ok=True)
            self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None or not self._closed:
            self.abort()
        return False


def _check_root_header(path: Path) -> None:
    """A ROOT file starts with 'root', its version and fBEGIN/fEND: a shorter file was cut off."""
    with path.open("rb") as f:
        head = f.read(21)
    if len(head) < 21 or head[:4] != b"root":
        raise EventFileError(f"{path}: not a readable ROOT file (foreign or truncated: no ROOT header)")
    version = int.from_bytes(head[4:8], "big")
    end = int.from_bytes(head[12:20], "big") if version >= 1000000 else int.from_bytes(head[12:16], "big")
    size = path.stat().st_size
    if size < end:
        raise EventFileError(f"{path}: truncated ROOT file ({size} bytes, the header says {end})")


class EventReader:
    """Open and validate an event file; read metadata, whole columns or chunks.

    ``stage`` (optional) demands the file come from that stage; ``require`` lists columns that must exist.
    """

    def __init__(self, path, *, stage: str | None = None, require=()):
        self.path = Path(path)
        if not self.path.is_file():
            raise EventFileError(f"{self.path}: no such file")
        self.format = file_format(self.path)
        if self.format == "hdf5":
            self._open_h5()
        else:
            self._open_root()
        fmt = self.metadata.get("format")
        if fmt != FORMAT_NAME:
            raise EventFileError(f"{self.path}: not a {FORMAT_NAME} file (format {fmt!r})")
        version = self.metadata.get("format_version")
        if version != FORMAT_VERSION:
            age = "an older" if isinstance(version, int) and version < FORMAT_VERSION else "another"
            raise EventFileError(f"{self.path}: written in {age} format version ({version}); this version of "
                                 f"the package reads version {FORMAT_VERSION}: regenerate the file")
        if stage is not None and self.metadata.get("stage") != stage:
            raise EventFileError(f"{self.path}: expected a {stage!r} file, this one is from stage "
                                 f"{self.metadata.get('stage')!r}")
        missing = [c for c in require if c not in self.columns]
        if missing:
            raise EventFileError(f"{self.path}: missing column(s) {', '.join(missing)}; "
                                 f"present: {', '.join(self.columns)}")

    def _open_h5(self):
        import h5py

        try:
            f = h5py.File(self.path, "r")
        except OSError as e:
            raise EventFileError(f"{self.path}: not a readable HDF5 file (foreign or truncated): {e}") from None
        with f:
            if f.attrs.get("format") != FORMAT_NAME or "metadata" not in f.attrs:
                raise EventFileError(f"{self.path}: not a {FORMAT_NAME} file (no format attribute)")
            if not bool(f.attrs.get("complete", False)):
                raise EventFileError(f"{self.path}: incomplete file (the writer did not finish)")
            self.metadata = json.loads(f.attrs["metadata"])
            grp = f[H5_GROUP]
            lengths = {k: grp[k].shape[0] for k in grp}
            self.h5_dtypes = {k: grp[k].dtype for k in grp}  # stored dtypes (HDF5): what a stored-chunk copy keeps
        self._finish_columns(lengths)

    def _open_root(self):
        import uproot

        _check_root_header(self.path)
        try:
            f = uproot.open(self.path)
            text = str(f["metadata"]) if "metadata" in f else None
            tree = f[TREE_NAME] if TREE_NAME in f else None
        except Exception as e:  # uproot raises many kinds on foreign or truncated files
            raise EventFileError(f"{self.path}: not a readable ROOT file (foreign or truncated): {e}") from None
        if text is None or tree is None:
            raise EventFileError(f"{self.path}: not a {FORMAT_NAME} file (no metadata or events tree)")
        try:
            self.metadata = json.loads(text)
        except json.JSONDecodeError:
            raise EventFileError(f"{self.path}: unreadable metadata") from None
        self._root_file = f
        self._tree = tree
        self._finish_columns({k: tree.num_entries for k in tree.keys()})

    def _finish_columns(self, lengths):
        self.columns = list(self.metadata.get("columns", {}))
        self.jagged = {g: list(fs) for g, fs in self.metadata.get("jagged", {}).items()}
        self.n_events = int(self.metadata.get("n_events", 0))
        expected = set(self.columns) | {f"n{g}" for g in self.jagged}
        if self.format == "hdf5":
            expected |= {f"{g}_{f}" for g, fs in self.jagged.items() for f in fs}
        missing = sorted(expected - set(lengths))
        if missing:
            raise EventFileError(f"{self.path}: truncated or damaged: column(s) {', '.join(missing)} missing")
        bad = [c for c in self.columns if lengths[c] != self.n_events]
        if bad:
            raise EventFileError(f"{self.path}: truncated or damaged: column(s) {', '.join(bad)} hold "
                                 f"{lengths[bad[0]]} entries, metadata says {self.n_events}")

    @property
    def units(self) -> dict[str, str]:
        return self.metadata.get("columns", {})

    def iter_chunks(self, step: int = 1_000_000, columns=None, jagged=None):
        """Yield (columns dict, jagged dict) for consecutive blocks of ``step`` events."""
        cols = list(self.columns if columns is None else columns)
        groups = list(self.jagged if jagged is None else jagged)
        for c in cols:
            if c not in self.columns:
                raise EventFileError(f"{self.path}: no column {c!r}; present: {', '.join(self.columns)}")
        for g in groups:
            if g not in self.jagged:
                raise EventFileError(f"{self.path}: no jagged group {g!r}; present: {', '.join(self.jagged) or 'none'}")
        if self.format == "hdf5":
            yield from self._iter_h5(step, cols, groups)
        else:
            yield from self._iter_root(step, cols, groups)

    def _iter_h5(self, step, cols, groups):
        import h5py

        with h5py.File(self.path, "r") as f:
            grp = f[H5_GROUP]
            offsets = {g: 0 for g in groups}
            for start in range(0, self.n_events, step):
                stop = min(start + step, self.n_events)
                out = {c: grp[c][start:stop] for c in cols}
                jag = {}
                for g in groups:
                    counts = grp[f"n{g}"][start:stop]
                    lo = offsets[g]
                    hi = lo + int(counts.sum())
                    jag[g] = Jagged(counts, {fld: grp[f"{g}_{fld}"][lo:hi] for fld in self.jagged[g]})
                    offsets[g] = hi
                yield out, jag

    def _iter_root(self, step, cols, groups):
        import awkward as ak

        names = cols + [f"{g}_{fld}" for g in groups for fld in self.jagged[g]] + [f"n{g}" for g in groups]
        if not names:
            return
        for arrays in self._tree.iterate(names, step_size=step, library="ak"):
            out = {c: ak.to_numpy(arrays[c]) for c in cols}
            jag = {}
            for g in groups:
                counts = ak.to_numpy(arrays[f"n{g}"]).astype(np.int32)
                jag[g] = Jagged(counts, {fld: ak.to_numpy(ak.flatten(arrays[f"{g}_{fld}"]))
                                         for fld in self.jagged[g]})
            yield out, jag

    def stored_chunk_rows(self, columns) -> int | None:
        """The storage-chunk length shared by ``columns`` if each is a 1-D HDF5 dataset filtered by (shuffle, deflate)
        alone, as :class:`EventWriter` writes them, so that :meth:`iter_stored_blocks` can hand out their stored
        chunks; None otherwise (ROOT, other filters or chunkings)."""
        if self.format != "hdf5":
            return None
        import h5py

        wanted = [h5py.h5z.FILTER_SHUFFLE, h5py.h5z.FILTER_DEFLATE]
        rows = set()
        with h5py.File(self.path, "r") as f:
            grp = f[H5_GROUP]
            for c in columns:
                ds = grp[c]
                plist = ds.id.get_create_plist()
                if ds.chunks is None or len(ds.chunks) != 1 or \
                        [plist.get_filter(i)[0] for i in range(plist.get_nfilters())] != wanted:
                    return None
                rows.add(ds.chunks[0])
        return rows.pop() if len(rows) == 1 else None

    def iter_stored_blocks(self, step: int, columns, start: int = 0, stop: int | None = None):
        """Yield :class:`RawBlock` s of ``step`` rows from row ``start`` (both multiples of the storage chunk,
        :meth:`stored_chunk_rows`) to ``stop``: the stored chunks of ``columns``, read without decoding (decode them
        in worker threads with :meth:`RawBlock.decode`, or write them as they are with ``EventWriter(stored=...)``)."""
        import h5py

        rows = self.stored_chunk_rows(columns)
        stop = self.n_events if stop is None else stop
        if rows is None or step % rows or start % rows:
            raise EventFileError(f"{self.path}: blocks of {step} rows from row {start} do not fall on stored chunks")
        with h5py.File(self.path, "r") as f:
            grp = f[H5_GROUP]
            dss = {c: grp[c] for c in columns}
            dtypes = {c: ds.dtype for c, ds in dss.items()}
            for lo in range(start, stop, step):
                hi = min(lo + step, stop)
                chunks = {}
                for c, ds in dss.items():
                    chunks[c] = [ds.id.read_direct_chunk((r,)) for r in range(lo, hi, rows)]
                yield RawBlock(lo, hi - lo, rows, chunks, dtypes)

    def read(self, columns=None, jagged=None):
        """All events at once (small files, tests): (columns dict, jagged dict)."""
        cols = list(self.columns if columns is None else columns)
        groups = list(self.jagged if jagged is None else jagged)
        parts = list(self.iter_chunks(max(self.n_events, 1), cols, groups))
        if not parts:
            return {c: np.empty(0) for c in cols}, {g: Jagged(np.empty(0, np.int32)) for g in groups}
        return parts[0]
