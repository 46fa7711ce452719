"""Convert the SR0/SR1 templates of the XENONnT solar-8B CEvNS data release into one compact HDF5 file.

The release (GitHub XENONnT/cevns_data_release, Zenodo DOI 10.5281/zenodo.20576156, CC-BY-4.0) ships every
template as its own small HDF5 file (``inference_interface`` format: ``/templates/template`` a 3x3x3x3 float64
histogram, ``/bins/<i>`` its bin edges with a ``name`` attribute). SR0 and SR1 alone are 4,612 files (46
mono-energetic recoil energies x 49 light-/charge-yield grid points x 2 science runs, plus the neutron grid and
the AC and ER templates): too many to ship. This script reads them and writes the same numbers, unchanged
(float64, bit for bit), into one file:

    /<sr>/ac                 (3, 3, 3, 3)             accidental coincidences [events / (t yr)]
    /<sr>/er                 (3, 3, 3, 3)             electronic recoils [events / (t yr)]
    /<sr>/rg                 (7, 7, 3, 3, 3, 3)       radiogenic neutrons [events / (t yr)], indexed [tly, tqy]
    /<sr>/mono               (46, 7, 7, 3, 3, 3, 3)   mono-energetic NR detection efficiency per bin
                                                      (dimensionless), indexed [energy, tly, tqy]
    /<sr>/mono_energies_kevnr (46,)                   0.5, 0.6, ..., 5.0 keVnr (from the file names)
    /<sr>/tly, /<sr>/tqy     (7,)                     -3 ... 3 (the yield nuisances, in sigma)
    /<sr>/edges/<axis>       (4,)                     bin edges, axis order cs2, s2_shadow_s2_time_shadow,
                                                      s1_bdt_score, s2_bdt_score (checked identical in every
                                                      file of the science run)

and a text file ``SOURCE_SHA256SUMS`` with the sha256 of every release file read (sha256sum format, paths relative
to the release root), so the conversion can be checked against the Zenodo archive.

Usage (RELEASE is a checkout of the repository or the unpacked Zenodo archive):

    python scripts/convert_xenonnt_cevns_release.py RELEASE data/releases/xenonnt_b8_2024 --commit <git hash>
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

import h5py
import numpy as np

RUNS = ("sr0", "sr1")  # the 2024 paper's science runs (SR2 belongs to arXiv:2604.06002)
AXES = ("cs2", "s2_shadow_s2_time_shadow", "s1_bdt_score", "s2_bdt_score")
GRID = tuple(float(v) for v in range(-3, 4))
MONO = re.compile(r"template_XENONnT_(sr\d)_mono_(\d+\.\d{3})_cevns_tly_(-?\d\.\d)_tqy_(-?\d\.\d)\.h5$")
OUTPUT = "xenonnt_cevns_templates_sr0_sr1.h5"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_template(path: Path, edges: dict) -> np.ndarray:
    """The histogram of one release file; its bin edges must equal those of the science run's other files."""
    with h5py.File(path, "r") as f:
        hist = f["templates/template"][()]
        for i, axis in enumerate(AXES):
            ds = f[f"bins/{i}"]
            name = ds.attrs["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if name != axis:
                sys.exit(f"{path}: axis {i} is {name!r}, expected {axis!r}")
            e = ds[()]
            if axis not in edges:
                edges[axis] = e
            elif not np.array_equal(edges[axis], e):
                sys.exit(f"{path}: bin edges of {axis} differ from the other files of its science run")
    if hist.shape != (3, 3, 3, 3) or hist.dtype != np.float64:
        sys.exit(f"{path}: expected a (3, 3, 3, 3) float64 histogram, found {hist.shape} {hist.dtype}")
    return hist


def convert(release: Path, out_dir: Path, commit: str | None) -> None:
    sums: list[tuple[str, str]] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / OUTPUT
    tmp = target.with_suffix(".tmp")
    with h5py.File(tmp, "w", track_order=True) as out:
        out.attrs["source"] = "XENONnT/cevns_data_release (GitHub), Zenodo DOI 10.5281/zenodo.20576156, CC-BY-4.0"
        out.attrs["source_commit"] = commit or "unknown"
        out.attrs["converter"] = "scripts/convert_xenonnt_cevns_release.py (cevns-sim)"
        out.attrs["axes"] = ",".join(AXES)
        for sr in RUNS:
            edges: dict = {}
            tdir = release / "templates" / sr

            def rel(p: Path) -> str:
                return p.relative_to(release).as_posix()

            fixed = {}
            for comp in ("ac", "er"):
                p = tdir / comp / f"template_XENONnT_{sr}_{comp}_cevns.h5"
                fixed[comp] = read_template(p, edges)
                sums.append((sha256(p), rel(p)))
            rg = np.empty((7, 7, 3, 3, 3, 3))
            for i, a in enumerate(GRID):
                for j, b in enumerate(GRID):
                    p = tdir / "rg" / f"template_XENONnT_{sr}_rg_cevns_tly_{a:.1f}_tqy_{b:.1f}.h5"
                    rg[i, j] = read_template(p, edges)
                    sums.append((sha256(p), rel(p)))
            files = sorted((tdir / "mono").glob("template_XENONnT_*_mono_*.h5"))
            names = {p: MONO.search(p.name) for p in files}
            for p, m in names.items():  # before the energies are read from the names: one line, not a traceback
                if m is None or m.group(1) != sr:
                    sys.exit(f"{p}: unexpected file name")
            energies = sorted({m.group(2) for m in names.values()})
            mono = np.full((len(energies), 7, 7, 3, 3, 3, 3), np.nan)
            for p, m in names.items():
                k = energies.index(m.group(2))
                i, j = GRID.index(float(m.group(3))), GRID.index(float(m.group(4)))
                mono[k, i, j] = read_template(p, edges)
                sums.append((sha256(p), rel(p)))
            if np.isnan(mono).any():
                sys.exit(f"{sr}: some (energy, tly, tqy) mono-energetic templates are missing")
            g = out.create_group(sr)
            kw = dict(compression="gzip", compression_opts=9, shuffle=True, track_times=False)
            g.create_dataset("ac", data=fixed["ac"], track_times=False).attrs["units"] = "events / (t yr)"
            g.create_dataset("er", data=fixed["er"], track_times=False).attrs["units"] = "events / (t yr)"
            g.create_dataset("rg", data=rg, **kw).attrs["units"] = "events / (t yr); index [tly, tqy]"
            g.create_dataset("mono", data=mono, **kw).attrs["units"] = \
                "detection efficiency (dimensionless); index [energy, tly, tqy]"
            g.create_dataset("mono_energies_kevnr", data=np.array([float(e) for e in energies]), track_times=False)
            g.create_dataset("tly", data=np.array(GRID), track_times=False)
            g.create_dataset("tqy", data=np.array(GRID), track_times=False)
            eg = g.create_group("edges", track_order=True)
            for axis in AXES:
                eg.create_dataset(axis, data=edges[axis], track_times=False)
            print(f"{sr}: {len(energies)} energies {energies[0]}-{energies[-1]} keVnr, "
                  f"{len(files)} mono files, 49 neutron files, AC, ER", file=sys.stderr)
    tmp.replace(target)
    lines = [f"{h}  {p}" for h, p in sorted(sums, key=lambda x: x[1])]
    (out_dir / "SOURCE_SHA256SUMS").write_text("\n".join(lines) + "\n")
    print(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB) and SOURCE_SHA256SUMS ({len(lines)} files)",
          file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("release", type=Path, help="checkout of XENONnT/cevns_data_release or its unpacked Zenodo archive")
    ap.add_argument("out_dir", type=Path, help="e.g. data/releases/xenonnt_b8_2024")
    ap.add_argument("--commit", default=None, help="git commit of the release (recorded in the file)")
    a = ap.parse_args(argv)
    convert(a.release, a.out_dir, a.commit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
