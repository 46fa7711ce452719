"""HPGe response: Fano + noise resolution, trigger turn-on, PSD acceptance and rejection."""

import numpy as np
import pytest
from scipy.special import ndtr

from detsim.chain import Chain, ChainError, Step
from detsim.config import detector_from_dict
from detsim.hpge import hpge_steps, psd_expectation, resolution_sigma_kev
from generator.sampler import EVENT_COLUMNS_TRUTH

GEOMETRY = {"shape": "cylinder", "radius_cm": 3.0, "height_cm": 6.0}


def detector(**over):
    raw = {"technology": "hpge", "quenching": {"model": "constant", "value": 0.2},
           "hpge": {"fano": 0.11, "pair_energy_ev": 2.96,
                    "detectors": [{"threshold_ev": 150.0, "trigger_width_ev": 15.0, "pulser_fwhm_ev": 50.0}]},
           "psd": {"surface_model": "fraction", "surface_fraction": 0.5}}
    for k, v in over.items():
        raw.setdefault(k, {}).update(v)
    return detector_from_dict(raw)


def run(det, t_kevnr, n, seed=1):
    cols = {"t_nr_kev": np.full(n, t_kevnr), "target_z": np.full(n, 32, np.int16),
            "target_a": np.full(n, 74, np.int16), "x_cm": np.zeros(n), "y_cm": np.zeros(n), "z_cm": np.zeros(n)}
    chain = Chain(hpge_steps(det, GEOMETRY), {k: EVENT_COLUMNS_TRUTH[k] for k in cols})
    out, _ = chain.run(np.random.default_rng(seed), cols)
    return out


@pytest.mark.parametrize("t_kevnr", [2.0, 10.0, 50.0])
def test_resolution_is_fano_plus_noise(t_kevnr):
    det = detector()
    out = run(det, t_kevnr, 200_000)
    e_ee = 0.2 * t_kevnr
    expected = resolution_sigma_kev(e_ee, 0.11, 2.96, 50.0)
    assert out["e_det_kevee"].mean() == pytest.approx(e_ee, abs=3 * expected / np.sqrt(200_000) + 1e-4)
    # sigma^2 = eps F E + sigma_noise^2 (+ eps^2/12 from integer pairs, included in the tolerance)
    assert out["e_det_kevee"].std() == pytest.approx(expected, rel=0.01)


def test_fano_term_alone():
    det = detector(hpge={"detectors": [{"pulser_fwhm_ev": 0.0, "threshold_ev": 0.0}]})
    out = run(det, 100.0, 200_000)
    pairs = out["num_pairs"]
    mean = 20.0 / 2.96e-3
    assert pairs.var() / mean == pytest.approx(0.11, rel=0.03)  # Fano: var(N) = F <N>


def test_trigger_turn_on_follows_erf():
    det = detector()
    for t in (0.6, 0.75, 0.9):  # 120, 150, 180 eVee around the 150 eV threshold
        out = run(det, t, 50_000, seed=int(t * 100))
        e = out["e_det_kevee"]
        expected = ndtr((e - 0.150) / 0.015).mean()
        assert out["triggered"].mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / 5e4))


@pytest.mark.parametrize("t_kevnr", [1.0, 2.5, 10.0])
def test_psd_acceptance_and_rejection_match_configuration(t_kevnr):
    det = detector()
    out = run(det, t_kevnr, 200_000)
    slow = out["slow_pulse"]
    e = out["e_det_kevee"]
    acc_bulk = out["psd_pass"][~slow].mean()
    rej_slow = 1 - out["psd_pass"][slow].mean()
    n_b, n_s = (~slow).sum(), slow.sum()
    assert acc_bulk == pytest.approx(0.9, abs=4 * np.sqrt(0.09 / n_b))
    _, _, rej = psd_expectation(det.psd, e[slow])
    assert rej_slow == pytest.approx(rej.mean(), abs=4 * np.sqrt(0.25 / n_s))
    assert slow.mean() == pytest.approx(0.5, abs=0.01)


def test_rejection_improves_with_energy():
    det = detector()
    r = [psd_expectation(det.psd, e)[2] for e in (0.16, 0.3, 0.8, 2.0)]
    assert all(a < b for a, b in zip(r, r[1:], strict=False))
    assert r[-1] > 0.99


