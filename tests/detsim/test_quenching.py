"""Quenching models at reference points."""

import numpy as np
import pytest

from detsim.quenching import QuenchingModel, coherent_csi_qf, coherent_lar_qf, lindhard_qf


def test_lindhard_formula():
    # eps = 11.5 Z^-7/3 E, g = 3 eps^0.15 + 0.7 eps^0.6 + eps, QF = k g / (1 + k g)
    e, z, k = 2.0, 32, 0.162
    eps = 11.5 * z ** (-7 / 3) * e
    g = 3 * eps**0.15 + 0.7 * eps**0.6 + eps
    assert lindhard_qf(e, z, k) == pytest.approx(k * g / (1 + k * g), rel=1e-14)


@pytest.mark.parametrize("t_kevnr, measured, tol", [(0.97, 0.181, 0.05), (4.97, 0.218, 0.03), (6.32, 0.236, 0.06)])
def test_lindhard_germanium_against_bonhomme(t_kevnr, measured, tol):
    # Bonhomme et al., EPJC 82, 815 (2022), arXiv:2202.03754: Ge QF measured 0.4-6.3 keVnr and fitted by
    # Lindhard with k = 0.162 +- 0.004 (measured points as transcribed from its tables 5-6).
    assert lindhard_qf(t_kevnr, 32, 0.162) == pytest.approx(measured, rel=tol)


def test_lindhard_variation_and_default_k():
    m0 = QuenchingModel("lindhard", k=0.162, k_sigma=0.004)
    up = QuenchingModel("lindhard", k=0.162, k_sigma=0.004, variation=1.0)
    assert up.qf(1.0, 32, 74) == pytest.approx(lindhard_qf(1.0, 32, 0.166))
    assert up.qf(1.0, 32, 74) > m0.qf(1.0, 32, 74)
    # Without k: Lindhard's 0.133 Z^2/3 A^-1/2 = 0.157 for germanium.
    std = QuenchingModel("lindhard")
    assert std.qf(1.0, 32, 72.6) == pytest.approx(lindhard_qf(1.0, 32, 0.133 * 32 ** (2 / 3) / np.sqrt(72.6)))
    assert 0.133 * 32 ** (2 / 3) / np.sqrt(72.63) == pytest.approx(0.157, abs=0.001)


def test_coherent_csi_polynomial():
    # COHERENT 2021 release: E_ee = a x + b x^2 + c x^3 + d x^4 (MeV). At 15 keVnr this is ~8-9 %,
    # consistent with the constant 8.78 % of the 2017 analysis (Science 357, 1123).
    qf = coherent_csi_qf(15.0)
    x = 0.015
    assert qf == pytest.approx((0.0554628 * x + 4.30681 * x**2 - 111.707 * x**3 + 840.384 * x**4) / x)
    assert 0.07 < qf < 0.10
    # Each +-1 sigma component moves the curve to opposite sides of the nominal, by a few per cent.
    for comp in ("syst0", "syst1"):
        for t in (5.0, 15.0, 50.0):
            up, down, nom = coherent_csi_qf(t, **{comp: 1}), coherent_csi_qf(t, **{comp: -1}), coherent_csi_qf(t)
            assert (up - nom) * (down - nom) < 0
            assert abs(up / nom - 1) < 0.05
    assert coherent_csi_qf(0.0) == pytest.approx(0.0554628)  # the x -> 0 limit is a
    assert np.all(coherent_csi_qf(np.linspace(0, 200, 50)) >= 0)


def test_coherent_lar_linear_fit():
    # COHERENT LAr: QF = 0.246 + 0.00078 T[keVnr] (arXiv:2003.10630 data release).
    assert coherent_lar_qf(0.0) == pytest.approx(0.246)
    assert coherent_lar_qf(100.0) == pytest.approx(0.324)
    assert coherent_lar_qf(100.0, variation=1) == pytest.approx(0.252 + 0.087)


