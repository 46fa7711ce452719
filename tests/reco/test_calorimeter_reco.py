"""Reco of cryogenic calorimeters: heat-ionisation discrimination (the measured-yield cuts of reco.select against
the Gaussian yield bands of detsim.calorimeter) and the low-energy excess as its own fit template.

The yield bands are Gaussian to O(sigma^2 / E^2) at keV energies (tests/detsim/test_calorimeter.py checks their
mean and width), so a cut at n sigma of the nuclear-recoil band keeps erf(n / sqrt 2) of mono-energetic nuclear
recoils, and a cut Q < c keeps Phi((c - Y) / sigma_Q) of a band of mean Y: the analytic expectations below.
"""

import numpy as np
import pytest
from scipy.special import erf, ndtr

from detsim.calorimeter import RECOIL_ER, RECOIL_NR, calorimeter_steps, yield_band_sigma
from detsim.chain import Chain
from detsim.config import load_detector, to_dict
from generator._validate import ConfigError
from generator.sampler import EVENT_COLUMNS_TRUTH
from reco.analysis import nr_yield_band, reconstruct_columns, select
from reco.config import reco_from_dict

GE74 = (32, 74)  # the most abundant Ge isotope: the one reco's bands and keVnr inversion use


def ricochet_events(t_kev: float, n: int, recoil_type: int, seed: int):
    """n recoils of t_kev on 74Ge through the RICOCHET CryoCube preset's calorimeter (4 V, 10 eV heat and
    30 eVee ionisation baselines), with the metadata reco reads."""
    det = load_detector("ricochet_cryocube")
    cols = {"t_nr_kev": np.full(n, float(t_kev)), "target_z": np.full(n, GE74[0], np.int16),
            "target_a": np.full(n, GE74[1], np.int16), "recoil_type": np.full(n, recoil_type, np.int8)}
    inputs = {k: EVENT_COLUMNS_TRUTH[k] for k in cols if k in EVENT_COLUMNS_TRUTH}
    inputs["recoil_type"] = (np.int8, "")
    out, _ = Chain(calorimeter_steps(det), inputs).run(np.random.default_rng(seed), cols)
    meta = {"detector": to_dict(det), "generator_config": {"target": {"material": "Ge"}}}
    return det, {**cols, **out}, meta


def acceptance(cols, meta, **reco) -> float:
    # no trigger requirement: the preset's pile-up dead time (0.1 % of events) is independent of the yield
    cfg = reco_from_dict({"threshold_kevee": 0.0, "require_triggered": False, **reco})
    return float(select(cols, reconstruct_columns(cols, meta), cfg).mean())


def binomial_tol(p: float, n: int, k: float = 4.0) -> float:
    return k * np.sqrt(p * (1 - p) / n)


# --- heat-ionisation discrimination --------------------------------------------------------------------------------

def test_nr_band_matches_the_detector_model():
    det, cols, meta = ricochet_events(5.0, 10, RECOIL_NR, seed=1)
    t = np.array([0.1, 1.0, 5.0])
    y, sig = nr_yield_band(t, meta["detector"], meta["generator_config"])
    y_model = det.quenching.build().qf(t, *GE74)
    np.testing.assert_allclose(y, y_model, rtol=1e-12)
    np.testing.assert_allclose(sig, yield_band_sigma(t, y_model, det.calorimeter), rtol=1e-12)


@pytest.mark.parametrize("n_sigma", [1.0, 2.0])
def test_nr_band_cut_keeps_the_gaussian_fraction_of_nuclear_recoils(n_sigma):
    # 5 keVnr: sigma_Q ~ 0.008 around Y ~ 0.2 (Gaussian), all triggered
    n = 20_000
    _, cols, meta = ricochet_events(5.0, n, RECOIL_NR, seed=11)
    assert acceptance(cols, meta) == 1.0
    want = float(erf(n_sigma / np.sqrt(2.0)))  # 0.683, 0.954
    # + 0.005: the band is evaluated at the reconstructed, not the true, energy (Y changes by < 1e-4 over the
    # 10-40 eV heat noise; sigma_Q by < 1 %)
    assert acceptance(cols, meta, nr_band_n_sigma=n_sigma) == pytest.approx(want, abs=binomial_tol(want, n) + 0.005)


