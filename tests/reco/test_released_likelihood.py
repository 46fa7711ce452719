"""The released-analysis likelihood against analytic results: Cowan et al.'s one-bin significance, the
closed-form Barlow-Beeston-lite profile, shape interpolation, undefined significances, and the asymptotic
distribution of the test statistic under the null."""

import numpy as np
import pytest
from scipy import optimize, stats

from generator._validate import ConfigError
from reco.released.likelihood import (BinnedModel, Component, GridNuisance, ShapeNuisance, _Compiled,
                                      _profiled_bin_nll, asimov_data, count_error_floor, fit,
                                      poisson_toy)


@pytest.fixture
def minuit_calls(monkeypatch):
    """Every (fcn, grad) pair the fits hand to Minuit, in order: the functions the minimiser really sees."""
    from iminuit import Minuit

    calls = []
    real_init = Minuit.__init__

    def spy(self, fcn, *args, grad=None, **kw):
        calls.append((fcn, grad))
        real_init(self, fcn, *args, grad=grad, **kw)

    monkeypatch.setattr(Minuit, "__init__", spy)
    return calls


def test_one_bin_known_background_matches_cowan_formula():
    # Cowan, Cranmer, Gross, Vitells, EPJC 71, 1554 (2011), eq. 97: Z0 = sqrt(2 (n ln(n/b) - (n - b)))
    s, b, n = 7.0, 12.0, 25.0
    model = BinnedModel([Component("cevns", np.array([s])), Component("ssb", np.array([b]), norm_sigma=0.0)],
                        data=np.array([n]))
    r = fit(model)
    assert r.mu == pytest.approx((n - b) / s, rel=1e-3)  # Minuit stops within ~1e-3 of the error
    assert r.significance == pytest.approx(np.sqrt(2 * (n * np.log(n / b) - (n - b))), rel=1e-4)
    assert r.n_signal == pytest.approx(n - b, rel=1e-3)


def test_count_error_floor_is_the_fisher_error_of_a_fit_with_everything_else_known():
    # one bin: the count's variance is the bin's Poisson variance, s + b
    assert count_error_floor({"cevns": np.array([7.0]), "ssb": np.array([12.0])}) == pytest.approx(np.sqrt(19.0))
    # signal in one bin only: the other bins carry no information, whatever their background
    floor = count_error_floor({"cevns": np.array([10.0, 0.0, 0.0]), "ssb": np.array([5.0, 1e4, 3.0])})
    assert floor == pytest.approx(np.sqrt(15.0))
    # many bins, backgrounds fixed and no nuisance: HESSE's error of the Asimov fit is the Fisher (Cramer-Rao) error
    rng = np.random.default_rng(3)
    sig, bkg = rng.uniform(0.5, 20.0, (2, 6, 4))
    model = BinnedModel([Component("cevns", sig), Component("ssb", bkg, norm_sigma=0.0)], data=np.zeros((6, 4)))
    r = fit(model, data=asimov_data(model), significance=False)
    assert r.n_signal_err == pytest.approx(count_error_floor(r.expected), rel=2e-3)
    # a free background can only add to it
    free = BinnedModel([Component("cevns", sig), Component("ssb", bkg, norm_sigma=None)], data=np.zeros((6, 4)))
    r_free = fit(free, data=asimov_data(free), significance=False)
    assert r_free.n_signal_err > 1.01 * count_error_floor(r_free.expected)


def test_asimov_fit_returns_mu_one():
    rng = np.random.default_rng(1)
    sig, bkg, brn = rng.uniform(1, 10, (3, 4, 5))
    lo, hi = 0.8 * brn, 1.3 * brn
    model = BinnedModel([Component("cevns", sig, mc_variance=0.01 * sig), Component("ssb", bkg, norm_sigma=0.05),
                         Component("brn", brn, norm_sigma=0.25)], data=np.zeros((4, 5)),
                        shape_nuisances=[ShapeNuisance("brn_shape", {"brn": (lo, hi)})])
    r = fit(model, data=asimov_data(model))
    assert r.mu == pytest.approx(1.0, abs=1e-4)
    assert r.params["brn_shape"][0] == pytest.approx(0.0, abs=1e-3)
    assert r.n_signal == pytest.approx(sig.sum(), rel=1e-4)


