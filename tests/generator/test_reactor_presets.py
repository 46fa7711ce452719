"""Reactor experiment presets (issue #18, item 4): dresden_ii_2022, conus_2024, texono, ngen, red100_kalinin, neon.

Each preset is a complete run configuration written by hand from its paper (every input cited in the TOML or tagged
[ASSUMED]). Its [recoil] efficiency table is the detector preset's threshold response in keVnr, and this file holds
the reference computation of that table (``EFFICIENCY``), so a table that no longer matches its detector preset
fails here. The predictions are compared with what each paper publishes: CONUS 2024 quotes its limit relative to
the SM rate, the others publish no SM count in the sources read (their tests are bounds and physical limits).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from functools import lru_cache

import numpy as np
import pytest
from scipy.stats import poisson

from detsim.config import load_detector
from generator._validate import ConfigError
from generator.cli import rate_main
from generator.config import load_config
from generator.experiment import Experiment
from generator.rates import expected_rates
from reco.config import reco_from_dict
from reco.run import detector_for_run
from tests.helpers import preset_builders_common, rate_json

REACTOR_PRESETS = ("dresden_ii_2022", "conus_2024", "texono", "ngen", "red100_kalinin", "neon")
EFF_FLOOR = 1e-4  # generation starts where the efficiency is below this (as the other experiment presets)


# --- the efficiency tables' reference computation ----------------------------------------------------------------


def hpge_efficiency(t_kevnr, detector: str, overrides=()):
    """Mass-weighted erf trigger turn-on of an HPGe detector preset vs keVnr (the experiment-preset builders'
    reference computation, as for conus_plus_2025): E = QF(T) T with the preset's quenching model (Z = 32),
    sum_i m_i/M Phi((E - thr_i) / s_i), s_i^2 = F eps E + sigma_pulser_i^2 + w_i^2."""
    return preset_builders_common().hpge_efficiency(np.asarray(t_kevnr, dtype=np.float64), detector, overrides)


def scintillator_efficiency(t_kevnr, detector: str, z: int = 11):
    """P(charge >= threshold_pe and >= 1 PE on each of two PMTs) for recoils on nuclei of charge z:
    n ~ Poisson(LY QF_z T), each PE on either PMT with probability 1/2 (coincidence 1 - 2 (1/2)^n).
    Afterglow, dark counts and SPE smearing are left out (they move the 15-PE threshold by < 0.2 PE)."""
    from detsim.scintillator.physics import mean_primary_pe

    sc = load_detector(detector).scintillator
    t = np.asarray(t_kevnr, dtype=np.float64)
    mu = mean_primary_pe(sc, sc.qf_by_z[str(z)] * t)
    n = np.arange(0, 400)
    coinc = np.where(n >= 1, 1.0 - 2.0 * 0.5 ** n, 0.0) if sc.photosensor.coincidence else np.ones(n.shape)
    keep = (n >= sc.threshold_pe) * coinc
    return poisson.pmf(n[None, :], mu[:, None]) @ keep


def xenon_s2_efficiency(t_kevnr, detector: str, drift_length_cm: float, n_depths: int = 200):
    """P(extracted electrons >= ceil(s2_threshold_pe / se_gain_pe)) for an S2-only analysis: N ~ Poisson(extraction x
    survival(z) x N_e(T)), N_e the NEST NR mean charge yield at the preset's field, survival exp(-t_drift/tau) averaged
    over a uniform depth in [0, drift_length_cm]. Recombination fluctuations beyond Poisson are left out."""
    from detsim.xenon.physics import nr_mean_yields

    xe = load_detector(detector).xenon
    t = np.asarray(t_kevnr, dtype=np.float64)
    ne, _, _ = nr_mean_yields(t, xe.drift_field_v_cm, xe.density_g_cm3, None, xe.nr_yield_params)
    n_min = math.ceil(xe.s2_threshold_pe / xe.se_gain_pe)
    depth = (np.arange(n_depths) + 0.5) / n_depths * drift_length_cm  # midpoint rule over the drift length
    survival = np.exp(-depth / xe.drift_velocity_cm_us / xe.electron_lifetime_us)
    mu = xe.extraction_efficiency * ne[:, None] * survival[None, :]
    return poisson.sf(n_min - 1, mu).mean(axis=1)


# preset -> (function, detector preset) of its [recoil] table
EFFICIENCY = {
    "dresden_ii_2022": (hpge_efficiency, "dresden_ii"),
    "conus_2024": (hpge_efficiency, "conus"),
    "texono": (hpge_efficiency, "texono"),
    "ngen": (hpge_efficiency, "ngen"),
    "red100_kalinin": (xenon_s2_efficiency, "red100"),
    "neon": (scintillator_efficiency, "neon"),
}


def reference_efficiency(name: str, t_kevnr):
    """The [recoil] efficiency of preset ``name`` at t_kevnr, computed from its detector preset (the xenon drift
    length is the preset's target height: the gate sits at its top)."""
    func, detector = EFFICIENCY[name]
    if func is xenon_s2_efficiency:
        return func(t_kevnr, detector, load_config(preset=name).target.geometry.height_cm)
    return func(t_kevnr, detector)


def generation_threshold(x, y, floor=EFF_FLOOR):
    """Highest grid point below which (and at which) the efficiency stays under ``floor``."""
    above = np.nonzero(np.asarray(y) >= floor)[0]
    return 0.0 if len(above) == 0 or above[0] == 0 else float(x[above[0] - 1])
def events(name: str, overrides=(), efficiency=True) -> float:
    """Expected events of preset ``name`` with ``--set`` overrides, from cevns-rate's function (cached)."""
    return _events(name, tuple(overrides), efficiency)


@lru_cache(maxsize=None)
def _events(name: str, overrides: tuple, efficiency: bool) -> float:
    cfg = load_config(preset=name, overrides=list(overrides))
    return expected_rates(Experiment.from_config(cfg), use_efficiency=efficiency).expected_events


def per_kg_day(name: str) -> float:
    cfg = load_config(preset=name)
    return rate_json(name)["expected_events"] / (cfg.target.mass_kg * cfg.exposure.live_days)


# --- every preset: source + target through cevns-rate, a valid cevns-run configuration ------------------------------


@pytest.mark.parametrize("name", REACTOR_PRESETS)
def test_preset_loads_and_rate_json(name):
    cfg = load_config(preset=name)
    assert cfg.name == name and cfg.description and cfg.source_kind == "reactor"
    d = rate_json(name)
    assert d["name"] == name and d["expected_events"] > 0
    assert sum(d["by_isotope"].values()) == pytest.approx(d["expected_events"])
    assert d["expected_events"] < events(name, efficiency=False)  # the efficiency only removes events


TECHNOLOGY = {"Ge": "hpge", "Xe": "xenon", "NaI": "scintillator"}


@pytest.mark.parametrize("name", REACTOR_PRESETS)
def test_preset_is_a_run_configuration(name):
    cfg = load_config(preset=name)
    det = detector_for_run(cfg)  # the [detector] table names an existing detector preset of the target's material
    assert det.name == cfg.detector["preset"] == EFFICIENCY[name][1]
    assert det.technology == TECHNOLOGY[cfg.target.material]
    assert det.target_material == cfg.target.material
    reco_from_dict(cfg.reco)


def test_presets_are_listed_under_reactor():
    from generator.cli import presets_by_source_kind

    assert set(REACTOR_PRESETS) <= set(presets_by_source_kind()["reactor"])


# --- the [recoil] tables are their detector presets' response -----------------------------------------------------


@pytest.mark.parametrize("name", REACTOR_PRESETS)
def test_efficiency_table_is_the_detector_response(name):
    cfg = load_config(preset=name)
    x, y = np.asarray(cfg.recoil.efficiency_kevnr), np.asarray(cfg.recoil.efficiency)
    ref = reference_efficiency(name, x)
    # the files keep 5 decimals (3 significant digits below 1e-3)
    assert np.allclose(y, ref, rtol=2e-3, atol=1e-5), f"{name}: the table differs from its detector preset"
    assert y.max() > 0.5 and y[-1] == pytest.approx(y.max(), abs=1e-3)  # the turn-on reaches its plateau
    falling = np.diff(y) < -1e-12
    if name == "dresden_ii_2022":
        # The Fef QF falls fast enough between ~1.1 and ~1.4 keVnr that E_ee = QF(T) T itself decreases there
        # (data/quenching/dresden2_fef_ybe.csv): the turn-on dips with it, nowhere else.
        assert np.all((x[1:][falling] > 1.1) & (x[1:][falling] < 1.45))
    else:
        assert not falling.any()  # a monotone turn-on
    # generation starts where the efficiency is still below EFF_FLOOR (the events it skips are negligible), or at 0
    # when the noise reaches even T = 0 (Dresden-II: 68.5 eVee, 2.9 sigma below its 0.2 keVee threshold)
    assert cfg.recoil.threshold_kevnr == pytest.approx(generation_threshold(x, y))
    assert cfg.recoil.threshold_kevnr == 0.0 or np.interp(cfg.recoil.threshold_kevnr, x, ref) < EFF_FLOOR


@pytest.mark.parametrize("name", ["texono", "red100_kalinin", "neon"])
def test_rate_lies_within_the_efficiency_bounds(name):
    # With T10 / T90 the energies where the efficiency crosses 10 % / 90 % and a monotone 0 <= eff <= 1:
    # 0.9 N(T > T90) <= N <= N(T > T10) + 0.1 [N(T > thr) - N(T > T10)], every N from cevns-rate without efficiency.
    cfg = load_config(preset=name)
    x, y = np.asarray(cfg.recoil.efficiency_kevnr), np.asarray(cfg.recoil.efficiency)
    t10, t90 = np.interp(0.1, y, x), np.interp(0.9, y, x)
    n = rate_json(name)["expected_events"]
    n_thr = events(name, efficiency=False)
    n10 = events(name, [f"recoil.threshold_kevnr={t10}"], efficiency=False)
    n90 = events(name, [f"recoil.threshold_kevnr={t90}"], efficiency=False)
    assert 0.9 * n90 <= n <= n10 + 0.1 * (n_thr - n10)


def test_neon_counts_only_sodium():
    # At 0.6 keVee (15 PE at 24 PE/keVee) an iodine recoil needs T > 0.6 / 0.05 = 12 keVnr, far above the 1.69 keVnr
    # a 10 MeV antineutrino can give it: the expected NEON events are sodium recoils. The sodium table applied to
    # iodine over-counts it (at 1.69 keVnr it gives 6 PE on average instead of 2), and even so iodine is < 1e-5 of
    # the expectation.
    d = rate_json("neon")
    na = sum(v for k, v in d["by_isotope"].items() if k.startswith("Na"))
    assert 1.0 - na / d["expected_events"] < 1e-5
    t_max_i = 2 * 10.0**2 / (126.9 * 931.494) * 1e3  # keVnr, 10 MeV on 127I
    assert scintillator_efficiency(np.array([t_max_i]), "neon", z=53)[0] < 1e-8  # iodine's own QF: nothing


# --- predictions vs the papers ------------------------------------------------------------------------------------


def _flux_from_zero(name):
    d = rate_json(name)
    # the papers quote whole-spectrum fluxes: ours must start at 0 MeV to be compared with them
    assert d["flux_range_mev"][0] == 0.0, f"{name}: the reactor spectrum starts at {d['flux_range_mev'][0]} MeV"
    return d["flux_cm2_s"]


def test_conus_2024_flux_vs_paper():
    # CONUS, PRL 133, 251801 (2024), arXiv:2401.07684 (abstract): "a reactor antineutrino flux of up to 2.3e13 cm-2
    # s-1" at 17.1 m from the 3.9 GW_th Brokdorf core (whole spectrum at full power).
    assert _flux_from_zero("conus_2024") == pytest.approx(2.3e13, rel=0.10)


def test_dresden_ii_2022_flux_vs_paper():
    # Dresden-II, PRL 129, 211802 (2022), arXiv:2202.09672: 4.8e13 antineutrinos / cm2 / s at the detector (the
    # figure quoted for it in review talks, INPUTS 12.5, and used by the public re-analyses with 2.924 kg).
    assert _flux_from_zero("dresden_ii_2022") == pytest.approx(4.8e13, rel=0.10)


def test_dresden_ii_2022_vs_public_reanalysis():
    # No SM count is in the Dresden-II abstract (PRL 129, 211802, arXiv:2202.09672). The public re-analysis code of
    # its data release (github.com/LeireLarizgoitia/Reactor_CEnuNS, Counts_SMN_Fef_YBe.txt at commit 46b6878)
    # [V-code] tabulates the SM CEvNS counts per 10 eVee bin and day above 0.2 keVee for the Dresden-II inputs
    # (2.924 kg, sigma_noise 68.5 eVee, fission fractions 0.58/0.29/0.08/0.05, 4.8e13 fission antineutrinos/cm2/s
    # over its 0-8 MeV per-antineutrino spectra): the bins sum [calc] to 119.25 /day with the Fef QF and 63.91 /day
    # with YBe, 11 496 and 6 161 events in 96.4 days. Its 4.8e13 counts fission antineutrinos only, so ours is scaled
    # to it with our fission-only flux (capture_per_fission = 0). Measured: -1.7 % (Fef), -6.5 % (YBe); the rest is
    # the spectra (Huber-Mueller vs its tables), Helm vs Klein-Nystrand, and its Jacobian through the Fef curve where
    # E_ee(T) is not monotone.
    d = json.loads(_rate_stdout(["--preset", "dresden_ii_2022", "--json", "--set", "source.capture_per_fission=0"]))
    assert d["flux_range_mev"][0] == 0.0  # the whole fission flux, as the re-analysis' 4.8e13
    scale = 4.8e13 / d["flux_cm2_s"]
    assert d["expected_events"] * scale == pytest.approx(119.25 * 96.4, rel=0.05)
    x = np.asarray(load_config(preset="dresden_ii_2022").recoil.efficiency_kevnr)
    y = hpge_efficiency(x, "dresden_ii", ["quenching.model=dresden_ybe"])
    ybe = events("dresden_ii_2022", ["source.capture_per_fission=0", "recoil.threshold_kevnr=0.0",
                                     "recoil.efficiency=[" + ", ".join(f"{v:.8g}" for v in y) + "]"])
    assert ybe * scale == pytest.approx(63.91 * 96.4, rel=0.10)


def test_neon_flux_vs_paper():
    # NEON, PoS NuFact2019 (2020) 047, DOI 10.22323/1.369.0047 (abstract): "2.8 GW of thermal power and 7.1e12
    # cm-2 s-1 of neutrino flux to the detector located at 24 m". It matches the fission antineutrinos alone (as
    # NUCLEUS's figure does, README "Reactor flux"): compared at 24 m without the 238U-capture component.
    _flux_from_zero("neon")
    d = json.loads(_rate_stdout(["--preset", "neon", "--json", "--set", "source.capture_per_fission=0",
                                 "--set", "source.distance_m=24.0"]))
    assert d["flux_cm2_s"] == pytest.approx(7.1e12, rel=0.10)


def _rate_stdout(argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = rate_main(argv)
    if code != 0:
        raise ConfigError(f"cevns-rate {' '.join(argv)} exited {code}")
    return out.getvalue()


@pytest.mark.xfail(strict=True, reason="CONUS 2024: our SM rate is 0.68 /(kg d) at the 210 eVee threshold, 3.2x the "
                   "paper's ~0.21 (0.34 / 1.6); the paper's per-detector thresholds and signal acceptance near "
                   "threshold, on which the rate depends steeply, were not readable (README, Experiments)")
def test_conus_2024_rate_vs_paper():
    # CONUS, PRL 133, 251801 (2024), arXiv:2401.07684 (abstract): the limit "< 0.34 signal events kg-1 d-1" is
    # "within a factor 2 of the rate predicted by the standard model", i.e. the SM rate lies in [0.17, 0.34] / (kg d)
    # (a review talk quotes the limit as 1.6 x SM: 0.21 / (kg d), INPUTS 12.5).
    assert 0.34 / 2 <= per_kg_day("conus_2024") <= 0.34


def test_conus_2024_threshold_sensitivity_explains_the_offset():
    # The explanation given in the README for the xfail above, checked: with a sharp cut instead of the preset's
    # resolution-smeared turn-on (which adds a factor ~1.5: events below 210 eVee smeared above it), the rate at
    # 210 eVee is still above the paper's band, and a cut 25 eVee higher (0.235 keVee = 1.28 keVnr at Lindhard
    # k = 0.162) brings it inside: a 12 % threshold shift halves the rate.
    from scipy.optimize import brentq

    from detsim.quenching import lindhard_qf

    exposure = 3.7 * 100.0

    def sharp(thr_kevee):
        t = brentq(lambda t: lindhard_qf(t, 32, 0.162) * t - thr_kevee, 0.1, 5.0)
        ov = [f"recoil.threshold_kevnr={t}", "recoil.efficiency_kevnr=[0.0, 100.0]", "recoil.efficiency=[1.0, 1.0]"]
        return events("conus_2024", ov) / exposure

    assert sharp(0.210) > 0.34
    assert 0.17 <= sharp(0.235) <= 0.34
    assert sharp(0.210) / sharp(0.235) > 1.8
    assert 1.3 < per_kg_day("conus_2024") / sharp(0.210) < 1.8  # the smearing of the preset's turn-on
    # The factor left unexplained, as a flat signal acceptance on top of the preset's turn-on: 0.21 / 0.677 = 0.32
    # (SM = 0.34 / 1.6, the review talk's ratio). Not from PSD alone: its bulk acceptance is 0.9 (arXiv:2308.12105).
    assert 0.25 < (0.34 / 1.6) / per_kg_day("conus_2024") < 0.4


def test_ricochet_rate_above_50_evnr_vs_paper():
    # Ricochet, EPJC 84, 186 (2024), arXiv:2306.00166: ~12.8 CEvNS events / kg / day in Ge above 50 eV recoil
    # energy, 8.8 m from the 58 MW ILL core. Ours: 11.8 (-8 %); the paper's spectrum inputs were not read, and an
    # HEU core's 235U spectrum at 10-15 % normalisation uncertainty covers the difference.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert rate_main(["--preset", "ricochet_cryocube", "--set", "recoil.threshold_kevnr=0.05", "--no-efficiency",
                          "--json"]) == 0
    d = json.loads(out.getvalue())
    per_kg_day = d["expected_events"] / (d["exposure"]["mass_kg"] * d["exposure"]["live_days"])
    assert per_kg_day == pytest.approx(12.8, rel=0.15)