def test_fluctuation_spreads_qf_with_configured_width():
    rng = np.random.default_rng(1)
    m = QuenchingModel("constant", value=0.1, fluctuation=0.05)
    e = m.quench(rng, np.full(200_000, 10.0), 55, 133)
    assert e.mean() == pytest.approx(1.0, rel=2e-3)
    assert e.std() == pytest.approx(0.05, rel=0.02)


def test_table_model(tmp_path):
    m = QuenchingModel("table", table_kevnr=(0.0, 10.0), table_qf=(0.1, 0.2))
    assert m.qf(5.0, 32, 74) == pytest.approx(0.15)


# ---------------------------------------------------------------------------------------------------------------
# Germanium models of the QF comparison (arXiv:2502.12308), each against its publication's numbers.

from detsim.config import QuenchingConfig  # noqa: E402
from detsim.quenching import GE_MODELS, QUENCHING_MODELS, dresden_qf, lindhard_adiabatic_qf  # noqa: E402
from generator._validate import ConfigError  # noqa: E402


@pytest.mark.parametrize("t_kevnr, quoted", [(0.3, 0.137), (8.5, 0.253)])
def test_lindhard_adiabatic_against_scholz_2016(t_kevnr, quoted):
    # Scholz et al., PRD 94, 122003 (2016), arXiv:1608.03588, abstract: Lindhard with an adiabatic correction,
    # best fit k = 0.179 +- 0.001, "a quenching factor of 13.7 % to 25.3 % for nuclear recoil energies between
    # 0.3 keVnr and 8.5 keVnr". xi = 0.16 keVnr: the fit constant as implemented after 1608.03588 (SNuDD code).
    qf = QuenchingModel("lindhard_adiabatic").qf(t_kevnr, 32, 72.63)
    assert qf == pytest.approx(quoted, abs=0.0015)  # the abstract rounds to 0.1 %
    # k = 0.178 (1 sigma down) reproduces 13.7 % to the quoted digit.
    down = QuenchingModel("lindhard_adiabatic", variation=-1).qf(t_kevnr, 32, 72.63)
    assert round(float(down), 3) == pytest.approx(quoted, abs=0.0011)


def test_lindhard_adiabatic_is_lindhard_above_a_few_kev_and_suppressed_below():
    t = np.array([0.05, 0.16, 0.3, 1.0, 3.0])
    ratio = lindhard_adiabatic_qf(t, 32, 0.179, 0.16) / lindhard_qf(t, 32, 0.179)
    assert ratio == pytest.approx(1 - np.exp(-t / 0.16))
    assert ratio[1] == pytest.approx(1 - np.exp(-1))
    assert ratio[-1] > 0.9999999


def test_conus_2022_against_bonhomme():
    # Bonhomme et al., EPJC 82, 815 (2022), arXiv:2202.03754, abstract: "measured quenching factors between 0.16 and
    # 0.23 in the [0.4, 6.3] keVnr energy range ... compatible with the Lindhard theory with k = 0.162 +- 0.004".
    m = QuenchingModel("conus_2022")
    assert m.qf(1.0, 32, 72.63) == pytest.approx(lindhard_qf(1.0, 32, 0.162))
    lo, hi = m.qf(np.array([0.4, 6.3]), 32, 72.63)
    assert lo == pytest.approx(0.16, abs=0.006) and hi == pytest.approx(0.23, abs=0.006)
    assert QuenchingModel("conus_2022", variation=1).qf(1.0, 32, 72.63) == pytest.approx(lindhard_qf(1.0, 32, 0.166))


