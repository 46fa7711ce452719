"""NuHepMC export speed: cevns-export (our event building + pyhepmc's writer) against pyhepmc writing the same
number of minimal two-in/two-out events (the writer's own cost, the floor any exporter built on it pays).

python benchmarks/bench_export.py [--events N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyhepmc

from generator.config import load_config
from generator.generate import generate
from generator.nuhepmc import export_nuhepmc


def pyhepmc_floor(path: Path, n: int) -> float:
    t0 = time.perf_counter()
    with pyhepmc.open(str(path), "w") as f:
        for i in range(n):
            evt = pyhepmc.GenEvent(pyhepmc.Units.MEV, pyhepmc.Units.MM)
            evt.event_number = i
            evt.weights = [1.0]
            v = pyhepmc.GenVertex((0.0, 0.0, 0.0, 0.0))
            v.add_particle_in(pyhepmc.GenParticle((0.0, 0.0, 30.0, 30.0), 14, 4))
            v.add_particle_in(pyhepmc.GenParticle((0.0, 0.0, 0.0, 1.2e5), 1000551330, 20))
            v.add_particle_out(pyhepmc.GenParticle((0.0, 0.0, 29.9, 29.9), 14, 1))
            v.add_particle_out(pyhepmc.GenParticle((0.0, 0.0, 0.1, 1.2e5), 1000551330, 1))
            evt.add_vertex(v)
            f.write(evt)
    return n / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=50_000)
    args = p.parse_args()
    d = Path(tempfile.mkdtemp())
    generate(load_config(preset="sns_csi"), d / "ev.h5", n_events=args.events, progress=False)
    export_nuhepmc(d / "ev.h5", d / "warm.hepmc3", limit=100, progress=False)  # imports, run info
    rows = []
    for name, fn in (("cevns-export -> .hepmc3", lambda: export_nuhepmc(d / "ev.h5", d / "a.hepmc3", progress=False)),
                     ("cevns-export -> .hepmc3.gz",
                      lambda: export_nuhepmc(d / "ev.h5", d / "a.hepmc3.gz", progress=False))):
        t0 = time.perf_counter()
        fn()
        rows.append((name, args.events / (time.perf_counter() - t0)))
    floor = pyhepmc_floor(d / "floor.hepmc3", args.events)
    rows.append(("pyhepmc writing minimal events (reference)", floor))
    print(f"{'measurement':<46} {'events/s':>10} {'vs pyhepmc':>10}")
    for name, rate in rows:
        print(f"{name:<46} {rate:>10.0f} {rate / floor:>10.2f}")


if __name__ == "__main__":
    main()
