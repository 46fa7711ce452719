"""Backgrounds in the detsim stream: counts, spectra, timing, source-off periods, reproducibility."""

import numpy as np
import pytest
from scipy import stats

from detsim.config import load_detector
from detsim.simulate import simulate_detector
from generator._validate import ConfigError
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate

SS = {"kind": "steady_state", "recoil_type": "er", "e_min_kev": 0.1, "e_max_kev": 5.0, "rate_per_kev_kg_day": 2.0}


def with_backgrounds(preset, backgrounds, off_days=0.0):
    det = load_detector(preset)
    from detsim.config import detector_from_dict, to_dict

    raw = to_dict(det)
    raw["backgrounds"] = backgrounds
    raw["source_off_live_days"] = off_days
    return detector_from_dict(raw)


@pytest.fixture(scope="module")
def reactor(tmp_path_factory):
    d = tmp_path_factory.mktemp("bg")
    gen = d / "gen.h5"
    cfg = load_config(preset="reactor_ge", overrides=["generator.chunk_size=10000", "recoil.threshold_kevnr=0.3"])
    generate(cfg, gen, n_events=30_000, progress=False)
    return d, gen


def test_steady_state_counts_spectrum_and_off_periods(reactor):
    d, gen = reactor
    det = with_backgrounds("conus_plus", [SS], off_days=50.0)
    meta = simulate_detector(gen, d / "ss.h5", det, progress=False)
    c, _ = EventReader(d / "ss.h5").read()
    bg = c["origin"] == 1
    exp = meta["expected_background_events"][0]
    # 2 dru x 4.9 keV x 1 kg x 100 days ON, 50 days OFF
    assert exp["source_on"] == pytest.approx(2.0 * 4.9 * 1.0 * 100.0)
    assert exp["source_off"] == pytest.approx(2.0 * 4.9 * 50.0)
    n_on = np.count_nonzero(bg & c["source_on"])
    n_off = np.count_nonzero(bg & ~c["source_on"])
    assert abs(n_on - exp["source_on"]) < 4 * np.sqrt(exp["source_on"])
    assert abs(n_off - exp["source_off"]) < 4 * np.sqrt(exp["source_off"])
    assert stats.kstest((c["t_nr_kev"][bg] - 0.1) / 4.9, "uniform").pvalue > 1e-3
    # Electron recoils are not quenched; CEvNS recoils are.
    assert np.allclose(c["e_ion_kevee"][bg], c["t_nr_kev"][bg])
    cev = c["origin"] == 0
    assert np.all(c["e_ion_kevee"][cev] < 0.3 * c["t_nr_kev"][cev])
    assert np.all(c["source_on"][cev]) and np.all(c["event_id"][bg] < 0)
    assert np.all(c["weight"][bg] == 1.0)


def test_off_scale_changes_only_the_source_off_rate(reactor):
    # CONUS+ (Nature 643, 1229, Methods): during the outage the drywell head cuts the cosmogenic neutrons by 19 %
    d, gen = reactor
    det = with_backgrounds("conus_plus", [{**SS, "off_scale": 0.81}], off_days=50.0)
    meta = simulate_detector(gen, d / "ss_off.h5", det, progress=False)
    c, _ = EventReader(d / "ss_off.h5").read()
    bg = c["origin"] == 1
    exp = meta["expected_background_events"][0]
    assert exp["source_on"] == pytest.approx(2.0 * 4.9 * 100.0)
    assert exp["source_off"] == pytest.approx(0.81 * 2.0 * 4.9 * 50.0)
    n_off = np.count_nonzero(bg & ~c["source_on"])
    assert abs(n_off - exp["source_off"]) < 4 * np.sqrt(exp["source_off"])
    # the source-on events do not depend on the source-off model (every ON part is drawn first)
    two = [SS, {**SS, "e_min_kev": 1.0, "rate_per_kev_kg_day": 1.0}]
    ons = []
    for scale in (1.0, 0.5):
        det2 = with_backgrounds("conus_plus", [{**two[0], "off_scale": scale}, two[1]], off_days=50.0)
        simulate_detector(gen, d / f"two_{scale}.h5", det2, progress=False)
        c2, _ = EventReader(d / f"two_{scale}.h5").read()
        ons.append(np.sort(c2["t_nr_kev"][(c2["origin"] == 1) & c2["source_on"]]))
    np.testing.assert_array_equal(ons[0], ons[1])
    with pytest.raises(ConfigError, match="off_scale"):
        with_backgrounds("conus_plus", [{"kind": "brn", "rate_per_pulse": 1e-6, "off_scale": 0.5}])