def test_shape_interpolation_hits_the_released_variants():
    nom = np.array([10.0, 20.0, 30.0])
    lo, hi = np.array([8.0, 25.0, 30.0]), np.array([13.0, 18.0, 33.0])
    c = _Compiled(BinnedModel([Component("cevns", nom)], data=nom, shape_nuisances=[ShapeNuisance("q", {"cevns": (lo, hi)})]))
    np.testing.assert_allclose(c.templates(np.array([1.0]))[0], hi)
    np.testing.assert_allclose(c.templates(np.array([-1.0]))[0], lo)
    # beyond one sigma the straight line through the variant (HistFactory's extrapolation)
    np.testing.assert_allclose(c.templates(np.array([2.0]))[0], nom + 2.0 * (hi - nom))
    np.testing.assert_allclose(c.templates(np.array([-1.5]))[0], np.maximum(nom + 1.5 * (lo - nom), 0.0))


def test_shape_interpolation_is_smooth_through_zero_and_one_sigma():
    # pyhf "code 4p": value, slope and curvature continuous at |theta| = 1, no kink at 0 for asymmetric variants;
    # symmetric variants (lo - nom = nom - hi) reduce to the straight line everywhere
    from reco.released.likelihood import interpolation_shift, interpolation_slope

    up, down = np.array([3.0, -2.0, 0.0]), np.array([-1.0, 5.0, 2.0])
    f = lambda t: interpolation_shift(t, up, down)  # noqa: E731
    h = 1e-4
    for t0 in (-1.0, 1.0):
        left, right = t0 - 1e-9, t0 + 1e-9
        np.testing.assert_allclose(f(left), f(right), atol=1e-7)
        np.testing.assert_allclose(interpolation_slope(left, up, down), interpolation_slope(right, up, down), atol=1e-6)
        curv = lambda t: (f(t + h) - 2 * f(t) + f(t - h)) / h**2  # noqa: E731
        np.testing.assert_allclose(curv(t0 - 2 * h), curv(t0 + 2 * h), atol=5e-3)
    np.testing.assert_allclose(f(0.0), 0.0)
    # the slope through 0 is one number (the mean of the two one-sided slopes), not two
    np.testing.assert_allclose(interpolation_slope(0.0, up, down), 0.5 * (up - down))
    np.testing.assert_allclose((f(h) - f(-h)) / (2 * h), 0.5 * (up - down), atol=1e-6)
    for t in (-0.7, -0.2, 0.3, 0.9):
        np.testing.assert_allclose((f(t + h) - f(t - h)) / (2 * h), interpolation_slope(t, up, down), atol=1e-6)
    sym_up = np.array([2.0, -1.0])
    for t in (-0.6, 0.25, 0.8):
        np.testing.assert_allclose(interpolation_shift(t, sym_up, -sym_up), t * sym_up)


@pytest.mark.parametrize("lam,var,n", [(5.0, 2.0, 7.0), (0.0, 0.3, 2.0), (40.0, 1e-6, 31.0), (0.2, 5.0, 0.0),
                                       (1e3, 4e2, 1.1e3)])
def test_barlow_beeston_lite_profile_is_the_minimum(lam, var, n):
    def g(delta):
        x = lam + delta
        return x - (n * np.log(x) if n > 0 else 0.0) + delta * delta / (2 * var)

    res = optimize.minimize_scalar(g, bounds=(-lam + 1e-12, 50 * np.sqrt(var) + 10 * n + 10), method="bounded",
                                   options={"xatol": 1e-12})
    got = _profiled_bin_nll(np.array([lam]), np.array([var]), np.array([n]))[0]
    assert got == pytest.approx(res.fun, rel=1e-6, abs=1e-7)
    assert got <= res.fun + 1e-9


def test_background_free_model_has_undefined_significance():
    model = BinnedModel([Component("cevns", np.array([3.0, 4.0]))], data=np.array([2.0, 6.0]))
    r = fit(model)
    assert r.significance is None and "undefined" in r.significance_note
    assert r.mu == pytest.approx(8.0 / 7.0, rel=1e-4)


def test_events_where_background_is_exactly_zero_make_it_undefined_but_template_statistics_do_not():
    sig = np.array([5.0, 5.0])
    bkg = np.array([10.0, 0.0])
    data = np.array([12.0, 3.0])
    exact = BinnedModel([Component("cevns", sig), Component("ssb", bkg)], data=data)
    assert fit(exact).significance is None
    # the same background known from 100 MC events of weight 0.1 each: the empty bin could hold ~one of them
    var = np.array([10.0 * 0.1, 0.1 ** 2])
    finite = BinnedModel([Component("cevns", sig), Component("ssb", bkg, mc_variance=var)], data=data)
    z = fit(finite).significance
    assert z is not None and np.isfinite(z) and 1.0 < z < 8.0  # finite, not the ~40 sigma a 1e-300 floor invents


