"""Scale benchmark: peak memory of cevns-generate from 1e6 to 1e8 events, and 1 process vs a 2-worker Dask
LocalCluster for a production.

Run:  python benchmarks/bench_scale.py [--max-events 1e8] [--production-events 4e6]
Peak memory is VmHWM of a fresh process (ru_maxrss would inherit the parent's across fork+exec).
The 1e8-event point writes ~4.6 GB of HDF5 to a temporary directory and removes it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from generator.config import load_config
from reco.production import produce


def peak_mb(n: int, d: str) -> tuple[float, float]:
    code = (
        "import os, time\nfrom generator.config import load_config\nfrom generator.generate import generate\n"
        f"out = os.path.join({d!r}, 'ev.h5')\nt = time.perf_counter()\n"
        f"generate(load_config(preset='sns_csi'), out, n_events={n}, progress=False)\n"
        "dt = time.perf_counter() - t\nos.remove(out)\n"
        "hwm = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] / 1024\n"
        "print(hwm, dt)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    hwm, dt = map(float, out.stdout.split())
    return hwm, n / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-events", type=float, default=1e8)
    ap.add_argument("--production-events", type=float, default=4e6)
    args = ap.parse_args()
    sizes = [n for n in (1e6, 1e7, 1e8) if n <= args.max_events]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            mb, rate = peak_mb(int(n), d)
            rows.append((f"generate {n:.0e} events -> HDF5 (2 threads)", f"{mb:.0f} MB", f"{rate:.3e}"))
    n = int(args.production_events)
    cfg = load_config(preset="sns_csi", overrides=["generator.chunk_size=250000"])
    prod = []
    for label, kw in (("1 process, 1 thread", {}), ("Dask LocalCluster, 2 workers", {"dask": "local:2"})):
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            produce(cfg, d, n_events=n, chunks_per_file=2, progress=False, **kw)
            prod.append((label, n / (time.perf_counter() - t)))
    print(f"\nScale benchmark ({os.cpu_count()} cores)\n")
    print("| measurement | peak memory | events/s |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    for label, rate in prod:
        print(f"| production of {n:.0e} events, {label} (incl. start-up) | - | {rate:.3e} |")
    print(f"\nDask / single process: {prod[1][1] / prod[0][1]:.2f}x")


if __name__ == "__main__":
    main()
