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


def _columns(n=20000, seed=1, technology="xenon"):
    """A non-pulsed detsim-like sample: a falling CEvNS-like spectrum (origin 0) and a flat background (origin 1)
    over 0-2 keVee, all source-on, unit weights; for 'hpge' two units with erf triggers at 0.10 and 0.12 keVee."""
    rng = np.random.default_rng(seed)
    origin = (rng.random(n) < 0.5).astype(np.int8)
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


def test_variants_are_the_template_events_moved_and_rebinned():
    # a photoelectron-triggered detector (xenon, scintillator): the keVee scale does not move the trigger flags
    cols, meta = _columns()
    cfg = reco_from_dict({"threshold_kevee": 0.1, "max_kevee": 1.5, "n_energy_bins": 14,
                          "energy_offset_sigma_kevee": 0.01, "energy_scale_sigma": 0.03})
    t = Templates.from_columns(cols, meta, cfg)
    assert set(t.shape_variants) == {"energy_offset", "energy_scale"}
    edges = np.linspace(0.1, 1.5, 15)
    for name, moved in (("energy_offset", lambda e, s: e + s * 0.01), ("energy_scale", lambda e, s: e * (1 + s * 0.03))):
        for k, theta in enumerate((-1.0, 1.0)):
            e = moved(cols["e_det_kevee"], theta)
            for j, code in enumerate((0, 1)):
                want = np.histogram(e[cols["origin"] == code], bins=edges)[0]
                np.testing.assert_array_equal(t.shape_variants[name][k][j][:14], want)
    # a higher offset moves events up across the threshold: more signal above it
    lo, hi = t.shape_variants["energy_offset"]
    assert hi[0].sum() > t.matrix[0].sum() > lo[0].sum()
    # none configured: no variants, and the fit is the one without nuisances
    plain = Templates.from_columns(cols, meta, reco_from_dict({"threshold_kevee": 0.1, "max_kevee": 1.5,
                                                               "n_energy_bins": 14}))
    assert plain.shape_variants == {}
    np.testing.assert_array_equal(plain.matrix, t.matrix)
    scaled = t.scaled_to(0.5)
    np.testing.assert_allclose(scaled.shape_variants["energy_scale"][1], 0.5 * t.shape_variants["energy_scale"][1])


def test_hpge_variants_re_decide_the_trigger_so_a_flat_background_does_not_move():
    # HPGe: the erf trigger acts on the energy a calibration offset moves, and the analysis threshold is set in the
    # same reconstructed units, so an offset moves events, not the turn-on. A flat background then looks the same
    # at +-1 sigma (bins well inside the ROI), while the falling signal moves; theta = 0 is the nominal template
    cols, meta = _columns(n=200_000, technology="hpge")
    cfg = reco_from_dict({"threshold_kevee": 0.05, "max_kevee": 1.5, "n_energy_bins": 29,
                          "energy_offset_sigma_kevee": 0.01})
    t = Templates.from_columns(cols, meta, cfg)
    lo, hi = t.shape_variants["energy_offset"]
    inner = slice(3, 27)  # 0.2-1.4 keVee: a flat background moved by 10 eV is unchanged there in expectation
    for moved in (lo[1][inner], hi[1][inner]):
        nominal = t.matrix[1][inner]
        assert moved.sum() == pytest.approx(nominal.sum(), rel=0.005)   # only the two outer edges exchange events
        # per bin: the ~2 n offset/width events that cross its edges are a different sample (Poisson noise)
        crossing = 2.0 * nominal * 0.01 / 0.05
        assert np.max(np.abs(moved - nominal) / np.sqrt(crossing)) < 4.5
    assert hi[0].sum() > 1.02 * t.matrix[0].sum() and lo[0].sum() < 0.98 * t.matrix[0].sum()
    # keeping the flags instead would shift the turn-on: the background's lowest bins would change by the offset
    # over the bin width; re-deciding the trigger leaves their expectation to the turn-on at the moved energy
    assert abs(hi[1][:3].sum() - t.matrix[1][:3].sum()) < 0.2 * t.matrix[1][:3].sum()


def test_calorimeter_and_ccd_energy_nuisances_are_refused():
    cols, meta = _columns()
    for tech in ("calorimeter", "ccd"):
        meta["detector"]["technology"] = tech
        with pytest.raises(ConfigError, match=f"not supported for a {tech}"):
            Templates.from_columns(cols, meta, reco_from_dict({"energy_offset_sigma_kevee": 0.01}))


def test_asimov_fit_with_energy_nuisances_returns_the_nominal_point():
    cols, meta = _columns()
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
    # offset nuisance our Asimov error on mu grows by ~14 % (to ~19 %, full statistics); the significance of the
    # excess stays, because the flat backgrounds look the same under an offset and only the signal moves
    base = load_config(preset="conus_plus_2025", overrides=QUICK + ["reco.energy_offset_sigma_kevee=0.0"])
    with_cal = load_config(preset="conus_plus_2025", overrides=QUICK)
    assert reco_from_dict(with_cal.reco).energy_offset_sigma_kevee == pytest.approx(0.005)
    s0 = run_chain(base, tmp_path / "a", threads=1, progress=False)
    s1 = run_chain(with_cal, tmp_path / "b", threads=1, progress=False)
    err0, err1 = s0["fit"]["mu_cevns_err"], s1["fit"]["mu_cevns_err"]
    assert 1.05 * err0 < err1 < 1.3 * err0
    assert err1 == pytest.approx(86.0 / 395.0, rel=0.25)
    assert s1["significance_no_cevns"] == pytest.approx(s0["significance_no_cevns"], rel=0.05)
    assert 0.3 < s1["fit"]["nuisances"]["energy_offset"]["err"] < 1.0   # the data barely know the offset
