"""Backgrounds written into the detsim stream next to the CEvNS events, labelled by ``origin``.

Kinds (``[[backgrounds]]`` tables of a detector configuration):

steady_state  uniform in time; flat or exponential energy spectrum between e_min_kev and e_max_kev with a
              mean rate ``rate_per_kev_kg_day`` (dru) over that range; electron or nuclear recoils.
              ``spectrum = "lee"``: the low-energy excess of cryogenic detectors, exponential (slope_kev) plus
              power law (E^-power_index) with ``exp_fraction`` of the events in the exponential, ``rate_per_kg_day``
              events in [e_min_kev, e_max_kev]; usually ``recoil_type = "heat_only"`` (no ionisation, calorimeters
              only); its events carry their own origin code (4, "lee": a template of its own in the fit).
              ``decay_days`` > 0 makes a steady-state rate decay since the cool-down,
              R(t) = R0 (floor + (1 - floor) exp(-t / decay_days)), t in days since the cool-down, R0 the rate at
              the cool-down; the run starts ``start_days`` after it and lasts its live time (the source-off live
              time is taken as interleaved with it: the same decay factor).
              For pulsed sources only the span covering the on- and off-beam windows of each cycle is
              generated (the rest of the 1/f_rep cycle is never looked at); its rate is scaled to that span.
brn           beam-related neutrons: nuclear recoils with an exponential spectrum, arriving with the proton
              pulse (Gaussian in time, ``time_mean_ns``, ``time_sigma_ns``), ``rate_per_pulse`` events.
dark_clusters CCDs only (detsim.ccd): pixels holding >= ccd.dark_seed_min_e dark-current electrons, the seeds of
              dark-current / readout-noise clusters; no deposit (recoil_type 3, "sensor"), uniform in time and
              space. ``rate_per_kg_day`` is computed from the [ccd] table (detsim.ccd.physics); the CCD chain
              builds the cluster around the seed with the dark current and noise of its neighbours.
nin           neutrino-induced neutrons (from the shielding): nuclear recoils, exponential spectrum, timing of
              the delayed neutrinos (pulse (x) Exp(tau_pi) (x) Exp(tau_mu)), ``rate_per_pulse`` events.

Counts are Poisson for the exposure of each chunk (the chunk's share of the run's exposure), so backgrounds
come as a pseudo-experiment with weight 1/oversample. ``source_off_live_days`` adds steady-state
events for source-off periods (reactor OFF, beam off), at ``off_scale`` times the source-on rate (an outage can
change the overburden or the radon level): flagged ``source_on = False``. Every source-on part is drawn before any
source-off part, so the source-on events do not depend on the source-off settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator._validate import ConfigError, option
from generator.constants import TAU_MUON_NS, TAU_PION_NS
from generator.nuclei import material

from .chain import target_geometry
from .quenching import RECOIL_CODE  # recoil_type column

__all__ = ["BACKGROUND_KINDS", "ORIGIN_LEE", "BackgroundConfig", "decay_factor", "draw_backgrounds",
           "expected_background_counts", "lee_density", "origin_of"]

BACKGROUND_KINDS = ("steady_state", "brn", "nin", "dark_clusters")
ORIGIN_OF = {"steady_state": 1, "brn": 2, "nin": 3, "dark_clusters": 1}  # dark clusters: steady state too
# the low-energy excess (spectrum = "lee") is a steady state of unknown origin whose rate nobody predicts: its own
# origin code, so that reco fits it as its own template with its own prior (reco.prior_lee)
ORIGIN_LEE = 4


@dataclass(frozen=True)
class BackgroundConfig:
    kind: str = option(doc="background kind", allowed=BACKGROUND_KINDS)
    recoil_type: str = option("er", doc="'er' (electron recoils, keVee), 'nr' (nuclear recoils, keVnr) or "
                              "'heat_only' (energy in the phonons only, no ionisation: calorimeters)",
                              allowed=("er", "nr", "heat_only"))
    spectrum: str = option("flat", doc="energy spectrum shape", allowed=("flat", "exponential", "lee"))
    e_min_kev: float = option(0.0, unit="keV", doc="lowest deposited energy", ge=0)
    e_max_kev: float = option(10.0, unit="keV", doc="highest deposited energy", gt=0)
    slope_kev: float = option(5.0, unit="keV", doc="decay constant of an exponential spectrum", gt=0)
    rate_per_kev_kg_day: float = option(0.0, unit="keV^-1 kg^-1 day^-1", doc="steady-state rate (dru)", ge=0)
    rate_per_pulse: float = option(0.0, doc="events per beam pulse (brn, nin)", ge=0)
    time_mean_ns: float = option(0.0, unit="ns", doc="BRN arrival time relative to the pulse centre")
    time_sigma_ns: float = option(150.0, unit="ns", doc="BRN arrival-time spread", gt=0)
    oversample: float = option(1.0, doc="generate this many times more events with weight 1/oversample", gt=0)
    rate_per_kg_day: float = option(0.0, unit="kg^-1 day^-1", doc="'lee' spectrum: events in [e_min_kev, e_max_kev]",
                                    ge=0)
    exp_fraction: float = option(0.5, doc="'lee' spectrum: fraction of the events in the exponential", ge=0, le=1)
    power_index: float = option(2.0, doc="'lee' spectrum: power law E^-power_index", ge=0)
    decay_days: float = option(0.0, unit="day", doc="decay constant of the rate since the cool-down (0: constant)",
                               ge=0)
    decay_floor: float = option(0.0, doc="fraction of the cool-down rate that does not decay", ge=0, le=1)
    start_days: float = option(0.0, unit="day", doc="start of the run after the cool-down", ge=0)
    off_scale: float = option(1.0, doc="steady-state rate during the source-off data relative to source-on (a "
                              "reactor outage can change the overburden or the radon level)", ge=0)

    def __post_init__(self):
        if self.spectrum == "lee":
            if self.kind != "steady_state":
                raise ConfigError(f"backgrounds: spectrum = 'lee' is a steady-state spectrum, not {self.kind}")
            if self.rate_per_kev_kg_day:
                raise ConfigError("backgrounds: the 'lee' spectrum takes rate_per_kg_day (events in [e_min_kev, "
                                  "e_max_kev]), not rate_per_kev_kg_day")
            if self.exp_fraction < 1 and self.e_min_kev <= 0:
                raise ConfigError(f"backgrounds: e_min_kev = {self.e_min_kev}: the 'lee' power law needs "
                                  "e_min_kev > 0")
        elif self.rate_per_kg_day and self.kind != "dark_clusters":
            raise ConfigError(f"backgrounds: rate_per_kg_day is for spectrum = 'lee'; the {self.spectrum} spectrum "
                              "takes rate_per_kev_kg_day")
        if self.e_max_kev <= self.e_min_kev:
            raise ConfigError(f"backgrounds: e_max_kev = {self.e_max_kev} must be > e_min_kev = {self.e_min_kev}")
        if self.kind == "steady_state" and self.rate_per_pulse:
            raise ConfigError("backgrounds: rate_per_pulse applies to brn and nin, not steady_state")
        if self.kind in ("brn", "nin") and self.rate_per_kev_kg_day:
            raise ConfigError(f"backgrounds: {self.kind} takes rate_per_pulse, not rate_per_kev_kg_day")
        if self.kind in ("brn", "nin") and self.off_scale != 1.0:
            raise ConfigError(f"backgrounds: off_scale = {self.off_scale}: {self.kind} events come with the beam, "
                              "there are none in source-off data")


def origin_of(bg: BackgroundConfig) -> int:
    """Origin code of a background's events (detsim.simulate.ORIGINS): 4 for the low-energy excess."""
    return ORIGIN_LEE if bg.spectrum == "lee" else ORIGIN_OF[bg.kind]


