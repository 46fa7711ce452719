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