@pytest.mark.slow
def test_null_toys_follow_the_asymptotic_half_chi2():
    # Under mu = 0 with mu >= 0, q0 = Z^2 ~ 1/2 delta(0) + 1/2 chi2(1) (Cowan et al. 2011, sec. 3.5)
    rng = np.random.default_rng(20261205)
    sig = np.array([2.0, 6.0, 9.0, 4.0, 1.0])
    bkg = np.array([30.0, 25.0, 20.0, 25.0, 30.0])
    model = BinnedModel([Component("cevns", sig), Component("ssb", bkg, norm_sigma=0.05)], data=bkg)
    q0 = np.array([fit(model, data=poisson_toy(model, rng, mu=0.0)).significance ** 2 for _ in range(400)])
    zero = np.mean(q0 == 0.0)  # mu_hat at its bound: q0 = 0 exactly
    assert abs(zero - 0.5) < 4 * np.sqrt(0.25 / len(q0))
    positive = q0[q0 > 0.0]
    assert stats.kstest(positive, stats.chi2(1).cdf).pvalue > 0.001
    # smooth: no value repeats (the old 1e-300 floor bunched significances at a few values)
    assert len(np.unique(np.round(positive, 6))) == len(positive)


def test_bad_models_are_refused():
    with pytest.raises(ValueError, match="first component"):
        BinnedModel([Component("ssb", np.ones(2))], data=np.ones(2))
    with pytest.raises(ValueError, match="shape"):
        BinnedModel([Component("cevns", np.ones(2)), Component("ssb", np.ones(3))], data=np.ones(2))
    with pytest.raises(ValueError, match="unknown component"):
        BinnedModel([Component("cevns", np.ones(2))], data=np.ones(2),
                    shape_nuisances=[ShapeNuisance("x", {"brn": (np.ones(2), np.ones(2))})])


def test_verify_release_names_missing_and_altered_files(tmp_path, monkeypatch):
    import hashlib

    from reco.released import release_files

    rel = tmp_path / "releases" / "toy"
    rel.mkdir(parents=True)
    (rel / "a.txt").write_text("1 2 3\n")
    digest = hashlib.sha256(b"1 2 3\n").hexdigest()
    (rel / "SHA256SUMS").write_text(f"{digest}  a.txt\n{'0' * 64}  b.txt\n")
    monkeypatch.setattr(release_files, "data_path", lambda *p: tmp_path.joinpath(*p))
    with pytest.raises(ConfigError, match=r"data/releases/toy/b.txt is missing \(expected sha256 0{64}\)"):
        release_files.verify_release("toy")
    (rel / "SHA256SUMS").write_text(f"{digest}  a.txt\n")
    assert release_files.verify_release("toy") == rel
    (rel / "a.txt").write_text("1 2 4\n")
    with pytest.raises(ConfigError, match=f"data/releases/toy/a.txt is altered \\(expected sha256 {digest}\\)"):
        release_files.verify_release("toy")


def test_analytic_gradient_matches_finite_differences(minuit_calls):
    # the gradient Minuit is given equals the numerical derivative of the profiled NLL, BB-lite bins included
    rng = np.random.default_rng(5)
    sig, bkg, brn = rng.uniform(0.5, 10, (3, 12))
    bkg[3] = 0.0
    model = BinnedModel([Component("cevns", sig, mc_variance=0.05 * sig),
                         Component("ssb", bkg, norm_sigma=0.1, mc_variance=0.02 * bkg + 0.01),
                         Component("brn", brn, norm_sigma=0.3)], rng.poisson(sig + bkg + brn).astype(float),
                        [ShapeNuisance("shape", {"brn": (0.7 * brn, 1.2 * brn), "cevns": (0.9 * sig, 1.05 * sig)})])
    fit(model, significance=False)
    nll, grad = minuit_calls[-1]
    for p in ([1.1, 0.95, 1.2, 0.4], [0.7, 1.05, 0.8, -0.6]):
        p = np.array(p)
        num = np.array([(nll(p + h) - nll(p - h)) / 2e-6 for h in 1e-6 * np.eye(len(p))])
        np.testing.assert_allclose(grad(p), num, rtol=1e-5, atol=1e-5)