def _span_ns(windows) -> tuple[float, float]:
    lo = min(windows.on_start_ns, windows.off_start_ns)
    hi = max(windows.on_start_ns + windows.on_length_ns, windows.off_start_ns + windows.off_length_ns)
    return lo, hi


def expected_background_counts(bg: BackgroundConfig, gm: dict, windows, source_on: bool, off_live_days: float):
    """Expected events of one background over the whole run (ON or OFF part)."""
    live_s = float(gm["live_time_s"]) if source_on else off_live_days * 86400.0
    mass = float(gm["exposure"]["mass_kg"])
    if bg.kind == "dark_clusters":
        return bg.rate_per_kg_day * mass * live_s / 86400.0 * (1.0 if source_on else bg.off_scale)
    if bg.kind == "steady_state":
        if bg.spectrum == "lee":
            n = bg.rate_per_kg_day * mass * live_s / 86400.0
        else:
            n = bg.rate_per_kev_kg_day * (bg.e_max_kev - bg.e_min_kev) * mass * live_s / 86400.0
        n *= decay_factor(bg, float(gm["live_time_s"]) / 86400.0) * (1.0 if source_on else bg.off_scale)
        if gm.get("pulsed"):
            lo, hi = _span_ns(windows)
            n *= (hi - lo) * 1e-9 * float(gm["rep_rate_hz"])
        return n
    if not gm.get("pulsed"):
        raise ConfigError(f"backgrounds: {bg.kind} needs a pulsed (pion_dar) source")
    return bg.rate_per_pulse * float(gm["n_pulses"]) if source_on else 0.0


