"""NuHepMC export read back with pyhepmc: conservation, the recoil angle from (E_nu, T), weights, run info."""

import numpy as np
import pytest

from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from generator.nuhepmc import PROCESS_ID, nuclear_pdg, recoil_kinematics

pyhepmc = pytest.importorskip("pyhepmc")


def test_recoil_kinematics_conserve_and_follow_the_elastic_angle():
    rng = np.random.default_rng(1)
    m = 123_800.0  # ~Cs133, MeV
    e = rng.uniform(5.0, 50.0, 1000)
    t = rng.uniform(0.0, 1.0, 1000) * 2 * e * e / (m + 2 * e)  # up to T_max
    nu, a = recoil_kinematics(e, t, m, rng.uniform(0, 2 * np.pi, 1000))
    np.testing.assert_allclose(nu[:, 3] + a[:, 3], e + m, rtol=1e-14)                # energy
    np.testing.assert_allclose(nu[:, :3] + a[:, :3], np.stack([0 * e, 0 * e, e], 1), atol=1e-9 * e.max())  # momentum
    mass2 = nu[:, 3] ** 2 - (nu[:, :3] ** 2).sum(axis=1)
    assert np.all(np.abs(mass2) < 1e-9 * e**2)  # the outgoing neutrino on its mass shell
    # T from the angle: T = 2 M E^2 cos^2 / ((E + M)^2 - E^2 cos^2)
    cos2 = a[:, 2] ** 2 / (a[:, :3] ** 2).sum(axis=1)
    np.testing.assert_allclose(2 * m * e**2 * cos2 / ((e + m) ** 2 - e**2 * cos2), t, rtol=1e-6)
    assert nuclear_pdg(55, 133) == 1000551330


def test_export_reads_back_with_pyhepmc(tmp_path):
    from generator.cli import export_main

    cfg = load_config(preset="sns_csi", overrides=["generator.chunk_size=1000"])
    generate(cfg, tmp_path / "ev.h5", n_events=3000, progress=False)
    cols = EventReader(tmp_path / "ev.h5").read()[0]
    assert export_main([str(tmp_path / "ev.h5"), "-o", str(tmp_path / "ev.hepmc3.gz"), "--quiet"]) == 0
    weights, n = 0.0, 0
    with pyhepmc.open(str(tmp_path / "ev.hepmc3.gz")) as f:
        for evt in f:
            i = evt.event_number
            assert evt.attributes["signal_process_id"].astype(int) == PROCESS_ID
            beam = [p for p in evt.particles if p.status == 4]
            target = [p for p in evt.particles if p.status == 20]
            out = [p for p in evt.particles if p.status == 1]
            assert len(beam) == 1 and len(target) == 1 and len(out) == 2 and len(evt.vertices) == 1
            assert evt.vertices[0].status == 1
            assert beam[0].pid == cols["nu_pdg"][i] and beam[0].momentum.e == pytest.approx(cols["enu_mev"][i])
            assert target[0].pid == nuclear_pdg(cols["target_z"][i], cols["target_a"][i])
            p_in = beam[0].momentum + target[0].momentum
            p_out = out[0].momentum + out[1].momentum
            for c in ("px", "py", "pz", "e"):
                assert getattr(p_out, c) == pytest.approx(getattr(p_in, c), rel=1e-9, abs=1e-9 * p_in.e)
            recoil = next(p for p in out if p.pid == target[0].pid)
            # T = E_A' - M: a difference of two ~1e5 MeV numbers written with 17 digits (~1e-11 MeV)
            assert recoil.momentum.e - target[0].momentum.e == pytest.approx(cols["t_nr_kev"][i] * 1e-3, abs=1e-10)
            assert evt.attributes["LabPos"].astype(list[float]) == pytest.approx([10 * cols[c][i] for c in ("x_cm", "y_cm", "z_cm")],
                                                                   abs=1e-4)  # 0.1 um
            weights += evt.weights[0]
            n += 1
        ri = evt.run_info
    assert n == 3000
    assert weights == pytest.approx(cols["weight"].sum(), rel=1e-12)
    a = ri.attributes
    assert (a["NuHepMC.Version.Major"].astype(int), a["NuHepMC.Version.Minor"].astype(int)) == (1, 0)
    assert a["NuHepMC.ProcessIDs"].astype(list[int]) == [PROCESS_ID] and ri.weight_names == ["CV"]
    assert a["NuHepMC.Units.CrossSection.Unit"].astype(str) == "pb"
    # the SNS flux on CsI: <sigma> = 1.93e-38 cm2 per nucleus (cevns-rate), i.e. 1.93e-2 pb
    from generator.experiment import Experiment
    from generator.rates import expected_rates

    xs = expected_rates(Experiment.from_config(cfg)).flux_averaged_xsec_cm2
    assert a["NuHepMC.FluxAveragedTotalCrossSection"].astype(float) == pytest.approx(xs * 1e36, rel=1e-12)


def test_limit_and_chunks_and_bad_output(tmp_path, capsys):
    from generator.cli import export_main

    cfg = load_config(preset="sns_csi", overrides=["generator.chunk_size=1000"])
    generate(cfg, tmp_path / "ev.h5", n_events=3000, progress=False)
    assert export_main([str(tmp_path / "ev.h5"), "-o", str(tmp_path / "a.hepmc3"), "--chunks", "1:2", "--limit",
                        "10", "--quiet"]) == 0
    with pyhepmc.open(str(tmp_path / "a.hepmc3")) as f:
        numbers = [e.event_number for e in f]
    assert numbers == list(range(1000, 1010))
    assert export_main([str(tmp_path / "ev.h5"), "-o", str(tmp_path / "a.txt")]) == 2
    assert ".hepmc3 or .hepmc3.gz" in capsys.readouterr().err


def test_recoil_azimuth_is_uniform_and_reproducible(tmp_path):
    from scipy import stats

    from generator.nuhepmc import export_nuhepmc

    cfg = load_config(preset="sns_csi", overrides=["generator.chunk_size=2000"])
    generate(cfg, tmp_path / "ev.h5", n_events=4000, progress=False)
    phis = []
    for name in ("a", "b"):
        export_nuhepmc(tmp_path / "ev.h5", tmp_path / f"{name}.hepmc3", progress=False)
        with pyhepmc.open(str(tmp_path / f"{name}.hepmc3")) as f:
            phis.append(np.array([np.arctan2(p.momentum.py, p.momentum.px) for e in f for p in e.particles
                                  if p.status == 1 and p.pid > 1_000_000_000]))
    np.testing.assert_array_equal(phis[0], phis[1])  # the seed's export stream
    assert stats.kstest(phis[0], stats.uniform(-np.pi, 2 * np.pi).cdf).pvalue > 1e-3
