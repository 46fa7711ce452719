"""Binned Poisson likelihood fit of signal and background templates (iminuit).

Model per bin b of the on region (and of the off region, which constrains the steady-state background):
lambda_b = sum_j theta_j mu_jb, with mu the template expectations and theta_cevns free (>= 0, the signal in
units of the SM prediction, i.e. sigma_meas / sigma_SM), every background theta_j constrained by a Gaussian
prior of width sigma_j around 1. The significance of rejecting "no CEvNS" is sqrt(2 [NLL(theta_cevns = 0)
- NLL_min]) with the backgrounds profiled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from iminuit import Minuit

__all__ = ["FitResult", "fit_templates", "flatten_templates"]


def flatten_templates(hists: dict) -> tuple[list[str], np.ndarray]:
    """(origin names, matrix [n_origins, n_bins]) of the on and off regions concatenated."""
    names = [n for n in hists]
    rows = [np.concatenate([hists[n]["on"].values().ravel(), hists[n]["off"].values().ravel()]) for n in names]
    return names, np.array(rows)


@dataclass(frozen=True)
class FitResult:
    mu_cevns: float
    mu_cevns_err: float
    significance: float
    backgrounds: dict
    valid: bool
    nll_min: float

    def to_dict(self) -> dict:
        return {"mu_cevns": self.mu_cevns, "mu_cevns_err": self.mu_cevns_err, "significance": self.significance,
                "backgrounds": self.backgrounds, "valid": self.valid}


def _nll_factory(templates, data, prior_sigma):
    mu = np.maximum(templates, 0.0)
    n = np.asarray(data, dtype=np.float64)
    use = mu.sum(axis=0) > 0  # bins no template populates carry no information
    mu, n = mu[:, use], n[use]
    lgam = n * np.log(np.where(n > 0, n, 1.0)) - n  # saturated-model term: NLL ~ chi2/2, 0 at a perfect fit

    def nll(theta):
        lam = theta @ mu
        lam = np.maximum(lam, 1e-300)
        val = np.sum(lam - n * np.log(lam)) + np.sum(lgam)
        return val + 0.5 * np.sum(((theta[1:] - 1.0) / prior_sigma) ** 2)

    return nll


def fit_templates(names: list[str], templates: np.ndarray, data: np.ndarray, priors: dict) -> FitResult:
    """Fit data (counts per bin) with templates; names[0] must be 'cevns'."""
    assert names[0] == "cevns"
    present = [i for i in range(len(names)) if i == 0 or templates[i].sum() > 0]
    names = [names[i] for i in present]
    templates = templates[present]
    sig = np.array([priors[n] for n in names[1:]])
    nll = _nll_factory(templates, data, sig)
    m = Minuit(lambda *th: nll(np.array(th)), *np.ones(len(names)), name=[f"mu_{n}" for n in names])
    m.errordef = Minuit.LIKELIHOOD
    m.limits = [(0.0, None)] * len(names)
    m.migrad()
    m.hesse()
    best = m.fval
    # profile with the signal fixed at zero
    m0 = Minuit(lambda *th: nll(np.array(th)), *([0.0] + [1.0] * (len(names) - 1)),
                name=[f"mu_{n}" for n in names])
    m0.errordef = Minuit.LIKELIHOOD
    m0.limits = [(0.0, None)] * len(names)
    m0.fixed["mu_cevns"] = True
    m0.migrad()
    z = float(np.sqrt(max(2.0 * (m0.fval - best), 0.0)))
    bgs = {n: {"mu": float(m.values[f"mu_{n}"]), "err": float(m.errors[f"mu_{n}"])} for n in names[1:]}
    return FitResult(float(m.values["mu_cevns"]), float(m.errors["mu_cevns"]), z, bgs, bool(m.valid), float(best))
