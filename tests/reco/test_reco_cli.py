"""cevns-reco's settings: the run's own [reco] stored in the file, then --config, then --set reco.KEY=VALUE."""

import json

import pytest

from detsim.config import load_detector
from detsim.simulate import simulate_detector
from generator.config import load_config
from generator.generate import generate
from reco.cli import reco_main, reco_settings


@pytest.fixture(scope="module")
def detector_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("recocli")
    cfg = load_config(preset="reactor_ge", overrides=["recoil.threshold_kevnr=0.5", "reco.threshold_kevee=0.3",
                                                       "reco.max_kevee=1.2", "reco.plots=false"])
    generate(cfg, d / "gen.h5", n_events=20_000, progress=False)
    simulate_detector(d / "gen.h5", d / "det.h5", load_detector("conus_plus"), progress=False)
    return d / "det.h5"


def test_stored_reco_settings_are_the_defaults_and_the_command_line_overrides_them(detector_file, tmp_path):
    assert reco_settings(detector_file, None, []) == {"threshold_kevee": 0.3, "max_kevee": 1.2, "plots": False}
    cfg_file = tmp_path / "r.toml"
    cfg_file.write_text("[reco]\nmax_kevee = 1.5\n")
    raw = reco_settings(detector_file, cfg_file, ["reco.threshold_kevee=0.25"])
    assert raw == {"threshold_kevee": 0.25, "max_kevee": 1.5, "plots": False}
    out = tmp_path / "reco.h5"
    assert reco_main([str(detector_file), "-o", str(out)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["reco_config"]["threshold_kevee"] == 0.3 and summary["reco_config"]["max_kevee"] == 1.2


def test_bare_keys_and_missing_files_get_one_line(detector_file, tmp_path, capsys):
    assert reco_main([str(detector_file), "-o", str(tmp_path / "r.h5"), "--set", "threshold_kevee=1"]) == 2
    assert "write reco.KEY=VALUE" in capsys.readouterr().err
    assert reco_main([str(tmp_path / "missing.h5"), "-o", str(tmp_path / "r.h5")]) == 2
    err = capsys.readouterr().err
    assert "missing.h5 does not exist" in err and err.count("\n") == 1
