"""Scintillator + SiPM/PMT response: photostatistics, crosstalk, noise, time profile, F90, presets, files.

References: generalised Poisson of primaries + Borel crosstalk, mean mu/(1-lambda), variance mu/(1-lambda)^3
(Vinogradov 2009; INPUTS 10); LAr singlet ~6 ns / triplet ~1.5 us with singlet fractions ~0.7 (NR) and ~0.3 (ER)
(Hitachi et al. 1983; Lippincott et al., arXiv:0801.1531); CENNS-10 resolution sigma/E = 0.58/sqrt(E[keVee])
(COHERENT LAr release, arXiv:2006.12659).
"""

import dataclasses
import tomllib

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

from detsim.chain import Chain
from detsim.config import detector_from_dict, load_detector
from detsim.scintillator import (
    borel_cdf,
    borel_pmf,
    generalised_poisson_moments,
    kernel_params,
    photodetect,
    photodetect_numpy,
    prompt_fraction,
    scintillator_steps,
    time_cdf,
)
from detsim.simulate import simulate_detector
from generator._data import data_path
from generator._validate import ConfigError
from generator.config import load_config
from generator.eventfile import EventReader
from generator.generate import generate
from generator.sampler import EVENT_COLUMNS_TRUTH
from tests.helpers import jsroot_dir, jsroot_summary

QUIET = {"crosstalk_lambda": 0.0, "afterpulse_probability": 0.0, "dark_rate_hz": 0.0}


def detector(scint=None, photosensor=None, time_profile=None, psd=None, quenching=None):
    sc = {"light_yield": 10.0, "window_ns": 1e6, **(scint or {})}
    sc["photosensor"] = {**QUIET, **(photosensor or {})}
    sc["time_profile"] = {"decay_times_ns": [100.0], "weights_nr": [1.0], **(time_profile or {})}
    if psd:
        sc["psd"] = psd
    return detector_from_dict({"technology": "scintillator", "quenching": quenching or {"model": "constant",
                                                                                       "value": 0.1},
                               "scintillator": sc})


def params(**kw):
    return kernel_params(detector(**kw).scintillator)


def run(p, mean, n, seed=1, er=False, numpy_ref=False):
    m = np.full(n, float(mean))
    is_er = np.full(n, er)
    rng = np.random.default_rng(seed)
    if numpy_ref:
        return photodetect_numpy(rng, m, is_er, np.zeros(n), p)
    return photodetect(rng, m, is_er, np.zeros(n), p)


def var_tolerance(x, k=5.0):
    """k standard errors of the sample variance: sqrt((m4 - s^4)/N)."""
    d = x - x.mean()
    return k * np.sqrt((np.mean(d**4) - np.mean(d**2) ** 2) / len(x))


# ---------------------------------------------------------------------------------------------------------
def test_kernel_is_the_interpreted_reference_draw_for_draw():
    """Every feature on; numba and the plain-Python loop take the same numbers from the same Generator."""
    p = params(scint={"light_yield": 20.0, "light_yield_unit": "photons_per_kevee", "pde": 0.4,
                      "intrinsic_resolution": 0.05, "window_ns": 3000.0, "pretrigger_ns": 200.0,
                      "afterglow_rate_hz": 2e5},
               photosensor={"n_arrays": 2, "array_share": 0.4, "crosstalk_lambda": 0.2,
                            "afterpulse_probability": 0.05, "dark_rate_hz": 3e5, "spe_resolution": 0.1},
               time_profile={"decay_times_ns": [6.0, 1500.0], "weights_nr": [0.7, 0.3], "weights_er": [0.3, 0.7],
                             "jitter_ns": 2.0},
               psd={"enabled": True})
    p = dataclasses.replace(p, add_offset=True)
    rng = np.random.default_rng(7)
    n = 400
    mean, er, off = rng.exponential(8.0, n), rng.random(n) < 0.5, rng.uniform(0, 5000, n)
    a_cols, a_jag = photodetect(np.random.default_rng(3), mean, er, off, p)
    b_cols, b_jag = photodetect(np.random.default_rng(3), mean, er, off, p, jit=False)
    for k in a_cols:
        np.testing.assert_array_equal(a_cols[k], b_cols[k], err_msg=k)
    for k in a_jag.fields:
        np.testing.assert_array_equal(a_jag.fields[k], b_jag.fields[k], err_msg=k)
    assert set(np.unique(a_jag.fields["kind"])) == {0, 1, 2, 3, 4}
    assert a_jag.counts.sum() == len(a_jag.fields["time_ns"]) > 2000



