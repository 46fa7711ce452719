"""Energy-scale systematics of the simulated chain's fit (reco.energy_scale_sigma, reco.energy_offset_sigma_kevee):
shape nuisances whose +-1 sigma templates are the same template events with their reconstructed keVee moved,
selected and binned again; they move every template together.

Reference numbers: CONUS+ (Nature 643, 1229 (2025), Methods "Detector response and energy scale"): "an energy
calibration uncertainty below 5 eVee"; the paper's fit alone gives 395 +- 86 events (+- 22 %).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from generator._validate import ConfigError
from generator.config import load_config
from reco.config import reco_from_dict
from reco.fit import fit_templates
from reco.run import run_chain
from reco.stage import Templates

QUICK = ["generator.n_events=2000", "generator.chunk_size=2000", "reco.template_events=20000",
         "reco.template_oversample=5", "reco.plots=false", "reco.data=asimov"]


def _columns(n=20000, seed=1, technology="xenon", flat_only=False):
    """A non-pulsed detsim-like sample: a falling CEvNS-like spectrum (origin 0) and a flat background (origin 1)
    over 0-2 keVee, all source-on, unit weights; for 'hpge' two units with erf triggers at 0.10 and 0.12 keVee.
    ``flat_only``: every event is flat background."""
    rng = np.random.default_rng(seed)
    origin = np.ones(n, dtype=np.int8) if flat_only else (rng.random(n) < 0.5).astype(np.int8)
    e = np.where(origin == 0, rng.exponential(0.15, n), rng.uniform(0.0, 2.0, n))
    unit = (rng.random(n) < 0.5).astype(np.int16)
    thr, width = np.array([0.10, 0.12])[unit], 0.01
    trig = rng.random(n) < ndtr((e - thr) / width) if technology == "hpge" else np.ones(n, dtype=bool)
    cols = {"event_id": np.arange(n), "origin": origin, "weight": np.ones(n), "e_det_kevee": e,
            "source_on": np.ones(n, dtype=bool), "triggered": trig, "detector_id": unit}
    units = [{"name": "A", "threshold_ev": 100.0, "trigger_width_ev": 10.0},
             {"name": "B", "threshold_ev": 120.0, "trigger_width_ev": 10.0}]
    meta = {"detector": {"technology": technology, "hpge": {"detectors": units}}, "generator_config": {},
            "live_time_s": 86400.0, "source_off_live_days": 0.0, "exposure_fraction": 1.0}
    return cols, meta


@pytest.fixture(autouse=True)
def _energy_is_e_det(monkeypatch):
    monkeypatch.setattr("reco.stage.reconstruct_columns", lambda c, m: {"e_rec_kevee": c["e_det_kevee"],
                                                                        "e_rec_kevnr": c["e_det_kevee"]})


def test_variants_move_the_template_events_with_a_smoothed_difference():
    # HPGe: the variants are the nominal template plus the change that moving every event makes, each event spread
    # over one bin width; far from the trigger turn-on that change is the derivative of the spectrum
    cols, meta = _columns(n=200_000, technology="hpge")
    cfg = reco_from_dict({"threshold_kevee": 0.3, "max_kevee": 1.5, "n_energy_bins": 12,
                          "energy_offset_sigma_kevee": 0.01, "energy_scale_sigma": 0.03})
    t = Templates.from_columns(cols, meta, cfg)
    assert set(t.shape_variants) == {"energy_offset", "energy_scale"}
    lo, hi = t.shape_variants["energy_offset"]
    # the falling signal, exp(-E / 0.15 keV), moved up by 10 eV: each bin gains exp(0.01 / 0.15) - 1 = 6.9 %
    assert np.median(hi[0][:6] / t.matrix[0][:6]) == pytest.approx(np.exp(0.01 / 0.15), rel=0.01)
    assert np.median(lo[0][:6] / t.matrix[0][:6]) == pytest.approx(np.exp(-0.01 / 0.15), rel=0.01)
    # none configured: no variants, and the nominal templates are the same
    plain = Templates.from_columns(cols, meta, reco_from_dict({"threshold_kevee": 0.3, "max_kevee": 1.5,
                                                               "n_energy_bins": 12}))
    assert plain.shape_variants == {}
    np.testing.assert_array_equal(plain.matrix, t.matrix)
    scaled = t.scaled_to(0.5)
    np.testing.assert_allclose(scaled.shape_variants["energy_scale"][1], 0.5 * t.shape_variants["energy_scale"][1])


def test_a_flat_background_leaves_the_offset_to_its_prior():
    # An offset cannot change a flat background inside the window, so a fit of a flat background alone must not
    # learn the offset: its error stays the prior's. Rebinning a finite sample without smoothing gives each bin a
    # random "shape" change, which pinned the offset to ~0.5 sigma (review of this change)
    cols, meta = _columns(n=200_000, technology="hpge", flat_only=True)
    cfg = reco_from_dict({"threshold_kevee": 0.3, "max_kevee": 1.5, "n_energy_bins": 60,
                          "energy_offset_sigma_kevee": 0.005})
    t = Templates.from_columns(cols, meta, cfg)
    matrix = t.matrix.copy()
    matrix[0] = 1e-3 * matrix[1]  # a negligible signal of the same shape: the fit needs its 'cevns'
    variants = {}
    for k, (lo, hi) in t.shape_variants.items():
        lo, hi = lo.copy(), hi.copy()
        lo[0], hi[0] = 1e-3 * lo[1], 1e-3 * hi[1]
        variants[k] = (lo, hi)
    r = fit_templates(t.names, matrix, matrix.sum(axis=0), cfg.priors(), None, variants)
    assert r.nuisances["energy_offset"]["err"] > 0.9


def test_hpge_variants_re_decide_the_trigger_at_the_moved_energy():
    # the HPGe thresholds are set in reconstructed units: a miscalibration moves the events, not the turn-on. A flat
    # background seen through erf triggers at 0.10 / 0.12 keVee, moved by 10 eV: unchanged above the turn-on, and
    # near it changed far less than moving the trigger flags with the events would (a 10-eV shift of the turn-on)
    cols, meta = _columns(n=400_000, technology="hpge", flat_only=True)
    cfg = reco_from_dict({"threshold_kevee": 0.05, "max_kevee": 0.45, "n_energy_bins": 20,
                          "energy_offset_sigma_kevee": 0.01})
    t = Templates.from_columns(cols, meta, cfg)
    lo, hi = t.shape_variants["energy_offset"]
    nominal = t.matrix[1][:20]
    np.testing.assert_allclose(hi[1][:20][8:], nominal[8:], rtol=0.01)   # 0.21-0.45 keVee
    np.testing.assert_allclose(lo[1][:20][8:], nominal[8:], rtol=0.01)
    density = nominal[8:].mean()
    assert np.max(np.abs(hi[1][:20] - nominal)) < 0.05 * density
    flags_kept = Templates.from_columns(cols, meta, reco_from_dict({"threshold_kevee": 0.06, "max_kevee": 0.46,
                                                                    "n_energy_bins": 20})).matrix[1][:20]
    assert np.max(np.abs(flags_kept - nominal)) > 0.2 * density   # what keeping the flags would have done


def test_other_technologies_are_refused():
    cols, meta = _columns()
    for tech in ("xenon", "scintillator", "calorimeter", "ccd"):
        meta["detector"]["technology"] = tech
        with pytest.raises(ConfigError, match=f"only for hpge, not for a {tech}"):
            Templates.from_columns(cols, meta, reco_from_dict({"energy_offset_sigma_kevee": 0.01}))


def test_asimov_fit_with_energy_nuisances_returns_the_nominal_point():
    cols, meta = _columns(technology="hpge")
    cfg = reco_from_dict({"threshold_kevee": 0.1, "max_kevee": 1.5, "n_energy_bins": 14,
                          "energy_offset_sigma_kevee": 0.01})
    t = Templates.from_columns(cols, meta, cfg)
    asimov = t.matrix.sum(axis=0)
    with_nuisance = fit_templates(t.names, t.matrix, asimov, cfg.priors(), None, t.shape_variants)
    without = fit_templates(t.names, t.matrix, asimov, cfg.priors(), None)
    assert with_nuisance.mu_cevns == pytest.approx(1.0, abs=1e-3)
    assert with_nuisance.nuisances["energy_offset"]["theta"] == pytest.approx(0.0, abs=1e-2)
    # the offset trades signal against the threshold: the signal strength is less well known with it
    assert with_nuisance.mu_cevns_err > 1.05 * without.mu_cevns_err


@pytest.mark.parametrize("key, value", [("energy_scale_sigma", -0.01), ("energy_scale_sigma", 0.5),
                                        ("energy_offset_sigma_kevee", -0.001)])
def test_bad_energy_nuisance_widths_are_named(key, value):
    with pytest.raises(ConfigError, match=key):
        reco_from_dict({key: value})


def test_conus_plus_calibration_uncertainty_widens_the_signal_strength_not_the_excess(tmp_path):
    # CONUS+: the fit alone gives 395 +- 86 (22 %). With the paper's <= 5 eVee calibration uncertainty as a 1-sigma
    # offset nuisance our Asimov error on mu grows by ~25 % (0.17 -> 0.21 at full statistics); the significance of
    # the excess stays, because the flat backgrounds look the same under an offset and only the signal moves, and
    # the data hardly constrain the offset (its error stays near the prior's)
    base = load_config(preset="conus_plus_2025", overrides=QUICK + ["reco.energy_offset_sigma_kevee=0.0"])
    with_cal = load_config(preset="conus_plus_2025", overrides=QUICK)
    assert reco_from_dict(with_cal.reco).energy_offset_sigma_kevee == pytest.approx(0.005)
    s0 = run_chain(base, tmp_path / "a", threads=1, progress=False)
    s1 = run_chain(with_cal, tmp_path / "b", threads=1, progress=False)
    err0, err1 = s0["fit"]["mu_cevns_err"], s1["fit"]["mu_cevns_err"]
    assert 1.1 * err0 < err1 < 1.5 * err0
    assert err1 == pytest.approx(86.0 / 395.0, rel=0.25)
    assert s1["significance_no_cevns"] == pytest.approx(s0["significance_no_cevns"], rel=0.05)
    assert s1["fit"]["nuisances"]["energy_offset"]["err"] > 0.85
