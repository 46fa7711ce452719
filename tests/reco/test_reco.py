"""Reconstruction: energies, on-minus-off, template fit, toys, the whole chain."""

import json
import subprocess
import sys

import numpy as np
import pytest

from detsim.config import detector_from_dict, load_detector, to_dict
from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from reco.config import reco_from_dict
from reco.energy import kevnr_from_kevee
from reco.stage import Templates, reconstruct
from reco.toys import run_toys

SS = {"kind": "steady_state", "recoil_type": "er", "e_min_kev": 0.1, "e_max_kev": 2.0, "rate_per_kev_kg_day": 3.0}
RECO = {"threshold_kevee": 0.2, "max_kevee": 1.0, "n_energy_bins": 8, "plots": False}


def reactor_detector(off_days=60.0, oversample=1.0):
    raw = to_dict(load_detector("conus_plus"))
    raw["backgrounds"] = [dict(SS, oversample=oversample)]
    raw["source_off_live_days"] = off_days
    return detector_from_dict(raw)


@pytest.fixture(scope="module")
def reactor_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("reco")
    cfg = load_config(preset="reactor_ge", overrides=["recoil.threshold_kevnr=0.5", "generator.chunk_size=50000"])
    generate(cfg, d / "t_gen.h5", n_events=100_000, progress=False)
    simulate_detector(d / "t_gen.h5", d / "t_det.h5", reactor_detector(oversample=200.0), progress=False)
    generate(cfg, d / "d_gen.h5", mode="pseudo_experiment", seed=4242, progress=False)
    simulate_detector(d / "d_gen.h5", d / "d_det.h5", reactor_detector(), progress=False)
    return cfg, d


def test_kevnr_inverts_quenching():
    det = to_dict(load_detector("conus_plus"))
    gcfg = {"target": {"material": "Ge"}}
    from detsim.quenching import lindhard_qf

    t = np.array([0.5, 1.0, 3.0, 10.0])
    ee = lindhard_qf(t, 32, 0.162) * t
    np.testing.assert_allclose(kevnr_from_kevee(ee, det, gcfg), t, rtol=2e-3)


def test_on_minus_off_recovers_injected_signal(reactor_files):
    cfg, d = reactor_files
    s = reconstruct(d / "d_det.h5", d / "reco.h5", reco_from_dict(RECO), templates=d / "t_det.h5", outdir=d)
    om = s["on_minus_off"]
    # The injected signal: CEvNS events (truth label) in the source-on region after the selection.
    truth = s["observed_on_by_origin_truth"]["cevns"]
    assert abs(om["total"] - truth) < 3 * om["total_err"]
    assert om["scale"] == pytest.approx(100.0 / 60.0)
    # The reco file carries the reconstructed energies and the selection of every event.
    r = EventReader(d / "reco.h5", stage="reco", require=["e_rec_kevee", "e_rec_kevnr", "selected"])
    c, _ = r.read()
    assert np.count_nonzero(c["selected"] & c["source_on"]) == pytest.approx(om["on"])
    assert r.metadata["parent_provenance_hash"] == EventReader(d / "d_det.h5").metadata["provenance_hash"]
    assert json.loads((d / "summary.json").read_text())["on_minus_off"]["total"] == pytest.approx(om["total"])


def test_asimov_fit_returns_the_truth(reactor_files):
    cfg, d = reactor_files
    s = reconstruct(d / "t_det.h5", d / "asimov.h5", reco_from_dict(RECO), outdir=d / "asimov")
    assert s["sigma_meas_over_sigma_sm"] == pytest.approx(1.0, abs=1e-3)
    assert s["fit"]["backgrounds"]["ssb"]["mu"] == pytest.approx(1.0, abs=1e-3)
    assert s["significance_no_cevns"] > 2


