"""Skipper-CCD technology (detsim.ccd): electron counts against the Fano moments, the skipper noise scaling, the
diffusion width against depth, dark-current seeds, the numba kernel against its interpreted source, the silicon
quenching table, config errors, and the chain end to end (connie_skipper)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from detsim.ccd import (
    CCDConfig,
    RECOIL_DARK,
    ccd_response,
    dark_cluster_rate_per_kg_day,
    dark_lambda,
    diffusion_sigma_um,
    electron_moments,
    pixels_per_kg,
    readout_noise_e,
    sample_electrons_numpy,
    sheppard_sigma_um,
)
from detsim.config import detector_from_dict, load_detector
from detsim.quenching import QuenchingModel, lindhard_qf, si_chavarria_qf
from generator._validate import ConfigError

QUIET = dict(single_sample_noise_e=0.0, dark_current_e_per_pix_day=0.0, pixel_threshold_e=0.5,
             cluster_threshold_e=0.5)


def run(ccd, e_kevee, depth, seed=1, recoil=None, jit=True):
    n = len(e_kevee)
    rt = np.zeros(n, dtype=np.int8) if recoil is None else recoil
    return ccd_response(np.random.default_rng(seed), np.asarray(e_kevee, float), rt, np.asarray(depth, float), ccd,
                        jit=jit)


# --- electrons -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mu", [2.3, 10.0, 57.4, 400.0])
def test_electron_count_mean_and_fano_variance(mu):
    """Kernel counts at a fixed mean: sample mean and variance against electron_moments (F mu + the integer term,
    Rodrigues et al. 2021 F = 0.119), within 4 standard errors; the numpy reference sampler follows the same law."""
    ccd = CCDConfig(**QUIET)
    n = 40000
    e = np.full(n, mu * ccd.pair_energy_ev * 1e-3)
    k = run(ccd, e, np.zeros(n))["num_electrons"].astype(float)
    m, v = electron_moments(mu, ccd.fano)
    assert abs(k.mean() - m) < 4 * np.sqrt(v / n)
    se_var = v * np.sqrt(2.0 / (n - 1)) * 1.5  # (kurtosis of a near-binomial: 1.5 x the Gaussian error is generous)
    assert abs(k.var() - v) < 4 * se_var
    ref = sample_electrons_numpy(np.random.default_rng(5), np.full(n, mu), ccd.fano).astype(float)
    assert stats.ks_2samp(k, ref).pvalue > 1e-3
    if mu >= 100:  # the integer term is negligible: the variance is the Fano one
        assert v == pytest.approx(ccd.fano * mu, rel=0.01)


def test_electron_pmf_is_the_mixed_binomial():
    """Chi-square of the kernel's counts at mu = 5.5 against the exact pmf (mixture of two binomials)."""
    ccd = CCDConfig(**QUIET)
    mu, n = 5.5, 30000
    k = run(ccd, np.full(n, mu * ccd.pair_energy_ev * 1e-3), np.zeros(n), seed=9)["num_electrons"]
    trials = mu / (1 - ccd.fano)
    lo, w = int(np.floor(trials)), trials - np.floor(trials)
    ks = np.arange(0, lo + 2)
    pmf = (1 - w) * stats.binom.pmf(ks, lo, 1 - ccd.fano) + w * stats.binom.pmf(ks, lo + 1, 1 - ccd.fano)
    obs = np.bincount(k, minlength=len(ks))[: len(ks)]
    keep = pmf * n > 5
    exp = pmf[keep] * n
    chi2 = ((obs[keep] - exp) ** 2 / exp).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


