"""Binned Poisson profile likelihood of a released analysis: signal strength, background normalisations,
shape nuisances and finite template statistics.

Model per bin b (any N-d binning, flattened):

    lambda_b = mu * S_b(theta) + sum_j n_j * B_jb(theta)

- ``mu`` is the CEvNS signal strength in units of this package's SM prediction (sigma_meas / sigma_SM),
  unconstrained and >= 0;
- ``n_j`` scales background j; a Gaussian prior N(1, sigma_j) where the paper gives one, fixed at 1 for
  sigma_j = 0, free (>= 0) for None;
- ``theta_k ~ N(0, 1)`` moves every component it touches between the released -1 sigma, nominal and +1 sigma
  expectations: linearly beyond |theta| = 1 and by the sixth-order polynomial that joins the two lines with
  continuous first and second derivatives inside (HistFactory/pyhf's "code 4p"). The piecewise-linear
  "code 0" has a kink at theta = 0 wherever the +1 and -1 sigma shifts are asymmetric; Minuit's HESSE then
  sees a discontinuous second derivative there and flagged 10-30 % of toy fits invalid;
- a pair ``(theta_x, theta_y) ~ N(0, 1) x N(0, 1)`` of a ``GridNuisance`` moves its components between templates
  released on a 2-D anchor grid (e.g. XENONnT's 7 x 7 light/charge-yield grid): the tensor product of natural
  cubic splines through the anchors, so it reproduces every anchor, cross terms included, and is twice
  continuously differentiable (a bilinear interpolation would put a kink at every anchor, theta = 0 included);
- finite template statistics: one nuisance per bin, Barlow-Beeston "lite" (as HistFactory/pyhf's
  ``staterror``), here additive: the bin's true expectation is lambda_b + delta_b with delta_b ~ N(0, V_b),
  V_b = mu^2 V_Sb + sum_j n_j^2 V_jb the templates' MC variances. delta_b is profiled in closed form (the root
  of a quadratic), so it costs no Minuit parameter; a bin that a finite template leaves empty keeps the
  variance of one template event, so it cannot carry a spurious infinite weight.

The significance against "no CEvNS" is sqrt(2 [NLL(mu = 0) - NLL_min]) with every other parameter
profiled; it is *undefined* (None) when the null model cannot produce an observed event (no background at
all, or observed events in bins where every background is exactly zero with no template uncertainty), since
any number would then be an artefact of a floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from iminuit import Minuit
from scipy.interpolate import CubicSpline

from ._kernels import profiled_derivatives, profiled_nll_sum, scales_nll, scales_nll_gradient

__all__ = ["Axis", "BinnedModel", "Component", "FitResult", "GridNuisance", "ReleasedAnalysis", "ShapeNuisance",
           "asimov_data", "count_error_floor", "fit", "poisson_toy"]

SIGNAL = "cevns"


@dataclass
class Component:
    name: str
    expected: np.ndarray
    norm_sigma: float | None = None
    mc_variance: np.ndarray | None = None


@dataclass
class ShapeNuisance:
    name: str
    shifts: dict  # component name -> (expected at -1 sigma, expected at +1 sigma)
    prior_sigma: float = 1.0
    bounds: tuple = (-5.0, 5.0)


@dataclass
class GridNuisance:
    """Two nuisance parameters whose templates are released on a rectangular anchor grid.

    ``templates[component]`` has shape (len(anchors_x), len(anchors_y), *model shape): the component's expectation
    at (theta_x, theta_y) = (anchors_x[i], anchors_y[j]). Between anchors: natural cubic splines in each parameter
    (tensor product); the expectation at (0, 0) must be the component's nominal one. ``bounds`` default to the
    grid's extent; they may not reach beyond it (no extrapolation).
    """

    names: tuple
    anchors_x: np.ndarray
    anchors_y: np.ndarray
    templates: dict
    prior_sigma: tuple = (1.0, 1.0)
    bounds: tuple | None = None

    def axis_bounds(self) -> list:
        if self.bounds is not None:
            return [tuple(b) for b in self.bounds]
        return [(float(np.min(a)), float(np.max(a))) for a in (self.anchors_x, self.anchors_y)]


class _SplineWeights:
    """Natural cubic spline through values at ``anchors`` written as weights: S(t) = sum_i w_i(t) f_i.

    The spline is linear in the values, so the weights are the splines through the unit vectors; they sum to one
    (constants are reproduced) and reproduce straight lines exactly (a natural spline has no curvature to add).
    """

    def __init__(self, anchors):
        self.anchors = np.asarray(anchors, dtype=float)
        n = len(self.anchors)
        if n < 2 or np.any(np.diff(self.anchors) <= 0):
            raise ValueError(f"grid anchors must be at least two increasing values, got {self.anchors}")
        self._spline = CubicSpline(self.anchors, np.eye(n), bc_type="natural", extrapolate=True)

    def weights(self, t: float) -> np.ndarray:
        return self._spline(t)

    def slopes(self, t: float) -> np.ndarray:
        return self._spline(t, 1)


@dataclass
class BinnedModel:
    components: list
    data: np.ndarray
    shape_nuisances: list = field(default_factory=list)
    grid_nuisances: list = field(default_factory=list)

    def __post_init__(self):
        if not self.components or self.components[0].name != SIGNAL:
            raise ValueError(f"the first component must be the signal {SIGNAL!r}")
        shape = np.shape(self.components[0].expected)
        names = set()
        for c in self.components:
            if np.shape(c.expected) != shape:
                raise ValueError(f"component {c.name!r} has shape {np.shape(c.expected)}, the signal {shape}")
            if c.mc_variance is not None and np.shape(c.mc_variance) != shape:
                raise ValueError(f"mc_variance of {c.name!r} has shape {np.shape(c.mc_variance)}, expected {shape}")
            if c.name in names:
                raise ValueError(f"component {c.name!r} appears twice")
            names.add(c.name)
        if np.shape(self.data) != shape:
            raise ValueError(f"data have shape {np.shape(self.data)}, the templates {shape}")
        for s in self.shape_nuisances:
            for cname, (lo, hi) in s.shifts.items():
                if cname not in names:
                    raise ValueError(f"shape nuisance {s.name!r} shifts unknown component {cname!r}")
                if np.shape(lo) != shape or np.shape(hi) != shape:
                    raise ValueError(f"shape nuisance {s.name!r}: shifted {cname!r} templates must have shape {shape}")
        params = [s.name for s in self.shape_nuisances]
        expected = {c.name: np.asarray(c.expected, dtype=float) for c in self.components}
        for g in self.grid_nuisances:
            if len(g.names) != 2:
                raise ValueError(f"grid nuisance {g.names!r} needs two parameter names")
            params += list(g.names)
            wx, wy = _SplineWeights(g.anchors_x), _SplineWeights(g.anchors_y)
            grid = (len(wx.anchors), len(wy.anchors))
            for (lo, hi), a, name in zip(g.axis_bounds(), (wx.anchors, wy.anchors), g.names):
                if not (a[0] <= lo <= 0.0 <= hi <= a[-1]):
                    raise ValueError(f"grid nuisance {name!r}: bounds ({lo}, {hi}) must contain 0 and lie within "
                                     f"the anchors [{a[0]}, {a[-1]}]")
            for cname, t in g.templates.items():
                if cname not in names:
                    raise ValueError(f"grid nuisance {g.names!r} moves unknown component {cname!r}")
                if np.shape(t) != grid + shape:
                    raise ValueError(f"grid nuisance {g.names!r}: {cname!r} templates have shape {np.shape(t)}, "
                                     f"expected {grid + shape}")
                at_zero = np.tensordot(np.outer(wx.weights(0.0), wy.weights(0.0)), np.asarray(t, dtype=float),
                                       axes=([0, 1], [0, 1]))
                if not np.allclose(at_zero, expected[cname], rtol=1e-9, atol=1e-12 * np.abs(at_zero).max()):
                    raise ValueError(f"grid nuisance {g.names!r}: the {cname!r} templates at (0, 0) differ from the "
                                     "component's expected counts")
        if len(set(params)) != len(params):
            raise ValueError(f"nuisance parameter names repeat: {params}")

    @property
    def shape(self) -> tuple:
        return np.shape(self.components[0].expected)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]


@dataclass
class Axis:
    name: str
    label: str
    edges: np.ndarray


@dataclass
class ReleasedAnalysis:
    """A published analysis: its model (data = the released observed counts), binning and paper numbers."""

    name: str
    model: BinnedModel
    axes: list
    published: dict
    notes: list = field(default_factory=list)


@dataclass
class FitResult:
    mu: float
    mu_err: float
    mu_minos: tuple | None
    n_signal: float
    n_signal_err: float
    significance: float | None
    significance_note: str
    params: dict
    nll_min: float
    nll_null: float | None
    valid: bool
    expected: dict  # component name -> expected counts per bin at the best fit (model shape)

    def expected_at_best(self, name: str) -> np.ndarray:
        return self.expected[name]

    def to_dict(self) -> dict:
        return {"mu": self.mu, "mu_err": self.mu_err,
                "mu_minos": None if self.mu_minos is None else list(self.mu_minos),
                "n_signal": self.n_signal, "n_signal_err": self.n_signal_err,
                "significance": self.significance, "significance_note": self.significance_note,
                "params": {k: {"value": v[0], "error": v[1]} for k, v in self.params.items()},
                "nll_min": self.nll_min, "valid": self.valid}


def asimov_data(model: BinnedModel, mu: float = 1.0) -> np.ndarray:
    """The expectation at mu (default 1) with every nuisance at its nominal value."""
    total = mu * np.asarray(model.components[0].expected, dtype=float)
    for c in model.components[1:]:
        total = total + np.asarray(c.expected, dtype=float)
    return total


def count_error_floor(expected: dict) -> float | None:
    """Smallest possible error of the fitted CEvNS count given the fitted expectation per bin (``expected``:
    component name -> counts, signal under ``SIGNAL``): the Cramer-Rao bound 1 / sqrt(sum_b f_b^2 / lambda_b)
    for a signal of fixed shape f_b = S_b / N over Poisson bins with mean lambda_b, i.e. the error the count would
    have if every background normalisation, shape nuisance and template were known exactly. A profile
    likelihood can only add to it; a quoted error below it is not a 1-sigma error of a fit to these data with
    this signal shape and these backgrounds."""
    signal = np.ravel(np.asarray(expected[SIGNAL], dtype=float))
    total = sum(np.ravel(np.asarray(v, dtype=float)) for v in expected.values())
    n_signal = signal.sum()
    live = total > 0
    if n_signal <= 0 or not live.any():
        return None  # no signal: no count to bound (None keeps summary.json valid JSON)
    fisher = np.sum((signal[live] / n_signal) ** 2 / total[live])
    return float(1.0 / np.sqrt(fisher))


def poisson_toy(model: BinnedModel, rng: np.random.Generator, mu: float = 1.0) -> np.ndarray:
    """One pseudo-experiment: Poisson counts around the nominal expectation at mu."""
    return rng.poisson(np.maximum(asimov_data(model, mu), 0.0)).astype(float)


def interpolation_shift(t: float, up: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Change of the expectation at theta = t, given the changes ``up`` at +1 and ``down`` at -1 sigma.

    |t| >= 1: the straight lines through (1, up) and (-1, down). |t| < 1: t S + t^2 A (3 t^4 - 10 t^2 + 15) with
    S = (up - down) / 2 and A = (up + down) / 16, the polynomial that meets both lines at |t| = 1 with the same
    value, slope and (zero) curvature and passes through 0 at t = 0 (pyhf's "code 4p").
    """
    if t >= 1.0:
        return t * up
    if t <= -1.0:
        return -t * down
    s_half = 0.5 * (up - down)
    a_sym = 0.0625 * (up + down)
    t2 = t * t
    return t * s_half + t2 * a_sym * (3.0 * t2 * t2 - 10.0 * t2 + 15.0)


