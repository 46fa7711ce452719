"""SM cross section: positivity, kinematic end point, analytic integrals, coherent N^2 scaling."""

import numpy as np
import pytest

from generator.constants import FERMI_CONSTANT_MEV2, HBARC_MEV_CM
from generator.cross_section import CrossSectionModel, dsigma_dt_cm2_per_kev, sigma_cm2, weak_charge
from generator.form_factors import FormFactor
from generator.kinematics import t_max_kev
from generator.nuclei import isotope

NO_FF_TREE = CrossSectionModel(coupling_scheme="tree", form_factor=FormFactor("none"))


def analytic_sigma_no_ff(enu, iso, model):
    """Closed-form integral of dsigma/dT over [0, T_max] with F = 1 (exact kinematic factor)."""
    m = model.mass_mev(iso)
    gvp, gvn = model.couplings
    qv = iso.z * gvp + iso.n * gvn
    tm = t_max_kev(enu, m) * 1e-3
    integral = tm - tm**2 / (2 * enu) - m * tm**2 / (4 * enu**2) + tm**3 / (6 * enu**2)
    return FERMI_CONSTANT_MEV2**2 * m / np.pi * qv**2 * integral * HBARC_MEV_CM**2


@pytest.mark.parametrize("name", ["Ar40", "Ge74", "Cs133", "Na23"])
@pytest.mark.parametrize("enu", [1.0, 8.0, 29.79, 52.0])
def test_total_matches_closed_form(name, enu):
    iso = isotope(name)
    assert sigma_cm2(enu, iso, NO_FF_TREE) == pytest.approx(analytic_sigma_no_ff(enu, iso, NO_FF_TREE), rel=1e-10)


def test_heavy_nucleus_limit():
    # M >> E: sigma -> G_F^2 Q_W^2 E^2 / (4 pi) with Q_W = N - (1 - 4 sin^2) Z (e.g. Freedman 1974).
    iso = isotope("Xe132")
    enu = 0.5
    s2 = NO_FF_TREE.sin2_theta_w
    qw = iso.n - (1 - 4 * s2) * iso.z
    expected = FERMI_CONSTANT_MEV2**2 * qw**2 * enu**2 / (4 * np.pi) * HBARC_MEV_CM**2
    assert sigma_cm2(enu, iso, NO_FF_TREE) == pytest.approx(expected, rel=1e-4)


def test_tree_level_weak_charge():
    iso = isotope("Cs133")
    s2 = 0.23868
    m = CrossSectionModel(coupling_scheme="tree", sin2_theta_w=s2, form_factor=FormFactor("none"))
    assert weak_charge(0.0, iso, m) == pytest.approx(-0.5 * (iso.n - (1 - 4 * s2) * iso.z))


def test_coherent_n_squared_scaling():
    # At low E (F ~ 1) and g_V^p ~ 0, sigma scales with N^2 between isotopes of different N.
    model = CrossSectionModel(coupling_scheme="tree", sin2_theta_w=0.25)  # g_V^p = 0 exactly
    enu = 2.0
    a, b = isotope("Xe124"), isotope("Xe136")
    ratio = sigma_cm2(enu, b, model) / sigma_cm2(enu, a, model)
    assert ratio == pytest.approx((b.n / a.n) ** 2, rel=2e-3)
    w, ar = isotope("W184"), isotope("Ar40")
    ratio = sigma_cm2(enu, w, model) / sigma_cm2(enu, ar, model)
    assert ratio == pytest.approx((w.n / ar.n) ** 2, rel=5e-3)


@pytest.mark.parametrize("ff", ["helm", "klein_nystrand", "symmetrized_fermi"])
def test_nonnegative_and_zero_above_tmax(ff):
    model = CrossSectionModel(form_factor=FormFactor(ff))
    iso = isotope("I127")
    enu = np.linspace(0.0, 60.0, 121)[:, None]
    t = np.linspace(0.0, 80.0, 401)[None, :]
    ds = dsigma_dt_cm2_per_kev(enu, t, iso, model)
    assert np.all(ds >= 0)
    tmax = t_max_kev(enu, model.mass_mev(iso))
    assert np.all(ds[t > tmax] == 0)
    assert np.all(ds[(t < 0.9 * tmax) & (t > 0)] > 0)


def test_threshold_removes_low_recoils():
    iso = isotope("Ge72")
    e = np.array([2.0, 5.0, 8.0])
    s0 = sigma_cm2(e, iso)
    s1 = sigma_cm2(e, iso, threshold_kev=0.3)
    assert np.all(s1 < s0)
    # Below E_min(threshold) nothing survives.
    assert sigma_cm2(1.0, iso, threshold_kev=0.3) == 0.0


def test_form_factor_suppresses_high_energy():
    iso = isotope("Cs133")
    with_ff = sigma_cm2(50.0, iso, CrossSectionModel())
    no_ff = sigma_cm2(50.0, iso, CrossSectionModel(form_factor=FormFactor("none")))
    assert 0.5 < with_ff / no_ff < 0.95
    assert sigma_cm2(1.0, iso) / sigma_cm2(1.0, iso, CrossSectionModel(form_factor=FormFactor("none"))) > 0.999
