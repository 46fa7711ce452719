"""Form factors: normalisation, zeros and radii."""

import numpy as np
import pytest
from scipy.integrate import quad

from generator.form_factors import (
    FormFactor,
    helm,
    helm_r0_fm,
    klein_nystrand,
    symmetrized_fermi,
)

MODELS = [helm, klein_nystrand, symmetrized_fermi]


@pytest.mark.parametrize("ff", MODELS)
@pytest.mark.parametrize("a", [12, 40, 74, 133])
def test_unity_at_zero_momentum(ff, a):
    q = np.array([0.0, 1e-9, 1e-5])
    np.testing.assert_allclose(ff(q, a), 1.0, atol=1e-9)


def _mean_r2(ff, a):
    if ff is helm:
        return 0.6 * helm_r0_fm(a) ** 2 + 3 * 0.9**2
    if ff is klein_nystrand:
        return 0.6 * (1.2 * a ** (1 / 3)) ** 2 + 6 * 0.7**2
    c = 1.23 * a ** (1 / 3) - 0.60
    return 0.6 * c**2 + 1.4 * np.pi**2 * 0.52**2


@pytest.mark.parametrize("ff", MODELS)
def test_low_q_expansion_across_series_switch(ff):
    # F = 1 - q^2 <r^2>/6 + O(q^4) for any spherical density: holds on both sides of the switch
    # between series and closed form (no cancellation noise).
    a = 133
    r2 = _mean_r2(ff, a)
    q = np.geomspace(1e-5, 0.2, 3001)
    dev = np.abs(ff(q, a) - (1 - q**2 * r2 / 6))
    assert np.all(dev <= (q**2 * r2) ** 2 / 20 + 1e-14)


def test_helm_zeros_at_bessel_roots():
    # j1(x) = 0 at x = 4.4934, 7.7253 (first roots of tan x = x): F vanishes at q = x / R0.
    for a in (40, 133):
        r0 = helm_r0_fm(a)
        for x in (4.493409457909064, 7.725251836937707):
            assert abs(helm(x / r0, a)) < 1e-12
            assert helm(0.99 * x / r0, a) * helm(1.01 * x / r0, a) < 0


def test_helm_rms_radius_round_trip():
    # Lewin & Smith: R_rms^2 = 3/5 R0^2 + 3 s^2. A Helm built from that rms radius is the default one.
    a = 133
    r0 = helm_r0_fm(a)
    rms = np.sqrt(0.6 * r0**2 + 3 * 0.9**2)
    q = np.linspace(0.01, 1.5, 50)
    np.testing.assert_allclose(helm(q, a, rms_radius_fm=rms), helm(q, a), rtol=1e-12)


@pytest.mark.parametrize("ff", MODELS)
def test_low_q_slope_is_rms_radius(ff):
    # F(q) = 1 - q^2 <r^2> / 6 + O(q^4); <r^2> from each model's own rms formula.
    a = 74
    q = 1e-2
    assert (1 - ff(q, a)) * 6 / q**2 == pytest.approx(_mean_r2(ff, a), rel=1e-3)


def test_symmetrized_fermi_is_fourier_transform_of_its_density():
    a = 127
    c = 1.23 * a ** (1 / 3) - 0.60
    ad = 0.52

    def rho(r):
        return np.sinh(c / ad) / (np.cosh(r / ad) + np.cosh(c / ad))

    norm = quad(lambda r: 4 * np.pi * r**2 * rho(r), 0, 40)[0]
    for q in (0.3, 0.8, 1.2):
        ft = quad(lambda r: 4 * np.pi * r**2 * rho(r) * np.sin(q * r) / (q * r), 0, 40, limit=200)[0] / norm
        assert symmetrized_fermi(q, a) == pytest.approx(ft, abs=1e-7)


def test_separate_neutron_radius():
    ff = FormFactor("helm", neutron_rms_radius_fm=5.5)
    q = 0.5
    assert ff.neutron(q, 133) < ff.proton(q, 133)  # a larger radius falls off faster
    with pytest.raises(ValueError, match="unknown form factor"):
        FormFactor("gaussian")