def decay_factor(bg: BackgroundConfig, run_days: float) -> float:
    """Mean of floor + (1 - floor) exp(-t / tau) over the run [start_days, start_days + run_days]."""
    if bg.decay_days <= 0:
        return 1.0
    tau, t0 = bg.decay_days, bg.start_days
    if run_days <= 0:
        mean_exp = float(np.exp(-t0 / tau))
    else:
        mean_exp = float(tau / run_days * (np.exp(-t0 / tau) - np.exp(-(t0 + run_days) / tau)))
    return bg.decay_floor + (1.0 - bg.decay_floor) * mean_exp


def _truncated_exp(u, bg: BackgroundConfig):
    """Inverse CDF of exp(-E / slope_kev) truncated to [e_min_kev, e_max_kev]."""
    span = 1.0 - np.exp(-(bg.e_max_kev - bg.e_min_kev) / bg.slope_kev)
    return bg.e_min_kev - bg.slope_kev * np.log1p(-span * u)


def _power_law(u, lo, hi, index):
    """Inverse CDF of E^-index on [lo, hi]."""
    if abs(index - 1.0) < 1e-12:
        return lo * np.exp(u * np.log(hi / lo))
    g = 1.0 - index
    return (lo**g + u * (hi**g - lo**g)) ** (1.0 / g)


def lee_density(e_kev, bg: BackgroundConfig):
    """Normalised density (per keV) of the 'lee' spectrum on [e_min_kev, e_max_kev]."""
    e = np.asarray(e_kev, dtype=np.float64)
    lo, hi, s = bg.e_min_kev, bg.e_max_kev, bg.slope_kev
    exp_norm = s * (np.exp(-lo / s) - np.exp(-hi / s))
    if bg.exp_fraction < 1:
        g = 1.0 - bg.power_index
        pl_norm = np.log(hi / lo) if abs(g) < 1e-12 else (hi**g - lo**g) / g
        pl = np.power(np.where(e > 0, e, lo), -bg.power_index) / pl_norm
    else:
        pl = 0.0
    inside = (e >= lo) & (e <= hi)
    return np.where(inside, bg.exp_fraction * np.exp(-e / s) / exp_norm + (1.0 - bg.exp_fraction) * pl, 0.0)


