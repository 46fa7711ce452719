"""Expected CEvNS counts for an exposure: the integral the sampler must reproduce.

N = sum over components c and isotopes i of  Phi_c N_i  int dE p_c(E) sigma_i(E; T > T_thr, efficiency),
with Phi_c the fluence (cm^-2) over the exposure, N_i the number of nuclei of isotope i in the target,
p_c the normalised spectrum (a line: p = delta(E - E_c)). The energy integral is the trapezoid rule on
the component's grid, the same piecewise-linear density the sampler draws from.

Under a BSM hypothesis (``exp.model.is_bsm``) sigma depends on the component's flavour, which is passed
on; with a neutrino magnetic moment the flux-averaged cross section is quoted above the threshold (the
1/T term makes it infinite at T -> 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import CALIBRATION_KINDS
from .cross_section import sigma_cm2
from .experiment import Experiment
from .kinematics import enu_min_mev, t_max_kev

__all__ = ["RateTable", "ThresholdError", "expected_rates", "folded_sigma", "pair_energy_grid"]


class ThresholdError(ValueError):
    """The recoil threshold is above the largest recoil any neutrino of the source can give."""


@dataclass(frozen=True)
class RateTable:
    components: tuple[str, ...]
    nu_pdg: tuple[int, ...]
    isotopes: tuple[str, ...]
    isotope_za: tuple[tuple[int, int], ...]
    events: np.ndarray  # (n_components, n_isotopes) expected events for the exposure
    fluence_cm2: np.ndarray  # (n_components,)
    flux_cm2_s: float
    flux_averaged_xsec_cm2: float  # per nucleus, no threshold, number-weighted over the isotopes
    flux_averaged_xsec_by_isotope_cm2: dict
    threshold_kevnr: float
    exposure: dict
    bsm: dict | None = None  # the non-zero BSM parameters the table was computed with (None: SM)
    # [lowest, highest] neutrino energy (MeV) of the spectra flux_cm2_s integrates (None: no neutrino source)
    flux_range_mev: tuple[float, float] | None = None

    @property
    def expected_events(self) -> float:
        return float(self.events.sum())

    def by_isotope(self) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.isotopes, self.events.sum(axis=0), strict=True)}

    def by_component(self) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.components, self.events.sum(axis=1), strict=True)}

    def by_flavour(self) -> dict[str, float]:
        names = {12: "nu_e", -12: "anti_nu_e", 14: "nu_mu", -14: "anti_nu_mu", 16: "nu_tau", -16: "anti_nu_tau",
                 0: "none"}
        out: dict[str, float] = {}
        for pdg, v in zip(self.nu_pdg, self.events.sum(axis=1), strict=True):
            out[names[pdg]] = out.get(names[pdg], 0.0) + float(v)
        return out

    def to_json_dict(self) -> dict:
        return {
            "expected_events": self.expected_events,
            "by_isotope": self.by_isotope(),
            "by_flavour": self.by_flavour(),
            "by_component": self.by_component(),
            "flux_averaged_xsec_cm2": self.flux_averaged_xsec_cm2,
            "flux_averaged_xsec_by_isotope_cm2": self.flux_averaged_xsec_by_isotope_cm2,
            "flux_cm2_s": self.flux_cm2_s,
            "flux_range_mev": None if self.flux_range_mev is None else list(self.flux_range_mev),
            "fluence_cm2": {c: float(f) for c, f in zip(self.components, self.fluence_cm2, strict=True)},
            "threshold_kevnr": self.threshold_kevnr,
            "exposure": self.exposure,
            **({"bsm": self.bsm} if self.bsm is not None else {}),
        }


def pair_energy_grid(component, iso, model, threshold_kev=0.0, efficiency=None):
    """Energy grid and density p(E) sigma(E; T > threshold) of one (component, isotope) pair.

    The component's grid, cut at E_min(threshold) with that point inserted, so the piecewise-linear
    density starts exactly where recoils above threshold become possible. The rate integral and the
    sampler both use this one density.
    """
    e_min = float(enu_min_mev(threshold_kev, model.mass_mev(iso)))
    e = component.energy_mev
    if e_min > e[0]:
        e = np.concatenate([[e_min], e[e > e_min]])
    if e.size < 2:
        return e, np.zeros_like(e)
    g = component.pdf(e) * np.atleast_1d(sigma_cm2(e, iso, model, threshold_kev, efficiency, nu_pdg=component.nu_pdg))
    return e, g


def folded_sigma(component, iso, model, threshold_kev=0.0, efficiency=None, grids=None, key=None) -> float:
    """<sigma> = int p(E) sigma(E) dE for one component (cm^2); ``grids[key]`` keeps the pair's density."""
    if component.is_line:
        return float(sigma_cm2(component.line_mev, iso, model, threshold_kev, efficiency, nu_pdg=component.nu_pdg))
    e, g = pair_energy_grid(component, iso, model, threshold_kev, efficiency)
    if grids is not None:
        grids[key] = (e, g)
    return float(np.trapezoid(g, e))