def test_geometric_surface_layer():
    det = detector(psd={"surface_model": "geometry", "transition_layer_mm": 1.0})
    n = 100_000
    rng = np.random.default_rng(2)
    r = 3.0 * np.sqrt(rng.random(n))
    phi = 2 * np.pi * rng.random(n)
    cols = {"t_nr_kev": np.full(n, 5.0), "target_z": np.full(n, 32, np.int16), "target_a": np.full(n, 74, np.int16),
            "x_cm": r * np.cos(phi), "y_cm": r * np.sin(phi), "z_cm": 6.0 * (rng.random(n) - 0.5)}
    out, _ = Chain(hpge_steps(det, GEOMETRY), {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(rng, cols)
    # Volume fraction within 1 mm of the surface of a 3 cm x 6 cm cylinder.
    inner = np.pi * 2.9**2 * 5.8
    expected = 1 - inner / (np.pi * 9 * 6)
    assert out["slow_pulse"].mean() == pytest.approx(expected, abs=4 * np.sqrt(expected / n))


def test_chain_checks_columns():
    step = Step("needs_s1", ("s1_pe",), {"x": (np.float64, "")}, lambda rng, c: {"x": c["s1_pe"]})
    with pytest.raises(ChainError, match="step 'needs_s1' needs column"):
        Chain([step], {"t_nr_kev": (np.float64, "keV")})


# --- numba kernels (detsim/hpge/_kernels.py) against the numpy reference (detsim/hpge/physics.py) ----------------
# Same distributions at fixed seeds (the draws differ: xoshiro256++ ziggurat against numpy's Generator).

from scipy import stats  # noqa: E402

from detsim.hpge import _kernels as K  # noqa: E402
from detsim.hpge import physics as P  # noqa: E402
from detsim.quenching import QuenchingModel  # noqa: E402

PVALUE = 1e-3  # fixed seeds: a correct kernel passes deterministically; a wrong one fails by orders of magnitude


@pytest.mark.parametrize("model", [QuenchingModel("lindhard", k=0.162, k_sigma=0.004, variation=1.5),
                                   QuenchingModel("lindhard"),  # k = 0.133 Z^2/3 A^-1/2 per event
                                   QuenchingModel("conus_2022"), QuenchingModel("lindhard_adiabatic", xi_kev=0.2),
                                   QuenchingModel("dresden_fef"), QuenchingModel("constant", value=0.2)])
def test_quenching_kernel_is_the_model_mean(model):
    n = 20_000
    rng = np.random.default_rng(3)
    t = 10.0 ** rng.uniform(-2, 2.5, n)
    z = rng.choice(np.array([32, 14, 55], np.int16), n)
    a = (z * 2 + 8).astype(np.int16)
    recoil = (rng.random(n) < 0.1).astype(np.int8)
    got = K.Quenching(model)(np.random.default_rng(1), t, z, a, recoil)
    want = P.quench_numpy(model, np.random.default_rng(1), t, z, a, recoil)
    np.testing.assert_allclose(got, want, rtol=2e-15, atol=0)
    np.testing.assert_array_equal(got[recoil == 1], t[recoil == 1])  # electron recoils are not quenched


def test_quenching_fluctuation_matches_numpy():
    model = QuenchingModel("lindhard", k=0.162, fluctuation=0.1)
    n = 100_000
    t = np.full(n, 3.0)
    z, a = np.full(n, 32, np.int16), np.full(n, 74, np.int16)
    got = K.Quenching(model)(np.random.default_rng(5), t, z, a) / (model.qf(3.0, 32, 74) * 3.0)
    want = P.quench_numpy(model, np.random.default_rng(6), t, z, a) / (model.qf(3.0, 32, 74) * 3.0)
    assert stats.ks_2samp(got, want).pvalue > PVALUE
    assert got.mean() == pytest.approx(1.0, abs=4 * 0.1 / np.sqrt(n))
    assert got.std() == pytest.approx(0.1, rel=0.02)


def ge_section(**over):
    return detector(hpge=over).hpge if over else detector().hpge


def test_ionisation_kernel_matches_numpy_and_fano():
    hp = detector(hpge={"energy_scale": 1.01, "detectors": [
        {"mass_kg": 1.0, "pulser_fwhm_ev": 50.0}, {"mass_kg": 2.0, "pulser_fwhm_ev": 80.0},
        {"mass_kg": 0.5, "pulser_fwhm_ev": 0.0}]}).hpge
    tab = P.detector_tables(hp)
    n = 200_000
    e_ion = np.random.default_rng(7).uniform(0.2, 3.0, n)
    det, pairs, e = K.Ionisation(hp)(np.random.default_rng(8), e_ion)
    det_np, pairs_np, e_np = P.ionisation_numpy(np.random.default_rng(9), e_ion, tab["share"], 2.96e-3, hp.fano,
                                                tab["noise_kev"], hp.energy_scale)
    assert det.dtype == np.int16 and pairs.dtype == np.int64
    # detector by mass share: chi2 against 1 : 2 : 0.5
    counts = np.bincount(det, minlength=3)
    assert stats.chisquare(counts, n * np.array([1.0, 2.0, 0.5]) / 3.5).pvalue > PVALUE
    for d in range(3):
        assert stats.ks_2samp(e[det == d], e_np[det_np == d]).pvalue > PVALUE
    # Fano: var(N) = F <N> (+ 1/12 from rounding to integers) at fixed energy, the numpy reference alike
    one = np.full(n, 20.0)
    _, p1, _ = K.Ionisation(hp)(np.random.default_rng(10), one)
    mean = 20.0 / 2.96e-3
    assert p1.mean() == pytest.approx(mean, abs=4 * np.sqrt(0.11 * mean / n))
    assert (p1.var() - 1 / 12) / mean == pytest.approx(0.11, rel=0.015)
    # measured energy: sigma^2 = F eps E + sigma_noise^2 of the detector, times the energy scale
    _, _, e1 = K.Ionisation(hp)(np.random.default_rng(11), np.full(n, 1.0))
    d1, _, _ = K.Ionisation(hp)(np.random.default_rng(11), np.full(n, 1.0))
    for d, fwhm in enumerate((50.0, 80.0, 0.0)):
        sig = 1.01 * np.sqrt(P.resolution_sigma_kev(1.0, 0.11, 2.96, fwhm) ** 2 + (2.96e-3) ** 2 / 12)
        assert e1[d1 == d].std() == pytest.approx(sig, rel=0.02)
        assert e1[d1 == d].mean() == pytest.approx(1.01, abs=4 * sig / np.sqrt((d1 == d).sum()))


def turn_on_chi2_pvalue(triggered, e, eff, edges):
    """chi2 of the triggered counts in energy bins against the sum of the efficiencies (binomial variances)."""
    idx = np.digitize(e, edges) - 1
    ok = (idx >= 0) & (idx < len(edges) - 1)
    obs = np.bincount(idx[ok], weights=triggered[ok].astype(float), minlength=len(edges) - 1)
    exp = np.bincount(idx[ok], weights=eff[ok], minlength=len(edges) - 1)
    var = np.bincount(idx[ok], weights=eff[ok] * (1 - eff[ok]), minlength=len(edges) - 1)
    return stats.chi2.sf(np.sum((obs - exp) ** 2 / var), len(edges) - 1)


def test_trigger_kernel_follows_the_turn_on():
    hp = detector(hpge={"detectors": [{"threshold_ev": 150.0, "trigger_width_ev": 15.0},
                                      {"threshold_ev": 200.0, "trigger_width_ev": 0.0}]}).hpge
    tab = P.detector_tables(hp)
    n = 1_000_000
    rng = np.random.default_rng(12)
    e = rng.uniform(0.10, 0.20, n)  # +-3.3 widths around the 150 eV threshold
    det = np.zeros(n, np.int16)
    eff = P.trigger_efficiency(e, tab["thr_kev"][det], tab["width_kev"][det])
    got = K.Trigger(hp)(np.random.default_rng(13), e, det)
    want = P.trigger_numpy(np.random.default_rng(14), e, det, tab["thr_kev"], tab["width_kev"])
    edges = np.linspace(0.10, 0.20, 26)
    assert turn_on_chi2_pvalue(got, e, eff, edges) > PVALUE
    assert turn_on_chi2_pvalue(want, e, eff, edges) > PVALUE
    # far from the threshold the uniform alone decides (no erfc); zero width: a step
    e2 = rng.uniform(0.0, 0.4, 100_000)
    det2 = (rng.random(e2.size) < 0.5).astype(np.int16)
    got2 = K.Trigger(hp)(np.random.default_rng(15), e2, det2)
    np.testing.assert_array_equal(got2[det2 == 1], e2[det2 == 1] >= 0.2)
    far = (det2 == 0) & (np.abs(e2 - 0.15) > K.TRIGGER_DECIDED_SIGMA * 0.015)
    np.testing.assert_array_equal(got2[far], e2[far] > 0.15)


@pytest.mark.parametrize("e_kevee", [0.2, 1.0, 5.0])
def test_pulse_shape_kernel_matches_numpy(e_kevee):
    det = detector()
    n = 100_000
    e = np.full(n, e_kevee)
    rise, slow, passed = K.PulseShape(det.psd, GEOMETRY)(np.random.default_rng(15), e)
    rise_np, slow_np, passed_np = P.pulse_shape_numpy(np.random.default_rng(16), e, None, det.psd)
    assert rise.dtype == np.float32
    assert slow.mean() == pytest.approx(0.5, abs=4 * 0.5 / np.sqrt(n))
    for flag in (False, True):
        assert stats.ks_2samp(rise[slow == flag], rise_np[slow_np == flag]).pvalue > PVALUE
        sig = P.rise_sigma(det.psd.slow_rise_sigma_ns if flag else det.psd.bulk_rise_sigma_ns,
                           det.psd.rise_noise_ns_kev, e_kevee)
        mean = det.psd.slow_rise_ns if flag else det.psd.bulk_rise_ns
        assert rise[slow == flag].mean() == pytest.approx(mean, abs=4 * sig / np.sqrt((slow == flag).sum()))
        assert rise[slow == flag].std() == pytest.approx(sig, rel=0.02)
    cut, acc, rej = P.psd_expectation(det.psd, e_kevee)
    differ = passed != (rise < cut)  # only where the float32 rounding of the stored rise time crosses the cut
    assert np.all(np.abs(rise[differ] - cut) < 1e-3)
    assert passed[~slow].mean() == pytest.approx(acc, abs=4 * np.sqrt(acc * (1 - acc) / (~slow).sum()))
    assert 1 - passed[slow].mean() == pytest.approx(rej, abs=4 * np.sqrt(0.25 / slow.sum()))
    off = detector(psd={"enabled": False})
    assert K.PulseShape(off.psd, GEOMETRY)(np.random.default_rng(1), e)[2].all()


@pytest.mark.parametrize("geometry", [GEOMETRY, {"shape": "box", "size_x_cm": 4.0, "size_y_cm": 5.0,
                                                 "size_z_cm": 6.0}])
def test_pulse_shape_kernel_geometry_layer_is_the_numpy_one(geometry):
    det = detector(psd={"surface_model": "geometry", "transition_layer_mm": 1.5})
    n = 50_000
    rng = np.random.default_rng(17)
    xyz = [rng.uniform(-2.0, 2.0, n), rng.uniform(-2.5, 2.5, n), rng.uniform(-3.0, 3.0, n)]
    _, slow, _ = K.PulseShape(det.psd, geometry)(np.random.default_rng(1), np.ones(n), *xyz)
    np.testing.assert_array_equal(slow, P.slow_from_geometry(*xyz, geometry, 1.5))
    assert 0.02 < slow.mean() < 0.9


def test_hpge_chain_does_not_depend_on_the_numpy_stream_position():
    # Each step starts its kernel from a state drawn off the chunk's Generator: same seed, same columns.
    det = detector()
    a, b = run(det, 5.0, 5000, seed=3), run(det, 5.0, 5000, seed=3)
    for k in ("e_det_kevee", "num_pairs", "triggered", "rise_time_ns", "slow_pulse", "psd_pass", "detector_id"):
        np.testing.assert_array_equal(a[k], b[k])
    c = run(det, 5.0, 5000, seed=4)
    assert not np.array_equal(a["e_det_kevee"], c["e_det_kevee"])
