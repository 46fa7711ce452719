"""Neutrino sources: spectra, normalisations, exposures."""

import numpy as np
import pytest
from scipy.integrate import quad

from generator.constants import M_MUON_MEV
from generator.sources.pion_dar import (
    michel_anti_numu_pdf,
    michel_nue_pdf,
    pion_dar_source,
    protons_on_target,
)
from generator.sources.reactor import huber_mueller, reactor_source, spectrum_per_fission
from generator.sources.table import read_spectrum_table, table_source


@pytest.mark.parametrize("pdf, mean_over_mmu", [(michel_nue_pdf, 0.30), (michel_anti_numu_pdf, 0.35)])
def test_michel_spectra_normalised_with_analytic_means(pdf, mean_over_mmu):
    # Means: int x f = 192 (1/128 - 1/160) = 0.30 and 64 (3/256 - 1/160) = 0.35 in units of m_mu.
    end = M_MUON_MEV / 2
    assert quad(pdf, 0, end)[0] == pytest.approx(1.0, rel=1e-10)
    assert quad(lambda e: e * pdf(e), 0, end)[0] == pytest.approx(mean_over_mmu * M_MUON_MEV, rel=1e-10)
    assert pdf(end + 1e-9) == 0


def test_michel_endpoints():
    end = M_MUON_MEV / 2  # 52.83 MeV
    assert end == pytest.approx(52.83, abs=0.01)
    assert michel_nue_pdf(end) == pytest.approx(0.0, abs=1e-15)  # nu_e vanishes at the endpoint
    assert michel_anti_numu_pdf(end) == pytest.approx(4.0 / M_MUON_MEV)  # anti-nu_mu does not
    # The anti-nu_mu spectrum rises monotonically to the endpoint; nu_e peaks at x = 1/3, E = m_mu/3.
    e = np.linspace(1, end, 500)
    assert np.all(np.diff(michel_anti_numu_pdf(e)) > 0)
    assert e[np.argmax(michel_nue_pdf(e))] == pytest.approx(M_MUON_MEV / 3, abs=0.1)


def test_pot_from_beam_energy():
    # 1 GWh at 1 GeV per proton = 2.247e22 POT; 7.48 GWh at 0.955 GeV = 1.76e23 (COHERENT CsI 2017).
    assert protons_on_target(beam_energy_gwh=1.0, proton_energy_gev=1.0) == pytest.approx(2.247e22, rel=1e-3)
    assert protons_on_target(beam_energy_gwh=7.48, proton_energy_gev=0.955) == pytest.approx(1.76e23, rel=2e-3)
    assert protons_on_target(beam_power_mw=1.0, live_time_s=3600e3, proton_energy_gev=1.0) == pytest.approx(
        2.247e22, rel=1e-3)


def test_pion_dar_fluence_and_components():
    src = pion_dar_source(facility="sns", distance_m=20.0, protons=1e23, nu_per_proton_per_flavour=0.08)
    names = [c.name for c in src.components]
    assert names == ["prompt_nu_mu", "delayed_nu_e", "delayed_anti_nu_mu"]
    assert [c.nu_pdg for c in src.components] == [14, 12, -14]
    expected = 0.08 * 1e23 / (4 * np.pi * 2000.0**2)
    for c in src.components:
        assert c.fluence_cm2 == pytest.approx(expected)
    assert src.components[0].line_mev == pytest.approx(29.79, abs=0.01)
    assert src.rep_rate_hz == 60.0 and src.pulsed
    # Tabulated Michel spectra keep their analytic means to high accuracy.
    assert src.components[1].mean_energy_mev() == pytest.approx(0.30 * M_MUON_MEV, rel=1e-5)
    assert src.components[2].mean_energy_mev() == pytest.approx(0.35 * M_MUON_MEV, rel=1e-5)
    # Live time implied by POT at 1.4 MW and 1 GeV.
    assert src.live_time_s == pytest.approx(1e23 * 1.602176634e-10 / 1.4e6, rel=1e-9)
    assert src.n_pulses == round(src.live_time_s * 60)


def test_other_facilities_need_a_yield():
    with pytest.raises(ValueError, match="nu_per_proton_per_flavour"):
        pion_dar_source(facility="ess", distance_m=20.0, protons=1e23)
    src = pion_dar_source(facility="ess", distance_m=20.0, protons=1e23, nu_per_proton_per_flavour=0.3)
    assert src.rep_rate_hz == 14.0 and src.pulse.kind == "flat"