def _calibration_rates(exp: Experiment) -> RateTable:
    cfg = exp.config
    per_kg = exp.material.nuclei_per_kg()
    frac = per_kg / per_kg.sum()
    total = cfg.source.rate_per_kg_day * exp.mass_kg * cfg.exposure.live_days
    isos = exp.material.isotopes
    return RateTable((cfg.source_kind,), (0,), tuple(i.name for i in isos), tuple((i.z, i.a) for i in isos),
                     (total * frac)[None, :], np.zeros(1), 0.0, 0.0, {}, 0.0,
                     {"live_days": cfg.exposure.live_days, "mass_kg": exp.mass_kg})


def expected_rates(exp: Experiment, *, use_efficiency: bool = True, grids: dict | None = None) -> RateTable:
    """Expected events per (component, isotope) above the threshold, optionally with the efficiency.

    ``grids``, if given, receives the energy density of each (component, isotope) pair (for the sampler).
    """
    if exp.config.source_kind in CALIBRATION_KINDS:
        return _calibration_rates(exp)
    src, model = exp.source, exp.model
    isos = exp.material.isotopes
    n_nuclei = exp.material.nuclei_per_kg() * exp.mass_kg
    eff = exp.efficiency_fn() if use_efficiency else None
    thr = exp.threshold_kevnr
    e_max = max(c.e_max_mev for c in src.components)
    t_reach = max(float(t_max_kev(e_max, model.mass_mev(i))) for i in isos)
    if thr >= t_reach:
        raise ThresholdError(
            f"recoil.threshold_kevnr = {thr} keVnr is above the largest possible recoil ({t_reach:.4g} keVnr, "
            f"lightest isotope at the highest neutrino energy {e_max:.4g} MeV): no events"
        )
    events = np.zeros((len(src.components), len(isos)))
    fav = np.zeros(len(isos))
    fluence = np.array([c.fluence_cm2 for c in src.components])
    magnetic = model.is_bsm and model.bsm.has_magnetic_moment
    if magnetic and thr <= 0:
        raise ThresholdError("a neutrino magnetic moment needs recoil.threshold_kevnr > 0: the magnetic-moment "
                             "cross section grows as 1/T, so the number of recoils above T = 0 is infinite")
    fav_thr = thr if magnetic else 0.0
    for ci, comp in enumerate(src.components):
        for ii, iso in enumerate(isos):
            events[ci, ii] = comp.fluence_cm2 * n_nuclei[ii] * folded_sigma(comp, iso, model, thr, eff, grids,
                                                                            (ci, ii))
            fav[ii] += comp.fluence_cm2 * (folded_sigma(comp, iso, model, fav_thr) if (thr > fav_thr or eff
                                                                                       is not None)
                                           else events[ci, ii] / (comp.fluence_cm2 * n_nuclei[ii]))
    fav /= fluence.sum()
    weights = n_nuclei / n_nuclei.sum()
    exposure = dict(src.exposure, mass_kg=exp.mass_kg, live_time_s=src.live_time_s,
                    nuclei=float(n_nuclei.sum()))
    return RateTable(tuple(c.name for c in src.components), tuple(c.nu_pdg for c in src.components),
                     tuple(i.name for i in isos), tuple((i.z, i.a) for i in isos), events, fluence,
                     src.flux_cm2_s, float(np.dot(weights, fav)),
                     {i.name: float(v) for i, v in zip(isos, fav, strict=True)}, thr, exposure,
                     _bsm_record(model, magnetic), flux_range_mev(src))


def flux_range_mev(src) -> tuple[float, float]:
    """[lowest, highest] neutrino energy over the source's components (lines count as their energy): the range a
    total flux integrates, which users compare with quoted fluxes (a reactor's sub-MeV part doubles it)."""
    lo = min(float(c.line_mev if c.is_line else c.energy_mev[0]) for c in src.components)
    return lo, max(c.e_max_mev for c in src.components)


def _bsm_record(model, magnetic: bool) -> dict | None:
    if not model.is_bsm:
        return None
    rec = {"parameters": model.bsm.summary()}
    if magnetic:
        rec["note"] = "flux_averaged_xsec_cm2 is above the threshold (magnetic moment: infinite at T -> 0)"
    return rec
