"""Backgrounds written into the detsim stream next to the CEvNS events, labelled by ``origin``.

Kinds (``[[backgrounds]]`` tables of a detector configuration):

steady_state  uniform in time; flat or exponential energy spectrum between e_min_kev and e_max_kev with a
              mean rate ``rate_per_kev_kg_day`` (dru) over that range; electron or nuclear recoils. For
              pulsed sources only the span covering the on- and off-beam windows of each cycle is
              generated (the rest of the 1/f_rep cycle is never looked at); its rate is scaled to that span.
brn           beam-related neutrons: nuclear recoils with an exponential spectrum, arriving with the proton
              pulse (Gaussian in time, ``time_mean_ns``, ``time_sigma_ns``), ``rate_per_pulse`` events.
nin           neutrino-induced neutrons (from the shielding): nuclear recoils, exponential spectrum, timing of
              the delayed neutrinos (pulse (x) Exp(tau_pi) (x) Exp(tau_mu)), ``rate_per_pulse`` events.

Counts are Poisson for the exposure of each chunk (the chunk's share of the run's exposure), so backgrounds
come as a pseudo-experiment with weight 1/oversample. ``source_off_live_days`` adds steady-state
events for source-off periods (reactor OFF, beam off): flagged ``source_on = False``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator._validate import ConfigError, option
from generator.constants import TAU_MUON_NS, TAU_PION_NS
from generator.nuclei import material

from .chain import target_geometry

__all__ = ["BACKGROUND_KINDS", "BackgroundConfig", "draw_backgrounds", "expected_background_counts"]

BACKGROUND_KINDS = ("steady_state", "brn", "nin")
ORIGIN_OF = {"steady_state": 1, "brn": 2, "nin": 3}


@dataclass(frozen=True)
class BackgroundConfig:
    kind: str = option(doc="background kind", allowed=BACKGROUND_KINDS)
    recoil_type: str = option("er", doc="'er' (electron recoils, keVee) or 'nr' (nuclear recoils, keVnr)",
                              allowed=("er", "nr"))
    spectrum: str = option("flat", doc="energy spectrum shape", allowed=("flat", "exponential"))
    e_min_kev: float = option(0.0, unit="keV", doc="lowest deposited energy", ge=0)
    e_max_kev: float = option(10.0, unit="keV", doc="highest deposited energy", gt=0)
    slope_kev: float = option(5.0, unit="keV", doc="decay constant of an exponential spectrum", gt=0)
    rate_per_kev_kg_day: float = option(0.0, unit="keV^-1 kg^-1 day^-1", doc="steady-state rate (dru)", ge=0)
    rate_per_pulse: float = option(0.0, doc="events per beam pulse (brn, nin)", ge=0)
    time_mean_ns: float = option(0.0, unit="ns", doc="BRN arrival time relative to the pulse centre")
    time_sigma_ns: float = option(150.0, unit="ns", doc="BRN arrival-time spread", gt=0)
    oversample: float = option(1.0, doc="generate this many times more events with weight 1/oversample", gt=0)

    def __post_init__(self):
        if self.e_max_kev <= self.e_min_kev:
            raise ConfigError(f"backgrounds: e_max_kev = {self.e_max_kev} must be > e_min_kev = {self.e_min_kev}")
        if self.kind == "steady_state" and self.rate_per_pulse:
            raise ConfigError("backgrounds: rate_per_pulse applies to brn and nin, not steady_state")
        if self.kind in ("brn", "nin") and self.rate_per_kev_kg_day:
            raise ConfigError(f"backgrounds: {self.kind} takes rate_per_pulse, not rate_per_kev_kg_day")


def _span_ns(windows) -> tuple[float, float]:
    lo = min(windows.on_start_ns, windows.off_start_ns)
    hi = max(windows.on_start_ns + windows.on_length_ns, windows.off_start_ns + windows.off_length_ns)
    return lo, hi


def expected_background_counts(bg: BackgroundConfig, gm: dict, windows, source_on: bool, off_live_days: float):
    """Expected events of one background over the whole run (ON or OFF part)."""
    live_s = float(gm["live_time_s"]) if source_on else off_live_days * 86400.0
    mass = float(gm["exposure"]["mass_kg"])
    if bg.kind == "steady_state":
        n = bg.rate_per_kev_kg_day * (bg.e_max_kev - bg.e_min_kev) * mass * live_s / 86400.0
        if gm.get("pulsed"):
            lo, hi = _span_ns(windows)
            n *= (hi - lo) * 1e-9 * float(gm["rep_rate_hz"])
        return n
    if not gm.get("pulsed"):
        raise ConfigError(f"backgrounds: {bg.kind} needs a pulsed (pion_dar) source")
    return bg.rate_per_pulse * float(gm["n_pulses"]) if source_on else 0.0


def _energies(rng, bg, n):
    if bg.spectrum == "flat":
        return bg.e_min_kev + (bg.e_max_kev - bg.e_min_kev) * rng.random(n)
    # exponential truncated to [e_min, e_max], by inversion
    span = 1.0 - np.exp(-(bg.e_max_kev - bg.e_min_kev) / bg.slope_kev)
    return bg.e_min_kev - bg.slope_kev * np.log1p(-span * rng.random(n))


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
    for bg in backgrounds:
        for on in (True, False):
            if not on and (off_live_days <= 0 or bg.kind != "steady_state"):
                continue
            mu = expected_background_counts(bg, gm, windows, on, off_live_days) * fraction * bg.oversample
            n = int(rng.poisson(mu))
            if n == 0:
                continue
            e = _energies(rng, bg, n)
            which = rng.choice(len(isos), size=n, p=weights / weights.sum())
            if gm.get("pulsed"):
                if bg.kind == "steady_state":
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
                "recoil_type": np.full(n, 0 if bg.recoil_type == "nr" else 1),
                "origin": np.full(n, ORIGIN_OF[bg.kind]), "source_on": np.full(n, on),
            })
    if not parts:
        return None
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(out["t_nr_kev"])
    out["event_id"] = -(id_offset + np.arange(n) + 1)  # negative ids: not from the generator
    return out
