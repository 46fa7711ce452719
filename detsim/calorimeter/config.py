"""The validated ``[calorimeter]`` table of a detector preset and the constants of the cryogenic calorimeter.

Energies: the heat channel and its noise in eV of heat signal, the ionisation channel in eVee (electron-equivalent:
eV of an electron recoil giving the same charge), recoils in keV (keVnr) as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator._validate import ConfigError, option

from ..quenching import RECOIL_ER, RECOIL_HEAT_ONLY, RECOIL_NR  # the detsim stream's recoil_type codes

__all__ = ["PAIR_ENERGY_EV", "RECOIL_ER", "RECOIL_HEAT_ONLY", "RECOIL_NR", "YIELD_MODELS", "CalorimeterConfig",
           "section_class"]


# Mean energy per electron-hole pair at mK temperatures (the presets' pair_energy_ev; reference values, not read by
# the chain): Ge 3.0 eV (the value used by EDELWEISS-type heat-and-ionisation analyses), Si ~3.6-3.8 eV (3.75 eV
# at CCD temperatures; ~3.8 eV quoted at mK) [UNVERIFIED here: no publication re-read for them].
PAIR_ENERGY_EV = {"Ge": 3.0, "Si": 3.75}

YIELD_MODELS = ("quenching", "none")


@dataclass(frozen=True)
class CalorimeterConfig:
    baseline_sigma_ev: float = option(5.0, unit="eV", doc="Gaussian baseline noise of the heat channel (1 sigma, "
                                      "in eV of calibrated heat signal)", gt=0)
    threshold_n_sigma: float = option(5.0, doc="trigger threshold on the heat signal in units of baseline_sigma_ev",
                                      ge=0)
    phonon_collection_efficiency: float = option(1.0, doc="heat signal per eV of phonon energy relative to the "
                                                 "calibration (1: calibrated); reco divides it out", gt=0, le=1)
    collection_spread: float = option(0.0, doc="relative event-by-event (position) spread of the collection "
                                      "efficiency", ge=0, lt=1)
    yield_model: str = option("none", doc="'quenching': ionisation yield of nuclear recoils from [quenching] "
                              "(semiconductors); 'none': no charge carriers are read or drifted (insulators "
                              "such as CaWO4, Al2O3)", allowed=YIELD_MODELS)
    bias_v: float = option(0.0, unit="V", doc="voltage across the crystal (Neganov-Trofimov-Luke gain)", ge=0)
    pair_energy_ev: float = option(3.0, unit="eV", doc="mean energy per electron-hole pair (Ge 3.0, Si 3.6-3.8)",
                                   gt=0)
    ion_sigma_evee: float | None = option(None, unit="eVee", doc="baseline noise of the ionisation channel "
                                          "(1 sigma); unset: no ionisation channel", gt=0)
    dead_time_ms: float = option(0.0, unit="ms", doc="dead time after every pulse in the detector (pile-up "
                                 "rejection)", ge=0)
    pulse_rate_hz: float = option(0.0, unit="Hz", doc="rate of all pulses of the detector (every energy, every "
                                  "source) that open a dead-time window", ge=0)

    def __post_init__(self):
        if self.bias_v > 0 and self.yield_model == "none":
            raise ConfigError(f"calorimeter.bias_v = {self.bias_v:g}: a bias needs an ionisation yield (set "
                              "calorimeter.yield_model = 'quenching' for a semiconductor; 'none' has no charges)")
        if self.ion_sigma_evee is not None and self.yield_model == "none":
            raise ConfigError(f"calorimeter.ion_sigma_evee = {self.ion_sigma_evee:g}: an ionisation channel needs "
                              "calorimeter.yield_model = 'quenching' ('none' has no charges to read)")
        if self.dead_time_ms > 0 and self.pulse_rate_hz <= 0:
            raise ConfigError(f"calorimeter.dead_time_ms = {self.dead_time_ms:g}: give the pulse rate that opens "
                              "the dead-time windows (calorimeter.pulse_rate_hz > 0)")

    @property
    def luke_ev_per_pair(self) -> float:
        """e V_bias / epsilon: Luke phonon energy per eV of ionisation (eVee), dimensionless."""
        return self.bias_v / self.pair_energy_ev

    @property
    def threshold_ev(self) -> float:
        return self.threshold_n_sigma * self.baseline_sigma_ev


section_class = CalorimeterConfig