def test_nr_band_cut_rejects_electron_recoils():
    n = 5_000
    for e_kev in (0.5, 2.0):
        _, cols, meta = ricochet_events(e_kev, n, RECOIL_ER, seed=21)
        assert acceptance(cols, meta) == 1.0
        # ER band at Q = 1, NR band at Q ~ 0.2 with sigma_Q <~ 0.05 above 0.5 keVee: none in 3 sigma of the NR band
        assert acceptance(cols, meta, nr_band_n_sigma=3.0) < 1e-3


def test_max_yield_cut_keeps_the_gaussian_fraction_of_each_band():
    n = 20_000
    det, er, meta = ricochet_events(2.0, n, RECOIL_ER, seed=31)
    sig_er = float(yield_band_sigma(2.0, 1.0, det.calorimeter))  # ~0.035
    cut = 1.0 - sig_er
    want = float(ndtr(-1.0))  # 0.159 of the ER band below its mean - 1 sigma
    assert acceptance(er, meta, max_ionisation_yield=cut) == pytest.approx(want, abs=binomial_tol(want, n) + 0.005)
    _, nr, _ = ricochet_events(5.0, n, RECOIL_NR, seed=32)
    y = float(det.quenching.build().qf(np.array([5.0]), *GE74)[0])
    sig_nr = float(yield_band_sigma(5.0, y, det.calorimeter))
    want = float(ndtr(1.0))
    assert acceptance(nr, meta, max_ionisation_yield=y + sig_nr) == pytest.approx(want, abs=binomial_tol(want, n) + 0.005)
    # the ER band lies far above the NR one: a cut at Q < 0.5 keeps the NR and none of the ER
    assert acceptance(nr, meta, max_ionisation_yield=0.5) == 1.0
    assert acceptance(er, meta, max_ionisation_yield=0.5) == 0.0


def test_yield_cut_needs_an_ionisation_channel():
    det = load_detector("nucleus_cawo4")
    cols = {"e_heat_ev": np.array([100.0]), "ionisation_yield": np.array([np.nan])}
    meta = {"detector": to_dict(det), "generator_config": {"target": {"material": "CaWO4"}}}
    rec = reconstruct_columns(cols, meta)
    assert "nr_band_yield" not in rec
    for key in ("nr_band_n_sigma", "max_ionisation_yield"):
        with pytest.raises(ConfigError, match=f"reco.{key} = 2.0: the detector has no ionisation channel"):
            select(cols, rec, reco_from_dict({key: 2.0}))


@pytest.mark.parametrize("key", ["nr_band_n_sigma", "max_ionisation_yield"])
def test_bad_yield_cut_names_the_key(key):
    with pytest.raises(ConfigError, match=f"reco.{key}"):
        reco_from_dict({key: -1.0})


# --- the low-energy excess as its own template ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def ricochet_run(tmp_path_factory):
    """A small cevns-run of the RICOCHET preset (templates with oversampled backgrounds, a pseudo-experiment)."""
    from generator.config import load_config
    from reco.run import run_chain

    d = tmp_path_factory.mktemp("ricochet")
    cfg = load_config(preset="ricochet_cryocube", overrides=["generator.n_events=2000", "generator.chunk_size=2000",
                                                             "reco.template_events=4000", "reco.template_oversample=5",
                                                             "reco.plots=false"])
    return cfg, d, run_chain(cfg, d, threads=1, progress=False)


def read(path):
    from generator.eventfile import EventReader

    r = EventReader(path)
    cols, _ = r.read(jagged=[])
    return cols, r.metadata


