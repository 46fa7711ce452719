"""Refactoring guard: a small run of every detector preset gives the same bytes in every output column as when
the hashes in tests/data/detector_golden.json were recorded (same seed, same library versions). A change of
physics or of a random stream must update that file in the same commit, saying why.

Regenerate: python tests/detsim/test_golden_outputs.py --write
"""

import hashlib
import json
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from detsim.config import list_detectors, load_detector
from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "detector_golden.json"
SOURCE_FOR = {"Ge": "reactor_ge", "Xe": "solar_xe", "CsI": "sns_csi", "Ar": "sns_csi", "NaI": "sns_csi",
              "CaWO4": "reactor_ge", "Al2O3": "reactor_ge",
              "Si": "sns_csi"}  # Si (CCDs): SNS recoils reach ~100 keVnr, every CCD step works on them
# generation threshold of the reactor runs (keVnr): cryogenic calorimeters see ~10 eV recoils
REACTOR_THRESHOLD_KEVNR = {"CaWO4": 0.005, "Al2O3": 0.005}
N_EVENTS = 4000


def versions() -> dict:
    return {"numpy": np.__version__, "numba": numba.__version__}


def column_hashes(det_name: str, workdir: Path) -> dict:
    det = load_detector(det_name)
    material = det.target_material
    overrides = ["generator.chunk_size=2000", f"target.material={material}"]
    if SOURCE_FOR[material] == "reactor_ge":
        overrides.append(f"recoil.threshold_kevnr={REACTOR_THRESHOLD_KEVNR.get(material, 0.3)}")
    cfg = load_config(preset=SOURCE_FOR[material], overrides=overrides)
    gen, out = workdir / f"{det_name}_gen.h5", workdir / f"{det_name}_det.h5"
    generate(cfg, gen, n_events=N_EVENTS, seed=11, progress=False)
    simulate_detector(gen, out, det, seed=12, threads=1, progress=False)
    cols, jag = EventReader(out).read()
    digests = {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()[:16] for k, v in sorted(cols.items())}
    for g, j in sorted(jag.items()):
        digests[f"n{g}"] = hashlib.sha256(np.asarray(j.counts).tobytes()).hexdigest()[:16]
        for f, v in sorted(j.fields.items()):
            digests[f"{g}_{f}"] = hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()[:16]
    return digests


@pytest.mark.parametrize("det_name", sorted(list_detectors()))
def test_detector_outputs_are_unchanged(det_name, tmp_path):
    golden = json.loads(GOLDEN.read_text())
    if golden["versions"] != versions():
        pytest.skip(f"hashes recorded with {golden['versions']}, running {versions()}: regenerate them first")
    assert det_name in golden["hashes"], f"no recorded hashes for {det_name}: regenerate {GOLDEN.name}"
    got = column_hashes(det_name, tmp_path)
    want = golden["hashes"][det_name]
    changed = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
    assert not changed, f"{det_name}: columns changed: {', '.join(changed)}"


if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        hashes = {name: column_hashes(name, Path(d)) for name in sorted(list_detectors())}
    GOLDEN.write_text(json.dumps({"versions": versions(), "n_events": N_EVENTS, "hashes": hashes}, indent=1,
                                 sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
