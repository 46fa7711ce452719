"""The validated ``[scintillator]`` table of a detector preset and its sub-tables (time profile, photosensor,
PSD), and the constants of the PE ``kind`` column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator._validate import ConfigError, option

__all__ = ["KIND_AFTERGLOW", "KIND_AFTERPULSE", "KIND_CROSSTALK", "KIND_DARK", "KIND_SCINT", "PhotosensorConfig",
           "ScintPSDConfig", "ScintillatorConfig", "TimeProfileConfig", "section_class"]

KIND_SCINT, KIND_CROSSTALK, KIND_AFTERPULSE, KIND_DARK, KIND_AFTERGLOW = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------------------------------------
# configuration ([scintillator] and its sub-tables)
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeProfileConfig:
    decay_times_ns: list[float] = option(default_factory=lambda: (1000.0,), unit="ns",
                                         doc="decay constant of each scintillation component", gt=0)
    weights_nr: list[float] = option(default_factory=lambda: (1.0,),
                                     doc="light share of each component for nuclear recoils", ge=0)
    weights_er: list[float] | None = option(None, doc="light share of each component for electron recoils "
                                            "(default: as for nuclear recoils)", ge=0)
    jitter_ns: float = option(0.0, unit="ns", doc="Gaussian time jitter per PE (transit-time spread)", ge=0)

    def __post_init__(self):
        n = len(self.decay_times_ns)
        if n == 0:
            raise ConfigError("scintillator.time_profile.decay_times_ns: give at least one decay time")
        for key in ("weights_nr", "weights_er"):
            w = getattr(self, key)
            if w is None:
                continue
            if len(w) != n:
                raise ConfigError(f"scintillator.time_profile.{key} has {len(w)} entries, decay_times_ns {n}")
            if sum(w) <= 0:
                raise ConfigError(f"scintillator.time_profile.{key}: the weights must not all be 0")

    def weights(self, electron: bool) -> np.ndarray:
        w = np.asarray(self.weights_er if (electron and self.weights_er is not None) else self.weights_nr, float)
        return w / w.sum()


@dataclass(frozen=True)
class PhotosensorConfig:
    kind: str = option("sipm", doc="photosensor type", allowed=("sipm", "pmt"))
    n_arrays: int = option(1, doc="independent arrays/ends sharing the light (1 or 2)", ge=1, le=2)
    array_share: float = option(0.5, doc="probability that a detected photon lands on array 0", gt=0, lt=1)
    coincidence: bool = option(False, doc="require coincidence_pe PE in each of the two arrays")
    coincidence_pe: int = option(1, doc="PE needed in each array for the coincidence", ge=1)
    crosstalk_lambda: float = option(0.0, doc="Borel branching parameter of prompt optical crosstalk "
                                     "(p_ct = 1 - exp(-lambda)); SiPM only", ge=0, lt=0.95)
    afterpulse_probability: float = option(0.0, doc="afterpulse probability per fired cell", ge=0, lt=1)
    afterpulse_tau_ns: float = option(200.0, unit="ns", doc="mean afterpulse delay (exponential)", gt=0)
    dark_rate_hz: float = option(0.0, unit="Hz", doc="dark-count rate of all sensors together", ge=0)
    dark_rate_hz_per_mm2: float = option(0.0, unit="Hz/mm2", doc="dark-count rate per sensor area (SiPM)", ge=0)
    sensor_area_mm2: float = option(0.0, unit="mm2", doc="total photosensitive area (with dark_rate_hz_per_mm2)",
                                    ge=0)
    spe_resolution: float = option(0.0, doc="relative Gaussian width of the single-PE charge", ge=0, le=2)

    def __post_init__(self):
        if self.kind == "pmt" and self.crosstalk_lambda > 0:
            raise ConfigError("scintillator.photosensor.crosstalk_lambda: optical crosstalk is a SiPM effect; "
                              "set it to 0 for kind = 'pmt'")
        if self.coincidence and self.n_arrays != 2:
            raise ConfigError("scintillator.photosensor.coincidence needs n_arrays = 2")

    @property
    def total_dark_rate_hz(self) -> float:
        return self.dark_rate_hz + self.dark_rate_hz_per_mm2 * self.sensor_area_mm2


@dataclass(frozen=True)
class ScintPSDConfig:
    enabled: bool = option(False, doc="compute the prompt fraction (F90) and the PSD cut")
    prompt_window_ns: float = option(90.0, unit="ns", doc="end of the prompt window after the interaction", gt=0)
    f90_min: float = option(0.5, doc="lower edge of the accepted prompt-fraction band", ge=0, le=1)
    f90_max: float = option(1.0, doc="upper edge of the accepted prompt-fraction band", ge=0, le=1)

    def __post_init__(self):
        if self.f90_max < self.f90_min:
            raise ConfigError("scintillator.psd: f90_max must be >= f90_min")


@dataclass(frozen=True)
class ScintillatorConfig:
    light_yield: float = option(10.0, doc="light yield (unit: light_yield_unit)", gt=0)
    light_yield_unit: str = option("pe_per_kevee", doc="'pe_per_kevee' (detected) or 'photons_per_kevee' "
                                   "(emitted, times pde)", allowed=("pe_per_kevee", "photons_per_kevee"))
    pde: float = option(1.0, doc="photon detection efficiency (light collection x PDE/QE) for photons_per_kevee",
                        gt=0, le=1)
    ly_includes_crosstalk: bool = option(False, doc="the PE/keVee light yield was measured with these SiPMs and "
                                         "already contains their correlated noise: the crosstalk factor "
                                         "1/(1-lambda) and the afterpulses in the window")
    intrinsic_resolution: float = option(0.0, doc="relative Gaussian spread of the mean light per event "
                                         "(excess over Poisson)", ge=0, le=1)
    nonproportionality_kevee: list[float] = option(default_factory=tuple, unit="keVee",
                                                   doc="energies of the relative-light-yield table", ge=0)
    nonproportionality_rel: list[float] = option(default_factory=tuple,
                                                 doc="relative light yield at those energies (1 = linear)", ge=0)
    qf_by_z: dict[str, float] = option(default_factory=dict, doc="constant QF per atomic number, e.g. "
                                       "{ 11 = 0.15, 53 = 0.05 }; overrides [quenching] for those nuclei")
    window_ns: float = option(3000.0, unit="ns", doc="integration window after the interaction", gt=0)
    pretrigger_ns: float = option(0.0, unit="ns", doc="part of the window before the interaction", ge=0)
    pe_time_reference: str = option("interaction", doc="PE times relative to the interaction, or to the beam "
                                    "pulse ('beam': adds time_ns; pulsed sources)", allowed=("interaction", "beam"))
    afterglow_rate_hz: float = option(0.0, unit="Hz", doc="rate of delayed-light single PE (afterglow) in the "
                                      "window", ge=0)
    threshold_pe: float = option(1.0, unit="PE", doc="trigger threshold on charge_pe", ge=0)
    efficiency_logistic: list[float] = option(default_factory=tuple, doc="optional acceptance (a, k, x0, d): "
                                              "a/(1+exp(-k(charge_pe-x0))) + d, clamped to [0, 1]")
    time_profile: TimeProfileConfig = option(default_factory=TimeProfileConfig)
    photosensor: PhotosensorConfig = option(default_factory=PhotosensorConfig)
    psd: ScintPSDConfig = option(default_factory=ScintPSDConfig)

    def __post_init__(self):
        if len(self.nonproportionality_kevee) != len(self.nonproportionality_rel):
            raise ConfigError("scintillator.nonproportionality_kevee and nonproportionality_rel differ in length")
        if list(self.nonproportionality_kevee) != sorted(self.nonproportionality_kevee):
            raise ConfigError("scintillator.nonproportionality_kevee must increase")
        if self.light_yield_unit == "pe_per_kevee" and self.pde != 1.0:
            raise ConfigError("scintillator.pde applies to light_yield_unit = 'photons_per_kevee' only (a PE/keVee "
                              "yield already contains it)")
        if self.ly_includes_crosstalk and self.light_yield_unit != "pe_per_kevee":
            raise ConfigError("scintillator.ly_includes_crosstalk needs a measured light_yield_unit = "
                              "'pe_per_kevee'")
        if self.pretrigger_ns < 3.0 * self.time_profile.jitter_ns:
            raise ConfigError(f"scintillator.pretrigger_ns = {self.pretrigger_ns!r}: must be >= 3 x time_profile."
                              f"jitter_ns ({3.0 * self.time_profile.jitter_ns!r} ns), or jittered prompt light falls "
                              f"before the window and is lost")
        if len(self.efficiency_logistic) not in (0, 4):
            raise ConfigError("scintillator.efficiency_logistic must be [a, k, x0, d]")
        for key, q in self.qf_by_z.items():
            if not key.isdigit() or not 1 <= int(key) <= 118:
                raise ConfigError(f"scintillator.qf_by_z: key {key!r} is not an atomic number")
            if not 0 < q <= 1:
                raise ConfigError(f"scintillator.qf_by_z.{key} = {q!r}: must be in (0, 1]")


section_class = ScintillatorConfig
