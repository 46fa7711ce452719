"""Two-phase xenon TPC: NEST v2 mean yields and widths, numba kernels against numpy, the S1/S2 chain,
parameter validation, presets, and generate -> simulate end to end.

References
----------
- Mean-yield equations: NEST ``src/NEST.cpp`` GetYieldNR / default_NRYieldsParam (INPUTS.md section 8.1),
  re-implemented independently below.
- NEST_NR_REF / NEST_ER_REF / NEST_NR_WIDTH_REF: NEST v2.4 as shipped in NEST's official Python bindings
  (nestpy 2.1.3, ``NESTcalc(VDetector())``; GetYields with density 2.9 g/cm^3, A = 131; widths = standard
  deviations of 2e5 GetQuanta draws with ``default_NRERWidthsParam``). No printed table of NEST v2 yields was
  found in the stored papers, so these numbers, produced by NEST's own code, are the published reference.
- Detector presets: NEST ``include/Detectors/XENONnT_SR0.hh`` (g1 = 0.12520 phd = 0.15149 PE/photon) and
  ``LZ_WS2024.hh`` (g1 = 0.1122 phd/photon; g2 from NEST CalculateG2 = 34.02 phd/e); XENONnT SR0
  g2 = 16.5 +- 0.6 PE/e (PRL 131, 041003, arXiv:2207.11330).
"""

import math
import warnings

import numpy as np
import pytest

from detsim.chain import Chain
from detsim.config import detector_from_dict, load_detector
from detsim.simulate import simulate_detector
from detsim.xenon import (
    NEST_NR_YIELDS,
    QuantaModel,
    er_mean_yields,
    nr_mean_yields,
    quanta_moments,
    quanta_parameters,
    sample_quanta,
    sample_quanta_numpy,
    work_function,
    xenon_steps,
)
from generator._validate import ConfigError
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from generator.sampler import EVENT_COLUMNS_TRUTH

GEOMETRY = {"shape": "cylinder", "radius_cm": 40.0, "height_cm": 80.0}

# (E keVnr, field V/cm, N_e, N_ph): nestpy 2.1.3 GetYields(NR, E, 2.9, F, A=131)
NEST_NR_REF = [
    (0.5, 23.0, 2.50391, 1.9364), (1.0, 23.0, 6.13237, 4.477), (2.0, 23.0, 12.6187, 10.7449),
    (5.0, 23.0, 29.2737, 35.2756), (10.0, 23.0, 51.8059, 86.7526), (20.0, 23.0, 86.3272, 210.799),
    (0.5, 100.0, 2.70794, 1.78638), (1.0, 100.0, 6.63205, 4.01857), (5.0, 100.0, 31.659, 32.8988),
    (20.0, 100.0, 93.3614, 203.767), (0.5, 200.0, 2.80986, 1.71144), (2.0, 200.0, 14.1605, 9.23702),
    (10.0, 200.0, 58.1358, 80.4284), (0.5, 500.0, 2.95049, 1.60803), (1.0, 500.0, 7.22608, 3.47359),
    (5.0, 500.0, 34.4947, 30.0733), (20.0, 500.0, 101.724, 195.406),
]
# (E keVee, field, N_e, N_ph): nestpy 2.1.3 GetYields(beta, E, 2.9, F)
NEST_ER_REF = [
    (1.0, 23.0, 56.5873, 17.8154), (5.0, 23.0, 141.424, 230.589), (20.0, 23.0, 325.205, 1162.85),
    (1.0, 200.0, 62.2157, 12.1871), (5.0, 200.0, 166.021, 205.992), (20.0, 200.0, 492.268, 995.787),
]
NEST_W_EV_AT_2P9 = 13.440369538845466  # nestpy WorkFunction(2.9, 131.293, OldW13eV=True)
# (E keVnr, field, std N_e, std N_ph): 2e5 nestpy GetQuanta draws each (statistical precision ~0.2 %)
NEST_NR_WIDTH_REF = [
    (0.5, 23.0, 1.035, 0.9179), (2.0, 23.0, 2.364, 2.214), (10.0, 23.0, 5.762, 6.883),
    (0.5, 200.0, 1.094, 0.8635), (2.0, 200.0, 2.485, 2.056), (10.0, 200.0, 6.275, 6.974),
    (0.5, 500.0, 1.124, 0.8381), (2.0, 500.0, 2.539, 1.988), (10.0, 500.0, 6.533, 7.0),
]