def test_lee_events_carry_their_own_origin(ricochet_run):
    _, d, _ = ricochet_run
    cols, meta = read(d / "templates_detector.h5")
    lee, ss = cols["origin"] == 4, cols["origin"] == 1
    # the preset's LEE is heat-only (recoil_type 2), its steady state the flat Compton ER (recoil_type 1)
    assert lee.sum() > 100 and np.all(cols["recoil_type"][lee] == 2)
    assert ss.sum() > 100 and np.all(cols["recoil_type"][ss] == 1)
    assert [bg["origin"] for bg in meta["expected_background_events"]] == [1, 4]
    assert meta["origins"]["lee"] == 4


def test_lee_template_is_fitted_with_its_own_prior(ricochet_run):
    from reco.stage import Templates, fit_counts

    _, d, summary = ricochet_run
    assert set(summary["expected_on"]) == {"cevns", "ssb", "brn", "nin", "lee"}
    assert summary["expected_on"]["lee"] > 0 and summary["expected_on"]["ssb"] > 0
    assert "lee" in summary["fit"]["backgrounds"]
    cols, meta = read(d / "templates_detector.h5")
    rc = reco_from_dict({**summary["reco_config"], "prior_lee": None})
    t = Templates.from_columns(cols, meta, rc)
    assert t.names == ["cevns", "ssb", "brn", "nin", "lee"]
    i_lee = t.names.index("lee")
    # Asimov data with the LEE at twice its template rate (a toy study of the LEE): the free LEE template takes the
    # whole excess and leaves CEvNS and the steady state at their truth; the default 5 % prior of the steady state
    # applied to the LEE (its treatment before it had a template of its own) cannot, and the excess leaks into CEvNS
    from reco.fit import fit_templates

    data = t.matrix.sum(axis=0) + t.matrix[i_lee]
    free = fit_templates(t.names, t.matrix, data, rc.priors(), None)
    assert free.backgrounds["lee"]["mu"] == pytest.approx(2.0, abs=1e-3)
    assert free.mu_cevns == pytest.approx(1.0, abs=1e-3)
    assert free.backgrounds["ssb"]["mu"] == pytest.approx(1.0, abs=1e-3)
    tight = fit_templates(t.names, t.matrix, data, {**rc.priors(), "lee": 0.05}, None)
    assert tight.backgrounds["lee"]["mu"] < 1.9  # 1.53 at this seed
    assert tight.mu_cevns > 1.5  # 2.11 at this seed (error 0.42): the LEE mistaken for CEvNS
    # the fit of the data set is the same with the LEE counts binned straight into the fit's vector (toys)
    data_cols, data_meta = read(d / "detector.h5")
    fast, _ = fit_counts(data_cols, data_meta, t, reco_from_dict(summary["reco_config"]))
    assert fast.mu_cevns == pytest.approx(summary["fit"]["mu_cevns"], rel=1e-9, abs=1e-9)
    assert fast.backgrounds["lee"]["mu"] == pytest.approx(summary["fit"]["backgrounds"]["lee"]["mu"], rel=1e-9, abs=1e-9)


def test_lee_prior_is_configurable_and_validated():
    assert reco_from_dict({}).prior_lee is None  # free by default: nobody predicts its rate
    assert reco_from_dict({"prior_lee": 0.3}).priors()["lee"] == 0.3
    with pytest.raises(ConfigError, match="reco.prior_lee"):
        reco_from_dict({"prior_lee": 0.0})


def test_runs_without_a_lee_keep_the_four_templates():
    from reco.analysis import Layout

    meta = {"live_time_s": 86400.0, "expected_background_events": [{"origin": 1}]}
    lay = Layout.from_metadata(meta, reco_from_dict({"max_kevee": 1.0}), 1.0)
    assert lay.origins == ("cevns", "ssb", "brn", "nin")
    lay = Layout.from_metadata({**meta, "expected_background_events": [{"origin": 1}, {"origin": 4}]},
                               reco_from_dict({"max_kevee": 1.0}), 1.0)
    assert lay.origins == ("cevns", "ssb", "brn", "nin", "lee")
