"""Reconstructed energies of every technology against the truth they were made from."""

import numpy as np
import pytest

from detsim.config import load_detector
from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from reco.analysis import reconstruct_columns


@pytest.mark.parametrize("preset, detector, truth, tol", [
    ("mono_recoil_csi", "cryocsi", "e_ee_kevee", 0.03),
    ("mono_recoil_csi", "coherent_csi_na", "e_ee_kevee", 0.03),
    ("mono_recoil_ge", "conus_plus", "e_ion_kevee", 0.01),
])
def test_mean_reconstructed_energy_equals_quenched_truth(tmp_path, preset, detector, truth, tol):
    gen = tmp_path / "g.h5"
    generate(load_config(preset=preset, overrides=["source.recoil_kevnr=10.0", "generator.chunk_size=20000"]), gen,
             n_events=20_000, progress=False)
    simulate_detector(gen, tmp_path / "d.h5", load_detector(detector), progress=False)
    r = EventReader(tmp_path / "d.h5")
    c, _ = r.read(jagged=[])
    rec = reconstruct_columns(c, r.metadata)
    assert rec["e_rec_kevee"].mean() == pytest.approx(c[truth].mean(), rel=tol)
    # keVnr inverts the quenching: back to the 10 keVnr that was generated
    assert np.median(rec["e_rec_kevnr"]) == pytest.approx(10.0, rel=0.1)


def test_xenon_combined_energy(tmp_path):
    gen = tmp_path / "g.h5"
    generate(load_config(preset="mono_recoil_xe", overrides=["source.recoil_kevnr=10.0", "generator.chunk_size=20000"]),
             gen, n_events=20_000, progress=False)
    simulate_detector(gen, tmp_path / "d.h5", load_detector("xenonnt"), progress=False)
    r = EventReader(tmp_path / "d.h5")
    c, _ = r.read(jagged=[])
    rec = reconstruct_columns(c, r.metadata)
    w_kev = r.metadata["xenon"]["w_value_ev"] * 1e-3
    sel = c["triggered"] & (c["s1_pe"] > 0)
    # E_ee = W (S1/g1 + cS2/g2) estimates W (n_photons + n_electrons) event by event on average
    truth = w_kev * (c["num_photons"] + c["num_electrons"])
    assert rec["e_rec_kevee"][sel].mean() == pytest.approx(truth[sel].mean(), rel=0.03)
