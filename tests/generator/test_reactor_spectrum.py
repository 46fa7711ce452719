"""Reactor spectrum over 0-10 MeV: the CONFLUX summation table below 2 MeV, its join to Huber-Mueller, the
238U neutron-capture decays (239U, 239Np) and the flux range the source records."""

import numpy as np
import pytest

from generator.rates import flux_range_mev
from generator.sources.reactor import (CAPTURE_ISOTOPES, FISSION_FRACTION_SETS, FISSION_ISOTOPES, capture_endpoint_mev,
                                       capture_spectrum, huber_mueller, join_scale, reactor_source,
                                       spectrum_per_fission, summation_table)

# anti-nu per fission in 0-2 MeV, as stated in the header of data/reactor/summation_conflux_450d.csv
CITED_NU_BELOW_2MEV = {"u235": 3.7763, "u238": 3.8537, "pu239": 3.5070, "pu241": 3.6718}
# Jump at 2 MeV before scaling, HM/table - 1 (the summation misses nuclides without decay data)
JUMP = {"u235": 0.150, "u238": 0.083, "pu239": 0.099, "pu241": 0.102}


@pytest.mark.parametrize("iso", FISSION_ISOTOPES)
def test_summation_table_integrates_to_cited_nu_per_fission(iso):
    e, cols = summation_table()
    m = e <= 2.0 + 1e-9
    assert e[0] == 0 and cols[iso][0] == 0
    assert np.trapezoid(cols[iso][m], e[m]) == pytest.approx(CITED_NU_BELOW_2MEV[iso], abs=1e-4)


@pytest.mark.parametrize("iso", FISSION_ISOTOPES)
def test_join_is_continuous_after_scaling_and_jump_is_reported(iso):
    e, cols = summation_table()
    jump = float(huber_mueller(2.0, iso) / np.interp(2.0, e, cols[iso])) - 1.0
    assert jump == pytest.approx(JUMP[iso], abs=2e-3)
    assert join_scale(iso) == pytest.approx(1.0 + jump)
    s = spectrum_per_fission(np.array([1.999999, 2.0, 2.000001]), iso)
    assert s[0] == pytest.approx(s[2], rel=1e-4) and s[1] == pytest.approx(float(huber_mueller(2.0, iso)))
    below = np.linspace(0.0, 2.0, 4001)
    assert np.trapezoid(spectrum_per_fission(below, iso), below) == pytest.approx(
        CITED_NU_BELOW_2MEV[iso] * (1.0 + jump), rel=1e-3)
    # the legacy treatments stay selectable
    assert spectrum_per_fission(1.5, iso, low_energy="none") == 0
    assert spectrum_per_fission(0.5, iso, low_energy="vogel_engel", e_min_mev=1.0) == 0


@pytest.mark.parametrize("parent, endpoint, mean", [("u239", 1.2615, 0.798), ("np239", 0.7130, 0.281)])
def test_capture_spectra_normalised_per_decay_with_their_endpoints(parent, endpoint, mean):
    assert capture_endpoint_mev(parent) == pytest.approx(endpoint)
    e = np.linspace(0.0, 1.5, 30001)
    s = capture_spectrum(e, parent)
    assert np.trapezoid(s, e) == pytest.approx(1.0, rel=1e-3)
    assert np.all(s[e >= endpoint] == 0) and np.all(s >= 0) and s[(e > 0) & (e < endpoint - 0.01)].min() > 0
    assert np.trapezoid(e * s, e) == pytest.approx(mean, abs=0.005)


def test_fermi_function_analytic_limits():
    # The relativistic F0(Z, W) of the capture spectra has two closed-form limits: F0 = 1 for Z = 0, and for
    # alpha Z -> 0 (gamma -> 1) the non-relativistic Fermi function 2 pi eta / (1 - exp(-2 pi eta)), eta = alpha Z W/p
    # (e.g. Krane, Introductory Nuclear Physics, sec. 9.2); at Z = 1 the (2pR)^(2(gamma-1)) factor differs from 1 by
    # < 1e-3.
    from generator.sources.reactor import _ALPHA, _fermi_function

    w = np.linspace(1.01, 4.0, 50)
    assert np.allclose(_fermi_function(0, w), 1.0, rtol=1e-12)
    eta = _ALPHA * w / np.sqrt(w * w - 1.0)
    assert np.allclose(_fermi_function(1, w), 2 * np.pi * eta / (1 - np.exp(-2 * np.pi * eta)), rtol=1e-3)
    # beta- decay: the Coulomb attraction of the daughter enhances slow electrons, more for larger Z
    assert np.all(np.diff(_fermi_function(93, w)) < 0) and np.all(_fermi_function(94, w) > _fermi_function(93, w))


def test_capture_components_and_flux_range():
    ff = FISSION_FRACTION_SETS["daya_bay"]
    src = reactor_source(thermal_power_gw=3.6, distance_m=20.7, live_days=1.0, fission_fractions=ff)
    names = [c.name for c in src.components]
    assert names == [f"reactor_{i}" for i in FISSION_ISOTOPES] + [f"reactor_{p}" for p in CAPTURE_ISOTOPES]
    rate_per_area = src.exposure["fission_rate_s"] / (4 * np.pi * 2070.0**2)
    for p in CAPTURE_ISOTOPES:
        c = src.components[names.index(f"reactor_{p}")]
        assert c.flux_cm2_s == pytest.approx(0.6 * rate_per_area, rel=2e-3)  # one decay per capture
    assert flux_range_mev(src) == (0.0, 10.0)
    assert src.exposure["capture_per_fission"] == 0.6
    # CONUS+ quotes 1.5e13 /cm2/s at 20.7 m from 3.6 GW_th (arXiv:2501.05206): within 10 %
    assert src.flux_cm2_s == pytest.approx(1.5e13, rel=0.10)
    none = reactor_source(thermal_power_gw=3.6, distance_m=20.7, live_days=1.0, fission_fractions=ff,
                          capture_per_fission=0.0, e_min_mev=1.0)
    assert len(none.components) == 4 and flux_range_mev(none)[0] == 1.0
    legacy = reactor_source(thermal_power_gw=3.6, distance_m=20.7, live_days=1.0, fission_fractions=ff,
                            low_energy="none")
    assert len(legacy.components) == 4 and flux_range_mev(legacy)[0] == 2.0
    with pytest.raises(ValueError, match="capture_per_fission"):
        reactor_source(thermal_power_gw=3.6, distance_m=20.7, live_days=1.0, fission_fractions=ff,
                       capture_per_fission=-1.0)