def test_beam_backgrounds_timing(tmp_path):
    gen = tmp_path / "sns.h5"
    cfg = load_config(preset="sns_csi", overrides=["target.material=Ge", "target.mass_kg=10",
                                                   "generator.chunk_size=10000"])
    gm = generate(cfg, gen, n_events=20_000, progress=False)
    det = with_backgrounds("coherent_ge_mini", [
        {"kind": "brn", "recoil_type": "nr", "spectrum": "exponential", "e_min_kev": 1.0, "e_max_kev": 100.0,
         "slope_kev": 20.0, "rate_per_pulse": 2e-7, "time_mean_ns": 100.0, "time_sigma_ns": 150.0},
        {"kind": "nin", "recoil_type": "nr", "spectrum": "exponential", "e_min_kev": 1.0, "e_max_kev": 50.0,
         "slope_kev": 10.0, "rate_per_pulse": 1e-7},
        dict(SS, rate_per_kev_kg_day=5.0)])
    meta = simulate_detector(gen, tmp_path / "d.h5", det, progress=False)
    c, _ = EventReader(tmp_path / "d.h5").read()
    brn, nin, ss = (c["origin"] == k for k in (2, 3, 1))
    exp = {e["kind"]: e["source_on"] for e in meta["expected_background_events"]}
    assert exp["brn"] == pytest.approx(2e-7 * gm["n_pulses"])
    for sel, key in ((brn, "brn"), (nin, "nin"), (ss, "steady_state")):
        assert abs(sel.sum() - exp[key]) < 4 * np.sqrt(exp[key]) + 1
    assert stats.kstest(c["time_ns"][brn], stats.norm(100.0, 150.0).cdf).pvalue > 1e-3
    # NIN follow the delayed neutrinos: mean 26 + 2197 ns, spread ~ the muon lifetime
    assert np.mean(c["time_ns"][nin]) == pytest.approx(26.0 + 2197.0, abs=4 * 2200 / np.sqrt(nin.sum()))
    # Steady state is uniform over the span of the two windows: on and off see it equally.
    t = det.timing
    assert c["off_beam"][ss].sum() == pytest.approx(c["on_beam"][ss].sum(), abs=5 * np.sqrt(c["on_beam"][ss].sum()))
    lo = min(t.on_start_ns, t.off_start_ns)
    assert c["time_ns"][ss].min() >= lo
    assert stats.kstest(c["t_nr_kev"][brn], stats.truncexpon(99.0 / 20.0, loc=1.0, scale=20.0).cdf).pvalue > 1e-3


def test_backgrounds_reproducible_over_job_splits(tmp_path):
    cfg = load_config(preset="reactor_ge", overrides=["generator.chunk_size=10000"])
    det = with_backgrounds("conus_plus", [SS], off_days=20.0)
    generate(cfg, tmp_path / "all.h5", n_events=20_000, progress=False)
    simulate_detector(tmp_path / "all.h5", tmp_path / "all_d.h5", det, progress=False)
    parts = []
    for a in (0, 1):
        generate(cfg, tmp_path / f"g{a}.h5", n_events=20_000, chunks=(a, a + 1), progress=False)
        simulate_detector(tmp_path / f"g{a}.h5", tmp_path / f"d{a}.h5", det, progress=False)
        parts.append(EventReader(tmp_path / f"d{a}.h5").read()[0])
    whole = EventReader(tmp_path / "all_d.h5").read()[0]
    for k in whole:
        np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), whole[k])


def test_beam_background_on_reactor_is_refused(reactor):
    d, gen = reactor
    det = with_backgrounds("conus_plus", [{"kind": "brn", "recoil_type": "nr", "rate_per_pulse": 1e-6}])
    from generator._validate import ConfigError

    with pytest.raises(ConfigError, match="needs a pulsed"):
        simulate_detector(gen, d / "x.h5", det, progress=False)
    assert not (d / "x.h5").exists()


def test_bad_background_config():
    from generator._validate import ConfigError

    with pytest.raises(ConfigError, match="rate_per_pulse applies to brn and nin"):
        with_backgrounds("conus_plus", [dict(SS, rate_per_pulse=1.0)])
    with pytest.raises(ConfigError, match="allowed values are 'steady_state'"):
        with_backgrounds("conus_plus", [dict(SS, kind="muons")])