def everything_on(**photosensor):
    """Every feature of the photodetection on (two components with ER weights, jitter, two arrays, crosstalk,
    afterpulses, dark counts, afterglow, SPE charge spread, pretrigger, PSD prompt window)."""
    return params(scint={"light_yield": 20.0, "window_ns": 3000.0, "pretrigger_ns": 200.0, "afterglow_rate_hz": 2e5},
                  photosensor={"n_arrays": 2, "array_share": 0.4, "crosstalk_lambda": 0.2,
                               "afterpulse_probability": 0.05, "dark_rate_hz": 3e5, "spe_resolution": 0.1,
                               **photosensor},
                  time_profile={"decay_times_ns": [6.0, 1500.0], "weights_nr": [0.7, 0.3], "weights_er": [0.3, 0.7],
                                "jitter_ns": 2.0},
                  psd={"enabled": True})


def test_output_does_not_depend_on_the_first_buffer_capacity():
    """An event that does not fit is redrawn after the buffers grow, from the same RNG state: identical output."""
    p = everything_on()
    rng = np.random.default_rng(8)
    n = 3000
    mean, er, off = rng.exponential(8.0, n), rng.random(n) < 0.5, rng.uniform(0, 5000, n)
    runs = [photodetect(np.random.default_rng(4), mean, er, off, p, capacity=c) for c in (None, 16, 1000)]
    runs.append(photodetect(np.random.default_rng(4), mean[:300], er[:300], off[:300], p, jit=False, capacity=16))
    ref_cols, ref_jag = runs[0]
    for cols, jag in runs[1:]:
        m = len(cols["num_pe"])
        for k in ref_cols:
            np.testing.assert_array_equal(cols[k], ref_cols[k][:m], err_msg=k)
        for k in ref_jag.fields:
            np.testing.assert_array_equal(jag.fields[k], ref_jag.fields[k][: cols["num_pe"].sum()], err_msg=k)


@pytest.mark.parametrize("mu", [0.3, 4.0, 9.99, 10.0, 27.0, 400.0])
def test_primary_count_is_poisson(mu):
    """Primary PE = Poisson(mean): inversion below a mean of 10, Hoermann's PTRS (1993) above; chi2 on the pmf."""
    n = 100_000
    cols, _ = run(params(scint={"light_yield": mu}), mu, n, seed=int(mu * 100))
    x = cols["num_primary_pe"]
    k = np.arange(0, int(mu + 12 * np.sqrt(mu) + 12))
    pk = stats.poisson.pmf(k, mu)
    obs = np.bincount(x, minlength=k.size)[: k.size]
    keep = pk * n > 20
    exp_n = n * pk[keep]
    chi2 = np.sum((obs[keep] - exp_n) ** 2 / exp_n)
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4
    assert x.mean() == pytest.approx(mu, abs=5 * np.sqrt(mu / n))
    assert x.var() == pytest.approx(mu, abs=var_tolerance(x.astype(np.float64)))


def test_crosstalk_cells_per_avalanche_are_borel():
    """In the kernel's output the crosstalk cells of an avalanche follow its primary: the run lengths are the
    Borel(lambda) cells per primary, P(n) = exp(-lam n) (lam n)^(n-1) / n! (INPUTS 10)."""
    lam, mu, n = 0.3, 5.0, 40_000
    _, jag = run(params(scint={"light_yield": mu}, photosensor={"crosstalk_lambda": lam}), mu, n, seed=9)
    kind = jag.fields["kind"]
    starts = np.flatnonzero(kind == 0)
    cells = np.diff(np.append(starts, kind.size))  # each primary + the crosstalk entries up to the next primary
    assert np.all(kind[np.setdiff1d(np.arange(kind.size), starts)] == 1)
    k = np.arange(1, 30)
    pk = borel_pmf(k, lam)
    obs = np.bincount(cells, minlength=k.size + 1)[1 : k.size + 1]
    keep = pk * cells.size > 20
    chi2 = np.sum((obs[keep] - cells.size * pk[keep]) ** 2 / (cells.size * pk[keep]))
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4


