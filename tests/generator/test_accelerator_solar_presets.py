"""Accelerator and solar experiment presets of issue #18 (ccm, ess_10kg, csns, pandax4t_b8_2024[_us2]) and
`--list-presets` grouped by source kind.

Each preset is compared with the number its source publishes (cited in the test); where a source publishes none
or an input could not be read, the test checks what can be checked without it (flux normalisation, rigorous
bounds) and says so. Nothing here is tuned to the papers: the presets' inputs are in their TOML with tags.
"""

from __future__ import annotations

import contextlib
import io
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from generator.cli import PRESET_GROUPS, presets_by_source_kind, rate_main
from generator.config import load_config
from generator.experiment import Experiment
from generator.rates import expected_rates
from reco.config import reco_from_dict
from reco.run import detector_for_run, run_chain

ROOT = Path(__file__).resolve().parents[2]
NEW = ("ccm", "ess_10kg", "csns", "pandax4t_b8_2024", "pandax4t_b8_2024_us2")
B8_SNO_CM2_S = 5.25e6  # the presets' 8B flux (SNO, PRC 88, 025501 (2013))


def _stdout(argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert rate_main(argv) == 0
    return out.getvalue()


@lru_cache(maxsize=None)
def rate_json(name: str, *overrides: str) -> dict:
    """`cevns-rate --preset NAME [--set ...] --json`, in process."""
    argv = ["--preset", name, "--json"]
    for o in overrides:
        argv += ["--set", o]
    return json.loads(_stdout(argv))


def events(name: str, *overrides: str, use_efficiency: bool = True) -> float:
    cfg = load_config(preset=name, overrides=list(overrides))
    return expected_rates(Experiment.from_config(cfg), use_efficiency=use_efficiency).expected_events


# --- every new preset: cevns-rate works, and it is a valid cevns-run configuration --------------------------------


@pytest.mark.parametrize("name", NEW)
def test_preset_rate_and_run_configuration(name):
    cfg = load_config(preset=name)
    assert cfg.name == name and cfg.description
    d = rate_json(name)
    assert d["name"] == name and d["expected_events"] > 0
    assert sum(d["by_isotope"].values()) == pytest.approx(d["expected_events"])
    det = detector_for_run(cfg)  # the [detector] table names an existing detector preset
    assert det.name == cfg.detector["preset"]
    assert "BACKGROUNDS:" in (ROOT / "data" / "presets" / f"{name}.toml").read_text()
    if name.startswith("pandax4t"):  # the paper's expected background counts (tests/reco/test_accelerator_solar_...)
        assert len(det.backgrounds) == 1 and reco_from_dict(cfg.reco).backgrounds_published is True
        return
    # no background rates were readable for these experiments: none is invented, and no significance is quoted
    assert det.backgrounds in ((), [])
    assert reco_from_dict(cfg.reco).backgrounds_published is False


def test_pandax_preset_runs_end_to_end(tmp_path):
    """`cevns-run --preset pandax4t_b8_2024` (generate -> detsim -> reco), with few events."""
    cfg = load_config(preset="pandax4t_b8_2024", overrides=[
        "generator.n_events=2000", "generator.chunk_size=2000", "reco.template_events=2000"])
    run_chain(cfg, tmp_path, threads=1, progress=False)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["expected_on"]  # the run's expectation is written
    assert (tmp_path / "reco.h5").exists()


# --- cevns-rate --list-presets groups the presets by source kind --------------------------------------------------


def test_list_presets_grouped_by_source_kind():
    text = _stdout(["--list-presets"])
    blocks = {b.splitlines()[0].rstrip(":"): b.splitlines()[1:] for b in text.strip().split("\n\n")}
    headings = [h for h, _ in PRESET_GROUPS]
    assert list(blocks) == [h for h in headings if h in blocks]  # printed in the fixed order
    listed = {line.split()[0]: h for h, lines in blocks.items() for line in lines}
    groups = presets_by_source_kind()
    assert listed == {n: h for h, g in groups.items() for n in g}  # every preset printed once, under its group
    # the group is the validated configuration's source kind, whatever the name says (checked on presets of every
    # kind; presets other sessions are adding may not load yet, so not on all of them)
    group_of_kind = {"pion_dar": "pion DAR", "reactor": "reactor", "solar": "solar"}
    for name in (*NEW, "coherent_csi_2022", "sns_csi", "reactor_ge", "conus_plus_2025", "xenonnt_b8_2024",
                 "solar_xe", "mono_recoil_xe", "flat_recoil_xe"):
        assert listed[name] == group_of_kind.get(load_config(preset=name).source_kind, "other"), name
    for name in ("ccm", "ess_10kg", "csns", "coherent_csi_2022", "coherent_lar_2020"):
        assert listed[name] == "pion DAR"
    for name in ("pandax4t_b8_2024", "pandax4t_b8_2024_us2", "xenonnt_b8_2024", "solar_xe"):
        assert listed[name] == "solar"
    assert listed["conus_plus_2025"] == "reactor" and listed["mono_recoil_xe"] == "other"


# --- ccm -------------------------------------------------------------------------------------------------------------


def test_ccm_facility_and_exposure():
    # LANSCE Lujan: 800 MeV, ~100 kW, 20 Hz, 290 ns pulse (CCM seminar abstract, indico.slac.stanford.edu/event/8970;
    # INPUTS 4.4); 2.25e22 POT in the 3-year run. 2.25e22 x 0.8 GeV = 0.8011 GWh, 333.8 days at 100 kW.
    e = rate_json("ccm")["exposure"]
    assert e["protons_on_target"] == pytest.approx(2.25e22)
    assert e["beam_energy_gwh"] == pytest.approx(2.25e22 * 0.8 * 1.602176634e-10 / 3.6e12, rel=1e-9)
    assert e["live_days"] == pytest.approx(2.25e22 * 0.8 * 1.602176634e-10 / 1e5 / 86400, rel=1e-9)
    src = Experiment.from_config(load_config(preset="ccm")).source
    assert src.rep_rate_hz == 20.0
    assert 2.3548 * src.pulse.sigma_ns == pytest.approx(290.0, rel=2e-3)  # Gaussian FWHM


def test_ccm_flux_normalisation_against_coherent_lar():
    # No CCM CEvNS count was readable (preset header). What must hold: both presets are pi-DAR on natural argon, so
    # without threshold and efficiency their counts scale exactly as r x POT x mass / L^2 (the COHERENT LAr preset:
    # 0.09 nu/POT/flavour, 13.8e22 POT, 24.4 kg, 27.5 m; PRL 126, 012002 (2021) and its data release).
    off = ("recoil.threshold_kevnr=0.0",)
    ccm = events("ccm", *off, use_efficiency=False)
    lar = events("coherent_lar_2020", *off, use_efficiency=False)
    scale = (0.05 * 2.25e22 * 7000.0 / 23.0**2) / (0.09 * 13.8e22 * 24.4 / 27.5**2)
    assert ccm / lar == pytest.approx(scale, rel=1e-6)
    # the 50 keVnr threshold keeps only the upper end of the argon recoil spectrum (which ends near 150 keVnr)
    kept = rate_json("ccm")["expected_events"] / ccm
    assert 0.05 < kept < 0.5


# --- ess_10kg ----------------------------------------------------------------------------------------------------------


def test_ess_cryogenic_csi_vs_esscevns():
    # ERC project ESSCEvNS (CORDIS 101055120, project abstract): seven cryogenic undoped CsI crystals "adding up to
    # just 32 kg" give "about 12 000 CEvNS events per year" at the ESS. Ours: the 10 kg preset (one ESS year, 1 keVnr)
    # scaled to 32 kg. Tolerance 10 % ("about"; the threshold behind the 12 000 was not read).
    n32 = rate_json("ess_10kg")["expected_events"] * 32.0 / 10.0
    assert abs(n32 - 12000.0) < 0.10 * 12000.0


def test_ess_xenon_gas_vs_ganess():
    # ERC project GanESS (CORDIS 101039048, project abstract): a 20 kg high-pressure xenon gas TPC at the ESS gives
    # "more than 7,000 CEvNS events per year". Ours: the same beam and year with 20 kg Xe above 1 keVnr, which must
    # exceed 7000 and cannot exceed the count with no threshold at all.
    xe = ("target.material=Xe", "target.mass_kg=20.0")
    n = events("ess_10kg", *xe)
    n0 = events("ess_10kg", *xe, "recoil.threshold_kevnr=0.0")
    assert 7000.0 < n <= n0


def test_ess_beam_year():
    # 5 MW, 2 GeV, 5000 h of beam (Baxter et al., JHEP 02 (2020) 123, arXiv:1911.00762 [UNVERIFIED]): 2.81e23 POT.
    e = rate_json("ess_10kg")["exposure"]
    assert e["protons_on_target"] == pytest.approx(5e6 * 5000 * 3600 / (2e9 * 1.602176634e-19), rel=1e-4)
    # the 2.86 ms flat pulse lies inside the beam window: everything is in the window
    d = rate_json("ess_10kg")
    assert d["expected_events_in_window"] == pytest.approx(d["expected_events"], rel=1e-5)


# --- csns --------------------------------------------------------------------------------------------------------------

CSNS_RATE_PER_KG_DAY = 0.074      # CLOVERS, arXiv:2303.13423 (abstract)
COHERENT_RATE_PER_KG_DAY = 0.053  # the same abstract's figure for COHERENT


def _per_kg_day(name: str, *overrides: str, use_efficiency: bool = True) -> float:
    cfg = load_config(preset=name, overrides=list(overrides))
    n = expected_rates(Experiment.from_config(cfg), use_efficiency=use_efficiency).expected_events
    live = rate_json(name, *overrides)["exposure"]["live_days"]
    return n / cfg.target.mass_kg / live


def test_csns_flux_is_the_papers():
    # CLOVERS (Su, Liu, Liang, Phys. Sci. Forum 8 (2023) 19, arXiv:2303.13423): "a neutrino flux 60% weaker than the
    # COHERENT experiment", i.e. 0.4 x 4.3e7 /cm2/s (COHERENT at 20 m, Science 357, 1123 (2017) [UNVERIFIED figure]).
    assert rate_json("csns")["flux_cm2_s"] == pytest.approx(0.4 * 4.3e7, rel=1e-3)
    # the 4.3e7 agrees within 2 % with this package's COHERENT 2017 flux at nominal power scaled to 20 m
    d = rate_json("coherent_csi_2017")
    e = d["exposure"]
    nominal = d["flux_cm2_s"] * e["live_days"] / e["live_days_at_nominal_power"] * (e["distance_m"] / 20.0) ** 2
    assert nominal == pytest.approx(4.3e7, rel=0.02)


def test_csns_rate_vs_clovers():
    # CLOVERS abstract: 0.074 CEvNS /day/kg expected in undoped CsI at 77 K. Their light yield and threshold were not
    # read; the preset borrows the CryoCsI turn-on (50 % near 1.8 keVnr) and gives ~0.101 (+37 %): in this package
    # 0.074 corresponds to a sharp threshold near 3.9 keVnr. Tolerance 40 % for that unknown threshold; a rigorous
    # bound too: at the paper's flux no threshold can give more than every recoil.
    ours = _per_kg_day("csns")
    assert abs(ours - CSNS_RATE_PER_KG_DAY) < 0.40 * CSNS_RATE_PER_KG_DAY
    assert _per_kg_day("csns", "recoil.threshold_kevnr=0.0", use_efficiency=False) > CSNS_RATE_PER_KG_DAY


def test_csns_reference_coherent_rate():
    # The same abstract quotes 0.053 /day/kg for COHERENT: the CsI[Na] first-observation prediction (173 events,
    # Science 357, 1123 (2017)) per kg (14.57) per day of 1.4 MW beam (7.48 GWh / 1.4 MW = 222.6 d) is 0.0533. Ours
    # (the coherent_csi_2017 preset, 194 events in the window, 223.1 d at 1.4 MW) is 0.060, +13 % as in the README's
    # preset table. (Per day of the 308.1 live days, at the lower average power, it would be 0.043.)
    d = rate_json("coherent_csi_2017")
    ours = d["expected_events_in_window"] / 14.57 / d["exposure"]["live_days_at_nominal_power"]
    assert ours == pytest.approx(0.0597, rel=0.01)
    assert abs(ours - COHERENT_RATE_PER_KG_DAY) < 0.20 * COHERENT_RATE_PER_KG_DAY


# --- pandax4t_b8_2024 ----------------------------------------------------------------------------------------------------

# PandaX-4T, PRL 133, 191001 (2024), arXiv:2407.10892 (abstract): paired 1.20 t yr above ~1.1 keVnr, US2 1.04 t yr
# above ~0.33 keVnr; best-fit 8B signal 3.5 (paired) and 75 (US2) events, ~37 % uncertainty, for a measured flux of
# (8.4 +- 3.1)e6 /cm2/s. At the SNO flux the expectation is the best fit scaled by 5.25 / 8.4.
PANDAX = {"pandax4t_b8_2024": (1.20, 1.1, 3.5), "pandax4t_b8_2024_us2": (1.04, 0.33, 75.0)}


@pytest.mark.parametrize("name", PANDAX)
def test_pandax_exposure_and_threshold(name):
    exposure_t_yr, threshold_kevnr, _ = PANDAX[name]
    cfg = load_config(preset=name)
    assert cfg.target.mass_kg / 1000.0 * cfg.exposure.live_days / 365.25 == pytest.approx(exposure_t_yr, rel=1e-4)
    assert cfg.recoil.threshold_kevnr == threshold_kevnr
    assert cfg.source.b8_flux_cm2_s == B8_SNO_CM2_S


@pytest.mark.parametrize("name", PANDAX)
def test_pandax_upper_bound_on_the_papers_expectation(name):
    # The presets carry no efficiency (the paper's curves were not readable; preset header), so cevns-rate counts
    # every recoil above the published threshold: an upper bound on the paper's SM expectation, which must hold.
    # The bound is far from tight (paired ~92 vs 2.19, US2 ~481 vs 46.9): the selections keep ~2 % and ~10 % of the
    # recoils above threshold -- the README says so.
    _, _, best_fit = PANDAX[name]
    sm_expected = best_fit * B8_SNO_CM2_S / 8.4e6
    n = rate_json(name)["expected_events"]
    assert n > sm_expected
    # the count is the 8B flux times the recoil rate: scaling the flux to the paper's best fit scales it exactly
    scaled = events(name, "source.b8_flux_cm2_s=8.4e6")
    assert scaled / n == pytest.approx(8.4e6 / B8_SNO_CM2_S, rel=1e-9)


def test_pandax_threshold_ordering():
    # Per tonne-year, the 0.33 keVnr US2 threshold sees several times the 8B recoils of the 1.1 keVnr paired one: the
    # xenon recoil spectrum of 8B neutrinos falls steeply from 0 to its end near 4 keVnr (2 E^2 / M at 16 MeV).
    paired = rate_json("pandax4t_b8_2024")["expected_events"] / 1.20
    us2 = rate_json("pandax4t_b8_2024_us2")["expected_events"] / 1.04
    assert us2 > 3.0 * paired