# --- readout noise ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("samples", [1, 16, 400])
def test_skipper_noise_scales_as_one_over_sqrt_n(samples):
    """A pixel averaging N samples reads its charge + N(0, sigma_1 / sqrt(N)). Deposits of ~200 electrons without
    diffusion (A = 0) land in one pixel; with the pixel threshold at 100 e- no noise pixel joins, so cluster charge -
    num_electrons is that pixel's noise: KS against N(0, 2 / sqrt(N)) at a fixed seed, and its spread scales as
    1/sqrt(N)."""
    ccd = CCDConfig(single_sample_noise_e=2.0, skipper_samples=samples, dark_current_e_per_pix_day=0.0,
                    diffusion_a_um2=0.0, pixel_threshold_e=100.0, cluster_threshold_e=100.0, patch_pixels=3)
    sigma = readout_noise_e(2.0, samples)
    assert ccd.readout_noise_e == pytest.approx(sigma) == pytest.approx(2.0 / np.sqrt(samples))
    n = 5000
    out = run(ccd, np.full(n, 200 * ccd.pair_energy_ev * 1e-3), np.zeros(n), seed=samples)
    assert np.all(out["num_pixels"] == 1)
    noise = out["cluster_charge_e"] - out["num_electrons"]
    assert stats.kstest(noise, "norm", args=(0.0, sigma)).pvalue > 1e-3


def test_single_electrons_are_counted_with_sub_electron_noise():
    """With 400 samples (0.15 e-) a 1-electron pixel is measured 1 +- 0.15: the cluster charge of single-electron
    deposits (no diffusion spread out of one pixel: A = 0) is N(1, 0.15) (KS)."""
    ccd = CCDConfig(single_sample_noise_e=3.0, skipper_samples=400, dark_current_e_per_pix_day=0.0,
                    diffusion_a_um2=0.0, pixel_threshold_e=0.5, cluster_threshold_e=0.5)
    n = 30000
    out = run(ccd, np.full(n, 1.0 * ccd.pair_energy_ev * 1e-3), np.zeros(n), seed=4)
    one = (out["num_electrons"] == 1) & (out["num_pixels"] == 1)
    assert one.sum() > 1000
    assert stats.kstest(out["cluster_charge_e"][one] - 1.0, "norm", args=(0.0, 0.15)).pvalue > 1e-3


# --- diffusion -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [50.0, 300.0, 600.0])
def test_diffusion_width_vs_depth(depth):
    """Charge-weighted RMS of the cluster's pixels: E[rms^2] = sigma(z)^2 + p^2 / 12 (Sheppard) for the DAMIC model
    sigma^2 = -A ln(1 - b z), on 2 um pixels and a patch wide enough that no charge is clipped."""
    ccd = CCDConfig(**{**QUIET, "pixel_size_um": 2.0, "patch_pixels": 41, "diffusion_a_um2": 20.0})
    s = float(diffusion_sigma_um(depth, 20.0, 8.8e-4))
    assert s**2 == pytest.approx(-20.0 * np.log(1 - 8.8e-4 * depth))
    n = 400
    out = run(ccd, np.full(n, 2000 * ccd.pair_energy_ev * 1e-3), np.full(n, depth), seed=int(depth))
    assert np.allclose(out["diffusion_sigma_um"], s, rtol=1e-6)
    got = np.sqrt(np.mean(out["cluster_rms_um"].astype(float) ** 2))
    assert got == pytest.approx(float(sheppard_sigma_um(s, 2.0)), rel=0.03)


def test_diffusion_limits_at_the_gates_and_for_shallow_charge():
    """Analytic limits of sigma^2 = -A ln(1 - b z): no spread for charge made at the gates (z = 0: the whole deposit
    lands in the one pixel it was made in, RMS 0), and free diffusion sigma^2 -> A b z (linear in the drift
    distance) for b z << 1, with the next term A (b z)^2 / 2."""
    a, b = 216.2, 8.8e-4
    assert float(diffusion_sigma_um(0.0, a, b)) == 0.0
    for z in (0.5, 5.0, 50.0):  # b z from 4e-4 (above float cancellation in ln(1 - b z)) to 0.04
        x = b * z
        assert float(diffusion_sigma_um(z, a, b)) ** 2 == pytest.approx(a * x * (1 + x / 2), rel=x * x)
    ccd = CCDConfig(**QUIET)
    n = 200
    out = run(ccd, np.full(n, 300 * ccd.pair_energy_ev * 1e-3), np.zeros(n), seed=9)
    assert (out["num_electrons"] > 200).all()
    assert (out["num_pixels"] == 1).all() and (out["cluster_rms_um"] == 0).all()
    np.testing.assert_array_equal(out["cluster_charge_e"], out["num_electrons"])