@pytest.mark.parametrize("iso", ["u235", "u238", "pu239", "pu241"])
@pytest.mark.parametrize("low_energy", ["vogel_engel", "conflux"])
def test_reactor_low_energy_joins_huber_mueller(iso, low_energy):
    e = np.array([1.999999, 2.0, 2.000001])
    s = spectrum_per_fission(e, iso, low_energy=low_energy)
    assert s[0] == pytest.approx(s[2], rel=1e-4)
    assert s[1] == pytest.approx(float(huber_mueller(2.0, iso)))
    assert spectrum_per_fission(0.5, iso, low_energy=low_energy, e_min_mev=1.0) == 0  # below e_min
    assert spectrum_per_fission(0.5, iso, low_energy=low_energy) > 0  # default e_min_mev = 0
    assert spectrum_per_fission(1.5, iso, low_energy="none") == 0


@pytest.mark.parametrize("low_energy, e_min_mev", [("vogel_engel", 1.0), ("conflux", 0.0)])
def test_reactor_fission_rate_and_flux(low_energy, e_min_mev):
    src = reactor_source(thermal_power_gw=3.0, distance_m=10.0, live_days=1.0, fission_fractions={"u235": 1.0},
                         low_energy=low_energy, e_min_mev=e_min_mev, capture_per_fission=0.0)
    # 3 GW / 202.36 MeV per fission (Ma et al. 2013) = 9.25e19 fissions/s.
    assert src.exposure["fission_rate_s"] == pytest.approx(3e9 / (202.36 * 1.602176634e-13), rel=1e-9)
    (comp,) = src.components
    e = np.linspace(e_min_mev, 10.0, 20001)
    nu_per_fission = np.trapezoid(spectrum_per_fission(e, "u235", low_energy=low_energy, e_min_mev=e_min_mev), e)
    assert comp.flux_cm2_s == pytest.approx(src.exposure["fission_rate_s"] * nu_per_fission
                                            / (4 * np.pi * 1000.0**2), rel=1e-5)
    assert comp.fluence_cm2 == pytest.approx(comp.flux_cm2_s * 86400)
    assert comp.nu_pdg == -12


def test_table_source_round_trip(tmp_path):
    f = tmp_path / "flux.csv"
    e = np.linspace(1, 11, 101)
    phi = 1e6 * np.exp(-e)
    f.write_text("# test flux\nenu_mev,flux\n" + "\n".join(f"{a},{b}" for a, b in zip(e, phi)))
    src = table_source(file=f, nu_pdg=12, live_days=2.0)
    (c,) = src.components
    assert c.flux_cm2_s == pytest.approx(np.trapezoid(phi, e))
    assert c.fluence_cm2 == pytest.approx(c.flux_cm2_s * 2 * 86400)


