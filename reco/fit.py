"""Template fit of a simulated run: the on and off regions' histograms per origin, fitted with the shared
binned likelihood of :mod:`reco.released.likelihood`.

Model per bin b of the on region (and of the off region, which constrains the steady-state background):
lambda_b = mu mu_cevns,b + sum_j n_j mu_jb, with mu_cevns free (>= 0, sigma_meas / sigma_SM) and every
background n_j constrained by a Gaussian prior of width sigma_j around 1. The templates come from a finite
weighted MC sample: their per-bin variances enter as Barlow-Beeston-lite nuisances, and a bin that a
background's sample leaves empty carries the variance of one of its events (the expectation there is small,
not zero). The significance of rejecting "no CEvNS" is sqrt(2 [NLL(mu = 0) - NLL_min]) with the backgrounds
profiled; it is undefined (None) when the model has no background at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .released.likelihood import BinnedModel, Component, ShapeNuisance, fit

__all__ = ["FitResult", "fit_templates", "flatten_templates", "flatten_variances", "template_variances"]


def flatten_templates(hists: dict) -> tuple[list[str], np.ndarray]:
    """(origin names, matrix [n_origins, n_bins]) of the on and off regions concatenated."""
    names = [n for n in hists]
    rows = [np.concatenate([hists[n]["on"].values().ravel(), hists[n]["off"].values().ravel()]) for n in names]
    return names, np.array(rows)


def flatten_variances(hists: dict) -> np.ndarray:
    """Per-bin variances (sum of squared weights) in the layout of :func:`flatten_templates`."""
    return np.array([np.concatenate([hists[n]["on"].variances().ravel(), hists[n]["off"].variances().ravel()])
                     for n in hists])


def template_variances(values: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """MC variances with empty bins of a populated template set to one event's squared weight.

    The mean weight of a component is sum(w^2)/sum(w) (exact for equal weights): an empty bin of a sample
    whose events weigh w could hold about one of them, so its expectation is uncertain at the level w.
    """
    out = np.array(variances, dtype=float, copy=True)
    for j in range(values.shape[0]):
        total = values[j].sum()
        if total > 0:
            w = out[j].sum() / total
            out[j] = np.where(values[j] > 0, out[j], w * w)
    return out


@dataclass(frozen=True)
class FitResult:
    mu_cevns: float
    mu_cevns_err: float
    significance: float | None
    significance_note: str
    backgrounds: dict
    valid: bool
    nll_min: float
    nuisances: dict = field(default_factory=dict)  # shape nuisance -> {"theta", "err"} (energy scale, offset)

    def to_dict(self) -> dict:
        return {"mu_cevns": self.mu_cevns, "mu_cevns_err": self.mu_cevns_err, "significance": self.significance,
                "significance_note": self.significance_note, "backgrounds": self.backgrounds, "valid": self.valid,
                "nuisances": self.nuisances}


def fit_templates(names: list[str], templates: np.ndarray, data: np.ndarray, priors: dict,
                  variances: np.ndarray | None = None, shape_variants: dict | None = None) -> FitResult:
    """Fit data (counts per bin) with templates; names[0] must be 'cevns'. ``variances``: the templates' MC
    variances per bin (None: exact templates). ``shape_variants``: nuisance name -> (templates at -1 sigma,
    templates at +1 sigma), moving every template together (the energy scale)."""
    if names[0] != "cevns":
        raise ValueError(f"the first template must be 'cevns', got {names[0]!r}")
    templates = np.maximum(np.asarray(templates, dtype=float), 0.0)
    if variances is not None:
        variances = template_variances(templates, variances)
    present = [i for i in range(len(names)) if i == 0 or templates[i].sum() > 0]
    comps = [Component(names[i], templates[i], norm_sigma=None if i == 0 else priors[names[i]],
                       mc_variance=None if variances is None else variances[i]) for i in present]
    shapes = [ShapeNuisance(name, {names[i]: (np.maximum(lo[i], 0.0), np.maximum(hi[i], 0.0)) for i in present})
              for name, (lo, hi) in (shape_variants or {}).items()]
    r = fit(BinnedModel(comps, np.asarray(data, dtype=float), shapes))
    bgs = {names[i]: {"mu": r.params[f"norm_{names[i]}"][0], "err": r.params[f"norm_{names[i]}"][1]}
           for i in present[1:]}
    nuis = {s.name: {"theta": r.params[s.name][0], "err": r.params[s.name][1]} for s in shapes}
    return FitResult(r.mu, r.mu_err, r.significance, r.significance_note, bgs, r.valid, r.nll_min, nuis)