def test_templates_are_interpolated_once_per_point_and_the_fit_is_unchanged(monkeypatch):
    # Minuit evaluates the NLL and then its gradient at the same point: the interpolation is kept from one to the
    # other. The fit must be the same as with a fresh interpolation at every call.
    rng = np.random.default_rng(8)
    sig, bkg, brn = rng.uniform(0.5, 10, (3, 4, 6))
    model = BinnedModel([Component("cevns", sig), Component("ssb", bkg, norm_sigma=0.1),
                         Component("brn", brn, norm_sigma=0.3)], rng.poisson(sig + bkg + brn).astype(float),
                        [ShapeNuisance("shape", {"brn": (0.7 * brn, 1.2 * brn), "cevns": (0.9 * sig, 1.05 * sig)})])
    calls = {"interpolate": 0, "raw": 0}
    real_interpolate, real_raw = _Compiled.interpolate, _Compiled.raw_templates

    def counting_interpolate(self, theta):
        calls["interpolate"] += 1
        return real_interpolate(self, theta)

    def counting_raw(self, theta):
        calls["raw"] += 1
        return real_raw(self, theta)

    monkeypatch.setattr(_Compiled, "interpolate", counting_interpolate)
    monkeypatch.setattr(_Compiled, "raw_templates", counting_raw)
    cached = fit(model)
    assert calls["interpolate"] < 0.6 * calls["raw"]
    monkeypatch.setattr(_Compiled, "raw_templates", lambda self, theta: real_interpolate(self, theta))
    fresh = fit(model)
    assert cached.mu == fresh.mu and cached.significance == fresh.significance
    assert cached.params == fresh.params


def test_fitted_count_error_goes_through_the_covariance():
    # One bin, no background, a nuisance that only rescales the signal: the count n is fixed by the data alone,
    # so its error is sqrt(n) (Poisson), although mu alone trades off against the nuisance and has a larger error.
    model = BinnedModel([Component("cevns", np.array([10.0]))], data=np.array([25.0]),
                        shape_nuisances=[ShapeNuisance("norm", {"cevns": (np.array([9.0]), np.array([11.0]))})])
    r = fit(model, significance=False)
    assert r.n_signal == pytest.approx(25.0, rel=1e-3)
    assert r.n_signal_err == pytest.approx(5.0, rel=0.02)
    # the old mu_err x template estimate: sqrt(25 + (0.1 x 25)^2) = 5.59, the nuisance counted in the count
    assert r.mu_err * 10.0 == pytest.approx(np.sqrt(25 + 2.5**2), rel=0.02)


def test_numba_profiled_terms_equal_the_numpy_reference():
    # the compiled per-bin profile (value and derivatives) against the numpy formulas, zero-variance and empty
    # bins included
    from reco.released._kernels import profiled_derivatives, profiled_nll_sum
    from reco.released.likelihood import _profiled_bin_derivatives

    rng = np.random.default_rng(17)
    lam = rng.uniform(0.0, 50.0, 400)
    var = np.where(rng.uniform(size=400) < 0.3, 0.0, rng.uniform(0.0, 20.0, 400))
    n = rng.poisson(lam).astype(float)
    lam[:5], var[:5], n[:5] = [0.0, 0.0, 3.0, 1e-9, 2.0], [0.5, 1.0, 0.0, 4.0, 1e-12], [0.0, 4.0, 0.0, 7.0, 1.0]
    np.testing.assert_allclose(profiled_nll_sum(lam, var, n), np.sum(_profiled_bin_nll(lam, var, n)), rtol=1e-12)
    g_lam, g_var = np.empty_like(lam), np.empty_like(lam)
    profiled_derivatives(lam, var, n, g_lam, g_var)
    ref_lam, ref_var = _profiled_bin_derivatives(lam, var, n)
    np.testing.assert_allclose(g_lam, ref_lam, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_var, ref_var, rtol=1e-12, atol=1e-12)
    # an observed event where the model has no expectation and no template variance: the likelihood is zero
    assert profiled_nll_sum(np.array([0.0]), np.array([0.0]), np.array([1.0])) == np.inf


