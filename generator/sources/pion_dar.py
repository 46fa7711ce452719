"""Neutrinos from pi+ decay at rest at a pulsed spallation source.

pi+ -> mu+ nu_mu gives the prompt line at (m_pi^2 - m_mu^2)/(2 m_pi) = 29.79 MeV; mu+ -> e+ nu_e
anti-nu_mu gives the delayed Michel spectra on [0, m_mu/2] (x = E/m_mu):
  nu_e:        f(E) = (192/m_mu) x^2 (1/2 - x)
  anti-nu_mu:  f(E) = (64/m_mu)  x^2 (3/4 - x)
(e.g. Louis, Los Alamos Science 25 (1997) 92; the same forms in COHERENT's dukecevns NuFlux.cc).
Each flavour is emitted isotropically with r neutrinos per proton on target; the fluence at distance
L is r N_POT / (4 pi L^2). Times: prompt = proton pulse (x) Exp(tau_pi); delayed = prompt (x) Exp(tau_mu).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import (
    E_MICHEL_MAX_MEV,
    E_PROMPT_NUMU_MEV,
    JOULE_PER_MEV,
    M_MUON_MEV,
    PDG,
    TAU_MUON_NS,
    TAU_PION_NS,
)
from .base import Component, PulseShape, Source, pdf_from_grid

__all__ = ["FACILITIES", "Facility", "michel_anti_numu_pdf", "michel_nue_pdf", "pion_dar_source", "protons_on_target"]


@dataclass(frozen=True)
class Facility:
    name: str
    beam_power_mw: float
    proton_energy_gev: float
    rep_rate_hz: float
    pulse: PulseShape
    nu_per_proton_per_flavour: float | None
    reference: str


FACILITIES = {
    # 1.4 MW, 60 Hz, Hg target; POT trace Gaussian sigma = 150 ns (COHERENT LAr data release,
    # LArParametersAnlA.yaml); 0.09 nu/POT/flavour at ~1 GeV (same release, 10 % uncertainty).
    "sns": Facility("SNS", 1.4, 1.0, 60.0, PulseShape("gaussian", sigma_ns=150.0), 0.09,
                    "COHERENT, arXiv:2006.12659 (LAr release); arXiv:2109.11049"),
    # ESS: 5 MW design, 2 GeV, 14 Hz, 2.86 ms long pulse (ESSnuSB CDR arXiv:2206.01208). Yield: set it.
    "ess": Facility("ESS", 5.0, 2.0, 14.0, PulseShape("flat", width_ns=2.86e6), None, "arXiv:2206.01208"),
    # CSNS: 100 kW design, 1.6 GeV, 25 Hz, pulse < 500 ns (taken as Gaussian FWHM 400 ns). Yield: set it.
    "csns": Facility("CSNS", 0.1, 1.6, 25.0, PulseShape("gaussian", sigma_ns=170.0), None, "CSNS facility"),
    # J-PARC MLF: 1 MW design, 3 GeV, 25 Hz, two ~100 ns bunches 600 ns apart. Yield: set it.
    "jparc_mlf": Facility("J-PARC MLF", 1.0, 3.0, 25.0,
                          PulseShape("double_gaussian", sigma_ns=42.5, separation_ns=600.0), None, "JSNS2 TDR"),
    # LANSCE Lujan centre: ~100 kW, 800 MeV, 20 Hz, ~290 ns pulse (CCM). Yield: set it.
    "lansce": Facility("LANSCE", 0.1, 0.8, 20.0, PulseShape("gaussian", sigma_ns=123.0), None, "CCM"),
}


def michel_nue_pdf(enu_mev):
    x = np.asarray(enu_mev, dtype=np.float64) / M_MUON_MEV
    return np.where((x >= 0) & (x <= 0.5), 192.0 / M_MUON_MEV * x * x * (0.5 - x), 0.0)


def michel_anti_numu_pdf(enu_mev):
    x = np.asarray(enu_mev, dtype=np.float64) / M_MUON_MEV
    return np.where((x >= 0) & (x <= 0.5), 64.0 / M_MUON_MEV * x * x * (0.75 - x), 0.0)


def protons_on_target(*, protons=None, beam_energy_gwh=None, beam_power_mw=None, live_time_s=None,
                      proton_energy_gev: float) -> float:
    """POT from an explicit count, a delivered beam energy, or beam power x live time."""
    if protons is not None:
        return float(protons)
    joule_per_proton = proton_energy_gev * 1e3 * JOULE_PER_MEV
    if beam_energy_gwh is not None:
        return beam_energy_gwh * 3.6e12 / joule_per_proton
    return beam_power_mw * 1e6 * live_time_s / joule_per_proton


def pion_dar_source(*, facility: str, distance_m: float, protons=None, beam_energy_gwh=None, live_days=None,
                    beam_power_mw=None, proton_energy_gev=None, nu_per_proton_per_flavour=None,
                    pulse: PulseShape | None = None, rep_rate_hz=None, n_grid: int = 2049) -> Source:
    fac = FACILITIES[facility]
    power = fac.beam_power_mw if beam_power_mw is None else beam_power_mw
    ep = fac.proton_energy_gev if proton_energy_gev is None else proton_energy_gev
    r = fac.nu_per_proton_per_flavour if nu_per_proton_per_flavour is None else nu_per_proton_per_flavour
    if r is None:
        raise ValueError(f"facility {facility!r} has no verified neutrino yield; set nu_per_proton_per_flavour")
    live_s = None if live_days is None else live_days * 86400.0
    pot = protons_on_target(protons=protons, beam_energy_gwh=beam_energy_gwh, beam_power_mw=power,
                            live_time_s=live_s, proton_energy_gev=ep)
    live_nominal_s = pot * ep * 1e3 * JOULE_PER_MEV / (power * 1e6)  # the beam energy delivered at the nominal power
    live_from = "exposure.live_days" if live_s is not None else "beam energy / nominal beam power"
    if live_s is None:
        live_s = live_nominal_s
    fluence = r * pot / (4.0 * np.pi * (distance_m * 100.0) ** 2)
    flux = fluence / live_s
    e = np.linspace(0.0, E_MICHEL_MAX_MEV, n_grid)
    comps = (
        Component("prompt_nu_mu", PDG["nu_mu"], fluence, flux, line_mev=E_PROMPT_NUMU_MEV,
                  decay_times_ns=(TAU_PION_NS,)),
        Component("delayed_nu_e", PDG["nu_e"], fluence, flux, None, *pdf_from_grid(e, michel_nue_pdf(e)),
                  decay_times_ns=(TAU_PION_NS, TAU_MUON_NS)),
        Component("delayed_anti_nu_mu", PDG["anti_nu_mu"], fluence, flux, None,
                  *pdf_from_grid(e, michel_anti_numu_pdf(e)), decay_times_ns=(TAU_PION_NS, TAU_MUON_NS)),
    )
    exposure = {"protons_on_target": pot, "proton_energy_gev": ep, "beam_power_mw": power,
                "beam_energy_gwh": pot * ep * 1e3 * JOULE_PER_MEV / 3.6e12, "distance_m": distance_m,
                "nu_per_proton_per_flavour": r, "facility": fac.name, "live_days": live_s / 86400.0,
                "live_days_from": live_from, "live_days_at_nominal_power": live_nominal_s / 86400.0}
    return Source("pion_dar", comps, live_s, fac.rep_rate_hz if rep_rate_hz is None else rep_rate_hz,
                  pulse or fac.pulse, exposure)