def interpolation_slope(t: float, up: np.ndarray, down: np.ndarray) -> np.ndarray:
    """d/dt of :func:`interpolation_shift`."""
    if t >= 1.0:
        return up
    if t <= -1.0:
        return -down
    s_half = 0.5 * (up - down)
    a_sym = 0.0625 * (up + down)
    t2 = t * t
    return s_half + a_sym * t * (18.0 * t2 * t2 - 40.0 * t2 + 30.0)


class _Compiled:
    """The model flattened into arrays: expectations (components x bins) and interpolation deltas."""

    def __init__(self, model: BinnedModel):
        self.shape = model.shape
        self.names = model.component_names
        self.nominal = np.array([np.ravel(c.expected).astype(float) for c in model.components])
        self.variance = np.array([np.zeros(self.nominal.shape[1]) if c.mc_variance is None
                                  else np.ravel(c.mc_variance).astype(float) for c in model.components])
        if np.any(self.nominal < 0) or np.any(self.variance < 0):
            raise ValueError("template expectations and variances must be >= 0")
        self.norm_sigma = [c.norm_sigma for c in model.components]
        self.shapes = model.shape_nuisances
        n_c, n_b = self.nominal.shape
        # up[k] / down[k]: change of every component at theta_k = +1 / -1 (zero where untouched)
        self.up = np.zeros((len(self.shapes), n_c, n_b))
        self.down = np.zeros((len(self.shapes), n_c, n_b))
        for k, s in enumerate(self.shapes):
            for cname, (lo, hi) in s.shifts.items():
                i = self.names.index(cname)
                self.up[k, i] = np.ravel(hi) - self.nominal[i]
                self.down[k, i] = np.ravel(lo) - self.nominal[i]
        # grid nuisances: change of every component at every anchor, (n_x, n_y, components, bins)
        self.grids = model.grid_nuisances
        self.grid_weights = [(_SplineWeights(g.anchors_x), _SplineWeights(g.anchors_y)) for g in self.grids]
        self.grid_delta = []
        for g, (wx, wy) in zip(self.grids, self.grid_weights):
            grid = (len(wx.anchors), len(wy.anchors))
            delta = np.zeros(grid + (n_c, n_b))
            for cname, t in g.templates.items():
                i = self.names.index(cname)
                delta[:, :, i] = np.asarray(t, dtype=float).reshape(grid + (n_b,)) - self.nominal[i]
            self.grid_delta.append(delta)
        self.param_names = (["mu_" + SIGNAL] + [f"norm_{n}" for n in self.names[1:]] + [s.name for s in self.shapes]
                            + [name for g in self.grids for name in g.names])
        self.theta_prior = np.array([s.prior_sigma for s in self.shapes]
                                    + [p for g in self.grids for p in g.prior_sigma], dtype=float)
        self.theta_bounds = [s.bounds for s in self.shapes] + [b for g in self.grids for b in g.axis_bounds()]
        self._last_theta, self._last_raw = None, None

    def raw_templates(self, theta: np.ndarray) -> np.ndarray:
        """Interpolated expectations before the clip at zero (read-only). Minuit asks for the NLL and then its
        gradient at the same point, so the last result is kept: the interpolation is computed once per point."""
        key = np.asarray(theta, dtype=float).tobytes()
        if key != self._last_theta:
            self._last_raw = self.interpolate(theta)
            self._last_raw.flags.writeable = False
            self._last_theta = key
        return self._last_raw

    def interpolate(self, theta: np.ndarray) -> np.ndarray:
        """Interpolated expectations before the clip at zero, computed afresh."""
        out = self.nominal.copy()
        n_s = len(self.shapes)
        for k in range(n_s):
            out += interpolation_shift(theta[k], self.up[k], self.down[k])
        for g, ((wx, wy), delta) in enumerate(zip(self.grid_weights, self.grid_delta)):
            tx, ty = theta[n_s + 2 * g], theta[n_s + 2 * g + 1]
            out += np.tensordot(np.outer(wx.weights(tx), wy.weights(ty)), delta, axes=([0, 1], [0, 1]))
        return out

    def shift_slope(self, k: int, t: float) -> np.ndarray:
        """d(raw templates)/d theta_k at theta_k = t (1-D shape nuisance k)."""
        return interpolation_slope(t, self.up[k], self.down[k])

    def slopes(self, theta: np.ndarray) -> list:
        """d(raw templates)/d theta_k for every nuisance parameter k, at theta."""
        n_s = len(self.shapes)
        out = [self.shift_slope(k, theta[k]) for k in range(n_s)]
        for g, ((wx, wy), delta) in enumerate(zip(self.grid_weights, self.grid_delta)):
            tx, ty = theta[n_s + 2 * g], theta[n_s + 2 * g + 1]
            ax, ay = wx.weights(tx), wy.weights(ty)
            out.append(np.tensordot(np.outer(wx.slopes(tx), ay), delta, axes=([0, 1], [0, 1])))
            out.append(np.tensordot(np.outer(ax, wy.slopes(ty)), delta, axes=([0, 1], [0, 1])))
        return out

    @property
    def n_theta(self) -> int:
        return len(self.theta_prior)

    def templates(self, theta: np.ndarray) -> np.ndarray:
        return np.maximum(self.raw_templates(theta), 0.0)

    def split(self, p: np.ndarray):
        n_c = len(self.names)
        return p[:n_c], p[n_c:]