def test_deeper_charge_spreads_over_more_pixels():
    """Monotonic: the mean number of cluster pixels of 100-electron deposits grows with depth (15 um pixels)."""
    ccd = CCDConfig(**QUIET)
    n = 2000
    means = [run(ccd, np.full(n, 100 * 3.749e-3), np.full(n, z), seed=3)["num_pixels"].mean() for z in (5, 300, 670)]
    assert means[0] < means[1] < means[2]
    assert means[0] < 4.5 and means[2] > 6


# --- dark current ----------------------------------------------------------------------------------------------
def test_dark_current_per_pixel_is_poisson():
    """Zero-deposit events, no noise, 3x3 patch: no cluster when none of the 9 pixels holds a dark electron,
    P = exp(-9 lambda) with lambda = 2.4 e-/pix/day x 3 h = 0.3. (The per-pixel Poisson law itself is tested exactly
    in the dark-seed test below, through the 8 neighbours of a seed.)"""
    ccd = CCDConfig(single_sample_noise_e=0.0, dark_current_e_per_pix_day=2.4, image_exposure_h=3.0,
                    pixel_threshold_e=0.5, cluster_threshold_e=0.5, patch_pixels=3)
    lam = dark_lambda(ccd)
    assert lam == pytest.approx(0.3)
    n = 20000
    out = run(ccd, np.zeros(n), np.zeros(n), seed=2)
    p0 = np.mean(out["num_pixels"] == 0)
    assert abs(p0 - np.exp(-9 * lam)) < 4 * np.sqrt(np.exp(-9 * lam) * (1 - np.exp(-9 * lam)) / n)
    q = out["cluster_charge_e"]
    assert np.all(q == np.round(q))  # whole electrons: no noise configured
    assert q.mean() <= 9 * lam + 4 * np.sqrt(9 * lam / n)  # a cluster holds at most the patch's dark charge


def test_dark_seeds_follow_the_truncated_poisson_and_rate():
    """Sensor-only events (recoil_type 3): the seed holds k >= dark_seed_min_e dark electrons with the truncated
    Poisson law; the rate is pixels/kg x images/day x P(k >= k_min)."""
    ccd = CCDConfig(single_sample_noise_e=0.0, dark_current_e_per_pix_day=8.0, image_exposure_h=3.0,
                    pixel_threshold_e=0.5, cluster_threshold_e=0.5, patch_pixels=3, dark_seed_min_e=2)
    lam = dark_lambda(ccd)  # 1.0
    n = 20000
    out = run(ccd, np.zeros(n), np.zeros(n), seed=8, recoil=np.full(n, RECOIL_DARK, dtype=np.int8))
    assert np.all(out["num_electrons"] == 0)
    assert np.all(out["cluster_charge_e"] >= 2)
    assert pixels_per_kg(ccd) == pytest.approx(1e3 / ((15e-4) ** 2 * 0.0675 * 2.329))
    want = pixels_per_kg(ccd) * 8.0 * stats.poisson.sf(1, lam)
    assert dark_cluster_rate_per_kg_day(ccd) == pytest.approx(want)
    # 3x3 patch, no noise: every pixel touches the seed, so the cluster holds the seed (truncated Poisson) plus the
    # dark charge of its 8 neighbours (Poisson(8 lambda)); chi-square of the total against that convolution
    k = out["cluster_charge_e"].astype(int)
    seed = np.zeros(60)
    seed[2:] = stats.poisson.pmf(np.arange(2, 60), lam) / stats.poisson.sf(1, lam)
    pmf = np.convolve(seed, stats.poisson.pmf(np.arange(60), 8 * lam))[:60]
    obs = np.bincount(k, minlength=60)[:60]
    exp = pmf * n
    keep = exp > 5
    chi2 = ((obs[keep] - exp[keep]) ** 2 / exp[keep]).sum()
    assert keep.sum() > 8 and stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


