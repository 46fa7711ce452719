"""The real CERN ROOT reads our files: PyROOT (from a separate environment, see .ci/run) opens a generator file,
HPGe, xenon and CryoCsI detector files and a reco file; TTree::GetEntries, RDataFrame sums of every branch
(jagged ones through ROOT::VecOps) and the reco histograms' contents equal uproot's."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import uproot

from detsim.config import load_detector
from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.generate import generate
from reco.config import reco_from_dict
from reco.stage import reconstruct

ROOT_DIR = Path(__file__).resolve().parent.parent


def root_python() -> str | None:
    for p in (os.environ.get("CEVNS_ROOT_PYTHON"), str(ROOT_DIR / ".ci" / "rootenv" / "bin" / "python")):
        if p and Path(p).is_file():
            return p
    return None


pytestmark = pytest.mark.skipif(root_python() is None, reason="the real ROOT is not installed (see .ci/run)")


def root_summary(path: Path) -> dict:
    r = subprocess.run([root_python(), str(ROOT_DIR / "tests" / "tools" / "root_summary.py"), str(path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("realroot")
    small = ["generator.chunk_size=3000"]
    generate(load_config(preset="sns_csi", overrides=small), d / "gen.root", n_events=3000, progress=False)
    generate(load_config(preset="reactor_ge", overrides=small + ["recoil.threshold_kevnr=0.3"]), d / "ge.h5",
             n_events=3000, progress=False)
    generate(load_config(preset="solar_xe", overrides=small + ["source.components=['b8']"]), d / "b8.h5",
             n_events=3000, progress=False)
    simulate_detector(d / "ge.h5", d / "hpge.root", load_detector("conus_plus"), progress=False)
    simulate_detector(d / "b8.h5", d / "xenon.root", load_detector("xenonnt"), progress=False)
    simulate_detector(d / "gen.root", d / "cryocsi.root", load_detector("cryocsi"), progress=False)
    reconstruct(d / "cryocsi.root", d / "reco" / "reco.root",
                reco_from_dict({"threshold_kevee": 0.1, "max_kevee": 3.0, "n_energy_bins": 8, "plots": False}))
    return d


@pytest.mark.parametrize("name", ["gen.root", "hpge.root", "xenon.root", "cryocsi.root", "reco/reco.root"])
def test_root_reads_what_uproot_reads(files, name):
    path = files / name
    got = root_summary(path)
    with uproot.open(path) as f:
        tree = f["events"]
        assert got["entries"] == tree.num_entries
        arrays = tree.arrays(library="np")
        assert set(got["sums"]) == set(arrays)
        for branch, values in arrays.items():
            flat = np.concatenate(values) if values.dtype == object else values
            assert got["sums"][branch] == pytest.approx(float(np.sum(flat.astype(np.float64))), rel=1e-6, abs=1e-6)
        for key, cls in f.classnames().items():
            if cls in ("TH1D", "TH2D"):
                np.testing.assert_allclose(got["hists"][key.split(";")[0]], f[key].values(), rtol=1e-12)
    if name.startswith("reco"):
        assert len(got["hists"]) >= 15
