"""Experiment presets and their published backgrounds.

coherent_csi_2017 carries the backgrounds of its data release (steady state from the AC window, prompt neutrons from
promptPDF.txt, NIN): they load, are non-zero in the analysis window, and give a finite significance; conus_plus_2025
carries its paper's background-model components (tests/reco/test_conus_plus_backgrounds.py). The presets
whose backgrounds are not published (or could not be read) carry none and say so in a comment, so that ``cevns-run``
reports the significance as undefined instead of a background-free number; a run with the backgrounds removed shows
that path.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from generator.config import load_config
from reco.run import detector_for_run, run_chain

PRESETS = Path(__file__).resolve().parents[2] / "data" / "presets"
WITH_BACKGROUNDS = ("coherent_csi_2017",)
WITHOUT_PUBLISHED_BACKGROUNDS = ("coherent_ge_2025", "coherent_cryocsi")
QUICK = ["generator.n_events=2000", "generator.chunk_size=2000", "reco.template_events=4000",
         "reco.template_oversample=5", "reco.plots=false"]


@pytest.mark.parametrize("name", WITH_BACKGROUNDS)
def test_published_backgrounds_load_with_their_priors(name):
    det = detector_for_run(load_config(preset=name))
    kinds = sorted(bg.kind for bg in det.backgrounds)
    assert kinds == ["brn", "nin", "steady_state", "steady_state"]
    assert all(bg.rate_per_kev_kg_day > 0 or bg.rate_per_pulse > 0 for bg in det.backgrounds)
    reco = tomllib.loads((PRESETS / f"{name}.toml").read_text())["reco"]
    assert reco["prior_brn"] == 0.25  # [data] promptPDF.txt: 25 % normalisation uncertainty


@pytest.mark.parametrize("name", WITHOUT_PUBLISHED_BACKGROUNDS)
def test_presets_without_published_backgrounds_have_none_and_say_so(name):
    det = detector_for_run(load_config(preset=name))
    assert det.backgrounds in ((), [])
    assert "BACKGROUNDS:" in (PRESETS / f"{name}.toml").read_text()


def test_conus_plus_has_the_reactor_off_exposure():
    det = detector_for_run(load_config(preset="conus_plus_2025"))
    assert det.source_off_live_days == pytest.approx(60.0 / 2.83, rel=2e-3)  # [paper] 60 kg d / 2.83 kg


def test_csi2017_run_gives_backgrounds_and_a_finite_significance(tmp_path):
    cfg = load_config(preset="coherent_csi_2017", overrides=QUICK + ["reco.data=asimov"])
    s = run_chain(cfg, tmp_path / "run", threads=1, progress=False)
    exp = s["expected_on"]
    # in the on-beam window (0-60 PE, 12 us): release AC 1032 events in 0-50 PE; BRN 7.6; NIN 4.0
    assert 900 < exp["ssb"] < 1400
    assert exp["brn"] == pytest.approx(7.6, rel=0.3)
    assert exp["nin"] == pytest.approx(4.0, rel=0.4)
    z = s["significance_no_cevns"]
    assert z is not None and math.isfinite(z) and z > 3


def test_run_without_backgrounds_reports_the_significance_as_undefined(tmp_path):
    cfg = load_config(preset="coherent_csi_2017", overrides=QUICK + ["reco.data=asimov", "detector.backgrounds=[]"])
    s = run_chain(cfg, tmp_path / "run", threads=1, progress=False)
    assert s["significance_no_cevns"] is None
    text = (tmp_path / "run" / "summary.txt").read_text(encoding="utf-8")
    assert "significance against no CEvNS: undefined (the model has no background" in text


def test_experiment_without_published_backgrounds_says_so_instead_of_a_significance(tmp_path):
    cfg = load_config(preset="coherent_ge_2025", overrides=QUICK + ["reco.data=asimov"])
    assert cfg.reco["backgrounds_published"] is False
    s = run_chain(cfg, tmp_path / "run", threads=1, progress=False)
    assert s["significance_no_cevns"] is None
    text = (tmp_path / "run" / "summary.txt").read_text(encoding="utf-8")
    assert "significance against no CEvNS: not quoted: this experiment's backgrounds are not published" in text