# --- kernel vs interpreted source ------------------------------------------------------------------------------
def test_kernel_is_the_interpreted_reference_draw_for_draw():
    ccd = CCDConfig(single_sample_noise_e=2.0, skipper_samples=25, dark_current_e_per_pix_day=2.0,
                    image_exposure_h=2.0, pixel_threshold_e=0.6, cluster_threshold_e=2.0, dark_seed_min_e=1)
    rng = np.random.default_rng(0)
    n = 300
    e, z = rng.exponential(0.05, n), rng.uniform(0, 675, n)
    rt = np.where(rng.random(n) < 0.2, RECOIL_DARK, 0).astype(np.int8)
    a = run(ccd, e, z, seed=3, recoil=rt)
    b = run(ccd, e, z, seed=3, recoil=rt, jit=False)
    for k in ("num_electrons", "num_pixels"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    for k in ("cluster_charge_e", "cluster_rms_um", "diffusion_sigma_um"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-12, err_msg=k)


# --- quenching -------------------------------------------------------------------------------------------------
def test_si_chavarria_quenching_table():
    """Chavarria et al., PRD 94, 082007 (2016), arXiv:1608.00957: 0.06 keVee at 0.68 keVnr and 0.39 keVee at 2.28 keVnr
    (QF 8.8 % and 17.1 %), below Lindhard k = 0.15 (20.3 % and 24.2 %); continuous at both ends of the table."""
    assert si_chavarria_qf(0.68) * 0.68 == pytest.approx(0.06, abs=1e-12)
    assert si_chavarria_qf(2.28) * 2.28 == pytest.approx(0.39, abs=1e-12)
    for t in (0.68, 1.5, 2.28):
        assert si_chavarria_qf(t) < lindhard_qf(t, 14, 0.15)
    for edge in (0.68, 2.28):
        assert si_chavarria_qf(edge * (1 - 1e-9)) == pytest.approx(si_chavarria_qf(edge * (1 + 1e-9)), rel=1e-6)
    t = np.geomspace(0.01, 20, 500)
    assert np.all(np.diff(si_chavarria_qf(t) * t) > 0)  # invertible for reco
    assert QuenchingModel("si_chavarria").qf(np.array([1.0]), 14, 28)[0] == pytest.approx(si_chavarria_qf(1.0))


# --- config ----------------------------------------------------------------------------------------------------
def base():
    return {"technology": "ccd", "target_material": "Si", "ccd": {}}


@pytest.mark.parametrize("key,value,message", [
    ("single_sample_noise_e", -0.1, "ccd.single_sample_noise_e = -0.1: must be >= 0"),
    ("skipper_samples", 0, "ccd.skipper_samples = 0: must be >= 1"),
    ("fano", 1.2, "ccd.fano = 1.2: must be < 1"),
    ("pixel_threshold_e", -1.0, "ccd.pixel_threshold_e = -1.0: must be >= 0"),
    ("cluster_threshold_e", 0.2, "ccd.cluster_threshold_e = 0.2: must be >= ccd.pixel_threshold_e"),
    ("dark_current_e_per_pix_day", -1e-3, "ccd.dark_current_e_per_pix_day = -0.001: must be >= 0"),
    ("patch_pixels", 8, "ccd.patch_pixels = 8: must be odd"),
    ("diffusion_b_per_um", 2e-3, "ccd.diffusion_b_per_um = 0.002: b x thickness_um"),
])
def test_config_errors_name_the_key(key, value, message):
    raw = base()
    raw["ccd"][key] = value
    with pytest.raises(ConfigError) as e:
        detector_from_dict(raw)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_dark_clusters_only_for_ccds_and_rate_follows_the_ccd_table():
    with pytest.raises(ConfigError, match="dark_clusters"):
        detector_from_dict({"technology": "hpge", "backgrounds": [{"kind": "dark_clusters"}]})
    raw = {**base(), "backgrounds": [{"kind": "dark_clusters"}]}
    raw["ccd"] = {"dark_current_e_per_pix_day": 0.5, "image_exposure_h": 2.0}
    det = detector_from_dict(raw)
    assert det.backgrounds[0].rate_per_kg_day == pytest.approx(dark_cluster_rate_per_kg_day(det.ccd))
    raw["ccd"]["dark_current_e_per_pix_day"] = 1.0  # an override of [ccd] recomputes the rate
    assert detector_from_dict(raw).backgrounds[0].rate_per_kg_day > det.backgrounds[0].rate_per_kg_day


# --- chain end to end ------------------------------------------------------------------------------------------
def test_connie_skipper_chain_and_reco_energy(tmp_path):
    """Generate Si recoils at a reactor, run the connie_skipper detector, reconstruct keVee from the cluster charge."""
    from detsim.simulate import simulate_detector
    from generator.config import load_config
    from generator.eventfile import EventReader
    from generator.generate import generate
    from reco.analysis import reconstruct_columns

    cfg = load_config(preset="connie_skipper", overrides=["generator.chunk_size=3000"])
    gen, out = tmp_path / "g.h5", tmp_path / "d.h5"
    generate(cfg, gen, n_events=3000, seed=3, progress=False)
    from reco.run import detector_for_run

    det = detector_for_run(cfg)  # the run preset adds the reactor-OFF live time
    assert det.source_off_live_days == pytest.approx(7.085)
    meta = simulate_detector(gen, out, det, seed=4, threads=1, progress=False)
    assert meta["ccd"]["readout_noise_e"] == pytest.approx(0.15)
    r = EventReader(out)
    cols, _ = r.read()
    sig = cols["origin"] == 0
    assert {"num_electrons", "cluster_charge_e", "num_pixels", "triggered"} <= set(cols)
    assert np.any(cols["origin"][~sig] == 1) and np.any(cols["source_on"] == 0)
    trig = cols["triggered"] & sig
    assert 0.02 < trig.mean() < 0.9
    assert np.all(cols["cluster_charge_e"][cols["triggered"]] >= 3.5)
    rec = reconstruct_columns(cols, r.metadata)
    np.testing.assert_allclose(rec["e_rec_kevee"], cols["cluster_charge_e"] * 3.749e-3)
    # keVnr inverts the si_chavarria curve: 0.39 keVee <-> 2.28 keVnr
    from reco.energy import kevnr_from_kevee

    assert kevnr_from_kevee(np.array([0.39]), r.metadata["detector"], r.metadata["generator_config"])[0] == \
        pytest.approx(2.28, rel=2e-3)


def test_electron_recoil_backgrounds_are_not_quenched(tmp_path):
    """A flat ER background and the calorimeters' low-energy-excess spectrum used as electron recoils in a CCD:
    their electrons follow E / eps unquenched (mean of num_electrons / (1000 E / eps) = 1 within 4 standard errors),
    while CEvNS recoils carry the Si QF."""
    from detsim.simulate import simulate_detector
    from generator.config import load_config
    from generator.eventfile import EventReader
    from generator.generate import generate

    cfg = load_config(preset="connie_skipper", overrides=["generator.chunk_size=2000"])
    gen, out = tmp_path / "g.h5", tmp_path / "d.h5"
    generate(cfg, gen, n_events=2000, seed=5, progress=False)
    raw = {"technology": "ccd", "target_material": "Si", "quenching": {"model": "si_chavarria"},
           "ccd": {"single_sample_noise_e": 0.0},
           "backgrounds": [
               {"kind": "steady_state", "recoil_type": "er", "e_min_kev": 0.05, "e_max_kev": 1.0,
                "rate_per_kev_kg_day": 2e5},
               {"kind": "steady_state", "recoil_type": "er", "spectrum": "lee", "e_min_kev": 0.02, "e_max_kev": 0.5,
                "slope_kev": 0.05, "exp_fraction": 0.5, "power_index": 2.0, "rate_per_kg_day": 2e5}]}
    simulate_detector(gen, out, detector_from_dict(raw), seed=6, threads=1, progress=False)
    c, _ = EventReader(out).read()
    bg = c["origin"] != 0  # the flat ER (origin 1, steady state) and the LEE (origin 4)
    assert np.any(c["origin"] == 1) and np.any(c["origin"] == 4)
    assert bg.sum() > 1000 and np.all(c["recoil_type"][bg] == 1)
    mu = c["t_nr_kev"][bg] * 1e3 / 3.749
    ratio = c["num_electrons"][bg].sum() / mu.sum()
    assert abs(ratio - 1.0) < 4 * np.sqrt(0.119 * mu.sum() + 0.2 * bg.sum()) / mu.sum()
    np.testing.assert_allclose(c["e_ion_kevee"][bg], c["t_nr_kev"][bg])
    sig = c["origin"] == 0
    np.testing.assert_allclose(c["e_ion_kevee"][sig], si_chavarria_qf(c["t_nr_kev"][sig]) * c["t_nr_kev"][sig])