def _energies(rng, bg, n):
    if bg.kind == "dark_clusters":
        return np.zeros(n)
    if bg.spectrum == "lee":
        u, pick = rng.random(n), rng.random(n)
        e_exp = _truncated_exp(u, bg)
        if bg.exp_fraction >= 1:
            return e_exp
        return np.where(pick < bg.exp_fraction, e_exp, _power_law(u, bg.e_min_kev, bg.e_max_kev, bg.power_index))
    if bg.spectrum == "flat":
        return bg.e_min_kev + (bg.e_max_kev - bg.e_min_kev) * rng.random(n)
    return _truncated_exp(rng.random(n), bg)


def _vertices(rng, geometry, n):
    if geometry.get("shape", "cylinder") == "cylinder":
        r = geometry["radius_cm"] * np.sqrt(rng.random(n))
        phi = 2 * np.pi * rng.random(n)
        return r * np.cos(phi), r * np.sin(phi), geometry["height_cm"] * (rng.random(n) - 0.5)
    return tuple(geometry[f"size_{a}_cm"] * (rng.random(n) - 0.5) for a in "xyz")


def draw_backgrounds(rng, backgrounds, gm: dict, windows, chunk: int, fraction: float, off_live_days: float,
                     id_offset: int) -> dict | None:
    """Background events for one chunk holding ``fraction`` of the run's exposure (truth-like columns)."""
    geometry = target_geometry(gm)
    target = gm["config"]["target"]
    mat = material(target["material"], target.get("isotopes"))
    isos = list(mat.isotopes)
    weights = mat.nuclei_per_kg()  # a recoiling nucleus is any nucleus of the target
    parts = []
    # every source-on part first: the source-on events do not depend on any source-off setting (off_scale, the
    # off live time), so a study that varies the reactor-OFF model keeps the same reactor-ON pseudo-data
    for on, bg in [(True, bg) for bg in backgrounds] + [(False, bg) for bg in backgrounds]:
        if not on and (off_live_days <= 0 or bg.kind not in ("steady_state", "dark_clusters")):
            continue
        mu = expected_background_counts(bg, gm, windows, on, off_live_days) * fraction * bg.oversample
        n = int(rng.poisson(mu))
        if n == 0:
            continue
        e = _energies(rng, bg, n)
        which = rng.choice(len(isos), size=n, p=weights / weights.sum())
        if gm.get("pulsed"):
            if bg.kind in ("steady_state", "dark_clusters"):
                lo, hi = _span_ns(windows)
                t = lo + (hi - lo) * rng.random(n)
            elif bg.kind == "brn":
                t = rng.normal(bg.time_mean_ns, bg.time_sigma_ns, n)
            else:
                t = (rng.normal(0.0, 150.0, n) + rng.exponential(TAU_PION_NS, n) + rng.exponential(TAU_MUON_NS, n))
            pulse = rng.integers(0, max(int(gm["n_pulses"]), 1), n)
        else:
            live_s = float(gm["live_time_s"]) if on else off_live_days * 86400.0
            t = live_s * 1e9 * rng.random(n)
            pulse = np.full(n, -1)
        x, y, z = _vertices(rng, geometry, n)
        parts.append({
            "component": np.full(n, -1), "nu_pdg": np.zeros(n), "enu_mev": np.zeros(n),
            "target_z": np.array([isos[i].z for i in which]), "target_a": np.array([isos[i].a for i in which]),
            "t_nr_kev": e, "pulse_index": pulse, "time_ns": t, "x_cm": x, "y_cm": y, "z_cm": z,
            "weight": np.full(n, 1.0 / bg.oversample),
            "recoil_type": np.full(n, RECOIL_CODE["sensor" if bg.kind == "dark_clusters" else bg.recoil_type]),
            "origin": np.full(n, origin_of(bg)), "source_on": np.full(n, on),
        })
    if not parts:
        return None
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(out["t_nr_kev"])
    out["event_id"] = -(id_offset + np.arange(n) + 1)  # negative ids: not from the generator
    return out
