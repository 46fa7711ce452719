"""From a validated Config to the physics objects: source, target material, cross-section model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import CALIBRATION_KINDS, Config
from .cross_section import CrossSectionModel
from .form_factors import FormFactor
from .nuclei import Material, material
from .sources import PulseShape, Source, pion_dar_source, reactor_source, solar_source, table_source

__all__ = ["Experiment", "build_source", "cross_section_model"]


def cross_section_model(physics, bsm=None) -> CrossSectionModel:
    """The cross-section model of a [physics] section and an optional [bsm] section (SM if absent or zero)."""
    return CrossSectionModel(coupling_scheme=physics.coupling_scheme, sin2_theta_w=physics.sin2_theta_w,
                             form_factor=FormFactor(physics.form_factor, physics.proton_rms_radius_fm,
                                                    physics.neutron_rms_radius_fm),
                             mass_convention=physics.mass_convention,
                             bsm=bsm.hypothesis() if bsm is not None else None)


def build_source(cfg: Config) -> Source | None:
    """The neutrino source of a configuration (None for calibration recoil sources)."""
    s, ex, kind = cfg.source, cfg.exposure, cfg.source_kind
    if kind == "pion_dar":
        pulse = None
        if s.pulse_shape is not None or s.pulse_sigma_ns or s.pulse_width_ns or s.pulse_separation_ns:
            from .sources.pion_dar import FACILITIES

            base = FACILITIES[s.facility].pulse
            pulse = PulseShape(s.pulse_shape or base.kind, s.pulse_sigma_ns or base.sigma_ns,
                               s.pulse_width_ns or base.width_ns, s.pulse_separation_ns or base.separation_ns)
        return pion_dar_source(facility=s.facility, distance_m=s.distance_m, protons=ex.protons_on_target,
                               beam_energy_gwh=ex.beam_energy_gwh, live_days=ex.live_days,
                               beam_power_mw=s.beam_power_mw, proton_energy_gev=s.proton_energy_gev,
                               nu_per_proton_per_flavour=s.nu_per_proton_per_flavour, pulse=pulse,
                               rep_rate_hz=s.rep_rate_hz)
    if kind == "reactor":
        return reactor_source(cores=s.core_list(), live_days=ex.live_days, fission_fractions=s.fractions(), low_energy=s.low_energy,
                              e_min_mev=s.e_min_mev, e_max_mev=s.e_max_mev, capture_per_fission=s.capture_per_fission)
    if kind == "solar":
        return solar_source(live_days=ex.live_days, components=s.components, model=s.model,
                            b8_flux_cm2_s=s.b8_flux_cm2_s)
    if kind == "table":
        return table_source(file=s.file, nu_pdg=s.nu_pdg, live_days=ex.live_days, flux_scale=s.flux_scale,
                            name=s.name)
    if kind in CALIBRATION_KINDS:
        return None
    raise AssertionError(kind)


@dataclass(frozen=True)
class Experiment:
    """A source seen by a target of some mass, with the cross-section model and the recoil selection."""

    config: Config
    source: Source | None
    material: Material
    mass_kg: float
    model: CrossSectionModel
    threshold_kevnr: float
    efficiency_kevnr: np.ndarray | None
    efficiency: np.ndarray | None

    @classmethod
    def from_config(cls, cfg: Config) -> Experiment:
        model = cross_section_model(cfg.physics, cfg.bsm)
        r = cfg.recoil
        eff_x = None if r.efficiency_kevnr is None else np.asarray(r.efficiency_kevnr, dtype=float)
        eff_y = None if r.efficiency is None else np.asarray(r.efficiency, dtype=float)
        return cls(cfg, build_source(cfg), material(cfg.target.material, cfg.target.isotopes), cfg.target.mass_kg,
                   model, r.threshold_kevnr, eff_x, eff_y)

    @property
    def is_calibration(self) -> bool:
        return self.source is None

    @property
    def live_time_s(self) -> float:
        if self.source is not None:
            return self.source.live_time_s
        return self.config.exposure.live_days * 86400.0

    def efficiency_fn(self):
        if self.efficiency_kevnr is None:
            return None
        x, y = self.efficiency_kevnr, self.efficiency
        return lambda t: np.interp(t, x, y, left=y[0], right=y[-1])
