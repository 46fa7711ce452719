"""Reconstruction settings: the ``[reco]`` section of a run configuration, or a TOML file of its own."""

from __future__ import annotations

from dataclasses import dataclass

from generator._validate import ConfigError, build, option

__all__ = ["RecoConfig", "reco_from_dict"]


@dataclass(frozen=True)
class RecoConfig:
    threshold_kevee: float = option(0.0, unit="keVee", doc="lowest reconstructed energy kept", ge=0)
    max_kevee: float | None = option(None, unit="keVee", doc="highest reconstructed energy kept", gt=0)
    n_energy_bins: int = option(20, doc="energy bins between threshold and max", gt=0, le=1000)
    n_time_bins: int = option(12, doc="time bins over the on-beam window (pulsed sources)", gt=0, le=1000)
    require_triggered: bool = option(True, doc="keep only triggered events")
    require_psd: bool = option(True, doc="apply the detector's pulse-shape cut (psd_pass) when present")
    fiducial_radius_cm: float | None = option(None, unit="cm", doc="keep events within this radius", gt=0)
    fiducial_half_height_cm: float | None = option(None, unit="cm", doc="keep |z| below this", gt=0)
    # heat-ionisation discrimination (calorimeters with an ionisation channel): cuts on the measured yield Q
    max_ionisation_yield: float | None = option(None, doc="keep events whose measured ionisation yield Q is below "
                                                "this (rejects electron recoils, Q ~ 1)", gt=0)
    nr_band_n_sigma: float | None = option(None, doc="keep events within this many sigma of the nuclear-recoil "
                                           "yield band, |Q - Y_NR(E_nr)| < n sigma_Q(E_nr) (rejects electron "
                                           "recoils and heat-only events where the bands separate)", gt=0)
    fit: bool = option(True, doc="binned Poisson likelihood fit of signal and background templates")
    prior_ssb: float = option(0.05, doc="relative 1-sigma prior on the steady-state normalisation", gt=0)
    prior_brn: float = option(0.25, doc="relative 1-sigma prior on the beam-related-neutron normalisation", gt=0)
    prior_nin: float = option(0.36, doc="relative 1-sigma prior on the neutrino-induced-neutron normalisation", gt=0)
    prior_lee: float | None = option(None, doc="relative 1-sigma prior on the low-energy-excess normalisation "
                                     "(calorimeters); unset: free (its rate is not predicted; the source-off data "
                                     "constrain it)", gt=0)
    # energy-scale systematics: shape nuisances (Gaussian, 1 sigma) that move every template together, because a
    # mis-calibrated scale moves signal and backgrounds alike; near a threshold they move counts across it
    energy_scale_sigma: float = option(0.0, doc="relative 1-sigma uncertainty of the reconstructed energy scale: "
                                       "a shape nuisance moving every template by E -> E (1 +- sigma) (0: none)",
                                       ge=0, lt=0.5)
    energy_offset_sigma_kevee: float = option(0.0, unit="keVee", doc="1-sigma uncertainty of the energy-scale "
                                              "offset (the calibration near threshold): a shape nuisance moving every "
                                              "template by E -> E +- offset (0: none)", ge=0)
    backgrounds_published: bool = option(True, doc="false for an experiment whose backgrounds are not published: "
                                         "without backgrounds no significance is quoted, and the summary says why")
    plots: bool = option(True, doc="write PNG plots")
    # cevns-run: how the templates and the data set are made, and the toy ensemble
    template_events: int = option(200_000, doc="events of the fixed-N template sample", gt=0)
    template_oversample: float = option(20.0, doc="background oversampling of the template sample", gt=0)
    data: str = option("pseudo_experiment", doc="'pseudo_experiment' (Poisson N, counts) or 'asimov' "
                       "(the template expectation itself)", allowed=("pseudo_experiment", "asimov"))
    toys: int = option(0, doc="pseudo-experiments of the toy ensemble (0: none)", ge=0)

    def energy_shifts(self) -> dict:
        """The configured energy-scale nuisances: name -> function(E keVee, theta = -1 or +1) -> E keVee."""
        out = {}
        if self.energy_scale_sigma > 0:
            out["energy_scale"] = lambda e, t, s=self.energy_scale_sigma: e * (1.0 + t * s)
        if self.energy_offset_sigma_kevee > 0:
            out["energy_offset"] = lambda e, t, s=self.energy_offset_sigma_kevee: e + t * s
        return out

    def priors(self) -> dict:
        """Relative prior width of each background template's normalisation (None: free)."""
        return {"ssb": self.prior_ssb, "brn": self.prior_brn, "nin": self.prior_nin, "lee": self.prior_lee}

    def __post_init__(self):
        if self.max_kevee is not None and self.max_kevee <= self.threshold_kevee:
            raise ConfigError(f"reco.max_kevee = {self.max_kevee} must be > reco.threshold_kevee = "
                              f"{self.threshold_kevee}")


def reco_from_dict(raw: dict | None) -> RecoConfig:
    return build(RecoConfig, raw or {}, "reco")
