"""cevns-run on a released analysis: the summary, the plot and the toy table, on a small synthetic analysis
(the real ones are tested in their own files)."""

import csv
import json

import numpy as np
import pytest

from generator.config import load_config
from reco.released import run as released_run
from reco.released.likelihood import Axis, BinnedModel, Component, ReleasedAnalysis, ShapeNuisance


def toy_analysis(cfg, seed=None, **_):
    pe = np.linspace(0, 60, 7)
    t = np.linspace(0, 6, 4)
    sig = np.outer([30, 60, 50, 30, 15, 5], [5, 3, 1.0])
    ssb = np.full((6, 3), 20.0)
    brn = np.outer([10, 8, 5, 3, 2, 1], [3, 0.5, 0.1])
    data = np.random.default_rng(3).poisson(sig + ssb + brn).astype(float)
    model = BinnedModel([Component("cevns", sig, mc_variance=0.01 * sig), Component("ssb", ssb, norm_sigma=0.02),
                         Component("brn", brn, norm_sigma=0.25)], data,
                        [ShapeNuisance("brn_timing", {"brn": (0.9 * brn, 1.1 * brn)})])
    return ReleasedAnalysis(cfg.name, model, [Axis("pe", "energy [PE]", pe), Axis("time_us", "time [µs]", t)],
                            {"n_cevns": 600.0, "n_cevns_err": 40.0, "significance": 12.0, "sigma_ratio": None,
                             "n_cevns_sm_predicted": None, "citation": "a synthetic paper"},
                            ["a note on what differs"])


@pytest.fixture
def cfg(monkeypatch):
    monkeypatch.setattr(released_run, "build_released_analysis", toy_analysis)
    return load_config(preset="coherent_csi_2022")


def test_released_data_fit_writes_summary_plot_and_text(cfg, tmp_path):
    s = released_run.run_released(cfg, tmp_path, progress=False)
    assert s["data_source"] == "released data"
    assert s["observed_events"] == pytest.approx(toy_analysis(cfg).model.data.sum())
    assert s["fit"]["n_cevns"] > 0 and s["fit"]["n_cevns_err"] > 0 and s["significance_no_cevns"] > 5
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["published"]["citation"] == "a synthetic paper" and on_disk["notes"] == ["a note on what differs"]
    text = (tmp_path / "summary.txt").read_text(encoding="utf-8")
    assert "fitted CEvNS events" in text and "published" in text and "600.0 ± 40.0" in text
    assert (tmp_path / "fit.png").stat().st_size > 10_000


def test_asimov_gives_mu_one_and_toys_one_row_each(cfg, tmp_path):
    s = released_run.run_released(cfg, tmp_path, asimov=True, toys=12, progress=False)
    assert s["data_source"] == "asimov" and s["observed_events"] is None
    assert s["sigma_meas_over_sigma_sm"] == pytest.approx(1.0, abs=1e-3)
    with (tmp_path / "toys.csv").open() as f:
        assert f.readline().startswith("# cevns-toys released-")   # the ensemble's identity, as cevns-toys-merge wants
        rows = list(csv.DictReader(f))
    assert [int(r["toy"]) for r in rows] == list(range(12))
    assert s["toys"]["n_toys"] == 12
    again = released_run.run_toys(toy_analysis(cfg), 12, cfg.generator.seed)
    assert [r["mu"] for r in again] == pytest.approx([float(r["mu"]) for r in rows], rel=1e-12)  # reproducible


def test_toys_split_into_jobs_merge_into_the_same_ensemble(cfg, tmp_path, capsys):
    from generator._validate import ConfigError
    from reco.cli import toys_merge_main
    from reco.toys import merge_toy_csv

    whole = released_run.run_released(cfg, tmp_path / "all", toys=9, progress=False)
    released_run.run_released(cfg, tmp_path / "a", toy_range=(0, 4), progress=False)
    released_run.run_released(cfg, tmp_path / "b", toy_range=(4, 9), progress=False)
    assert toys_merge_main([str(tmp_path / "m.csv"), str(tmp_path / "b" / "toys.csv"),
                            str(tmp_path / "a" / "toys.csv")]) == 0
    assert "merged 9 toys (0..8)" in capsys.readouterr().out
    assert (tmp_path / "m.csv").read_text() == (tmp_path / "all" / "toys.csv").read_text()   # byte for byte
    assert whole["toys"]["ensemble"].startswith("released-") and whole["toys"]["range"] == [0, 9]
    # another seed is another ensemble; a simulated-chain table has other columns: both refused in one line
    released_run.run_released(cfg, tmp_path / "c", toy_range=(9, 10), seed=7, progress=False)
    with pytest.raises(ConfigError, match="does not belong with"):
        merge_toy_csv([tmp_path / "a" / "toys.csv", tmp_path / "c" / "toys.csv"], tmp_path / "x.csv")
    # same identity but other columns: refused; the simulated chain's merger refuses a released table before writing
    odd = tmp_path / "odd.csv"
    lines = (tmp_path / "b" / "toys.csv").read_text().splitlines()
    odd.write_text("\n".join([lines[0], lines[1].replace("n_cevns", "n_other")] + lines[2:]) + "\n")
    with pytest.raises(ConfigError, match="columns"):
        merge_toy_csv([tmp_path / "a" / "toys.csv", odd], tmp_path / "x.csv")
    from reco.toys import merge_toy_tables

    with pytest.raises(ConfigError, match="n_cevns_true"):
        merge_toy_tables([tmp_path / "a" / "toys.csv"], tmp_path / "y.csv")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()


def test_merging_toys_without_any_significance_prints_undefined(cfg, tmp_path, capsys):
    from reco.cli import toys_merge_main

    released_run.run_released(cfg, tmp_path / "a", toy_range=(0, 2), progress=False)
    path = tmp_path / "a" / "toys.csv"
    head, columns, *rows = path.read_text().splitlines()
    k = columns.split(",").index("significance")
    blanked = [",".join("" if j == k else v for j, v in enumerate(r.split(","))) for r in rows]
    path.write_text("\n".join([head, columns] + blanked) + "\n")
    assert toys_merge_main([str(tmp_path / "m.csv"), str(path)]) == 0
    assert "significance median undefined" in capsys.readouterr().out


def test_cli_dispatches_released_presets(cfg, tmp_path, capsys):
    from reco.cli import run_main

    assert run_main(["--preset", "coherent_csi_2022", "-o", str(tmp_path / "r"), "--quiet"]) == 0
    assert "released analysis, fitted to released data" in capsys.readouterr().out
    # any other preset: --asimov is the simulated chain's reco.data = "asimov" (the pseudo-data equal the expectation)
    quick = [f"--set={o}" for o in ("generator.n_events=2000", "generator.chunk_size=2000", "reco.template_events=4000",
                                     "reco.plots=false")]
    assert run_main(["--preset", "demo", "-o", str(tmp_path / "d"), "--asimov", "--quiet"] + quick) == 0
    s = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert s["data_source"] == "asimov"