def inputs_md_nr_yields(e, f, rho=2.9, p=NEST_NR_YIELDS):
    """INPUTS.md 8.1 written out independently: (N_e, N_ph, N_ex/N_i) for a natural-xenon nucleus."""
    alpha, beta, gamma, delta, eps, zeta, eta, theta, iota, pp, k1, k2 = p
    nq = alpha * e**beta
    ti = gamma * f**delta * (rho / 2.90) ** 0.3
    qy = 1.0 / (ti * (e + eps) ** pp) * (1.0 - (1.0 + (e / zeta) ** eta) ** -k1)
    ne = max(qy * e, 0.0)
    nph = max(nq - ne, 0.0) * (1.0 - (1.0 + (e / theta) ** iota) ** -k2)
    ni = (4.0 / ti) * (math.exp(ne * ti / 4.0) - 1.0)
    return ne, nph, (ne + nph - ni) / ni


def xenon_detector(**xenon):
    raw = {"technology": "xenon", "xenon": {"drift_field_v_cm": 200.0, "g1_phd": 0.12, "p_dphe": 0.2,
                                            "spe_resolution": 0.3, "n_pmts": 400, "s1_coincidence": 3,
                                            "drift_velocity_cm_us": 0.15, "electron_lifetime_us": 1000.0,
                                            "extraction_efficiency": 0.7, "se_gain_pe": 30.0,
                                            "se_gain_sigma_pe": 6.0, "s2_threshold_pe": 100.0}}
    raw["xenon"].update(xenon)
    return detector_from_dict(raw)


def run_steps(det, cols, names=None, seed=1):
    steps = [s for s in xenon_steps(det, GEOMETRY) if names is None or s.name in names]
    inputs = {k: EVENT_COLUMNS_TRUTH.get(k, (np.asarray(v).dtype, "")) for k, v in cols.items()}
    out, _ = Chain(steps, inputs).run(np.random.default_rng(seed), cols)
    return out


# --- mean yields ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", [20.0, 23.0, 100.0, 200.0, 500.0])
def test_nr_mean_yields_follow_the_nest_equations(field):
    e = np.array([0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0])
    ne, nph, ratio = nr_mean_yields(e, field, 2.9)
    ref = np.array([inputs_md_nr_yields(x, field) for x in e])
    np.testing.assert_allclose(ne, ref[:, 0], rtol=1e-12)
    np.testing.assert_allclose(nph, ref[:, 1], rtol=1e-12)
    np.testing.assert_allclose(ratio, np.minimum(ref[:, 2], np.where(e < 1, 1.0, np.inf)), rtol=1e-9)
    # the density term of Thomas-Imel: TI ~ rho^0.3, so N_e at rho = 2.862 rises by (2.9 / 2.862)^0.3 at low E
    ne_lo, _, _ = nr_mean_yields(np.array([0.5]), field, 2.862)
    assert ne_lo[0] / ne[0] == pytest.approx((2.9 / 2.862) ** 0.3, rel=2e-3)


@pytest.mark.parametrize("e, field, ne_ref, nph_ref", NEST_NR_REF)
def test_nr_mean_yields_match_nest(e, field, ne_ref, nph_ref):
    ne, nph, _ = nr_mean_yields(np.array([e]), field, 2.9, mass_number=131)
    assert ne[0] == pytest.approx(ne_ref, rel=0.03)
    assert nph[0] == pytest.approx(nph_ref, rel=0.03)
    # in fact identical to NEST to its printed precision
    assert ne[0] == pytest.approx(ne_ref, rel=1e-5) and nph[0] == pytest.approx(nph_ref, rel=1e-5)


@pytest.mark.parametrize("e, field, ne_ref, nph_ref", NEST_ER_REF)
def test_er_mean_yields_match_nest(e, field, ne_ref, nph_ref):
    ne, nph, ratio = er_mean_yields(np.array([e]), field, 2.9)
    assert ne[0] == pytest.approx(ne_ref, rel=1e-5)
    assert nph[0] == pytest.approx(nph_ref, rel=1e-5)
    w, alpha = work_function(2.9)
    assert (ne[0] + nph[0]) == pytest.approx(e * 1e3 / w, rel=1e-12)  # ER: all quanta at W
    assert ratio[0] == pytest.approx(alpha * math.erf(0.05 * e))