def _profiled_bin_nll(lam: np.ndarray, var: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per bin: min over delta of Poisson(n | lam + delta) + delta^2 / (2 var), as -log L (no constant).

    x = lam + delta solves x^2 + (var - lam) x - n var = 0 (the positive root, written without cancellation).
    """
    d = lam - var
    root = np.sqrt(d * d + 4.0 * n * var)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(d >= 0, 0.5 * (d + root), 2.0 * n * var / (root - d))
    x = np.where(var > 0, x, lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(n > 0, n * np.log(x), 0.0)
        penalty = np.where(var > 0, (x - lam) ** 2 / (2.0 * np.where(var > 0, var, 1.0)), 0.0)
    return x - log_term + penalty


def _profiled_bin_derivatives(lam: np.ndarray, var: np.ndarray, n: np.ndarray):
    """d/d lam and d/d var of :func:`_profiled_bin_nll` (envelope theorem: at the profiled x the derivative of the
    minimised objective is its partial derivative at fixed x)."""
    d = lam - var
    root = np.sqrt(d * d + 4.0 * n * var)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(d >= 0, 0.5 * (d + root), 2.0 * n * var / (root - d))
        pos = var > 0
        safe_var = np.where(pos, var, 1.0)
        g_lam = np.where(pos, -(x - lam) / safe_var, np.where(n > 0, 1.0 - n / np.where(lam > 0, lam, 1e-300), 1.0))
        g_var = np.where(pos, -((x - lam) ** 2) / (2.0 * safe_var * safe_var), 0.0)
    return g_lam, g_var


def _null_impossible(c: _Compiled, data: np.ndarray) -> str:
    """Why the background-only model cannot describe the data ('' if it can)."""
    if len(c.names) == 1:
        return "the model has no background: the significance against no CEvNS is undefined"
    bg_reach = c.nominal[1:].sum(axis=0) + c.variance[1:].sum(axis=0)
    if len(c.shapes):
        bg_reach = bg_reach + np.abs(c.up[:, 1:]).sum(axis=(0, 1)) + np.abs(c.down[:, 1:]).sum(axis=(0, 1))
    for delta in c.grid_delta:
        bg_reach = bg_reach + np.abs(delta[:, :, 1:]).sum(axis=(0, 1, 2))
    dead = (bg_reach <= 0) & (data > 0)
    if dead.any():
        return (f"{int(data[dead].sum())} observed event(s) fall in {int(dead.sum())} bin(s) where the background "
                "model predicts exactly nothing: the significance against no CEvNS is undefined")
    return ""


def _signal_count_error(c: _Compiled, m, best: np.ndarray) -> float:
    """Error of the fitted count N = mu sum_b S_b(theta) through the HESSE covariance of (mu, theta): the signal's
    shape nuisances move the count as well as mu does (mu's error times the template would double-count them)."""
    scales, theta = c.split(best)
    raw = c.raw_templates(theta)
    live = raw[0] > 0
    grad = np.zeros(len(best))
    grad[0] = float(np.maximum(raw[0], 0.0).sum())
    n_c = len(c.names)
    for k, slope in enumerate(c.slopes(theta)):
        grad[n_c + k] = scales[0] * float((slope[0] * live).sum())
    cov = np.array(m.covariance, dtype=float)
    return float(np.sqrt(max(grad @ cov @ grad, 0.0)))


def fit(model: BinnedModel, *, data: np.ndarray | None = None, minos: bool = False,
        significance: bool = True) -> FitResult:
    """Maximum-likelihood fit of ``data`` (default: the model's own data)."""
    c = _Compiled(model)
    n = np.ravel(model.data if data is None else data).astype(float)
    if n.shape[0] != c.nominal.shape[1]:
        raise ValueError(f"data have {n.shape[0]} bins, the model {c.nominal.shape[1]}")
    if np.any(n < 0):
        raise ValueError("observed counts must be >= 0")
    saturated = np.sum(np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)), 0.0) - n)
    sig_norm = np.array([np.nan if not s else s for s in c.norm_sigma[1:]])
    constrained = np.isfinite(sig_norm)  # None: free; 0: fixed (no prior term)
    prior_theta = c.theta_prior

    fixed_t = c.templates(np.zeros(0)) if not c.n_theta else None  # no shape nuisance: the templates never move
    g_lam, g_var = np.empty_like(n), np.empty_like(n)
    inv_prior_var = np.zeros(len(c.names))
    inv_prior_var[1:][constrained] = 1.0 / sig_norm[constrained] ** 2

    def nll_fixed_templates(p):  # the toys' case: one compiled pass over the bins
        val = scales_nll(np.asarray(p, dtype=float), fixed_t, c.variance, n, inv_prior_var) + saturated
        return float(val) if np.isfinite(val) else 1e300

    def grad_fixed_templates(p):
        out = np.empty(len(c.names))
        scales_nll_gradient(np.asarray(p, dtype=float), fixed_t, c.variance, n, inv_prior_var, out)
        return np.where(np.isfinite(out), out, 0.0)

    # iminuit reads the parameter names from _parameters instead of inspecting the signature (1 ms per fit)
    nll_fixed_templates._parameters = {name: None for name in c.param_names}

    # the general path, only taken when nuisances move the templates (else the two functions above)
    def nll(p):
        p = np.asarray(p, dtype=float)
        scales, theta = c.split(p)
        t = c.templates(theta)
        lam = scales @ t
        var = (scales * scales) @ c.variance
        val = profiled_nll_sum(lam, var, n) + saturated
        if constrained.any():
            val += 0.5 * np.sum(((scales[1:][constrained] - 1.0) / sig_norm[constrained]) ** 2)
        if len(theta):
            val += 0.5 * np.sum((theta / prior_theta) ** 2)
        return float(val) if np.isfinite(val) else 1e300

    def grad(p):
        p = np.asarray(p, dtype=float)
        scales, theta = c.split(p)
        raw = c.raw_templates(theta)
        t = np.maximum(raw, 0.0)
        lam = scales @ t
        var = (scales * scales) @ c.variance
        profiled_derivatives(lam, var, n, g_lam, g_var)
        g_scales = t @ g_lam + 2.0 * scales * (c.variance @ g_var)
        if constrained.any():
            g_scales[1:][constrained] += (scales[1:][constrained] - 1.0) / sig_norm[constrained] ** 2
        live = raw > 0  # the clip at zero has no slope
        g_theta = np.array([np.sum(g_lam * (scales @ (slope * live))) for slope in c.slopes(theta)])
        if len(theta):
            g_theta += theta / prior_theta**2
        out = np.concatenate([g_scales, g_theta])
        return np.where(np.isfinite(out), out, 0.0)

    nll._parameters = nll_fixed_templates._parameters

    def minimise(fix_mu: float | None, start: np.ndarray | None = None):
        if start is None:
            start = np.concatenate([[1.0], np.ones(len(c.names) - 1), np.zeros(c.n_theta)])
        start = np.array(start, dtype=float)
        if fix_mu is not None:
            start[0] = fix_mu
        if fixed_t is not None:
            m = Minuit(nll_fixed_templates, start, grad=grad_fixed_templates, name=c.param_names)
        else:
            m = Minuit(nll, start, grad=grad, name=c.param_names)
        m.errordef = Minuit.LIKELIHOOD
        m.limits = [(0.0, None)] * len(c.names) + c.theta_bounds
        if fix_mu is not None:
            m.fixed[0] = True
        for i, s in enumerate(c.norm_sigma[1:], start=1):
            if s == 0:
                m.fixed[i] = True
        m.strategy = 1
        m.tol = 1e-4  # EDM < 1e-7: the fitted mu to ~1e-3 of its error (Minuit's default stops at ~1e-2)
        m.migrad()
        if not m.valid:  # a second descent from where the first stopped usually converges
            m.migrad()
        return m

    m = minimise(None)
    m.hesse()
    if not m.valid:
        # HESSE's exact covariance can put the EDM above the tight target of tol = 1e-4 (EDM 1e-7, near the
        # rounding noise of a sum over hundreds of bins; 6 of 100 CENNS-10 toys): descend again from there and
        # accept Minuit's own default convergence criterion (tol = 0.1, EDM < 1e-4, mu to ~1 % of its error)
        m.tol = 0.1
        m.migrad()
        m.hesse()
    mu_minos = None
    if minos and m.valid:
        try:
            m.minos(c.param_names[0])
            me = m.merrors[c.param_names[0]]
            mu_minos = (float(me.lower), float(me.upper))
        except RuntimeError:
            mu_minos = None
    best = np.array(m.values)
    scales, theta = c.split(best)
    t = c.templates(theta)
    expected = {name: (scales[i] * t[i]).reshape(c.shape) for i, name in enumerate(c.names)}
    mu, mu_err = float(m.values[0]), float(m.errors[0])
    n_signal = float(expected[SIGNAL].sum())
    n_signal_err = _signal_count_error(c, m, best)
    why = _null_impossible(c, n) if significance else "not computed"
    z, nll_null = None, None
    if significance and not why:
        m0 = minimise(0.0, start=best)  # the nuisances' best fit is closer to the null's than their nominal values
        nll_null = float(m0.fval)
        # q0 = 0 when the best fit sits at the mu >= 0 bound (Cowan et al. 2011, eq. 12); elsewhere the profile
        # difference, which the minimiser's tolerance can leave a hair below zero
        at_bound = mu <= 1e-6 * max(mu_err, 1e-12)
        z = 0.0 if at_bound else float(np.sqrt(max(2.0 * (nll_null - m.fval), 0.0)))
    params = {name: (float(m.values[i]), float(m.errors[i])) for i, name in enumerate(c.param_names)}
    return FitResult(mu, mu_err, mu_minos, n_signal, n_signal_err, z, why, params, float(m.fval), nll_null,
                     bool(m.valid), expected)