def test_compiled_fixed_template_nll_equals_the_general_one(minuit_calls):
    # without shape nuisances the fit runs one compiled pass (value and gradient); it must be the general NLL
    rng = np.random.default_rng(8)
    sig, bkg, brn = rng.uniform(0.0, 10, (3, 30))
    bkg[3] = 0.0
    comps = [Component("cevns", sig, mc_variance=0.05 * sig), Component("ssb", bkg, norm_sigma=0.1,
             mc_variance=0.02 * bkg), Component("brn", brn, norm_sigma=None)]
    data = rng.poisson(sig + bkg + brn).astype(float)
    fit(BinnedModel(comps, data), significance=False)
    # the same model with an inert shape nuisance takes the general path
    inert = [ShapeNuisance("none", {"brn": (brn, brn)})]
    fit(BinnedModel(comps, data, inert), significance=False)
    (f_fast, g_fast), (f_gen, g_gen) = minuit_calls
    assert f_fast.__name__ == "nll_fixed_templates" and f_gen.__name__ == "nll"
    for p in ([1.1, 0.95, 1.2], [0.3, 1.4, 0.6], [0.0, 1.0, 2.0]):
        q = np.array(p + [0.0])
        assert f_fast(np.array(p)) == pytest.approx(f_gen(q), rel=1e-12)
        np.testing.assert_allclose(g_fast(np.array(p)), g_gen(q)[:3], rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------------------------------------
# 2-D anchor grid (GridNuisance): natural cubic splines in each parameter through the released anchors

GRID = np.arange(-3.0, 4.0)


def _grid_model(rng, n_bins=6, templates=None, data=None):
    sig, bkg = rng.uniform(1.0, 10.0, (2, n_bins))
    if templates is None:  # a response with cross terms and curvature, positive everywhere on the grid
        x, y = np.meshgrid(GRID, GRID, indexing="ij")
        a, b = rng.uniform(-0.08, 0.08, (2, n_bins))
        cxy = rng.uniform(-0.03, 0.03, n_bins)
        q = rng.uniform(-0.01, 0.01, n_bins)
        f = 1.0 + a * x[..., None] + b * y[..., None] + cxy * (x * y)[..., None] + q * (x * x)[..., None]
        templates = {"cevns": sig * f, "bkg": bkg * (1.0 + 0.5 * a * x[..., None] - 0.5 * b * y[..., None])}
    sig, bkg = templates["cevns"][3, 3], templates["bkg"][3, 3]
    comps = [Component("cevns", sig, mc_variance=0.01 * sig), Component("bkg", bkg, norm_sigma=0.2)]
    grid = GridNuisance(("t_x", "t_y"), GRID, GRID, templates)
    return BinnedModel(comps, sig + bkg if data is None else data, grid_nuisances=[grid])


def test_grid_nuisance_reproduces_every_anchor_and_is_smooth():
    rng = np.random.default_rng(21)
    model = _grid_model(rng)
    c = _Compiled(model)
    t = model.grid_nuisances[0].templates
    for i, x in enumerate(GRID):
        for j, y in enumerate(GRID):
            raw = c.raw_templates(np.array([x, y]))
            np.testing.assert_allclose(raw[0], t["cevns"][i, j], rtol=1e-12)
            np.testing.assert_allclose(raw[1], t["bkg"][i, j], rtol=1e-12)
    # twice continuously differentiable across an anchor (the tensor product of natural cubic splines): the
    # one-sided second differences at theta_x = 1 agree, where a bilinear interpolation would have a kink
    f = lambda x: c.raw_templates(np.array([x, 0.4]))[0]  # noqa: E731
    h = 1e-3
    left = (f(1.0) - 2 * f(1.0 - h) + f(1.0 - 2 * h)) / h**2
    right = (f(1.0 + 2 * h) - 2 * f(1.0 + h) + f(1.0)) / h**2
    np.testing.assert_allclose(left, right, atol=1e-2 * np.abs(left).max() + 1e-6)
    slope_l, slope_r = (f(1.0) - f(1.0 - h)) / h, (f(1.0 + h) - f(1.0)) / h
    np.testing.assert_allclose(slope_l, slope_r, atol=5e-3 * np.abs(slope_l).max())


def test_grid_nuisance_on_a_separable_grid_is_the_one_dimensional_interpolation():
    from scipy.interpolate import CubicSpline

    rng = np.random.default_rng(4)
    nom = rng.uniform(2.0, 8.0, 5)
    ux, uy = rng.uniform(-0.5, 0.5, (2, 5))
    x, y = np.meshgrid(GRID, GRID, indexing="ij")
    # linear and additive in both parameters: exactly two "code 4p" shape nuisances with symmetric +-1 variants
    linear = nom + ux * x[..., None] + uy * y[..., None]
    m2 = BinnedModel([Component("cevns", nom)], nom, grid_nuisances=[GridNuisance(("a", "b"), GRID, GRID,
                                                                                  {"cevns": linear})])
    m1 = BinnedModel([Component("cevns", nom)], nom, [ShapeNuisance("a", {"cevns": (nom - ux, nom + ux)}),
                                                      ShapeNuisance("b", {"cevns": (nom - uy, nom + uy)})])
    c2, c1 = _Compiled(m2), _Compiled(m1)
    for th in ([0.3, -0.7], [-2.6, 1.9], [2.95, 0.05], [-1.0, 1.0]):
        th = np.array(th)
        np.testing.assert_allclose(c2.raw_templates(th), c1.raw_templates(th), rtol=1e-12)
        for s2, s1 in zip(c2.slopes(th), c1.slopes(th)):
            np.testing.assert_allclose(s2, s1, rtol=1e-10, atol=1e-12)
    # additive but curved: the sum of the two 1-D natural splines through the anchors
    gx, gy = rng.uniform(-0.3, 0.3, (2, 7, 5))
    gx[3], gy[3] = 0.0, 0.0
    curved = nom + gx[:, None, :] + gy[None, :, :]
    c3 = _Compiled(BinnedModel([Component("cevns", nom)], nom, grid_nuisances=[
        GridNuisance(("a", "b"), GRID, GRID, {"cevns": curved})]))
    sx, sy = CubicSpline(GRID, gx, bc_type="natural"), CubicSpline(GRID, gy, bc_type="natural")
    for tx, ty in ((0.5, -0.25), (-2.2, 2.7)):
        np.testing.assert_allclose(c3.raw_templates(np.array([tx, ty]))[0], nom + sx(tx) + sy(ty), rtol=1e-12)


def test_grid_nuisance_gradient_matches_finite_differences(minuit_calls):
    rng = np.random.default_rng(9)
    model = _grid_model(rng, n_bins=8)
    model.data = rng.poisson(asimov_data(model) * 1.3).astype(float)
    model.shape_nuisances = [ShapeNuisance("one_d", {"bkg": (0.8 * model.components[1].expected,
                                                             1.1 * model.components[1].expected)})]
    fit(model, significance=False)
    nll, grad = minuit_calls[-1]
    for p in ([1.1, 0.95, 0.3, 0.4, -0.8], [0.7, 1.05, -0.5, -2.3, 1.6], [1.3, 1.0, 0.0, 1.0, -1.0]):
        p = np.array(p)
        num = np.array([(nll(p + h) - nll(p - h)) / 2e-6 for h in 1e-6 * np.eye(len(p))])
        np.testing.assert_allclose(grad(p), num, rtol=1e-5, atol=1e-5)


def test_grid_nuisance_asimov_fit_returns_the_nominal_point():
    rng = np.random.default_rng(13)
    model = _grid_model(rng, n_bins=10)
    r = fit(model, data=asimov_data(model))
    assert r.valid
    assert r.mu == pytest.approx(1.0, abs=1e-3)
    assert r.params["t_x"][0] == pytest.approx(0.0, abs=1e-3)
    assert r.params["t_y"][0] == pytest.approx(0.0, abs=1e-3)
    assert r.params["norm_bkg"][0] == pytest.approx(1.0, abs=1e-3)
    # the N(0, 1) priors: with a data set that carries no information on the shape, the fitted errors are ~1
    assert 0.3 < r.params["t_x"][1] <= 1.0 + 1e-3


def test_bad_grid_nuisances_are_refused():
    rng = np.random.default_rng(1)
    model = _grid_model(rng)
    t = model.grid_nuisances[0].templates
    comps = model.components
    with pytest.raises(ValueError, match="differ from the component's expected"):
        BinnedModel(comps, model.data, grid_nuisances=[GridNuisance(("a", "b"), GRID, GRID,
                                                                    {"cevns": 1.1 * t["cevns"]})])
    with pytest.raises(ValueError, match="unknown component"):
        BinnedModel(comps, model.data, grid_nuisances=[GridNuisance(("a", "b"), GRID, GRID, {"x": t["cevns"]})])
    with pytest.raises(ValueError, match="within the anchors"):
        BinnedModel(comps, model.data, grid_nuisances=[GridNuisance(("a", "b"), GRID, GRID, t,
                                                                    bounds=((-5, 5), (-3, 3)))])
    with pytest.raises(ValueError, match="repeat"):
        BinnedModel(comps, model.data, [ShapeNuisance("a", {})], [GridNuisance(("a", "b"), GRID, GRID, t)])
    with pytest.raises(ValueError, match="templates have shape"):
        BinnedModel(comps, model.data, grid_nuisances=[GridNuisance(("a", "b"), GRID, GRID[:-1], t)])