def test_work_function_and_yield_trends():
    assert work_function(2.9)[0] == pytest.approx(NEST_W_EV_AT_2P9, rel=1e-12)
    assert work_function(2.9, old_w=False)[0] == pytest.approx(NEST_W_EV_AT_2P9 / 1.1716263232, rel=1e-12)
    e = np.geomspace(0.3, 50, 40)
    ne_lo, nph_lo, _ = nr_mean_yields(e, 20.0)
    ne_hi, nph_hi, _ = nr_mean_yields(e, 1000.0)
    assert np.all(ne_hi > ne_lo) and np.all(nph_hi < nph_lo)  # field moves quanta from light to charge
    assert np.all(np.diff(ne_lo) > 0) and np.all(np.diff(nph_lo) > 0)
    # isotope scale sqrt(131.293 / A) of NEST, and no yield below one quantum
    ne136, _, _ = nr_mean_yields(np.array([5.0]), 100.0, mass_number=136)
    ne_nat, _, _ = nr_mean_yields(np.array([5.0]), 100.0)
    assert ne136[0] / ne_nat[0] == pytest.approx(math.sqrt(131.293 / 136), rel=1e-12)
    ne0, nph0, _ = nr_mean_yields(np.array([0.05, 0.0]), 100.0)
    assert np.all(ne0 == 0) and np.all(nph0 == 0)


# --- numba kernels against numpy -----------------------------------------------------------------------------

def test_kernel_means_and_parameters_equal_numpy():
    rng = np.random.default_rng(5)
    e = rng.exponential(4.0, 20000)
    a = rng.integers(124, 137, e.size)
    rec = (rng.random(e.size) < 0.3).astype(np.int8)
    er = rec == 1
    for field, rho in ((23.0, 2.8625), (96.5, 2.8687), (500.0, 2.9)):
        m = QuantaModel(field, rho)
        k = m.mean_yields(e, a, rec)
        nr = nr_mean_yields(e, field, rho, a)
        ee = er_mean_yields(e, field, rho)
        ref = [np.where(er, y, x) for x, y in zip(nr, ee, strict=True)]
        for got, want in zip(k, ref, strict=True):
            # ER: the formula itself; NR: the table of the scale-free yields (NR_TABLE_SUBBITS), a few 1e-6 at most.
            np.testing.assert_allclose(got[er], want[er], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(got[~er], want[~er], rtol=1e-5, atol=1e-12)
        p = quanta_parameters(*ref, er, field, rho)
        kp = m.parameters(*ref, er)
        for i, key in enumerate(("nq", "alf", "exr", "r", "high_e", "omega", "skew", "fano")):
            np.testing.assert_allclose(kp[:, i], p[key], rtol=1e-9, atol=1e-15, err_msg=key)


def test_nr_table_covers_the_range_and_falls_back_to_the_formula_outside():
    from detsim.xenon import NR_TABLE_E_KEV
    e = np.concatenate([np.geomspace(1e-5, 5e3, 5001), [NR_TABLE_E_KEV[0], NR_TABLE_E_KEV[1], 0.0]])
    m = QuantaModel(96.5, 2.9)
    got = m.mean_yields(e, 131)
    want = nr_mean_yields(e, 96.5, 2.9, 131)
    outside = (e < NR_TABLE_E_KEV[0]) | (e >= NR_TABLE_E_KEV[1])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g[outside], w[outside], rtol=1e-12)  # the formula itself
        np.testing.assert_allclose(g[~outside], w[~outside], rtol=1e-5, atol=1e-12)
    with pytest.raises(ValueError, match="mass numbers"):
        m.mean_yields(e, -3)


@pytest.mark.parametrize("e, field, is_er", [(1.0, 23.0, False), (5.0, 200.0, False), (20.0, 500.0, False),
                                             (3.0, 100.0, True)])
