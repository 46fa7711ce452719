"""The analysis window: arrival-time densities against their analytic forms, and cevns-rate's in-window count."""

import json

import numpy as np
import pytest

from generator.config import WindowConfig, load_config
from generator.experiment import Experiment
from generator.sources.base import PulseShape
from generator.windows import arrival_time_density, window_acceptance

TAU_PI, TAU_MU = 26.033, 2196.98  # ns (PDG)


def test_delayed_density_of_a_narrow_pulse_is_the_two_exponential_chain():
    # pi -> mu -> e after an instantaneous pulse: f(t) = (exp(-t/tau_mu) - exp(-t/tau_pi)) / (tau_mu - tau_pi)
    t = np.arange(-50.0, 40000.0, 1.0) + 0.5
    dens = arrival_time_density(PulseShape("gaussian", sigma_ns=2.0), (TAU_PI, TAU_MU), t)
    ref = np.where(t > 0, (np.exp(-t / TAU_MU) - np.exp(-t / TAU_PI)) / (TAU_MU - TAU_PI), 0.0)
    late = t > 200
    np.testing.assert_allclose(dens[late], ref[late], rtol=2e-3)


def test_acceptance_is_one_for_a_window_covering_everything_and_matches_the_tail_formula():
    cfg = load_config(preset="sns_csi")
    src = Experiment.from_config(cfg).source
    everything = window_acceptance(src, WindowConfig(start_ns=-5000.0, length_ns=80000.0))
    assert all(v == pytest.approx(1.0, abs=1e-4) for v in everything.values())
    # from a = 3 us on, far behind the pulse: P(t > a) = (tau_mu e^{-a/tau_mu} - tau_pi e^{-a/tau_pi}) / (tau_mu - tau_pi)
    a = 3000.0
    tail = window_acceptance(src, WindowConfig(start_ns=a, length_ns=70000.0))
    expected = (TAU_MU * np.exp(-a / TAU_MU) - TAU_PI * np.exp(-a / TAU_PI)) / (TAU_MU - TAU_PI)
    assert tail["delayed_nu_e"] == pytest.approx(expected, rel=2e-3)  # the 150 ns pulse shifts it by ~e^{s^2/2tau^2}
    assert tail["prompt_nu_mu"] < 1e-12


def test_cevns_rate_reports_the_expectation_in_the_window(capsys):
    from generator.cli import rate_main

    assert rate_main(["--preset", "coherent_csi_2022", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    w = out["window"]
    inside = sum(out["by_component"][c] * w["acceptance_by_component"][c] for c in out["by_component"])
    assert out["expected_events_in_window"] == pytest.approx(inside)
    # CsI 2021 window 0-6 us with the timing efficiency keeps 99.7 % of the prompt and 84.9 % of the delayed flux
    # (the same convolution as scripts/make_experiment_presets.py --compare)
    assert w["acceptance_by_component"]["prompt_nu_mu"] == pytest.approx(0.997, abs=2e-3)
    assert w["acceptance_by_component"]["delayed_nu_e"] == pytest.approx(0.849, abs=2e-3)
    assert rate_main(["--preset", "coherent_csi_2022"]) == 0
    assert "in the analysis window" in capsys.readouterr().out


def test_window_needs_a_pulsed_source(capsys):
    from generator.cli import rate_main

    assert rate_main(["--preset", "reactor_ge", "--set", "window.length_ns=100"]) == 2
    assert "[window] is a beam window" in capsys.readouterr().err


def test_run_window_becomes_the_on_beam_window_and_a_contradiction_is_refused():
    import dataclasses

    from generator._validate import ConfigError
    from reco.run import detector_for_run

    cfg = load_config(preset="coherent_lar_2020")
    det = detector_for_run(cfg)
    assert det.timing.on_start_ns == cfg.window.start_ns and det.timing.on_length_ns == cfg.window.length_ns
    bad = dataclasses.replace(cfg, detector={**cfg.detector, "timing": {"on_start_ns": 0.0}})
    with pytest.raises(ConfigError, match="contradicts the analysis window"):
        detector_for_run(bad)