def test_a_toys_counts_and_fit_equal_the_full_analysis(reactor_files):
    # fit_counts (what every toy runs) bins the data as the per-origin histograms do and fits the same numbers
    from reco.analysis import data_counts, histograms, reconstruct_columns, select
    from reco.fit import flatten_templates
    from reco.stage import analyse, fit_counts

    cfg, d = reactor_files
    rc = reco_from_dict(RECO)
    tr = EventReader(d / "t_det.h5")
    t_cols, _ = tr.read(jagged=[])
    templates = Templates.from_columns(t_cols, tr.metadata, rc)
    dr = EventReader(d / "d_det.h5")
    cols, _ = dr.read(jagged=[])
    rec = reconstruct_columns(cols, dr.metadata)
    keep = select(cols, rec, rc)
    _, by_origin = flatten_templates(histograms(cols, rec, keep, templates.layout, weighted=False))
    counts = data_counts(cols, rec, keep, templates.layout)
    np.testing.assert_array_equal(counts, by_origin.sum(axis=0))
    assert counts.sum() > 100  # a real data set, not two empty vectors
    full = analyse(cols, dr.metadata, templates, rc, data_weighted=False)["fit"]
    fast, fast_keep = fit_counts(cols, dr.metadata, templates, rc)
    np.testing.assert_array_equal(fast_keep, keep)
    assert (fast.mu_cevns, fast.mu_cevns_err, fast.significance) == (full.mu_cevns, full.mu_cevns_err,
                                                                     full.significance)


def test_toy_pulls_are_standard_normal(reactor_files):
    cfg, d = reactor_files
    r = EventReader(d / "t_det.h5")
    cols, _ = r.read(jagged=[])
    rc = reco_from_dict(RECO)
    templates = Templates.from_columns(cols, r.metadata, rc)
    n = 120
    ens = run_toys(cfg, reactor_detector(), rc, templates, r.metadata, n, seed=7, workers=2, progress=False)
    s = ens.summary()
    assert s["n_valid"] == n
    # Tolerances from the ensemble size at 4 sigma: mean +- 4/sqrt(n), width +- 4/sqrt(2n) (three assertions on
    # one fixed-seed ensemble: 4 sigma keeps a false alarm below 1e-4 each; seed 7 with the xoshiro streams sits
    # at -3.3 sigma, seeds 8-10 at -0.06, +0.07, -0.05); template MC statistics (100k events, backgrounds x20)
    # add a little. A pull bias of 0.45 or a width off by 0.3 still fails.
    assert abs(s["pull_mean"]) < 4 / np.sqrt(n) + 0.05
    assert abs(s["pull_width"] - 1) < 4 / np.sqrt(2 * n) + 0.05
    assert abs(s["coverage_68"] - 0.683) < 4 * np.sqrt(0.683 * 0.317 / n) + 0.03
    # Reproducible: the same seed gives the same ensemble.
    again = run_toys(cfg, reactor_detector(), rc, templates, r.metadata, 5, seed=7, workers=1, progress=False)
    np.testing.assert_array_equal(again.mu, ens.mu[:5])