def test_kernel_sampling_matches_numpy_sampling(e, field, is_er):
    n = 100_000
    y = (er_mean_yields if is_er else nr_mean_yields)(np.full(n, e), field)
    p = quanta_parameters(*y, is_er, field)
    a_nph, a_ne = sample_quanta(np.random.default_rng(1), p)
    b_nph, b_ne = sample_quanta_numpy(np.random.default_rng(2), p)
    m = QuantaModel(field)
    c_nph, c_ne = m.sample(np.random.default_rng(3), np.full(n, e), None, np.full(n, int(is_er)))
    for a, b in ((a_ne, b_ne), (a_nph, b_nph), (c_ne, b_ne), (c_nph, b_nph)):
        assert a.mean() == pytest.approx(b.mean(), abs=5 * b.std() / math.sqrt(n / 2))
        assert a.std() == pytest.approx(b.std(), rel=0.02)
    # same seed, same stream: the fused kernel reproduces sample_quanta on the same parameters (its own means,
    # which for NR come from the ln E table) exactly
    pk = quanta_parameters(*m.mean_yields(np.full(n, e), None, np.full(n, int(is_er))), is_er, field)
    a_nph, a_ne = sample_quanta(np.random.default_rng(1), pk)
    d_nph, d_ne = m.sample(np.random.default_rng(1), np.full(n, e), None, np.full(n, int(is_er)))
    np.testing.assert_array_equal(d_ne, a_ne)
    np.testing.assert_array_equal(d_nph, a_nph)


@pytest.mark.parametrize("e, field, sd_ne, sd_nph", NEST_NR_WIDTH_REF)
def test_nr_quanta_means_and_widths_match_nest(e, field, sd_ne, sd_nph):
    n = 100_000
    m = QuantaModel(field, 2.9)
    nph, ne = m.sample(np.random.default_rng(int(e * 10 + field)), np.full(n, e), 131)
    mean_ne, mean_nph, _ = nr_mean_yields(np.array([e]), field, 2.9, 131)
    assert ne.mean() == pytest.approx(mean_ne[0], rel=0.03)
    assert nph.mean() == pytest.approx(mean_nph[0], rel=0.03)
    assert ne.std() == pytest.approx(sd_ne, rel=0.15)
    assert nph.std() == pytest.approx(sd_nph, rel=0.15)
    # and the analytic width of the model (Gaussian algebra, before rounding/truncation)
    mom = quanta_moments(quanta_parameters(mean_ne, mean_nph, nr_mean_yields(np.array([e]), field, 2.9, 131)[2],
                                           False, field, 2.9))
    assert ne.std() == pytest.approx(mom["std_ne"][0], rel=0.15)
    assert nph.std() == pytest.approx(mom["std_nph"][0], rel=0.15)


def test_nestpy_agrees_on_means_and_widths():
    nestpy = pytest.importorskip("nestpy")
    nc = nestpy.NESTcalc(nestpy.detectors.VDetector())
    n = 20_000
    for it, is_er, points in ((nestpy.interactions.NR, False, [(0.7, 23.0), (3.0, 96.5), (15.0, 300.0)]),
                              (nestpy.interactions.beta, True, [(2.0, 23.0), (10.0, 200.0)])):
        for e, field in points:
            y = nc.GetYields(interaction=it, energy=e, density=2.9, drift_field=field, A=131.0)
            ref = np.array([(q.photons, q.electrons) for q in (nc.GetQuanta(y, 2.9) for _ in range(n))])
            nph, ne = QuantaModel(field, 2.9).sample(np.random.default_rng(7), np.full(n, e), 131,
                                                    np.full(n, int(is_er)))
            for ours, theirs in ((ne, ref[:, 1]), (nph, ref[:, 0])):
                assert ours.mean() == pytest.approx(theirs.mean(), rel=0.03)
                assert ours.std() == pytest.approx(theirs.std(), rel=0.15)


