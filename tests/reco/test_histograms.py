"""Reco histograms in the reco file: TH1D/TH2D in ROOT and groups in HDF5, the same numbers as the summary,
read back as hist.Hist by one helper from either format."""

import numpy as np
import pytest

from detsim.config import load_detector
from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.generate import generate
from reco.config import reco_from_dict
from reco.histograms import read_histograms
from reco.stage import reconstruct


@pytest.fixture(scope="module")
def reco_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hist")
    cfg = load_config(preset="sns_csi", overrides=["generator.chunk_size=20000"])
    raw = load_detector("cryocsi")
    generate(cfg, d / "t.h5", n_events=20_000, progress=False)
    simulate_detector(d / "t.h5", d / "t_det.h5", raw, progress=False)
    generate(cfg, d / "d.h5", n_events=5000, seed=9, mode="pseudo_experiment", progress=False)
    simulate_detector(d / "d.h5", d / "d_det.h5", raw, progress=False)
    rc = reco_from_dict({"threshold_kevee": 0.1, "max_kevee": 3.0, "n_energy_bins": 10, "n_time_bins": 6,
                         "plots": False})
    out = {}
    for ext in ("h5", "root"):
        (d / ext).mkdir()
        out[ext] = (reconstruct(d / "d_det.h5", d / ext / f"reco.{ext}", rc, templates=d / "t_det.h5"),
                    d / ext / f"reco.{ext}")
    return out


def test_both_formats_hold_the_same_histograms(reco_files):
    h5 = read_histograms(reco_files["h5"][1])
    root = read_histograms(reco_files["root"][1])
    assert set(h5) == set(root) and len(h5) >= 15
    for name in h5:
        np.testing.assert_allclose(root[name].values(), h5[name].values(), rtol=1e-12)
        np.testing.assert_allclose(root[name].variances(), h5[name].variances(), rtol=1e-12)
        assert root[name].label == h5[name].label
        assert [a.label for a in root[name].axes] == [a.label for a in h5[name].axes]
        for a, b in zip(root[name].axes, h5[name].axes, strict=True):
            np.testing.assert_allclose(a.edges, b.edges)


def test_histograms_carry_the_summary_numbers_and_units(reco_files):
    summary, path = reco_files["root"]
    h = read_histograms(path)
    assert h["h_energy_on_data"].values().sum() == pytest.approx(sum(summary["observed_on_by_origin_truth"].values()))
    for origin, expected in summary["expected_on"].items():
        assert h[f"h_energy_on_{origin}"].values().sum() == pytest.approx(expected)
    np.testing.assert_allclose(h["h_on_minus_off"].values(), summary["on_minus_off_spectrum"]["excess"])
    np.testing.assert_allclose(np.sqrt(h["h_on_minus_off"].variances()), summary["on_minus_off_spectrum"]["excess_err"])
    # the energy x time histogram projects onto the energy one (ROOT's 2-D bin order written correctly)
    np.testing.assert_allclose(h["h_energy_time_on_cevns"].values().sum(axis=1), h["h_energy_on_cevns"].values())
    assert h["h_energy_time_on_cevns"].axes[1].label == "time after the proton pulse [ns]"
    assert h["h_energy_on_cevns"].axes[0].label == "reconstructed energy [keVee]"
    mu = summary["fit"]["mu_cevns"]
    np.testing.assert_allclose(h["h_energy_on_fit_cevns"].values(), mu * h["h_energy_on_cevns"].values())
    assert set(summary["histograms"]) == set(h)  # the summary lists what the file holds