def _two_sample_chi2_p(a, b):
    """p-value of a chi2 two-sample test of two integer samples of equal size (bins with >= 20 entries in all)."""
    top = int(max(a.max(), b.max())) + 1
    ca, cb = np.bincount(a, minlength=top).astype(float), np.bincount(b, minlength=top).astype(float)
    ok = ca + cb >= 40
    rest_a, rest_b = ca[~ok].sum(), cb[~ok].sum()
    ca, cb = np.append(ca[ok], rest_a), np.append(cb[ok], rest_b)
    keep = ca + cb > 0
    ca, cb = ca[keep], cb[keep]
    chi2 = np.sum((ca - cb) ** 2 / (ca + cb))
    return stats.chi2.sf(chi2, ca.size - 1)


def test_kernel_and_numpy_reference_give_the_same_distributions():
    """Every feature on: the numba kernel (xoshiro256++ draws, geometric afterpulse skipping, PTRS) and the
    independent vectorised numpy reference agree at fixed seeds: pmfs of the PE counts (all, per array, prompt,
    per kind), the time distribution of each PE kind, and the charge."""
    p = everything_on()
    n = 40_000
    rng = np.random.default_rng(21)
    mean, er, off = rng.exponential(8.0, n), rng.random(n) < 0.5, np.zeros(n)
    (ck, jk), (cn, jn) = (f(np.random.default_rng(22), mean, er, off, p) for f in (photodetect, photodetect_numpy))
    for key in ("num_primary_pe", "num_pe", "num_pe_a", "num_pe_b", "num_prompt_pe"):
        assert _two_sample_chi2_p(ck[key], cn[key]) > 1e-4, key
    evk, evn = (np.repeat(np.arange(n), c["num_pe"]) for c in (ck, cn))
    for kind in range(5):
        sk, sn = jk.fields["kind"] == kind, jn.fields["kind"] == kind
        per_k = np.bincount(evk[sk], minlength=n)
        per_n = np.bincount(evn[sn], minlength=n)
        assert _two_sample_chi2_p(per_k, per_n) > 1e-4, kind
        assert stats.ks_2samp(jk.fields["time_ns"][sk], jn.fields["time_ns"][sn]).pvalue > 1e-4, kind
        assert stats.ks_2samp(jk.fields["array"][sk], jn.fields["array"][sn]).pvalue > 1e-4, kind
    assert stats.ks_2samp(ck["charge_pe"], cn["charge_pe"]).pvalue > 1e-4
    # and a check that the comparison can fail: the numpy reference with 10 % more crosstalk is told apart
    _, jx = photodetect_numpy(np.random.default_rng(22), mean, er, off, dataclasses.replace(
        p, lam=0.22, borel_cdf=borel_cdf(0.22)))
    n_xt = [np.sum(j.fields["kind"] == 1) for j in (jk, jx)]
    assert abs(n_xt[1] - n_xt[0]) > 5 * np.sqrt(n_xt[0])


def test_borel_distribution():
    for lam in (0.05, 0.3):
        n = np.arange(1, 400)
        pmf = borel_pmf(n, lam)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert (n * pmf).sum() == pytest.approx(1 / (1 - lam), rel=1e-10)
        assert 1 - pmf[0] == pytest.approx(1 - np.exp(-lam))  # p_ct = 1 - exp(-lambda) (INPUTS 10)
        assert borel_cdf(lam)[-1] > 1
    assert len(borel_cdf(1e-17)) >= 2  # the kernel's conditional crosstalk draw reads past P(1)