def test_capture_per_fission_is_a_validated_config_key_passed_to_the_source():
    from generator._validate import ConfigError
    from generator.config import load_config
    from generator.experiment import Experiment

    def capture_flux(*overrides):
        src = Experiment.from_config(load_config(preset="reactor_ge", overrides=list(overrides))).source
        return sum(c.flux_cm2_s for c in src.components if c.name in ("reactor_u239", "reactor_np239")), src

    base, src = capture_flux()
    assert src.exposure["capture_per_fission"] == 0.6
    # two decays per capture, each normalised to one anti-nu: 1.2 anti-nu per fission at 0.6 captures per fission
    assert base == pytest.approx(1.2 * src.exposure["fission_rate_s"] / (4 * np.pi * 2070.0**2), rel=2e-3)
    double, _ = capture_flux("source.capture_per_fission=1.2")
    assert double == pytest.approx(2 * base, rel=1e-12)
    assert capture_flux("source.capture_per_fission=0")[0] == 0
    for bad in ("-0.1", "60"):  # negative; a percentage instead of a number per fission
        with pytest.raises(ConfigError, match=rf"source.capture_per_fission.*{bad}"):
            load_config(preset="reactor_ge", overrides=[f"source.capture_per_fission={bad}"])


@pytest.mark.parametrize("overrides, flux_range", [
    ((), [0.0, 10.0]),
    (('source.low_energy="vogel_engel"', "source.e_min_mev=1.0"), [1.0, 10.0]),
    (('source.low_energy="none"',), [2.0, 10.0]),
])
def test_cevns_rate_states_the_energy_range_of_its_flux(overrides, flux_range):
    import contextlib
    import io
    import json

    from generator.cli import rate_main

    args = ["--preset", "reactor_ge"] + [a for o in overrides for a in ("--set", o)]
    for extra in (["--json"], []):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert rate_main(args + extra) == 0
        if extra:
            d = json.loads(out.getvalue())
            assert d["flux_range_mev"] == flux_range
        else:
            assert f"(E_nu {flux_range[0]:g}-{flux_range[1]:g} MeV)" in out.getvalue()


# --- total flux against the fluxes the experiments quote (whole spectrum, 0-10 MeV, with the 238U captures) --------
# Fission fractions: the Daya Bay average (none of the three papers' fuel compositions was read here).

def _flux(capture_per_fission=0.6, **where):
    return reactor_source(live_days=1.0, fission_fractions=FISSION_FRACTION_SETS["daya_bay"],
                          capture_per_fission=capture_per_fission, **where).flux_cm2_s


def test_conus_plus_flux_within_10_percent_of_the_paper():
    # CONUS+ (Ackermann et al., Nature 643, 1229 (2025), arXiv:2501.05206): 1.5e13 anti-nu / cm^2 / s at 20.7 m from
    # the 3.6 GW_th KKL core. The preset gives the same flux through cevns-rate.
    assert _flux(thermal_power_gw=3.6, distance_m=20.7) == pytest.approx(1.5e13, rel=0.10)  # ours 1.41e13 (-6 %)
    from generator.config import load_config
    from generator.experiment import Experiment

    src = Experiment.from_config(load_config(preset="conus_plus_2025")).source
    assert src.flux_cm2_s == pytest.approx(_flux(thermal_power_gw=3.6, distance_m=20.7), rel=1e-9)


def test_dresden_ii_flux_within_10_percent_of_the_paper():
    # Dresden-II (Colaresi et al., PRL 129, 211802 (2022), arXiv:2202.09672): 4.8e13 anti-nu / cm^2 / s at 10.39 m
    # from the 2.96 GW_th Dresden unit 2 core.
    assert _flux(thermal_power_gw=2.96, distance_m=10.39) == pytest.approx(4.8e13, rel=0.10)  # ours 4.60e13 (-4 %)


def test_nucleus_flux_is_the_fission_part_of_ours():
    # NUCLEUS (Angloher et al., EPJC 79, 1018 (2019), arXiv:1905.10258): two 4.25 GW_th Chooz B cores at 72 m and
    # 102 m from the Very-Near-Site; the quoted flux there is 1.7e12 anti-nu / cm^2 / s [UNVERIFIED: the value of
    # issue #18; the paper's text with its flux inputs could not be read from the stored sources]. Our whole flux is
    # 21 % above it; without the 238U-capture anti-nu (1.2 per fission) it is within 1 %: the quoted value is
    # consistent with ~5.7 anti-nu per fission, the fission products alone, while the CONUS+ and Dresden-II values
    # (7.4 and 7.3 per fission against our 6.96) include a capture part.
    chooz = {"cores": [(4.25, 72.0), (4.25, 102.0)]}
    assert _flux(capture_per_fission=0.0, **chooz) == pytest.approx(1.7e12, rel=0.02)
    assert _flux(**chooz) / 1.7e12 == pytest.approx(1.21, abs=0.01)