def test_dresden_curves_against_the_released_table():
    # Dresden-II, PRL 129, 211802 (2022), arXiv:2202.09672: Fef and YBe curves (data/quenching/dresden2_fef_ybe.csv,
    # numbers of QF_Fef_YBe.txt in github.com/LeireLarizgoitia/Reactor_CEnuNS). Rows read there:
    # 0.0000 0.43610 0.37738 | 1.0000 0.24403 0.19387 | 1.5000 0.18049 0.18042 | 4.5000 0.20933 0.21862.
    for t, fef, ybe in [(0.0, 0.43610, 0.37738), (1.0, 0.24403, 0.19387), (1.5, 0.18049, 0.18042),
                        (4.5, 0.20933, 0.21862)]:
        assert QuenchingModel("dresden_fef").qf(t, 32, 72.63) == pytest.approx(fef, abs=1e-9)
        assert QuenchingModel("dresden_ybe").qf(t, 32, 72.63) == pytest.approx(ybe, abs=1e-9)
    # Both sit above Lindhard (k = 0.157) at low energy (INPUTS 12.5: "above Lindhard at low energy").
    t = np.linspace(0.2, 1.0, 9)
    assert np.all(dresden_qf(t, "fef") > lindhard_qf(t, 32, 0.157))
    assert np.all(dresden_qf(t, "ybe") > lindhard_qf(t, 32, 0.157))
    # Fef is Lindhard k = 0.157 above 1.6 keVnr (so the continuation above 4.5 keVnr is that curve) ...
    t = np.linspace(1.6, 4.5, 30)
    assert dresden_qf(t, "fef") == pytest.approx(lindhard_qf(t, 32, 0.157), abs=5e-5)
    # ... and both continuations are continuous at 4.5 keVnr.
    for c in ("fef", "ybe"):
        assert dresden_qf(4.5 + 1e-9, c) == pytest.approx(dresden_qf(4.5, c), abs=2e-5)


def test_ge_models_selectable_from_the_configuration():
    for m in GE_MODELS:
        assert m in QUENCHING_MODELS
        q = QuenchingConfig(model=m).build()
        assert 0.1 < q.qf(2.0, 32, 72.63) < 0.3
    assert QuenchingConfig(model="conus_2022", variation=-2).build().qf(1.0, 32, 72.63) == pytest.approx(
        lindhard_qf(1.0, 32, 0.154))


@pytest.mark.parametrize("kwargs, message", [
    ({"model": "dresden_fef", "variation": 1.0}, "no +-1 sigma is published for the dresden_fef"),
    ({"model": "dresden_ybe", "k": 0.2}, "has its published parameters"),
    ({"model": "conus_2022", "k_sigma": 0.01}, "has its published parameters"),
    ({"model": "lindhard", "k": 0.16, "variation": 1.0}, "needs quenching.k_sigma > 0"),
    ({"model": "lindhard", "xi_kev": 0.1}, "only for 'lindhard_adiabatic'"),
    ({"model": "lindhard_adiabatic", "xi_kev": -0.1}, "only for 'lindhard_adiabatic', and > 0"),
    ({"model": "nope"}, "allowed"),
])
def test_ge_model_parameters_validated_with_one_line_errors(kwargs, message):
    with pytest.raises(ConfigError) as e:
        QuenchingModel(**kwargs)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_quench_by_type_quenches_nuclear_recoils_only_and_draws_the_same_whatever_the_mix():
    from detsim.quenching import RECOIL_CODE, QuenchingModel, visible_yield

    model = QuenchingModel(model="lindhard", k=0.16, fluctuation=0.1)
    t = np.linspace(1.0, 10.0, 8)
    rt = np.array([RECOIL_CODE[k] for k in ("nr", "er", "heat_only", "sensor", "nr", "er", "nr", "nr")])
    e = model.quench_by_type(np.random.default_rng(4), t, 32, 73, rt)
    nr_only = model.quench(np.random.default_rng(4), t, 32, 73)
    np.testing.assert_array_equal(e[rt == 0], nr_only[rt == 0])  # same draws for the nuclear recoils
    np.testing.assert_array_equal(e[rt == 1], t[rt == 1])        # electron recoils: deposited energy
    assert not e[rt >= 2].any()                                   # heat-only and sensor events: nothing visible
    np.testing.assert_array_equal(visible_yield(0.2, rt), np.where(rt == 1, 1.0, np.where(rt >= 2, 0.0, 0.2)))
    np.testing.assert_array_equal(model.quench_by_type(np.random.default_rng(4), t, 32, 73), nr_only)
