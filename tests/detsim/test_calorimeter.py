"""Cryogenic calorimeters (detsim.calorimeter): Neganov-Trofimov-Luke gain and heat resolution against their
formulas, trigger at n sigma, NR/ER ionisation-yield bands against the error-propagation model, dead time, the
low-energy-excess spectrum and its decay, configuration errors, reco's inversion of the Luke gain, and the three
presets end to end. No numba kernels exist (the response is vectorised numpy), so the sampled distributions are
tested against their analytic densities at fixed seeds (KS) instead of a kernel-vs-numpy comparison."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr

from detsim.backgrounds import BackgroundConfig, _energies, decay_factor, expected_background_counts, lee_density
from detsim.calorimeter import (RECOIL_ER, RECOIL_HEAT_ONLY, RECOIL_NR, calorimeter_steps, heat_kevee_of_recoil,
                                heat_sigma_ev, live_fraction, luke_gain, mean_heat_ev, trigger_probability,
                                yield_band_sigma)
from detsim.chain import Chain
from detsim.config import detector_from_dict, load_detector
from generator._validate import ConfigError, build
from generator.sampler import EVENT_COLUMNS_TRUTH

GE = (32, 74)


def detector(**cal):
    raw = {"technology": "calorimeter", "quenching": {"model": "lindhard", "k": 0.157},
           "calorimeter": {"yield_model": "quenching", "bias_v": 4.0, "pair_energy_ev": 3.0, "baseline_sigma_ev": 10.0,
                           "threshold_n_sigma": 5.0, "ion_sigma_evee": 30.0, **cal}}
    return detector_from_dict(raw)


def run(det, t_kev, n, recoil_type=RECOIL_NR, seed=1):
    cols = {"t_nr_kev": np.full(n, float(t_kev)), "target_z": np.full(n, GE[0], np.int16),
            "target_a": np.full(n, GE[1], np.int16), "recoil_type": np.full(n, recoil_type, np.int8)}
    inputs = {k: EVENT_COLUMNS_TRUTH[k] for k in cols if k in EVENT_COLUMNS_TRUTH}
    inputs["recoil_type"] = (np.int8, "")
    out, _ = Chain(calorimeter_steps(det), inputs).run(np.random.default_rng(seed), cols)
    return out


def ge_qf(det, t_kev):
    return float(det.quenching.build().qf(np.array([t_kev]), GE[0], GE[1])[0])


# --- heat: Luke gain and resolution --------------------------------------------------------------------------------

@pytest.mark.parametrize("recoil_type", [RECOIL_NR, RECOIL_ER, RECOIL_HEAT_ONLY])
@pytest.mark.parametrize("t_kev", [0.1, 2.0])
def test_heat_mean_is_the_luke_gain(recoil_type, t_kev):
    det = detector(phonon_collection_efficiency=0.8)
    n = 100_000
    out = run(det, t_kev, n, recoil_type)
    y = {RECOIL_NR: ge_qf(det, t_kev), RECOIL_ER: 1.0, RECOIL_HEAT_ONLY: 0.0}[recoil_type]
    # E_heat = eta E_r (1 + Y e V / eps), V = 4 V, eps = 3 eV
    expected = 0.8 * t_kev * 1e3 * (1.0 + y * 4.0 / 3.0)
    assert mean_heat_ev(t_kev, y, det.calorimeter) == pytest.approx(expected, rel=1e-12)
    assert out["e_heat_ev"].mean() == pytest.approx(expected, abs=5 * 10.0 / np.sqrt(n))
    np.testing.assert_allclose(out["ionisation_yield_model"], y)


def test_luke_gain_of_electron_recoils_in_ge_at_4v():
    assert luke_gain(1.0, 4.0 / 3.0) == pytest.approx(7.0 / 3.0)
    assert luke_gain(0.0, 4.0 / 3.0) == 1.0


@pytest.mark.parametrize("spread", [0.0, 0.05])
def test_heat_resolution_is_the_baseline_plus_collection_spread(spread):
    det = detector(collection_spread=spread)
    n, t = 200_000, 1.0
    out = run(det, t, n, RECOIL_ER, seed=3)
    m = mean_heat_ev(t, 1.0, det.calorimeter)
    sigma = np.sqrt(10.0**2 + (spread * m) ** 2)
    assert heat_sigma_ev(m, det.calorimeter) == pytest.approx(sigma)
    assert out["e_heat_ev"].std() == pytest.approx(sigma, rel=5 * np.sqrt(0.5 / n))
    # the whole distribution is that Gaussian (KS at a fixed seed)
    assert stats.kstest(out["e_heat_ev"][:20000], "norm", args=(m, sigma)).pvalue > 1e-3


def test_trigger_at_the_threshold_is_half_and_follows_the_erf():
    det = detector(yield_model="none", bias_v=0.0, ion_sigma_evee=None, baseline_sigma_ev=4.0)
    cal = det.calorimeter
    assert cal.threshold_ev == 20.0
    n = 40_000
    for t_ev in (10.0, 20.0, 26.0):
        out = run(det, t_ev * 1e-3, n, RECOIL_NR, seed=int(t_ev))
        p = float(trigger_probability(t_ev * 1e-3, 0.0, cal))
        assert p == pytest.approx(ndtr((t_ev - 20.0) / 4.0))
        assert out["triggered"].mean() == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / n) + 1e-4)
    assert float(trigger_probability(0.020, 0.0, cal)) == pytest.approx(0.5)
    # the heat resolution at threshold is the baseline resolution (no energy-dependent term without spread)
    out = run(det, 0.020, n, RECOIL_NR, seed=5)
    assert out["e_heat_ev"].std() == pytest.approx(4.0, rel=5 * np.sqrt(0.5 / n))


# --- ionisation channel: yield bands -------------------------------------------------------------------------------

@pytest.mark.parametrize("t_kev", [3.0, 10.0])
def test_nr_and_er_yield_bands_follow_the_model(t_kev):
    det = detector()
    cal = det.calorimeter
    n = 100_000
    for rt, y in ((RECOIL_NR, ge_qf(det, t_kev)), (RECOIL_ER, 1.0)):
        out = run(det, t_kev, n, rt, seed=7 + rt)
        q = out["ionisation_yield"]
        sig = float(yield_band_sigma(t_kev, y, cal))
        # the ionisation signal itself: Y E_r + N(0, 30 eVee)
        assert out["e_ion_evee"].mean() == pytest.approx(y * t_kev * 1e3, abs=5 * 30.0 / np.sqrt(n))
        assert out["e_ion_evee"].std() == pytest.approx(30.0, rel=5 * np.sqrt(0.5 / n))
        assert stats.kstest(out["e_ion_evee"][:20000], "norm", args=(y * t_kev * 1e3, 30.0)).pvalue > 1e-3
        # Q = E_ion / E_r' centres on Y with the linear-propagation width (exact to O(sigma^2 / E^2) here)
        assert np.median(q) == pytest.approx(y, abs=0.01 * y + 5 * sig / np.sqrt(n))
        assert q.std() == pytest.approx(sig, rel=0.03)
    # NR and ER bands are separated by many sigma at these energies
    y_nr = ge_qf(det, t_kev)
    assert (1.0 - y_nr) / (float(yield_band_sigma(t_kev, 1.0, cal)) + float(yield_band_sigma(t_kev, y_nr, cal))) > 3


def test_no_ionisation_channel_gives_nan():
    det = detector(yield_model="none", bias_v=0.0, ion_sigma_evee=None)
    out = run(det, 1.0, 100)
    assert np.isnan(out["e_ion_evee"]).all() and np.isnan(out["ionisation_yield"]).all()


# --- dead time -----------------------------------------------------------------------------------------------------

def test_dead_time_fraction_is_exp_minus_rate_tau():
    det = detector(dead_time_ms=50.0, pulse_rate_hz=2.0)
    live = live_fraction(det.calorimeter)
    assert live == pytest.approx(np.exp(-0.1))
    n = 100_000
    out = run(det, 5.0, n, RECOIL_ER)
    dead = out["in_dead_time"].mean()
    assert dead == pytest.approx(1 - live, abs=5 * np.sqrt(live * (1 - live) / n))
    assert not (out["triggered"] & out["in_dead_time"]).any()


# --- low-energy excess ---------------------------------------------------------------------------------------------

def lee(**over):
    raw = {"kind": "steady_state", "recoil_type": "heat_only", "spectrum": "lee", "e_min_kev": 0.01,
           "e_max_kev": 1.0, "rate_per_kg_day": 1000.0, "exp_fraction": 0.6, "slope_kev": 0.03, "power_index": 2.5}
    raw.update(over)
    return build(BackgroundConfig, raw, "backgrounds")


def lee_cdf(bg, e):
    grid = np.geomspace(bg.e_min_kev, bg.e_max_kev, 20001)
    dens = lee_density(grid, bg)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    return np.interp(e, grid, cdf / cdf[-1])


@pytest.mark.parametrize("over", [{}, {"exp_fraction": 1.0}, {"exp_fraction": 0.0}, {"exp_fraction": 0.0,
                                                                                       "power_index": 1.0}])
def test_lee_energies_follow_their_density(over):
    bg = lee(**over)
    grid = np.geomspace(bg.e_min_kev, bg.e_max_kev, 20001)
    dens = lee_density(grid, bg)
    assert np.sum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid)) == pytest.approx(1.0, rel=1e-4)
    e = _energies(np.random.default_rng(42), bg, 20_000)
    assert e.min() >= bg.e_min_kev and e.max() <= bg.e_max_kev
    assert stats.kstest(e, lambda x: lee_cdf(bg, x)).pvalue > 1e-3


def test_lee_decays_since_the_cool_down():
    bg = lee(decay_days=20.0, decay_floor=0.3, start_days=30.0)
    # mean of 0.3 + 0.7 exp(-t/20) over t in [30, 130] days
    t = np.linspace(30.0, 130.0, 200001)
    expected = np.mean(0.3 + 0.7 * np.exp(-t / 20.0))
    assert decay_factor(bg, 100.0) == pytest.approx(expected, rel=1e-6)
    assert decay_factor(lee(), 100.0) == 1.0
    gm = {"live_time_s": 100 * 86400.0, "exposure": {"mass_kg": 0.01}}
    assert expected_background_counts(bg, gm, None, True, 0.0) == pytest.approx(1000.0 * 0.01 * 100 * expected)
    # the reactor-OFF part (interleaved with ON) has the same mean rate
    assert expected_background_counts(bg, gm, None, False, 50.0) == pytest.approx(1000.0 * 0.01 * 50 * expected)


# --- configuration errors: one line naming the key -----------------------------------------------------------------

@pytest.mark.parametrize("cal, fragment", [
    ({"baseline_sigma_ev": -1.0}, "calorimeter.baseline_sigma_ev = -1.0: must be > 0"),
    ({"threshold_n_sigma": -2.0}, "calorimeter.threshold_n_sigma = -2.0: must be >= 0"),
    ({"yield_model": "none", "ion_sigma_evee": None, "bias_v": 60.0}, "calorimeter.bias_v = 60: a bias needs an "
                                                                       "ionisation yield"),
    ({"yield_model": "none", "bias_v": 0.0}, "calorimeter.ion_sigma_evee = 30: an ionisation channel needs"),
    ({"dead_time_ms": 5.0}, "calorimeter.dead_time_ms = 5: give the pulse rate"),
    ({"phonon_collection_efficiency": 1.5}, "calorimeter.phonon_collection_efficiency = 1.5: must be <= 1"),
    ({"yield_model": "luke"}, "calorimeter.yield_model"),
])
def test_bad_calorimeter_settings_name_the_key(cal, fragment):
    with pytest.raises(ConfigError) as e:
        detector(**cal)
    assert fragment in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("raw, fragment", [
    ({"technology": "hpge", "backgrounds": [{"kind": "steady_state", "recoil_type": "heat_only"}]},
     "backgrounds[0].recoil_type = 'heat_only': only a calorimeter"),
    ({"technology": "calorimeter", "backgrounds": [{"kind": "steady_state", "spectrum": "lee", "e_min_kev": 0.01,
                                                    "rate_per_kev_kg_day": 5.0}]}, "takes rate_per_kg_day"),
    ({"technology": "calorimeter", "backgrounds": [{"kind": "steady_state", "spectrum": "lee", "e_min_kev": 0.0,
                                                    "rate_per_kg_day": 5.0}]}, "e_min_kev = 0.0"),
    ({"technology": "calorimeter", "backgrounds": [{"kind": "steady_state", "spectrum": "flat",
                                                    "rate_per_kg_day": 5.0}]}, "rate_per_kg_day is for spectrum"),
    ({"technology": "calorimeter", "backgrounds": [{"kind": "steady_state", "decay_days": -1.0}]},
     "decay_days = -1.0: must be >= 0"),
])
def test_bad_backgrounds_name_the_key(raw, fragment):
    with pytest.raises(ConfigError) as e:
        detector_from_dict(raw)
    assert fragment in str(e.value)


# --- reco: heat back to keVee and keVnr ----------------------------------------------------------------------------

def test_reco_inverts_the_luke_gain():
    from reco.energy import energy_kevee, kevnr_from_kevee

    det = load_detector("ricochet_cryocube")
    from detsim.config import to_dict

    d = to_dict(det)
    gcfg = {"target": {"material": "Ge"}}
    t = np.array([0.05, 0.2, 1.0, 5.0])
    # most abundant Ge isotope (74Ge) with the preset's Lindhard k = 0.157
    y = det.quenching.build().qf(t, 32, 74)
    e_ee = heat_kevee_of_recoil(t, y, det.calorimeter)
    np.testing.assert_allclose(e_ee, t * (1 + y * 4.0 / 3.0) / (1 + 4.0 / 3.0))
    np.testing.assert_allclose(kevnr_from_kevee(e_ee, d, gcfg), t, rtol=3e-3)
    # an electron recoil's heat reads back its own energy in keVee
    heat_ev = 2.0e3 * (1 + 4.0 / 3.0)
    assert energy_kevee({"e_heat_ev": np.array([heat_ev])}, {"detector": d})[0] == pytest.approx(2.0)
    # without bias (NUCLEUS) keVnr = keVee = the heat
    dn = to_dict(load_detector("nucleus_cawo4"))
    np.testing.assert_allclose(kevnr_from_kevee(t, dn, {"target": {"material": "CaWO4"}}), t, rtol=3e-3)


# --- presets end to end --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["nucleus_cawo4", "nucleus_al2o3", "ricochet_cryocube"])
def test_presets_run_end_to_end(name, tmp_path):
    from generator.config import load_config
    from reco.run import run_chain

    cfg = load_config(preset=name, overrides=["generator.n_events=2000", "generator.chunk_size=2000",
                                              "reco.template_events=3000", "reco.template_oversample=2",
                                              "reco.plots=false"])
    s = run_chain(cfg, tmp_path, threads=1, progress=False)
    assert s["expected_on"]["cevns"] > 0 and s["expected_on"]["ssb"] > 0
    assert np.isfinite(s["sigma_meas_over_sigma_sm"])
    assert s["on_minus_off"]["off"] > 0  # the reactor-OFF period carries the steady-state backgrounds