@pytest.mark.parametrize("content, message", [
    ("enu_mev,flux\n1,2\n", "at least 2 rows"),
    ("enu_mev,flux\n1,2\n0.5,3\n", "strictly increasing"),
    ("enu_mev,flux\n1,2\n2,-3\n", ">= 0"),
    ("enu_mev,flux\n1,2\n2,abc\n", "cannot read numbers"),
    ("enu_mev,flux\n1\n2\n", "expected 2 columns"),
])
def test_malformed_tables(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_spectrum_table(f)


# Huber-Mueller IBD yields per fission, 1e-43 cm^2/fission, as quoted by Daya Bay (An et al., PRL 118,
# 251801 (2017), arXiv:1704.01082; read in two public analysis codes, 241Pu given as 6.04 and 6.05).
HM_IBD_YIELDS = {"u235": 6.69, "u238": 10.10, "pu239": 4.36, "pu241": 6.05}


@pytest.mark.parametrize("iso", sorted(HM_IBD_YIELDS))
def test_huber_mueller_ibd_yields(iso):
    # Zeroth-order IBD cross section (Vogel & Beacom, PRD 60, 053003 (1999)):
    # sigma = 0.0952e-42 cm^2 E_e p_e / MeV^2, E_e = E_nu - 1.293 MeV. The published yields use the
    # first-order cross section and small corrections, hence the 2 % tolerance.
    e = np.linspace(1.806, 10.0, 20001)
    ee = e - 1.2933
    pe = np.sqrt(np.maximum(ee**2 - 0.51099895**2, 0))
    sigma = 0.0952e-42 * ee * pe
    yield_43 = np.trapezoid(spectrum_per_fission(e, iso) * sigma, e) / 1e-43
    assert yield_43 == pytest.approx(HM_IBD_YIELDS[iso], rel=0.02)


def test_solar_components_and_b8_mean():
    from generator.sources.solar import SOLAR_MODELS, solar_source

    src = solar_source(live_days=1.0)
    total = sum(c.flux_cm2_s for c in src.components)
    assert total == pytest.approx(sum(SOLAR_MODELS["b16_gs98"].values()), rel=1e-12)
    b8 = next(c for c in src.components if c.name == "b8")
    assert b8.flux_cm2_s == pytest.approx(5.46e6)
    # Mean 8B energy: 6.735 MeV for the Bahcall et al. PRC 54, 411 (1996) spectrum (computed from its
    # public table); Winter et al. 2006 differs mainly above 12 MeV, so the means agree within 1 %.
    assert b8.mean_energy_mev() == pytest.approx(6.735, rel=0.01)
    be7 = [c for c in src.components if c.name.startswith("be7")]
    assert [c.line_mev for c in be7] == [0.8618, 0.3843]
    assert sum(c.flux_cm2_s for c in be7) == pytest.approx(4.93e9)
    # Continuous spectra end at their endpoints (Bahcall's tables): pp 0.423, 13N 1.199, 15O 1.732 MeV.
    ends = {c.name: c.e_max_mev for c in src.components if not c.is_line}
    assert ends["pp"] == pytest.approx(0.4234, abs=1e-3)
    assert ends["n13"] == pytest.approx(1.199, abs=1e-3) and ends["o15"] == pytest.approx(1.732, abs=1e-3)


def test_pot_preset_takes_the_papers_live_time_and_reports_the_nominal_one():
    # COHERENT CsI 2017 (Science 357, 1123): 1.76e23 POT = 7.48 GWh over 308.1 live days; at the nominal 1.4 MW
    # the same beam energy would take 223 days, and the mean flux would come out 38 % high.
    from generator.config import load_config
    from generator.experiment import Experiment

    src = Experiment.from_config(load_config(preset="coherent_csi_2017")).source
    ex = src.exposure
    assert ex["live_days"] == pytest.approx(308.1) and ex["live_days_from"] == "exposure.live_days"
    assert ex["live_days_at_nominal_power"] == pytest.approx(7.48e3 / 1.4 / 24, rel=0.01)
    c = src.components[0]
    assert c.flux_cm2_s == pytest.approx(c.fluence_cm2 / (308.1 * 86400.0))


def test_two_cores_at_equal_distance_are_one_core_of_twice_the_power():
    from generator.sources.reactor import reactor_source

    ff = {"u235": 0.56, "u238": 0.08, "pu239": 0.3, "pu241": 0.06}
    one = reactor_source(thermal_power_gw=7.8, distance_m=30.0, live_days=10.0, fission_fractions=ff)
    two = reactor_source(cores=[(3.9, 30.0), (3.9, 30.0)], live_days=10.0, fission_fractions=ff)
    for a, b in zip(one.components, two.components, strict=True):
        assert b.flux_cm2_s == pytest.approx(a.flux_cm2_s, rel=1e-12)
    # NUCLEUS at Chooz: two 4.25 GW cores at 72 m and 102 m (the flux adds as P/L^2)
    near = reactor_source(cores=[(4.25, 72.0)], live_days=1.0, fission_fractions=ff)
    both = reactor_source(cores=[(4.25, 72.0), (4.25, 102.0)], live_days=1.0, fission_fractions=ff)
    ratio = both.components[0].flux_cm2_s / near.components[0].flux_cm2_s
    assert ratio == pytest.approx(1.0 + (72.0 / 102.0) ** 2, rel=1e-12)
    assert both.exposure["thermal_power_gw"] == pytest.approx(8.5) and len(both.exposure["cores"]) == 2


def test_cores_configuration_is_validated(tmp_path):
    from generator._validate import ConfigError
    from generator.config import load_config
    from generator.experiment import Experiment

    with pytest.raises(ConfigError, match="source.cores replaces"):
        load_config(preset="reactor_ge", overrides=["source.cores=[{thermal_power_gw = 4.25, distance_m = 72.0}]"])
    base = ('[source]\nkind = "reactor"\n{cores}\n[target]\nmaterial = "CaWO4"\nmass_kg = 0.01\n'
            '[exposure]\nlive_days = 100.0\n')
    good = tmp_path / "chooz.toml"
    good.write_text(base.format(cores="cores = [{thermal_power_gw = 4.25, distance_m = 72.0}, "
                                      "{thermal_power_gw = 4.25, distance_m = 102.0}]"))
    src = Experiment.from_config(load_config(good)).source
    assert [c["distance_m"] for c in src.exposure["cores"]] == [72.0, 102.0]
    bad = tmp_path / "bad.toml"
    bad.write_text(base.format(cores="cores = [{thermal_power_gw = -1.0, distance_m = 72.0}]"))
    with pytest.raises(ConfigError, match=r"source.cores\[0\].thermal_power_gw = -1.0: must be a number > 0"):
        load_config(bad)
    none = tmp_path / "none.toml"
    none.write_text(base.format(cores=""))
    with pytest.raises(ConfigError, match="needs source.thermal_power_gw and source.distance_m, or source.cores"):
        load_config(none)
