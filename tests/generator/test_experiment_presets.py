"""Experiment presets (data/presets/*.toml built by scripts/make_experiment_presets.py): they load, `cevns-rate`
works on them, they are valid `cevns-run` configurations, generation is normalised to their rate, and their
predictions agree with the published ones within the papers' uncertainties.

Our numbers are the presets' `cevns-rate` expectations; for the SNS presets the beam-window acceptance of the
analysis (a time cut a rate cannot contain) is applied from the pulse model of the build script. Nothing is
tuned to the papers.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from generator.config import load_config
from generator.eventfile import EventReader
from generator.experiment import Experiment
from generator.generate import generate
from generator.rates import expected_rates
from reco.config import reco_from_dict
from reco.run import detector_for_run
from tests.helpers import import_script, rate_json

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ("coherent_csi_2017", "coherent_csi_2022", "coherent_lar_2020", "conus_plus_2025", "coherent_ge_2025",
           "xenonnt_b8_2024", "coherent_cryocsi")


@lru_cache(maxsize=1)
def builder():
    return import_script("scripts/make_experiment_presets.py", "make_experiment_presets")


def ours(name: str) -> float:
    """The preset's expected events: cevns-rate's expectation inside the analysis beam window where the preset
    declares one ([window]: pulse x decay-chain acceptance, timing efficiency), its total otherwise."""
    d = rate_json(name)
    return d.get("expected_events_in_window", d["expected_events"])


# --- every preset: loads, cevns-rate --json, a valid cevns-run configuration ------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_rate_json(name):
    cfg = load_config(preset=name)
    assert cfg.name == name and cfg.description
    assert cfg.recoil.efficiency_kevnr is not None  # every experiment preset carries its efficiency curve
    eff = np.asarray(cfg.recoil.efficiency)
    # XENONnT's released efficiency (every selection, all 162 bins) peaks at 0.147 near 3.7 keVnr
    assert np.all((eff >= 0) & (eff <= 1)) and eff.max() > (0.1 if name == "xenonnt_b8_2024" else 0.3)
    d = rate_json(name)
    assert d["name"] == name
    assert d["expected_events"] > 0
    assert sum(d["by_isotope"].values()) == pytest.approx(d["expected_events"])
    no_eff = expected_rates(Experiment.from_config(cfg), use_efficiency=False).expected_events
    assert d["expected_events"] < no_eff  # the efficiency only removes events


@pytest.mark.parametrize("name", PRESETS)
def test_preset_is_a_run_configuration(name):
    cfg = load_config(preset=name)
    det = detector_for_run(cfg)  # the [detector] table names an existing detector preset
    assert det.name == cfg.detector["preset"]
    reco_from_dict(cfg.reco)


def test_presets_are_up_to_date_with_the_build_script():
    """The efficiency tables in the files are what the script computes (XENONnT: from its data release)."""
    built = builder().build_all(skip_xenon=True, xenon_events=0)
    assert set(built) == set(PRESETS)
    for name, text in built.items():
        assert (ROOT / "data" / "presets" / f"{name}.toml").read_text() == text, f"{name}: re-run the script"


# --- a preset's rate equals the sum of its sampled weights -------------------------------------------------------


@pytest.mark.parametrize("name", ["coherent_csi_2022", "conus_plus_2025"])
def test_rate_equals_sum_of_weights(name, tmp_path):
    cfg = load_config(preset=name)
    path = tmp_path / "events.h5"
    generate(cfg, path, n_events=20000, progress=False)
    cols, _ = EventReader(path).read()
    expected = expected_rates(Experiment.from_config(cfg), use_efficiency=False).expected_events
    assert cols["weight"].sum() == pytest.approx(expected, rel=1e-9)
    assert cols["t_nr_kev"].min() >= cfg.recoil.threshold_kevnr


# --- predictions vs the papers -----------------------------------------------------------------------------------


def test_coherent_csi_2017_vs_paper():
    # COHERENT, Science 357, 1123 (2017), arXiv:1708.01294: SM prediction 173 +- 48 events (134 +- 22 observed).
    assert abs(ours("coherent_csi_2017") - 173.0) < 48.0


def test_coherent_csi_2022_vs_paper():
    # COHERENT, PRL 129, 081801 (2022), arXiv:2110.07730: SM prediction 341 +- 11 (th) +- 42 (exp) events
    # (306 +- 20 observed); the numbers were not re-read in the paper for this test (INPUTS status M).
    # The 0-6 us window and the timing efficiency of the release are applied (ours() docstring).
    assert abs(ours("coherent_csi_2022") - 341.0) < np.hypot(11.0, 42.0)


def test_coherent_lar_2020_vs_paper():
    # COHERENT CENNS-10, PRL 126, 012002 (2021), arXiv:2003.10630, Analysis A: SM prediction 128 +- 17 events.
    assert abs(ours("coherent_lar_2020") - 128.0) < 17.0


def test_conus_plus_2025_vs_paper():
    # CONUS+, Nature 643, 1229 (2025), arXiv:2501.05206 (v2 abstract): SM prediction 347 +- 59 events.
    assert abs(ours("conus_plus_2025") - 347.0) < 59.0


def test_coherent_ge_2025_vs_paper():
    # COHERENT Ge-Mini, PRL 134, 231801 (2025), arXiv:2406.13806 (abstract): measured 20.6 +7.1 -6.3, "agrees
    # with the SM prediction within 2 sigma". CONUS+ (Nature 643, 1229 (2025), Table 1) lists it with data/SM =
    # 0.59 +- 0.21, so the SM prediction is 20.6 / 0.59 = 34.9 (the earlier inference, measurement plus two upper
    # sigmas, gave 34.8); the measurement's sigma (7.1) is the tolerance.
    assert abs(ours("coherent_ge_2025") - 20.6 / 0.59) < 7.1


def test_xenonnt_b8_2024_vs_paper():
    # XENONnT, PRL 133, 191002 (2024), arXiv:2408.02877: SM 8B expectation 11.9 events at the SNO flux (the 2024
    # 8B templates of XENONnT/light_wimp_data_release x the SR0/SR1 exposures: 4.25 + 7.67), with the model's 25 %
    # signal-efficiency uncertainty as the tolerance. The preset expects ~9.9: its [recoil] table is the data
    # release's mono-energetic efficiency (data/releases/xenonnt_b8_2024), which is the updated signal model of
    # arXiv:2604.06002 -- XENONnT's own 8B spectrum folded with it gives 9.2, not 11.9 (-23 %) -- and this
    # package's recoil spectrum is 5-9 % above XENONnT's below 2 keVnr (weak-charge convention; see the README of
    # the release directory and reco/released/xenonnt_b8.py).
    n = ours("xenonnt_b8_2024")
    assert abs(n - 11.9) < 0.25 * 11.9
    assert 9.5 < n < 10.3  # 9.2 x (1.05-1.09), the explained offset


def test_coherent_cryocsi_bounds():
    # No published event count for the CryoCsI concept (INPUTS 12.4). Rigorous bounds instead: with T10 / T90 the
    # energies where the preset's efficiency crosses 10 % / 90 %, and 0 <= eff <= 1 (monotone turn-on):
    # 0.9 N(T > T90) <= N <= N(T > T10) + 0.1 [N(T > 0) - N(T > T10)].
    cfg = load_config(preset="coherent_cryocsi")
    x, y = np.asarray(cfg.recoil.efficiency_kevnr), np.asarray(cfg.recoil.efficiency)
    assert np.all(np.diff(y) >= -1e-12)
    t10, t90 = np.interp(0.1, y, x), np.interp(0.9, y, x)

    def above(t):
        c = load_config(preset="coherent_cryocsi", overrides=[f"recoil.threshold_kevnr={t}"])
        return expected_rates(Experiment.from_config(c), use_efficiency=False).expected_events

    n = rate_json("coherent_cryocsi")["expected_events"]
    n0, n10, n90 = above(0.0), above(t10), above(t90)
    assert 0.9 * n90 <= n <= n10 + 0.1 * (n0 - n10)
    assert 0.5 < t10 < t90 < 4.0  # 5 PE at 43 PE/keVee: 50 % near 1.8 keVnr, not the ~0.5 keVnr goal