def test_nestpy_full_chain_lz():
    """S1 and S2 of our lz preset against nestpy's runNESTvec with NEST's LZ_WS2024 detector file."""
    nestpy = pytest.importorskip("nestpy")
    ak = pytest.importorskip("awkward")
    det = load_detector("lz")
    n = 10_000
    z_mm = 762.75  # NEST's dtCntr depth in LZ (S1 light map = 1 there); drift 525 us
    r = nestpy.array.runNESTvec(nestpy.detectors.LZ_WS2024(), nestpy.interactions.NR, np.full(n, 8.0),
                                np.tile([0.0, 0.0, z_mm], (n, 1)), 96.5, 3,
                                nr_yield_params=list(det.xenon.nr_yield_params),
                                width_params=list(det.xenon.nr_width_params)
                                + [0.3, 0.04311, 0.46894, 0.15505, -0.26564, 0.0, 0.0])
    s1_ref, s2_ref = ak.to_numpy(r.s1r_phe), ak.to_numpy(r.s2r_phe)
    geo = {"shape": "cylinder", "radius_cm": 72.8, "height_cm": 292.2}  # gate at +146.1 cm = NEST TopDrift
    cols = {"t_nr_kev": np.full(n, 8.0), "target_a": np.full(n, 131, np.int16),
            "z_cm": np.full(n, z_mm / 10, np.float32)}
    steps = xenon_steps(det, geo)
    out, _ = Chain(steps, {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(np.random.default_rng(4), cols)
    assert out["drift_time_us"][0] == pytest.approx(525.0, rel=1e-3)
    assert out["s1_pe"].mean() == pytest.approx(s1_ref.mean(), rel=0.03)
    assert out["s2_pe"].mean() == pytest.approx(s2_ref.mean(), rel=0.03)
    assert out["s2_pe"].std() == pytest.approx(s2_ref.std(), rel=0.15)


# --- signal chain --------------------------------------------------------------------------------------------

def test_s1_mean_and_variance():
    det = xenon_detector(s1_coincidence=1)
    n = 200_000
    nph = np.full(n, 80, dtype=np.int32)
    out = run_steps(det, {"num_photons": nph}, ("xenon_s1",))
    g1, p = 0.12, 0.2
    assert out["s1_phd"].mean() == pytest.approx(80 * g1, rel=0.005)
    assert out["s1_phd"].var() == pytest.approx(80 * g1 * (1 - g1), rel=0.02)
    assert out["s1_pe"].mean() == pytest.approx(80 * g1 * (1 + p), rel=0.005)  # g1[PE] = g1[phd] (1 + P_dphe)
    # var(S1) = var(N_PE) + sigma_spe^2 <N_PE>, N_PE = N_phd + Binom(N_phd, P_dphe)
    m = 80 * g1
    var_npe = m * (1 - g1) * (1 + p) ** 2 + m * p * (1 - p)
    assert out["s1_pe"].var() == pytest.approx(var_npe + 0.3**2 * m * (1 + p), rel=0.03)


def test_s1_coincidence_probability():
    # g1 = 1: every photon is detected; 3-fold among 10 PMTs
    det = xenon_detector(g1_phd=1.0, p_dphe=0.0, n_pmts=10, s1_coincidence=3)
    n = 100_000
    for k, expected in ((2, 0.0), (3, 10 * 9 * 8 / 1000), (4, 1 - (10 / 1e4 + 45 * (2**4 - 2) / 1e4))):
        out = run_steps(det, {"num_photons": np.full(n, k, np.int32)}, ("xenon_s1",), seed=k)
        assert out["s1_phd"].min() == k
        assert out["s1_pass"].mean() == pytest.approx(expected, abs=4 * math.sqrt(0.25 / n))


def test_drift_time_and_s2_mean_and_variance():
    det = xenon_detector()
    n = 200_000
    z = np.full(n, -10.0, dtype=np.float32)  # 50 cm below the gate at +40 cm
    out = run_steps(det, {"z_cm": z}, ("xenon_drift",))
    t = 50.0 / 0.15
    np.testing.assert_allclose(out["drift_time_us"], t, rtol=1e-6)
    cols = {"num_electrons": np.full(n, 60, np.int32), "drift_time_us": np.full(n, t, np.float32),
            "s1_pass": np.ones(n, bool)}
    out = run_steps(det, cols, ("xenon_s2",))
    p = math.exp(-t / 1000.0) * 0.7
    assert out["s2_electrons"].mean() == pytest.approx(60 * p, rel=0.005)
    assert out["s2_electrons"].var() == pytest.approx(60 * p * (1 - p), rel=0.02)
    # S2 = N_e exp(-t/tau) eps_ext G on average: g2 = eps_ext x SE gain
    assert out["s2_pe"].mean() == pytest.approx(60 * math.exp(-t / 1000.0) * det.xenon.g2_pe, rel=0.005)
    assert out["s2_pe"].var() == pytest.approx(30.0**2 * 60 * p * (1 - p) + 6.0**2 * 60 * p, rel=0.03)
    np.testing.assert_array_equal(out["triggered"], out["s2_pe"] >= 100.0)


def test_no_lifetime_loss_and_gate_position():
    det = xenon_detector(electron_lifetime_us=float("inf"), extraction_efficiency=1.0, se_gain_sigma_pe=0.0,
                         gate_z_cm=30.0)
    cols = {"num_electrons": np.array([0, 1, 7], np.int32), "z_cm": np.array([30.0, 0.0, 35.0], np.float32),
            "s1_pass": np.ones(3, bool)}
    out = run_steps(det, cols, ("xenon_drift", "xenon_s2"))
    np.testing.assert_allclose(out["drift_time_us"], [0.0, 200.0, 0.0])  # above the gate: no drift
    np.testing.assert_array_equal(out["s2_electrons"], [0, 1, 7])
    np.testing.assert_allclose(out["s2_pe"], [0.0, 30.0, 210.0])


def test_s2_only_flag():
    det = xenon_detector(g1_phd=0.001)  # almost no S1
    n = 20_000
    rng = np.random.default_rng(3)
    cols = {"t_nr_kev": np.full(n, 3.0), "target_a": np.full(n, 131, np.int16),
            "z_cm": rng.uniform(-40, 40, n).astype(np.float32)}
    out = run_steps(det, cols)
    np.testing.assert_array_equal(out["s2_only"], out["triggered"] & ~out["s1_pass"])
    assert out["s2_only"].mean() > 0.9
    det = xenon_detector(g1_phd=0.5, s1_coincidence=1, n_pmts=1)
    out = run_steps(det, cols)
    assert out["s1_pass"].mean() > 0.99 and out["s2_only"].mean() < 0.01


def test_recoil_type_column_switches_to_electron_recoils():
    det = xenon_detector()
    n = 50_000
    cols = {"t_nr_kev": np.full(n, 5.0), "target_a": np.full(n, 131, np.int16),
            "z_cm": np.zeros(n, np.float32), "recoil_type": np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(np.int8)}
    out = run_steps(det, cols)
    nr, er = slice(0, n // 2), slice(n // 2, n)
    ne_nr, nph_nr, _ = nr_mean_yields(np.array([5.0]), 200.0, 2.9, 131)
    ne_er, nph_er, _ = er_mean_yields(np.array([5.0]), 200.0, 2.9)
    assert out["num_electrons"][nr].mean() == pytest.approx(ne_nr[0], rel=0.03)
    assert out["num_electrons"][er].mean() == pytest.approx(ne_er[0], rel=0.03)
    assert out["num_photons"][er].mean() == pytest.approx(nph_er[0], rel=0.03)
    del cols["recoil_type"]  # absent: everything is a nuclear recoil
    out = run_steps(det, cols)
    assert out["num_electrons"].mean() == pytest.approx(ne_nr[0], rel=0.03)


# --- configuration -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, match", [
    ("g1_phd", 1.2, r"xenon\.g1_phd = 1\.2: must be <= 1"),
    ("g1_phd", 0.0, r"xenon\.g1_phd = 0\.0: must be > 0"),
    ("electron_lifetime_us", -5.0, r"xenon\.electron_lifetime_us = -5\.0: must be > 0"),
    ("extraction_efficiency", 0.0, r"xenon\.extraction_efficiency = 0\.0: must be > 0"),
    ("extraction_efficiency", 1.1, r"xenon\.extraction_efficiency = 1\.1: must be <= 1"),
    ("drift_field_v_cm", 0.0, r"xenon\.drift_field_v_cm = 0\.0: must be > 0"),
    ("drift_field_v_cm", -50.0, r"xenon\.drift_field_v_cm"),
    ("p_dphe", 1.0, r"xenon\.p_dphe"),
    ("nr_yield_params", [11.0, 1.1], r"xenon\.nr_yield_params: NEST's NR yield model needs 12 values"),
    ("s1_coincidence", 500, r"xenon\.s1_coincidence = 500: more than n_pmts"),
    ("g2", 16.0, r"unknown key 'g2' in \[xenon\]"),
])
def test_bad_parameters_are_errors_naming_the_key(key, value, match):
    with pytest.raises(ConfigError, match=match):
        xenon_detector(**{key: value})


@pytest.mark.parametrize("field", [2.0, 20000.0])
def test_field_outside_nest_validity_warns(field):
    with pytest.warns(UserWarning, match="drift_field_v_cm .* outside the range where NEST's NR yield model"):
        xenon_detector(drift_field_v_cm=field)


def test_presets_and_overrides():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dets = {n: load_detector(n) for n in ("xenonnt", "lz", "pandax4t", "red100")}
    nt = dets["xenonnt"].xenon
    assert nt.g1_phd * (1 + nt.p_dphe) == pytest.approx(0.15149, rel=1e-4)  # NEST XENONnT_SR0.hh
    # with its sPEeff = 0.935 applied on top, as NEST's GetS1 does
    assert nt.g1_pe == pytest.approx(0.12520 * (0.935 + 0.21 * (2 * 0.935 - 0.935**2)), rel=1e-4)
    assert nt.g2_pe == pytest.approx(16.5, abs=0.6)  # XENONnT SR0, arXiv:2207.11330
    assert nt.drift_field_v_cm == 23.0 and nt.drift_velocity_cm_us == pytest.approx(0.0626)
    lz = dets["lz"].xenon
    assert lz.g1_phd == pytest.approx(0.1122)
    assert lz.g2_pe / (1 + lz.p_dphe) == pytest.approx(34.02, rel=0.01)  # NEST CalculateG2, phd/e
    assert dets["pandax4t"].xenon.g1_pe == pytest.approx(0.0997, rel=0.01)
    for d in dets.values():
        assert d.reference and d.technology == "xenon"
    over = load_detector("xenonnt", ["xenon.drift_field_v_cm=200", "xenon.g1_phd=0.12"])
    assert over.xenon.drift_field_v_cm == 200.0 and over.xenon.g1_phd == 0.12
    with pytest.raises(ConfigError, match=r"xenon\.g1_phd = 1\.5: must be <= 1"):
        load_detector("xenonnt", ["xenon.g1_phd=1.5"])


# --- end to end ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def b8_events(tmp_path_factory):
    d = tmp_path_factory.mktemp("b8")
    gen = d / "b8.h5"
    cfg = load_config(preset="solar_xe", overrides=["source.components=['b8']", "generator.chunk_size=20000"])
    meta = generate(cfg, gen, n_events=60_000, progress=False)
    return gen, meta


def test_generate_then_simulate_xenonnt(tmp_path, b8_events):
    gen, gm = b8_events
    det = load_detector("xenonnt")
    out = tmp_path / "det.h5"
    meta = simulate_detector(gen, out, det, progress=False, threads=2)
    cols_needed = ["num_photons", "num_electrons", "s1_pe", "s2_pe", "drift_time_us", "s2_only", "triggered",
                   "origin"]
    r = EventReader(out, stage="detsim", require=cols_needed)
    c, _ = r.read()
    truth, _ = EventReader(gen).read()
    np.testing.assert_array_equal(c["t_nr_kev"], truth["t_nr_kev"])
    assert meta["xenon"]["g1_pe_per_photon"] == pytest.approx(det.xenon.g1_pe, rel=1e-12)
    assert meta["xenon"]["max_drift_time_us"] == pytest.approx(80.0 / 0.0626, rel=1e-6)
    assert meta["expected_events"] == pytest.approx(gm["expected_events"])
    # the mean quanta follow the NEST mean yields over the 8B recoil spectrum
    ne, nph, _ = nr_mean_yields(c["t_nr_kev"], 23.0, det.xenon.density_g_cm3, c["target_a"])
    assert c["num_electrons"].mean() == pytest.approx(ne.mean(), rel=0.03)
    assert c["num_photons"].mean() == pytest.approx(nph.mean(), rel=0.03)
    assert c["s1_pe"].mean() == pytest.approx(det.xenon.g1_pe * c["num_photons"].mean(), rel=0.03)
    h = 80.0
    np.testing.assert_allclose(c["drift_time_us"], (h / 2 - c["z_cm"].astype(np.float64)) / 0.0626, rtol=1e-5)
    expected_s2 = c["num_electrons"] * np.exp(-c["drift_time_us"] / 15000.0) * det.xenon.g2_pe
    assert c["s2_pe"].mean() == pytest.approx(expected_s2.mean(), rel=0.02)
    # 8B CEvNS in XENONnT: most events are below the 3-fold S1 coincidence, many give an S2 alone
    assert 0.0 < c["s2_only"].mean() < c["triggered"].mean() < 1.0
    np.testing.assert_array_equal(c["s2_only"], c["triggered"] & ~c["s1_pass"])


def test_xenon_reproducible_over_threads_and_formats(tmp_path, b8_events):
    gen, _ = b8_events
    det = load_detector("xenonnt", ["xenon.drift_field_v_cm=200"])
    simulate_detector(gen, tmp_path / "a.h5", det, progress=False, threads=1)
    simulate_detector(gen, tmp_path / "b.root", det, progress=False, threads=2)
    a, _ = EventReader(tmp_path / "a.h5").read()
    b, _ = EventReader(tmp_path / "b.root").read()
    for k in ("num_photons", "num_electrons", "s1_pe", "s2_pe", "s2_only", "triggered"):
        np.testing.assert_array_equal(a[k], b[k])


def test_s1_single_pe_acceptance_as_nest():
    # NEST GetS1 with sPEeff (XENONnT file: 0.935): a photon's first PE is seen with eff (raised by occupancy,
    # negligible with 10^6 PMTs here), its second PE if the first is seen, else with eff:
    # <N_PE> = N_phd (eff + P_dphe (2 eff - eff^2))
    eff, g1, p, nph, n = 0.935, 0.12, 0.21, 80, 200_000
    det = xenon_detector(s1_coincidence=1, spe_efficiency=eff, g1_phd=g1, p_dphe=p, n_pmts=1_000_000,
                         spe_resolution=0.0)
    out = run_steps(det, {"num_photons": np.full(n, nph, dtype=np.int32)}, ("xenon_s1",))
    expected = nph * g1 * (eff + p * (2 * eff - eff * eff))
    assert out["s1_pe"].mean() == pytest.approx(expected, abs=5 * out["s1_pe"].std() / np.sqrt(n))
    assert det.xenon.g1_pe == pytest.approx(g1 * (eff + p * (2 * eff - eff * eff)))
    # 4-8 % below the same chain without the acceptance (the gap to nestpy with NEST's XENONnT file)
    full = run_steps(xenon_detector(s1_coincidence=1, g1_phd=g1, p_dphe=p, n_pmts=1_000_000, spe_resolution=0.0),
                     {"num_photons": np.full(n, nph, dtype=np.int32)}, ("xenon_s1",))
    assert 0.04 < 1 - out["s1_pe"].mean() / full["s1_pe"].mean() < 0.08


def test_nestpy_s1_with_single_pe_acceptance():
    """S1 areas against nestpy's GetS1 (Hybrid) for the same photon counts, with XENONnT's sPEeff = 0.935 (NEST
    include/Detectors/XENONnT_SR0.hh) and without it: the acceptance takes ~5 % off, as in NEST."""
    nestpy = pytest.importorskip("nestpy")
    means = {}
    for eff in (1.0, 0.935):
        d = nestpy.detectors.VDetector()
        d.set_g1(0.12520)
        d.set_sPEeff(eff)
        d.set_P_dphe(0.21)
        d.set_sPEres(0.4)
        d.set_sPEthr(0.0)
        d.set_numPMTs(477)
        d.set_coinLevel(1)
        d.set_noiseBaseline(0.0, 0.0, 0.0, 0.0)
        d.set_noiseLinear(0.0, 0.0)
        nc = nestpy.NESTcalc(d)
        y = nc.GetYields(interaction=nestpy.interactions.NR, energy=20.0, density=2.9, drift_field=23.0, A=131.0)
        nph, s1 = [], []
        for i in range(10_000):
            q = nc.GetQuanta(y, 2.9)
            r = nc.GetS1(q, 0.0, 0.0, 100.0, 0.0, 0.0, 100.0, 0.15, 0.15, nestpy.interactions.NR, i, 23.0, 20.0,
                         nestpy.S1CalculationMode.Hybrid, 0, [], [])
            nph.append(q.photons)
            s1.append(abs(r[2]))  # nestpy flags sub-coincidence S1s with a negative sign
        det = xenon_detector(s1_coincidence=1, spe_efficiency=eff, g1_phd=0.12520, p_dphe=0.21, n_pmts=477,
                             spe_resolution=0.4)
        ours = run_steps(det, {"num_photons": np.array(nph, dtype=np.int32)}, ("xenon_s1",))["s1_pe"]
        assert ours.mean() == pytest.approx(np.mean(s1), rel=0.01)
        means[eff] = ours.mean()
    assert 0.04 < 1 - means[0.935] / means[1.0] < 0.08