@pytest.mark.parametrize("lam", [0.0, 0.15, 0.4])
@pytest.mark.parametrize("numpy_ref", [False, True])
def test_generalised_poisson_mean_variance_and_shape(lam, numpy_ref):
    mu, n = 6.0, 200_000
    p = params(scint={"light_yield": mu}, photosensor={"crosstalk_lambda": lam})
    cols, _ = run(p, mu, n, numpy_ref=numpy_ref)  # mean = LY x 1 keVee
    x = cols["num_pe"].astype(np.float64)
    mean, var = generalised_poisson_moments(mu, lam)
    assert x.mean() == pytest.approx(mean, abs=5 * np.sqrt(var / n))
    assert x.var() == pytest.approx(var, abs=var_tolerance(x))
    # the full distribution: P(k) = mu (mu + k lam)^(k-1) exp(-mu - k lam) / k!
    k = np.arange(0, 60)
    pk = np.exp(np.log(mu) + (k - 1) * np.log(mu + k * lam) - mu - k * lam - gammaln(k + 1))
    obs = np.bincount(x.astype(int), minlength=k.size)[: k.size]
    keep = pk * n > 20
    chi2 = np.sum((obs[keep] - n * pk[keep]) ** 2 / (n * pk[keep]))
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4


@pytest.mark.parametrize("included", [True, False])
def test_light_yield_with_crosstalk_is_not_counted_twice(included):
    lam, ly, e, n = 0.2, 40.0, 0.5, 100_000
    det = detector(scint={"light_yield": ly, "ly_includes_crosstalk": included},
                   photosensor={"crosstalk_lambda": lam})
    cols = {"t_nr_kev": np.full(n, e / 0.1), "target_z": np.full(n, 55, np.int16), "target_a": np.full(n, 133, np.int16),
            "time_ns": np.zeros(n)}
    out, _ = Chain(scintillator_steps(det), {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(np.random.default_rng(2),
                                                                                              cols)
    expected = ly * e if included else ly * e / (1 - lam)
    mean, var = generalised_poisson_moments(expected * (1 - lam), lam)
    assert out["e_ee_kevee"] == pytest.approx(e)
    assert out["num_pe"].mean() == pytest.approx(expected, abs=5 * np.sqrt(var / n))


@pytest.mark.parametrize("lam", [0.0, 0.2])
def test_dark_counts_scale_with_window_and_are_uniform(lam):
    rate, n = 2e5, 100_000  # Hz over all sensors (e.g. 0.1 Hz/mm2 would need 2e6 mm2)
    means = {}
    for w in (1000.0, 4000.0):
        p = params(scint={"window_ns": w, "pretrigger_ns": 0.0},
                   photosensor={"dark_rate_hz_per_mm2": 100.0, "sensor_area_mm2": rate / 100.0,
                                "crosstalk_lambda": lam, "n_arrays": 2})
        cols, jag = run(p, 0.0, n)
        x = cols["num_pe"]
        mu = rate * w * 1e-9
        mean, var = generalised_poisson_moments(mu, lam)
        assert x.mean() == pytest.approx(mean, abs=5 * np.sqrt(var / n))
        assert np.all(jag.fields["kind"][jag.fields["kind"] != 1] == 3)
        prim = jag.fields["time_ns"][jag.fields["kind"] == 3]
        assert stats.kstest(prim, stats.uniform(0, w).cdf).pvalue > 1e-3
        assert cols["num_pe_a"].mean() == pytest.approx(x.mean() / 2, rel=0.05)  # dark rate split over arrays
        means[w] = x.mean()
    assert means[4000.0] / means[1000.0] == pytest.approx(4.0, rel=0.05)


def test_afterglow_is_extra_uniform_light():
    rate, w, n = 5e5, 2000.0, 100_000
    p = params(scint={"afterglow_rate_hz": rate, "window_ns": w})
    cols, jag = run(p, 0.0, n)
    mu = rate * w * 1e-9
    assert cols["num_pe"].mean() == pytest.approx(mu, abs=5 * np.sqrt(mu / n))
    assert np.all(jag.fields["kind"] == 4)
    assert stats.kstest(jag.fields["time_ns"], stats.uniform(0, w).cdf).pvalue > 1e-3


@pytest.mark.parametrize("mu", [25.0, 1000.0])
def test_large_noise_means_are_poisson(mu):
    """Dark-count means >= 10 per window go to PTRS (inversion from 0 would restart forever beyond ~745, where
    exp(-mu) underflows): counts Poisson(mu), mean and variance mu."""
    w, n = 1000.0, 4000
    p = params(scint={"window_ns": w, "pretrigger_ns": 0.0},
               photosensor={**QUIET, "dark_rate_hz": mu / (w * 1e-9)})
    x = run(p, 0.0, n, seed=3)[0]["num_pe"].astype(np.float64)
    assert x.mean() == pytest.approx(mu, abs=5 * np.sqrt(mu / n))
    assert x.var() == pytest.approx(mu, abs=var_tolerance(x))


def test_afterpulses_per_cell_and_delay():
    p_ap, tau, lam, mu, n = 0.05, 300.0, 0.1, 5.0, 100_000
    p = params(scint={"light_yield": mu}, photosensor={"afterpulse_probability": p_ap, "afterpulse_tau_ns": tau,
                                                        "crosstalk_lambda": lam},
               time_profile={"decay_times_ns": [1e-3]})
    cols, jag = run(p, mu, n)
    kind, t = jag.fields["kind"], jag.fields["time_ns"]
    cells = np.sum(kind != 2)
    assert cells / n == pytest.approx(mu / (1 - lam), rel=0.01)
    n_ap = np.sum(kind == 2)
    assert n_ap / cells == pytest.approx(p_ap, abs=5 * np.sqrt(p_ap / cells))
    assert stats.kstest(t[kind == 2], stats.expon(scale=tau).cdf).pvalue > 1e-3


@pytest.mark.parametrize("er", [False, True])
def test_pe_times_follow_the_configured_profile(er):
    taus, w_nr, w_er, window = [6.0, 1500.0], [0.7, 0.3], [0.3, 0.7], 6000.0
    p = params(scint={"light_yield": 20.0, "window_ns": window},
               time_profile={"decay_times_ns": taus, "weights_nr": w_nr, "weights_er": w_er})
    _, jag = run(p, 20.0, 5000, er=er)
    t = jag.fields["time_ns"]
    w = w_er if er else w_nr
    assert stats.kstest(t, lambda x: time_cdf(x, taus, w) / time_cdf(window, taus, w)).pvalue > 1e-3
    other = w_nr if er else w_er
    assert stats.kstest(t, lambda x: time_cdf(x, taus, other) / time_cdf(window, taus, other)).pvalue < 1e-10


def test_f90_matches_singlet_fractions_lar():
    """F90 | N ~ Binomial(N, p)/N with p the prompt probability of the NR or ER mixture of singlet and triplet."""
    det = detector(scint={"light_yield": 10.0, "window_ns": 6000.0}, quenching={"model": "coherent_lar"},
                   time_profile={"decay_times_ns": [6.0, 1500.0], "weights_nr": [0.7, 0.3], "weights_er": [0.3, 0.7]},
                   psd={"enabled": True, "prompt_window_ns": 90.0, "f90_min": 0.5, "f90_max": 0.9})
    n = 40_000
    rng = np.random.default_rng(5)
    cols = {"t_nr_kev": np.full(n, 20.0), "target_z": np.full(n, 18, np.int16), "target_a": np.full(n, 40, np.int16),
            "time_ns": np.zeros(n), "recoil_type": (rng.random(n) < 0.5).astype(np.int8)}
    inputs = {k: EVENT_COLUMNS_TRUTH[k] for k in cols if k != "recoil_type"}
    out, _ = Chain(scintillator_steps(det), inputs).run(rng, cols)
    er = cols["recoil_type"] == 1
    qf_nr = 0.246 + 0.00078 * 20.0
    np.testing.assert_allclose(out["e_ee_kevee"], np.where(er, 20.0, 20.0 * qf_nr))  # ER: QF = 1
    for sel, w, f_lit in ((~er, [0.7, 0.3], 0.72), (er, [0.3, 0.7], 0.35)):
        p = prompt_fraction([6.0, 1500.0], w, 90.0, 6000.0)
        assert p == pytest.approx(f_lit, abs=0.01)  # singlet fraction + triplet share in 90 ns
        npe, f90 = out["num_pe"][sel], out["f90"][sel].astype(np.float64)
        ok = npe > 0
        npe, f90 = npe[ok], f90[ok]
        exp_var = np.mean(p * (1 - p) / npe)
        assert f90.mean() == pytest.approx(p, abs=5 * np.sqrt(exp_var / len(f90)))
        assert f90.var() == pytest.approx(exp_var, abs=var_tolerance(f90))
        accepted = stats.binom.cdf(np.floor(0.9 * npe + 1e-4), npe, p) - stats.binom.cdf(np.ceil(0.5 * npe - 1e-4) - 1,
                                                                                          npe, p)
        assert out["psd_pass"][sel][ok].mean() == pytest.approx(accepted.mean(), abs=0.01)


def test_coincidence_of_two_arrays():
    mu, n = 3.0, 100_000
    det = detector(scint={"light_yield": mu, "threshold_pe": 0.0},
                   photosensor={"n_arrays": 2, "array_share": 0.5, "coincidence": True, "coincidence_pe": 1})
    cols = {"t_nr_kev": np.full(n, 10.0), "target_z": np.full(n, 55, np.int16), "target_a": np.full(n, 133, np.int16),
            "time_ns": np.zeros(n)}
    out, _ = Chain(scintillator_steps(det), {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(np.random.default_rng(3),
                                                                                              cols)
    expected = (1 - np.exp(-mu / 2)) ** 2  # binomial split of Poisson light: independent Poisson(mu/2) per array
    assert out["triggered"].mean() == pytest.approx(expected, abs=5 * np.sqrt(expected * (1 - expected) / n))
    np.testing.assert_array_equal(out["num_pe_a"] + out["num_pe_b"], out["num_pe"])


def test_pmt_charge_and_cenns10_resolution():
    """CENNS-10 preset: sigma/E = 0.58/sqrt(E[keVee]) and the CEvNS F90 mean of the COHERENT LAr release."""
    det = load_detector("cenns10_lar")
    e, n = 20.0, 100_000
    t_nr = (-0.246 + np.sqrt(0.246**2 + 4 * 0.00078 * e)) / (2 * 0.00078)  # QF(T) T = 20 keVee
    cols = {"t_nr_kev": np.full(n, t_nr), "target_z": np.full(n, 18, np.int16), "target_a": np.full(n, 40, np.int16),
            "time_ns": np.zeros(n)}
    out, _ = Chain(scintillator_steps(det), {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(np.random.default_rng(4),
                                                                                              cols)
    q = out["charge_pe"].astype(np.float64)
    e_ee = out["e_ee_kevee"][0]
    assert e_ee == pytest.approx(e)
    assert q.std() / q.mean() == pytest.approx(0.58 / np.sqrt(e_ee), rel=0.02)
    # charge variance = N (1 + sigma_spe^2) for Poisson N
    mu = 3.34 * e_ee * time_cdf(6000.0, [6.0, 1500.0], [0.64, 0.36])
    assert q.var() == pytest.approx(mu * (1 + 0.35**2) + 0.012, rel=0.03)
    # mean F90 of nuclear recoils = mean of the released CEvNS F90 PDF in its 0.5-0.9 ROI (0.661)
    f90 = out["f90"][out["num_pe"] > 0]
    assert f90.mean() == pytest.approx(0.661, abs=0.01)


def test_presets_load_with_metadata():
    for name in ("cryocsi", "coherent_csi_na", "cenns10_lar", "nai"):
        det = load_detector(name)
        assert det.technology == "scintillator" and det.reference
        meta = det.module.metadata(det, {})["scintillator"]
        assert meta["pe_per_kevee_with_crosstalk"] > 0
    cryo = load_detector("cryocsi").module.metadata(load_detector("cryocsi"), {})["scintillator"]
    # the measured SiPM LY is reproduced with the correlated noise it contains (not 43/(1-l) or 43 + afterpulses)
    assert cryo["pe_per_kevee_with_correlated_noise"] == pytest.approx(43.0)
    assert cryo["pe_per_kevee_with_crosstalk"] < 43.0
    nai = load_detector("nai")
    n = 1000
    cols = {"t_nr_kev": np.full(n, 10.0), "target_z": np.where(np.arange(n) % 2, 11, 53).astype(np.int16),
            "target_a": np.where(np.arange(n) % 2, 23, 127).astype(np.int16), "time_ns": np.zeros(n)}
    out, _ = Chain(scintillator_steps(nai), {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(np.random.default_rng(1),
                                                                                             cols)
    np.testing.assert_allclose(out["e_ee_kevee"], np.where(cols["target_z"] == 11, 1.5, 0.5))


@pytest.mark.parametrize("section, value, message", [
    ("photosensor", {"kind": "pmt", "crosstalk_lambda": 0.1}, "crosstalk_lambda"),
    ("photosensor", {"crosstalk_lambda": 1.2}, "scintillator.photosensor.crosstalk_lambda = 1.2"),
    ("photosensor", {"coincidence": True}, "coincidence needs n_arrays = 2"),
    ("photosensor", {"gain": 3}, "unknown key 'gain' in [scintillator.photosensor]"),
    ("time_profile", {"decay_times_ns": [6.0, 1500.0], "weights_nr": [1.0]}, "weights_nr has 1 entries"),
    ("scint", {"pde": 0.3}, "pde applies to light_yield_unit"),
    ("scint", {"qf_by_z": {"Na": 0.1}}, "not an atomic number"),
    ("scint", {"light_yield": -1}, "scintillator.light_yield = -1"),
    ("time_profile", {"jitter_ns": 5.0}, "scintillator.pretrigger_ns = 0.0: must be >= 3 x"),
])
def test_config_errors_name_the_key(section, value, message):
    with pytest.raises(ConfigError) as e:
        detector(**{section: value})
    assert message in str(e.value)


def test_beam_time_reference_needs_a_pulsed_source():
    det = detector(scint={"pe_time_reference": "beam"})
    with pytest.raises(ConfigError, match="needs a pulsed source"):
        scintillator_steps(det, {"pulsed": False, "rep_rate_hz": None})


# ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sns_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sns_scint")
    gen = d / "gen.h5"
    generate(load_config(preset="sns_csi", overrides=["generator.chunk_size=5000"]), gen, n_events=10000,
             progress=False)
    det = load_detector("cryocsi", ["scintillator.pe_time_reference=beam"])
    out = {}
    for ext, threads in ((".h5", 1), (".root", 2)):
        out[ext] = d / f"det{ext}"
        simulate_detector(gen, out[ext], det, threads=threads, progress=False)
    return gen, out


def test_jagged_pe_times_round_trip_hdf5_and_root(sns_files):
    gen, out = sns_files
    h5 = EventReader(out[".h5"], stage="detsim", require=["num_pe", "charge_pe", "triggered", "e_ee_kevee"])
    rt = EventReader(out[".root"], stage="detsim")
    (c1, j1), (c2, j2) = h5.read(), rt.read()
    assert h5.n_events == rt.n_events == 10000
    for k in c1:
        np.testing.assert_array_equal(c1[k], c2[k], err_msg=k)  # same chunks, same streams: 1 or 2 threads
    for k in ("time_ns", "array", "kind"):
        np.testing.assert_array_equal(j1["pe"].fields[k], j2["pe"].fields[k], err_msg=k)
    np.testing.assert_array_equal(j1["pe"].counts, c1["num_pe"])
    assert h5.metadata["jagged"]["pe"]["time_ns"] == "ns"
    assert h5.metadata["scintillator"]["pe_per_kevee_with_correlated_noise"] == pytest.approx(43.0)
    # beam reference: each PE time = event time within the pulse + scintillation delay (>= 0, < window)
    ev = np.repeat(np.arange(len(c1["num_pe"])), c1["num_pe"])
    delay = j1["pe"].fields["time_ns"].astype(np.float64) - c1["time_ns"][ev]
    dark = j1["pe"].fields["kind"] == 3
    assert np.all((delay[~dark] > -0.01) & (delay[~dark] < 5000.01))
    assert c1["num_pe"].sum() > 10000 and c1["triggered"].any() and not c1["triggered"].all()


@pytest.mark.skipif(jsroot_dir() is None, reason="node + jsroot not installed (see .ci/run)")
def test_jsroot_reads_the_pe_column(sns_files):
    _, out = sns_files
    s = jsroot_summary(out[".root"])
    cols, jag = EventReader(out[".root"]).read()
    assert s["entries"] == s["tree_entries"] == 10000
    assert s["sums"]["npe"] == int(jag["pe"].counts.sum()) == int(cols["num_pe"].sum())
    assert s["sums"]["pe_time_ns"] == pytest.approx(float(jag["pe"].fields["time_ns"].sum(dtype=np.float64)),
                                                    rel=1e-6)
    assert s["sums"]["pe_kind"] == int(jag["pe"].fields["kind"].sum(dtype=np.int64))
    assert s["sums"]["num_pe"] == int(cols["num_pe"].sum())


def test_lar_stage_er_background_vs_cevns_f90(tmp_path):
    """Through the stage: steady-state electron recoils (recoil_type 1) get QF = 1 and the ER singlet fraction."""
    gen = tmp_path / "ar.h5"
    generate(load_config(preset="sns_csi", overrides=["target.material=Ar", "target.mass_kg=24.4",
                                                      "generator.chunk_size=5000"]), gen, n_events=10000,
             progress=False)
    with data_path("detectors", "cenns10_lar.toml").open("rb") as f:
        raw = tomllib.load(f)
    raw["backgrounds"] = [{"kind": "steady_state", "recoil_type": "er", "e_min_kev": 20.0, "e_max_kev": 40.0,
                           "rate_per_kev_kg_day": 50.0}]
    det = detector_from_dict(raw)
    simulate_detector(gen, tmp_path / "d.h5", det, progress=False)
    c, _ = EventReader(tmp_path / "d.h5").read()
    er = c["recoil_type"] == 1
    assert er.sum() > 500 and np.all(c["origin"][er] == 1)
    np.testing.assert_allclose(c["e_ee_kevee"][er], c["t_nr_kev"][er])  # QF = 1 for electron recoils
    meta = det.module.metadata(det, {})["scintillator"]["prompt_fraction"]
    for sel, expected in ((er, meta["er"]), (~er & (c["num_pe"] >= 30), meta["nr"])):
        f90 = c["f90"][sel]
        assert f90.mean() == pytest.approx(expected, abs=0.02)
    assert c["psd_pass"][er].mean() < 0.01 < 0.5 < c["psd_pass"][~er & (c["num_pe"] >= 30)].mean()


def test_measured_light_yield_counts_crosstalk_and_afterpulses_once():
    # A LY measured with the SiPMs (CryoCsI: 43 PE/keVee, Ding et al. arXiv:2201.00483) contains their correlated
    # noise: the mean of scintillation + crosstalk + afterpulse PE must be LY x E_ee x (light in the window).
    from detsim.scintillator import afterpulse_window_ratio, time_cdf

    lam, p_ap, tau_ap, ly, e, n, window = 0.15, 0.05, 200.0, 43.0, 0.3, 100_000, 5000.0
    det = detector(scint={"light_yield": ly, "ly_includes_crosstalk": True, "window_ns": window},
                   photosensor={"crosstalk_lambda": lam, "afterpulse_probability": p_ap, "afterpulse_tau_ns": tau_ap},
                   time_profile={"decay_times_ns": [1015.0], "weights_nr": [1.0]})
    sc = det.scintillator
    # the in-window afterpulse ratio against a direct integration of P(T + D < W) / P(T < W)
    t = np.linspace(0.0, window, 200_001)
    dens = np.exp(-t / 1015.0) / 1015.0 * -np.expm1(-(window - t) / tau_ap)
    from scipy.integrate import trapezoid

    direct = trapezoid(dens, t) / time_cdf(window, [1015.0], [1.0])
    assert afterpulse_window_ratio(sc) == pytest.approx(direct, rel=1e-6)
    cols = {"t_nr_kev": np.full(n, e / 0.1), "target_z": np.full(n, 55, np.int16), "target_a": np.full(n, 133, np.int16),
            "time_ns": np.zeros(n)}
    out, jag = Chain(scintillator_steps(det), {k: EVENT_COLUMNS_TRUTH[k] for k in cols}).run(np.random.default_rng(3),
                                                                                             cols)
    pe = jag["pe"]
    light = np.isin(pe.fields["kind"], (0, 1, 2)).astype(float)
    per_event = np.bincount(np.repeat(np.arange(n), pe.counts), weights=light, minlength=n)
    expected = ly * e * float(time_cdf(window, [1015.0], [1.0]))
    assert per_event.mean() == pytest.approx(expected, abs=5 * per_event.std() / np.sqrt(n))
    assert per_event.mean() == pytest.approx(expected, rel=0.01)  # the old double counting was +3.5 %