def test_cevns_run_demo_leaves_files_summary_and_plots(tmp_path):
    out = tmp_path / "run"
    code = "import sys; from reco.cli import run_main; sys.exit(run_main(sys.argv[1:]))"
    r = subprocess.run([sys.executable, "-c", code, "-o", str(out), "--quiet"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    for f in ("events.h5", "detector.h5", "reco.h5", "summary.json", "summary.txt", "energy_spectrum.png",
              "time_distribution.png", "on_minus_off.png"):
        assert (out / f).is_file(), f
    s = json.loads((out / "summary.json").read_text())
    assert s["sigma_meas_over_sigma_sm"] == pytest.approx(1.0, abs=5 * s["sigma_meas_over_sigma_sm_err"])
    assert EventReader(out / "events.h5").metadata["mode"] == "pseudo_experiment"
    assert s["data_source"] == "pseudo_experiment"
    assert "significance against no CEvNS" in (out / "summary.txt").read_text()


def test_run_config_errors(tmp_path):
    code = "import sys; from reco.cli import run_main; sys.exit(run_main(sys.argv[1:]))"
    r = subprocess.run([sys.executable, "-c", code, "--preset", "sns_csi", "-o", str(tmp_path / "x")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "needs a [detector] table" in r.stderr
    r = subprocess.run([sys.executable, "-c", code, "--set", "reco.data=real", "-o", str(tmp_path / "x")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "reco.data = 'real'" in r.stderr


def test_toys_csv_has_one_row_per_toy_and_merges_only_with_its_own_ensemble(tmp_path):
    import csv

    from generator._validate import ConfigError
    from reco.toys import ToyEnsemble, merge_toy_tables, write_toy_table

    a = ToyEnsemble(np.array([0.9, 1.1]), np.array([0.1, 0.12]), np.array([5.2, np.nan]), np.array([80, 95]),
                    np.array([0, 1]))
    b = ToyEnsemble(np.array([1.0]), np.array([0.11]), np.array([6.1]), np.array([88]), np.array([2]))
    write_toy_table(tmp_path / "a.csv", a, "abc")
    write_toy_table(tmp_path / "b.csv", b, "abc")
    merged = merge_toy_tables([tmp_path / "b.csv", tmp_path / "a.csv"], tmp_path / "all.csv")
    assert list(merged.index) == [0, 1, 2] and list(merged.mu) == [0.9, 1.1, 1.0]
    with (tmp_path / "all.csv").open() as f:
        assert f.readline().strip() == "# cevns-toys abc"
        rows = list(csv.DictReader(f))
    assert [r["significance"] for r in rows] == ["5.2", "", "6.1"]  # undefined stays empty, not a number
    write_toy_table(tmp_path / "c.csv", b, "other")
    with pytest.raises(ConfigError, match="does not belong with"):
        merge_toy_tables([tmp_path / "a.csv", tmp_path / "c.csv"], tmp_path / "x.csv")
    with pytest.raises(ConfigError, match="overlapping toy ranges"):
        merge_toy_tables([tmp_path / "a.csv", tmp_path / "a.csv"], tmp_path / "x.csv")


@pytest.mark.slow
def test_toys_identical_however_split_and_on_dask(tmp_path):
    pytest.importorskip("distributed")
    cfg = load_config(preset="reactor_ge", overrides=["recoil.threshold_kevnr=0.5", "generator.chunk_size=50000"])
    d = tmp_path
    generate(cfg, d / "t_gen.h5", n_events=50_000, progress=False)
    simulate_detector(d / "t_gen.h5", d / "t_det.h5", reactor_detector(oversample=50.0), progress=False)
    r = EventReader(d / "t_det.h5")
    cols, _ = r.read(jagged=[])
    rc = reco_from_dict(RECO)
    templates = Templates.from_columns(cols, r.metadata, rc)
    whole = run_toys(cfg, reactor_detector(), rc, templates, r.metadata, 6, seed=3, workers=1, progress=False)
    part = run_toys(cfg, reactor_detector(), rc, templates, r.metadata, 3, seed=3, workers=1, progress=False, first=3)
    np.testing.assert_array_equal(part.mu, whole.mu[3:])
    np.testing.assert_array_equal(part.index, [3, 4, 5])
    on_dask = run_toys(cfg, reactor_detector(), rc, templates, r.metadata, 6, seed=3, progress=False, dask="local:2")
    np.testing.assert_array_equal(on_dask.mu, whole.mu)


@pytest.mark.slow
def test_ctrl_c_stops_a_toy_run_quickly_with_exit_130(tmp_path):
    import os
    import signal
    import time

    code = "import sys; from reco.cli import run_main; sys.exit(run_main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "-o", str(tmp_path / "run"), "--quiet", "--toys", "100000",
                             "--set", "reco.template_events=20000", "--threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not (tmp_path / "run" / "reco.h5").exists():  # the toys start after reco
        time.sleep(0.2)
    time.sleep(4.0)
    t0 = time.time()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    out, err = proc.communicate(timeout=60)
    assert time.time() - t0 < 10
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "toys.csv").exists()


def test_run_refuses_oversampled_data_backgrounds(tmp_path):
    from generator._validate import ConfigError
    from reco.run import run_chain

    cfg = load_config(preset="demo", overrides=["detector.backgrounds=[{kind = 'steady_state', recoil_type = 'er', "
                                                "e_min_kev = 0.1, e_max_kev = 2.0, rate_per_kev_kg_day = 1.0, "
                                                "oversample = 20.0}]"])
    with pytest.raises(ConfigError, match=r"detector.backgrounds\[0\].oversample = 20: in a run the data set"):
        run_chain(cfg, tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()
